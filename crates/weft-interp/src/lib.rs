//! The reference interpreter: the definition of what a Weft program means.
//!
//! [`Interp`] evaluates instances of a bound IR program over one chunk of
//! records. Every instance is evaluated at most once per row and memoised,
//! on demand; `if`, `match`, `and`, `or`, table rows and cascade steps are
//! lazy, so a branch not taken cannot fail. Arithmetic is exact (products
//! and quotients in 128 bits, one rounding half away from zero where the
//! language says), and every failure (overflow, division by zero, an
//! exception conflict, …) is returned as an [`EvalError`] naming the
//! instance and row where it happened — never a panic, never a wrapped
//! value. The JIT must agree with this crate bit for bit.

pub mod batch;
pub mod ops;
pub mod trace;

use trace::Tracer;
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column};
use weft_ir::{AggKind, BandsSrc, ErrKind, InstId, Ir, Node, NodeId, TextRef};

/// A failure while evaluating one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub kind: ErrKind,
    /// The instance in which the failing operation was.
    pub inst: InstId,
    /// The row (of the instance's record kind) being evaluated, if any.
    pub row: Option<usize>,
    /// A sentence for people.
    pub detail: String,
}

const UNSET: u8 = 0;
const BUSY: u8 = 1;
const DONE: u8 = 2;
const FAILED: u8 = 3;

/// Values and states of one instance, allocated on first use (a chunk's
/// evaluation touches only the instances its outputs need).
struct Memo {
    /// Rows of the instance's record kind (1 without one); 0 when the
    /// instance is not bound.
    rows: usize,
    vals: Vec<i64>,
    state: Vec<u8>,
}

/// An interpreter over one chunk.
pub struct Interp<'a> {
    ir: &'a Ir,
    bound: &'a Bound,
    chunk: &'a Chunk,
    memo: Vec<Memo>,
    errors: std::collections::HashMap<(InstId, usize), EvalError>,
    stack: Vec<i64>,
    tracer: Option<&'a mut dyn Tracer>,
}

type R = Result<i64, EvalError>;

