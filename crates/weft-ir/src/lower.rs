//! Lowering: checked program → instances over a flat node arena.
//!
//! Lowering starts from the roots (output columns, record checks, test
//! expectations, assertions) in the evaluation-date context and creates an
//! instance for every `(rule, context)` pair reached; `prior_year(e)` and
//! `e at DATE` move the expression `e` into another context. Constructs are
//! lowered as follows:
//!
//! * a table: its `given` inputs into slots, then for `first` an `if` chain;
//!   for `unique` every row's condition is evaluated into a slot (in order),
//!   two true ones fail with `ambiguous_row`; for `sum`, `max` and `min`
//!   the values of the rows that apply are combined; no row and no
//!   `otherwise` fails with `no_row` (`sum` gives 0). A dated row's
//!   condition is guarded by the context's date;
//! * exceptions: each condition is evaluated once, in declaration order,
//!   into a slot; an exception is dropped when one that takes priority over
//!   it applies; two left over fail with `exception_conflict`; one left
//!   gives its value, none the rule's own;
//! * a cascade: instances for what remains before each step and for each
//!   part: part *i* = `clamp(step_i(remains_i), 0, remains_i)`,
//!   `remains_{i+1} = remains_i − part_i`, the remainder is what remains
//!   after the last step;
//! * a scale is inlined where it is called: its arguments into slots, then
//!   a [`Node::Marginal`] (or, for a flat scale, an `if` chain over its
//!   bands that fails with `no_value` below the first band).

use crate::*;
use std::collections::HashMap;
use weft_check::hir::{self, ExprKind as H, Pat, RuleKind, ScaleBands, Shift};
use weft_check::hir::{LocalId, Program, RuleId};
use weft_syntax::ast::{HitPolicy, ScaleKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Rule(RuleId),
    Part(RuleId, usize),
    Remains(RuleId, usize),
}

#[derive(Clone)]
enum Binding {
    Slot(Slot),
    /// Replaced by the expression it names (optional and text values).
    Subst(hir::Expr),
}

struct Frame {
    ctx: CtxId,
    locals: HashMap<LocalId, Binding>,
    next: Slot,
}

impl Frame {
    fn new(ctx: CtxId) -> Frame {
        Frame {
            ctx,
            locals: HashMap::new(),
            next: 1,
        }
    }

    fn slot(&mut self) -> Slot {
        let s = self.next;
        self.next += 1;
        s
    }
}

pub struct Lowerer {
    prog: Arc<Program>,
    nodes: Vec<Node>,
    instances: Vec<Instance>,
    contexts: Vec<Ctx>,
    param_refs: Vec<ParamRef>,
    texts: Vec<String>,
    fails: Vec<FailSite>,
    inst_map: HashMap<(Key, CtxId), InstId>,
    ctx_map: HashMap<Ctx, CtxId>,
    pref_map: HashMap<ParamRef, ParamRefId>,
    pending: Vec<(Key, InstId)>,
    /// Row numbers of test records, for the test being lowered.
    test_rows: Vec<i64>,
    notes: HashMap<NodeId, Note>,
}

/// An inconsistency between the checker and lowering (a bug).
#[derive(Debug, Clone)]
pub struct LowerError(pub String);

type R<T> = Result<T, LowerError>;

fn bug<T>(msg: impl Into<String>) -> R<T> {
    Err(LowerError(msg.into()))
}

