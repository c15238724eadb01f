//! Scales: bands (inline rows or a `Bands` parameter) applied to an amount,
//! flat or marginal.

use crate::body::Body;
use crate::ctx::WrongKind;
use crate::expr::Scope;
use crate::expr::coerce::check_against;
use crate::hir::*;
use crate::ids::ModuleId;
use crate::names::DefKind;
use crate::ty::{Per, Ty};
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self};

pub fn scale(
    c: &mut Body<'_, '_>,
    sd: &ast::ScaleDecl,
    rid: RuleId,
    module: ModuleId,
    ret: &Ty,
) -> Option<ScaleDef> {
    let params = c.sigs.scale_params.get(&rid).cloned()?;
    let mut s = Scope {
        module,
        rule: Some(rid),
        ..Scope::default()
    };
    for (p, l) in sd.params.iter().zip(&params) {
        s.locals.push((p.name.name.clone(), *l));
    }
    let amount_ty = params
        .first()
        .and_then(|l| c.cx.prog.locals.get(*l))
        .map(|l| l.ty.clone())
        .unwrap_or(Ty::Error);
    if sd.kind == ast::ScaleKind::Marginal
        && !ret.fits(&amount_ty)
        && !amount_ty.fits(ret)
        && !ret.is_error()
    {
        let (a, r) = (c.cx.prog.show(&amount_ty), c.cx.prog.show(ret));
        c.cx.err(
            Diagnostic::error("E0408", format!("a marginal scale over `{a}` gives `{a}`, not `{r}`"))
                .with_label(sd.ret.span, "result type")
                .with_help("the parts of the amount in each band are multiplied by rates: the result has the amount's type"),
        );
    }
    let adjust = sd.adjust.as_ref().map(|a| {
        if sd.kind == ast::ScaleKind::Flat {
            c.cx.err(
                Diagnostic::error("E0408", "only a marginal scale has rates to adjust")
                    .with_label(a.span, "`adjust rate` on a flat scale"),
            );
        }
        check_against(c, &mut s, a, &Ty::Decimal, "the rate adjustment")
    });
    let bands = match &sd.bands {
        ast::ScaleBands::Param(name) => {
            let pid = c.cx.find(
                module,
                name,
                "parameter",
                DefKind::param,
                WrongKind::Unknown,
            )?;
            let pty =
                c.cx.prog
                    .params
                    .get(pid)
                    .map(|p| p.ty.clone())
                    .unwrap_or(Ty::Error);
            match (&pty, &amount_ty) {
                (Ty::Bands(bp), Ty::Money(ap)) if bp == ap || *ap == Per::Any => {}
                (Ty::Error, _) | (_, Ty::Error) => {}
                _ => {
                    let (p, a) = (c.cx.prog.show(&pty), c.cx.prog.show(&amount_ty));
                    c.cx.err(
                        Diagnostic::error(
                            "E0408",
                            format!(
                                "the bands `{}` are `{p}`, but the amount is `{a}`",
                                name.name
                            ),
                        )
                        .with_label(name.span, "bands of another type")
                        .with_help(
                            "bands and the amount they apply to must be money of the same period",
                        ),
                    );
                }
            }
            if sd.kind == ast::ScaleKind::Flat {
                c.cx.err(
                    Diagnostic::error(
                        "E0408",
                        "bands from a parameter hold rates for a marginal scale",
                    )
                    .with_label(name.span, "a flat scale needs its own rows")
                    .with_help("write the flat scale's rows `| lo .. hi => value`"),
                );
            }
            ScaleBands::Param(pid)
        }
        ast::ScaleBands::Rows(rows) => {
            let mut out = Vec::new();
            let mut prev_hi: Option<i64> = None;
            let mut first = true;
            for r in rows {
                let lo = c.cx.const_value(&r.lo, &amount_ty.settle());
                let hi = match &r.hi {
                    Some(h) => c.cx.const_value(h, &amount_ty.settle()).map(Some),
                    None => Some(None),
                };
                let want = if sd.kind == ast::ScaleKind::Marginal {
                    Ty::Decimal
                } else {
                    ret.clone()
                };
                let v = check_against(
                    c,
                    &mut s,
                    &r.value,
                    &want,
                    if sd.kind == ast::ScaleKind::Marginal {
                        "a band's rate"
                    } else {
                        "a band's value"
                    },
                );
                if let (Some(lo), Some(hi)) = (lo, hi) {
                    if !first && prev_hi != Some(lo) {
                        c.cx.err(
                            Diagnostic::error(
                                "E0409",
                                "scale bands must follow each other without gaps",
                            )
                            .with_label(
                                r.span,
                                "this band does not start where the previous one ends",
                            )
                            .with_help("start each band at the end of the one before"),
                        );
                    }
                    if let Some(h) = hi
                        && h <= lo
                    {
                        c.cx.err(
                            Diagnostic::error("E0409", "this band is empty")
                                .with_label(r.span, "its end is not above its start"),
                        );
                    }
                    if prev_hi.is_none() && !first {
                        c.cx.err(
                            Diagnostic::error("E0409", "a band follows the open top band")
                                .with_label(r.span, "never reached"),
                        );
                    }
                    prev_hi = hi;
                    out.push((lo, hi, v));
                }
                first = false;
            }
            ScaleBands::Rows(out)
        }
    };
    Some(ScaleDef {
        kind: sd.kind,
        params,
        round_each_band: sd.round_each_band,
        adjust,
        bands,
    })
}
