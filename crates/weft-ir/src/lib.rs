//! The evaluation IR shared by the interpreter and the JIT.
//!
//! Lowering ([`lower::lower`]) turns the checked program into *instances*:
//! each is one rule (or cascade part, output column, record check, test
//! expectation or assertion) evaluated in one *date context* (the
//! evaluation date, the end of the prior year, a fixed date). An instance
//! belongs to a record kind (its value is computed per row and memoised) or
//! to none (computed once per batch). Its body is an expression tree in one
//! flat arena of typed [`Node`]s; every value is an `i64` (money in fen,
//! decimals in millionths, dates in days, enum variants by index, booleans
//! 0/1, records by row). Tables, exceptions, cascades and scales are lowered
//! to a handful of primitive nodes, so an engine implements each meaning
//! exactly once.
//!
//! Binding ([`bind::bind`]) fixes an evaluation date: it resolves every
//! context to a date, every parameter lookup to the version in force then,
//! and every dated formula to its version. A bound program is what the
//! engines run; rebinding for another month or parameter overlay does not
//! change the instances.
//!
//! This crate does no I/O and never panics.

pub mod bind;
pub mod data;
pub mod lower;
pub mod value;

pub use weft_check::hir::{ArithOp, Builtin};
pub use weft_check::ty::{Per, Ty};
pub use weft_syntax::ast::{AggKind, CmpOp};

use std::sync::Arc;

pub type NodeId = u32;
pub type InstId = u32;
pub type CtxId = u32;
pub type Slot = u32;
pub type RecordId = u32;
pub type FieldId = u32;
/// Index into [`Ir::param_refs`].
pub type ParamRefId = u32;

/// A date context, resolved to a date when the program is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ctx {
    /// The evaluation date.
    AsOf,
    /// 31 December of the year before the date of another context.
    PriorYear(CtxId),
    Fixed(i32),
}

/// Why a record's evaluation failed: defined with the checker, which
/// checks the names written in `expect … fails with NAME`.
pub use weft_check::hir::ErrKind;

/// A failure point: its kind and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailSite {
    pub kind: ErrKind,
    pub detail: String,
}

/// Where a piece of text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextRef {
    /// A literal, by index into [`Ir::texts`].
    Lit(u32),
    /// A text field of the record in row `rec`.
    Field {
        rec: NodeId,
        record: RecordId,
        field: FieldId,
    },
}

/// Where the bands of a marginal scale come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandsSrc {
    Param(ParamRefId),
    /// `(lo, hi, rate)` with the rate an expression.
    Rows(Vec<(i64, Option<i64>, NodeId)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Const(i64),
    /// A slot of the current instance's frame.
    Local(Slot),
    /// The evaluation date.
    AsOf,
    /// The date a context is bound to.
    CtxDate(CtxId),
    /// A column of the record in row `rec` (for a link, the linked row).
    Field {
        rec: NodeId,
        record: RecordId,
        field: FieldId,
    },
    /// Whether an optional field of the record in row `rec` is present.
    FieldIsSet {
        rec: NodeId,
        record: RecordId,
        field: FieldId,
    },
    /// The value of an instance for the record in row `rec` (or a global
    /// instance when `rec` is `None`).
    Call {
        inst: InstId,
        rec: Option<NodeId>,
    },
    /// A scalar parameter in force in a context, keyed by enum values.
    Param {
        pref: ParamRefId,
        keys: Vec<NodeId>,
    },
    Neg(NodeId),
    Not(NodeId),
    Arith(ArithOp, NodeId, NodeId),
    Cmp(CmpOp, NodeId, NodeId),
    TextEq(TextRef, TextRef),
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    If(NodeId, NodeId, NodeId),
    Let {
        slot: Slot,
        value: NodeId,
        body: NodeId,
    },
    /// Evaluate `scrut` into `slot` and choose the first arm whose mask
    /// holds its value (bit `v` for value `v`, values 0..63).
    Switch {
        slot: Slot,
        scrut: NodeId,
        arms: Vec<(u64, NodeId)>,
    },
    /// Aggregate over the members of the group record in row `group`.
    Agg {
        kind: AggKind,
        group: NodeId,
        group_record: RecordId,
        member_record: RecordId,
        slot: Slot,
        body: Option<NodeId>,
        filter: Option<NodeId>,
    },
    Builtin(Builtin, Vec<NodeId>),
    /// Bands of a parameter (for assertions on bands): start, contiguity,
    /// min/max rate.
    BandsInfo(Builtin, ParamRefId),
    /// A marginal scale: the sum over bands of the part of `amount` in the
    /// band times the band's rate plus `adjust`; rounded to the fen per
    /// band, or once for the total.
    Marginal {
        amount: NodeId,
        bands: BandsSrc,
        adjust: Option<NodeId>,
        round_each: bool,
    },
    /// Fail with [`Ir::fails`]`[i]`.
    Fail(u32),
}