/// Lower a program that checked without errors.
pub fn lower(prog: Arc<Program>) -> Result<Ir, LowerError> {
    let mut l = Lowerer {
        prog: prog.clone(),
        nodes: Vec::new(),
        instances: Vec::new(),
        contexts: Vec::new(),
        param_refs: Vec::new(),
        texts: Vec::new(),
        fails: Vec::new(),
        inst_map: HashMap::new(),
        ctx_map: HashMap::new(),
        pref_map: HashMap::new(),
        pending: Vec::new(),
        test_rows: Vec::new(),
        notes: HashMap::new(),
    };
    let as_of = l.ctx(Ctx::AsOf);
    // Outputs.
    let mut outputs = Vec::new();
    for (oi, o) in prog.outputs.iter().enumerate() {
        let mut cols = Vec::new();
        for (ci, c) in o.columns.iter().enumerate() {
            let value = if c.expr.ty == Ty::Text {
                ColumnValue::Text(text_path(&c.expr)?)
            } else {
                let inst = l.root(
                    format!("{}.{}", o.name, c.name),
                    InstKind::Column {
                        output: oi,
                        column: ci,
                    },
                    Some(o.record.raw()),
                    c.expr.ty.clone(),
                    as_of,
                    &[(o.binder, Binding::Slot(0))],
                    &c.expr,
                )?;
                ColumnValue::Inst(inst)
            };
            cols.push(ColumnIr {
                name: c.name.clone(),
                ty: c.expr.ty.clone(),
                value,
            });
        }
        outputs.push(OutputIr {
            name: o.name.clone(),
            record: o.record.raw(),
            columns: cols,
        });
    }
    // Record checks.
    let mut checks = Vec::new();
    for (ri, r) in prog.records.iter().enumerate() {
        let mut v = Vec::new();
        for (ci, ch) in r.checks.iter().enumerate() {
            let inst = l.root(
                format!("check {} of {}", ci + 1, r.name),
                InstKind::Check {
                    record: ri as RecordId,
                    check: ci,
                },
                Some(ri as RecordId),
                Ty::Bool,
                as_of,
                &[(r.self_local, Binding::Slot(0))],
                &ch.cond,
            )?;
            v.push(inst);
        }
        checks.push(v);
    }
    // Tests.
    let mut tests = Vec::new();
    let mut test_sides = Vec::new();
    for (ti, t) in prog.tests.iter().enumerate() {
        l.test_rows = test_rows(&prog, t);
        let mut v = Vec::new();
        let mut sides = Vec::new();
        for (ei, x) in t.expects.iter().enumerate() {
            let inst = l.root(
                format!("test \"{}\", expectation {}", t.name, ei + 1),
                InstKind::Expect {
                    test: ti,
                    expect: ei,
                },
                None,
                x.expr.ty.clone(),
                as_of,
                &[],
                &x.expr,
            )?;
            v.push(inst);
            // The two sides of a comparison, to report a failure.
            if let H::Cmp(_, a, b) = &x.expr.kind {
                if a.ty != Ty::Text && x.fails.is_none() {
                    let mut pair = Vec::new();
                    for (side, e) in [(0, a), (1, b)] {
                        pair.push(l.root(
                            format!("test \"{}\", expectation {}", t.name, ei + 1),
                            InstKind::ExpectSide {
                                test: ti,
                                expect: ei,
                                side,
                            },
                            None,
                            e.ty.clone(),
                            as_of,
                            &[],
                            e,
                        )?);
                    }
                    sides.push(Some((pair[0], pair[1])));
                    continue;
                }
            }
            sides.push(None);
        }
        tests.push(v);
        test_sides.push(sides);
    }
    l.test_rows.clear();
    // Assertions: the `every` variables take slots 1.. before evaluation.
    let mut asserts = Vec::new();
    let mut assert_atoms = Vec::new();
    for (ai, a) in prog.asserts.iter().enumerate() {
        let binds: Vec<(LocalId, Binding)> = a
            .every
            .iter()
            .enumerate()
            .map(|(i, (loc, _, _))| (*loc, Binding::Slot(i as Slot + 1)))
            .collect();
        let inst = l.root(
            format!("assertion {}", a.name),
            InstKind::Assert { assert: ai },
            None,
            Ty::Bool,
            as_of,
            &binds,
            &a.cond,
        )?;
        asserts.push(inst);
        // Each comparison of the assertion (an `and` of comparisons), with
        // its two sides, to report a failure.
        let mut atoms = Vec::new();
        let mut stack = vec![&a.cond];
        let mut cmps = Vec::new();
        while let Some(e) = stack.pop() {
            match &e.kind {
                H::And(x, y) => {
                    stack.push(y);
                    stack.push(x);
                }
                H::Cmp(_, x, y) => cmps.push((e, &**x, &**y)),
                _ => {}
            }
        }
        for (whole, x, y) in cmps {
            let mut trio = Vec::new();
            for (side, e) in [(0, whole), (1, x), (2, y)] {
                trio.push(l.root(
                    format!("assertion {}", a.name),
                    InstKind::AssertPart { assert: ai, side },
                    None,
                    e.ty.clone(),
                    as_of,
                    &binds,
                    e,
                )?);
            }
            atoms.push(AssertAtom {
                cond: trio[0],
                left: trio[1],
                right: trio[2],
                span: whole.span,
            });
        }
        assert_atoms.push(atoms);
    }
    l.drain()?;
    Ok(Ir {
        hir: prog,
        nodes: l.nodes,
        instances: l.instances,
        contexts: l.contexts,
        param_refs: l.param_refs,
        texts: l.texts,
        fails: l.fails,
        outputs,
        checks,
        tests,
        test_sides,
        asserts,
        assert_atoms,
        notes: l.notes,
    })
}

