//! The engines available in this build: the reference interpreter and the
//! cranelift JIT.

use crate::run::ChunkEval;
use crate::testing::Evaluator;
use weft_interp::EvalError;
use weft_interp::batch::{ChunkResult, Plan};
use weft_ir::bind::Bound;
use weft_ir::data::Chunk;
use weft_ir::{InstId, Ir};
use weft_jit::JitProgram;

/// Whether the JIT engine can be used.
pub fn jit_available() -> bool {
    true
}

/// The JIT as a test evaluator. A program is compiled for a test's binding
/// and reused by every later test whose binding it fits
/// ([`JitProgram::fits`]: same month, formulas, dates and parameter
/// values, all compiled in). One evaluator serves one [`Ir`]: programs
/// are kept with the address and size of the `Ir` they were compiled from.
#[derive(Default)]
pub struct JitTests {
    programs: std::sync::Mutex<Vec<(usize, usize, std::sync::Arc<JitProgram>)>>,
}

impl JitTests {
    fn program(&self, ir: &Ir, bound: &Bound) -> Result<std::sync::Arc<JitProgram>, String> {
        let key = (std::ptr::from_ref(ir) as usize, ir.instances.len());
        if let Ok(programs) = self.programs.lock() {
            if let Some((_, _, p)) = programs
                .iter()
                .find(|(a, n, p)| (*a, *n) == key && p.fits(bound))
            {
                return Ok(p.clone());
            }
        }
        let (p, _) = JitProgram::compile_cached(ir, bound).map_err(|e| e.to_string())?;
        if let Ok(mut programs) = self.programs.lock() {
            programs.push((key.0, key.1, p.clone()));
        }
        Ok(p)
    }
}

impl Evaluator for JitTests {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn eval(
        &self,
        ir: &Ir,
        bound: &Bound,
        chunk: &Chunk,
        insts: &[(InstId, usize)],
    ) -> Vec<Result<i64, EvalError>> {
        match self.program(ir, bound) {
            Ok(j) => j.eval_insts(ir, bound, chunk, insts),
            Err(e) => insts
                .iter()
                .map(|(i, r)| {
                    Err(EvalError {
                        kind: weft_ir::ErrKind::NoRow,
                        inst: *i,
                        row: Some(*r),
                        detail: format!("the JIT could not compile the policy: {e}"),
                    })
                })
                .collect(),
        }
    }
}

/// The JIT as a test evaluator.
pub fn jit_evaluator() -> Option<Box<dyn Evaluator>> {
    Some(Box::new(JitTests::default()))
}

/// A JIT-compiled program for batches (from the cache of compiled
/// programs: see [`JitProgram::compile_cached`]).
pub struct JitChunks<'a> {
    ir: &'a Ir,
    bound: &'a Bound,
    plan: &'a Plan,
    program: std::sync::Arc<JitProgram>,
    /// How long getting the program took, and whether it was cached.
    compiled: (std::time::Duration, bool),
}

impl ChunkEval for JitChunks<'_> {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn eval_chunk(&self, chunk: &Chunk) -> ChunkResult {
        self.program
            .eval_chunk(self.ir, self.bound, chunk, self.plan)
    }

    fn eval_insts(
        &self,
        chunk: &Chunk,
        insts: &[(InstId, usize)],
    ) -> Option<Vec<Result<i64, EvalError>>> {
        Some(self.program.eval_insts(self.ir, self.bound, chunk, insts))
    }

    fn compiled(&self) -> Option<(std::time::Duration, bool)> {
        Some(self.compiled)
    }
}

/// The JIT compiled for a bound program (or the same program compiled
/// before, from the cache).
pub fn jit_chunk_eval<'a>(
    ir: &'a Ir,
    bound: &'a Bound,
    plan: &'a Plan,
) -> Option<Result<Box<dyn ChunkEval + 'a>, String>> {
    let t = std::time::Instant::now();
    Some(match JitProgram::compile_cached(ir, bound) {
        Ok((program, reused)) => Ok(Box::new(JitChunks {
            ir,
            bound,
            plan,
            program,
            compiled: (t.elapsed(), reused),
        })),
        Err(e) => Err(format!("the JIT cannot compile this policy: {e}")),
    })
}
