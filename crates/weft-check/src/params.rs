//! Parameter values: inline versions in `.weft` files and data files
//! (TOML, CSV) that a ministry can replace without touching the rules.
//!
//! A TOML file holds one table per parameter:
//!
//! ```toml
//! [dibao_standard_urban]
//! source = "provincial 2018-06 notice"
//! [[dibao_standard_urban.version]]
//! effective = 2018-07-01
//! changchun = 620
//! jilin = 545
//! ```
//!
//! An unkeyed parameter's version has `value = …`; a parameter with two
//! keys nests them (`changchun = { urban = 620, rural = 410 }`); bands are
//! `bands = [{ from = 0, to = 50000, rate = 0.50 }, …]` (the last without
//! `to`); a series has `[name.months]` with `2019-07 = 0.028`. Keys are the
//! enum codes used in data. Numbers are read from their exact text, never
//! through binary floating point; `"35%"` is 0.35.
//!
//! A CSV file `NAME.csv` holds the parameter `NAME`: a header
//! `effective,KEY,…` (or `effective,value`) and one row per version; for a
//! series, `month,value`.
//!
//! Pack files may not give two versions on one date. Overlay files (given
//! for a run) add versions: one on an existing date replaces it, and
//! `replace = true` in a parameter's table drops the pack's history first.

use crate::collect::Collected;
use crate::ctx::{Ctx, item};
use crate::hir::*;
use crate::ty::Ty;
use crate::{ModuleSource, ParamSource};
use std::collections::{HashMap, HashSet};
use weft_msg::t;
use weft_syntax::ast::{self, Item};
use weft_syntax::num;
use weft_syntax::{Diagnostic, FileId, Span};

/// One version as read, before merging.
struct Raw {
    param: ParamId,
    effective: i32,
    values: Vec<Option<PVal>>,
    origin: String,
    span: Span,
    overlay: bool,
    /// An error was reported while reading its values: a value it lacks
    /// is not reported again as missing.
    bad: bool,
}

