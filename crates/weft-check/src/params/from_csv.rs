//! Parameter versions from CSV files: `NAME.csv` holds the parameter `NAME`.

use super::*;

pub(super) fn read_csv(
    c: &mut Ctx<'_>,
    f: &ParamSource,
    by_name: &HashMap<String, ParamId>,
    raws: &mut Vec<Raw>,
) {
    let file = f.file;
    let name_full = c.sources.name(file).to_string();
    let stem = name_full
        .rsplit('/')
        .next()
        .unwrap_or(&name_full)
        .trim_end_matches(".csv")
        .to_string();
    let text = c.sources.text(file).to_string();
    let whole = Span::new(file, 0, text.len().min(1));
    let Some(&pid) = by_name.get(&stem) else {
        let params = &c.prog.params;
        let sugg = c
            .suggestions
            .closest(&stem, || params.iter().map(|p| p.name.as_str()));
        let mut d = Diagnostic::error(
            "E0601",
            format!("there is no parameter `{stem}` for the file `{name_full}`"),
        )
        .with_label(whole, "a CSV file is named after its parameter");
        if let Some(s) = sugg.first() {
            d = d.with_help(format!("did you mean `{s}.csv`?"));
        }
        c.err(d);
        return;
    };
    let pd = c.prog.params[pid].clone();
    if pd.ty.is_error() {
        return;
    }
    if pd.keys.len() > 1 || matches!(pd.ty, Ty::Bands(_)) {
        c.err(
            Diagnostic::error("E0614", format!("`{}` cannot be given as CSV", pd.name))
                .with_label(whole, "CSV holds parameters with at most one key")
                .with_help("give it in a TOML file"),
        );
        return;
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Vec<String> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                c.err(
                    Diagnostic::error("E0615", format!("this CSV file cannot be read: {e}"))
                        .with_label(whole, "malformed CSV"),
                );
                return;
            }
        };
        let line_start = rec.position().map(|p| p.byte() as usize).unwrap_or(0);
        let line_span = Span::new(file, line_start, line_start + rec.as_slice().len().max(1));
        if i == 0 {
            header = rec
                .iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
                .collect();
            offsets.clear();
            let first = if pd.series { "month" } else { "effective" };
            if header.first().map(|h| h.as_str()) != Some(first) {
                c.err(
                    Diagnostic::error(
                        "E0615",
                        format!(
                            "the first column should be `{first}`, not `{}`",
                            header.first().map(|h| h.as_str()).unwrap_or("")
                        ),
                    )
                    .with_label(line_span, "the header of the file")
                    .with_help(if pd.series {
                        "a series file starts with the header `month,value`".to_string()
                    } else if pd.keys.is_empty() {
                        "a parameter file starts with the header `effective,value`".to_string()
                    } else {
                        "a parameter file starts with the header `effective,KEY,…`, one column per key".to_string()
                    }),
                );
                return;
            }
            continue;
        }
        if rec.iter().all(|x| x.trim().is_empty()) {
            continue;
        }
        let when = rec.get(0).unwrap_or("").trim();
        let date = if pd.series {
            num::parse_month(when)
        } else {
            num::parse_date(when)
        };
        let Some(effective) = date else {
            c.err(
                Diagnostic::error(
                    "E0613",
                    format!(
                        "`{when}` is not a {}",
                        if pd.series { "month" } else { "date" }
                    ),
                )
                .with_label(line_span, "bad first cell"),
            );
            continue;
        };
        let before = c.diags.len();
        let mut values = vec![None; pd.slots()];
        for (col, cell) in rec.iter().enumerate().skip(1) {
            let Some(h) = header.get(col) else { continue };
            let slot = if pd.keys.is_empty() {
                if h != "value" {
                    c.err(
                        Diagnostic::error(
                            "E0607",
                            format!("`{}` has no keys; the column should be `value`", pd.name),
                        )
                        .with_label(line_span, format!("column `{h}`")),
                    );
                    continue;
                }
                Some(0)
            } else {
                let (e, _) = pd.keys[0];
                let idx = c
                    .prog
                    .enums
                    .get(e)
                    .and_then(|en| en.variants.iter().position(|x| x.code == *h));
                match idx.and_then(|i| pd.slot_of(&[i as u32])) {
                    Some(s) => Some(s),
                    None => {
                        c.err(
                            Diagnostic::error(
                                "E0607",
                                format!("`{h}` is not a key of `{}`", pd.name),
                            )
                            .with_label(line_span, "unknown column"),
                        );
                        None
                    }
                }
            };
            let Some(slot) = slot else { continue };
            if let Some(v) = scalar_text(c, cell, &pd.ty, line_span) {
                values[slot] = Some(PVal::Scalar(v));
            }
        }
        raws.push(Raw {
            param: pid,
            effective,
            values,
            origin: name_full.clone(),
            span: line_span,
            overlay: f.overlay,
            bad: c.diags.len() > before,
        });
    }
}
