//! Which instances are memoised, and which are inlined at their calls.
//!
//! The interpreter memoises every `(instance, row)`. Memoisation matters
//! for the meaning only where an instance could be entered again while it
//! is being evaluated (a cycle: "a rule depends on itself"); elsewhere it
//! only saves work, because an evaluation has no effect but its value or
//! its error, and evaluating an instance again for the same row gives the
//! same value or the same error (kind, instance, row and sentence). So the
//! JIT memoises an instance only where that saves work:
//!
//! - an instance on a cycle of the call graph is always memoised (its
//!   state byte finds the cycle exactly as the interpreter does);
//! - an instance with at most one call site that evaluates it for the
//!   caller's own row (`f(p)` in a rule of `p`, not inside an aggregation)
//!   is evaluated at most once per row of its record anyway: it is not
//!   memoised;
//! - a cheap instance (a few field reads, parameters and operators, no
//!   call, no aggregation) costs less to evaluate again than a memo check:
//!   it is not memoised.
//!
//! Every other instance is memoised. A call of an instance that is not
//! memoised generates the callee's body in the caller, in a frame of its
//! own (its slots, and its instance and row for errors), unless the
//! expansion would be too large or too deep; then the callee is memoised
//! and called.

use weft_ir::bind::Bound;
use weft_ir::{AggKind, ArithOp, Builtin, InstId, Ir, Node, NodeId, TextRef};

/// A callee whose own body costs at most this much is cheap.
const CHEAP: u32 = 8;
/// Largest expansion (nodes, inlined callees included) generated inline.
const MAX_INLINE_NODES: usize = 600;
/// Deepest expansion (nesting, inlined callees included) generated inline.
const MAX_INLINE_DEPTH: usize = 2_000;

/// The children of a node, each with whether it is evaluated once per
/// member of an aggregation (its body and filter).
fn children(node: &Node, out: &mut Vec<(NodeId, bool)>) {
    out.clear();
    match node {
        Node::Const(_) | Node::Local(_) | Node::AsOf | Node::CtxDate(_) => {}
        Node::BandsInfo(..) | Node::Fail(_) => {}
        Node::Field { rec, .. } | Node::FieldIsSet { rec, .. } => out.push((*rec, false)),
        Node::Call { rec, .. } => out.extend(rec.iter().map(|r| (*r, false))),
        Node::Param { keys, .. } => out.extend(keys.iter().map(|k| (*k, false))),
        Node::Neg(a) | Node::Not(a) => out.push((*a, false)),
        Node::Arith(_, a, b) | Node::Cmp(_, a, b) | Node::And(a, b) | Node::Or(a, b) => {
            out.push((*a, false));
            out.push((*b, false));
        }
        Node::TextEq(a, b) => {
            for t in [a, b] {
                if let TextRef::Field { rec, .. } = t {
                    out.push((*rec, false));
                }
            }
        }
        Node::If(c, a, b) => out.extend([(*c, false), (*a, false), (*b, false)]),
        Node::Let { value, body, .. } => out.extend([(*value, false), (*body, false)]),
        Node::Switch { scrut, arms, .. } => {
            out.push((*scrut, false));
            out.extend(arms.iter().map(|(_, a)| (*a, false)));
        }
        Node::Agg {
            group,
            body,
            filter,
            ..
        } => {
            out.push((*group, false));
            out.extend(filter.iter().map(|f| (*f, true)));
            out.extend(body.iter().map(|b| (*b, true)));
        }
        Node::Builtin(_, xs) => out.extend(xs.iter().map(|x| (*x, false))),
        Node::Marginal {
            amount,
            bands,
            adjust,
            ..
        } => {
            out.push((*amount, false));
            out.extend(adjust.iter().map(|a| (*a, false)));
            if let weft_ir::BandsSrc::Rows(rows) = bands {
                out.extend(rows.iter().map(|(_, _, r)| (*r, false)));
            }
        }
    }
}

