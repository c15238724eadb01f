//! Names, fields, enum variants and indexing of parameters: each name is
//! resolved in the scope (locals, the fields of a checked record, the
//! records of a test, then the module's declarations) and recorded for the
//! semantic model.

use crate::body::Body;
use crate::ctx::Resolved;
use crate::expr::coerce::require;
use crate::expr::narrow::{field_ty, narrow_ty, place};
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::model::Target;
use crate::names::DefKind;
use crate::ty::{RecordId, Ty, full_set};
use weft_msg::t;
use weft_syntax::ast::{self, ExprKind as A};
use weft_syntax::{Diagnostic, Span};

pub fn add_dep(c: &mut Body<'_, '_>, s: &Scope, target: RuleId, span: Span) {
    if let Some(r) = s.rule
        && let Some(d) = c.deps.get_mut(r)
        && !d.iter().any(|(t, _)| *t == target)
    {
        d.push((target, span));
    }
}

/// A variant named `name`: in the expected enum first, else in the one
/// enum that has it.
pub fn variant(c: &mut Body<'_, '_>, id: &ast::Ident, expect: Option<&Ty>) -> Option<Expr> {
    if let Some(Ty::Enum(e, _)) = expect
        && let Some(i) =
            c.cx.prog
                .enums
                .get(*e)
                .and_then(|en| en.variants.iter().position(|v| v.name == id.name))
    {
        c.cx.model.refer_to(id.span, Target::Variant(*e, i as u32));
        return Some(Expr::new(
            ExprKind::Const(i as i64),
            Ty::Enum(*e, 1u64 << i),
            id.span,
        ));
    }
    let hits: Vec<(EnumId, usize)> =
        c.cx.prog
            .enums
            .iter_enumerated()
            .filter_map(|(ei, en)| {
                en.variants
                    .iter()
                    .position(|v| v.name == id.name)
                    .map(|vi| (ei, vi))
            })
            .collect();
    match hits.as_slice() {
        [] => None,
        [(e, i)] => {
            c.cx.model.refer_to(id.span, Target::Variant(*e, *i as u32));
            Some(Expr::new(
                ExprKind::Const(*i as i64),
                Ty::Enum(*e, 1u64 << i),
                id.span,
            ))
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(e, _)| c.cx.prog.enums[*e].name.clone())
                .collect();
            c.cx.err(
                Diagnostic::error(
                    "E0302",
                    format!(
                        "`{}` is a variant of several enums: {}",
                        id.name,
                        names.join(", ")
                    ),
                )
                .with_label(id.span, "which one?")
                .with_help(format!("write `{}.{}`", names[0], id.name)),
            );
            Some(Expr::error(id.span))
        }
    }
}

