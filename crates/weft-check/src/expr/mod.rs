//! The expression checker.
//!
//! Each expression is checked against an optional expected type, which is
//! what lets a bare variant name (`rural`) or an integer literal (`0` where
//! a Decimal is needed) find its type. Operators are resolved here to the
//! exact arithmetic of `docs/language.md` ([`ArithOp`]); enum types are
//! narrowed under conditions (`if l != none then insurance_ratio[l]`) and in
//! `match` arms, so that a table keyed by a subset of an enum can be indexed
//! only where the key is known to be in the subset.
//!
//! [`expr`] dispatches on the kind of expression to the modules below:
//! names, fields and indexing (`name`), calls of rules, scales and
//! built-ins (`call`), arithmetic and comparison (`arith`), `match`
//! (`match`), comprehensions over members (`agg`), narrowing under
//! conditions (`narrow`), and fitting a value to an expected type
//! (`coerce`).

use crate::body::Body;
use crate::expr::agg::agg;
use crate::expr::arith::{binary, compare};
use crate::expr::call::call;
use crate::expr::coerce::{check_against, coerce, require, retype_money};
use crate::expr::r#match::match_expr;
use crate::expr::name::{field, index, name};
use crate::expr::narrow::{facts, with_facts};
use crate::hir::*;
use crate::ty::{DurUnit, Per, Ty};
use crate::types::{dur_unit, per_of};
use weft_msg::t;
use weft_syntax::ast::{self, CmpOp, ExprKind as A};
use weft_syntax::{Diagnostic, Span};

pub mod agg;
pub mod arith;
pub mod call;
pub mod coerce;
pub mod r#match;
pub mod name;
pub mod narrow;
mod scope;

pub use scope::Scope;

/// The help for two values that must have one type (the branches of an
/// `if`, the cases of a `match`): what to write instead.
pub fn same_type_help(a: &Ty, b: &Ty, who: &str) -> String {
    let example = |t: &Ty| match t {
        Ty::Money(_) => Some("example-money"),
        Ty::Decimal => Some("example-decimal"),
        Ty::Int | Ty::IntLit => Some("example-int"),
        Ty::Bool => Some("example-bool"),
        Ty::Dur(DurUnit::Months) => Some("example-months"),
        Ty::Dur(DurUnit::Years) => Some("example-years"),
        Ty::Dur(DurUnit::Days) => Some("example-days"),
        Ty::Date => Some("example-date"),
        _ => None,
    };
    match (a, b) {
        (Ty::Money(_), Ty::Money(_)) => t!("same-type-periods"),
        (Ty::Money(_), Ty::Decimal) | (Ty::Decimal, Ty::Money(_)) => {
            t!("same-type-share", who = who)
        }
        (Ty::Money(_), Ty::Int | Ty::IntLit) | (Ty::Int | Ty::IntLit, Ty::Money(_)) => {
            t!("same-type-yuan", who = who)
        }
        _ => match example(a) {
            Some(e) => t!("same-type-example", who = who, example = t!(e)),
            None => t!("same-type", who = who),
        },
    }
}

pub fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// Check an expression, with the type the place it is in expects if
/// there is one; its type is recorded for the semantic model.
pub fn expr(c: &mut Body<'_, '_>, s: &mut Scope, e: &ast::Expr, expect: Option<&Ty>) -> Expr {
    let out = by_kind(c, s, e, expect);
    c.cx.model.typed(out.span, &out.ty);
    out
}

