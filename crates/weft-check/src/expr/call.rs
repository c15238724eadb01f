//! Calls: of a rule (`dibao(h)`), of a scale (`tax(income)`), and of the
//! built-in functions of [`crate::builtins`], dispatched on their
//! [`Fun`].

use crate::body::Body;
use crate::builtins::{self, BuiltinFn, Fun};
use crate::ctx::WrongKind;
use crate::expr::coerce::{check_against, coerce, require};
use crate::expr::name::add_dep;
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::names::DefKind;
use crate::ty::{DurUnit, Per, Ty};
use weft_syntax::ast::{self, ExprKind as A};
use weft_syntax::num::FEN;
use weft_syntax::{Diagnostic, Span};

pub fn arg_count(
    c: &mut Body<'_, '_>,
    f: &ast::Ident,
    args: &[ast::Arg],
    n: std::ops::RangeInclusive<usize>,
    span: Span,
) -> bool {
    if n.contains(&args.len()) {
        return true;
    }
    let want = if n.start() == n.end() {
        format!("{}", n.start())
    } else if *n.end() == usize::MAX {
        format!("at least {}", n.start())
    } else {
        format!("{} to {}", n.start(), n.end())
    };
    c.cx.err(
        Diagnostic::error(
            "E0346",
            format!(
                "`{}` takes {want} {}, not {}",
                f.name,
                if want == "1" { "argument" } else { "arguments" },
                args.len()
            ),
        )
        .with_label(span, "wrong number of arguments"),
    );
    false
}

pub fn positional<'a>(c: &mut Body<'_, '_>, args: &'a [ast::Arg]) -> Vec<&'a ast::Expr> {
    let mut out = Vec::new();
    for a in args {
        if let Some(n) = &a.name {
            c.cx.err(
                Diagnostic::error(
                    "E0347",
                    format!("this function has no argument named `{}`", n.name),
                )
                .with_label(n.span, "unexpected name")
                .with_help("remove `name:`"),
            );
        }
        out.push(&a.value);
    }
    out
}

pub fn call(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    f: &ast::Ident,
    args: &[ast::Arg],
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    if let Some(b) = builtins::function(&f.name) {
        return call_builtin(c, s, f, args, span, expect, b);
    }
    let wrong = |k: DefKind| {
        let help = if matches!(k, DefKind::Param(_)) {
            format!("a parameter's keys go in square brackets: `{}[…]`", f.name)
        } else {
            "only rules, tables, scales and cascades are applied with `(…)`".to_string()
        };
        Diagnostic::error(
            "E0348",
            format!("`{}` is {} and cannot be applied", f.name, k.describe()),
        )
        .with_label(f.span, "not a rule")
        .with_help(help)
    };
    let found = c.cx.find(
        s.module,
        f,
        "rule",
        DefKind::rule,
        WrongKind::Report(&wrong),
    );
    let Some(rid) = found else {
        return Expr::error(span);
    };
    add_dep(c, s, rid, f.span);
    let ret =
        c.cx.prog
            .rules
            .get(rid)
            .map(|r| r.ret.clone())
            .unwrap_or(Ty::Error);
    if let Some(params) = c.sigs.scale_params.get(&rid).cloned() {
        let pos = positional(c, args);
        if !arg_count(c, f, args, params.len()..=params.len(), span) {
            return Expr::error(span);
        }
        let mut out = Vec::new();
        for (a, l) in pos.into_iter().zip(&params) {
            let t =
                c.cx.prog
                    .locals
                    .get(*l)
                    .map(|x| x.ty.clone())
                    .unwrap_or(Ty::Error);
            out.push(check_against(c, s, a, &t, "this argument"));
        }
        // A marginal scale's result has the period of its amount.
        let ty = match (&ret, out.first().map(|a| &a.ty)) {
            (Ty::Money(Per::Any), Some(Ty::Money(p))) => Ty::Money(*p),
            _ => ret,
        };
        return Expr::new(ExprKind::Scale(rid, out), ty, span);
    }
    let param = c.cx.prog.rules.get(rid).and_then(|r| r.param);
    let is_cascade = c.items.cascades.contains(&rid);
    let pos = positional(c, args);
    let arg = match param {
        None => {
            if !pos.is_empty() {
                c.cx.err(
                    Diagnostic::error("E0346", format!("`{}` takes no record", f.name))
                        .with_label(span, "remove the arguments")
                        .with_help(format!("write `{}`", f.name)),
                );
            }
            None
        }
        Some((_, rec)) => {
            if pos.len() != 1 {
                let rn =
                    c.cx.prog
                        .records
                        .get(rec)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                c.cx.err(
                    Diagnostic::error("E0346", format!("`{}` takes one `{rn}`", f.name))
                        .with_label(span, format!("{} argument(s) given", pos.len())),
                );
                return Expr::error(span);
            }
            let a = check_against(c, s, pos[0], &Ty::Record(rec), "the record");
            Some(bx(a))
        }
    };
    if is_cascade {
        return Expr::new(ExprKind::Rule(rid, arg), Ty::Cascade(rid), span);
    }
    Expr::new(ExprKind::Rule(rid, arg), ret, span)
}