pub fn name(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    id: &ast::Ident,
    expect: Option<&Ty>,
    whole: &ast::Expr,
) -> Expr {
    let span = id.span;
    if let Some(l) = s.local(&id.name) {
        let ty =
            c.cx.prog
                .locals
                .get(l)
                .map(|x| x.ty.clone())
                .unwrap_or(Ty::Error);
        let ty = match place(c, s, whole) {
            Some((k, _)) => narrow_ty(s, &k, ty),
            None => ty,
        };
        c.cx.model.refer_to(span, Target::Local(l));
        return Expr::new(ExprKind::Local(l), ty, span);
    }
    if let Some((rec_id, self_l)) = s.fields_of
        && let Some((fid, fd)) =
            c.cx.prog
                .records
                .get(rec_id)
                .and_then(|r| r.field(&id.name))
    {
        let ty = field_ty(fd);
        let ty = match place(c, s, whole) {
            Some((k, _)) => narrow_ty(s, &k, ty),
            None => ty,
        };
        c.cx.model.refer_to(span, Target::Field(rec_id, fid));
        let rec = Expr::new(ExprKind::Local(self_l), Ty::Record(rec_id), span);
        return Expr::new(ExprKind::Field(bx(rec), rec_id, fid), ty, span);
    }
    if let Some(test) = &s.test
        && let Some((idx, rec_id)) = test.get(&id.name)
    {
        return Expr::new(ExprKind::TestRecord(*idx), Ty::Record(*rec_id), span);
    }
    // An expected enum's variant wins over a global of the same name.
    if let Some(Ty::Enum(e, _)) = expect
        && c.cx
            .prog
            .enums
            .get(*e)
            .map(|en| en.variants.iter().any(|v| v.name == id.name))
            .unwrap_or(false)
        && let Some(v) = variant(c, id, expect)
    {
        return v;
    }
    match c.cx.lookup(s.module, id) {
        Resolved::Found(kind) => match kind {
            DefKind::Rule(r) => {
                let Some(rd) = c.cx.prog.rules.get(r).cloned() else {
                    return Expr::error(span);
                };
                if let Some((_, rec)) = rd.param {
                    let rn =
                        c.cx.prog
                            .records
                            .get(rec)
                            .map(|x| x.name.clone())
                            .unwrap_or_default();
                    c.cx.err(
                        Diagnostic::error(
                            "E0337",
                            format!("`{}` is a rule of a `{rn}`: say which one", id.name),
                        )
                        .with_label(span, "missing its record")
                        .with_help(format!("write `{}(…)` with a `{rn}`", id.name)),
                    );
                    return Expr::error(span);
                }
                if matches!(rd.kind, RuleKind::Scale(_)) || c.sigs.scale_params.contains_key(&r) {
                    c.cx.err(
                        Diagnostic::error(
                            "E0337",
                            format!("the scale `{}` needs its amount", id.name),
                        )
                        .with_label(span, "missing arguments")
                        .with_help(format!("write `{}(amount, …)`", id.name)),
                    );
                    return Expr::error(span);
                }
                add_dep(c, s, r, span);
                let ret = rd.ret.clone();
                Expr::new(ExprKind::Rule(r, None), ret, span)
            }
            DefKind::Param(p) => {
                let Some(pd) = c.cx.prog.params.get(p) else {
                    return Expr::error(span);
                };
                if !pd.keys.is_empty() {
                    let keys: Vec<String> = pd
                        .keys
                        .iter()
                        .map(|(e, _)| {
                            c.cx.prog
                                .enums
                                .get(*e)
                                .map(|x| x.name.clone())
                                .unwrap_or_default()
                        })
                        .collect();
                    c.cx.err(
                        Diagnostic::error(
                            "E0338",
                            format!(
                                "`{}` holds one value per {}: say which",
                                id.name,
                                keys.join(" and ")
                            ),
                        )
                        .with_label(span, "missing its keys")
                        .with_help(format!("write `{}[…]`", id.name)),
                    );
                    return Expr::error(span);
                }
                let ty = pd.ty.clone();
                Expr::new(ExprKind::Param(p, vec![]), ty, span)
            }
            other => {
                let what = other.describe();
                let help = match other {
                    DefKind::Enum(_) => {
                        format!("write one of its variants, e.g. `{}.…`", id.name)
                    }
                    DefKind::Record(_) => "records are the input of rules, not values".to_string(),
                    _ => "use a rule or a parameter here".to_string(),
                };
                c.cx.err(
                    Diagnostic::error("E0339", format!("`{}` is {what}, not a value", id.name))
                        .with_label(span, "not a value")
                        .with_help(help),
                );
                Expr::error(span)
            }
        },
        Resolved::NotImported => {
            c.cx.unknown_name(s.module, id, "value");
            Expr::error(span)
        }
        Resolved::Unknown => {
            if let Some(v) = variant(c, id, expect) {
                return v;
            }
            // Suggest locals too.
            let (names, prog) = (&c.cx.names, &c.cx.prog);
            let sugg = c.cx.suggestions.closest(&id.name, || {
                let mut cands: Vec<&str> = s.locals.iter().map(|(n, _)| n.as_str()).collect();
                cands.extend(names.visible_names(s.module));
                if let Some((rec_id, _)) = s.fields_of {
                    cands.extend(prog.records[rec_id].fields.iter().map(|f| f.name.as_str()));
                }
                if let Some(Ty::Enum(e, _)) = expect {
                    cands.extend(prog.enums[*e].variants.iter().map(|v| v.name.as_str()));
                }
                cands
            });
            let mut d =
                Diagnostic::error("E0203", format!("there is no value named `{}`", id.name))
                    .with_label(span, "unknown name");
            if let Some(sg) = sugg.first() {
                d = d.with_help(format!("did you mean `{sg}`?"));
            }
            c.cx.err(d);
            Expr::error(span)
        }
    }
}