impl<'a> Interp<'a> {
    pub fn new(ir: &'a Ir, bound: &'a Bound, chunk: &'a Chunk) -> Interp<'a> {
        let memo = ir
            .instances
            .iter()
            .enumerate()
            .map(|(idx, i)| {
                let n = match i.entity {
                    Some(r) => chunk.rows(r),
                    None => 1,
                };
                let live = bound.body.get(idx).copied().flatten().is_some();
                Memo {
                    rows: if live { n } else { 0 },
                    vals: Vec::new(),
                    state: Vec::new(),
                }
            })
            .collect();
        Interp {
            ir,
            bound,
            chunk,
            memo,
            errors: std::collections::HashMap::new(),
            stack: Vec::with_capacity(256),
            tracer: None,
        }
    }

    /// Record every step of the evaluation (for explanations).
    pub fn with_tracer(mut self, t: &'a mut dyn Tracer) -> Interp<'a> {
        self.tracer = Some(t);
        self
    }

    fn internal(&self, inst: InstId, row: Option<usize>, what: &str) -> EvalError {
        EvalError {
            kind: ErrKind::NoRow,
            inst,
            row,
            detail: format!("internal error: {what}"),
        }
    }

    /// The value of an instance for a row of its record kind (`row` is
    /// ignored for an instance without a record kind).
    pub fn eval_inst(&mut self, inst: InstId, row: usize) -> R {
        self.eval_inst_with(inst, row, &[])
    }

    /// Like [`Interp::eval_inst`], with the first slots of the frame preset
    /// (assertions over keys).
    pub fn eval_inst_with(&mut self, inst: InstId, row: usize, preset: &[i64]) -> R {
        let ir = self.ir;
        let Some(def) = ir.inst(inst) else {
            return Err(self.internal(inst, None, "unknown instance"));
        };
        let key = if def.entity.is_some() { row } else { 0 };
        let erow = def.entity.map(|_| row);
        let memo = self.memo.get_mut(inst as usize);
        let Some(memo) = memo else {
            return Err(self.internal(inst, erow, "unknown instance"));
        };
        if memo.state.is_empty() && memo.rows > 0 {
            memo.state = vec![UNSET; memo.rows];
            memo.vals = vec![0; memo.rows];
        }
        match memo.state.get(key).copied() {
            Some(DONE) if preset.is_empty() => return Ok(memo.vals[key]),
            Some(FAILED) if preset.is_empty() => {
                return Err(self
                    .errors
                    .get(&(inst, key))
                    .cloned()
                    .unwrap_or_else(|| self.internal(inst, erow, "lost error")));
            }
            Some(BUSY) => return Err(self.internal(inst, erow, "a rule depends on itself")),
            Some(_) => {}
            None => return Err(self.internal(inst, erow, "row out of range")),
        }
        let Some(body) = self.bound.body.get(inst as usize).copied().flatten() else {
            return Err(self.internal(inst, erow, "an instance that was not bound"));
        };
        if let Some(m) = self.memo.get_mut(inst as usize) {
            m.state[key] = BUSY;
        }
        if let Some(t) = self.tracer.as_deref_mut() {
            t.enter(inst, erow);
        }
        let base = self.stack.len();
        let slots = def.slots.max(1) as usize;
        self.stack.resize(base + slots, 0);
        self.stack[base] = row as i64;
        for (i, v) in preset.iter().enumerate() {
            if let Some(s) = self.stack.get_mut(base + 1 + i) {
                *s = *v;
            }
        }
        let r = self.eval(body, base, inst, erow);
        self.stack.truncate(base);
        if let Some(t) = self.tracer.as_deref_mut() {
            t.exit(inst, erow, &r);
        }
        if let Some(m) = self.memo.get_mut(inst as usize) {
            match &r {
                Ok(v) => {
                    m.vals[key] = *v;
                    m.state[key] = if preset.is_empty() { DONE } else { UNSET };
                }
                Err(e) => {
                    m.state[key] = if preset.is_empty() { FAILED } else { UNSET };
                    if preset.is_empty() {
                        self.errors.insert((inst, key), e.clone());
                    }
                }
            }
        }
        r
    }

    fn err(&self, kind: ErrKind, inst: InstId, row: Option<usize>, detail: String) -> EvalError {
        EvalError {
            kind,
            inst,
            row,
            detail,
        }
    }

    fn node(&self, n: NodeId, inst: InstId, row: Option<usize>) -> Result<&'a Node, EvalError> {
        self.ir
            .node(n)
            .ok_or_else(|| self.internal(inst, row, "unknown node"))
    }

    fn column(
        &self,
        record: u32,
        field: u32,
        inst: InstId,
        row: Option<usize>,
    ) -> Result<&'a Column, EvalError> {
        self.chunk
            .col(record, field)
            .ok_or_else(|| self.internal(inst, row, "a column that was not loaded"))
    }