pub fn unit_of(c: &mut Body<'_, '_>, a: &ast::Arg, ty: &Ty) -> Option<i64> {
    match ty {
        Ty::Money(_) => {
            let A::Name(u) = &a.value.kind else {
                c.cx.err(
                    Diagnostic::error("E0349", "`to:` takes a unit of money")
                        .with_label(a.value.span, "not a unit")
                        .with_help("write `to: yuan`, `to: jiao` or `to: fen`"),
                );
                return None;
            };
            match u.name.as_str() {
                "fen" => Some(1),
                "jiao" => Some(10),
                "yuan" => Some(FEN),
                "ten_yuan" => Some(10 * FEN),
                "hundred_yuan" => Some(100 * FEN),
                _ => {
                    c.cx.err(
                        Diagnostic::error("E0349", format!("`{}` is not a unit of money", u.name))
                            .with_label(u.span, "unknown unit")
                            .with_help("write `to: yuan`, `to: jiao` or `to: fen`"),
                    );
                    None
                }
            }
        }
        Ty::Decimal => {
            let A::Lit(ast::LitKind::Int(n)) = &a.value.kind else {
                c.cx.err(
                    Diagnostic::error("E0349", "`places:` takes a number of decimal places")
                        .with_label(a.value.span, "not a number")
                        .with_help("write `places: 2`"),
                );
                return None;
            };
            if !(0..=6).contains(n) {
                c.cx.err(
                    Diagnostic::error("E0349", "decimals have 0 to 6 places")
                        .with_label(a.value.span, "out of range"),
                );
                return None;
            }
            Some(10i64.pow(6 - *n as u32))
        }
        _ => None,
    }
}