/// The row of each record of a test in the chunk built for it: records of
/// one kind in declaration order, except members, which are stored grouped
/// by the record they link to (in that record's order).
pub fn test_rows(prog: &Program, t: &hir::TestDef) -> Vec<i64> {
    let mut rows = vec![0i64; t.records.len()];
    let mut kinds: Vec<hir::RecordId> = t.records.iter().map(|r| r.record).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for k in kinds {
        let mut idx: Vec<usize> = (0..t.records.len())
            .filter(|i| t.records[*i].record == k)
            .collect();
        // For a member kind: order by the position of the linked record.
        if let Some((lf, _, _)) = prog.records.get(k).and_then(|r| r.link()) {
            idx.sort_by_key(|i| match t.records[*i].values.get(lf) {
                Some(hir::TestValue::Link(target)) => *target,
                _ => usize::MAX,
            });
        }
        for (row, i) in idx.into_iter().enumerate() {
            rows[i] = row as i64;
        }
    }
    rows
}

fn text_path(e: &hir::Expr) -> R<Vec<(RecordId, FieldId)>> {
    match &e.kind {
        H::Field(b, r, f) => {
            let mut p = match &b.kind {
                H::Local(_) => Vec::new(),
                _ => text_path(b)?,
            };
            p.push((r.raw(), f.raw()));
            Ok(p)
        }
        _ => bug("a text column that is not a field path"),
    }
}

impl Lowerer {
    fn push(&mut self, n: Node) -> NodeId {
        self.nodes.push(n);
        (self.nodes.len() - 1) as NodeId
    }

    fn ctx(&mut self, c: Ctx) -> CtxId {
        if let Some(i) = self.ctx_map.get(&c) {
            return *i;
        }
        self.contexts.push(c);
        let id = (self.contexts.len() - 1) as CtxId;
        self.ctx_map.insert(c, id);
        id
    }

    fn pref(&mut self, param: u32, ctx: CtxId) -> ParamRefId {
        let r = ParamRef { param, ctx };
        if let Some(i) = self.pref_map.get(&r) {
            return *i;
        }
        self.param_refs.push(r);
        let id = (self.param_refs.len() - 1) as ParamRefId;
        self.pref_map.insert(r, id);
        id
    }

    fn fail(&mut self, kind: ErrKind, detail: String) -> NodeId {
        self.fails.push(FailSite { kind, detail });
        let i = (self.fails.len() - 1) as u32;
        self.push(Node::Fail(i))
    }

    fn konst(&mut self, v: i64) -> NodeId {
        self.push(Node::Const(v))
    }

    #[allow(clippy::too_many_arguments)]
    fn root(
        &mut self,
        name: String,
        kind: InstKind,
        entity: Option<RecordId>,
        ty: Ty,
        ctx: CtxId,
        binds: &[(LocalId, Binding)],
        e: &hir::Expr,
    ) -> R<InstId> {
        let mut f = Frame::new(ctx);
        for (l, b) in binds {
            f.locals.insert(*l, b.clone());
            if let Binding::Slot(s) = b {
                f.next = f.next.max(s + 1);
            }
        }
        let body = self.expr(&mut f, e)?;
        self.instances.push(Instance {
            name,
            kind,
            rule: None,
            ctx,
            entity,
            ty,
            versions: vec![(i32::MIN, body)],
            slots: f.next,
        });
        Ok((self.instances.len() - 1) as InstId)
    }

    /// The instance of a rule (or cascade part) in a context, created on
    /// first use; its body is lowered later by `drain`.
    fn instance(&mut self, key: Key, ctx: CtxId) -> R<InstId> {
        if let Some(i) = self.inst_map.get(&(key, ctx)) {
            return Ok(*i);
        }
        let rid = match key {
            Key::Rule(r) | Key::Part(r, _) | Key::Remains(r, _) => r,
        };
        let Some(rule) = self.prog.rules.get(rid) else {
            return bug("a call to an unknown rule");
        };
        let kind = match key {
            Key::Rule(_) => InstKind::Rule,
            Key::Part(_, i) => InstKind::CascadePart { part: i },
            Key::Remains(_, i) => InstKind::CascadeRemains { after: i },
        };
        self.instances.push(Instance {
            name: rule.name.clone(),
            kind,
            rule: Some(rid.raw()),
            ctx,
            entity: rule.param.map(|(_, r)| r.raw()),
            ty: rule.ret.clone(),
            versions: Vec::new(),
            slots: 1,
        });
        let id = (self.instances.len() - 1) as InstId;
        self.inst_map.insert((key, ctx), id);
        self.pending.push((key, id));
        Ok(id)
    }