pub fn field(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    base: &ast::Expr,
    f: &ast::Ident,
    whole: &ast::Expr,
) -> Expr {
    let span = whole.span;
    // `Enum.variant`
    if let A::Name(en) = &base.kind
        && s.local(&en.name).is_none()
        && let Resolved::Found(DefKind::Enum(e)) = c.cx.lookup(s.module, en)
    {
        let ed = &c.cx.prog.enums[e];
        return match ed.variants.iter().position(|v| v.name == f.name) {
            Some(i) => {
                c.cx.model.refer_to(f.span, Target::Variant(e, i as u32));
                Expr::new(ExprKind::Const(i as i64), Ty::Enum(e, 1u64 << i), span)
            }
            None => {
                let names: Vec<String> = ed.variants.iter().map(|v| v.name.clone()).collect();
                let ename = ed.name.clone();
                let sugg =
                    c.cx.suggestions
                        .closest(&f.name, || names.iter().map(|x| x.as_str()));
                let mut d = Diagnostic::error(
                    "E0303",
                    format!("`{}` is not a variant of `{ename}`", f.name),
                )
                .with_label(f.span, "unknown variant");
                d = match sugg.first() {
                    Some(sg) => d.with_help(format!("did you mean `{sg}`?")),
                    None => d.with_help(format!("the variants are {}", names.join(", "))),
                };
                c.cx.err(d);
                Expr::error(span)
            }
        };
    }
    let b = expr(c, s, base, None);
    match b.ty.clone() {
        Ty::Record(rec_id) => {
            if s.no_records {
                c.cx.err(
                    Diagnostic::error("E0340", "records have no meaning here")
                        .with_label(span, "a record's field"),
                );
                return Expr::error(span);
            }
            let Some((fid, fd)) = c.cx.prog.records.get(rec_id).and_then(|r| r.field(&f.name))
            else {
                unknown_field(c, rec_id, f, FieldUse::Access);
                return Expr::error(span);
            };
            let ty = field_ty(fd);
            c.cx.model.refer_to(f.span, Target::Field(rec_id, fid));
            let ty = match place(c, s, whole) {
                Some((k, _)) => narrow_ty(s, &k, ty),
                None => ty,
            };
            Expr::new(ExprKind::Field(bx(b), rec_id, fid), ty, span)
        }
        Ty::Cascade(cid) => {
            let (steps, rem): (Vec<String>, String) =
                match c.cx.prog.rules.get(cid).map(|r| &r.kind) {
                    Some(RuleKind::Cascade(cd)) => (
                        cd.steps.iter().map(|s| s.name.clone()).collect(),
                        cd.remainder.clone(),
                    ),
                    _ => return Expr::error(span),
                };
            let idx = if f.name == rem {
                Some(steps.len())
            } else {
                steps.iter().position(|x| *x == f.name)
            };
            let ty =
                c.cx.prog
                    .rules
                    .get(cid)
                    .map(|r| r.ret.clone())
                    .unwrap_or(Ty::Error);
            match idx {
                Some(i) => {
                    let arg = match b.kind {
                        ExprKind::Rule(_, a) => a,
                        _ => None,
                    };
                    Expr::new(ExprKind::CascadePart(cid, i, arg), ty, span)
                }
                None => {
                    let mut all = steps.clone();
                    all.push(rem);
                    let sugg =
                        c.cx.suggestions
                            .closest(&f.name, || all.iter().map(|x| x.as_str()));
                    let cname = c.cx.prog.rules[cid].name.clone();
                    let mut d = Diagnostic::error(
                        "E0341",
                        format!("the cascade `{cname}` has no part `{}`", f.name),
                    )
                    .with_label(f.span, "unknown part");
                    d = match sugg.first() {
                        Some(sg) => d.with_help(format!("did you mean `{sg}`?")),
                        None => d.with_help(format!("its parts are {}", all.join(", "))),
                    };
                    c.cx.err(d);
                    Expr::error(span)
                }
            }
        }
        Ty::Error => Expr::error(span),
        other => {
            let shown = c.cx.prog.show(&other);
            c.cx.err(
                Diagnostic::error("E0342", format!("a `{shown}` has no fields"))
                    .with_label(f.span, format!("`.{}` on a `{shown}`", f.name))
                    .with_help("only records and cascades have parts reached with `.`"),
            );
            Expr::error(span)
        }
    }
}