    fn text(
        &mut self,
        t: &TextRef,
        base: usize,
        inst: InstId,
        row: Option<usize>,
    ) -> Result<&'a str, EvalError> {
        match t {
            TextRef::Lit(i) => self
                .ir
                .texts
                .get(*i as usize)
                .map(|s| s.as_str())
                .ok_or_else(|| self.internal(inst, row, "unknown text")),
            TextRef::Field { rec, record, field } => {
                let r = self.eval(*rec, base, inst, row)?;
                match self.column(*record, *field, inst, row)? {
                    Column::Text(v) => usize::try_from(r)
                        .ok()
                        .and_then(|r| v.get(r))
                        .map(|s| s.as_str())
                        .ok_or_else(|| self.internal(inst, row, "row out of range")),
                    _ => Err(self.internal(inst, row, "a text field that is not text")),
                }
            }
        }
    }

    fn eval(&mut self, n: NodeId, base: usize, inst: InstId, row: Option<usize>) -> R {
        let node = self.node(n, inst, row)?;
        let arith_err = |k: ErrKind| EvalError {
            kind: k,
            inst,
            row,
            detail: default_detail(k),
        };
        Ok(match node {
            Node::Const(v) => *v,
            Node::Local(s) => self
                .stack
                .get(base + *s as usize)
                .copied()
                .ok_or_else(|| self.internal(inst, row, "slot out of range"))?,
            Node::AsOf => self.bound.as_of as i64,
            Node::CtxDate(c) => self
                .bound
                .ctx_dates
                .get(*c as usize)
                .copied()
                .unwrap_or(self.bound.as_of) as i64,
            Node::Field { rec, record, field } => {
                let r = self.eval(*rec, base, inst, row)?;
                let col = self.column(*record, *field, inst, row)?;
                let r = usize::try_from(r).map_err(|_| self.internal(inst, row, "negative row"))?;
                let v = match col {
                    Column::I64(v) | Column::Opt(v, _) => *v
                        .get(r)
                        .ok_or_else(|| self.internal(inst, row, "row out of range"))?,
                    _ => return Err(self.internal(inst, row, "a field read as a number")),
                };
                if let Some(t) = self.tracer.as_deref_mut() {
                    t.field(inst, row, (*record, *field), r, v);
                }
                v
            }
            Node::FieldIsSet { rec, record, field } => {
                let r = self.eval(*rec, base, inst, row)?;
                let col = self.column(*record, *field, inst, row)?;
                let r = usize::try_from(r).map_err(|_| self.internal(inst, row, "negative row"))?;
                match col {
                    Column::Opt(_, p) => *p
                        .get(r)
                        .ok_or_else(|| self.internal(inst, row, "row out of range"))?
                        as i64,
                    Column::I64(_) => 1,
                    _ => return Err(self.internal(inst, row, "presence of a non-optional field")),
                }
            }
            Node::Call { inst: callee, rec } => {
                let r = match rec {
                    Some(x) => {
                        let v = self.eval(*x, base, inst, row)?;
                        usize::try_from(v).map_err(|_| self.internal(inst, row, "negative row"))?
                    }
                    None => 0,
                };
                let v = self.eval_inst(*callee, r)?;
                if let Some(t) = self.tracer.as_deref_mut() {
                    t.used(inst, row, *callee, r, v);
                }
                v
            }
            Node::Param { pref, keys } => {
                let mut kv = [0i64; 8];
                let mut ks: Vec<i64> = Vec::new();
                let keys_slice: &[i64] = if keys.len() <= 8 {
                    for (i, k) in keys.iter().enumerate() {
                        kv[i] = self.eval(*k, base, inst, row)?;
                    }
                    &kv[..keys.len()]
                } else {
                    for k in keys {
                        ks.push(self.eval(*k, base, inst, row)?);
                    }
                    &ks
                };
                let Some(Some(bp)) = self.bound.params.get(*pref as usize) else {
                    return Err(self.internal(inst, row, "a parameter that was not bound"));
                };
                let Some(idx) = bp.index(keys_slice) else {
                    return Err(self.err(
                        ErrKind::NoBand,
                        inst,
                        row,
                        default_detail(ErrKind::NoBand),
                    ));
                };
                let v = *bp
                    .values
                    .get(idx)
                    .ok_or_else(|| self.internal(inst, row, "parameter slot out of range"))?;
                if let Some(t) = self.tracer.as_deref_mut() {
                    t.param(inst, row, *pref, keys_slice, v);
                }
                v
            }
            Node::Neg(a) => {
                let v = self.eval(*a, base, inst, row)?;
                v.checked_neg()
                    .ok_or_else(|| arith_err(ErrKind::Overflow))?
            }
            Node::Not(a) => (self.eval(*a, base, inst, row)? == 0) as i64,
            Node::Arith(op, a, b) => {
                let x = self.eval(*a, base, inst, row)?;
                let y = self.eval(*b, base, inst, row)?;
                ops::arith(*op, x, y).map_err(arith_err)?
            }
            Node::Cmp(op, a, b) => {
                let x = self.eval(*a, base, inst, row)?;
                let y = self.eval(*b, base, inst, row)?;
                let c = ops::cmp(*op, x, y);
                if let Some(t) = self.tracer.as_deref_mut() {
                    t.compare(inst, row, n, (x, y), c);
                }
                c as i64
            }
            Node::TextEq(a, b) => {
                let x = self.text(a, base, inst, row)?;
                let y = self.text(b, base, inst, row)?;
                (x == y) as i64
            }
            Node::And(a, b) => {
                if self.eval(*a, base, inst, row)? == 0 {
                    0
                } else {
                    (self.eval(*b, base, inst, row)? != 0) as i64
                }
            }
            Node::Or(a, b) => {
                if self.eval(*a, base, inst, row)? != 0 {
                    1
                } else {
                    (self.eval(*b, base, inst, row)? != 0) as i64
                }
            }
            Node::If(c, a, b) => {
                let cv = self.eval(*c, base, inst, row)?;
                if let Some(t) = self.tracer.as_deref_mut() {
                    t.branch(inst, row, n, cv != 0);
                }
                if cv != 0 {
                    self.eval(*a, base, inst, row)?
                } else {
                    self.eval(*b, base, inst, row)?
                }
            }
            Node::Let { slot, value, body } => {
                let v = self.eval(*value, base, inst, row)?;
                let s = self
                    .stack
                    .get_mut(base + *slot as usize)
                    .ok_or_else(|| EvalError {
                        kind: ErrKind::NoRow,
                        inst,
                        row,
                        detail: "internal error: slot out of range".into(),
                    })?;
                *s = v;
                self.eval(*body, base, inst, row)?
            }
            Node::Switch { slot, scrut, arms } => {
                let v = self.eval(*scrut, base, inst, row)?;
                if let Some(s) = self.stack.get_mut(base + *slot as usize) {
                    *s = v;
                }
                let bit = if (0..64).contains(&v) { 1u64 << v } else { 0 };
                let Some((_, body)) = arms.iter().find(|(m, _)| m & bit != 0) else {
                    return Err(self.internal(inst, row, "no arm of a match applies"));
                };
                self.eval(*body, base, inst, row)?
            }
            Node::Agg {
                kind,
                group,
                group_record,
                member_record: _,
                slot,
                body,
                filter,
            } => {
                let g = self.eval(*group, base, inst, row)?;
                let (lo, hi) = self.members(*group_record, g, inst, row)?;
                let mut acc: i64 = 0;
                let mut any = false;
                for m in lo..hi {
                    if let Some(s) = self.stack.get_mut(base + *slot as usize) {
                        *s = m;
                    }
                    if let Some(f) = filter {
                        if self.eval(*f, base, inst, row)? == 0 {
                            continue;
                        }
                    }
                    match kind {
                        AggKind::Count => acc += 1,
                        AggKind::Sum => {
                            let v = match body {
                                Some(b) => self.eval(*b, base, inst, row)?,
                                None => 0,
                            };
                            acc = acc
                                .checked_add(v)
                                .ok_or_else(|| arith_err(ErrKind::Overflow))?;
                        }
                        AggKind::Any => {
                            let v = match body {
                                Some(b) => self.eval(*b, base, inst, row)?,
                                None => 0,
                            };
                            if v != 0 {
                                return Ok(1);
                            }
                        }
                        AggKind::All => {
                            let v = match body {
                                Some(b) => self.eval(*b, base, inst, row)?,
                                None => 1,
                            };
                            if v == 0 {
                                return Ok(0);
                            }
                        }
                        AggKind::Min | AggKind::Max => {
                            let v = match body {
                                Some(b) => self.eval(*b, base, inst, row)?,
                                None => 0,
                            };
                            acc = if !any {
                                v
                            } else if *kind == AggKind::Min {
                                acc.min(v)
                            } else {
                                acc.max(v)
                            };
                        }
                    }
                    any = true;
                }
                match kind {
                    AggKind::Any => 0,
                    AggKind::All => 1,
                    AggKind::Min | AggKind::Max if !any => {
                        return Err(self.err(
                            ErrKind::Empty,
                            inst,
                            row,
                            default_detail(ErrKind::Empty),
                        ));
                    }
                    _ => acc,
                }
            }
            Node::Builtin(b, xs) => {
                let mut vals = [0i64; 4];
                let mut many: Vec<i64> = Vec::new();
                let args: &[i64] = if xs.len() <= 4 {
                    for (i, x) in xs.iter().enumerate() {
                        vals[i] = self.eval(*x, base, inst, row)?;
                    }
                    &vals[..xs.len()]
                } else {
                    for x in xs {
                        many.push(self.eval(*x, base, inst, row)?);
                    }
                    &many
                };
                ops::builtin(*b, args).map_err(arith_err)?
            }
            Node::BandsInfo(b, pref) => {
                let Some(Some(bp)) = self.bound.params.get(*pref as usize) else {
                    return Err(self.internal(inst, row, "bands that were not bound"));
                };
                ops::bands_info(*b, &bp.bands)
            }
            Node::Marginal {
                amount,
                bands,
                adjust,
                round_each,
            } => {
                let x = self.eval(*amount, base, inst, row)?;
                let adj = match adjust {
                    Some(a) => self.eval(*a, base, inst, row)?,
                    None => 0,
                };
                let mut list: Vec<(i64, Option<i64>, i64)> = Vec::new();
                match bands {
                    BandsSrc::Param(pref) => {
                        let Some(Some(bp)) = self.bound.params.get(*pref as usize) else {
                            return Err(self.internal(inst, row, "bands that were not bound"));
                        };
                        list.extend(bp.bands.iter().map(|b| (b.lo, b.hi, b.rate)));
                        if let Some(t) = self.tracer.as_deref_mut() {
                            t.param(inst, row, *pref, &[], 0);
                        }
                    }
                    BandsSrc::Rows(rows) => {
                        for (lo, hi, r) in rows {
                            let rate = self.eval(*r, base, inst, row)?;
                            list.push((*lo, *hi, rate));
                        }
                    }
                }
                ops::marginal(x, &list, adj, *round_each).map_err(arith_err)?
            }
            Node::Fail(i) => {
                let site = self.ir.fails.get(*i as usize);
                return Err(EvalError {
                    kind: site.map(|s| s.kind).unwrap_or(ErrKind::NoRow),
                    inst,
                    row,
                    detail: site.map(|s| s.detail.clone()).unwrap_or_default(),
                });
            }
        })
    }

    fn members(
        &self,
        group_record: u32,
        g: i64,
        inst: InstId,
        row: Option<usize>,
    ) -> Result<(i64, i64), EvalError> {
        let Some((field, _)) = self
            .ir
            .hir
            .records
            .get(group_record as usize)
            .and_then(|r| r.members())
        else {
            return Err(self.internal(inst, row, "a record without members"));
        };
        match self.column(group_record, field.raw(), inst, row)? {
            Column::Members(off) => {
                let g = usize::try_from(g).map_err(|_| self.internal(inst, row, "negative row"))?;
                let lo = *off
                    .get(g)
                    .ok_or_else(|| self.internal(inst, row, "row out of range"))?;
                let hi = *off
                    .get(g + 1)
                    .ok_or_else(|| self.internal(inst, row, "row out of range"))?;
                Ok((lo, hi))
            }
            _ => Err(self.internal(inst, row, "members that were not loaded")),
        }
    }
}

pub use ops::{arith, cmp};

/// The sentence of an error raised by an operation (not by a `Fail` node,
/// whose sentence is its site's).
pub fn default_detail(k: ErrKind) -> String {
    match k {
        ErrKind::Overflow => "the result is too large (overflow)".to_string(),
        ErrKind::DivisionByZero => "division by zero".to_string(),
        ErrKind::DateOutOfRange => "the date is outside the years 1 to 9999".to_string(),
        ErrKind::Empty => "`min` or `max` over no members".to_string(),
        ErrKind::NoBand => "a key outside the parameter's keys".to_string(),
        _ => k.code().to_string(),
    }
}