    fn drain(&mut self) -> R<()> {
        while let Some((key, id)) = self.pending.pop() {
            let ctx = self.instances[id as usize].ctx;
            let prog = self.prog.clone();
            let (rid, part) = match key {
                Key::Rule(r) => (r, None),
                Key::Part(r, i) => (r, Some((true, i))),
                Key::Remains(r, i) => (r, Some((false, i))),
            };
            let Some(rule) = prog.rules.get(rid) else {
                return bug("unknown rule");
            };
            let mut f = Frame::new(ctx);
            if let Some((l, _)) = rule.param {
                f.locals.insert(l, Binding::Slot(0));
            }
            let versions = match (&rule.kind, part) {
                (RuleKind::Plain { versions }, None) => {
                    let mut out = Vec::new();
                    for (from, e) in versions {
                        let b = self.expr(&mut f, e)?;
                        let b = self.exceptions(&mut f, rule, b)?;
                        out.push((*from, b));
                    }
                    out
                }
                (RuleKind::Table(t), None) => {
                    let b = self.table(&mut f, rule, t)?;
                    let b = self.exceptions(&mut f, rule, b)?;
                    vec![(i32::MIN, b)]
                }
                (RuleKind::Cascade(cd), Some((is_part, i))) => {
                    let arg = rule.param.map(|_| self.push(Node::Local(0)));
                    let n = cd.steps.len();
                    let b = if !is_part {
                        if i == 0 {
                            self.expr(&mut f, &cd.amount)?
                        } else {
                            let prev = self.instance(Key::Remains(rid, i - 1), ctx)?;
                            let part = self.instance(Key::Part(rid, i - 1), ctx)?;
                            let a = self.push(Node::Call {
                                inst: prev,
                                rec: arg,
                            });
                            let p = self.push(Node::Call {
                                inst: part,
                                rec: arg,
                            });
                            self.push(Node::Arith(ArithOp::Sub, a, p))
                        }
                    } else if i == n {
                        let rem = self.instance(Key::Remains(rid, n), ctx)?;
                        self.push(Node::Call {
                            inst: rem,
                            rec: arg,
                        })
                    } else {
                        let rem = self.instance(Key::Remains(rid, i), ctx)?;
                        let slot = f.slot();
                        f.locals.insert(cd.remains, Binding::Slot(slot));
                        let step = match cd.steps.get(i) {
                            Some(s) => self.expr(&mut f, &s.expr)?,
                            None => return bug("cascade step out of range"),
                        };
                        let zero = self.konst(0);
                        let r = self.push(Node::Local(slot));
                        let clamped = self.push(Node::Builtin(Builtin::Clamp, vec![step, zero, r]));
                        let value = self.push(Node::Call {
                            inst: rem,
                            rec: arg,
                        });
                        self.push(Node::Let {
                            slot,
                            value,
                            body: clamped,
                        })
                    };
                    vec![(i32::MIN, b)]
                }
                _ => return bug(format!("cannot lower the rule `{}`", rule.name)),
            };
            if let Some(inst) = self.instances.get_mut(id as usize) {
                inst.versions = versions;
                inst.slots = f.next;
            }
        }
        Ok(())
    }

    fn exceptions(&mut self, f: &mut Frame, rule: &hir::RuleDef, base: NodeId) -> R<NodeId> {
        let xs = &rule.exceptions;
        if xs.is_empty() {
            return Ok(base);
        }
        let n = xs.len();
        // dominated[i] = the exceptions that take priority over i (transitively).
        let mut over_me: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (j, x) in xs.iter().enumerate() {
            let mut stack = x.over.clone();
            let mut seen = vec![false; n];
            while let Some(i) = stack.pop() {
                if i < n && !seen[i] {
                    seen[i] = true;
                    over_me[i].push(j);
                    stack.extend(xs[i].over.iter().copied());
                }
            }
        }
        let cond_slots: Vec<Slot> = (0..n).map(|_| f.slot()).collect();
        let eff_slots: Vec<Slot> = (0..n).map(|_| f.slot()).collect();
        // body: count effective; fail on two; choose.
        let mut chain = base;
        let rid = self
            .prog
            .rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .unwrap_or(0) as u32;
        for i in (0..n).rev() {
            let c = self.push(Node::Local(eff_slots[i]));
            let v = self.expr(f, &xs[i].value)?;
            chain = self.push(Node::If(c, v, chain));
            self.notes.insert(
                chain,
                Note::Exception {
                    rule: rid,
                    index: i,
                },
            );
        }
        let mut count = self.konst(0);
        for s in &eff_slots {
            let e = self.push(Node::Local(*s));
            count = self.push(Node::Arith(ArithOp::Add, count, e));
        }
        let two = self.konst(2);
        let many = self.push(Node::Cmp(CmpOp::Ge, count, two));
        let labels: Vec<String> = xs.iter().map(|x| format!("`{}`", x.label)).collect();
        let fail = self.fail(
            ErrKind::ExceptionConflict,
            format!(
                "exceptions of `{}` apply together with no priority between them (among {})",
                rule.name,
                labels.join(", ")
            ),
        );
        let mut body = self.push(Node::If(many, fail, chain));
        // Effective flags, innermost first.
        for i in (0..n).rev() {
            let mut e = self.push(Node::Local(cond_slots[i]));
            for &j in &over_me[i] {
                let cj = self.push(Node::Local(cond_slots[j]));
                let not = self.push(Node::Not(cj));
                e = self.push(Node::And(e, not));
            }
            body = self.push(Node::Let {
                slot: eff_slots[i],
                value: e,
                body,
            });
        }
        for i in (0..n).rev() {
            let c = self.expr(f, &xs[i].cond)?;
            body = self.push(Node::Let {
                slot: cond_slots[i],
                value: c,
                body,
            });
        }
        Ok(body)
    }

