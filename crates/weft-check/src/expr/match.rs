//! `match`: arms over the variants of an enum, `true`/`false`, or
//! absent/present for an optional value; the scrutinee is narrowed in each
//! arm, and arms that can never apply or leave cases out are reported.

use crate::body::Body;
use crate::expr::coerce::coerce;
use crate::expr::narrow::{place, with_facts};
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::model::Target;
use crate::ty::Ty;
use weft_syntax::ast::{self};
use weft_syntax::{Diagnostic, Span};

pub fn match_expr(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    scrut: &ast::Expr,
    arms: &[ast::MatchArm],
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    let sv = expr(c, s, scrut, None);
    let key = place(c, s, scrut).map(|(k, _)| k);
    let mut out_arms: Vec<Arm> = Vec::new();
    let mut ty: Option<Ty> = None;
    let push_body = |c: &mut Body<'_, '_>,
                     body: Expr,
                     ty: &mut Option<Ty>,
                     out: &mut Vec<Arm>,
                     pat: Pat,
                     bind: Option<LocalId>| {
        *ty = match ty.take() {
            None => Some(body.ty.clone()),
            Some(t) => match t.join(&body.ty) {
                Some(j) => Some(j),
                None => {
                    let (a, b) = (c.cx.prog.show(&t), c.cx.prog.show(&body.ty));
                    c.cx.err(
                        Diagnostic::error(
                            "E0336",
                            weft_msg::t!("match-types-differ", a = &a, b = &b),
                        )
                        .with_label(
                            body.span,
                            weft_msg::t!("match-types-differ.label", a = &a, b = &b),
                        )
                        .with_help(super::same_type_help(
                            &t,
                            &body.ty,
                            &weft_msg::t!("who-match"),
                        )),
                    );
                    Some(Ty::Error)
                }
            },
        };
        out.push(Arm { pat, bind, body });
    };
    match sv.ty.clone() {
        Ty::Enum(e, set) => {
            let en = c.cx.prog.enums.get(e).cloned();
            let Some(en) = en else {
                return Expr::error(span);
            };
            let mut remaining = set;
            for arm in arms {
                let mut bits = 0u64;
                let mut bind_name: Option<&ast::Ident> = None;
                for p in &arm.patterns {
                    if p.name == "_" {
                        bits |= remaining;
                        continue;
                    }
                    // `Enum.variant` names the scrutinee's enum.
                    let pname = match p.name.split_once('.') {
                        Some((e, v)) if e == en.name => v,
                        Some((e, _)) => {
                            c.cx.err(
                                Diagnostic::error(
                                    "E0303",
                                    format!("`{e}` is not the enum matched here"),
                                )
                                .with_label(p.span, format!("the value matched is a `{}`", en.name))
                                .with_help(format!("write `{}.…` or the variant alone", en.name)),
                            );
                            continue;
                        }
                        None => p.name.as_str(),
                    };
                    match en.variants.iter().position(|v| v.name == pname) {
                        Some(i) => {
                            c.cx.model.refer_to(p.span, Target::Variant(e, i as u32));
                            if set & (1u64 << i) == 0 {
                                c.cx.err(
                                    Diagnostic::error(
                                        "E0356",
                                        format!(
                                            "`{}` cannot be `{}` here",
                                            c.cx.sources.slice(scrut.span),
                                            p.name
                                        ),
                                    )
                                    .with_label(p.span, "excluded earlier")
                                    .with_help("remove this pattern"),
                                );
                            } else if remaining & (1u64 << i) == 0 {
                                c.cx.err(
                                    Diagnostic::error(
                                        "E0357",
                                        format!(
                                            "`{}` is already handled by an earlier arm",
                                            p.name
                                        ),
                                    )
                                    .with_label(p.span, "handled before")
                                    .with_help("remove this pattern"),
                                );
                            }
                            bits |= 1u64 << i;
                        }
                        None if arm.patterns.len() == 1 && !p.name.contains('.') => {
                            bind_name = Some(p);
                            bits |= remaining;
                        }
                        None => {
                            let names: Vec<String> =
                                en.variants.iter().map(|v| v.name.clone()).collect();
                            let sugg =
                                c.cx.suggestions
                                    .closest(&p.name, || names.iter().map(|x| x.as_str()));
                            let mut d = Diagnostic::error(
                                "E0303",
                                format!("`{}` is not a variant of `{}`", p.name, en.name),
                            )
                            .with_label(p.span, "unknown variant");
                            if let Some(sg) = sugg.first() {
                                d = d.with_help(format!("did you mean `{sg}`?"));
                            }
                            c.cx.err(d);
                        }
                    }
                }
                let new_bits = bits & remaining;
                if new_bits == 0
                    && !arm.patterns.iter().any(|p| p.name == "_")
                    && bind_name.is_none()
                {
                    // Already reported per pattern.
                } else if new_bits == 0 {
                    c.cx.err(
                        Diagnostic::error("E0357", "this arm can never be chosen")
                            .with_label(arm.span, "every case is handled above")
                            .with_help("remove the arm"),
                    );
                }
                remaining &= !bits;
                let narrow_set = new_bits;
                let mut facts = Vec::new();
                if let Some(k) = &key {
                    facts.push((k.clone(), narrow_set));
                }
                let bind = bind_name.map(|b| {
                    let l = c.cx.bind_local(b, Ty::Enum(e, narrow_set));
                    (b.name.clone(), l)
                });
                if let Some((n, l)) = &bind {
                    s.locals.push((n.clone(), *l));
                }
                let body = with_facts(s, facts, |s| expr(c, s, &arm.body, expect));
                if bind.is_some() {
                    s.locals.pop();
                }
                push_body(
                    c,
                    body,
                    &mut ty,
                    &mut out_arms,
                    Pat::Variants(new_bits),
                    bind.map(|(_, l)| l),
                );
            }
            if remaining != 0 {
                let missing: Vec<String> = (0..en.variants.len())
                    .filter(|v| remaining & (1u64 << v) != 0)
                    .map(|v| format!("`{}`", en.variants[v].name))
                    .collect();
                c.cx.err(
                    Diagnostic::error(
                        "E0358",
                        format!("this `match` does not decide {}", missing.join(", ")),
                    )
                    .with_label(scrut.span, "not every case is handled")
                    .with_help(format!(
                        "add an arm for {}, or end with `_ => …`",
                        missing.join(", ")
                    )),
                );
            }
        }
        Ty::Bool => {
            let mut remaining = 3u64;
            for arm in arms {
                let mut bits = 0u64;
                for p in &arm.patterns {
                    match p.name.as_str() {
                        "true" => bits |= 2,
                        "false" => bits |= 1,
                        "_" => bits |= remaining,
                        _ => {
                            c.cx.err(
                                Diagnostic::error(
                                    "E0359",
                                    "a true/false value is matched with `true`, `false` or `_`",
                                )
                                .with_label(p.span, "not a pattern of Bool"),
                            );
                        }
                    }
                }
                if bits & remaining == 0 {
                    c.cx.err(
                        Diagnostic::error("E0357", "this arm can never be chosen")
                            .with_label(arm.span, "every case is handled above"),
                    );
                }
                remaining &= !bits;
                let body = expr(c, s, &arm.body, expect);
                let pat = if bits == 3 {
                    Pat::Any
                } else {
                    Pat::Bool(bits == 2)
                };
                push_body(c, body, &mut ty, &mut out_arms, pat, None);
            }
            if remaining != 0 {
                c.cx.err(
                    Diagnostic::error(
                        "E0358",
                        format!(
                            "this `match` does not decide `{}`",
                            if remaining & 2 != 0 { "true" } else { "false" }
                        ),
                    )
                    .with_label(scrut.span, "not every case is handled"),
                );
            }
        }
        Ty::Opt(inner) => {
            let mut has_absent = false;
            let mut has_value = false;
            for arm in arms {
                let mut bind = None;
                let mut pat = Pat::Any;
                if arm.patterns.len() != 1 {
                    c.cx.err(
                        Diagnostic::error(
                            "E0359",
                            "an optional value is matched with `absent` or a name for the value",
                        )
                        .with_label(arm.span, "one pattern per arm"),
                    );
                    continue;
                }
                let p = &arm.patterns[0];
                match p.name.as_str() {
                    "absent" => {
                        if has_absent {
                            c.cx.err(
                                Diagnostic::error("E0357", "`absent` is already handled")
                                    .with_label(p.span, "handled before"),
                            );
                        }
                        has_absent = true;
                        pat = Pat::Absent;
                    }
                    "_" => {
                        has_absent = true;
                        has_value = true;
                    }
                    _ => {
                        if has_value {
                            c.cx.err(
                                Diagnostic::error("E0357", "the present value is already handled")
                                    .with_label(p.span, "handled before"),
                            );
                        }
                        has_value = true;
                        let l = c.cx.bind_local(p, (*inner).clone());
                        bind = Some(l);
                    }
                }
                if let Some(l) = bind {
                    s.locals.push((p.name.clone(), l));
                }
                let body = expr(c, s, &arm.body, expect);
                if bind.is_some() {
                    s.locals.pop();
                }
                push_body(c, body, &mut ty, &mut out_arms, pat, bind);
            }
            if !has_absent || !has_value {
                c.cx.err(
                    Diagnostic::error(
                        "E0358",
                        format!(
                            "this `match` does not decide the case where the value is {}",
                            if has_absent { "present" } else { "absent" }
                        ),
                    )
                    .with_label(scrut.span, "not every case is handled")
                    .with_help("match an optional with `absent => …` and `value => …`"),
                );
            }
        }
        Ty::Error => return Expr::error(span),
        other => {
            let shown = c.cx.prog.show(&other);
            c.cx.err(
                Diagnostic::error(
                    "E0359",
                    format!(
                        "`match` decides on enums, true/false and optional values, not `{shown}`"
                    ),
                )
                .with_label(scrut.span, "cannot match on this")
                .with_help("use `if` or a decision table for numbers and amounts"),
            );
            return Expr::error(span);
        }
    }
    let ty = ty.unwrap_or(Ty::Error);
    let arms = out_arms
        .into_iter()
        .map(|a| Arm {
            body: coerce(a.body, &ty),
            ..a
        })
        .collect();
    Expr::new(ExprKind::Match(bx(sv), arms), ty, span)
}
