//! Hooks that record an evaluation as it happens, for explanations.

use crate::EvalError;
use weft_ir::{InstId, NodeId, ParamRefId};

/// A record kind and a field of it (as the IR numbers them).
pub type FieldRef = (u32, u32);

/// Receives the steps of an evaluation. Every method has an empty default.
pub trait Tracer {
    /// An instance starts being evaluated for a row.
    fn enter(&mut self, _inst: InstId, _row: Option<usize>) {}
    /// It finished, with this result.
    fn exit(&mut self, _inst: InstId, _row: Option<usize>, _result: &Result<i64, EvalError>) {}
    /// `inst` used the value of `callee` for `callee_row`.
    fn used(
        &mut self,
        _inst: InstId,
        _row: Option<usize>,
        _callee: InstId,
        _callee_row: usize,
        _value: i64,
    ) {
    }
    /// `inst` read a parameter.
    fn param(
        &mut self,
        _inst: InstId,
        _row: Option<usize>,
        _pref: ParamRefId,
        _keys: &[i64],
        _value: i64,
    ) {
    }
    /// A condition was decided.
    fn branch(&mut self, _inst: InstId, _row: Option<usize>, _node: NodeId, _taken: bool) {}
    /// `inst` read an input field: `field` of the record's row `rec_row`.
    fn field(
        &mut self,
        _inst: InstId,
        _row: Option<usize>,
        _field: FieldRef,
        _rec_row: usize,
        _value: i64,
    ) {
    }
    /// `inst` compared two values (the `Cmp` node `node`): `lhs`, `rhs` and
    /// the outcome.
    fn compare(
        &mut self,
        _inst: InstId,
        _row: Option<usize>,
        _node: NodeId,
        _sides: (i64, i64),
        _result: bool,
    ) {
    }
}