    fn table(&mut self, f: &mut Frame, rule: &hir::RuleDef, t: &hir::TableDef) -> R<NodeId> {
        let mut given = Vec::new();
        for (l, e) in &t.given {
            let s = f.slot();
            f.locals.insert(*l, Binding::Slot(s));
            let v = self.expr(f, e)?;
            given.push((s, v));
        }
        // Row conditions, with dated rows guarded.
        let mut conds: Vec<Option<NodeId>> = Vec::new();
        let mut otherwise: Option<NodeId> = None;
        let mut values: Vec<NodeId> = Vec::new();
        let mut row_index: Vec<usize> = Vec::new();
        let rid = self
            .prog
            .rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .unwrap_or(0) as u32;
        for (ri, r) in t.rows.iter().enumerate() {
            let v = self.expr(f, &r.value)?;
            match &r.cond {
                None => {
                    otherwise = Some(v);
                }
                Some(c) => {
                    let mut cn = self.expr(f, c)?;
                    if let Some(from) = r.from {
                        let d = self.push(Node::CtxDate(f.ctx));
                        let k = self.konst(from as i64);
                        let guard = self.push(Node::Cmp(CmpOp::Ge, d, k));
                        cn = self.push(Node::And(guard, cn));
                    }
                    conds.push(Some(cn));
                    values.push(v);
                    row_index.push(ri);
                }
            }
        }
        let no_row = match otherwise {
            Some(v) => v,
            None => self.fail(
                ErrKind::NoRow,
                format!("no row of the table `{}` applies", rule.name),
            ),
        };
        let body = match t.hit {
            HitPolicy::First => {
                let mut chain = no_row;
                for ((c, v), ri) in conds.iter().zip(&values).zip(&row_index).rev() {
                    if let Some(c) = c {
                        chain = self.push(Node::If(*c, *v, chain));
                        self.notes.insert(
                            chain,
                            Note::Row {
                                rule: rid,
                                row: *ri,
                            },
                        );
                    }
                }
                chain
            }
            HitPolicy::Unique | HitPolicy::Sum | HitPolicy::Max | HitPolicy::Min => {
                let slots: Vec<Slot> = conds.iter().map(|_| f.slot()).collect();
                let mut inner = match t.hit {
                    HitPolicy::Unique => {
                        let mut count = self.konst(0);
                        for s in &slots {
                            let e = self.push(Node::Local(*s));
                            count = self.push(Node::Arith(ArithOp::Add, count, e));
                        }
                        let mut chain = no_row;
                        for ((s, v), ri) in slots.iter().zip(&values).zip(&row_index).rev() {
                            let c = self.push(Node::Local(*s));
                            chain = self.push(Node::If(c, *v, chain));
                            self.notes.insert(
                                chain,
                                Note::Row {
                                    rule: rid,
                                    row: *ri,
                                },
                            );
                        }
                        let two = self.konst(2);
                        let many = self.push(Node::Cmp(CmpOp::Ge, count, two));
                        let fail = self.fail(
                            ErrKind::AmbiguousRow,
                            format!("two rows of the unique table `{}` apply", rule.name),
                        );
                        self.push(Node::If(many, fail, chain))
                    }
                    _ => {
                        // Fold over the rows that apply, in order:
                        //   acc := if c then (if any then combine(acc, v) else v) else acc
                        //   any := any or c
                        // and at the end `if any then acc else fallback`.
                        let acc = f.slot();
                        let any = f.slot();
                        let fallback = if t.hit == HitPolicy::Sum && otherwise.is_none() {
                            self.konst(0)
                        } else {
                            no_row
                        };
                        let a = self.push(Node::Local(any));
                        let v = self.push(Node::Local(acc));
                        let mut result = self.push(Node::If(a, v, fallback));
                        for ((s, v), ri) in slots.iter().zip(&values).zip(&row_index).rev() {
                            let c = self.push(Node::Local(*s));
                            let a = self.push(Node::Local(any));
                            let any_now = self.push(Node::Or(a, c));
                            result = self.push(Node::Let {
                                slot: any,
                                value: any_now,
                                body: result,
                            });
                            let c = self.push(Node::Local(*s));
                            let a = self.push(Node::Local(any));
                            let cur = self.push(Node::Local(acc));
                            let combined = match t.hit {
                                HitPolicy::Sum => self.push(Node::Arith(ArithOp::Add, cur, *v)),
                                HitPolicy::Max => {
                                    self.push(Node::Builtin(Builtin::Max, vec![cur, *v]))
                                }
                                _ => self.push(Node::Builtin(Builtin::Min, vec![cur, *v])),
                            };
                            let first_or = self.push(Node::If(a, combined, *v));
                            let keep = self.push(Node::Local(acc));
                            let next = self.push(Node::If(c, first_or, keep));
                            self.notes.insert(
                                next,
                                Note::Row {
                                    rule: rid,
                                    row: *ri,
                                },
                            );
                            result = self.push(Node::Let {
                                slot: acc,
                                value: next,
                                body: result,
                            });
                        }
                        let z1 = self.konst(0);
                        let z2 = self.konst(0);
                        let init_any = self.push(Node::Let {
                            slot: any,
                            value: z1,
                            body: result,
                        });
                        self.push(Node::Let {
                            slot: acc,
                            value: z2,
                            body: init_any,
                        })
                    }
                };
                for (s, c) in slots.iter().zip(&conds).rev() {
                    if let Some(c) = c {
                        inner = self.push(Node::Let {
                            slot: *s,
                            value: *c,
                            body: inner,
                        });
                    }
                }
                inner
            }
        };
        let mut out = body;
        for (s, v) in given.into_iter().rev() {
            out = self.push(Node::Let {
                slot: s,
                value: v,
                body: out,
            });
        }
        Ok(out)
    }

