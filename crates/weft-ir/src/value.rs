//! Values as people and files read them.

use crate::Ty;
use weft_check::Program;
use weft_check::ty::Per;
use weft_syntax::num;

/// For files (spec §5): money with two decimals, `true`/`false`, enum codes,
/// dates as YYYY-MM-DD, decimals with up to six places.
pub fn csv_value(prog: &Program, ty: &Ty, v: i64) -> String {
    match ty {
        Ty::Money(_) => num::format_money(v),
        Ty::Bool => (if v != 0 { "true" } else { "false" }).to_string(),
        Ty::Decimal => num::format_decimal(v),
        Ty::Date => i32::try_from(v)
            .map(num::format_date)
            .unwrap_or_else(|_| v.to_string()),
        Ty::Enum(e, _) => prog
            .enums
            .get(*e)
            .and_then(|en| en.variants.get(usize::try_from(v).unwrap_or(usize::MAX)))
            .map(|x| x.code.clone())
            .unwrap_or_else(|| v.to_string()),
        Ty::Opt(t) => csv_value(prog, t, v),
        _ => v.to_string(),
    }
}

/// For people: `¥728.00 per month`, `orphan`, `true`, `2019-07-01`,
/// `0.35`, `16 years`.
pub fn display_value(prog: &Program, ty: &Ty, v: i64) -> String {
    match ty {
        Ty::Money(p) => {
            let base = format!("¥{}", group_thousands(&num::format_money(v)));
            match p {
                Per::Month => format!("{base} per month"),
                Per::Year => format!("{base} per year"),
                _ => base,
            }
        }
        Ty::Enum(e, _) => prog
            .enums
            .get(*e)
            .and_then(|en| en.variants.get(usize::try_from(v).unwrap_or(usize::MAX)))
            .map(|x| x.name.clone())
            .unwrap_or_else(|| v.to_string()),
        Ty::Dur(u) => {
            let unit = match u {
                weft_check::ty::DurUnit::Days => "day",
                weft_check::ty::DurUnit::Months => "month",
                weft_check::ty::DurUnit::Years => "year",
            };
            format!("{v} {unit}{}", if v == 1 { "" } else { "s" })
        }
        _ => csv_value(prog, ty, v),
    }
}

/// `1234567.50` → `1,234,567.50`.
pub fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}
