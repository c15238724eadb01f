//! The cranelift JIT: native code for a bound Weft program.
//!
//! [`JitProgram::compile`] turns every instance that a [`Bound`] program
//! can reach into one native function, and [`JitProgram::eval_chunk`] /
//! [`JitProgram::eval_insts`] run them with exactly the meaning of the
//! reference interpreter (`weft-interp`): the same values, the same lazy
//! evaluation order, and for a failure the same [`EvalError`] (kind,
//! instance, row and sentence). Every IR node kind compiles, and what
//! cannot be compiled is a [`JitError`]. [`Jit`] is the JIT as a
//! [`weft_interp::batch::Engine`], the one engine abstraction the runner,
//! the tests and the API use.
//!
//! # Code generation scheme
//!
//! **What is baked in.** The formula version of each instance, the dates
//! of the contexts (the evaluation date, prior-year ends) and the
//! parameter values are constants in the code: the program keeps the
//! [`Bound`] it was compiled with and evaluates with it, so another month
//! or a parameter overlay is another program (see [`JitProgram::fits`]).
//! A parameter lookup checks each key against its number of variants
//! (else `no_band`, as the interpreter) and loads the value from a table
//! of the bound values indexed by the keys' variants (`runtime::
//! ParamTable`, owned by the program, its address a constant), whose
//! entries also say which combinations the interpreter rejects; when
//! every entry is the same value the lookup is that constant. Compiling
//! the jilin pack takes tens of milliseconds, so
//! [`JitProgram::compile_cached`] keeps compiled programs in memory by
//! the hash of what was bound (`cache.rs`).
//!
//! **Calling convention.** Every instance `i` becomes a function
//! `inst_i(ctx: *mut Ctx, row: i64) -> (value: i64, err: i64)` in the
//! host's C calling convention (two results: `rax`/`rdx` on x86-64).
//! `err` is 0 on success, otherwise the 1-based id of an error recorded in
//! the context. Only some instances are *memoised* (`inlining.rs`: those
//! on a cycle of calls, and those that are neither cheap nor evaluated at
//! most once per row by a single call site). A call of a memoised
//! instance is a direct call, and the call site first reads the callee's
//! memo entry itself and calls only when the value is not there yet (so a
//! memo hit costs no call). A call of an instance that is not memoised
//! generates the callee's body inline, in a *frame* of its own (its slots,
//! and its instance and row for errors), after the callee's row check —
//! left out when the row is the caller's own, already checked. Rust
//! enters generated code through one trampoline, `entry(ctx, fn, row) ->
//! err`, that calls `fn` indirectly and leaves the value in `ctx.out`, so
//! Rust never relies on how two results are returned.
//!
//! **Group driver.** For the output plan (`weft_interp::batch::Plan::outputs`:
//! every output column of the member record, then of the group record)
//! one more function, `group(ctx, outs, g, lo, hi) -> err`, evaluates a
//! whole group in the batch order — member rows `lo..hi` × member columns,
//! then the group columns for row `g` — generating each column's instance
//! as a call site does (inline, or through the memo), and stores the
//! values through `outs` (`[member rows, group rows, a pointer per member
//! column, a pointer per group column]`, storing only below those
//! lengths). It returns the first error's id. [`JitProgram::eval_chunk`]
//! calls it once per group when given that plan, and otherwise evaluates
//! column by column through the trampoline.
//!
//! **Context and memo layout.** The context (see `runtime.rs`) begins with
//! machine words generated code reads at fixed offsets: a helper status
//! word, the trampoline's result, and pointers to the memo descriptors,
//! the memo states, the memo values, the column descriptors, the
//! parameter descriptors and the band tables of marginal scales. The memo
//! is two flat arrays (a state byte — unset, busy, done, failed — and an
//! `i64`) in *groups*: one per record kind, holding its memoised instances
//! row-major (row `r`, instance `i` at
//! `base + r × width + local(i)`, so one row's values share a few cache
//! lines), and one row for the instances without a record. `width` and
//! `local(i)` are constants in the code; `base` and the row count come from
//! the group's descriptor, built per evaluation from the chunk's row
//! counts (groups exist for every record, memoised instances or not: the
//! descriptor's row count is what row checks compare with). A failed entry
//! holds the error id, so a memoised error is returned again to later
//! callers exactly as the interpreter does. Each function starts with the
//! row check (`row < rows`, else the interpreter's "row out of range");
//! a memoised instance's function then checks the memo (done → return the
//! value; failed → return the error; for an instance on a cycle of calls,
//! the only kind that can be entered again while it runs: busy → "a rule
//! depends on itself", else mark the entry busy), evaluates the body with
//! its frame slots in SSA variables (slot 0 = the row), and stores the
//! result; another's just
//! evaluates the body. An instance that is not memoised is evaluated again
//! by every call: that gives the same value or the same error (kind,
//! instance, row, sentence) as the interpreter's memo, since an evaluation
//! has no other effect. All per-evaluation state lives in the
//! context, so one compiled program serves any number of threads at once;
//! the memo buffers are reused by the next evaluation on the same thread.
//!
//! **Error exit.** A failing operation branches to a cold block of its
//! function that calls the `weft_jit_raise` helper with a *site* number
//! (an error kind with its default sentence, one of the interpreter's
//! internal errors, or a `Fail` node's site), the instance and the row of
//! the frame that failed; the helper records the error and returns its
//! id; the block jumps to the function's error exit, which memoises the
//! failure (for a memoised instance) and returns the id.
//! A callee's error id is propagated unchanged, as the interpreter
//! propagates its `EvalError`.
//!
//! **Proven, else checked.** `ranges.rs` gives every node an interval
//! holding all its values, from the domains of the fields it reads (what
//! validation accepts: money `0..=¥1,000,000,000,000.00`, whole numbers
//! `≥ 0`, enum variants, dates of years `0000..=9999`, narrowed by
//! declared ranges such as `in 0..=4`), the parameter values compiled in,
//! constants, and at most 2¹⁶ members per household. An operation whose
//! exact result provably fits in 64 bits is generated without its
//! overflow check (`+ − ×`, negation, sums over members, `abs`, rounding
//! to a unit, the product of a rounded product). The proofs assume the
//! chunk's values are in those domains: each evaluation first checks the
//! columns the proofs rely on and the household sizes (one scan per
//! chunk, outside every loop), and a chunk that breaks them — never one
//! built from validated input; hand-built chunks or test records outside
//! a declared range can — is evaluated by the interpreter.
//! [`JitProgram::compile_checked`] compiles without proofs (every
//! overflow checked), for differential tests of the checks.
//!
//! **No traps.** Generated code never executes a trapping instruction
//! (cranelift-jit installs no signal handler, so a trap would kill the
//! process): checked `+ − ×` use cranelift's overflow-flag instructions,
//! every division has a divisor known to be neither 0 nor −1, and every
//! memory access is bounds-checked against a descriptor length (a failed
//! check leaves the fast path for a helper that finds the interpreter's
//! exact error). Rounded products `round(a × b ÷ d)` take a fast path when
//! the 128-bit product fits in 64 bits (`smulhi` agrees with the sign of
//! `imul`) and otherwise call the interpreter's own 128-bit arithmetic
//! (`weft_interp::ops`). Adding days or months, text, marginal scales with
//! inline bands, and the slow paths of fields and parameters are Rust
//! helpers too. A marginal scale over a parameter's bands is a generated
//! loop over a band table the context builds per evaluation, while 64-bit
//! arithmetic suffices, and the helper otherwise. Helpers report a failure
//! in the context's status word, checked after each call.
//! The date builtins (`years_between`, `months_between`, `year`, `month`,
//! `day`) are generated inline, step by step as `weft_syntax::num`
//! computes them (divisions by positive constants only), with a known date
//! (the evaluation date, a context's date) split into year, month and day
//! when compiling.
//!
//! **Compiled when first needed.** [`JitProgram::compile`] generates the
//! functions generated code calls (those of memoised instances), the
//! trampoline and the group driver: all that `weft run` needs. The
//! functions of the other instances are entered only from Rust (another
//! plan, [`JitProgram::eval_insts`]); they are all generated the first time
//! one of them is needed, under the module's lock, with the formulas and
//! dates the program was compiled with (a function's address is published
//! once its code is final). Their expansion is bounded in `inlining.rs`,
//! so generating them cannot fail with [`JitError::TooDeep`]; if it failed
//! anyway (a bug), the instance would report the interpreter's "row out of
//! range" like an instance without code.
//!
//! **Memory.** The machine code lives in a `JITModule` that the program
//! frees when dropped.
//!
//! **Where the JIT needs the interpreter.** Assertions over keys
//! (`every r: Region`) need preset frame slots, which
//! [`JitProgram::eval_insts`] does not take: check assertions with the
//! interpreter (`weft check` does).
//!
//! This crate does no I/O.

