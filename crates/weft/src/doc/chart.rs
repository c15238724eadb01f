//! A parameter's versions as a step chart: inline SVG, one line per key
//! combination, a step at each effective date. Values are exact integers
//! (fen, millionths); only their position on the drawing is a float.

use super::html::esc;
use weft_check::hir::{PVal, ParamDef};
use weft_check::ty::Ty;

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

/// The colours of the lines (repeated, dashed, past ten keys).
pub(crate) const PALETTE: [&str; 10] = [
    "#1b6ca8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#16a085", "#7f8c8d", "#b03a2e",
    "#2c3e50", "#a04000",
];

/// A value as the axis shows it: money in yuan with two decimals, a
/// decimal with its digits, a count as is.
pub(crate) fn plain(ty: &Ty, v: i64) -> String {
    match ty {
        Ty::Money(_) => weft_ir::value::group_thousands(&weft_syntax::num::format_money(v)),
        Ty::Decimal => weft_syntax::num::format_decimal(v),
        Ty::Date => i32::try_from(v)
            .map(weft_syntax::num::format_date)
            .unwrap_or_else(|_| v.to_string()),
        _ => v.to_string(),
    }
}

fn numeric(ty: &Ty) -> bool {
    matches!(ty, Ty::Money(_) | Ty::Decimal | Ty::Int | Ty::Dur(_))
}

/// The chart, or `None` for a parameter that is not a number (bands, a
/// flag, a date) or has no value.
pub(crate) fn step_chart(pd: &ParamDef, labels: &[String]) -> Option<String> {
    if !numeric(&pd.ty) {
        return None;
    }
    let slots = pd.slots().max(1);
    // (effective date, value per slot)
    let points: Vec<(i32, Vec<Option<i64>>)> = pd
        .versions
        .iter()
        .map(|v| {
            let vals = (0..slots)
                .map(|s| match v.values.get(s) {
                    Some(Some(PVal::Scalar(x))) => Some(*x),
                    _ => None,
                })
                .collect();
            (v.effective, vals)
        })
        .collect();
    let all: Vec<i64> = points
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .collect();
    let (first, last) = (points.first()?.0, points.last()?.0);
    // The range of the values with a margin below (down to zero at most
    // for values that are not negative), so steps stand out.
    let (min, max) = (all.iter().copied().min()?, all.iter().copied().max()?);
    let pad =
        ((i128::from(max) - i128::from(min)) / 4).max(i128::from(max.unsigned_abs() / 10).max(1));
    let lo = i64::try_from(i128::from(min) - pad).unwrap_or(min);
    let lo = if min >= 0 { lo.max(0) } else { lo };
    let hi = if max <= lo { lo.saturating_add(1) } else { max };
    // A series' value holds for its month; a parameter's until the next
    // version: the chart runs one period past the last.
    let tail = if pd.series { 31 } else { 365 };
    let end = last.saturating_add(tail);
    let span_x = f64::from(end.saturating_sub(first).max(1));
    let x = |d: i32| LEFT + (W - LEFT - RIGHT) * f64::from(d.saturating_sub(first)) / span_x;
    let span_y = (hi as f64 - lo as f64) * 1.08;
    let y = |v: i64| H - BOTTOM - (H - TOP - BOTTOM) * ((v as f64 - lo as f64) / span_y);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{} over time\">\n",
        esc(&pd.name)
    );
    // Axes and horizontal grid lines with their values.
    for i in 0..=4 {
        let v = lo.saturating_add(((i128::from(hi) - i128::from(lo)) * i / 4) as i64);
        let yy = y(v);
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            esc(&plain(&pd.ty, v))
        ));
    }
    // Dates of the versions on the x axis (at most eight labels).
    let every = points.len().div_ceil(8).max(1);
    for (i, (d, _)) in points.iter().enumerate() {
        let xx = x(*d);
        svg.push_str(&format!(
            "<line class=\"step\" x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{}\"/>\n",
            H - BOTTOM
        ));
        if i % every == 0 {
            let label = if pd.series {
                weft_syntax::num::format_month(*d)
            } else {
                weft_syntax::num::format_date(*d)
            };
            svg.push_str(&format!(
                "<text class=\"tick\" x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>\n",
                H - BOTTOM + 18.0
            ));
        }
    }
    // One step line per key combination.
    for s in 0..slots {
        let colour = PALETTE.get(s % PALETTE.len()).copied().unwrap_or("#333");
        let dash = if s >= PALETTE.len() {
            " stroke-dasharray=\"6 3\""
        } else {
            ""
        };
        let mut d = String::new();
        let mut open = false;
        for (i, (date, vals)) in points.iter().enumerate() {
            let next = points.get(i + 1).map(|p| p.0).unwrap_or(end);
            let next = if pd.series {
                next.min(date.saturating_add(31))
            } else {
                next
            };
            match vals.get(s).copied().flatten() {
                Some(v) => {
                    let cmd = if open { 'L' } else { 'M' };
                    d.push_str(&format!(
                        "{cmd}{:.1} {:.1} H{:.1} ",
                        x(*date),
                        y(v),
                        x(next)
                    ));
                    open = !pd.series || points.get(i + 1).map(|p| p.0) == Some(next);
                }
                None => open = false,
            }
        }
        let label = labels.get(s).cloned().unwrap_or_default();
        svg.push_str(&format!(
            "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}><title>{}</title></path>\n",
            d.trim_end(),
            esc(&label)
        ));
    }
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{}\"/><line class=\"axis\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n",
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    ));
    svg.push_str("</svg>\n");
    Some(svg)
}