    fn text_ref(&mut self, f: &mut Frame, e: &hir::Expr) -> R<TextRef> {
        match &e.kind {
            H::Text(t) => {
                let i = match self.texts.iter().position(|x| x == t) {
                    Some(i) => i,
                    None => {
                        self.texts.push(t.clone());
                        self.texts.len() - 1
                    }
                };
                Ok(TextRef::Lit(i as u32))
            }
            H::Field(b, r, fi) => Ok(TextRef::Field {
                rec: self.expr(f, b)?,
                record: r.raw(),
                field: fi.raw(),
            }),
            H::Local(l) => match f.locals.get(l).cloned() {
                Some(Binding::Subst(x)) => self.text_ref(f, &x),
                _ => bug("a text local without a value"),
            },
            _ => bug("text that is neither a literal nor a field"),
        }
    }

    /// The field path of an optional value (through `let` substitutions).
    fn opt_field(&mut self, f: &mut Frame, e: &hir::Expr) -> R<(NodeId, RecordId, FieldId)> {
        match &e.kind {
            H::Field(b, r, fi) => Ok((self.expr(f, b)?, r.raw(), fi.raw())),
            H::Local(l) => match f.locals.get(l).cloned() {
                Some(Binding::Subst(x)) => self.opt_field(f, &x),
                _ => bug("an optional local without a value"),
            },
            _ => bug("an optional value that is not a field"),
        }
    }