mod cache;
mod codegen;
mod inlining;
mod ranges;
mod runtime;
mod sites;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::Module;
use runtime::{Ctx, Info};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use weft_interp::EvalError;
use weft_interp::batch::{ChunkResult, Compiled, Engine, Plan, member_range};
use weft_ir::bind::Bound;
use weft_ir::data::Chunk;
use weft_ir::{BandsSrc, InstId, Ir, Node, NodeId};

/// Why a program could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JitError {
    /// Cranelift cannot generate code for this machine.
    #[error("this machine cannot run generated code: {0}")]
    UnsupportedHost(String),
    /// An expression nested deeper than the compiler follows.
    #[error("the formula of `{name}` (instance {inst}) is nested too deeply to compile")]
    TooDeep { inst: InstId, name: String },
    /// Cranelift rejected the generated code (a bug in this crate).
    #[error("code generation failed: {0}")]
    Codegen(String),
    /// The compiler thread could not be started or stopped unexpectedly.
    #[error("the compiler stopped unexpectedly: {0}")]
    Crashed(String),
}

/// The trampoline: `entry(ctx, fn, row) -> err`.
type Entry = unsafe extern "C" fn(*mut Ctx<'static>, usize, i64) -> i64;

/// The group driver: `group(ctx, outs, g, lo, hi) -> err` (see
/// `Compiler::define_group`).
type GroupFn = unsafe extern "C" fn(*mut Ctx<'static>, *const i64, i64, i64, i64) -> i64;

/// The module (owning the machine code) with its declarations, and the
/// instances whose functions are compiled only when first needed.
struct Lazy {
    parts: codegen::Parts,
    /// Instances that are not memoised: generated code never calls their
    /// functions (it generates their bodies inline), only Rust does.
    pending: Vec<InstId>,
}

/// Owns the machine code; frees it when dropped.
struct Code(Mutex<Option<Lazy>>);

impl Drop for Code {
    fn drop(&mut self) {
        let lazy = match self.0.get_mut() {
            Ok(m) => m.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(l) = lazy {
            // SAFETY: the module's code is only reachable through the
            // `JitProgram` that owns this `Code` (or a compilation that
            // failed before handing any pointer out); it is being dropped,
            // so no evaluation is running and no pointer is used again.
            unsafe { l.parts.module.free_memory() };
        }
    }
}

/// A bound program compiled to native code. `Send + Sync`: evaluate it from
/// any number of threads at once.
pub struct JitProgram {
    /// Owns the machine code the pointers below point into.
    _code: Code,
    entry: Entry,
    /// The group driver of the plan it was compiled for.
    group: Option<(Plan, GroupFn)>,
    /// Per instance: the address of its function (0 when not compiled, or
    /// not yet: see [`Lazy`]).
    fns: Vec<AtomicUsize>,
    compiled: Vec<bool>,
    info: Info,
    /// The binding compiled in: formulas, dates and parameter values.
    bound: Bound,
    compile_time: Duration,
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitProgram")
            .field("functions", &self.compiled.iter().filter(|c| **c).count())
            .field("as_of", &self.bound.as_of)
            .field("compile_time", &self.compile_time)
            .finish_non_exhaustive()
    }
}

/// The CLIF of one instance's function, as generated and after cranelift's
/// optimisations (for snapshot tests and curious readers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clif {
    pub generated: String,
    pub optimized: String,
}

fn build_info(ir: &Ir, bound: &Bound, proofs: bool) -> Info {
    let mut col_base = Vec::with_capacity(ir.hir.records.len());
    let mut ncols = 0usize;
    for r in &ir.hir.records {
        col_base.push(ncols as u32);
        ncols += r.fields.len();
    }
    let param_keys = ir
        .param_refs
        .iter()
        .map(|pr| {
            ir.hir
                .params
                .get(pr.param as usize)
                .map(|p| p.keys.len())
                .unwrap_or(usize::MAX)
        })
        .collect();
    let mut marginal_rows = Vec::new();
    let mut marginal_table = std::collections::HashMap::new();
    let mut band_params = Vec::new();
    for n in &ir.nodes {
        if let Node::Marginal {
            bands: BandsSrc::Param(pref),
            ..
        } = n
        {
            band_params.push(*pref);
        }
    }
    band_params.sort_unstable();
    band_params.dedup();
    for (i, n) in ir.nodes.iter().enumerate() {
        if let Node::Marginal {
            bands: BandsSrc::Rows(rows),
            ..
        } = n
        {
            marginal_table.insert(i as NodeId, marginal_rows.len() as u32);
            marginal_rows.push(rows.iter().map(|(lo, hi, _)| (*lo, *hi)).collect());
        }
    }
    let shape = inlining::shape(ir, bound);
    let param_tables = param_keys_tables(ir, bound);
    let mut info = Info {
        param_tables,
        sites: sites::table(ir),
        col_base,
        ncols,
        param_keys,
        marginal_rows,
        marginal_table,
        memo: runtime::MemoLayout::new(ir, bound, &shape.memoised),
        band_params,
        row_stable: shape.row_stable,
        on_cycle: shape.on_cycle,
        proofs: ranges::Proofs::default(),
    };
    if proofs {
        info.proofs = ranges::prove(ir, bound, &info);
    }
    info
}

/// Per parameter reference, its bound values as a table compiled into
/// the code (see `runtime::ParamTable`).
fn param_keys_tables(ir: &Ir, bound: &Bound) -> Vec<Option<runtime::ParamTable>> {
    ir.param_refs
        .iter()
        .enumerate()
        .map(|(i, pr)| {
            let nkeys = ir.hir.params.get(pr.param as usize)?.keys.len();
            let bp = bound.params.get(i)?.as_ref()?;
            runtime::ParamTable::new(bp, nkeys)
        })
        .collect()
}

/// Run `f` on a thread with a large stack (code generation recurses over
/// the expression tree).
fn on_big_stack<T: Send>(f: impl FnOnce() -> Result<T, JitError> + Send) -> Result<T, JitError> {
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("weft-jit".into())
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(s, f)
            .map_err(|e| JitError::Crashed(e.to_string()))?;
        h.join()
            .unwrap_or_else(|_| Err(JitError::Crashed("the code generator panicked".to_string())))
    })
}