fn by_kind(c: &mut Body<'_, '_>, s: &mut Scope, e: &ast::Expr, expect: Option<&Ty>) -> Expr {
    let span = e.span;
    match &e.kind {
        A::Error => Expr::error(span),
        // In a test, a record with a quoted id is named by its quoted text
        // where a record is expected.
        A::Lit(ast::LitKind::Text(t))
            if matches!(expect, Some(Ty::Record(_)))
                && s.test.as_ref().is_some_and(|m| m.contains_key(t)) =>
        {
            match (s.test.as_ref().and_then(|m| m.get(t)), expect) {
                (Some((idx, rec_id)), Some(Ty::Record(want))) if rec_id == want => {
                    Expr::new(ExprKind::TestRecord(*idx), Ty::Record(*rec_id), span)
                }
                _ => lit(&ast::LitKind::Text(t.clone()), span),
            }
        }
        A::Lit(l) => lit(l, span),
        A::Per(inner, p) => {
            let x = expr(c, s, inner, None);
            let per = per_of(Some(*p));
            match x.ty {
                Ty::Money(Per::Any) => {
                    let mut x = x;
                    retype_money(&mut x, per);
                    x.span = span;
                    x
                }
                Ty::Money(q) if q == per => x,
                Ty::Error => x,
                _ => {
                    let shown = c.cx.prog.show(&x.ty);
                    c.cx.err(
                        Diagnostic::error(
                            "E0331",
                            format!("`per` gives a period to an amount, not to a `{shown}`"),
                        )
                        .with_label(span, "not an amount without a period")
                        .with_help("write `¥500 per month`"),
                    );
                    Expr::error(span)
                }
            }
        }
        A::AsOf => Expr::new(ExprKind::AsOf, Ty::Date, span),
        A::Remains => {
            match s.remains {
                Some(l) => {
                    let ty =
                        c.cx.prog
                            .locals
                            .get(l)
                            .map(|x| x.ty.clone())
                            .unwrap_or(Ty::Error);
                    Expr::new(ExprKind::Local(l), ty, span)
                }
                None => {
                    c.cx.err(
                    Diagnostic::error("E0332", "`remains` only has a meaning in a step of a cascade")
                        .with_label(span, "outside a cascade")
                        .with_help("in a cascade, `remains` is what the previous payers left of the amount"),
                );
                    Expr::error(span)
                }
            }
        }
        A::Name(id) => name(c, s, id, expect, e),
        A::Field(base, f) => field(c, s, base, f, e),
        A::Index(base, idx) => index(c, s, base, idx, span),
        A::Call(f, args) => call(c, s, f, args, span, expect),
        A::At(x, d) => {
            let inner = expr(c, s, x, expect);
            let ty = inner.ty.clone();
            Expr::new(ExprKind::At(bx(inner), Shift::Date(*d)), ty, span)
        }
        A::Neg(x) => {
            let v = expr(c, s, x, expect);
            match v.ty {
                Ty::Int | Ty::IntLit | Ty::Decimal | Ty::Money(_) | Ty::Dur(_) | Ty::Error => {
                    let ty = v.ty.clone();
                    if let ExprKind::Const(n) = v.kind
                        && let Some(m) = n.checked_neg()
                    {
                        return Expr::new(ExprKind::Const(m), ty, span);
                    }
                    Expr::new(ExprKind::Neg(bx(v)), ty, span)
                }
                _ => {
                    let shown = c.cx.prog.show(&v.ty);
                    c.cx.err(
                        Diagnostic::error("E0333", format!("a `{shown}` cannot be negative"))
                            .with_label(span, "negated here"),
                    );
                    Expr::error(span)
                }
            }
        }
        A::Not(x) => {
            let v = check_against(c, s, x, &Ty::Bool, "the operand of `not`");
            Expr::new(ExprKind::Not(bx(v)), Ty::Bool, span)
        }
        A::Binary(op, a, b) => binary(c, s, *op, a, b, span, expect),
        A::Compare(first, rest) => {
            let mut acc: Option<Expr> = None;
            let mut left = first.as_ref();
            for (op, right) in rest {
                let cmp = compare(c, s, *op, left, right, span);
                acc = Some(match acc {
                    None => cmp,
                    Some(a) => Expr::new(ExprKind::And(bx(a), bx(cmp)), Ty::Bool, span),
                });
                left = right;
            }
            acc.unwrap_or_else(|| Expr::error(span))
        }
        A::InSet(x, items) => {
            let v = expr(c, s, x, None);
            let vt = v.ty.settle();
            if !v.ty.is_scalar() && !v.ty.is_error() {
                let shown = c.cx.prog.show(&v.ty);
                c.cx.err(
                    Diagnostic::error("E0334", format!("`in {{…}}` cannot test a `{shown}`"))
                        .with_label(x.span, "not a plain value"),
                );
                return Expr::error(span);
            }
            let mut acc: Option<Expr> = None;
            for it in items {
                let w = expr(c, s, it, Some(&vt));
                let w = if let (Ty::Enum(a, _), Ty::Enum(b, _)) = (&vt, &w.ty) {
                    if a == b {
                        w
                    } else {
                        require(c, w, &vt, "a member of the set")
                    }
                } else {
                    require(c, w, &vt, "a member of the set")
                };
                let cmp = Expr::new(
                    ExprKind::Cmp(CmpOp::Eq, bx(v.clone()), bx(w)),
                    Ty::Bool,
                    it.span,
                );
                acc = Some(match acc {
                    None => cmp,
                    Some(a) => Expr::new(ExprKind::Or(bx(a), bx(cmp)), Ty::Bool, span),
                });
            }
            let mut out = acc.unwrap_or_else(|| Expr::new(ExprKind::Const(0), Ty::Bool, span));
            out.span = span;
            out
        }
        A::If(cnd, t, f) => {
            let cv = check_against(c, s, cnd, &Ty::Bool, "the condition of `if`");
            let pos = facts(c, s, cnd, true);
            let neg = facts(c, s, cnd, false);
            let tv = with_facts(s, pos, |s| expr(c, s, t, expect));
            let fv = with_facts(s, neg, |s| expr(c, s, f, expect));
            join_branches(c, cv, tv, fv, span, |cv, tv, fv| {
                ExprKind::If(bx(cv), bx(tv), bx(fv))
            })
        }
        A::Let(n, v, b) => {
            let vv = expr(c, s, v, None);
            if matches!(vv.ty, Ty::Cascade(_)) {
                c.cx.err(
                    Diagnostic::error("E0335", "a cascade cannot be named with `let`")
                        .with_label(v.span, "use its parts directly"),
                );
            }
            let l = c.cx.bind_local(n, vv.ty.settle());
            s.locals.push((n.name.clone(), l));
            let bv = expr(c, s, b, expect);
            s.locals.pop();
            let ty = bv.ty.clone();
            Expr::new(
                ExprKind::Let(l, bx(coerce(vv.clone(), &vv.ty.settle())), bx(bv)),
                ty,
                span,
            )
        }
        A::Match(scrut, arms) => match_expr(c, s, scrut, arms, span, expect),
        A::Agg {
            kind,
            body,
            var,
            over,
            filter,
        } => agg(
            c,
            s,
            *kind,
            body.as_deref(),
            var,
            over,
            filter.as_deref(),
            span,
        ),
    }
}

