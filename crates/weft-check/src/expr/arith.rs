//! Arithmetic and comparison: each operator is resolved to the exact
//! [`ArithOp`] of `docs/language.md` from the types of its operands
//! (money × decimal rounds to the fen, money ÷ money is a decimal, …).

use crate::body::Body;
use crate::expr::coerce::{check_against, coerce};
use crate::expr::narrow::{facts, place, with_facts};
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::ty::{DurUnit, Per, Ty};
use weft_syntax::ast::{self, BinOp, CmpOp, ExprKind as A};
use weft_syntax::num::MICRO;
use weft_syntax::{Diagnostic, Span};

pub fn binary(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    op: BinOp,
    a: &ast::Expr,
    b: &ast::Expr,
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    match op {
        BinOp::And | BinOp::Or => {
            let av = check_against(
                c,
                s,
                a,
                &Ty::Bool,
                if op == BinOp::And {
                    "an operand of `and`"
                } else {
                    "an operand of `or`"
                },
            );
            let f = facts(c, s, a, op == BinOp::And);
            let bv = with_facts(s, f, |s| {
                check_against(
                    c,
                    s,
                    b,
                    &Ty::Bool,
                    if op == BinOp::And {
                        "an operand of `and`"
                    } else {
                        "an operand of `or`"
                    },
                )
            });
            let k = if op == BinOp::And {
                ExprKind::And(bx(av), bx(bv))
            } else {
                ExprKind::Or(bx(av), bx(bv))
            };
            Expr::new(k, Ty::Bool, span)
        }
        BinOp::Iff => {
            let av = check_against(c, s, a, &Ty::Bool, "an operand of `iff`");
            let bv = check_against(c, s, b, &Ty::Bool, "an operand of `iff`");
            Expr::new(ExprKind::Cmp(CmpOp::Eq, bx(av), bx(bv)), Ty::Bool, span)
        }
        _ => {
            let av = expr(c, s, a, expect);
            let bexp = match (&av.ty, op) {
                (Ty::Money(_) | Ty::Decimal | Ty::Int | Ty::Dur(_), BinOp::Add | BinOp::Sub) => {
                    Some(av.ty.clone())
                }
                _ => None,
            };
            let bv = expr(c, s, b, bexp.as_ref().or(expect));
            arith(c, op, av, bv, span)
        }
    }
}

pub fn op_word(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "subtract",
        BinOp::Mul => "multiply",
        BinOp::Div => "divide",
        _ => "combine",
    }
}

