//! The engines: the reference interpreter and the cranelift JIT, both
//! behind one trait, [`Engine`] (`weft_interp::batch::Engine`), which
//! run, test, diff and the API evaluate with.

pub use weft_interp::batch::{Compiled, Engine, Interpreter};
use weft_ir::Ir;
use weft_ir::bind::Bound;
pub use weft_jit::Jit;

/// Which engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// The reference interpreter: the definition of what a policy means.
    Interp,
    /// Native code compiled with cranelift; bit-identical to the interpreter.
    Jit,
}

impl EngineKind {
    /// `interp` or `jit`.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
        }
    }

    /// This engine for a bound program: the JIT's compiled program comes
    /// from the cache of compiled programs when it was compiled before
    /// for the same binding ([`weft_jit::JitProgram::compile_cached`]).
    pub fn engine<'a>(self, ir: &'a Ir, bound: &'a Bound) -> Result<Box<dyn Engine + 'a>, String> {
        Ok(match self {
            EngineKind::Interp => Box::new(Interpreter::new(ir, bound)),
            EngineKind::Jit => Box::new(
                Jit::new(ir, bound)
                    .map_err(|e| format!("the JIT cannot compile this policy: {e}"))?,
            ),
        })
    }
}
