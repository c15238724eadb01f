//! Plausibility warnings on parameter versions (W0702–W0704): slips a
//! drafter makes that the types cannot catch.

use super::*;

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
pub(super) fn plausibility(c: &mut Ctx<'_>) {
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
