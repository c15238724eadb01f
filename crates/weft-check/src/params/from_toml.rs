//! Parameter versions from TOML files (see the parent module for the format),
//! with help for values typed the Chinese way (`620，`, `620元`, `130%`).

use super::*;

pub(super) fn read_toml(
    c: &mut Ctx<'_>,
    f: &ParamSource,
    by_name: &HashMap<String, ParamId>,
    raws: &mut Vec<Raw>,
    replaced: &mut HashSet<ParamId>,
    rejected: &mut HashSet<ParamId>,
) {
    let file = f.file;
    let text = c.sources.text(file).to_string();
    let origin = c.sources.name(file).to_string();
    let doc = match toml_edit::ImDocument::parse(text.as_str()) {
        Ok(d) => d,
        Err(e) => {
            let span = span_of(file, e.span());
            let msg = toml_problem(e.message());
            let at = e.span().map(|r| r.start).unwrap_or(0);
            let d = match toml_slip(&text, at) {
                Some((what, help)) => Diagnostic::error("E0610", t!("toml-invalid"))
                    .with_label(span, what)
                    .with_help(help),
                None => Diagnostic::error("E0610", "this parameter file is not valid TOML")
                    .with_label(span, msg)
                    .with_help("a version reads `effective = 2018-07-01` then `value = 620` (or one `KEY = value` per key); text goes in double quotes"),
            };
            c.err(d);
            return;
        }
    };
    let root = doc.as_table();
    for (name, itm) in root.iter() {
        let key_span = span_of(file, root.get_key_value(name).and_then(|(k, _)| k.span()));
        let Some(&pid) = by_name.get(name) else {
            let params = &c.prog.params;
            let sugg = c
                .suggestions
                .closest(name, || params.iter().map(|p| p.name.as_str()));
            let mut d = Diagnostic::error(
                "E0601",
                format!("there is no parameter `{name}` in this policy"),
            )
            .with_label(key_span, "unknown parameter");
            d = match sugg.first() {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help("a data file can only give values to parameters declared with `param` or `series`"),
            };
            c.err(d);
            continue;
        };
        let pd = c.prog.params[pid].clone();
        if pd.ty.is_error() {
            // Its declaration did not check (and was reported): its values
            // cannot be read against a type.
            continue;
        }
        let Some(tbl) = itm.as_table_like() else {
            c.err(
                Diagnostic::error("E0611", format!("`{name}` should be a table"))
                    .with_label(key_span, "not a table")
                    .with_help(format!(
                        "write `[{name}]` and its versions under `[[{name}.version]]`"
                    )),
            );
            continue;
        };
        for (k, v) in tbl.iter() {
            let kspan = span_of(file, tbl.get_key_value(k).and_then(|(kk, _)| kk.span()));
            match k {
                "source" | "note" | "unit" => {}
                "replace" => {
                    if v.as_bool() == Some(true) {
                        if f.overlay {
                            replaced.insert(pid);
                        } else {
                            c.err(
                                Diagnostic::warning("W0612", "`replace = true` only means something in a file given for a run")
                                    .with_label(kspan, "ignored in the pack's own files"),
                            );
                        }
                    }
                }
                "version" if !pd.series => {
                    let Some(arr) = v.as_array_of_tables() else {
                        c.err(
                            Diagnostic::error("E0611", "`version` should be a list of tables")
                                .with_label(kspan, format!("write `[[{name}.version]]`")),
                        );
                        continue;
                    };
                    for vt in arr.iter() {
                        let vspan = span_of(file, vt.span());
                        let Some(eff_item) = vt.get("effective") else {
                            c.err(
                                Diagnostic::error("E0613", "a version needs its effective date")
                                    .with_label(vspan, "no `effective = YYYY-MM-DD`")
                                    .with_help("add the date from which the version is in force, e.g. `effective = 2018-07-01`"),
                            );
                            continue;
                        };
                        let espan = span_of(file, eff_item.span());
                        let etext = value_text(&text, eff_item);
                        let Some(effective) = num::parse_date(etext.trim_matches('"')) else {
                            rejected.insert(pid);
                            let help = match date_slip(etext.trim_matches('"')) {
                                Some(h) => h,
                                None => t!("help-date-format"),
                            };
                            c.err(
                                Diagnostic::error("E0613", t!("not-a-date", text = &etext))
                                    .with_label(espan, t!("not-a-date.label"))
                                    .with_help(help),
                            );
                            continue;
                        };
                        let before = c.diags.len();
                        let mut values = vec![None; pd.slots()];
                        if pd.keys.is_empty() {
                            let field = if matches!(pd.ty, Ty::Bands(_)) {
                                "bands"
                            } else {
                                "value"
                            };
                            match vt.get(field) {
                                Some(x) => values[0] = toml_value(c, &pd, &text, file, x),
                                None => c.err(
                                    Diagnostic::error(
                                        "E0616",
                                        t!("version-no-value", field = field),
                                    )
                                    .with_label(vspan, t!("version-no-value.label", field = field)),
                                ),
                            }
                            for (extra, _) in vt.iter() {
                                if extra != "effective" && extra != field && extra != "source" {
                                    let s = span_of(
                                        file,
                                        vt.get_key_value(extra).and_then(|(kk, _)| kk.span()),
                                    );
                                    c.err(
                                        Diagnostic::error(
                                            "E0607",
                                            format!(
                                                "`{name}` has no keys; `{extra}` is not expected"
                                            ),
                                        )
                                        .with_label(s, "unexpected entry"),
                                    );
                                }
                            }
                        } else {
                            toml_keys(c, &pd, &text, file, vt, &mut Vec::new(), &mut values);
                        }
                        raws.push(Raw {
                            param: pid,
                            effective,
                            values,
                            origin: origin.clone(),
                            span: espan,
                            overlay: f.overlay,
                            bad: c.diags.len() > before,
                        });
                    }
                }
                "months" if pd.series => {
                    let Some(mt) = v.as_table_like() else {
                        c.err(
                            Diagnostic::error("E0611", "`months` should be a table")
                                .with_label(kspan, format!("write `[{name}.months]`")),
                        );
                        continue;
                    };
                    for (m, mv) in mt.iter() {
                        let mspan =
                            span_of(file, mt.get_key_value(m).and_then(|(kk, _)| kk.span()));
                        let Some(date) = num::parse_month(m) else {
                            c.err(
                                Diagnostic::error("E0613", format!("`{m}` is not a month"))
                                    .with_label(mspan, "expected YYYY-MM"),
                            );
                            continue;
                        };
                        let before = c.diags.len();
                        let val = toml_value(c, &pd, &text, file, mv);
                        raws.push(Raw {
                            param: pid,
                            effective: date,
                            values: vec![val],
                            origin: origin.clone(),
                            span: mspan,
                            overlay: f.overlay,
                            bad: c.diags.len() > before,
                        });
                    }
                }
                other => {
                    let expected = if pd.series { "months" } else { "version" };
                    c.err(
                        Diagnostic::error(
                            "E0611",
                            format!("`{other}` is not expected in `[{name}]`"),
                        )
                        .with_label(kspan, "unexpected entry")
                        .with_help(format!(
                            "a parameter's table has `source`, `replace` and `{expected}`"
                        )),
                    );
                }
            }
        }
    }
}

