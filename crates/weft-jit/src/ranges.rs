//! Proving that operations cannot overflow: value ranges of the nodes.
//!
//! Every node of a bound body gets an interval that holds every value it
//! can produce (computed in `i128`, so nothing here overflows), from:
//!
//! - the *input domains* of the record fields it reads: what a row that
//!   passed validation can hold — money `0..=1,000,000,000,000.00` (in
//!   fen), whole numbers and durations `≥ 0`, dates of the years
//!   `0000..=9999`, an enum's variants, `true`/`false` — narrowed by the
//!   field's declared range (`in 0..=4`);
//! - the parameter values compiled in (a lookup gives one of them);
//! - constants and the dates of the binding;
//! - at most [`MAX_GROUP`] members per group for aggregations.
//!
//! An operation whose exact result provably fits in 64 bits is *proven*:
//! the code generator emits it without its overflow check. The proofs
//! hold for a chunk whose values lie in those domains, which every chunk
//! `weft run` and the API build does (validation rejects other rows); a
//! program checks the columns its proofs rely on, and the group sizes,
//! once per evaluation ([`Assumptions::hold`], a scan hoisted out of all
//! loops), and a chunk that breaks them (hand-built chunks, a test
//! record outside a declared range) is evaluated by the reference
//! interpreter, which gives by definition the results and errors the
//! unchecked code must match.

use crate::runtime::Info;
use weft_check::ty::Ty;
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column};
use weft_ir::{AggKind, ArithOp, Builtin, InstId, Ir, Node, NodeId};

/// Members per group the proofs of aggregations assume (checked per
/// evaluation): a sum of that many money amounts still fits in 64 bits.
pub const MAX_GROUP: i128 = 1 << 16;

/// An interval of values, `None` when the node gives no value (it fails).
type Rg = Option<(i128, i128)>;

const FULL: (i128, i128) = (i64::MIN as i128, i64::MAX as i128);

fn fits(r: Rg) -> bool {
    match r {
        Some((lo, hi)) => lo >= FULL.0 && hi <= FULL.1,
        None => true,
    }
}

/// Clamp to the 64-bit range: a result that does not fit is an overflow
/// error at run time, so the values that flow on are 64-bit.
fn clip(r: Rg) -> Rg {
    r.map(|(lo, hi)| (lo.clamp(FULL.0, FULL.1), hi.clamp(FULL.0, FULL.1)))
}

fn union(a: Rg, b: Rg) -> Rg {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
    }
}

fn lift2(a: Rg, b: Rg, f: impl Fn((i128, i128), (i128, i128)) -> (i128, i128)) -> Rg {
    Some(f(a?, b?))
}

fn mul(a: (i128, i128), b: (i128, i128)) -> (i128, i128) {
    let c = [
        a.0.saturating_mul(b.0),
        a.0.saturating_mul(b.1),
        a.1.saturating_mul(b.0),
        a.1.saturating_mul(b.1),
    ];
    (
        c.iter().copied().min().unwrap_or(0),
        c.iter().copied().max().unwrap_or(0),
    )
}

/// Bits of what a node's range relies on: input columns, and the group
/// size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Deps(Vec<u64>);

impl Deps {
    fn add(&mut self, bit: usize) {
        let w = bit / 64;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (bit % 64);
    }
    fn merge(&mut self, o: &Deps) {
        if self.0.len() < o.0.len() {
            self.0.resize(o.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= *b;
        }
    }
    fn has(&self, bit: usize) -> bool {
        self.0
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }
}

/// What the proofs of a program rely on, checked once per evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Assumptions {
    /// `(record, field, lo, hi)`: every present value of the column.
    pub columns: Vec<(u32, u32, i64, i64)>,
    /// At most [`MAX_GROUP`] members per group of this record.
    pub groups: Vec<(u32, u32)>,
}

