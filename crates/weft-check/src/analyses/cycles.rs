//! Dependency cycles among rules, each reported once and named by its
//! rules in order.

use crate::ctx::Ctx;
use crate::hir::*;
use std::collections::HashSet;
use weft_msg::t;
use weft_syntax::{Diagnostic, Span};

/// Report every dependency cycle among rules, naming it.
pub fn cycles(cx: &mut Ctx<'_>, deps: &IdVec<RuleId, Vec<(RuleId, Span)>>) {
    let n = deps.len();
    // Tarjan's strongly connected components, iteratively.
    let mut index: IdVec<RuleId, usize> = vec![usize::MAX; n].into();
    let mut low: IdVec<RuleId, usize> = vec![0usize; n].into();
    let mut on_stack: IdVec<RuleId, bool> = vec![false; n].into();
    let mut stack: Vec<RuleId> = Vec::new();
    let mut next_index = 0usize;
    let mut sccs: Vec<Vec<RuleId>> = Vec::new();
    for root in deps.ids() {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(RuleId, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if *ei == 0 && index[v] == usize::MAX {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            let edges = &deps[v];
            if *ei < edges.len() {
                let w = edges[*ei].0;
                *ei += 1;
                if w.index() >= n {
                    continue;
                }
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = deps[v].iter().any(|(t, _)| *t == v);
                    if comp.len() > 1 || self_loop {
                        sccs.push(comp);
                    }
                }
            }
        }
    }
    let name = |cx: &Ctx<'_>, r: RuleId| {
        cx.prog
            .rules
            .get(r)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    for comp in sccs {
        // Walk the cycle from its first-declared rule.
        let members: HashSet<RuleId> = comp.iter().copied().collect();
        let start = comp.iter().copied().min().unwrap_or_default();
        let mut path = vec![start];
        let mut spans = Vec::new();
        let mut cur = start;
        loop {
            let next = deps[cur]
                .iter()
                .find(|(t, _)| members.contains(t) && (*t == start || !path.contains(t)))
                .or_else(|| deps[cur].iter().find(|(t, _)| members.contains(t)));
            let Some(&(t, sp)) = next else { break };
            spans.push((cur, sp));
            if t == start || path.len() > members.len() {
                path.push(t);
                break;
            }
            path.push(t);
            cur = t;
        }
        let names: Vec<String> = path
            .iter()
            .map(|r| {
                format!(
                    "`{}`",
                    cx.prog
                        .rules
                        .get(*r)
                        .map(|r| r.name.as_str())
                        .unwrap_or("?")
                )
            })
            .collect();
        let first_name = name(cx, start);
        let mut d = Diagnostic::error(
            "E0501",
            t!("cycle", name = &first_name, path = names.join(" → ")),
        );
        if let Some(&(_, sp)) = spans.first() {
            let to = path.get(1).map(|r| name(cx, *r)).unwrap_or_default();
            d = d.with_label(sp, t!("cycle.label", name = &first_name, next = &to));
        }
        for &(r, sp) in spans.iter().skip(1) {
            let from = name(cx, r);
            if sp.file == spans[0].1.file {
                d = d.with_label(sp, t!("cycle-continues", name = &from));
            } else {
                let loc = cx.location(sp);
                d = d.with_note(t!("cycle-continues-note", location = loc, name = &from));
            }
        }
        d = d.with_help(t!("cycle.help"));
        cx.err(d);
        for r in comp {
            if let Some(rd) = cx.prog.rules.get_mut(r) {
                rd.kind = RuleKind::Broken;
            }
        }
    }
}