/// A date written the Chinese way (`2018年7月1日`) or with day and month
/// swapped (`2018-31-07`): what to write instead.
fn date_slip(t: &str) -> Option<String> {
    let nums: Vec<u32> = t
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let [y, a, b] = nums[..] else {
        return None;
    };
    let fix = |m: u32, d: u32| format!("{y:04}-{m:02}-{d:02}");
    if t.contains('年') {
        return Some(t!("help-date-chinese", date = fix(a, b)));
    }
    if a > 12 && b <= 12 && num::parse_date(&fix(b, a)).is_some() {
        return Some(t!(
            "help-date-swapped",
            month = a as usize,
            date = fix(b, a)
        ));
    }
    None
}

/// What a drafter typing Chinese most likely meant where a TOML file
/// breaks: a value with a full-width comma, a unit (`元`, `¥`) or a percent
/// sign, or a date in the wrong order. `(label, help)`.
fn toml_slip(text: &str, at: usize) -> Option<(String, String)> {
    let start = text.get(..at)?.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text
        .get(at..)?
        .find('\n')
        .map(|i| at + i)
        .unwrap_or(text.len());
    let line = text.get(start..end)?;
    let (key, value) = line.split_once('=')?;
    let (key, value) = (key.trim(), value.trim());
    let number: String = value
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
        .collect();
    let rest = value.get(number.len()..).unwrap_or("").trim();
    if let Some(h) = date_slip(value) {
        return Some((t!("toml-not-date"), h));
    }
    if number.is_empty() {
        if let Some(n) = value.strip_prefix(['¥', '￥']) {
            let n: String = n
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            return Some((
                t!("toml-currency-sign"),
                t!("help-toml-plain-yuan", key = key, number = &n),
            ));
        }
        return None;
    }
    let first = rest.chars().next()?;
    Some(match first {
        '，' | '。' | '、' | '；' | ',' | ';' => {
            let char = first.to_string();
            (
                t!("toml-after-number", char = &char),
                t!(
                    "help-toml-remove",
                    char = &char,
                    key = key,
                    number = &number
                ),
            )
        }
        '元' | '角' | '分' | '¥' | '￥' => (
            t!("toml-unit", unit = rest),
            t!("help-toml-unit", key = key, number = &number),
        ),
        '%' | '％' => {
            let pct = number.replace('_', "").parse::<f64>().ok()?;
            let dec = format!("{}", pct / 100.0);
            (
                t!("toml-percent"),
                t!(
                    "help-toml-percent",
                    key = key,
                    decimal = dec,
                    number = &number
                ),
            )
        }
        _ => return None,
    })
}