impl Assumptions {
    /// Whether `chunk` satisfies them.
    pub fn hold(&self, chunk: &Chunk) -> bool {
        let within = |v: &[i64], lo: i64, hi: i64| {
            // Branch-free min and max, so the loop vectorises.
            let (mut mn, mut mx) = (i64::MAX, i64::MIN);
            for x in v {
                mn = mn.min(*x);
                mx = mx.max(*x);
            }
            v.is_empty() || (mn >= lo && mx <= hi)
        };
        for (r, f, lo, hi) in &self.columns {
            // An absent optional value is read as what the column stores
            // (0); anything else than numbers is read through the
            // helpers, which find the interpreter's error.
            let v = match chunk.col(*r, *f) {
                Some(Column::I64(v)) | Some(Column::Opt(v, _)) => v,
                _ => continue,
            };
            if !within(v, *lo, *hi) {
                return false;
            }
        }
        for (r, f) in &self.groups {
            if let Some(Column::Members(off)) = chunk.col(*r, *f)
                && off
                    .windows(2)
                    .any(|w| (w[1] as i128 - w[0] as i128) > MAX_GROUP)
            {
                return false;
            }
        }
        true
    }
}

/// Per node: whether its operation is proven not to overflow.
#[derive(Debug, Clone, Default)]
pub(crate) struct Proofs {
    /// The node's own overflow check can go.
    pub safe: Vec<bool>,
    /// For `MulRound`: the product of the operands fits in 64 bits.
    pub product_fits: Vec<bool>,
    pub assumptions: Assumptions,
}

impl Proofs {
    pub fn safe(&self, n: NodeId) -> bool {
        self.safe.get(n as usize).copied().unwrap_or(false)
    }
    pub fn product_fits(&self, n: NodeId) -> bool {
        self.product_fits.get(n as usize).copied().unwrap_or(false)
    }
}

struct An<'a> {
    ir: &'a Ir,
    bound: &'a Bound,
    info: &'a Info,
    memo: Vec<Option<(Rg, Deps)>>,
    inst_memo: Vec<Option<(Rg, Deps)>>,
    in_progress: Vec<bool>,
    safe: Vec<bool>,
    product_fits: Vec<bool>,
    used: Deps,
    /// The bit of the group-size assumption.
    group_bit: usize,
    depth: usize,
}

/// The proofs for every node reachable from the bound bodies.
pub(crate) fn prove(ir: &Ir, bound: &Bound, info: &Info) -> Proofs {
    let n = ir.nodes.len();
    let mut an = An {
        ir,
        bound,
        info,
        memo: vec![None; n],
        inst_memo: vec![None; ir.instances.len()],
        in_progress: vec![false; ir.instances.len()],
        safe: vec![false; n],
        product_fits: vec![false; n],
        used: Deps::default(),
        group_bit: info.ncols,
        depth: 0,
    };
    for i in 0..ir.instances.len() {
        an.inst(i as InstId);
    }
    let mut assumptions = Assumptions::default();
    for (r, rec) in ir.hir.records.iter().enumerate() {
        for f in 0..rec.fields.len() {
            let Some(ix) = info.col_index(r as u32, f as u32, ir) else {
                continue;
            };
            if an.used.has(ix)
                && let Some((lo, hi)) = domain(ir, r as u32, f as u32)
            {
                assumptions.columns.push((r as u32, f as u32, lo, hi));
            }
        }
        if an.used.has(an.group_bit)
            && let Some((f, _)) = rec.members()
        {
            assumptions.groups.push((r as u32, f.raw()));
        }
    }
    Proofs {
        safe: an.safe,
        product_fits: an.product_fits,
        assumptions,
    }
}

