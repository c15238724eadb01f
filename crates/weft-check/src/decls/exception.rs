//! Exceptions: conditions under which a rule has another value, with the
//! priorities between them (`over`).

use crate::ModuleSource;
use crate::body::Body;
use crate::ctx::WrongKind;
use crate::expr::Scope;
use crate::expr::coerce::check_against;
use crate::hir::*;
use crate::ids::ModuleId;
use crate::model::Target;
use crate::names::DefKind;
use crate::ty::Ty;
use std::collections::HashMap;
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self, Item};

pub fn exceptions(c: &mut Body<'_, '_>, modules: &[ModuleSource]) {
    // (rule, over-labels, span) per exception, to resolve priorities after.
    let mut pending: Vec<(RuleId, Vec<ast::Ident>)> = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        let module = ModuleId::new(mi);
        for it in &m.ast.items {
            let Item::Exception(x) = it else { continue };
            let wrong = |k: DefKind| {
                Diagnostic::error("E0503", format!("`{}` is not a rule", x.rule.name))
                    .with_label(x.rule.span, format!("this is {}", k.describe()))
                    .with_help("an exception changes the value of a rule")
            };
            let found = c.cx.find(
                module,
                &x.rule,
                "rule",
                DefKind::rule,
                WrongKind::Report(&wrong),
            );
            let Some(rid) = found else {
                continue;
            };
            c.cx.model.extent(Target::Rule(rid), x.span);
            let Some(rd) = c.cx.prog.rules.get(rid) else {
                continue;
            };
            if matches!(rd.kind, RuleKind::Cascade(_) | RuleKind::Scale(_)) {
                c.cx.err(
                    Diagnostic::error(
                        "E0503",
                        format!(
                            "`{}` is a cascade or scale; exceptions apply to rules and tables",
                            x.rule.name
                        ),
                    )
                    .with_label(x.rule.span, "cannot take exceptions"),
                );
                continue;
            }
            let ret = rd.ret.clone();
            let param = rd.param;
            let mut s = Scope {
                module,
                rule: Some(rid),
                ..Scope::default()
            };
            match (param, &x.binder) {
                (Some((l, _)), Some(b)) => s.locals.push((b.name.clone(), l)),
                (Some((l, _)), None) => {
                    let name =
                        c.cx.prog
                            .locals
                            .get(l)
                            .map(|x| x.name.clone())
                            .unwrap_or_default();
                    c.cx.err(
                        Diagnostic::error(
                            "E0504",
                            format!("`{}` is defined for a record; name it", x.rule.name),
                        )
                        .with_label(x.rule.span, "missing the record's name")
                        .with_help(format!("write `for {}({name})`", x.rule.name)),
                    );
                    continue;
                }
                (None, Some(b)) => {
                    c.cx.err(
                        Diagnostic::error("E0504", format!("`{}` takes no record", x.rule.name))
                            .with_label(b.span, "remove this name")
                            .with_help(format!("write `for {}()`", x.rule.name)),
                    );
                    continue;
                }
                (None, None) => {}
            }
            if c.cx
                .prog
                .rules
                .get(rid)
                .is_some_and(|r| r.exceptions.iter().any(|e| e.label == x.label.name))
            {
                c.cx.err(
                    Diagnostic::error(
                        "E0505",
                        format!(
                            "`{}` already has an exception labelled `{}`",
                            x.rule.name, x.label.name
                        ),
                    )
                    .with_label(x.label.span, "repeated label"),
                );
                continue;
            }
            let cond = check_against(c, &mut s, &x.cond, &Ty::Bool, "the exception's condition");
            let value = check_against(c, &mut s, &x.value, &ret, "the exception's value");
            if let Some(r) = c.cx.prog.rules.get_mut(rid) {
                r.exceptions.push(ExceptionDef {
                    label: x.label.name.clone(),
                    module,
                    doc: x.doc.clone(),
                    source: x.source.clone(),
                    cond,
                    value,
                    over: Vec::new(),
                    span: x.label.span,
                });
                pending.push((rid, x.over.clone()));
            }
        }
    }
    // Priorities, now that every label is known.
    let mut counters: HashMap<RuleId, usize> = HashMap::new();
    for (rid, over) in pending {
        let idx = {
            let n = counters.entry(rid).or_insert(0);
            let i = *n;
            *n += 1;
            i
        };
        let labels: Vec<String> =
            c.cx.prog
                .rules
                .get(rid)
                .map(|r| r.exceptions.iter().map(|e| e.label.clone()).collect())
                .unwrap_or_default();
        let mut resolved = Vec::new();
        for o in over {
            match labels.iter().position(|l| *l == o.name) {
                Some(j) if j != idx => resolved.push(j),
                Some(_) => c.cx.err(
                    Diagnostic::error("E0506", "an exception cannot take priority over itself")
                        .with_label(o.span, "its own label"),
                ),
                None => {
                    let sugg =
                        c.cx.suggestions
                            .closest(&o.name, || labels.iter().map(|s| s.as_str()));
                    let mut d = Diagnostic::error(
                        "E0506",
                        format!("no exception of this rule is labelled `{}`", o.name),
                    )
                    .with_label(o.span, "unknown label");
                    if let Some(s) = sugg.first() {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    c.cx.err(d);
                }
            }
        }
        if let Some(e) =
            c.cx.prog
                .rules
                .get_mut(rid)
                .and_then(|r| r.exceptions.get_mut(idx))
        {
            e.over = resolved;
        }
    }
    // Priority cycles.
    for rid in c.cx.prog.rules.ids() {
        let n = c.cx.prog.rules[rid].exceptions.len();
        for start in 0..n {
            // Is `start` reachable from itself?
            let mut stack: Vec<usize> = c.cx.prog.rules[rid].exceptions[start].over.clone();
            let mut seen = vec![false; n];
            let mut cyclic = false;
            while let Some(x) = stack.pop() {
                if x == start {
                    cyclic = true;
                    break;
                }
                if x < n && !seen[x] {
                    seen[x] = true;
                    stack.extend(c.cx.prog.rules[rid].exceptions[x].over.iter().copied());
                }
            }
            if cyclic {
                let e = &c.cx.prog.rules[rid].exceptions[start];
                let d = Diagnostic::error(
                    "E0507",
                    format!(
                        "the priorities of `{}`'s exceptions go round in a circle",
                        c.cx.prog.rules[rid].name
                    ),
                )
                .with_label(
                    e.span,
                    format!("`{}` is, through others, over itself", e.label),
                )
                .with_help("remove one `over` so that priorities run one way");
                c.cx.err(d);
                break;
            }
        }
    }
}