impl JitProgram {
    /// A program for `bound` from the in-memory cache of compiled programs
    /// (see `cache.rs`), compiled (and kept) when it is not there; `true`
    /// when it was found. The program must not be used with another `Ir`
    /// than an equal one.
    pub fn compile_cached(
        ir: &Ir,
        bound: &Bound,
    ) -> Result<(std::sync::Arc<JitProgram>, bool), JitError> {
        cache::compile_cached(ir, bound)
    }

    /// Compile every instance `bound` reaches.
    pub fn compile(ir: &Ir, bound: &Bound) -> Result<JitProgram, JitError> {
        on_big_stack(|| Self::compile_here(ir, bound, true))
    }

    /// [`compile`](Self::compile) without the proofs that remove overflow
    /// checks (`ranges.rs`): every operation checked, whatever the chunk.
    /// For differential tests of the checks themselves on values no
    /// validated input holds.
    pub fn compile_checked(ir: &Ir, bound: &Bound) -> Result<JitProgram, JitError> {
        on_big_stack(|| Self::compile_here(ir, bound, false))
    }

    fn compile_here(ir: &Ir, bound: &Bound, proofs: bool) -> Result<JitProgram, JitError> {
        let start = Instant::now();
        let info = build_info(ir, bound, proofs);
        let mut comp = codegen::Compiler::new(ir, bound, &info)?;
        let result = Self::generate(&mut comp);
        let entry_id = comp.entry;
        let group_id = comp.group.clone();
        let pending: Vec<InstId> = (0..comp.inst_funcs.len() as InstId)
            .filter(|i| comp.inst_funcs[*i as usize].is_some() && !Self::eager(&comp, *i))
            .collect();
        // From here on the module is freed on every path.
        let code = Code(Mutex::new(Some(Lazy {
            parts: comp.into_parts(),
            pending,
        })));
        result?;
        let mut guard = code
            .0
            .lock()
            .map_err(|_| JitError::Crashed("a poisoned lock".into()))?;
        let Some(lazy) = guard.as_mut() else {
            return Err(JitError::Crashed("the module vanished".into()));
        };
        let module = &mut lazy.parts.module;
        module
            .finalize_definitions()
            .map_err(|e| JitError::Codegen(format!("finalizing: {e}")))?;
        let compiled: Vec<bool> = lazy.parts.inst_funcs.iter().map(|f| f.is_some()).collect();
        let mut later = vec![false; compiled.len()];
        for i in &lazy.pending {
            if let Some(l) = later.get_mut(*i as usize) {
                *l = true;
            }
        }
        let fns: Vec<AtomicUsize> = lazy
            .parts
            .inst_funcs
            .iter()
            .zip(&later)
            .map(|(f, later)| match f {
                Some(id) if !later => AtomicUsize::new(module.get_finalized_function(*id) as usize),
                _ => AtomicUsize::new(0),
            })
            .collect();
        let entry_ptr = module.get_finalized_function(entry_id);
        let group = group_id.map(|(plan, id)| {
            let ptr = module.get_finalized_function(id);
            // SAFETY: `ptr` is the finalized code of the group driver,
            // defined with the signature (i64, i64, i64, i64, i64) -> i64
            // in the host's default (C) calling convention.
            (plan, unsafe {
                std::mem::transmute::<*const u8, GroupFn>(ptr)
            })
        });
        drop(guard);
        // SAFETY: `entry_ptr` is the finalized code of the trampoline,
        // defined with the signature (i64, i64, i64) -> i64 in the host's
        // default (C) calling convention; pointers and `usize` are 64 bits
        // (checked by `Compiler::new`).
        let entry: Entry = unsafe { std::mem::transmute::<*const u8, Entry>(entry_ptr) };
        Ok(JitProgram {
            _code: code,
            entry,
            group,
            compiled,
            fns,
            info,
            bound: bound.clone(),
            compile_time: start.elapsed(),
        })
    }