/// The values a validated row can hold in a field, if they are bounded
/// more tightly than 64 bits.
fn domain(ir: &Ir, record: u32, field: u32) -> Option<(i64, i64)> {
    let fd = ir
        .hir
        .records
        .get(record as usize)?
        .fields
        .get(field as usize)?;
    if !matches!(fd.kind, weft_check::hir::FieldKind::Column) {
        return None;
    }
    let (ty, optional) = match &fd.ty {
        Ty::Opt(t) => (&**t, true),
        t => (t, false),
    };
    let (mut lo, mut hi) = match ty {
        Ty::Money(_) => (0, 100_000_000_000_000),
        Ty::Int | Ty::Dur(_) => (0, i64::MAX),
        Ty::Bool => (0, 1),
        Ty::Date => (
            weft_syntax::num::days_from_civil(0, 1, 1) as i64,
            weft_syntax::num::days_from_civil(9999, 12, 31) as i64,
        ),
        Ty::Enum(e, _) => {
            let n = ir.hir.enums.get(*e)?.variants.len() as i64;
            (0, n.max(1) - 1)
        }
        _ => return None,
    };
    if let Some((l, h)) = fd.range {
        if let Some(l) = l {
            lo = lo.max(l);
        }
        if let Some(h) = h {
            hi = hi.min(h);
        }
    }
    if optional {
        // An absent value is stored as 0 (and read as such by `Field`).
        lo = lo.min(0);
        hi = hi.max(0);
    }
    (lo <= hi).then_some((lo, hi))
}

