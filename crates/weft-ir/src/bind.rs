//! Binding: fixing the evaluation date.
//!
//! [`bind`] resolves every context to a date, chooses each reachable
//! instance's formula version, and resolves every parameter used by a
//! reachable instance to the version in force on its context's date. A
//! parameter with no version in force (or a series without a value for the
//! month) is an error for the whole run, naming the parameter and the date.

use crate::*;
use weft_check::hir::{Band, PVal};
use weft_syntax::num;

/// A parameter resolved for one context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundParam {
    /// One value per key combination (dense, see [`BoundParam::index`]).
    pub values: Vec<i64>,
    /// For each key: variant index → rank in the key set (−1 if excluded).
    pub ranks: Vec<Vec<i32>>,
    /// For each key: the number of variants in its key set.
    pub sizes: Vec<usize>,
    /// For bands parameters.
    pub bands: Vec<Band>,
    /// The effective date of the version used.
    pub effective: i32,
}

impl BoundParam {
    /// The dense index of a key combination, or `None` if a key is outside
    /// the key set.
    pub fn index(&self, keys: &[i64]) -> Option<usize> {
        let mut idx = 0usize;
        for ((k, ranks), size) in keys.iter().zip(&self.ranks).zip(&self.sizes) {
            let r = *ranks.get(usize::try_from(*k).ok()?)?;
            if r < 0 {
                return None;
            }
            idx = idx * size + r as usize;
        }
        Some(idx)
    }
}

#[derive(Debug, Clone)]
pub struct Bound {
    pub as_of: i32,
    pub ctx_dates: Vec<i32>,
    /// Per instance: the body in force, if the instance is reachable.
    pub body: Vec<Option<NodeId>>,
    /// Per parameter reference: its resolved value, if reachable.
    pub params: Vec<Option<BoundParam>>,
}

/// A whole-run error: a parameter with no value in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    pub param: String,
    pub date: i32,
    pub series: bool,
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.series {
            write!(
                f,
                "the series `{}` has no value for {}",
                self.param,
                num::format_month(self.date)
            )
        } else {
            write!(
                f,
                "no version of `{}` is in force on {}",
                self.param,
                num::format_date(self.date)
            )
        }
    }
}

fn ctx_date(ir: &Ir, as_of: i32, c: CtxId, depth: usize) -> i32 {
    if depth > 64 {
        return as_of;
    }
    match ir.contexts.get(c as usize) {
        Some(Ctx::AsOf) | None => as_of,
        Some(Ctx::Fixed(d)) => *d,
        Some(Ctx::PriorYear(p)) => num::prior_year_end(ctx_date(ir, as_of, *p, depth + 1)),
    }
}

/// Instances reachable from `roots` through calls (in every version).
pub fn reachable(ir: &Ir, roots: &[InstId]) -> Vec<bool> {
    let mut seen = vec![false; ir.instances.len()];
    let mut stack: Vec<InstId> = roots.to_vec();
    let mut nodes: Vec<NodeId> = Vec::new();
    while let Some(i) = stack.pop() {
        let Some(s) = seen.get_mut(i as usize) else {
            continue;
        };
        if *s {
            continue;
        }
        *s = true;
        let Some(inst) = ir.inst(i) else { continue };
        nodes.extend(inst.versions.iter().map(|(_, b)| *b));
        while let Some(n) = nodes.pop() {
            let Some(node) = ir.node(n) else { continue };
            if let Node::Call { inst, .. } = node {
                stack.push(*inst);
            }
            children(node, &mut nodes);
        }
    }
    seen
}