pub fn index(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    base: &ast::Expr,
    idx: &[ast::Expr],
    span: Span,
) -> Expr {
    let A::Name(pn) = &base.kind else {
        c.cx.err(
            Diagnostic::error("E0343", "only a parameter can be indexed")
                .with_label(base.span, "not a parameter name")
                .with_help("write `parameter[key]`"),
        );
        return Expr::error(span);
    };
    let pid = match c.cx.lookup(s.module, pn) {
        Resolved::Found(DefKind::Param(p)) => p,
        Resolved::Found(kind) => {
            let what = kind.describe();
            c.cx.err(
                Diagnostic::error(
                    "E0343",
                    format!("`{}` is {what}; only a parameter can be indexed", pn.name),
                )
                .with_label(pn.span, "not a parameter"),
            );
            return Expr::error(span);
        }
        _ => {
            if s.local(&pn.name).is_some() {
                c.cx.err(
                    Diagnostic::error("E0343", "only a parameter can be indexed")
                        .with_label(pn.span, "a local value"),
                );
            } else {
                c.cx.unknown_name(s.module, pn, "parameter");
            }
            return Expr::error(span);
        }
    };
    let pd = c.cx.prog.params[pid].clone();
    if pd.ty.is_error() {
        // Its declaration failed and was reported.
        return Expr::error(span);
    }
    if pd.keys.len() != idx.len() {
        let msg = if pd.keys.is_empty() {
            format!("`{}` has a single value and no keys", pn.name)
        } else {
            format!(
                "`{}` takes {} key(s), not {}",
                pn.name,
                pd.keys.len(),
                idx.len()
            )
        };
        c.cx.err(Diagnostic::error("E0344", msg).with_label(span, "wrong number of keys"));
        return Expr::error(span);
    }
    let mut keys = Vec::new();
    for ((e, set), k) in pd.keys.iter().zip(idx) {
        let n =
            c.cx.prog
                .enums
                .get(*e)
                .map(|x| x.variants.len())
                .unwrap_or(0);
        let want_any = Ty::Enum(*e, full_set(n));
        let kv = expr(c, s, k, Some(&Ty::Enum(*e, *set)));
        match &kv.ty {
            Ty::Enum(ke, kset) if ke == e => {
                let outside = kset & !set;
                if outside != 0 {
                    let v = outside.trailing_zeros() as usize;
                    let vname = c.cx.prog.enums[*e]
                        .variants
                        .get(v)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    c.cx.err(
                        Diagnostic::error("E0345", format!("`{}` has no value for `{vname}`, which this key may be", pn.name))
                            .with_label(k.span, format!("may be `{vname}`"))
                            .with_help(format!("decide the `{vname}` case first, e.g. `match … {{ {vname} => …, other => {}[other] }}`", pn.name)),
                    );
                }
                keys.push(kv);
            }
            Ty::Error => keys.push(kv),
            _ => {
                keys.push(require(c, kv, &want_any, "the key"));
            }
        }
    }
    let ty = pd.ty.clone();
    Expr::new(ExprKind::Param(pid, keys), ty, span)
}

/// Where a field name was written, for the help of [`unknown_field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldUse {
    /// `p.name` in an expression.
    Access,
    /// `Person A { name: … }` in a test.
    Test,
    /// `defaults Person { name: … }`.
    Defaults,
}

pub fn unknown_field(c: &mut Body<'_, '_>, rec_id: RecordId, name: &ast::Ident, used: FieldUse) {
    let rec = &c.cx.prog.records[rec_id];
    // A rule of this record with that name: a computed value, not a field.
    let rule =
        c.cx.prog
            .rule_by_name(&name.name)
            .filter(|r| c.cx.prog.rules[*r].param.map(|(_, of)| of) == Some(rec_id));
    let sugg =
        c.cx.suggestions
            .closest(&name.name, || rec.fields.iter().map(|f| f.name.as_str()));
    let mut d = Diagnostic::error(
        "E0304",
        t!("no-field", record = &rec.name, field = &name.name),
    );
    let n = &name.name;
    d = match (rule, used) {
        (Some(_), FieldUse::Test | FieldUse::Defaults) => d
            .with_label(name.span, t!("field-is-rule-test", name = n))
            .with_help(t!("field-is-rule-test.help", name = n)),
        (Some(_), FieldUse::Access) => d
            .with_label(name.span, t!("field-is-rule", name = n))
            .with_help(t!("field-is-rule.help", name = n)),
        (None, _) => {
            d = d.with_label(name.span, t!("no-field.label"));
            match sugg.first() {
                Some(s) => d.with_help(t!("did-you-mean", name = s)),
                None => d,
            }
        }
    };
    c.cx.err(d);
}
