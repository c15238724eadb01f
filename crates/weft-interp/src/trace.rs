//! Hooks that record an evaluation as it happens, for explanations.

use crate::EvalError;
use weft_ir::{InstId, NodeId, ParamRefId};

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
}