/// What an instance computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstKind {
    Rule,
    /// Part `i` of a cascade (`steps.len()` is the remainder), or one of
    /// the cascade's internal "what remains after step i" values.
    CascadePart {
        part: usize,
    },
    CascadeRemains {
        after: usize,
    },
    Column {
        output: usize,
        column: usize,
    },
    /// A record check, by index in the record's checks.
    Check {
        record: RecordId,
        check: usize,
    },
    Expect {
        test: usize,
        expect: usize,
    },
    /// One side of an expectation that compares two values.
    ExpectSide {
        test: usize,
        expect: usize,
        side: usize,
    },
    Assert {
        assert: usize,
    },
    /// A comparison of an assertion (side 0) or one of its sides (1, 2).
    AssertPart {
        assert: usize,
        side: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Instance {
    /// The rule's name (for a cascade part, the cascade's), as used in
    /// error rows (`rule:NAME`).
    pub name: String,
    pub kind: InstKind,
    pub rule: Option<u32>,
    pub ctx: CtxId,
    /// The record kind whose rows it is computed for; `None` for one value
    /// per batch.
    pub entity: Option<RecordId>,
    pub ty: Ty,
    /// Formulas by effective date: `(from, body)`, the first from
    /// `i32::MIN`, sorted.
    pub versions: Vec<(i32, NodeId)>,
    /// Frame size: slots used by `Let`, `Switch`, `Agg`; slot 0 holds the
    /// row of the record for entity instances.
    pub slots: u32,
}

/// One comparison of an assertion.
#[derive(Debug, Clone)]
pub struct AssertAtom {
    pub cond: InstId,
    pub left: InstId,
    pub right: InstId,
    pub span: weft_syntax::Span,
}

/// A parameter as used in one context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamRef {
    pub param: u32,
    pub ctx: CtxId,
}

#[derive(Debug, Clone)]
pub struct ColumnIr {
    pub name: String,
    pub ty: Ty,
    pub value: ColumnValue,
}

#[derive(Debug, Clone)]
pub enum ColumnValue {
    Inst(InstId),
    /// A text field reached through links from the output's record:
    /// the chain of `(record, field)` steps.
    Text(Vec<(RecordId, FieldId)>),
}

#[derive(Debug, Clone)]
pub struct OutputIr {
    pub name: String,
    pub record: RecordId,
    pub columns: Vec<ColumnIr>,
}

/// The lowered program: the checked program plus instances.
#[derive(Debug, Clone)]
pub struct Ir {
    pub hir: Arc<weft_check::Program>,
    pub nodes: Vec<Node>,
    pub instances: Vec<Instance>,
    pub contexts: Vec<Ctx>,
    pub param_refs: Vec<ParamRef>,
    pub texts: Vec<String>,
    pub fails: Vec<FailSite>,
    pub outputs: Vec<OutputIr>,
    /// Per record: its check instances, in declaration order.
    pub checks: Vec<Vec<InstId>>,
    /// Per test: its expectation instances.
    pub tests: Vec<Vec<InstId>>,
    /// Per test and expectation: the instances of the two sides of a
    /// comparison, if it is one.
    pub test_sides: Vec<Vec<Option<(InstId, InstId)>>>,
    /// Per assertion: its instance.
    pub asserts: Vec<InstId>,
    /// Per assertion: its comparisons, to say which failed and show both
    /// sides.
    pub assert_atoms: Vec<Vec<AssertAtom>>,
    /// What some `If` nodes decide, for explanations.
    pub notes: std::collections::HashMap<NodeId, Note>,
}

/// What an `If` node decides, for explanations: taken means the row
/// applied or the exception was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Row `row` of a table (an index into the table's rows).
    Row { rule: u32, row: usize },
    /// Exception `index` of a rule.
    Exception { rule: u32, index: usize },
}

impl Ir {
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    pub fn inst(&self, id: InstId) -> Option<&Instance> {
        self.instances.get(id as usize)
    }

    /// The group record (with a members list) and member record, if the
    /// policy has one.
    pub fn hierarchy(&self) -> Option<(RecordId, RecordId)> {
        self.hir
            .records
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.members().map(|(_, of)| (i as RecordId, of.raw())))
    }
}
