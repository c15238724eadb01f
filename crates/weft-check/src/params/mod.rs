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

mod from_csv;
mod from_toml;
mod plausible;

use from_csv::read_csv;
use from_toml::read_toml;
use plausible::plausibility;

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