pub fn call_builtin(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    f: &ast::Ident,
    args: &[ast::Arg],
    span: Span,
    expect: Option<&Ty>,
    b: &BuiltinFn,
) -> Expr {
    let name = b.name;
    match b.fun {
        Fun::Round => {
            let Some(first) = args.first() else {
                arg_count(c, f, args, b.arity.clone(), span);
                return Expr::error(span);
            };
            if args.len() > 2 {
                arg_count(c, f, args, b.arity.clone(), span);
                return Expr::error(span);
            }
            let v = expr(c, s, &first.value, expect);
            let unit = match (args.get(1), &v.ty) {
                (None, Ty::Money(_)) => Some(1),
                (None, Ty::Decimal) => Some(1),
                (Some(a), t @ Ty::Money(_))
                    if a.name.as_ref().map(|n| n.name == "to").unwrap_or(false) =>
                {
                    unit_of(c, a, t)
                }
                (Some(a), t @ Ty::Decimal)
                    if a.name.as_ref().map(|n| n.name == "places").unwrap_or(false) =>
                {
                    unit_of(c, a, t)
                }
                (_, Ty::Error) => None,
                (Some(a), Ty::Money(_)) => {
                    c.cx.err(
                        Diagnostic::error("E0349", "money is rounded `to:` a unit")
                            .with_label(a.value.span, "write `to: yuan`"),
                    );
                    None
                }
                (Some(a), Ty::Decimal) => {
                    c.cx.err(
                        Diagnostic::error("E0349", "a decimal is rounded to a number of `places:`")
                            .with_label(a.value.span, "write `places: 2`"),
                    );
                    None
                }
                (_, other) => {
                    let shown = c.cx.prog.show(other);
                    c.cx.err(
                        Diagnostic::error(
                            "E0349",
                            format!("`round` works on money and decimals, not `{shown}`"),
                        )
                        .with_label(first.value.span, "nothing to round"),
                    );
                    None
                }
            };
            let Some(unit) = unit else {
                return Expr::error(span);
            };
            let ty = v.ty.clone();
            // Around a rounding product or quotient: change that operation's
            // unit, so the exact value is rounded once. The result is wrapped
            // in `RoundTo(unit)` (which changes nothing: it is already a
            // multiple of the unit) so that an enclosing `round` rounds this
            // value instead of reaching into the product again.
            let inner = match v.kind {
                ExprKind::Arith(ArithOp::MulRound { den, .. }, a, b) => Expr::new(
                    ExprKind::Arith(ArithOp::MulRound { den, unit }, a, b),
                    ty.clone(),
                    v.span,
                ),
                ExprKind::Arith(ArithOp::DivRound { pre, .. }, a, b) => Expr::new(
                    ExprKind::Arith(ArithOp::DivRound { pre, unit }, a, b),
                    ty.clone(),
                    v.span,
                ),
                kind => Expr::new(kind, ty.clone(), v.span),
            };
            Expr::new(
                ExprKind::Builtin(Builtin::RoundTo(unit), vec![inner]),
                ty,
                span,
            )
        }
        Fun::PriorYear => {
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let pos = positional(c, args);
            let v = expr(c, s, pos[0], expect);
            let ty = v.ty.clone();
            Expr::new(ExprKind::At(bx(v), Shift::PriorYear), ty, span)
        }
        Fun::Extreme(which) => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let mut vals: Vec<Expr> = pos.iter().map(|a| expr(c, s, a, expect)).collect();
            let mut ty = vals[0].ty.clone();
            for v in &vals[1..] {
                match ty.join(&v.ty) {
                    Some(t) => ty = t,
                    None => {
                        let (a, b) = (c.cx.prog.show(&ty), c.cx.prog.show(&v.ty));
                        c.cx.err(
                            Diagnostic::error(
                                "E0350",
                                format!(
                                    "`{name}` compares values of one type, not `{a}` and `{b}`"
                                ),
                            )
                            .with_label(v.span, format!("`{b}`"))
                            .with_help("amounts must have the same period"),
                        );
                        return Expr::error(span);
                    }
                }
            }
            if !ty.is_ordered() && !ty.is_error() {
                let shown = c.cx.prog.show(&ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0350",
                        format!("`{name}` needs ordered values, not `{shown}`"),
                    )
                    .with_label(span, "no order"),
                );
                return Expr::error(span);
            }
            vals = vals.into_iter().map(|v| coerce(v, &ty)).collect();
            Expr::new(ExprKind::Builtin(which, vals), ty, span)
        }
        Fun::Clamp => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], expect);
            let lo = expr(c, s, pos[1], Some(&x.ty));
            let hi = expr(c, s, pos[2], Some(&x.ty));
            // One type for the three (an integer literal takes the bounds'
            // type, as in `min`); a bound that does not fit is reported
            // against the value's type.
            let xt = match x.ty.join(&lo.ty).and_then(|t| t.join(&hi.ty)) {
                Some(t) => t,
                None => x.ty.clone(),
            };
            let x = require(c, x, &xt, "the value");
            let lo = require(c, lo, &xt, "the lower bound");
            let hi = require(c, hi, &xt, "the upper bound");
            if !xt.is_ordered() && !xt.is_error() {
                let shown = c.cx.prog.show(&xt);
                c.cx.err(
                    Diagnostic::error(
                        "E0350",
                        format!("`clamp` needs ordered values, not `{shown}`"),
                    )
                    .with_label(span, "no order"),
                );
                return Expr::error(span);
            }
            Expr::new(ExprKind::Builtin(Builtin::Clamp, vec![x, lo, hi]), xt, span)
        }
        Fun::Abs => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], expect);
            if !x.ty.is_numeric() && !x.ty.is_error() {
                let shown = c.cx.prog.show(&x.ty);
                c.cx.err(
                    Diagnostic::error("E0351", format!("`abs` needs a number, not `{shown}`"))
                        .with_label(x.span, "not a number"),
                );
                return Expr::error(span);
            }
            let ty = x.ty.clone();
            Expr::new(ExprKind::Builtin(Builtin::Abs, vec![x]), ty, span)
        }
        Fun::Period { from, to } => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = check_against(
                c,
                s,
                pos[0],
                &Ty::Money(from),
                if from == Per::Year {
                    "the yearly amount"
                } else {
                    "the monthly amount"
                },
            );
            let twelve = Expr::new(ExprKind::Const(12), Ty::Int, span);
            let op = if from == Per::Year {
                ArithOp::DivRound { pre: 1, unit: 1 }
            } else {
                ArithOp::Mul
            };
            Expr::new(ExprKind::Arith(op, bx(x), bx(twelve)), Ty::Money(to), span)
        }
        Fun::Between(bi, u) => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let a = check_against(c, s, pos[0], &Ty::Date, "the first date");
            let b = check_against(c, s, pos[1], &Ty::Date, "the second date");
            Expr::new(ExprKind::Builtin(bi, vec![a, b]), Ty::Dur(u), span)
        }
        Fun::AddDuration(unit) => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let d = check_against(c, s, pos[0], &Ty::Date, "the date");
            let n = expr(c, s, pos[1], Some(&Ty::Dur(unit)));
            let n = match n.ty {
                Ty::Int => n,
                _ => require(c, n, &Ty::Dur(unit), "the number to add"),
            };
            let op = match unit {
                DurUnit::Days => ArithOp::AddDays,
                DurUnit::Months => ArithOp::AddMonths { factor: 1 },
                DurUnit::Years => ArithOp::AddMonths { factor: 12 },
            };
            Expr::new(ExprKind::Arith(op, bx(d), bx(n)), Ty::Date, span)
        }
        Fun::DatePart(part) => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let d = check_against(c, s, pos[0], &Ty::Date, "the date");
            Expr::new(ExprKind::Builtin(part, vec![d]), Ty::Int, span)
        }
        Fun::IsSet => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], None);
            if !matches!(x.ty, Ty::Opt(_) | Ty::Error) {
                let shown = c.cx.prog.show(&x.ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0352",
                        format!(
                            "`is_set` needs an optional value, but this `{shown}` is always present"
                        ),
                    )
                    .with_label(x.span, "not optional")
                    .with_help(
                        "`is_set` applies to fields declared with `?`, such as `job_start: Date?`",
                    ),
                );
                return Expr::error(span);
            }
            Expr::new(ExprKind::IsSet(bx(x)), Ty::Bool, span)
        }
        Fun::ToDecimal => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = check_against(c, s, pos[0], &Ty::Int, "the whole number");
            Expr::new(
                ExprKind::Builtin(Builtin::ToDecimal, vec![x]),
                Ty::Decimal,
                span,
            )
        }
        Fun::ToInt => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], None);
            if !matches!(x.ty, Ty::Dur(_) | Ty::Error) {
                let shown = c.cx.prog.show(&x.ty);
                c.cx.err(
                    Diagnostic::error(
                        "E0353",
                        format!("`int` turns a duration into a number, not a `{shown}`"),
                    )
                    .with_label(x.span, "not a duration"),
                );
                return Expr::error(span);
            }
            Expr::new(ExprKind::Builtin(Builtin::ToInt, vec![x]), Ty::Int, span)
        }
        Fun::Bands(which) => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, b.arity.clone(), span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], None);
            let per = match x.ty {
                Ty::Bands(p) => p,
                Ty::Error => return Expr::error(span),
                _ => {
                    let shown = c.cx.prog.show(&x.ty);
                    c.cx.err(
                        Diagnostic::error(
                            "E0354",
                            format!("`{name}` looks at bands, not a `{shown}`"),
                        )
                        .with_label(x.span, "not bands"),
                    );
                    return Expr::error(span);
                }
            };
            let ty = match which {
                Builtin::BandsStart => Ty::Money(per),
                Builtin::BandsContiguous => Ty::Bool,
                _ => Ty::Decimal,
            };
            Expr::new(ExprKind::Builtin(which, vec![x]), ty, span)
        }
        Fun::Aggregate => {
            // sum/count/any/all written without a comprehension.
            c.cx.err(
                Diagnostic::error(
                    "E0355",
                    format!("`{name}` goes over the members of a record"),
                )
                .with_label(span, "not a comprehension")
                .with_help(format!(
                    "write `{name}(m.field for m in h.members where …)`"
                )),
            );
            Expr::error(span)
        }
    }
}