/// toml_edit's message in plain words: its first line, without the list
/// of tokens it expected.
fn toml_problem(message: &str) -> String {
    let first = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if first.is_empty() || first.starts_with("expected") {
        "the TOML is broken here".to_string()
    } else {
        first.to_string()
    }
}

/// The exact source text of a value.
fn value_text(text: &str, item: &toml_edit::Item) -> String {
    match item.span() {
        Some(r) => text.get(r).unwrap_or("").trim().to_string(),
        None => String::new(),
    }
}

fn toml_keys(
    c: &mut Ctx<'_>,
    pd: &ParamDef,
    text: &str,
    file: FileId,
    tbl: &dyn toml_edit::TableLike,
    prefix: &mut Vec<u32>,
    out: &mut [Option<PVal>],
) {
    let depth = prefix.len();
    let Some(&(e, set)) = pd.keys.get(depth) else {
        return;
    };
    let Some(en) = c.prog.enums.get(e).cloned() else {
        return;
    };
    for (k, v) in tbl.iter() {
        if depth == 0 && (k == "effective" || k == "source") {
            continue;
        }
        let kspan = span_of(file, tbl.get_key_value(k).and_then(|(kk, _)| kk.span()));
        let Some(i) = en.variants.iter().position(|x| x.code == k) else {
            let codes: Vec<String> = en.variants.iter().map(|x| x.code.clone()).collect();
            let sugg = c
                .suggestions
                .closest(k, || codes.iter().map(|x| x.as_str()));
            let mut d = Diagnostic::error("E0607", format!("`{k}` is not a code of `{}`", en.name))
                .with_label(kspan, "unknown key");
            d = match sugg.first() {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => {
                    let quoted: Vec<String> = codes.iter().map(|x| format!("`{x}`")).collect();
                    d.with_help(format!(
                        "the codes of `{}` are {}",
                        en.name,
                        quoted.join(", ")
                    ))
                }
            };
            c.err(d);
            continue;
        };
        if set & (1u64 << i) == 0 {
            c.err(
                Diagnostic::error("E0607", format!("`{k}` is not a key of `{}`", pd.name))
                    .with_label(kspan, "excluded from the key set")
                    .with_help("remove it"),
            );
            continue;
        }
        prefix.push(i as u32);
        if prefix.len() == pd.keys.len() {
            let val = toml_value(c, pd, text, file, v);
            if let Some(slot) = pd.slot_of(prefix)
                && let Some(o) = out.get_mut(slot)
            {
                *o = val;
            }
        } else if let Some(sub) = v.as_table_like() {
            toml_keys(c, pd, text, file, sub, prefix, out);
        } else {
            let vspan = span_of(file, v.span());
            c.err(
                Diagnostic::error(
                    "E0606",
                    format!(
                        "`{}` has {} keys: `{k}` needs a table of values",
                        pd.name,
                        pd.keys.len()
                    ),
                )
                .with_label(vspan, "a single value"),
            );
        }
        prefix.pop();
    }
}