    /// The address of instance `inst`'s function, compiling the functions
    /// not compiled yet (see [`Lazy`]) if it is one of them; 0 when it has
    /// none (or, after a bug of the code generator, it could not be
    /// compiled).
    fn function(&self, ir: &Ir, inst: InstId) -> usize {
        let Some(f) = self.fns.get(inst as usize) else {
            return 0;
        };
        let a = f.load(Ordering::Acquire);
        if a != 0 || !self.compiled.get(inst as usize).copied().unwrap_or(false) {
            return a;
        }
        let _ = on_big_stack(|| self.compile_pending(ir));
        f.load(Ordering::Acquire)
    }

    /// Compile every function left for later, with the formulas and dates
    /// this program was compiled with.
    fn compile_pending(&self, ir: &Ir) -> Result<(), JitError> {
        let mut guard = self
            ._code
            .0
            .lock()
            .map_err(|_| JitError::Crashed("a poisoned lock".into()))?;
        let Some(lazy) = guard.take() else {
            return Err(JitError::Crashed("the module vanished".into()));
        };
        let Lazy { parts, pending } = lazy;
        if pending.is_empty() {
            *guard = Some(Lazy { parts, pending });
            return Ok(());
        }
        let mut comp = codegen::Compiler::from_parts(parts, ir, &self.bound, &self.info);
        let mut result = Ok(());
        let mut ctx = comp.module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        for i in &pending {
            result = comp.define_instance(&mut fctx, &mut ctx, *i);
            comp.module.clear_context(&mut ctx);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = comp
                .module
                .finalize_definitions()
                .map_err(|e| JitError::Codegen(format!("finalizing: {e}")));
        }
        if result.is_ok() {
            for i in &pending {
                let id = comp.inst_funcs.get(*i as usize).copied().flatten();
                if let (Some(id), Some(f)) = (id, self.fns.get(*i as usize)) {
                    let a = comp.module.get_finalized_function(id) as usize;
                    f.store(a, Ordering::Release);
                }
            }
        }
        *guard = Some(Lazy {
            parts: comp.into_parts(),
            pending: Vec::new(),
        });
        result
    }

