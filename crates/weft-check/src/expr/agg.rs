//! Comprehensions over the members of a group record: `sum`, `count`,
//! `any`, `all`, `min`, `max` with a binding and an optional `where`.

use crate::body::Body;
use crate::expr::coerce::{check_against, coerce};
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::ty::Ty;
use weft_syntax::ast::{self, AggKind};
use weft_syntax::{Diagnostic, Span};

#[allow(clippy::too_many_arguments)]
pub fn agg(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    kind: AggKind,
    body: Option<&ast::Expr>,
    var: &ast::Ident,
    over: &ast::Expr,
    filter: Option<&ast::Expr>,
    span: Span,
) -> Expr {
    let ov = expr(c, s, over, None);
    let rec_id = match ov.ty {
        Ty::List(r) => r,
        Ty::Error => return Expr::error(span),
        _ => {
            let shown = c.cx.prog.show(&ov.ty);
            c.cx.err(
                Diagnostic::error(
                    "E0360",
                    format!("`{}` goes over members, not a `{shown}`", kind.name()),
                )
                .with_label(over.span, "not a list of members")
                .with_help("write e.g. `h.members`"),
            );
            return Expr::error(span);
        }
    };
    let l = c.cx.bind_local(var, Ty::Record(rec_id));
    s.locals.push((var.name.clone(), l));
    let fv = filter.map(|f| check_against(c, s, f, &Ty::Bool, "the filter"));
    let bv = body.map(|b| expr(c, s, b, None));
    s.locals.pop();
    let ty = match (kind, &bv) {
        (AggKind::Count, None) => Ty::Int,
        (AggKind::Count, Some(b)) => {
            c.cx.err(
                Diagnostic::error("E0361", "`count` counts members; it takes no value")
                    .with_label(b.span, "a value to count")
                    .with_help(format!("write `count({} in … where …)`", var.name)),
            );
            return Expr::error(span);
        }
        (_, None) => {
            c.cx.err(
                Diagnostic::error(
                    "E0361",
                    format!("`{}` needs a value for each member", kind.name()),
                )
                .with_label(span, "no value")
                .with_help(format!(
                    "write `{}(… for {} in … )`",
                    kind.name(),
                    var.name
                )),
            );
            return Expr::error(span);
        }
        (AggKind::Any | AggKind::All, Some(b)) => {
            if !b.ty.fits(&Ty::Bool) {
                let shown = c.cx.prog.show(&b.ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0361",
                        format!("`{}` needs a true/false value, not `{shown}`", kind.name()),
                    )
                    .with_label(b.span, "not true/false"),
                );
                return Expr::error(span);
            }
            Ty::Bool
        }
        (AggKind::Sum, Some(b)) => {
            if !b.ty.is_numeric() && !b.ty.is_error() {
                let shown = c.cx.prog.show(&b.ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0361",
                        format!("`sum` adds numbers or amounts, not `{shown}`"),
                    )
                    .with_label(b.span, "cannot be added"),
                );
                return Expr::error(span);
            }
            b.ty.settle()
        }
        (AggKind::Min | AggKind::Max, Some(b)) => {
            if !b.ty.is_ordered() && !b.ty.is_error() {
                let shown = c.cx.prog.show(&b.ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0361",
                        format!("`{}` needs ordered values, not `{shown}`", kind.name()),
                    )
                    .with_label(b.span, "no order"),
                );
                return Expr::error(span);
            }
            b.ty.settle()
        }
    };
    let bv = bv.map(|b| bx(coerce(b, &ty)));
    Expr::new(
        ExprKind::Agg {
            kind,
            var: l,
            over: bx(ov),
            body: bv,
            filter: fv.map(bx),
        },
        ty,
        span,
    )
}
