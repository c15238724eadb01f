//! The engines available in this build.

use weft_engine::run::ChunkEval;
use weft_engine::testing::Evaluator;
use weft_interp::batch::Plan;
use weft_ir::Ir;
use weft_ir::bind::Bound;

/// Whether the JIT engine can be used.
pub fn jit_available() -> bool {
    false
}

/// The JIT as a test evaluator, if available.
pub fn jit_evaluator() -> Option<Box<dyn Evaluator>> {
    None
}

/// The JIT compiled for a bound program, if available.
pub fn jit_chunk_eval<'a>(_ir: &'a Ir, _bound: &'a Bound, _plan: &'a Plan) -> Option<Result<Box<dyn ChunkEval + 'a>, String>> {
    None
}