/// The cost of a node itself (its children excluded), for "cheap".
fn cost(node: &Node) -> u32 {
    match node {
        Node::Const(_) | Node::Local(_) | Node::AsOf | Node::CtxDate(_) => 0,
        Node::Field { .. } | Node::FieldIsSet { .. } => 2,
        Node::Param { .. } => 3,
        Node::Neg(_) | Node::Not(_) | Node::Cmp(..) | Node::And(..) | Node::Or(..) => 1,
        Node::If(..) | Node::Let { .. } | Node::Switch { .. } | Node::Fail(_) => 1,
        Node::Arith(op, ..) => match op {
            ArithOp::Add | ArithOp::Sub | ArithOp::Mul | ArithOp::SubDates => 1,
            ArithOp::MulRound { .. } | ArithOp::DivRound { .. } => 4,
            ArithOp::AddDays | ArithOp::AddMonths { .. } => 20,
        },
        Node::Builtin(b, _) => match b {
            Builtin::RoundTo(_) => 4,
            Builtin::YearsBetween
            | Builtin::MonthsBetween
            | Builtin::Year
            | Builtin::Month
            | Builtin::Day => 20,
            _ => 1,
        },
        Node::Agg {
            kind: AggKind::Count,
            body: None,
            filter: None,
            ..
        } => 3,
        Node::Call { .. }
        | Node::Agg { .. }
        | Node::Marginal { .. }
        | Node::TextEq(..)
        | Node::BandsInfo(..) => 1_000,
    }
}

/// What one instance's body contains.
#[derive(Debug, Default, Clone)]
struct Facts {
    /// Calls: callee, whether for the caller's own row, whether inside an
    /// aggregation's body or filter.
    calls: Vec<(InstId, bool, bool)>,
    nodes: usize,
    depth: usize,
    cost: u32,
    /// Whether the body writes slot 0 (then `Local(0)` is not always the
    /// row).
    writes_row: bool,
}

fn facts(ir: &Ir, inst: InstId, body: NodeId) -> Facts {
    let def = ir.inst(inst);
    let entity = def.and_then(|d| d.entity);
    let mut f = Facts::default();
    let mut writes_row = false;
    let mut calls = Vec::new();
    let mut stack: Vec<(NodeId, usize, bool)> = vec![(body, 1, false)];
    let mut kids = Vec::new();
    while let Some((n, depth, in_agg)) = stack.pop() {
        f.nodes += 1;
        f.depth = f.depth.max(depth);
        let Some(node) = ir.node(n) else { continue };
        f.cost = f.cost.saturating_add(cost(node));
        match node {
            Node::Let { slot: 0, .. }
            | Node::Switch { slot: 0, .. }
            | Node::Agg { slot: 0, .. } => writes_row = true,
            Node::Call { inst: callee, rec } => {
                let own_row = entity.is_some()
                    && ir.inst(*callee).and_then(|d| d.entity) == entity
                    && matches!(rec.and_then(|r| ir.node(r)), Some(Node::Local(0)));
                let global = entity.is_none()
                    && rec.is_none()
                    && ir.inst(*callee).is_some_and(|d| d.entity.is_none());
                calls.push((*callee, own_row || global, in_agg));
            }
            _ => {}
        }
        children(node, &mut kids);
        for (k, per_member) in kids.iter().rev() {
            stack.push((*k, depth + 1, in_agg || *per_member));
        }
    }
    if writes_row {
        for c in &mut calls {
            c.1 = false;
        }
    }
    f.calls = calls;
    f.writes_row = writes_row;
    f
}

/// The decisions for a bound program.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    /// Per instance: whether it is memoised (calls of a compiled instance
    /// that is not are generated inline).
    pub memoised: Vec<bool>,
    /// Per compiled instance: whether its body never writes slot 0.
    pub row_stable: Vec<bool>,
    /// Per instance: whether it is on a cycle of calls (only such an
    /// instance can be entered again while it is being evaluated).
    pub on_cycle: Vec<bool>,
}