    /// Whether instance `i`'s function is compiled with the program (not
    /// when first needed): memoised instances and record checks.
    fn eager(comp: &codegen::Compiler<'_>, i: InstId) -> bool {
        comp.memoised(i) || comp.ir().checks.iter().any(|c| c.contains(&i))
    }

    fn generate(comp: &mut codegen::Compiler<'_>) -> Result<(), JitError> {
        let mut ctx = comp.module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        // Only the memoised instances and the records' checks (which `weft
        // run` evaluates for every row): the others' functions are
        // compiled when first needed (see `Lazy`).
        for i in 0..comp.inst_funcs.len() {
            if comp.inst_funcs[i].is_none() || !Self::eager(comp, i as InstId) {
                continue;
            }
            comp.define_instance(&mut fctx, &mut ctx, i as InstId)?;
            comp.module.clear_context(&mut ctx);
        }
        comp.define_entry(&mut fctx, &mut ctx)?;
        comp.module.clear_context(&mut ctx);
        // The group driver of the output plan, when every column compiles.
        if let Some(plan) = Plan::outputs(comp.ir()) {
            let member = plan
                .member
                .as_ref()
                .map(|(_, c)| c.as_slice())
                .unwrap_or(&[]);
            let all = member.iter().chain(&plan.group.1).all(|i| {
                comp.inst_funcs
                    .get(*i as usize)
                    .is_some_and(|f| f.is_some())
            });
            if all {
                let id = comp.declare_group()?;
                comp.define_group(&mut fctx, &mut ctx, id, member, &plan.group.1)?;
                comp.module.clear_context(&mut ctx);
                comp.group = Some((plan, id));
            }
        }
        Ok(())
    }