pub fn load(c: &mut Ctx<'_>, items: &Collected, modules: &[ModuleSource], files: &[ParamSource]) {
    let mut raws: Vec<Raw> = Vec::new();
    // Inline versions.
    for pi in items.params.ids() {
        let at = items.params[pi];
        let origin = c
            .sources
            .name(
                modules
                    .get(at.module.index())
                    .map(|m| m.file)
                    .unwrap_or_default(),
            )
            .to_string();
        match item(modules, at) {
            Some(Item::Param(p)) => {
                for v in &p.versions {
                    let pd = c.prog.params[pi].clone();
                    let before = c.diags.len();
                    let mut values = vec![None; pd.slots()];
                    fill_inline(c, &pd, &v.value, &mut Vec::new(), &mut values);
                    raws.push(Raw {
                        param: pi,
                        effective: v.effective,
                        values,
                        origin: origin.clone(),
                        span: v.effective_span,
                        overlay: false,
                        bad: c.diags.len() > before,
                    });
                }
            }
            Some(Item::Series(sd)) => {
                let ty = c.prog.params[pi].ty.clone();
                for (y, m, lit, span) in &sd.entries {
                    let Some(date) = num::make_date(*y, *m, 1) else {
                        continue;
                    };
                    let before = c.diags.len();
                    let v = c.const_value(lit, &ty);
                    raws.push(Raw {
                        param: pi,
                        effective: date,
                        values: vec![v.map(PVal::Scalar)],
                        origin: origin.clone(),
                        span: *span,
                        overlay: false,
                        bad: c.diags.len() > before,
                    });
                }
            }
            _ => {}
        }
    }
    let mut replaced: HashSet<ParamId> = HashSet::new();
    // Parameters with a version whose date was rejected (and reported):
    // "no values" would only repeat that.
    let mut rejected: HashSet<ParamId> = HashSet::new();
    // Parameters by name, the first of a name if it is declared twice.
    let mut by_name: HashMap<String, ParamId> = HashMap::new();
    for (i, p) in c.prog.params.iter_enumerated() {
        by_name.entry(p.name.clone()).or_insert(i);
    }
    for f in files {
        let name = c.sources.name(f.file).to_string();
        if name.ends_with(".csv") {
            read_csv(c, f, &by_name, &mut raws);
        } else {
            read_toml(c, f, &by_name, &mut raws, &mut replaced, &mut rejected);
        }
    }
    // Merge: pack versions first, then overlays in the order given.
    let mut by_param: HashMap<ParamId, Vec<Raw>> = HashMap::new();
    let mut bad_versions: HashMap<ParamId, HashSet<i32>> = HashMap::new();
    for r in raws {
        by_param.entry(r.param).or_default().push(r);
    }
    for (pid, list) in by_param {
        let mut versions: Vec<ParamVersion> = Vec::new();
        let mut bad: HashSet<i32> = HashSet::new();
        let mut pack_dates: HashMap<i32, Span> = HashMap::new();
        let (pack, overlay): (Vec<Raw>, Vec<Raw>) = list.into_iter().partition(|r| !r.overlay);
        for r in pack {
            if let Some(prev) = pack_dates.get(&r.effective) {
                let (l, col) = c.sources.line_col(prev.file, prev.start);
                let pname = c.prog.params[pid].name.clone();
                c.err(
                    Diagnostic::error(
                        "E0603",
                        format!(
                            "`{pname}` has two versions in force from {}",
                            num::format_date(r.effective)
                        ),
                    )
                    .with_label(r.span, "second version on this date")
                    .with_note(format!(
                        "first given at {}:{l}:{col}",
                        c.sources.name(prev.file)
                    ))
                    .with_help("give each version its own effective date"),
                );
                continue;
            }
            pack_dates.insert(r.effective, r.span);
            if r.bad {
                bad.insert(r.effective);
            }
            versions.push(ParamVersion {
                effective: r.effective,
                values: r.values,
                origin: r.origin,
                span: r.span,
            });
        }
        if replaced.contains(&pid) {
            versions.clear();
        }
        for r in overlay {
            versions.retain(|v| v.effective != r.effective);
            if r.bad {
                bad.insert(r.effective);
            } else {
                bad.remove(&r.effective);
            }
            versions.push(ParamVersion {
                effective: r.effective,
                values: r.values,
                origin: r.origin,
                span: r.span,
            });
        }
        versions.sort_by_key(|v| v.effective);
        if !bad.is_empty() {
            bad_versions.insert(pid, bad);
        }
        if let Some(p) = c.prog.params.get_mut(pid) {
            p.versions = versions;
        }
    }
    plausibility(c);
    // Coverage and emptiness. A file that could not be read at all may
    // have held the missing values: "no values" would only be noise then.
    let unreadable_file = c
        .diags
        .iter()
        .any(|d| matches!(d.code, "E0610" | "E0615" | "E0001"));
    for pi in c.prog.params.ids() {
        let pd = c.prog.params[pi].clone();
        if pd.ty.is_error() {
            continue;
        }
        if pd.versions.is_empty() && (unreadable_file || rejected.contains(&pi)) {
            continue;
        }
        if pd.versions.is_empty() {
            c.err(
                Diagnostic::error("E0605", t!("param-no-values", name = &pd.name))
                    .with_label(pd.span, t!("param-no-values.label"))
                    .with_help(if pd.series {
                        format!("give its months in a data file (`[{}.months]`) or inline (`2019-07 = …`)", pd.name)
                    } else {
                        format!("give a version in a data file (`[[{}.version]]`) or inline (`from DATE = …`)", pd.name)
                    }),
            );
            continue;
        }
        for v in &pd.versions {
            if bad_versions
                .get(&pi)
                .is_some_and(|b| b.contains(&v.effective))
            {
                continue;
            }
            let missing: Vec<String> = v
                .values
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_none())
                .map(|(slot, _)| key_text(c, &pd, slot))
                .collect();
            if !missing.is_empty() {
                let shown: Vec<String> = missing.iter().take(5).map(|m| format!("`{m}`")).collect();
                let more = if missing.len() > 5 {
                    format!(" and {} more", missing.len() - 5)
                } else {
                    String::new()
                };
                c.err(
                    Diagnostic::error(
                        "E0604",
                        format!(
                            "the version of `{}` in force from {} has no value for {}{more}",
                            pd.name,
                            num::format_date(v.effective),
                            shown.join(", ")
                        ),
                    )
                    .with_label(v.span, "missing keys")
                    .with_help("every combination of keys needs a value in every version"),
                );
            }
        }
    }
}