/// Decide, for every compiled instance, whether it is memoised.
pub(crate) fn shape(ir: &Ir, bound: &Bound) -> Shape {
    let n = ir.instances.len();
    let compiled = |i: usize| bound.body.get(i).copied().flatten();
    let mut fs: Vec<Option<Facts>> = vec![None; n];
    for (i, f) in fs.iter_mut().enumerate() {
        if let Some(body) = compiled(i) {
            *f = Some(facts(ir, i as InstId, body));
        }
    }
    // Call sites per callee.
    let mut sites: Vec<Vec<(bool, bool)>> = vec![Vec::new(); n];
    for f in fs.iter().flatten() {
        for (c, own, in_agg) in &f.calls {
            if let Some(s) = sites.get_mut(*c as usize) {
                s.push((*own, *in_agg));
            }
        }
    }
    let on_cycle = cycles(n, &fs);
    let mut memo = vec![false; n];
    for i in 0..n {
        let Some(f) = &fs[i] else { continue };
        let once = match sites[i].as_slice() {
            [] => true,
            [(own, in_agg)] => *own && !*in_agg,
            _ => false,
        };
        memo[i] = on_cycle[i] || !(once || f.cost <= CHEAP);
    }
    // Bound the expansion: callees before callers (the graph of calls
    // between instances that are not memoised has no cycle).
    let order = postorder(n, &fs, &memo);
    let mut size = vec![0usize; n];
    let mut depth = vec![0usize; n];
    for i in order {
        let Some(f) = &fs[i] else { continue };
        let mut s = f.nodes;
        let mut d = f.depth;
        for (c, _, _) in &f.calls {
            let c = *c as usize;
            if fs.get(c).is_some_and(|x| x.is_some()) && !memo[c] {
                s = s.saturating_add(size[c]);
                d = d.max(f.depth.saturating_add(depth[c]));
            }
        }
        if s > MAX_INLINE_NODES || d > MAX_INLINE_DEPTH {
            memo[i] = true;
        }
        size[i] = s;
        depth[i] = d;
    }
    let row_stable = fs
        .iter()
        .map(|f| f.as_ref().is_some_and(|f| !f.writes_row))
        .collect();
    Shape {
        memoised: memo,
        row_stable,
        on_cycle,
    }
}

/// Instances on a cycle of calls (Tarjan's strongly connected components,
/// iteratively).
fn cycles(n: usize, fs: &[Option<Facts>]) -> Vec<bool> {
    let succ = |v: usize| -> Vec<usize> {
        fs[v]
            .as_ref()
            .map(|f| {
                f.calls
                    .iter()
                    .map(|c| c.0 as usize)
                    .filter(|c| fs.get(*c).is_some_and(|x| x.is_some()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = vec![false; n];
    let mut next = 0usize;
    for root in 0..n {
        if fs[root].is_none() || index[root] != usize::MAX {
            continue;
        }
        // (vertex, its successors, next successor to visit)
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(root, succ(root), 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((v, ss, k)) = work.last_mut() {
            let v = *v;
            if let Some(&w) = ss.get(*k) {
                *k += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    let sw = succ(w);
                    work.push((w, sw, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some((u, _, _)) = work.last() {
                low[*u] = low[*u].min(low[v]);
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
                let self_loop = succ(v).contains(&v);
                if comp.len() > 1 || self_loop {
                    for w in comp {
                        out[w] = true;
                    }
                }
            }
        }
    }
    out
}

/// Compiled instances with every callee that is not memoised before its
/// callers.
fn postorder(n: usize, fs: &[Option<Facts>], memo: &[bool]) -> Vec<usize> {
    let mut seen = vec![false; n];
    let mut out = Vec::with_capacity(n);
    for root in 0..n {
        if fs[root].is_none() || seen[root] {
            continue;
        }
        seen[root] = true;
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((v, k)) = work.last_mut() {
            let v = *v;
            let calls = fs[v].as_ref().map(|f| f.calls.as_slice()).unwrap_or(&[]);
            if let Some((c, _, _)) = calls.get(*k) {
                *k += 1;
                let c = *c as usize;
                if c < n && fs[c].is_some() && !memo[c] && !seen[c] {
                    seen[c] = true;
                    work.push((c, 0));
                }
                continue;
            }
            work.pop();
            out.push(v);
        }
    }
    out
}