    /// The CLIF of instance `inst`'s function.
    pub fn clif(ir: &Ir, bound: &Bound, inst: InstId) -> Result<Clif, JitError> {
        on_big_stack(|| {
            let info = build_info(ir, bound, true);
            let mut comp = codegen::Compiler::new(ir, bound, &info)?;
            let mut ctx = Context::new();
            let mut fctx = FunctionBuilderContext::new();
            let r = comp.gen_instance(&mut fctx, &mut ctx, inst).and_then(|()| {
                let generated = ctx.func.display().to_string();
                ctx.optimize(comp.module.isa(), &mut ControlPlane::default())
                    .map_err(|e| JitError::Codegen(format!("{e:?}")))?;
                Ok(Clif {
                    generated,
                    optimized: ctx.func.display().to_string(),
                })
            });
            drop(Code(Mutex::new(Some(Lazy {
                parts: comp.into_parts(),
                pending: Vec::new(),
            }))));
            r
        })
    }

    /// How many operations are compiled without their overflow check,
    /// proven unable to overflow on validated input (`ranges.rs`).
    pub fn proven_operations(&self) -> usize {
        let p = &self.info.proofs;
        p.safe.iter().filter(|s| **s).count() + p.product_fits.iter().filter(|s| **s).count()
    }

    /// Whether `chunk` holds only values the proofs assume (every chunk
    /// of validated input does); the others are evaluated by the
    /// interpreter.
    pub fn proofs_hold(&self, chunk: &Chunk) -> bool {
        self.info.proofs.assumptions.hold(chunk)
    }

    /// How long [`JitProgram::compile`] took.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Whether `bound` is the binding this program was compiled with: the
    /// same formulas, dates and parameter values (all compiled in). A
    /// program evaluates with its own binding whatever `Bound` an
    /// evaluation is given, so give it one that fits.
    pub fn fits(&self, bound: &Bound) -> bool {
        bound.as_of == self.bound.as_of
            && bound.ctx_dates == self.bound.ctx_dates
            && bound.body == self.bound.body
            && bound.params == self.bound.params
    }

    fn run<'a>(&'a self, ir: &'a Ir, _bound: &'a Bound, chunk: &'a Chunk) -> Run<'a> {
        let ctx = Ctx::new(ir, &self.bound, chunk, &self.info);
        Run {
            prog: self,
            ir,
            ctx: Box::into_raw(ctx),
        }
    }

