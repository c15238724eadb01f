//! Decision tables: the `given` columns, each row's cells as conditions on
//! them, and the row values.

use crate::body::Body;
use crate::expr::coerce::check_against;
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::ids::ModuleId;
use crate::ty::Ty;
use weft_syntax::ast::{self, CmpOp};
use weft_syntax::{Diagnostic, Span};

pub fn table(
    c: &mut Body<'_, '_>,
    t: &ast::TableDecl,
    rid: RuleId,
    module: ModuleId,
    ret: &Ty,
) -> TableDef {
    let mut s = Scope::of_rule(c, rid, module);
    let mut given = Vec::new();
    for g in &t.given {
        let e = expr(c, &mut s, g, None);
        if !e.ty.is_scalar() || matches!(e.ty, Ty::Text) {
            let shown = c.cx.prog.show(&e.ty);
            c.cx.err(
                Diagnostic::error("E0401", format!("a table cannot decide on a `{shown}`"))
                    .with_label(g.span, "not a plain value")
                    .with_help("give the table numbers, amounts, dates, booleans or enum values"),
            );
        }
        let l = c.cx.new_local(c.cx.sources.slice(g.span), e.ty.settle());
        given.push((l, e));
    }
    let mut rows = Vec::new();
    let mut seen_otherwise = false;
    for (ri, row) in t.rows.iter().enumerate() {
        if seen_otherwise {
            c.cx.err(
                Diagnostic::error("E0402", "a row after `otherwise` can never apply")
                    .with_label(row.span, "unreachable row")
                    .with_help("`otherwise` must be the last row"),
            );
        }
        let cond = match &row.cells {
            None => {
                seen_otherwise = true;
                None
            }
            Some(cells) => {
                if t.given.is_empty() {
                    // Row form: one condition per row.
                    if cells.len() != 1 || cells[0].items.len() != 1 {
                        c.cx.err(
                            Diagnostic::error(
                                "E0403",
                                "this row has cells but the table has no `given` inputs",
                            )
                            .with_label(row.span, "several cells")
                            .with_help(
                                "list the inputs after `given`, or write one condition per row",
                            ),
                        );
                        None
                    } else {
                        match &cells[0].items[0] {
                            ast::CellItem::Expr(e) => {
                                Some(check_against(c, &mut s, e, &Ty::Bool, "a row's condition"))
                            }
                            _ => {
                                c.cx.err(
                                    Diagnostic::error(
                                        "E0403",
                                        "a range or comparison needs a `given` input to apply to",
                                    )
                                    .with_label(cells[0].span, "no input for this cell")
                                    .with_help("list the inputs after `given`"),
                                );
                                None
                            }
                        }
                    }
                } else if cells.len() != given.len() {
                    c.cx.err(
                        Diagnostic::error(
                            "E0403",
                            format!(
                                "this row has {} {} but the table has {} {}",
                                cells.len(),
                                if cells.len() == 1 { "cell" } else { "cells" },
                                given.len(),
                                if given.len() == 1 { "input" } else { "inputs" }
                            ),
                        )
                        .with_label(row.span, "wrong number of cells")
                        .with_help("give one cell per `given` input; `-` means any value"),
                    );
                    None
                } else {
                    let mut conj: Option<Expr> = None;
                    for (cell, (l, g)) in cells.iter().zip(&given) {
                        let subj = Expr::new(ExprKind::Local(*l), g.ty.settle(), g.span);
                        let mut disj: Option<Expr> = None;
                        for ci in &cell.items {
                            let atom = cell_atom(c, &mut s, &subj, ci);
                            disj = Some(match disj {
                                None => atom,
                                Some(d) => {
                                    let sp = d.span.to(atom.span);
                                    Expr::new(ExprKind::Or(bx(d), bx(atom)), Ty::Bool, sp)
                                }
                            });
                        }
                        if let Some(d) = disj {
                            conj = Some(match conj {
                                None => d,
                                Some(a) => {
                                    let sp = a.span.to(d.span);
                                    Expr::new(ExprKind::And(bx(a), bx(d)), Ty::Bool, sp)
                                }
                            });
                        }
                    }
                    Some(conj.unwrap_or_else(|| Expr::new(ExprKind::Const(1), Ty::Bool, row.span)))
                }
            }
        };
        let value = check_against(c, &mut s, &row.value, ret, "a row's value");
        if matches!(
            t.hit,
            ast::HitPolicy::Sum | ast::HitPolicy::Max | ast::HitPolicy::Min
        ) && !ret.is_numeric()
            && !ret.is_ordered()
            && ri == 0
        {
            let shown = c.cx.prog.show(ret);
            c.cx.err(
                Diagnostic::error(
                    "E0404",
                    format!("`hit sum`, `max` and `min` need numbers, not `{shown}`"),
                )
                .with_label(t.hit_span, "collect policy")
                .with_help("use `hit first` or `hit unique`"),
            );
        }
        if matches!(t.hit, ast::HitPolicy::Sum) && matches!(ret, Ty::Date) && ri == 0 {
            c.cx.err(
                Diagnostic::error("E0404", "dates cannot be summed")
                    .with_label(t.hit_span, "`hit sum`")
                    .with_help("use `hit max` or `hit min`"),
            );
        }
        rows.push(TableRowDef {
            from: row.from.map(|(d, _)| d),
            cond,
            value,
            span: row.span,
        });
    }
    TableDef {
        hit: t.hit,
        given,
        rows,
    }
}

pub fn cell_atom(c: &mut Body<'_, '_>, s: &mut Scope, subj: &Expr, ci: &ast::CellItem) -> Expr {
    let mk = |op: CmpOp, a: Expr, b: Expr, span: Span| {
        Expr::new(ExprKind::Cmp(op, bx(a), bx(b)), Ty::Bool, span)
    };
    match ci {
        ast::CellItem::Range {
            lo,
            lo_closed,
            hi,
            hi_closed,
            span,
        } => {
            if !subj.ty.is_ordered() && !subj.ty.is_error() {
                let shown = c.cx.prog.show(&subj.ty);
                c.cx.err(
                    Diagnostic::error("E0405", format!("a range cannot apply to a `{shown}`"))
                        .with_label(*span, "range on a value without order"),
                );
                return Expr::error(*span);
            }
            let l = check_against(c, s, lo, &subj.ty, "the lower end of the range");
            let lower = mk(
                if *lo_closed { CmpOp::Le } else { CmpOp::Lt },
                l,
                subj.clone(),
                *span,
            );
            match hi {
                None => lower,
                Some(h) => {
                    let h = check_against(c, s, h, &subj.ty, "the upper end of the range");
                    let upper = mk(
                        if *hi_closed { CmpOp::Le } else { CmpOp::Lt },
                        subj.clone(),
                        h,
                        *span,
                    );
                    Expr::new(ExprKind::And(bx(lower), bx(upper)), Ty::Bool, *span)
                }
            }
        }
        ast::CellItem::Cmp(op, e, span) => {
            let v = check_against(c, s, e, &subj.ty, "the value compared");
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !subj.ty.is_ordered() && !subj.ty.is_error()
            {
                let shown = c.cx.prog.show(&subj.ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0405",
                        format!("`{}` cannot compare `{shown}` values", op.symbol()),
                    )
                    .with_label(*span, "values without order"),
                );
            }
            mk(*op, subj.clone(), v, *span)
        }
        ast::CellItem::Expr(e) => {
            let v = check_against(c, s, e, &subj.ty, "the cell's value");
            let sp = e.span;
            mk(CmpOp::Eq, subj.clone(), v, sp)
        }
    }
}