pub fn lit(l: &ast::LitKind, span: Span) -> Expr {
    use ast::LitKind as L;
    match l {
        L::Bool(b) => Expr::new(ExprKind::Const(*b as i64), Ty::Bool, span),
        L::Int(v) => Expr::new(ExprKind::Const(*v), Ty::IntLit, span),
        L::Decimal(v) => Expr::new(ExprKind::Const(*v), Ty::Decimal, span),
        L::Money(v) => Expr::new(ExprKind::Const(*v), Ty::Money(Per::Any), span),
        L::Date(d) => Expr::new(ExprKind::Const(*d as i64), Ty::Date, span),
        L::Text(t) => Expr::new(ExprKind::Text(t.clone()), Ty::Text, span),
        L::Duration(n, u) => Expr::new(ExprKind::Const(*n), Ty::Dur(dur_unit(*u)), span),
    }
}

pub fn join_branches(
    c: &mut Body<'_, '_>,
    cv: Expr,
    tv: Expr,
    fv: Expr,
    span: Span,
    mk: impl FnOnce(Expr, Expr, Expr) -> ExprKind,
) -> Expr {
    match tv.ty.join(&fv.ty) {
        Some(ty) => {
            let tv = coerce(tv, &ty);
            let fv = coerce(fv, &ty);
            Expr::new(mk(cv, tv, fv), ty, span)
        }
        None => {
            let (a, b) = (c.cx.prog.show(&tv.ty), c.cx.prog.show(&fv.ty));
            let mut d = Diagnostic::error("E0336", t!("if-types-differ", a = &a, b = &b))
                .with_label(tv.span, format!("`{a}`"))
                .with_label(fv.span, format!("`{b}`"));
            d = d.with_help(same_type_help(&tv.ty, &fv.ty, &t!("who-if")));
            c.cx.err(d);
            Expr::error(span)
        }
    }
}