    /// Evaluate a chunk for a batch: the contract (and result) of
    /// [`weft_interp::batch::eval_chunk`]. `bound` must [`fit`](Self::fits).
    pub fn eval_chunk(&self, ir: &Ir, bound: &Bound, chunk: &Chunk, plan: &Plan) -> ChunkResult {
        if !self.info.proofs.assumptions.hold(chunk) {
            // Values outside their fields' domains (no validated input
            // has them): the code's proofs do not hold for this chunk.
            return weft_interp::batch::eval_chunk(ir, &self.bound, chunk, plan);
        }
        let mut run = self.run(ir, bound, chunk);
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
        if let Some((p, driver)) = &self.group
            && p == plan
        {
            run.drive(*driver, chunk, plan, &mut out);
            return out;
        }
        'groups: for g in 0..groups {
            if let Some((_, cols)) = &plan.member {
                for m in member_range(ir, chunk, plan, g) {
                    for (c, inst) in cols.iter().enumerate() {
                        match run.eval(*inst, m) {
                            Ok(v) => {
                                if let Some(slot) =
                                    out.member_values.get_mut(c).and_then(|col| col.get_mut(m))
                                {
                                    *slot = v;
                                }
                            }
                            Err(e) => {
                                out.errors[g] = Some(e);
                                continue 'groups;
                            }
                        }
                    }
                }
            }
            for (c, inst) in plan.group.1.iter().enumerate() {
                match run.eval(*inst, g) {
                    Ok(v) => {
                        if let Some(slot) =
                            out.group_values.get_mut(c).and_then(|col| col.get_mut(g))
                        {
                            *slot = v;
                        }
                    }
                    Err(e) => {
                        out.errors[g] = Some(e);
                        continue 'groups;
                    }
                }
            }
        }
        out
    }

    /// Evaluate instances (each for a row of its record kind) in order with
    /// one shared memo, like calling the interpreter's `eval_inst` on one
    /// `Interp` in sequence. Instances whose frames need preset slots
    /// (assertions over keys) are evaluated with every slot unset: leave
    /// assertions to the interpreter.
    pub fn eval_insts(
        &self,
        ir: &Ir,
        bound: &Bound,
        chunk: &Chunk,
        insts: &[(InstId, usize)],
    ) -> Vec<Result<i64, EvalError>> {
        if !self.info.proofs.assumptions.hold(chunk) {
            // As in `eval_chunk`.
            let mut it = weft_interp::Interp::new(ir, &self.bound, chunk);
            return insts.iter().map(|(i, r)| it.eval_inst(*i, *r)).collect();
        }
        let mut run = self.run(ir, bound, chunk);
        insts.iter().map(|(i, r)| run.eval(*i, *r)).collect()
    }
}

/// The JIT as a [`weft_interp::batch::Engine`]: a compiled program with
/// the program and binding it evaluates.
#[derive(Clone)]
pub struct Jit<'a> {
    ir: &'a Ir,
    bound: &'a Bound,
    program: std::sync::Arc<JitProgram>,
    compiled: Compiled,
}

impl std::fmt::Debug for Jit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("program", &self.program)
            .field("compiled", &self.compiled)
            .finish_non_exhaustive()
    }
}

impl<'a> Jit<'a> {
    /// The program for `bound` from the cache of compiled programs
    /// ([`JitProgram::compile_cached`]), compiled when it is not there.
    pub fn new(ir: &'a Ir, bound: &'a Bound) -> Result<Jit<'a>, JitError> {
        let t = Instant::now();
        let (program, reused) = JitProgram::compile_cached(ir, bound)?;
        Ok(Jit {
            ir,
            bound,
            program,
            compiled: Compiled {
                time: t.elapsed(),
                reused,
            },
        })
    }

    /// An engine for a program compiled before (for a binding it
    /// [`fits`](JitProgram::fits), else it evaluates its own binding).
    pub fn with_program(
        ir: &'a Ir,
        bound: &'a Bound,
        program: std::sync::Arc<JitProgram>,
        compiled: Compiled,
    ) -> Jit<'a> {
        Jit {
            ir,
            bound,
            program,
            compiled,
        }
    }

    /// The compiled program.
    pub fn program(&self) -> &std::sync::Arc<JitProgram> {
        &self.program
    }
}

impl Engine for Jit<'_> {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn eval_chunk(&self, chunk: &Chunk, plan: &Plan) -> ChunkResult {
        self.program.eval_chunk(self.ir, self.bound, chunk, plan)
    }

    fn eval_insts(&self, chunk: &Chunk, insts: &[(InstId, usize)]) -> Vec<Result<i64, EvalError>> {
        self.program.eval_insts(self.ir, self.bound, chunk, insts)
    }

    fn compiled(&self) -> Option<Compiled> {
        Some(self.compiled)
    }
}