/// `changchun` or `changchun, urban`: the codes of a key combination.
pub fn key_text(c: &Ctx<'_>, pd: &ParamDef, slot: usize) -> String {
    pd.key_of(slot)
        .iter()
        .zip(&pd.keys)
        .map(|(v, (e, _))| {
            c.prog
                .enums
                .get(*e)
                .and_then(|en| en.variants.get(*v as usize))
                .map(|x| x.code.clone())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn fill_inline(
    c: &mut Ctx<'_>,
    pd: &ParamDef,
    v: &ast::PValue,
    prefix: &mut Vec<u32>,
    out: &mut [Option<PVal>],
) {
    let depth = prefix.len();
    if depth == pd.keys.len() {
        let val = match (v, &pd.ty) {
            (ast::PValue::Bands(bands, _), Ty::Bands(per)) => {
                let mt = Ty::Money(*per);
                let mut out_b = Vec::new();
                for b in bands {
                    let lo = c.const_value(&b.lo, &mt);
                    let hi = match &b.hi {
                        Some(h) => c.const_value(h, &mt).map(Some),
                        None => Some(None),
                    };
                    let rate = c.const_value(&b.rate, &Ty::Decimal);
                    if let (Some(lo), Some(hi), Some(rate)) = (lo, hi, rate) {
                        out_b.push(Band { lo, hi, rate });
                    }
                }
                Some(PVal::Bands(out_b))
            }
            (ast::PValue::Scalar(l), Ty::Bands(_)) => {
                c.err(
                    Diagnostic::error("E0606", format!("`{}` holds bands", pd.name))
                        .with_label(l.span, "a single value")
                        .with_help("write `[¥0..¥50,000: 50%, ¥50,000..: 60%]`"),
                );
                None
            }
            (ast::PValue::Scalar(l), ty) => match (&l.kind, ty) {
                (ast::LitKind::Text(code), Ty::Enum(e, _)) => {
                    let found = c
                        .prog
                        .enums
                        .get(*e)
                        .and_then(|en| en.variants.iter().position(|x| x.code == *code));
                    match found {
                        Some(i) => Some(PVal::Scalar(i as i64)),
                        None => {
                            c.err(
                                Diagnostic::error(
                                    "E0606",
                                    format!("`{code}` is not a code of the enum"),
                                )
                                .with_label(l.span, "unknown code"),
                            );
                            None
                        }
                    }
                }
                _ => c.const_value(l, ty).map(PVal::Scalar),
            },
            (other, _) => {
                c.err(
                    Diagnostic::error(
                        "E0606",
                        format!(
                            "`{}` has {} key(s); this value has more",
                            pd.name,
                            pd.keys.len()
                        ),
                    )
                    .with_label(other.span(), "too deep")
                    .with_help("give one level of `{ key: value }` per key"),
                );
                None
            }
        };
        if let Some(slot) = pd.slot_of(prefix)
            && let Some(o) = out.get_mut(slot)
        {
            *o = val;
        }
        return;
    }
    let ast::PValue::Map(entries, _) = v else {
        let (e, _) = pd.keys[depth];
        let en = c
            .prog
            .enums
            .get(e)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        c.err(
            Diagnostic::error("E0606", format!("`{}` holds one value per {en}", pd.name))
                .with_label(v.span(), "a single value")
                .with_help(format!("write `{{ code: value, … }}` with every {en}")),
        );
        return;
    };
    let (e, set) = pd.keys[depth];
    for (k, val) in entries {
        let en = c.prog.enums.get(e).cloned();
        let Some(en) = en else { return };
        match en
            .variants
            .iter()
            .position(|x| x.code == k.name || x.name == k.name)
        {
            Some(i) if set & (1u64 << i) != 0 => {
                prefix.push(i as u32);
                fill_inline(c, pd, val, prefix, out);
                prefix.pop();
            }
            Some(_) => c.err(
                Diagnostic::error(
                    "E0607",
                    format!("`{}` is not a key of `{}`", k.name, pd.name),
                )
                .with_label(k.span, "excluded from the key set"),
            ),
            None => {
                let codes: Vec<String> = en.variants.iter().map(|x| x.code.clone()).collect();
                let sugg = c
                    .suggestions
                    .closest(&k.name, || codes.iter().map(|x| x.as_str()));
                let mut d =
                    Diagnostic::error("E0607", format!("`{}` is not a {}", k.name, en.name))
                        .with_label(k.span, "unknown key");
                if let Some(s) = sugg.first() {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                c.err(d);
            }
        }
    }
}

// ----------------------------------------------------------------- TOML

fn span_of(file: FileId, r: Option<std::ops::Range<usize>>) -> Span {
    match r {
        Some(r) => Span::new(file, r.start, r.end),
        None => Span::new(file, 0, 0),
    }
}

fn read_toml(
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

/// Parse the exact text of a number, amount, date or boolean.
pub fn scalar_text(c: &mut Ctx<'_>, raw: &str, ty: &Ty, span: Span) -> Option<i64> {
    let s = raw.trim().trim_matches('"').replace('_', "");
    let got = match ty {
        Ty::Money(_) => {
            let s2 = s.trim_start_matches(['¥', '￥']).replace(',', "");
            num::parse_fixed_signed(&s2, 2)
        }
        Ty::Decimal => match s.strip_suffix('%') {
            Some(p) => num::parse_fixed_signed(p.trim(), 4),
            None => num::parse_fixed_signed(&s, 6),
        },
        Ty::Int | Ty::Dur(_) => s.parse::<i64>().ok(),
        Ty::Bool => match s.as_str() {
            "true" => Some(1),
            "false" => Some(0),
            _ => None,
        },
        Ty::Date => num::parse_date(&s).map(|d| d as i64),
        Ty::Enum(e, set) => c
            .prog
            .enums
            .get(*e)
            .and_then(|en| en.variants.iter().position(|v| v.code == s))
            .filter(|i| set & (1u64 << i) != 0)
            .map(|i| i as i64),
        _ => None,
    };
    if got.is_none() {
        let shown = c.prog.show(ty);
        let hint = match ty {
            Ty::Money(_) => "write yuan with at most two decimals, e.g. `1234.50`",
            Ty::Decimal => {
                "write a decimal with at most six places (`0.35`) or a percentage (`\"35%\"`)"
            }
            Ty::Date => "write a date as YYYY-MM-DD",
            Ty::Bool => "write `true` or `false`",
            Ty::Enum(..) => "write one of the enum's codes",
            _ => "write a whole number",
        };
        c.err(
            Diagnostic::error("E0608", format!("`{raw}` is not a `{shown}`"))
                .with_label(span, format!("expected `{shown}`"))
                .with_help(hint),
        );
    }
    got
}

// ------------------------------------------------------------------ CSV

fn read_csv(
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

/// How far past every other version of the pack a version may take
/// effect before it looks like a typing slip (`2081-07-01` for
/// `2018-07-01`), in years.
pub const HORIZON_YEARS: i32 = 10;
/// How much a value may grow or shrink from one version to the next before
/// it looks like a slip (a yearly figure typed into a monthly parameter).
pub const JUMP_FACTOR: i64 = 5;

/// Plausibility warnings on the merged versions of every parameter: an
/// effective date more than [`HORIZON_YEARS`] after every other version of
/// the pack (W0702), a version in force from
/// the middle of a month, where policies are evaluated by month (W0703),
/// a value that jumps by more than [`JUMP_FACTOR`] from the previous
/// version (W0704). Each is given once per version.
fn plausibility(c: &mut Ctx<'_>) {
    let mut found = Vec::new();
    // The two latest effective dates of the pack's versions: the latest of
    // the *others* is the second when a version is itself the latest.
    let mut latest = [i32::MIN; 2];
    for pd in c
        .prog
        .params
        .iter()
        .filter(|p| !p.ty.is_error() && !p.series)
    {
        for v in &pd.versions {
            let e = v.effective;
            if e > latest[0] {
                latest = [e, latest[0]];
            } else if e > latest[1] {
                latest[1] = e;
            }
        }
    }
    for pd in c.prog.params.iter() {
        if pd.ty.is_error() || pd.series {
            continue;
        }
        for (i, v) in pd.versions.iter().enumerate() {
            let (y, _, d) = num::civil_from_days(v.effective);
            let date = num::format_date(v.effective);
            if d != 1 {
                found.push(
                    Diagnostic::warning(
                        "W0703",
                        t!("plaus-mid-month", name = &pd.name, date = &date),
                    )
                    .with_label(v.span, t!("plaus-mid-month.label", day = d as usize))
                    .with_help(t!(
                        "plaus-mid-month.help",
                        month = num::format_month(v.effective)
                    )),
                );
            }
            // Far beyond every other version of the pack (a history with
            // long gaps, as real legislation has, is not a slip).
            let others = if v.effective == latest[0] {
                latest[1]
            } else {
                latest[0]
            };
            if others != i32::MIN {
                let (oy, _, _) = num::civil_from_days(others);
                if y - oy > HORIZON_YEARS {
                    found.push(
                        Diagnostic::warning(
                            "W0702",
                            t!("plaus-far-date", name = &pd.name, date = &date),
                        )
                        .with_label(
                            v.span,
                            t!(
                                "plaus-far-date.label",
                                years = i64::from(y - oy),
                                previous = num::format_date(others)
                            ),
                        )
                        .with_help(t!("plaus-far-date.help")),
                    );
                }
            }
            let Some(prev) = i.checked_sub(1).and_then(|p| pd.versions.get(p)) else {
                continue;
            };
            if !matches!(pd.ty, Ty::Money(_) | Ty::Int | Ty::Decimal) {
                continue;
            }
            let jump = v
                .values
                .iter()
                .zip(&prev.values)
                .find_map(|pair| match pair {
                    (Some(PVal::Scalar(new)), Some(PVal::Scalar(old)))
                        if *old > 0
                            && *new > 0
                            && (new.saturating_div(JUMP_FACTOR) > *old
                                || old.saturating_div(JUMP_FACTOR) > *new) =>
                    {
                        Some((*old, *new))
                    }
                    _ => None,
                });
            if let Some((old, new)) = jump {
                let show = |x: i64| match pd.ty {
                    Ty::Money(_) => format!("¥{}", num::format_money(x)),
                    Ty::Decimal => num::format_decimal(x),
                    _ => x.to_string(),
                };
                found.push(
                    Diagnostic::warning("W0704", t!("plaus-jump", name = &pd.name, date = &date))
                        .with_label(
                            v.span,
                            t!("plaus-jump.label", old = show(old), new = show(new)),
                        )
                        .with_help(t!("plaus-jump.help", factor = JUMP_FACTOR)),
                );
            }
        }
    }
    for d in found {
        c.err(d);
    }
}
