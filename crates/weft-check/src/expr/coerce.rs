//! Fitting a checked expression to the type a place expects: a value of
//! the wrong type is reported once; an unannotated money literal takes the
//! period it is used at; an integer literal becomes a decimal.

use crate::body::Body;
use crate::expr::{Scope, expr};
use crate::hir::*;
use crate::ty::{Per, Ty};
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self};
use weft_syntax::num::MICRO;

/// Check `e` and require its type to fit `want`.
pub fn check_against(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    e: &ast::Expr,
    want: &Ty,
    what: &str,
) -> Expr {
    let got = expr(c, s, e, Some(want));
    require(c, got, want, what)
}

pub fn require(c: &mut Body<'_, '_>, got: Expr, want: &Ty, what: &str) -> Expr {
    if got.ty.fits(want) {
        return coerce(got, want);
    }
    let (g, w) = (c.cx.prog.show(&got.ty), c.cx.prog.show(want));
    let mut d = Diagnostic::error(
        "E0330",
        format!("{what} should be `{w}`, but this is `{g}`"),
    )
    .with_label(got.span, format!("this is `{g}`"));
    d = match (&got.ty, want) {
        (Ty::Money(_), Ty::Money(_)) => d.with_help("amounts of different periods do not mix: convert with `per_month(…)` or `per_year(…)`, or multiply by a duration (`× 12 months`)"),
        (Ty::Enum(e1, _), Ty::Enum(e2, _)) if e1 == e2 => d.with_help("some variants are not allowed here: narrow the value first with `match` or `if`"),
        (Ty::Opt(_), _) => d.with_help("the value may be absent: decide with `match x { absent => …, v => … }`"),
        (Ty::Cascade(_), _) => d.with_help("use one of the cascade's parts, e.g. `medical(p).out_of_pocket`"),
        (Ty::Int, Ty::Decimal) => d.with_help("convert with `decimal(…)`"),
        (Ty::Int | Ty::IntLit, Ty::Money(_)) => d.with_help("write an amount with `¥`, e.g. `¥0`"),
        (Ty::Decimal, Ty::Money(_)) => d.with_help("multiply a rate by an amount to get money"),
        _ => d,
    };
    c.cx.err(d);
    Expr::error(got.span)
}

/// Give literals the type their context needs.
pub fn coerce(mut e: Expr, want: &Ty) -> Expr {
    match (&e.ty, want) {
        (Ty::IntLit, Ty::Decimal) => {
            scale_lits(&mut e, MICRO, Ty::Decimal);
            e
        }
        (Ty::IntLit, Ty::Dur(u)) => {
            let t = Ty::Dur(*u);
            scale_lits(&mut e, 1, t);
            e
        }
        (Ty::IntLit, Ty::Int) => {
            scale_lits(&mut e, 1, Ty::Int);
            e
        }
        (Ty::Money(Per::Any), Ty::Money(p)) if *p != Per::Any => {
            retype_money(&mut e, *p);
            e
        }
        (Ty::Enum(..), Ty::Enum(..)) => e,
        _ => e,
    }
}

pub fn scale_lits(e: &mut Expr, factor: i64, ty: Ty) {
    if e.ty != Ty::IntLit {
        return;
    }
    e.ty = ty.clone();
    match &mut e.kind {
        ExprKind::Const(v) => *v = v.saturating_mul(factor),
        ExprKind::Neg(x) => scale_lits(x, factor, ty),
        ExprKind::If(_, a, b) => {
            scale_lits(a, factor, ty.clone());
            scale_lits(b, factor, ty);
        }
        ExprKind::Let(_, _, b) => scale_lits(b, factor, ty),
        ExprKind::Match(_, arms) => {
            for a in arms {
                scale_lits(&mut a.body, factor, ty.clone());
            }
        }
        ExprKind::Arith(op, a, b) => {
            // Only Add/Sub/Mul of literals stay literals.
            match op {
                ArithOp::Add | ArithOp::Sub => {
                    scale_lits(a, factor, ty.clone());
                    scale_lits(b, factor, ty);
                }
                _ => {
                    scale_lits(a, factor, ty.clone());
                    if factor != 1 {
                        // (a × b) in millionths = a_millionths × b
                        scale_lits(b, 1, Ty::Int);
                    } else {
                        scale_lits(b, 1, ty);
                    }
                }
            }
        }
        ExprKind::Builtin(_, args) => {
            for a in args {
                scale_lits(a, factor, ty.clone());
            }
        }
        _ => {}
    }
}

pub fn retype_money(e: &mut Expr, p: Per) {
    if e.ty != Ty::Money(Per::Any) {
        return;
    }
    e.ty = Ty::Money(p);
    match &mut e.kind {
        ExprKind::Neg(x) => retype_money(x, p),
        ExprKind::If(_, a, b) | ExprKind::Arith(_, a, b) => {
            retype_money(a, p);
            retype_money(b, p);
        }
        ExprKind::Let(_, _, b) => retype_money(b, p),
        ExprKind::Match(_, arms) => {
            for a in arms {
                retype_money(&mut a.body, p);
            }
        }
        ExprKind::Builtin(_, args) => {
            for a in args {
                retype_money(a, p);
            }
        }
        _ => {}
    }
}