fn toml_value(
    c: &mut Ctx<'_>,
    pd: &ParamDef,
    text: &str,
    file: FileId,
    v: &toml_edit::Item,
) -> Option<PVal> {
    let span = span_of(file, v.span());
    if let Ty::Bands(_) = pd.ty {
        let Some(arr) = v.as_array() else {
            c.err(
                Diagnostic::error("E0606", format!("`{}` holds bands", pd.name))
                    .with_label(span, "expected a list of bands")
                    .with_help("write `bands = [{ from = 0, to = 50000, rate = 0.5 }, …]`"),
            );
            return None;
        };
        let mut out = Vec::new();
        for b in arr.iter() {
            let bspan = span_of(file, b.span());
            let Some(t) = b.as_inline_table() else {
                c.err(
                    Diagnostic::error("E0606", "a band is `{ from = …, to = …, rate = … }`")
                        .with_label(bspan, "not a band"),
                );
                continue;
            };
            let get = |k: &str| {
                t.get(k).map(|x| {
                    (
                        x.span()
                            .and_then(|r| text.get(r))
                            .unwrap_or("")
                            .trim()
                            .to_string(),
                        span_of(file, x.span()),
                    )
                })
            };
            let lo = get("from")
                .and_then(|(s, sp)| scalar_text(c, &s, &Ty::Money(crate::ty::Per::Once), sp));
            let hi = match get("to") {
                Some((s, sp)) => scalar_text(c, &s, &Ty::Money(crate::ty::Per::Once), sp).map(Some),
                None => Some(None),
            };
            let rate = get("rate").and_then(|(s, sp)| scalar_text(c, &s, &Ty::Decimal, sp));
            if get("from").is_none() || get("rate").is_none() {
                c.err(
                    Diagnostic::error("E0606", "a band needs `from` and `rate`")
                        .with_label(bspan, "incomplete band"),
                );
                continue;
            }
            if let (Some(lo), Some(hi), Some(rate)) = (lo, hi, rate) {
                out.push(Band { lo, hi, rate });
            }
        }
        return Some(PVal::Bands(out));
    }
    let raw = value_text(text, v);
    if let Ty::Enum(e, set) = &pd.ty {
        let code = raw.trim_matches('"');
        let en = c.prog.enums.get(*e)?;
        return match en.variants.iter().position(|x| x.code == code) {
            Some(i) if set & (1u64 << i) != 0 => Some(PVal::Scalar(i as i64)),
            _ => {
                let ename = en.name.clone();
                c.err(
                    Diagnostic::error("E0606", format!("`{code}` is not a code of `{ename}`"))
                        .with_label(span, "unknown code"),
                );
                None
            }
        };
    }
    scalar_text(c, &raw, &pd.ty, span).map(PVal::Scalar)
}