    fn expr(&mut self, f: &mut Frame, e: &hir::Expr) -> R<NodeId> {
        Ok(match &e.kind {
            H::Const(v) => self.konst(*v),
            H::Text(_) => return bug("text outside a comparison"),
            H::Local(l) => match f.locals.get(l).cloned() {
                Some(Binding::Slot(s)) => self.push(Node::Local(s)),
                Some(Binding::Subst(x)) => self.expr(f, &x)?,
                None => return bug(format!("an unbound local ({l})")),
            },
            H::AsOf => self.push(Node::AsOf),
            H::Field(b, r, fi) => {
                let rec = self.expr(f, b)?;
                self.push(Node::Field {
                    rec,
                    record: r.raw(),
                    field: fi.raw(),
                })
            }
            H::IsSet(x) => {
                let (rec, record, field) = self.opt_field(f, x)?;
                self.push(Node::FieldIsSet { rec, record, field })
            }
            H::Unwrap(x) => {
                let (rec, record, field) = self.opt_field(f, x)?;
                self.push(Node::Field { rec, record, field })
            }
            H::Rule(r, arg) => {
                let inst = self.instance(Key::Rule(*r), f.ctx)?;
                let rec = match arg {
                    Some(a) => Some(self.expr(f, a)?),
                    None => None,
                };
                self.push(Node::Call { inst, rec })
            }
            H::CascadePart(r, i, arg) => {
                let inst = self.instance(Key::Part(*r, *i), f.ctx)?;
                let rec = match arg {
                    Some(a) => Some(self.expr(f, a)?),
                    None => None,
                };
                self.push(Node::Call { inst, rec })
            }
            H::Scale(r, args) => self.scale(f, *r, args)?,
            H::Param(p, keys) => {
                let pref = self.pref(p.raw(), f.ctx);
                let mut ks = Vec::new();
                for k in keys {
                    ks.push(self.expr(f, k)?);
                }
                self.push(Node::Param { pref, keys: ks })
            }
            H::Neg(x) => {
                let v = self.expr(f, x)?;
                self.push(Node::Neg(v))
            }
            H::Not(x) => {
                let v = self.expr(f, x)?;
                self.push(Node::Not(v))
            }
            H::Arith(op, a, b) => {
                let a = self.expr(f, a)?;
                let b = self.expr(f, b)?;
                self.push(Node::Arith(*op, a, b))
            }
            H::Cmp(op, a, b) => {
                if a.ty == Ty::Text || b.ty == Ty::Text {
                    let ta = self.text_ref(f, a)?;
                    let tb = self.text_ref(f, b)?;
                    let eq = self.push(Node::TextEq(ta, tb));
                    match op {
                        CmpOp::Eq => eq,
                        CmpOp::Ne => self.push(Node::Not(eq)),
                        _ => return bug("ordering of text"),
                    }
                } else {
                    let a = self.expr(f, a)?;
                    let b = self.expr(f, b)?;
                    self.push(Node::Cmp(*op, a, b))
                }
            }
            H::And(a, b) => {
                let a = self.expr(f, a)?;
                let b = self.expr(f, b)?;
                self.push(Node::And(a, b))
            }
            H::Or(a, b) => {
                let a = self.expr(f, a)?;
                let b = self.expr(f, b)?;
                self.push(Node::Or(a, b))
            }
            H::If(c, a, b) => {
                let c = self.expr(f, c)?;
                let a = self.expr(f, a)?;
                let b = self.expr(f, b)?;
                self.push(Node::If(c, a, b))
            }
            H::Let(l, v, b) => {
                if matches!(v.ty, Ty::Opt(_) | Ty::Text) {
                    f.locals.insert(*l, Binding::Subst((**v).clone()));
                    self.expr(f, b)?
                } else {
                    let value = self.expr(f, v)?;
                    let slot = f.slot();
                    f.locals.insert(*l, Binding::Slot(slot));
                    let body = self.expr(f, b)?;
                    self.push(Node::Let { slot, value, body })
                }
            }
            H::Match(scrut, arms) => self.match_(f, scrut, arms)?,
            H::Agg {
                kind,
                var,
                over,
                body,
                filter,
            } => {
                let H::Field(g, gr, _) = &over.kind else {
                    return bug("aggregation over something other than a members field");
                };
                let Ty::List(member) = over.ty else {
                    return bug("aggregation over a non-list");
                };
                let group = self.expr(f, g)?;
                let slot = f.slot();
                f.locals.insert(*var, Binding::Slot(slot));
                let body = match body {
                    Some(b) => Some(self.expr(f, b)?),
                    None => None,
                };
                let filter = match filter {
                    Some(b) => Some(self.expr(f, b)?),
                    None => None,
                };
                self.push(Node::Agg {
                    kind: *kind,
                    group,
                    group_record: gr.raw(),
                    member_record: member.raw(),
                    slot,
                    body,
                    filter,
                })
            }
            H::Builtin(b, args) => match b {
                Builtin::BandsStart
                | Builtin::BandsContiguous
                | Builtin::MinRate
                | Builtin::MaxRate => {
                    let Some(H::Param(p, _)) = args.first().map(|a| &a.kind) else {
                        return bug("bands builtin on a non-parameter");
                    };
                    let pref = self.pref(p.raw(), f.ctx);
                    self.push(Node::BandsInfo(*b, pref))
                }
                _ => {
                    let mut xs = Vec::new();
                    for a in args {
                        xs.push(self.expr(f, a)?);
                    }
                    self.push(Node::Builtin(*b, xs))
                }
            },
            H::At(x, shift) => {
                let new = match shift {
                    Shift::PriorYear => Ctx::PriorYear(f.ctx),
                    Shift::Date(d) => Ctx::Fixed(*d),
                };
                let c = self.ctx(new);
                let saved = f.ctx;
                f.ctx = c;
                let r = self.expr(f, x);
                f.ctx = saved;
                r?
            }
            H::TestRecord(i) => match self.test_rows.get(*i) {
                Some(row) => self.konst(*row),
                None => return bug("a test record outside a test"),
            },
        })
    }