pub fn arith(c: &mut Body<'_, '_>, op: BinOp, a: Expr, b: Expr, span: Span) -> Expr {
    use Ty::*;
    if a.ty.is_error() || b.ty.is_error() {
        return Expr::error(span);
    }
    let mk = |k: ArithOp, a: Expr, b: Expr, ty: Ty| {
        Expr::new(ExprKind::Arith(k, bx(a), bx(b)), ty, span)
    };
    let exact_div = ArithOp::DivRound {
        pre: MICRO,
        unit: 1,
    };
    let (at, bt) = (a.ty.clone(), b.ty.clone());
    let (asp, bsp) = (a.span, b.span);
    let r = match (op, &at, &bt) {
        // Integers and literals.
        (BinOp::Add | BinOp::Sub | BinOp::Mul, IntLit, IntLit) => {
            Some(mk(arith_op(op), a, b, IntLit))
        }
        (BinOp::Add | BinOp::Sub | BinOp::Mul, Int | IntLit, Int | IntLit) => {
            Some(mk(arith_op(op), coerce(a, &Int), coerce(b, &Int), Int))
        }
        (BinOp::Div, Int | IntLit, Int | IntLit) => {
            Some(mk(exact_div, coerce(a, &Int), coerce(b, &Int), Decimal))
        }
        // Decimals.
        (BinOp::Add | BinOp::Sub, Decimal | IntLit, Decimal | IntLit) => Some(mk(
            arith_op(op),
            coerce(a, &Decimal),
            coerce(b, &Decimal),
            Decimal,
        )),
        (BinOp::Mul, Decimal | IntLit, Decimal | IntLit) => Some(mk(
            ArithOp::MulRound {
                den: MICRO,
                unit: 1,
            },
            coerce(a, &Decimal),
            coerce(b, &Decimal),
            Decimal,
        )),
        (BinOp::Div, Decimal | IntLit, Decimal | IntLit) => Some(mk(
            exact_div,
            coerce(a, &Decimal),
            coerce(b, &Decimal),
            Decimal,
        )),
        // Money.
        (BinOp::Add | BinOp::Sub, Money(p), Money(q)) => match p.join(*q) {
            Some(per) => Some(mk(
                arith_op(op),
                coerce(a, &Money(per)),
                coerce(b, &Money(per)),
                Money(per),
            )),
            None => {
                let (x, y) = (c.cx.prog.show(&at), c.cx.prog.show(&bt));
                c.cx.err(
                    Diagnostic::error("E0320", format!("cannot {} `{x}` and `{y}`", op_word(op)))
                        .with_label(a.span, format!("`{x}`"))
                        .with_label(b.span, format!("`{y}`"))
                        .with_help("amounts of different periods do not mix: convert one with `per_month(…)` or `per_year(…)`"),
                );
                return Expr::error(span);
            }
        },
        (BinOp::Mul, Money(p), Int | IntLit) => {
            Some(mk(ArithOp::Mul, a, coerce(b, &Int), Money(*p)))
        }
        (BinOp::Mul, Int | IntLit, Money(p)) => {
            Some(mk(ArithOp::Mul, b, coerce(a, &Int), Money(*p)))
        }
        (BinOp::Mul, Money(p), Decimal) => Some(mk(
            ArithOp::MulRound {
                den: MICRO,
                unit: 1,
            },
            a,
            b,
            Money(*p),
        )),
        (BinOp::Mul, Decimal, Money(p)) => Some(mk(
            ArithOp::MulRound {
                den: MICRO,
                unit: 1,
            },
            b,
            a,
            Money(*p),
        )),
        (BinOp::Mul, Money(Per::Month | Per::Any), Dur(DurUnit::Months)) => {
            Some(mk(ArithOp::Mul, a, b, Money(Per::Once)))
        }
        (BinOp::Mul, Dur(DurUnit::Months), Money(Per::Month | Per::Any)) => {
            Some(mk(ArithOp::Mul, b, a, Money(Per::Once)))
        }
        (BinOp::Mul, Money(Per::Year | Per::Any), Dur(DurUnit::Years)) => {
            Some(mk(ArithOp::Mul, a, b, Money(Per::Once)))
        }
        (BinOp::Mul, Dur(DurUnit::Years), Money(Per::Year | Per::Any)) => {
            Some(mk(ArithOp::Mul, b, a, Money(Per::Once)))
        }
        (BinOp::Div, Money(p), Int | IntLit) => Some(mk(
            ArithOp::DivRound { pre: 1, unit: 1 },
            a,
            coerce(b, &Int),
            Money(*p),
        )),
        (BinOp::Div, Money(p), Decimal) => Some(mk(
            ArithOp::DivRound {
                pre: MICRO,
                unit: 1,
            },
            a,
            b,
            Money(*p),
        )),
        (BinOp::Div, Money(p), Money(q)) if p.join(*q).is_some() => {
            Some(mk(exact_div, a, b, Decimal))
        }
        // Durations and dates.
        (BinOp::Add | BinOp::Sub, Dur(u), Dur(v)) if u == v => {
            Some(mk(arith_op(op), a, b, Dur(*u)))
        }
        (BinOp::Add | BinOp::Sub, Dur(u), IntLit) => {
            Some(mk(arith_op(op), a, coerce(b, &Dur(*u)), Dur(*u)))
        }
        (BinOp::Add | BinOp::Sub, IntLit, Dur(u)) => {
            Some(mk(arith_op(op), coerce(a, &Dur(*u)), b, Dur(*u)))
        }
        (BinOp::Mul, Dur(u), Int | IntLit) => Some(mk(ArithOp::Mul, a, coerce(b, &Int), Dur(*u))),
        (BinOp::Mul, Int | IntLit, Dur(u)) => Some(mk(ArithOp::Mul, b, coerce(a, &Int), Dur(*u))),
        (BinOp::Div, Dur(u), Dur(v)) if u == v => Some(mk(exact_div, a, b, Decimal)),
        (BinOp::Add | BinOp::Sub, Date, Dur(u)) => {
            let b = if op == BinOp::Sub {
                let t = b.ty.clone();
                let sp = b.span;
                Expr::new(ExprKind::Neg(bx(b)), t, sp)
            } else {
                b
            };
            let k = match u {
                DurUnit::Days => ArithOp::AddDays,
                DurUnit::Months => ArithOp::AddMonths { factor: 1 },
                DurUnit::Years => ArithOp::AddMonths { factor: 12 },
            };
            Some(mk(k, a, b, Date))
        }
        (BinOp::Add, Dur(u), Date) => {
            let k = match u {
                DurUnit::Days => ArithOp::AddDays,
                DurUnit::Months => ArithOp::AddMonths { factor: 1 },
                DurUnit::Years => ArithOp::AddMonths { factor: 12 },
            };
            Some(mk(k, b, a, Date))
        }
        (BinOp::Sub, Date, Date) => Some(mk(ArithOp::SubDates, a, b, Dur(DurUnit::Days))),
        _ => None,
    };
    match r {
        Some(e) => e,
        None => {
            let (x, y) = (c.cx.prog.show(&at), c.cx.prog.show(&bt));
            let help = match (op, &at, &bt) {
                (BinOp::Mul, Decimal, Int) | (BinOp::Mul, Int, Decimal) => {
                    "convert the whole number with `decimal(…)`".to_string()
                }
                (_, Money(_), Dur(_)) | (_, Dur(_), Money(_)) => {
                    "an amount per month times months (or per year times years) gives money"
                        .to_string()
                }
                (BinOp::Add | BinOp::Sub, Money(_), Int | IntLit | Decimal)
                | (BinOp::Add | BinOp::Sub, Int | IntLit | Decimal, Money(_)) => {
                    "write amounts of money with `¥`, e.g. `¥100`".to_string()
                }
                (_, Opt(_), _) | (_, _, Opt(_)) => {
                    "the value may be absent: decide with `match x { absent => …, v => … }`"
                        .to_string()
                }
                (BinOp::Mul, Bool, other) | (BinOp::Mul, other, Bool) if !matches!(other, Bool) => {
                    let zero = match other {
                        Money(_) => "¥0",
                        Dur(DurUnit::Months) => "0 months",
                        Dur(DurUnit::Years) => "0 years",
                        Dur(DurUnit::Days) => "0 days",
                        _ => "0",
                    };
                    weft_msg::t!("help-condition-times", zero = zero)
                }
                (BinOp::Mul, Money(_), Money(_)) => {
                    "multiply money by a whole number or a rate (`¥100 × 0.3`), never by money"
                        .to_string()
                }
                _ => "see the table of operations in the language reference".to_string(),
            };
            c.cx.err(
                Diagnostic::error(
                    "E0321",
                    weft_msg::t!(&format!("cannot-{}", op_word(op)), a = &x, b = &y),
                )
                .with_label(asp, format!("`{x}`"))
                .with_label(bsp, format!("`{y}`"))
                .with_help(help),
            );
            Expr::error(span)
        }
    }
}