/// Push the direct children of a node.
pub fn children(node: &Node, out: &mut Vec<NodeId>) {
    match node {
        Node::Const(_)
        | Node::Local(_)
        | Node::AsOf
        | Node::CtxDate(_)
        | Node::Fail(_)
        | Node::BandsInfo(..) => {}
        Node::Field { rec, .. } | Node::FieldIsSet { rec, .. } => out.push(*rec),
        Node::Call { rec, .. } => out.extend(rec.iter().copied()),
        Node::Param { keys, .. } => out.extend(keys.iter().copied()),
        Node::Neg(a) | Node::Not(a) => out.push(*a),
        Node::Arith(_, a, b) | Node::Cmp(_, a, b) | Node::And(a, b) | Node::Or(a, b) => {
            out.push(*a);
            out.push(*b);
        }
        Node::TextEq(a, b) => {
            for t in [a, b] {
                if let TextRef::Field { rec, .. } = t {
                    out.push(*rec);
                }
            }
        }
        Node::If(a, b, c) => out.extend([*a, *b, *c]),
        Node::Let { value, body, .. } => out.extend([*value, *body]),
        Node::Switch { scrut, arms, .. } => {
            out.push(*scrut);
            out.extend(arms.iter().map(|(_, b)| *b));
        }
        Node::Agg {
            group,
            body,
            filter,
            ..
        } => {
            out.push(*group);
            out.extend(body.iter().copied());
            out.extend(filter.iter().copied());
        }
        Node::Builtin(_, xs) => out.extend(xs.iter().copied()),
        Node::Marginal {
            amount,
            bands,
            adjust,
            ..
        } => {
            out.push(*amount);
            if let BandsSrc::Rows(rows) = bands {
                out.extend(rows.iter().map(|(_, _, r)| *r));
            }
            out.extend(adjust.iter().copied());
        }
    }
}

/// Bind the program for evaluation on `as_of` (the first day of the month
/// evaluated), for the instances reachable from `roots`.
pub fn bind(ir: &Ir, as_of: i32, roots: &[InstId]) -> Result<Bound, BindError> {
    let ctx_dates: Vec<i32> = (0..ir.contexts.len())
        .map(|c| ctx_date(ir, as_of, c as CtxId, 0))
        .collect();
    let reach = reachable(ir, roots);
    let mut body = vec![None; ir.instances.len()];
    let mut used_prefs = vec![false; ir.param_refs.len()];
    for (i, inst) in ir.instances.iter().enumerate() {
        if !reach[i] {
            continue;
        }
        let date = ctx_dates.get(inst.ctx as usize).copied().unwrap_or(as_of);
        let chosen = inst
            .versions
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .or_else(|| inst.versions.first())
            .map(|(_, b)| *b);
        body[i] = chosen;
        // Parameters used by the chosen body (and by nothing else of it).
        let mut stack: Vec<NodeId> = chosen.into_iter().collect();
        while let Some(n) = stack.pop() {
            let Some(node) = ir.node(n) else { continue };
            match node {
                Node::Param { pref, .. } | Node::BandsInfo(_, pref) => {
                    if let Some(u) = used_prefs.get_mut(*pref as usize) {
                        *u = true;
                    }
                }
                Node::Marginal {
                    bands: BandsSrc::Param(pref),
                    ..
                } => {
                    if let Some(u) = used_prefs.get_mut(*pref as usize) {
                        *u = true;
                    }
                }
                _ => {}
            }
            children(node, &mut stack);
        }
    }
    let mut params = vec![None; ir.param_refs.len()];
    for (pi, pr) in ir.param_refs.iter().enumerate() {
        if !used_prefs[pi] {
            continue;
        }
        let Some(pd) = ir
            .hir
            .params
            .get(weft_check::hir::ParamId::from_raw(pr.param))
        else {
            continue;
        };
        let date = ctx_dates.get(pr.ctx as usize).copied().unwrap_or(as_of);
        let Some(v) = pd.version_at(date) else {
            return Err(BindError {
                param: pd.name.clone(),
                date,
                series: pd.series,
            });
        };
        let mut values = Vec::with_capacity(v.values.len());
        let mut bands = Vec::new();
        for x in &v.values {
            match x {
                Some(PVal::Scalar(s)) => values.push(*s),
                Some(PVal::Bands(b)) => {
                    bands = b.clone();
                    values.push(0);
                }
                None => values.push(0),
            }
        }
        let ranks = pd
            .keys
            .iter()
            .map(|(e, set)| {
                let n = ir.hir.enums.get(*e).map(|x| x.variants.len()).unwrap_or(0);
                let mut r = vec![-1i32; n];
                let mut k = 0;
                for (v, slot) in r.iter_mut().enumerate() {
                    if set & (1u64 << v) != 0 {
                        *slot = k;
                        k += 1;
                    }
                }
                r
            })
            .collect();
        let sizes = pd
            .keys
            .iter()
            .map(|(_, s)| s.count_ones() as usize)
            .collect();
        params[pi] = Some(BoundParam {
            values,
            ranks,
            sizes,
            bands,
            effective: v.effective,
        });
    }
    Ok(Bound {
        as_of,
        ctx_dates,
        body,
        params,
    })
}

impl std::error::Error for BindError {}