impl An<'_> {
    fn inst(&mut self, i: InstId) -> (Rg, Deps) {
        if let Some(Some(r)) = self.inst_memo.get(i as usize) {
            return r.clone();
        }
        let Some(body) = self.bound.body.get(i as usize).copied().flatten() else {
            return (Some(FULL), Deps::default());
        };
        if self.in_progress.get(i as usize).copied().unwrap_or(true) {
            // A cycle: nothing is known of the value.
            return (Some(FULL), Deps::default());
        }
        self.in_progress[i as usize] = true;
        let r = self.node(body);
        self.in_progress[i as usize] = false;
        self.inst_memo[i as usize] = Some(r.clone());
        r
    }

    fn node(&mut self, n: NodeId) -> (Rg, Deps) {
        if let Some(Some(r)) = self.memo.get(n as usize) {
            return r.clone();
        }
        self.depth += 1;
        let r = if self.depth > 10_000 {
            (Some(FULL), Deps::default())
        } else {
            self.node_inner(n)
        };
        self.depth -= 1;
        let r = (clip(r.0), r.1);
        if let Some(m) = self.memo.get_mut(n as usize) {
            *m = Some(r.clone());
        }
        r
    }

    fn mark(&mut self, n: NodeId, deps: &Deps) {
        if let Some(s) = self.safe.get_mut(n as usize) {
            *s = true;
        }
        self.used.merge(deps);
    }

    fn node_inner(&mut self, n: NodeId) -> (Rg, Deps) {
        let ir = self.ir;
        let none = Deps::default();
        let bool_r = (Some((0, 1)), Deps::default());
        let Some(node) = ir.node(n) else {
            return (Some(FULL), none);
        };
        match node {
            Node::Const(v) => (Some((*v as i128, *v as i128)), none),
            Node::AsOf => {
                let d = self.bound.as_of as i128;
                (Some((d, d)), none)
            }
            Node::CtxDate(c) => {
                let d = self
                    .bound
                    .ctx_dates
                    .get(*c as usize)
                    .copied()
                    .unwrap_or(self.bound.as_of) as i128;
                (Some((d, d)), none)
            }
            Node::Local(_) => (Some(FULL), none),
            Node::Field { rec, record, field } => {
                self.node(*rec);
                match (
                    domain(ir, *record, *field),
                    self.info.col_index(*record, *field, ir),
                ) {
                    (Some((lo, hi)), Some(ix)) => {
                        let mut d = Deps::default();
                        d.add(ix);
                        (Some((lo as i128, hi as i128)), d)
                    }
                    _ => (Some(FULL), none),
                }
            }
            Node::FieldIsSet { rec, .. } => {
                self.node(*rec);
                bool_r
            }
            Node::Call { inst, rec } => {
                if let Some(x) = rec {
                    self.node(*x);
                }
                self.inst(*inst)
            }
            Node::Param { pref, keys } => {
                for k in keys {
                    self.node(*k);
                }
                let r = self
                    .bound
                    .params
                    .get(*pref as usize)
                    .and_then(|p| p.as_ref())
                    .and_then(|p| {
                        let lo = p.values.iter().min()?;
                        let hi = p.values.iter().max()?;
                        Some((*lo as i128, *hi as i128))
                    })
                    .unwrap_or(FULL);
                (Some(r), none)
            }
            Node::Neg(a) => {
                let (r, d) = self.node(*a);
                let out = r.map(|(lo, hi)| (-hi, -lo));
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            Node::Not(a) => {
                self.node(*a);
                bool_r
            }
            Node::Cmp(_, a, b) | Node::And(a, b) | Node::Or(a, b) => {
                self.node(*a);
                self.node(*b);
                bool_r
            }
            Node::TextEq(a, b) => {
                for t in [a, b] {
                    if let weft_ir::TextRef::Field { rec, .. } = t {
                        self.node(*rec);
                    }
                }
                bool_r
            }
            Node::Arith(op, a, b) => {
                let (x, mut d) = self.node(*a);
                let (y, dy) = self.node(*b);
                d.merge(&dy);
                self.arith(n, *op, x, y, d)
            }
            Node::If(c, a, b) => {
                self.node(*c);
                let (x, mut d) = self.node(*a);
                let (y, dy) = self.node(*b);
                d.merge(&dy);
                (union(x, y), d)
            }
            Node::Let { value, body, .. } => {
                self.node(*value);
                self.node(*body)
            }
            Node::Switch { scrut, arms, .. } => {
                self.node(*scrut);
                let mut out: Rg = None;
                let mut d = Deps::default();
                for (_, a) in arms {
                    let (r, da) = self.node(*a);
                    out = union(out, r);
                    d.merge(&da);
                }
                (out, d)
            }
            Node::Agg {
                kind,
                group,
                body,
                filter,
                ..
            } => {
                self.node(*group);
                if let Some(f) = filter {
                    self.node(*f);
                }
                let (b, mut d) = match body {
                    Some(b) => self.node(*b),
                    None => (Some((0, 0)), Deps::default()),
                };
                match kind {
                    AggKind::Count => {
                        let mut d = Deps::default();
                        d.add(self.group_bit);
                        (Some((0, MAX_GROUP)), d)
                    }
                    AggKind::Sum => {
                        d.add(self.group_bit);
                        let out =
                            b.map(|(lo, hi)| ((lo * MAX_GROUP).min(0), (hi * MAX_GROUP).max(0)));
                        if fits(out) {
                            self.mark(n, &d);
                        }
                        (out, d)
                    }
                    AggKind::Any | AggKind::All => bool_r,
                    AggKind::Min | AggKind::Max => (b, d),
                }
            }
            Node::Builtin(bi, xs) => {
                let mut args = Vec::with_capacity(xs.len());
                let mut d = Deps::default();
                for x in xs {
                    let (r, dx) = self.node(*x);
                    args.push(r);
                    d.merge(&dx);
                }
                self.builtin(n, *bi, &args, d)
            }
            Node::BandsInfo(..) | Node::Fail(_) => (Some(FULL), none),
            Node::Marginal {
                amount,
                bands,
                adjust,
                ..
            } => {
                self.node(*amount);
                if let Some(a) = adjust {
                    self.node(*a);
                }
                if let weft_ir::BandsSrc::Rows(rows) = bands {
                    for (_, _, r) in rows {
                        self.node(*r);
                    }
                }
                (Some(FULL), none)
            }
        }
    }

    fn arith(&mut self, n: NodeId, op: ArithOp, x: Rg, y: Rg, d: Deps) -> (Rg, Deps) {
        match op {
            ArithOp::Add => {
                let out = lift2(x, y, |a, b| (a.0 + b.0, a.1 + b.1));
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            ArithOp::Sub | ArithOp::SubDates => {
                let out = lift2(x, y, |a, b| (a.0 - b.1, a.1 - b.0));
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            ArithOp::Mul => {
                let out = lift2(x, y, mul);
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            ArithOp::MulRound { den, unit } => {
                let dd = den as i128 * unit as i128;
                if dd <= 0 || unit <= 0 {
                    return (Some(FULL), Deps::default());
                }
                let p = lift2(x, y, mul);
                if fits(p) {
                    if let Some(pf) = self.product_fits.get_mut(n as usize) {
                        *pf = true;
                    }
                    self.used.merge(&d);
                }
                // |round(p / dd)| ≤ |p| / dd + 1, then × unit.
                let out = p.map(|(lo, hi)| {
                    (
                        (lo / dd - 1).saturating_mul(unit as i128),
                        (hi / dd + 1).saturating_mul(unit as i128),
                    )
                });
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            ArithOp::DivRound { pre, unit } => {
                // |x × pre ÷ (y × unit)| ≤ |x × pre| + 1 for a divisor of at
                // least 1 in magnitude (else an error), then × unit.
                if unit <= 0 || pre == 0 {
                    return (Some(FULL), Deps::default());
                }
                let out = x.map(|(lo, hi)| {
                    let m = (lo.saturating_mul(pre as i128))
                        .abs()
                        .max(hi.saturating_mul(pre as i128).abs())
                        .saturating_add(1);
                    let m = m.saturating_mul(unit as i128);
                    (-m, m)
                });
                let out = if y.is_none() { None } else { out };
                (out, d)
            }
            ArithOp::AddDays | ArithOp::AddMonths { .. } => (Some(FULL), Deps::default()),
        }
    }

    fn builtin(&mut self, n: NodeId, bi: Builtin, args: &[Rg], d: Deps) -> (Rg, Deps) {
        let arg = |i: usize| args.get(i).copied().unwrap_or(Some((0, 0)));
        match bi {
            Builtin::Min | Builtin::Max => {
                let Some((first, rest)) = args.split_first() else {
                    return (Some((0, 0)), Deps::default());
                };
                let mut acc = *first;
                for r in rest {
                    acc = lift2(acc, *r, |a, b| {
                        if bi == Builtin::Min {
                            (a.0.min(b.0), a.1.min(b.1))
                        } else {
                            (a.0.max(b.0), a.1.max(b.1))
                        }
                    });
                }
                (acc, d)
            }
            Builtin::Clamp => {
                let t = lift2(arg(0), arg(1), |a, b| (a.0.max(b.0), a.1.max(b.1)));
                (lift2(t, arg(2), |a, b| (a.0.min(b.0), a.1.min(b.1))), d)
            }
            Builtin::Abs => {
                let out = arg(0).map(|(lo, hi)| {
                    let m = lo.abs().max(hi.abs());
                    if lo >= 0 {
                        (lo, hi)
                    } else if hi <= 0 {
                        (-hi, -lo)
                    } else {
                        (0, m)
                    }
                });
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            Builtin::RoundTo(unit) => {
                if unit <= 0 {
                    return (Some(FULL), Deps::default());
                }
                let u = unit as i128;
                let out = arg(0).map(|(lo, hi)| ((lo / u - 1) * u, (hi / u + 1) * u));
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            Builtin::DaysBetween => {
                let out = lift2(arg(0), arg(1), |a, b| (b.0 - a.1, b.1 - a.0));
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            Builtin::ToDecimal => {
                let m = weft_syntax::num::MICRO as i128;
                let out = arg(0).map(|(lo, hi)| (lo * m, hi * m));
                if fits(out) {
                    self.mark(n, &d);
                }
                (out, d)
            }
            Builtin::ToInt => (arg(0), d),
            Builtin::Month => (Some((1, 12)), Deps::default()),
            Builtin::Day => (Some((1, 31)), Deps::default()),
            Builtin::YearsBetween | Builtin::MonthsBetween | Builtin::Year => {
                (Some(FULL), Deps::default())
            }
            Builtin::BandsStart
            | Builtin::BandsContiguous
            | Builtin::MinRate
            | Builtin::MaxRate => (Some((0, 0)), Deps::default()),
        }
    }
}
