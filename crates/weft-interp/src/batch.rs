//! Evaluating a chunk of records for a batch: the contract every engine
//! implements (the JIT returns the same [`ChunkResult`] for the same input).
//!
//! A *group* is a row of the group record (a household) with its members
//! (its persons), or, in a policy without members, one row. Each group is
//! evaluated in this order: for each member, in row order, each of the
//! member output's columns in declaration order; then each of the group
//! output's columns. The first error met rejects the group: its error is
//! recorded and the rest of the group is not evaluated. The values of a
//! rejected group's rows are unspecified (they are never written).
//!
//! [`Engine`] is the one abstraction over "the interpreter or the JIT":
//! a bound program that evaluates chunks for a plan and instances for
//! rows. [`Interpreter`] implements it here; `weft_jit::Jit` implements it
//! with compiled code and the same results, errors included.

use crate::{EvalError, Interp};
use std::time::Duration;
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column};
use weft_ir::{InstId, Ir, RecordId};

/// Which instances make the outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The member record and its output columns (one instance per column
    /// that is computed; text columns are copied by the engine).
    pub member: Option<(RecordId, Vec<InstId>)>,
    /// The group record (the only record without a hierarchy) and its
    /// output columns.
    pub group: (RecordId, Vec<InstId>),
}

impl Plan {
    /// The plan `weft run` evaluates: every computed column of the outputs
    /// of the member record, then of the group record (the one with a
    /// members list; in a policy without one, the first output's record
    /// and no members). `None` when the policy declares no output and has
    /// no hierarchy.
    pub fn outputs(ir: &Ir) -> Option<Plan> {
        let (group, member) = match ir.hierarchy() {
            Some((g, m)) => (g, Some(m)),
            None => (ir.outputs.first()?.record, None),
        };
        let cols = |rec: RecordId| -> Vec<InstId> {
            ir.outputs
                .iter()
                .filter(|o| o.record == rec)
                .flat_map(|o| o.columns.iter())
                .filter_map(|c| match c.value {
                    weft_ir::ColumnValue::Inst(i) => Some(i),
                    weft_ir::ColumnValue::Text(_) => None,
                })
                .collect()
        };
        Some(Plan {
            member: member.map(|m| (m, cols(m))),
            group: (group, cols(group)),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChunkResult {
    /// `[column][member row]`.
    pub member_values: Vec<Vec<i64>>,
    /// `[column][group row]`.
    pub group_values: Vec<Vec<i64>>,
    /// Per group row: the error that rejected it.
    pub errors: Vec<Option<EvalError>>,
}

/// An engine evaluating one bound program (an [`Ir`] with its [`Bound`]):
/// what `weft run`, `weft test`, `weft diff` and the API evaluate with.
/// Implementations give identical results, errors included; they differ
/// only in speed.
pub trait Engine: Sync {
    /// `interp` or `jit`, as the command line and manifests name them.
    fn name(&self) -> &'static str;
    /// Evaluate a chunk for a batch, in the order and with the result the
    /// module documentation describes.
    fn eval_chunk(&self, chunk: &Chunk, plan: &Plan) -> ChunkResult;
    /// Evaluate instances (each for a row of its record kind) in order
    /// with one shared memo, as [`Interp::eval_inst`] on one [`Interp`]
    /// does: the records' checks, a test's expectations.
    fn eval_insts(&self, chunk: &Chunk, insts: &[(InstId, usize)]) -> Vec<Result<i64, EvalError>>;
    /// For compiled code: how getting the program went.
    fn compiled(&self) -> Option<Compiled> {
        None
    }
}

/// How an engine's program was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiled {
    /// How long compiling (or finding the compiled program) took.
    pub time: Duration,
    /// Whether a program compiled before for the same binding was reused.
    pub reused: bool,
}

/// The reference interpreter as an [`Engine`].
#[derive(Debug, Clone, Copy)]
pub struct Interpreter<'a> {
    pub ir: &'a Ir,
    pub bound: &'a Bound,
}

impl<'a> Interpreter<'a> {
    pub fn new(ir: &'a Ir, bound: &'a Bound) -> Interpreter<'a> {
        Interpreter { ir, bound }
    }
}

impl Engine for Interpreter<'_> {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn eval_chunk(&self, chunk: &Chunk, plan: &Plan) -> ChunkResult {
        eval_chunk(self.ir, self.bound, chunk, plan)
    }

    fn eval_insts(&self, chunk: &Chunk, insts: &[(InstId, usize)]) -> Vec<Result<i64, EvalError>> {
        let mut it = Interp::new(self.ir, self.bound, chunk);
        insts.iter().map(|(i, r)| it.eval_inst(*i, *r)).collect()
    }
}

/// The member rows of group `g`.
pub fn member_range(ir: &Ir, chunk: &Chunk, plan: &Plan, g: usize) -> std::ops::Range<usize> {
    if plan.member.is_none() {
        return 0..0;
    }
    let (grec, _) = plan.group;
    let Some((field, _)) = ir.hir.records.get(grec as usize).and_then(|r| r.members()) else {
        return 0..0;
    };
    match chunk.col(grec, field.raw()) {
        Some(Column::Members(off)) => {
            let lo = off.get(g).copied().unwrap_or(0).max(0) as usize;
            let hi = off.get(g + 1).copied().unwrap_or(0).max(0) as usize;
            lo..hi.max(lo)
        }
        _ => 0..0,
    }
}

/// Evaluate a chunk with the interpreter.
pub fn eval_chunk(ir: &Ir, bound: &Bound, chunk: &Chunk, plan: &Plan) -> ChunkResult {
    let mut it = Interp::new(ir, bound, chunk);
    let groups = chunk.rows(plan.group.0);
    let members = plan
        .member
        .as_ref()
        .map(|(r, _)| chunk.rows(*r))
        .unwrap_or(0);
    let mut out = ChunkResult {
        member_values: plan
            .member
            .as_ref()
            .map(|(_, c)| vec![vec![0; members]; c.len()])
            .unwrap_or_default(),
        group_values: vec![vec![0; groups]; plan.group.1.len()],
        errors: vec![None; groups],
    };
    'groups: for g in 0..groups {
        if let Some((_, cols)) = &plan.member {
            for m in member_range(ir, chunk, plan, g) {
                for (c, inst) in cols.iter().enumerate() {
                    match it.eval_inst(*inst, m) {
                        Ok(v) => out.member_values[c][m] = v,
                        Err(e) => {
                            out.errors[g] = Some(e);
                            continue 'groups;
                        }
                    }
                }
            }
        }
        for (c, inst) in plan.group.1.iter().enumerate() {
            match it.eval_inst(*inst, g) {
                Ok(v) => out.group_values[c][g] = v,
                Err(e) => {
                    out.errors[g] = Some(e);
                    continue 'groups;
                }
            }
        }
    }
    out
}