    fn match_(&mut self, f: &mut Frame, scrut: &hir::Expr, arms: &[hir::Arm]) -> R<NodeId> {
        if let Ty::Opt(_) = scrut.ty {
            let (rec, record, field) = self.opt_field(f, scrut)?;
            let set = self.push(Node::FieldIsSet { rec, record, field });
            let mut present = None;
            let mut absent = None;
            for a in arms {
                match a.pat {
                    Pat::Absent => absent = Some(self.expr(f, &a.body)?),
                    Pat::Any => {
                        if let Some(l) = a.bind {
                            let slot = f.slot();
                            f.locals.insert(l, Binding::Slot(slot));
                            let value = self.push(Node::Field { rec, record, field });
                            let body = self.expr(f, &a.body)?;
                            let b = self.push(Node::Let { slot, value, body });
                            if present.is_none() {
                                present = Some(b);
                            }
                        } else {
                            let b = self.expr(f, &a.body)?;
                            if present.is_none() {
                                present = Some(b);
                            }
                            if absent.is_none() {
                                absent = Some(b);
                            }
                        }
                    }
                    _ => return bug("a pattern that does not fit an optional"),
                }
            }
            let (Some(p), Some(a)) = (present, absent) else {
                return bug("a non-exhaustive match on an optional");
            };
            return Ok(self.push(Node::If(set, p, a)));
        }
        let sv = self.expr(f, scrut)?;
        let slot = f.slot();
        let mut out = Vec::new();
        for a in arms {
            let mask = match a.pat {
                Pat::Variants(m) => m,
                Pat::Bool(true) => 2,
                Pat::Bool(false) => 1,
                Pat::Any => u64::MAX,
                Pat::Absent => return bug("`absent` on a value that is not optional"),
            };
            if let Some(l) = a.bind {
                f.locals.insert(l, Binding::Slot(slot));
            }
            let b = self.expr(f, &a.body)?;
            out.push((mask, b));
        }
        Ok(self.push(Node::Switch {
            slot,
            scrut: sv,
            arms: out,
        }))
    }

    fn scale(&mut self, f: &mut Frame, rid: RuleId, args: &[hir::Expr]) -> R<NodeId> {
        let prog = self.prog.clone();
        let Some(rule) = prog.rules.get(rid) else {
            return bug("unknown scale");
        };
        let RuleKind::Scale(sd) = &rule.kind else {
            return bug("a call to a scale that did not check");
        };
        let mut lets = Vec::new();
        for (l, a) in sd.params.iter().zip(args) {
            let v = self.expr(f, a)?;
            let s = f.slot();
            f.locals.insert(*l, Binding::Slot(s));
            lets.push((s, v));
        }
        let Some((amount_slot, _)) = lets.first().copied() else {
            return bug("a scale without an amount");
        };
        let amount = self.push(Node::Local(amount_slot));
        let body = match sd.kind {
            ScaleKind::Marginal => {
                let bands = match &sd.bands {
                    ScaleBands::Param(p) => BandsSrc::Param(self.pref(p.raw(), f.ctx)),
                    ScaleBands::Rows(rows) => {
                        let mut out = Vec::new();
                        for (lo, hi, v) in rows {
                            out.push((*lo, *hi, self.expr(f, v)?));
                        }
                        BandsSrc::Rows(out)
                    }
                };
                let adjust = match &sd.adjust {
                    Some(a) => Some(self.expr(f, a)?),
                    None => None,
                };
                self.push(Node::Marginal {
                    amount,
                    bands,
                    adjust,
                    round_each: sd.round_each_band,
                })
            }
            ScaleKind::Flat => {
                let ScaleBands::Rows(rows) = &sd.bands else {
                    return bug("a flat scale over parameter bands");
                };
                let mut chain = self.fail(
                    ErrKind::NoBand,
                    format!("the amount is below every band of `{}`", rule.name),
                );
                for (lo, hi, v) in rows.iter().rev() {
                    let val = self.expr(f, v)?;
                    let a = self.push(Node::Local(amount_slot));
                    let l = self.konst(*lo);
                    let mut cond = self.push(Node::Cmp(CmpOp::Ge, a, l));
                    if let Some(h) = hi {
                        let a2 = self.push(Node::Local(amount_slot));
                        let hk = self.konst(*h);
                        let upper = self.push(Node::Cmp(CmpOp::Lt, a2, hk));
                        cond = self.push(Node::And(cond, upper));
                    }
                    chain = self.push(Node::If(cond, val, chain));
                }
                chain
            }
        };
        let mut out = body;
        for (s, v) in lets.into_iter().rev() {
            out = self.push(Node::Let {
                slot: s,
                value: v,
                body: out,
            });
        }
        Ok(out)
    }
}