/// One evaluation: a context with its memo.
struct Run<'a> {
    prog: &'a JitProgram,
    ir: &'a Ir,
    /// From `Box::into_raw`; freed in `Drop`.
    ctx: *mut Ctx<'a>,
}

impl Run<'_> {
    fn eval(&mut self, inst: InstId, row: usize) -> Result<i64, EvalError> {
        let f = self.prog.function(self.ir, inst);
        let has_entity = self
            .ir
            .inst(inst)
            .map(|d| d.entity.is_some())
            .unwrap_or(false);
        let r = match i64::try_from(row) {
            Ok(r) => r,
            // No record has that many rows; an instance without one
            // ignores the row.
            Err(_) if has_entity => return Err(runtime::not_runnable(self.ir, inst, row)),
            Err(_) => 0,
        };
        if f == 0 {
            return Err(runtime::not_runnable(self.ir, inst, row));
        }
        // SAFETY: `self.ctx` is a live context built for this program
        // (descriptor arrays sized from its compile-time tables), used by
        // this thread only; `f` is the finalized code of an instance
        // function of the same module, which `self.prog` keeps alive.
        let e = unsafe { (self.prog.entry)(self.ctx.cast::<Ctx<'static>>(), f, r) };
        // SAFETY: generated code has returned; nothing else uses the context.
        let ctx = unsafe { &*self.ctx };
        if e == 0 {
            Ok(ctx.out)
        } else {
            Err(ctx.rt.error(e))
        }
    }
}

impl Run<'_> {
    /// Evaluate every group of the chunk through the group driver.
    fn drive(&mut self, driver: GroupFn, chunk: &Chunk, plan: &Plan, out: &mut ChunkResult) {
        let ir = self.ir;
        // The member offsets, found once (`member_range` per group).
        let offsets: Option<&[i64]> = plan.member.as_ref().and_then(|_| {
            let grec = plan.group.0;
            let (field, _) = ir.hir.records.get(grec as usize)?.members()?;
            match chunk.col(grec, field.raw()) {
                Some(weft_ir::data::Column::Members(off)) => Some(off.as_slice()),
                _ => None,
            }
        });
        let members = out.member_values.first().map(|c| c.len()).unwrap_or(0);
        let groups = out.errors.len();
        let mut outs: Vec<i64> =
            Vec::with_capacity(2 + out.member_values.len() + out.group_values.len());
        outs.push(members as i64);
        outs.push(groups as i64);
        for col in out.member_values.iter_mut() {
            debug_assert_eq!(col.len(), members);
            outs.push(col.as_mut_ptr() as i64);
        }
        for col in out.group_values.iter_mut() {
            debug_assert_eq!(col.len(), groups);
            outs.push(col.as_mut_ptr() as i64);
        }
        for (g, err) in out.errors.iter_mut().enumerate() {
            let (lo, hi) = match offsets {
                Some(off) => {
                    let lo = off.get(g).copied().unwrap_or(0).max(0);
                    let hi = off.get(g + 1).copied().unwrap_or(0).max(0);
                    (lo, hi.max(lo))
                }
                None => (0, 0),
            };
            // SAFETY: `self.ctx` is a live context built for this program,
            // used by this thread only; `driver` is the finalized group
            // driver of the same module; `outs` holds the two lengths and
            // one pointer per column of `out`, each to a buffer of that
            // many `i64`s that nothing else touches during the call (the
            // driver stores only below those lengths).
            let e = unsafe {
                driver(
                    self.ctx.cast::<Ctx<'static>>(),
                    outs.as_ptr(),
                    g as i64,
                    lo,
                    hi,
                )
            };
            if e != 0 {
                // SAFETY: generated code has returned; nothing else uses
                // the context.
                let ctx = unsafe { &*self.ctx };
                *err = Some(ctx.rt.error(e));
            }
        }
    }
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from `Box::into_raw` in `JitProgram::run` and
        // is freed only here.
        drop(unsafe { Box::from_raw(self.ctx) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn programs_are_send_and_sync() {
        assert_send_sync::<JitProgram>();
    }
}