pub fn arith_op(op: BinOp) -> ArithOp {
    match op {
        BinOp::Add => ArithOp::Add,
        BinOp::Sub => ArithOp::Sub,
        _ => ArithOp::Mul,
    }
}

pub fn compare(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    op: CmpOp,
    a: &ast::Expr,
    b: &ast::Expr,
    span: Span,
) -> Expr {
    // Type the side that can stand alone first, so a bare variant name on
    // the other side finds its enum.
    let a_bare = matches!(a.kind, A::Name(_)) && place(c, s, a).is_none();
    let (av, bv) = if a_bare {
        let bv = expr(c, s, b, None);
        let bt = bv.ty.settle();
        let av = expr(c, s, a, Some(&bt));
        (av, bv)
    } else {
        let av = expr(c, s, a, None);
        let at = av.ty.settle();
        let bv = expr(c, s, b, Some(&at));
        (av, bv)
    };
    if av.ty.is_error() || bv.ty.is_error() {
        return Expr::new(ExprKind::Cmp(op, bx(av), bx(bv)), Ty::Bool, span);
    }
    let joined = match (&av.ty, &bv.ty) {
        (Ty::Enum(x, _), Ty::Enum(y, _)) if x == y => Some(av.ty.clone()),
        _ => av.ty.join(&bv.ty),
    };
    let Some(ty) = joined else {
        let (x, y) = (c.cx.prog.show(&av.ty), c.cx.prog.show(&bv.ty));
        let mut d = Diagnostic::error("E0322", weft_msg::t!("cannot-compare", a = &x, b = &y))
            .with_label(av.span, format!("`{x}`"))
            .with_label(bv.span, format!("`{y}`"));
        d = match (&av.ty, &bv.ty) {
            (Ty::Money(_), Ty::Money(_)) => d.with_help("amounts of different periods do not compare: convert one with `per_month(…)` or `per_year(…)`"),
            (Ty::Money(_), _) | (_, Ty::Money(_)) => d.with_help("write amounts of money with `¥`, e.g. `¥0`"),
            (Ty::Opt(_), _) | (_, Ty::Opt(_)) => d.with_help("the value may be absent: decide with `match x { absent => …, v => … }`"),
            (Ty::Dur(u), Ty::Decimal | Ty::Int) | (Ty::Decimal | Ty::Int, Ty::Dur(u)) => {
                let unit = u.name().to_lowercase();
                let constant = [&av, &bv].into_iter().find_map(|e| match (&e.kind, &e.ty) {
                    (ExprKind::Const(v), Ty::Decimal) => Some(*v),
                    _ => None,
                });
                d.with_help(match (u, constant) {
                    (DurUnit::Years, Some(v)) if v % MICRO != 0 => {
                        let months = (v * 12 + MICRO / 2) / MICRO;
                        weft_msg::t!("help-duration-months", months = months)
                    }
                    (_, Some(v)) => {
                        weft_msg::t!("help-duration-limit", value = v / MICRO, unit = &unit)
                    }
                    _ => weft_msg::t!("help-duration-example", unit = &unit),
                })
            }
            _ => d,
        };
        c.cx.err(d);
        return Expr::error(span);
    };
    let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    if ordered && !ty.is_ordered() {
        let shown = c.cx.prog.show(&ty);
        c.cx.err(
            Diagnostic::error("E0323", format!("`{}` values have no order", shown))
                .with_label(span, format!("`{}` on `{shown}`", op.symbol()))
                .with_help("only numbers, amounts, durations and dates are ordered; compare with `==` or `!=`"),
        );
        return Expr::error(span);
    }
    if !ty.is_scalar() {
        let shown = c.cx.prog.show(&ty);
        c.cx.err(
            Diagnostic::error("E0323", format!("`{shown}` values cannot be compared"))
                .with_label(span, "not plain values"),
        );
        return Expr::error(span);
    }
    let settled = ty.settle();
    let av = coerce(av, &settled);
    let bv = coerce(bv, &settled);
    Expr::new(ExprKind::Cmp(op, bx(av), bx(bv)), Ty::Bool, span)
}
