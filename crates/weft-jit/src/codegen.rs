//! IR → CLIF: one native function per bound instance, plus an entry
//! trampoline. See the crate documentation for the scheme.

use crate::JitError;
use crate::runtime::{self as rt, Info};
use crate::sites::{self, Internal};
use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{self, I8, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Signature, StackSlotData,
    StackSlotKind, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use std::collections::HashMap;
use weft_ir::bind::Bound;
use weft_ir::{
    AggKind, ArithOp, BandsSrc, Builtin, CmpOp, ErrKind, InstId, Ir, Node, NodeId, TextRef,
};
use weft_syntax::num::MICRO;

/// Deepest expression nesting compiled (the compiler recurses on a thread
/// with a large stack).
pub(crate) const MAX_DEPTH: usize = 20_000;

/// The Rust helpers generated code calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum H {
    Raise,
    Field,
    IsSet,
    Members,
    Param,
    Text,
    TextEq,
    MulRound,
    DivRound,
    AddDays,
    AddMonths,
    Builtin,
    RoundTo,
    BandsInfo,
    MarginalParam,
    MarginalRows,
}

const HELPERS: [H; 16] = [
    H::Raise,
    H::Field,
    H::IsSet,
    H::Members,
    H::Param,
    H::Text,
    H::TextEq,
    H::MulRound,
    H::DivRound,
    H::AddDays,
    H::AddMonths,
    H::Builtin,
    H::RoundTo,
    H::BandsInfo,
    H::MarginalParam,
    H::MarginalRows,
];

impl H {
    fn name(self) -> &'static str {
        match self {
            H::Raise => "weft_jit_raise",
            H::Field => "weft_jit_field",
            H::IsSet => "weft_jit_isset",
            H::Members => "weft_jit_members",
            H::Param => "weft_jit_param",
            H::Text => "weft_jit_text",
            H::TextEq => "weft_jit_text_eq",
            H::MulRound => "weft_jit_mul_round",
            H::DivRound => "weft_jit_div_round",
            H::AddDays => "weft_jit_add_days",
            H::AddMonths => "weft_jit_add_months",
            H::Builtin => "weft_jit_builtin",
            H::RoundTo => "weft_jit_round_to",
            H::BandsInfo => "weft_jit_bands_info",
            H::MarginalParam => "weft_jit_marginal_param",
            H::MarginalRows => "weft_jit_marginal_rows",
        }
    }

    /// Number of parameters, the context included.
    fn arity(self) -> usize {
        match self {
            H::Raise => 4,
            H::Field | H::IsSet => 4,
            H::Members => 3,
            H::Param => 4,
            H::Text => 5,
            H::TextEq => 3,
            H::MulRound | H::DivRound => 5,
            H::AddDays => 3,
            H::AddMonths => 4,
            H::Builtin => 4,
            H::RoundTo => 3,
            H::BandsInfo => 3,
            H::MarginalParam => 5,
            H::MarginalRows => 6,
        }
    }

    /// The helper's address (the helpers are `unsafe extern "C"`: only
    /// generated code calls them, with the evaluation's context).
    fn addr(self) -> *const u8 {
        match self {
            H::Raise => rt::h_raise as *const u8,
            H::Field => rt::h_field as *const u8,
            H::IsSet => rt::h_isset as *const u8,
            H::Members => rt::h_members as *const u8,
            H::Param => rt::h_param as *const u8,
            H::Text => rt::h_text as *const u8,
            H::TextEq => rt::h_text_eq as *const u8,
            H::MulRound => rt::h_mul_round as *const u8,
            H::DivRound => rt::h_div_round as *const u8,
            H::AddDays => rt::h_add_days as *const u8,
            H::AddMonths => rt::h_add_months as *const u8,
            H::Builtin => rt::h_builtin as *const u8,
            H::RoundTo => rt::h_round_to as *const u8,
            H::BandsInfo => rt::h_bands_info as *const u8,
            H::MarginalParam => rt::h_marginal_param as *const u8,
            H::MarginalRows => rt::h_marginal_rows as *const u8,
        }
    }
}

/// Memory flags: descriptors and context fields never change during an
/// evaluation and are always readable.
fn ro_fixed() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Data that does not change during an evaluation, read behind a check.
fn ro() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

fn rw() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// What a compiler keeps between compilations: the module and its
/// declarations.
pub(crate) struct Parts {
    pub module: JITModule,
    inst_sig: Signature,
    pub inst_funcs: Vec<Option<FuncId>>,
    helper_funcs: Vec<FuncId>,
    entry: FuncId,
}

/// A module being built: declarations of helpers, instances and the entry.
pub(crate) struct Compiler<'a> {
    pub module: JITModule,
    ir: &'a Ir,
    bound: &'a Bound,
    info: &'a Info,
    inst_sig: Signature,
    pub inst_funcs: Vec<Option<FuncId>>,
    helper_funcs: Vec<FuncId>,
    pub entry: FuncId,
    /// The group driver, with the plan it evaluates.
    pub group: Option<(weft_interp::batch::Plan, FuncId)>,
}

fn module_err(what: &str, e: impl std::fmt::Display) -> JitError {
    JitError::Codegen(format!("{what}: {e}"))
}

impl<'a> Compiler<'a> {
    pub fn new(ir: &'a Ir, bound: &'a Bound, info: &'a Info) -> Result<Compiler<'a>, JitError> {
        let mut fb = settings::builder();
        let set = |fb: &mut settings::Builder, k: &str, v: &str| {
            fb.set(k, v)
                .map_err(|e| module_err("a cranelift setting", e))
        };
        set(&mut fb, "opt_level", "speed")?;
        set(&mut fb, "use_colocated_libcalls", "false")?;
        set(&mut fb, "is_pic", "false")?;
        set(
            &mut fb,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        let isa_builder =
            cranelift_native::builder().map_err(|e| JitError::UnsupportedHost(e.to_string()))?;
        let isa = isa_builder
            .finish(settings::Flags::new(fb))
            .map_err(|e| module_err("the target", e))?;
        if isa.pointer_type() != I64 {
            return Err(JitError::UnsupportedHost(
                "pointers are not 64 bits wide".to_string(),
            ));
        }
        let call_conv = isa.default_call_conv();
        let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        for h in HELPERS {
            jb.symbol(h.name(), h.addr());
        }
        let mut module = JITModule::new(jb);
        let mut helper_funcs = Vec::new();
        for h in HELPERS {
            let mut sig = Signature::new(call_conv);
            for _ in 0..h.arity() {
                sig.params.push(AbiParam::new(I64));
            }
            sig.returns.push(AbiParam::new(I64));
            let id = module
                .declare_function(h.name(), Linkage::Import, &sig)
                .map_err(|e| module_err("declaring a helper", e))?;
            helper_funcs.push(id);
        }
        let mut inst_sig = Signature::new(call_conv);
        inst_sig.params.push(AbiParam::new(I64));
        inst_sig.params.push(AbiParam::new(I64));
        inst_sig.returns.push(AbiParam::new(I64));
        inst_sig.returns.push(AbiParam::new(I64));
        let mut inst_funcs = vec![None; ir.instances.len()];
        for (i, slot) in inst_funcs.iter_mut().enumerate() {
            if bound.body.get(i).copied().flatten().is_none() {
                continue;
            }
            let id = module
                .declare_function(&format!("inst{i}"), Linkage::Local, &inst_sig)
                .map_err(|e| module_err("declaring an instance", e))?;
            *slot = Some(id);
        }
        let mut entry_sig = Signature::new(call_conv);
        for _ in 0..3 {
            entry_sig.params.push(AbiParam::new(I64));
        }
        entry_sig.returns.push(AbiParam::new(I64));
        let entry = module
            .declare_function("entry", Linkage::Local, &entry_sig)
            .map_err(|e| module_err("declaring the entry", e))?;
        Ok(Compiler {
            module,
            ir,
            bound,
            info,
            inst_sig,
            inst_funcs,
            helper_funcs,
            entry,
            group: None,
        })
    }

    pub fn ir(&self) -> &'a Ir {
        self.ir
    }

    /// Whether instance `inst` is memoised (its function is called by
    /// generated code; the others' are only entered from Rust).
    pub fn memoised(&self, inst: InstId) -> bool {
        self.info
            .memo
            .slot
            .get(inst as usize)
            .is_some_and(|s| s.is_some())
    }

    /// The module and declarations, to define more functions later.
    pub fn into_parts(self) -> Parts {
        Parts {
            module: self.module,
            inst_sig: self.inst_sig,
            inst_funcs: self.inst_funcs,
            helper_funcs: self.helper_funcs,
            entry: self.entry,
        }
    }

    /// A compiler that goes on with `parts`, for the same `ir` and `info`
    /// and a binding with the same formulas and dates.
    pub fn from_parts(parts: Parts, ir: &'a Ir, bound: &'a Bound, info: &'a Info) -> Compiler<'a> {
        Compiler {
            module: parts.module,
            ir,
            bound,
            info,
            inst_sig: parts.inst_sig,
            inst_funcs: parts.inst_funcs,
            helper_funcs: parts.helper_funcs,
            entry: parts.entry,
            group: None,
        }
    }

    /// The group driver's signature: `(ctx, outs, g, lo, hi) -> err`.
    fn group_sig(&self) -> Signature {
        let mut sig = Signature::new(self.inst_sig.call_conv);
        for _ in 0..5 {
            sig.params.push(AbiParam::new(I64));
        }
        sig.returns.push(AbiParam::new(I64));
        sig
    }

    /// A function generator over `b` whose own frame is instance `inst`
    /// (of record `entity`); the group driver's is `u32::MAX`, no record.
    fn fn_gen<'s, 'f>(
        &'s mut self,
        b: FunctionBuilder<'f>,
        inst: InstId,
        entity: Option<u32>,
    ) -> FnGen<'s, 'f> {
        FnGen {
            b,
            module: &mut self.module,
            ir: self.ir,
            bound: self.bound,
            info: self.info,
            inst_funcs: &self.inst_funcs,
            helper_funcs: &self.helper_funcs,
            ctx: Value::from_u32(0),
            f: Frame::new(inst, entity, Value::from_u32(0), Value::from_u32(0), false),
            finished: Vec::new(),
            err_exit: Block::from_u32(0),
            helper_refs: vec![None; HELPERS.len()],
            inst_refs: HashMap::new(),
            depth: 0,
        }
    }

    /// Declare the group driver: `(ctx, outs, g, lo, hi) -> err`.
    pub fn declare_group(&mut self) -> Result<FuncId, JitError> {
        let sig = self.group_sig();
        self.module
            .declare_function("group", Linkage::Local, &sig)
            .map_err(|e| module_err("declaring the group driver", e))
    }

    /// Generate the CLIF of instance `inst` into `ctx.func`.
    pub fn gen_instance(
        &mut self,
        fctx: &mut FunctionBuilderContext,
        ctx: &mut Context,
        inst: InstId,
    ) -> Result<(), JitError> {
        let Some(fid) = self.inst_funcs.get(inst as usize).copied().flatten() else {
            return Err(JitError::Codegen(format!(
                "instance {inst} has no function"
            )));
        };
        let Some(body) = self.bound.body.get(inst as usize).copied().flatten() else {
            return Err(JitError::Codegen(format!("instance {inst} is not bound")));
        };
        let Some(def) = self.ir.inst(inst) else {
            return Err(JitError::Codegen(format!("instance {inst} does not exist")));
        };
        ctx.func.signature = self.inst_sig.clone();
        ctx.func.name = UserFuncName::user(0, fid.as_u32());
        let b = FunctionBuilder::new(&mut ctx.func, fctx);
        let mut g = self.fn_gen(b, inst, def.entity);
        g.instance(def.entity.is_some(), def.slots.max(1) as usize, body)?;
        g.b.seal_all_blocks();
        let cfg = g.module.target_config();
        g.b.finalize(cfg);
        Ok(())
    }

    /// The group driver of a plan: `group(ctx, outs, g, lo, hi) -> err`
    /// evaluates, in the batch order, each member row `lo..hi` × each
    /// member column, then each group column for row `g`, and stores each
    /// value at `outs`: `[member rows, group rows, one pointer per member
    /// column, one per group column]` (a value whose row is not below the
    /// column's length is not stored). Returns the first error's id, or 0.
    /// Every column instance must have a function.
    pub fn define_group(
        &mut self,
        fctx: &mut FunctionBuilderContext,
        ctx: &mut Context,
        fid: FuncId,
        member: &[InstId],
        group: &[InstId],
    ) -> Result<(), JitError> {
        ctx.func.signature = self.group_sig();
        ctx.func.name = UserFuncName::user(0, fid.as_u32());
        let b = FunctionBuilder::new(&mut ctx.func, fctx);
        let mut g = self.fn_gen(b, u32::MAX, None);
        g.group_driver(member, group)?;
        g.b.seal_all_blocks();
        let cfg = g.module.target_config();
        g.b.finalize(cfg);
        self.module
            .define_function(fid, ctx)
            .map_err(|e| JitError::Codegen(format!("compiling the group driver: {e:?}")))?;
        Ok(())
    }

    /// Compile and define instance `inst`.
    pub fn define_instance(
        &mut self,
        fctx: &mut FunctionBuilderContext,
        ctx: &mut Context,
        inst: InstId,
    ) -> Result<(), JitError> {
        self.gen_instance(fctx, ctx, inst)?;
        let Some(fid) = self.inst_funcs.get(inst as usize).copied().flatten() else {
            return Err(JitError::Codegen(format!(
                "instance {inst} has no function"
            )));
        };
        let name = self
            .ir
            .inst(inst)
            .map(|i| i.name.clone())
            .unwrap_or_default();
        self.module.define_function(fid, ctx).map_err(|e| {
            JitError::Codegen(format!("compiling `{name}` (instance {inst}): {e:?}"))
        })?;
        Ok(())
    }

    /// The entry trampoline: `entry(ctx, fn, row) -> err`, the value in
    /// `ctx.out`.
    pub fn define_entry(
        &mut self,
        fctx: &mut FunctionBuilderContext,
        ctx: &mut Context,
    ) -> Result<(), JitError> {
        let call_conv = self.inst_sig.call_conv;
        let mut sig = Signature::new(call_conv);
        for _ in 0..3 {
            sig.params.push(AbiParam::new(I64));
        }
        sig.returns.push(AbiParam::new(I64));
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, self.entry.as_u32());
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
            let blk = b.create_block();
            b.append_block_params_for_function_params(blk);
            b.switch_to_block(blk);
            let p = b.block_params(blk).to_vec();
            let (c, f, row) = match p.as_slice() {
                [c, f, row] => (*c, *f, *row),
                _ => return Err(JitError::Codegen("entry parameters".into())),
            };
            let sref = b.import_signature(self.inst_sig.clone());
            let call = b.ins().call_indirect(sref, f, &[c, row]);
            let res = b.inst_results(call).to_vec();
            let (v, e) = match res.as_slice() {
                [v, e] => (*v, *e),
                _ => return Err(JitError::Codegen("entry results".into())),
            };
            b.ins().store(rw(), v, c, rt::OFF_OUT);
            b.ins().return_(&[e]);
            b.seal_all_blocks();
            b.finalize(self.module.target_config());
        }
        self.module
            .define_function(self.entry, ctx)
            .map_err(|e| JitError::Codegen(format!("compiling the entry: {e:?}")))?;
        Ok(())
    }
}

/// Code generation for one instance's function.
struct FnGen<'a, 'f> {
    b: FunctionBuilder<'f>,
    module: &'a mut JITModule,
    ir: &'a Ir,
    bound: &'a Bound,
    info: &'a Info,
    inst_funcs: &'a [Option<FuncId>],
    helper_funcs: &'a [FuncId],
    ctx: Value,
    /// The frame being generated: the function's instance, or a callee
    /// generated inline.
    f: Frame,
    /// Frames of callees generated inline, finished (their raise blocks
    /// are generated with the function's).
    finished: Vec<Frame>,
    err_exit: Block,
    helper_refs: Vec<Option<FuncRef>>,
    inst_refs: HashMap<InstId, FuncRef>,
    /// Nesting of the current frame's expression.
    depth: usize,
}

/// One instance's evaluation inside a function: the function's own
/// instance, or a callee generated inline (see `inlining.rs`).
struct Frame {
    inst: InstId,
    entity: Option<u32>,
    /// The row (slot 0 on entry), checked against its record's rows.
    row: Value,
    /// Whether the body never writes slot 0 (so `Local(0)` is `row`).
    row_stable: bool,
    /// The row for errors: the row, or −1 for an instance without a record.
    erow: Value,
    slots: Vec<Variable>,
    /// Static raise blocks of this frame, by site.
    raise_blocks: Vec<(u32, Block)>,
    dyn_raise: Option<Block>,
}

impl Frame {
    fn new(inst: InstId, entity: Option<u32>, row: Value, erow: Value, row_stable: bool) -> Frame {
        Frame {
            inst,
            entity,
            row,
            row_stable,
            erow,
            slots: Vec::new(),
            raise_blocks: Vec::new(),
            dyn_raise: None,
        }
    }
}

type R = Result<Value, JitError>;

impl FnGen<'_, '_> {
    fn k(&mut self, v: i64) -> Value {
        self.b.ins().iconst(I64, v)
    }

    fn bool64(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I64, c)
    }

    /// Continue in a new block.
    fn switch_new(&mut self) -> Block {
        let blk = self.b.create_block();
        self.b.switch_to_block(blk);
        blk
    }

    fn merge_block(&mut self) -> (Block, Value) {
        let m = self.b.create_block();
        let p = self.b.append_block_param(m, I64);
        (m, p)
    }

    fn jump_with(&mut self, to: Block, v: Value) {
        self.b.ins().jump(to, &[BlockArg::Value(v)]);
    }

    fn helper(&mut self, h: H) -> FuncRef {
        let i = HELPERS.iter().position(|x| *x == h).unwrap_or(0);
        if let Some(Some(f)) = self.helper_refs.get(i) {
            return *f;
        }
        let id = self.helper_funcs[i];
        let f = self.module.declare_func_in_func(id, self.b.func);
        self.helper_refs[i] = Some(f);
        f
    }

    fn call_raw(&mut self, h: H, args: &[Value]) -> Value {
        let f = self.helper(h);
        let call = self.b.ins().call(f, args);
        self.b.inst_results(call)[0]
    }

    /// Call a helper and branch to the error exit if it failed.
    fn call_helper(&mut self, h: H, args: &[Value]) -> Value {
        let v = self.call_raw(h, args);
        let st = self.b.ins().load(I64, rw(), self.ctx, rt::OFF_STATUS);
        let dr = self.dyn_raise_block();
        let cont = self.b.create_block();
        self.b.ins().brif(st, dr, &[BlockArg::Value(st)], cont, &[]);
        self.b.switch_to_block(cont);
        v
    }

    fn dyn_raise_block(&mut self) -> Block {
        if let Some(b) = self.f.dyn_raise {
            return b;
        }
        let blk = self.b.create_block();
        self.b.append_block_param(blk, I64);
        self.b.set_cold_block(blk);
        self.f.dyn_raise = Some(blk);
        blk
    }

    fn raise_block(&mut self, site: u32) -> Block {
        if let Some((_, b)) = self.f.raise_blocks.iter().find(|(s, _)| *s == site) {
            return *b;
        }
        let blk = self.b.create_block();
        self.b.set_cold_block(blk);
        self.f.raise_blocks.push((site, blk));
        blk
    }

    /// Fail at `site` when `cond` is non-zero.
    fn fail_if(&mut self, cond: Value, site: u32) {
        let rb = self.raise_block(site);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, rb, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Fail at `site` unless `cond` is non-zero.
    fn fail_unless(&mut self, cond: Value, site: u32) {
        let rb = self.raise_block(site);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, cont, &[], rb, &[]);
        self.b.switch_to_block(cont);
    }

    /// Fail at `site` here; code after it is unreachable.
    fn fail_now(&mut self, site: u32) -> Value {
        let rb = self.raise_block(site);
        self.b.ins().jump(rb, &[]);
        self.switch_new();
        self.k(0)
    }

    /// Fail with an error that names another instance and row.
    fn fail_as(&mut self, site: u32, inst: InstId, row: Value) -> Value {
        let h = self.helper(H::Raise);
        let s = self.k(site as i64);
        let i = self.k(inst as i64);
        let call = self.b.ins().call(h, &[self.ctx, s, i, row]);
        let e = self.b.inst_results(call)[0];
        let ee = self.err_exit;
        self.jump_with(ee, e);
        self.switch_new();
        self.k(0)
    }

    fn checked(&mut self, (v, of): (Value, Value)) -> Value {
        self.fail_if(of, sites::kind_site(ErrKind::Overflow));
        v
    }

    fn load_fixed(&mut self, base: Value, off: i32) -> Value {
        self.b.ins().load(I64, ro_fixed(), base, off)
    }

    /// A stack slot holding `vals`, and its address.
    fn spill(&mut self, vals: &[Value]) -> Value {
        if vals.is_empty() {
            return self.k(0);
        }
        let ss = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (vals.len() * 8) as u32,
            3,
        ));
        for (i, v) in vals.iter().enumerate() {
            self.b.ins().stack_store(I64, *v, ss, (i * 8) as i32);
        }
        self.b.ins().stack_addr(I64, ss, 0)
    }

    /// Slots of the current frame, slot 0 holding `row`.
    fn frame_slots(&mut self, nslots: usize, row: Value) {
        let zero = self.k(0);
        for s in 0..nslots {
            let var = self.b.declare_var(I64);
            self.b.def_var(var, if s == 0 { row } else { zero });
            self.f.slots.push(var);
        }
    }

    /// The memo descriptor of group `group`.
    fn memo_desc(&mut self, group: u32) -> Value {
        let memo = self.load_fixed(self.ctx, rt::OFF_MEMO);
        self.b.ins().iadd_imm_s(memo, group as i64 * rt::MEMO_SIZE)
    }

    /// Whether the body of `inst` never writes slot 0.
    fn row_stable(&self, inst: InstId) -> bool {
        self.info
            .row_stable
            .get(inst as usize)
            .copied()
            .unwrap_or(false)
    }

    /// The whole function: the row check, then for a memoised instance
    /// the memo check, body and memo store, else the body.
    fn instance(&mut self, entity: bool, nslots: usize, body: NodeId) -> Result<(), JitError> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let (ctx, row) = match params.as_slice() {
            [c, r] => (*c, *r),
            _ => return Err(JitError::Codegen("instance parameters".into())),
        };
        self.ctx = ctx;
        let inst = self.f.inst;
        let key = if entity { row } else { self.k(0) };
        let erow = if entity { row } else { self.k(-1) };
        self.f.row = row;
        self.f.erow = erow;
        self.f.row_stable = self.row_stable(inst);
        let group = self
            .info
            .memo
            .group
            .get(inst as usize)
            .copied()
            .flatten()
            .ok_or_else(|| JitError::Codegen(format!("instance {inst} has no memo group")))?;
        let slot = self.info.memo.slot.get(inst as usize).copied().flatten();
        let h = self.helper(H::Raise);
        let md = self.memo_desc(group);
        if entity || slot.is_some() {
            let len = self.load_fixed(md, rt::MEMO_LEN);
            let inr = self.b.ins().icmp(IntCC::UnsignedLessThan, key, len);
            let oor = self.b.create_block();
            self.b.set_cold_block(oor);
            let chk = self.b.create_block();
            self.b.ins().brif(inr, chk, &[], oor, &[]);

            self.b.switch_to_block(oor);
            let s = self.k(Internal::RowOutOfRange.site() as i64);
            let i = self.k(inst as i64);
            let call = self.b.ins().call(h, &[ctx, s, i, erow]);
            let e = self.b.inst_results(call)[0];
            let z = self.k(0);
            self.b.ins().return_(&[z, e]);
            self.b.switch_to_block(chk);
        }

        // The error exit: memoise the error (if memoised) and return it.
        let err_exit = self.b.create_block();
        self.b.set_cold_block(err_exit);
        let e = self.b.append_block_param(err_exit, I64);
        self.err_exit = err_exit;

        let Some((_, local)) = slot else {
            self.frame_slots(nslots, row);
            let v = self.expr(body)?;
            let z = self.k(0);
            self.b.ins().return_(&[v, z]);

            self.b.switch_to_block(err_exit);
            let z = self.k(0);
            self.b.ins().return_(&[z, e]);
            self.raise_blocks(h);
            return Ok(());
        };

        let width = self
            .info
            .memo
            .groups
            .get(group as usize)
            .map(|g| g.1)
            .unwrap_or(0);
        let base = self.load_fixed(md, rt::MEMO_BASE);
        let at = self.b.ins().imul_imm_s(key, width as i64);
        let at = self.b.ins().iadd_imm_s(at, local as i64);
        let idx = self.b.ins().iadd(base, at);
        let states = self.load_fixed(ctx, rt::OFF_STATES);
        let sp = self.b.ins().iadd(states, idx);
        let vals = self.load_fixed(ctx, rt::OFF_VALS);
        let off = self.b.ins().ishl_imm_u(idx, 3);
        let vp = self.b.ins().iadd(vals, off);
        let st = self.b.ins().uload8(I64, rw(), sp, 0);
        let done = self.b.create_block();
        let chk2 = self.b.create_block();
        let is_done = self.b.ins().icmp_imm_s(IntCC::Equal, st, rt::DONE as i64);
        self.b.ins().brif(is_done, done, &[], chk2, &[]);

        self.b.switch_to_block(done);
        let v = self.b.ins().load(I64, rw(), vp, 0);
        let z = self.k(0);
        self.b.ins().return_(&[v, z]);

        self.b.switch_to_block(chk2);
        let failed = self.b.create_block();
        self.b.set_cold_block(failed);
        let chk3 = self.b.create_block();
        let is_failed = self.b.ins().icmp_imm_s(IntCC::Equal, st, rt::FAILED as i64);
        self.b.ins().brif(is_failed, failed, &[], chk3, &[]);

        self.b.switch_to_block(failed);
        let e2 = self.b.ins().load(I64, rw(), vp, 0);
        let z = self.k(0);
        self.b.ins().return_(&[z, e2]);

        self.b.switch_to_block(chk3);
        // Only an instance on a cycle of calls can find its entry busy:
        // the others are never marked.
        if self
            .info
            .on_cycle
            .get(inst as usize)
            .copied()
            .unwrap_or(true)
        {
            let busy = self.b.create_block();
            self.b.set_cold_block(busy);
            let run = self.b.create_block();
            let is_busy = self.b.ins().icmp_imm_s(IntCC::Equal, st, rt::BUSY as i64);
            self.b.ins().brif(is_busy, busy, &[], run, &[]);

            self.b.switch_to_block(busy);
            let s = self.k(Internal::DependsOnItself.site() as i64);
            let i = self.k(inst as i64);
            let call = self.b.ins().call(h, &[ctx, s, i, erow]);
            let e2 = self.b.inst_results(call)[0];
            let z = self.k(0);
            self.b.ins().return_(&[z, e2]);

            self.b.switch_to_block(run);
            let busy_v = self.k(rt::BUSY as i64);
            self.b.ins().istore8(rw(), busy_v, sp, 0);
        }
        self.frame_slots(nslots, row);
        let v = self.expr(body)?;
        self.b.ins().store(rw(), v, vp, 0);
        let done_v = self.k(rt::DONE as i64);
        self.b.ins().istore8(rw(), done_v, sp, 0);
        let z = self.k(0);
        self.b.ins().return_(&[v, z]);

        self.b.switch_to_block(err_exit);
        self.b.ins().store(rw(), e, vp, 0);
        let failed_v = self.k(rt::FAILED as i64);
        self.b.ins().istore8(rw(), failed_v, sp, 0);
        let z = self.k(0);
        self.b.ins().return_(&[z, e]);
        self.raise_blocks(h);
        Ok(())
    }

    /// The body of the group driver (see `Compiler::define_group`).
    fn group_driver(&mut self, member: &[InstId], group: &[InstId]) -> Result<(), JitError> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let (ctx, outs, g, lo, hi) = match params.as_slice() {
            [c, o, g, lo, hi] => (*c, *o, *g, *lo, *hi),
            _ => return Err(JitError::Codegen("group driver parameters".into())),
        };
        self.ctx = ctx;
        self.f.row = g;
        self.f.erow = g;
        let h = self.helper(H::Raise);
        let err_exit = self.b.create_block();
        self.b.set_cold_block(err_exit);
        let e = self.b.append_block_param(err_exit, I64);
        self.err_exit = err_exit;
        let member_len = self.b.ins().load(I64, ro_fixed(), outs, 0);
        let group_len = self.b.ins().load(I64, ro_fixed(), outs, 8);

        let header = self.b.create_block();
        let m = self.b.append_block_param(header, I64);
        let body = self.b.create_block();
        let after = self.b.create_block();
        self.b.ins().jump(header, &[BlockArg::Value(lo)]);
        self.b.switch_to_block(header);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, m, hi);
        self.b.ins().brif(more, body, &[], after, &[]);
        self.b.switch_to_block(body);
        for (c, inst) in member.iter().enumerate() {
            let v = self.call(*inst, m, false)?;
            self.store_out(outs, 16 + 8 * c as i32, member_len, m, v);
        }
        let m1 = self.b.ins().iadd_imm_s(m, 1);
        self.b.ins().jump(header, &[BlockArg::Value(m1)]);

        self.b.switch_to_block(after);
        let base = 16 + 8 * member.len() as i32;
        for (c, inst) in group.iter().enumerate() {
            let v = self.call(*inst, g, false)?;
            self.store_out(outs, base + 8 * c as i32, group_len, g, v);
        }
        let z = self.k(0);
        self.b.ins().return_(&[z]);

        self.b.switch_to_block(err_exit);
        self.b.ins().return_(&[e]);
        self.raise_blocks(h);
        Ok(())
    }

    /// Store `v` at row `r` of the output column whose pointer is at
    /// `outs + off`, if `r < len`.
    fn store_out(&mut self, outs: Value, off: i32, len: Value, r: Value, v: Value) {
        let inr = self.b.ins().icmp(IntCC::UnsignedLessThan, r, len);
        let st = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(inr, st, &[], cont, &[]);
        self.b.switch_to_block(st);
        let col = self.b.ins().load(I64, ro_fixed(), outs, off);
        let o = self.b.ins().ishl_imm_u(r, 3);
        let a = self.b.ins().iadd(col, o);
        self.b.ins().store(rw(), v, a, 0);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// The raise blocks of every frame of the function: each records its
    /// error (site, the frame's instance and row) and goes to the error
    /// exit.
    fn raise_blocks(&mut self, h: FuncRef) {
        let ctx = self.ctx;
        let err_exit = self.err_exit;
        let mut frames = std::mem::take(&mut self.finished);
        let top = Frame::new(self.f.inst, self.f.entity, self.f.row, self.f.erow, false);
        frames.push(std::mem::replace(&mut self.f, top));
        for fr in &mut frames {
            for (site, blk) in std::mem::take(&mut fr.raise_blocks) {
                self.b.switch_to_block(blk);
                let s = self.k(site as i64);
                let i = self.k(fr.inst as i64);
                let call = self.b.ins().call(h, &[ctx, s, i, fr.erow]);
                let e = self.b.inst_results(call)[0];
                self.jump_with(err_exit, e);
            }
            if let Some(blk) = fr.dyn_raise {
                self.b.switch_to_block(blk);
                let st = self.b.block_params(blk)[0];
                let s = self.b.ins().iadd_imm_s(st, -1);
                let i = self.k(fr.inst as i64);
                let call = self.b.ins().call(h, &[ctx, s, i, fr.erow]);
                let e = self.b.inst_results(call)[0];
                self.jump_with(err_exit, e);
            }
        }
    }

    fn expr(&mut self, n: NodeId) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let name = self
                .ir
                .inst(self.f.inst)
                .map(|i| i.name.clone())
                .unwrap_or_default();
            return Err(JitError::TooDeep {
                inst: self.f.inst,
                name,
            });
        }
        let r = self.expr_inner(n);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, n: NodeId) -> R {
        let ir = self.ir;
        let Some(node) = ir.node(n) else {
            return Ok(self.fail_now(Internal::UnknownNode.site()));
        };
        Ok(match node {
            Node::Const(v) => self.k(*v),
            Node::Local(s) => match self.f.slots.get(*s as usize) {
                Some(var) => self.b.use_var(*var),
                None => self.fail_now(Internal::SlotOutOfRange.site()),
            },
            Node::AsOf => self.k(self.bound.as_of as i64),
            Node::CtxDate(c) => {
                let d = self
                    .bound
                    .ctx_dates
                    .get(*c as usize)
                    .copied()
                    .unwrap_or(self.bound.as_of);
                self.k(d as i64)
            }
            Node::Field { rec, record, field } => {
                let r = self.expr(*rec)?;
                self.field(r, *record, *field, false)
            }
            Node::FieldIsSet { rec, record, field } => {
                let r = self.expr(*rec)?;
                self.field(r, *record, *field, true)
            }
            Node::Call { inst, rec } => {
                // `f(p)` in a rule of `p`: the frame's row, already
                // checked against the rows of the record.
                let same_row = self.f.row_stable
                    && self.f.entity.is_some()
                    && ir.inst(*inst).and_then(|d| d.entity) == self.f.entity
                    && matches!(rec.and_then(|x| ir.node(x)), Some(Node::Local(0)));
                if same_row {
                    let r = self.f.row;
                    return self.call(*inst, r, true);
                }
                let r = match rec {
                    Some(x) => {
                        let v = self.expr(*x)?;
                        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
                        self.fail_if(neg, Internal::NegativeRow.site());
                        v
                    }
                    None => self.k(0),
                };
                self.call(*inst, r, false)?
            }
            Node::Param { pref, keys } => {
                let mut kv = Vec::with_capacity(keys.len());
                for k in keys {
                    kv.push(self.expr(*k)?);
                }
                self.param(*pref, &kv)
            }
            Node::Neg(a) => {
                let v = self.expr(*a)?;
                if self.info.proofs.safe(n) {
                    return Ok(self.b.ins().ineg(v));
                }
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, v, i64::MIN);
                self.fail_if(is_min, sites::kind_site(ErrKind::Overflow));
                self.b.ins().ineg(v)
            }
            Node::Not(a) => {
                let v = self.expr(*a)?;
                let z = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                self.bool64(z)
            }
            Node::Arith(op, a, b) => {
                let x = self.expr(*a)?;
                let y = self.expr(*b)?;
                self.arith(n, *op, x, y)
            }
            Node::Cmp(op, a, b) => {
                let x = self.expr(*a)?;
                let y = self.expr(*b)?;
                let cc = match op {
                    CmpOp::Eq => IntCC::Equal,
                    CmpOp::Ne => IntCC::NotEqual,
                    CmpOp::Lt => IntCC::SignedLessThan,
                    CmpOp::Le => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::SignedGreaterThan,
                    CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
                };
                let c = self.b.ins().icmp(cc, x, y);
                self.bool64(c)
            }
            Node::TextEq(a, b) => {
                let pa = self.text(a)?;
                let pb = self.text(b)?;
                let c = self.ctx;
                self.call_raw(H::TextEq, &[c, pa, pb])
            }
            Node::And(a, b) => {
                let x = self.expr(*a)?;
                let (m, p) = self.merge_block();
                let rhs = self.b.create_block();
                let z = self.k(0);
                self.b.ins().brif(x, rhs, &[], m, &[BlockArg::Value(z)]);
                self.b.switch_to_block(rhs);
                let y = self.expr(*b)?;
                let nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, y, 0);
                let nz = self.bool64(nz);
                self.jump_with(m, nz);
                self.b.switch_to_block(m);
                p
            }
            Node::Or(a, b) => {
                let x = self.expr(*a)?;
                let (m, p) = self.merge_block();
                let rhs = self.b.create_block();
                let one = self.k(1);
                self.b.ins().brif(x, m, &[BlockArg::Value(one)], rhs, &[]);
                self.b.switch_to_block(rhs);
                let y = self.expr(*b)?;
                let nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, y, 0);
                let nz = self.bool64(nz);
                self.jump_with(m, nz);
                self.b.switch_to_block(m);
                p
            }
            Node::If(c, a, b) => {
                let cv = self.expr(*c)?;
                let (m, p) = self.merge_block();
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                self.b.ins().brif(cv, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                let x = self.expr(*a)?;
                self.jump_with(m, x);
                self.b.switch_to_block(eb);
                let y = self.expr(*b)?;
                self.jump_with(m, y);
                self.b.switch_to_block(m);
                p
            }
            Node::Let { slot, value, body } => {
                let v = self.expr(*value)?;
                match self.f.slots.get(*slot as usize) {
                    Some(var) => {
                        let var = *var;
                        self.b.def_var(var, v);
                    }
                    None => {
                        self.fail_now(Internal::SlotOutOfRange.site());
                    }
                }
                self.expr(*body)?
            }
            Node::Switch { slot, scrut, arms } => {
                let v = self.expr(*scrut)?;
                if let Some(var) = self.f.slots.get(*slot as usize) {
                    let var = *var;
                    self.b.def_var(var, v);
                }
                let inr = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, v, 64);
                let one = self.k(1);
                let sh = self.b.ins().ishl(one, v);
                let z = self.k(0);
                let bit = self.b.ins().select(inr, sh, z);
                let (m, p) = self.merge_block();
                for (mask, body) in arms {
                    let t = self.b.ins().band_imm_s(bit, *mask as i64);
                    let arm = self.b.create_block();
                    let next = self.b.create_block();
                    self.b.ins().brif(t, arm, &[], next, &[]);
                    self.b.switch_to_block(arm);
                    let r = self.expr(*body)?;
                    self.jump_with(m, r);
                    self.b.switch_to_block(next);
                }
                let r = self.fail_now(Internal::NoArm.site());
                self.jump_with(m, r);
                self.b.switch_to_block(m);
                p
            }
            Node::Agg {
                kind,
                group,
                group_record,
                member_record: _,
                slot,
                body,
                filter,
            } => self.agg(n, *kind, *group, *group_record, *slot, *body, *filter)?,
            Node::Builtin(bi, xs) => {
                let mut args = Vec::with_capacity(xs.len());
                for x in xs {
                    args.push(self.expr(*x)?);
                }
                match bi {
                    Builtin::YearsBetween
                    | Builtin::MonthsBetween
                    | Builtin::Year
                    | Builtin::Month
                    | Builtin::Day => {
                        let known: Vec<Option<i64>> = xs.iter().map(|x| self.known(*x)).collect();
                        self.date_builtin(*bi, &args, &known)
                    }
                    _ => self.builtin(n, *bi, &args),
                }
            }
            Node::BandsInfo(bi, pref) => {
                let code = self.k(rt::bands_code(*bi));
                let p = self.k(*pref as i64);
                let c = self.ctx;
                self.call_helper(H::BandsInfo, &[c, code, p])
            }
            Node::Marginal {
                amount,
                bands,
                adjust,
                round_each,
            } => {
                let x = self.expr(*amount)?;
                let adj = match adjust {
                    Some(a) => self.expr(*a)?,
                    None => self.k(0),
                };
                let re = self.k(*round_each as i64);
                let c = self.ctx;
                match bands {
                    BandsSrc::Param(pref) => self.marginal_param(*pref, x, adj, *round_each),
                    BandsSrc::Rows(rows) => {
                        let mut rates = Vec::with_capacity(rows.len());
                        for (_, _, r) in rows {
                            rates.push(self.expr(*r)?);
                        }
                        let table = self
                            .info
                            .marginal_table
                            .get(&n)
                            .copied()
                            .unwrap_or(u32::MAX);
                        let t = self.k(table as i64);
                        let addr = self.spill(&rates);
                        self.call_helper(H::MarginalRows, &[c, x, adj, re, t, addr])
                    }
                }
            }
            Node::Fail(i) => self.fail_now(sites::fail_site(*i)),
        })
    }

    /// A marginal scale over a parameter's bands: a loop over the bands
    /// in 64-bit arithmetic while nothing overflows (`ops::marginal`
    /// computes in 128 bits); anything else (an overflow, bands not bound)
    /// goes to the helper, which computes the whole scale exactly.
    fn marginal_param(&mut self, pref: u32, x: Value, adj: Value, round_each: bool) -> Value {
        let c = self.ctx;
        let (m, p) = self.merge_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let Some(ix) = self.info.band_params.iter().position(|b| *b == pref) else {
            self.b.ins().jump(slow, &[]);
            return self.marginal_slow(slow, m, p, pref, x, adj, round_each);
        };
        let all = self.load_fixed(c, rt::OFF_BANDS);
        let bd = self.b.ins().iadd_imm_s(all, ix as i64 * rt::BANDS_SIZE);
        let st = self.load_fixed(bd, rt::BANDS_STATUS);
        let fast = self.b.create_block();
        self.b.ins().brif(st, slow, &[], fast, &[]);
        self.b.switch_to_block(fast);
        let rows = self.load_fixed(bd, rt::BANDS_ROWS);
        let n = self.load_fixed(bd, rt::BANDS_N);
        let header = self.b.create_block();
        let i = self.b.append_block_param(header, I64);
        let acc = self.b.append_block_param(header, I64);
        let body = self.b.create_block();
        let work = self.b.create_block();
        let done = self.b.create_block();
        let z = self.k(0);
        self.b
            .ins()
            .jump(header, &[BlockArg::Value(z), BlockArg::Value(z)]);
        self.b.switch_to_block(header);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        self.b.ins().brif(more, body, &[], done, &[]);

        self.b.switch_to_block(body);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        let off = self.b.ins().ishl_imm_u(i, 5);
        let row = self.b.ins().iadd(rows, off);
        let lo = self.b.ins().load(I64, ro(), row, 0);
        let hi = self.b.ins().load(I64, ro(), row, 8);
        let has_hi = self.b.ins().load(I64, ro(), row, 16);
        let rate = self.b.ins().load(I64, ro(), row, 24);
        let capped = self.b.ins().smin(x, hi);
        let top = self.b.ins().select(has_hi, capped, x);
        let (part, of) = self.b.ins().ssub_overflow(top, lo);
        let ok = self.b.create_block();
        self.b.ins().brif(of, slow, &[], ok, &[]);
        self.b.switch_to_block(ok);
        let pos = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, part, 0);
        self.b.ins().brif(
            pos,
            work,
            &[],
            header,
            &[BlockArg::Value(i1), BlockArg::Value(acc)],
        );

        self.b.switch_to_block(work);
        let (r, of) = self.b.ins().sadd_overflow(rate, adj);
        let ok = self.b.create_block();
        self.b.ins().brif(of, slow, &[], ok, &[]);
        self.b.switch_to_block(ok);
        let (prod, of) = self.b.ins().smul_overflow(part, r);
        let ok = self.b.create_block();
        self.b.ins().brif(of, slow, &[], ok, &[]);
        self.b.switch_to_block(ok);
        let add = if round_each {
            self.div_round_const(prod, MICRO)
        } else {
            prod
        };
        let (acc1, of) = self.b.ins().sadd_overflow(acc, add);
        self.b.ins().brif(
            of,
            slow,
            &[],
            header,
            &[BlockArg::Value(i1), BlockArg::Value(acc1)],
        );

        self.b.switch_to_block(done);
        let v = if round_each {
            acc
        } else {
            self.div_round_const(acc, MICRO)
        };
        self.jump_with(m, v);
        self.marginal_slow(slow, m, p, pref, x, adj, round_each)
    }

    /// The helper's path of [`Self::marginal_param`], then the merge.
    #[allow(clippy::too_many_arguments)]
    fn marginal_slow(
        &mut self,
        slow: Block,
        m: Block,
        p: Value,
        pref: u32,
        x: Value,
        adj: Value,
        round_each: bool,
    ) -> Value {
        self.b.switch_to_block(slow);
        let c = self.ctx;
        let re = self.k(round_each as i64);
        let pk = self.k(pref as i64);
        let v = self.call_helper(H::MarginalParam, &[c, x, adj, re, pk]);
        self.jump_with(m, v);
        self.b.switch_to_block(m);
        p
    }

    fn col_desc(&mut self, ix: usize) -> Value {
        let cols = self.load_fixed(self.ctx, rt::OFF_COLS);
        self.b.ins().iadd_imm_s(cols, ix as i64 * rt::COL_SIZE)
    }

    /// A numeric field (or, with `isset`, its presence) of row `r`.
    fn field(&mut self, r: Value, record: u32, field: u32, isset: bool) -> Value {
        let h = if isset { H::IsSet } else { H::Field };
        let c = self.ctx;
        let rk = self.k(record as i64);
        let fk = self.k(field as i64);
        let Some(ix) = self.info.col_index(record, field, self.ir) else {
            return self.call_helper(h, &[c, rk, fk, r]);
        };
        let cd = self.col_desc(ix);
        let len = self.load_fixed(
            cd,
            if isset {
                rt::COL_PRES_LEN
            } else {
                rt::COL_NUM_LEN
            },
        );
        let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, r, len);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let (m, p) = self.merge_block();
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let v = if isset {
            let pres = self.load_fixed(cd, rt::COL_PRES);
            let a = self.b.ins().iadd(pres, r);
            self.b.ins().uload8(I64, ro(), a, 0)
        } else {
            let data = self.load_fixed(cd, rt::COL_DATA);
            let off = self.b.ins().ishl_imm_u(r, 3);
            let a = self.b.ins().iadd(data, off);
            self.b.ins().load(I64, ro(), a, 0)
        };
        self.jump_with(m, v);
        self.b.switch_to_block(slow);
        let v = self.call_helper(h, &[c, rk, fk, r]);
        self.jump_with(m, v);
        self.b.switch_to_block(m);
        p
    }

    /// The value of instance `callee` for row `r`; `checked` when `r` is
    /// known to be a row of the callee's record.
    fn call(&mut self, callee: InstId, r: Value, checked: bool) -> R {
        let Some(def) = self.ir.inst(callee) else {
            let none = self.k(-1);
            return Ok(self.fail_as(Internal::UnknownInstance.site(), callee, none));
        };
        let Some(fid) = self.inst_funcs.get(callee as usize).copied().flatten() else {
            let erow = if def.entity.is_some() { r } else { self.k(-1) };
            return Ok(self.fail_as(Internal::RowOutOfRange.site(), callee, erow));
        };
        let slot = self.info.memo.slot.get(callee as usize).copied().flatten();
        let group = self.info.memo.group.get(callee as usize).copied().flatten();
        let body = self.bound.body.get(callee as usize).copied().flatten();
        if let (None, Some(group), Some(body)) = (slot, group, body) {
            return self.inline(
                callee,
                def.entity,
                def.slots.max(1) as usize,
                group,
                body,
                r,
                checked,
            );
        }
        let f = match self.inst_refs.get(&callee) {
            Some(f) => *f,
            None => {
                let f = self.module.declare_func_in_func(fid, self.b.func);
                self.inst_refs.insert(callee, f);
                f
            }
        };
        // A memoised value is read here, without the call; anything else
        // (not yet computed, failed, busy, a row out of range) goes through
        // the callee, which decides exactly as the interpreter does.
        let (m, p) = self.merge_block();
        let slow = self.b.create_block();
        if let Some((group, local)) = slot {
            let width = self
                .info
                .memo
                .groups
                .get(group as usize)
                .map(|g| g.1)
                .unwrap_or(0);
            let key = if def.entity.is_some() { r } else { self.k(0) };
            let md = self.memo_desc(group);
            if !(checked || def.entity.is_none() && group == 0) {
                let len = self.load_fixed(md, rt::MEMO_LEN);
                let inr = self.b.ins().icmp(IntCC::UnsignedLessThan, key, len);
                let chk = self.b.create_block();
                self.b.ins().brif(inr, chk, &[], slow, &[]);
                self.b.switch_to_block(chk);
            }
            let base = self.load_fixed(md, rt::MEMO_BASE);
            let at = self.b.ins().imul_imm_s(key, width as i64);
            let at = self.b.ins().iadd_imm_s(at, local as i64);
            let idx = self.b.ins().iadd(base, at);
            let states = self.load_fixed(self.ctx, rt::OFF_STATES);
            let sp = self.b.ins().iadd(states, idx);
            let st = self.b.ins().uload8(I64, rw(), sp, 0);
            let done = self.b.ins().icmp_imm_s(IntCC::Equal, st, rt::DONE as i64);
            let hit = self.b.create_block();
            self.b.ins().brif(done, hit, &[], slow, &[]);
            self.b.switch_to_block(hit);
            let vals = self.load_fixed(self.ctx, rt::OFF_VALS);
            let off = self.b.ins().ishl_imm_u(idx, 3);
            let vp = self.b.ins().iadd(vals, off);
            let v = self.b.ins().load(I64, rw(), vp, 0);
            self.jump_with(m, v);
        } else {
            self.b.ins().jump(slow, &[]);
        }
        self.b.switch_to_block(slow);
        let call = self.b.ins().call(f, &[self.ctx, r]);
        let res = self.b.inst_results(call).to_vec();
        let (v, e) = (res[0], res[1]);
        let ee = self.err_exit;
        let cont = self.b.create_block();
        self.b.ins().brif(e, ee, &[BlockArg::Value(e)], cont, &[]);
        self.b.switch_to_block(cont);
        self.jump_with(m, v);
        self.b.switch_to_block(m);
        Ok(p)
    }

    /// The body of an instance that is not memoised, generated here in a
    /// frame of its own: what its function would do, without the call.
    #[allow(clippy::too_many_arguments)]
    fn inline(
        &mut self,
        callee: InstId,
        entity: Option<u32>,
        nslots: usize,
        group: u32,
        body: NodeId,
        r: Value,
        checked: bool,
    ) -> R {
        let erow = if entity.is_some() { r } else { self.k(-1) };
        if entity.is_some() && !checked {
            // The callee's row check: its row must be one of its record's.
            let md = self.memo_desc(group);
            let len = self.load_fixed(md, rt::MEMO_LEN);
            let inr = self.b.ins().icmp(IntCC::UnsignedLessThan, r, len);
            let oor = self.b.create_block();
            self.b.set_cold_block(oor);
            let cont = self.b.create_block();
            self.b.ins().brif(inr, cont, &[], oor, &[]);
            self.b.switch_to_block(oor);
            let h = self.helper(H::Raise);
            let s = self.k(Internal::RowOutOfRange.site() as i64);
            let i = self.k(callee as i64);
            let call = self.b.ins().call(h, &[self.ctx, s, i, erow]);
            let e = self.b.inst_results(call)[0];
            let ee = self.err_exit;
            self.jump_with(ee, e);
            self.b.switch_to_block(cont);
        }
        let frame = Frame::new(callee, entity, r, erow, self.row_stable(callee));
        let outer = std::mem::replace(&mut self.f, frame);
        let depth = std::mem::replace(&mut self.depth, 0);
        self.frame_slots(nslots, r);
        let v = self.expr(body);
        self.depth = depth;
        let inner = std::mem::replace(&mut self.f, outer);
        self.finished.push(inner);
        v
    }

    fn param(&mut self, pref: u32, kv: &[Value]) -> Value {
        let c = self.ctx;
        let pk = self.k(pref as i64);
        let fast_ok = self
            .info
            .param_keys
            .get(pref as usize)
            .is_some_and(|n| *n == kv.len());
        if !fast_ok {
            let addr = self.spill(kv);
            let n = self.k(kv.len() as i64);
            return self.call_helper(H::Param, &[c, pk, addr, n]);
        }
        let info = self.info;
        if let Some(t) = info
            .param_tables
            .get(pref as usize)
            .and_then(|t| t.as_ref())
            && t.ns.len() == kv.len()
        {
            return self.param_table(t, kv);
        }
        let params = self.load_fixed(c, rt::OFF_PARAMS);
        let pd = self
            .b
            .ins()
            .iadd_imm_s(params, pref as i64 * rt::PARAM_SIZE);
        let st = self.load_fixed(pd, rt::PARAM_STATUS);
        let (m, p) = self.merge_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let fast = self.b.create_block();
        self.b.ins().brif(st, slow, &[], fast, &[]);
        self.b.switch_to_block(fast);
        let noband = sites::kind_site(ErrKind::NoBand);
        let mut idx: Option<Value> = None;
        if !kv.is_empty() {
            let keys = self.b.ins().load(I64, ro(), pd, rt::PARAM_KEYS);
            for (j, k) in kv.iter().enumerate() {
                let kd = self.b.ins().iadd_imm_s(keys, j as i64 * rt::KEY_SIZE);
                let n = self.b.ins().load(I64, ro(), kd, rt::KEY_N);
                let inr = self.b.ins().icmp(IntCC::UnsignedLessThan, *k, n);
                self.fail_unless(inr, noband);
                let ranks = self.b.ins().load(I64, ro(), kd, rt::KEY_RANKS);
                let off = self.b.ins().ishl_imm_u(*k, 2);
                let a = self.b.ins().iadd(ranks, off);
                let rank = self.b.ins().sload32(ro(), a, 0);
                let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, rank, 0);
                self.fail_if(neg, noband);
                idx = Some(match idx {
                    None => rank,
                    Some(i) => {
                        let size = self.b.ins().load(I64, ro(), kd, rt::KEY_SIZE_FIELD);
                        let t = self.b.ins().imul(i, size);
                        self.b.ins().iadd(t, rank)
                    }
                });
            }
        }
        let idx = match idx {
            Some(i) => i,
            None => self.k(0),
        };
        let len = self.b.ins().load(I64, ro(), pd, rt::PARAM_LEN);
        let inb = self.b.ins().icmp(IntCC::UnsignedLessThan, idx, len);
        let ok = self.b.create_block();
        self.b.ins().brif(inb, ok, &[], slow, &[]);
        self.b.switch_to_block(ok);
        let values = self.b.ins().load(I64, ro(), pd, rt::PARAM_VALUES);
        let off = self.b.ins().ishl_imm_u(idx, 3);
        let a = self.b.ins().iadd(values, off);
        let v = self.b.ins().load(I64, ro(), a, 0);
        self.jump_with(m, v);
        self.b.switch_to_block(slow);
        let addr = self.spill(kv);
        let n = self.k(kv.len() as i64);
        let v = self.call_helper(H::Param, &[c, pk, addr, n]);
        self.jump_with(m, v);
        self.b.switch_to_block(m);
        p
    }

    /// A parameter lookup in its bound values, compiled in: each key
    /// below its number of variants (else `no_band`), then the table's
    /// entry — a constant when every entry is the same value.
    fn param_table(&mut self, t: &rt::ParamTable, kv: &[Value]) -> Value {
        let noband = sites::kind_site(ErrKind::NoBand);
        for (k, n) in kv.iter().zip(&t.ns) {
            if *n == 0 {
                return self.fail_now(noband);
            }
            if let Some(v) = self.known_value(*k) {
                if (v as u64) >= *n {
                    return self.fail_now(noband);
                }
                continue;
            }
            let inr = self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, *k, *n as i64);
            self.fail_unless(inr, noband);
        }
        if let Some(v) = t.constant() {
            return self.k(v);
        }
        let mut idx: Option<Value> = None;
        for (k, stride) in kv.iter().zip(&t.strides) {
            let term = if *stride == 1 {
                *k
            } else {
                self.b.ins().imul_imm_s(*k, *stride)
            };
            idx = Some(match idx {
                None => term,
                Some(i) => self.b.ins().iadd(i, term),
            });
        }
        let idx = match idx {
            Some(i) => i,
            None => self.k(0),
        };
        if !t.all_ok() {
            let sa = self.k(t.states.as_ptr() as i64);
            let a = self.b.ins().iadd(sa, idx);
            let st = self.b.ins().uload8(I64, ro_fixed(), a, 0);
            let bad = self.b.create_block();
            self.b.set_cold_block(bad);
            let ok = self.b.create_block();
            self.b.ins().brif(st, bad, &[], ok, &[]);
            self.b.switch_to_block(bad);
            let nb = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, st, rt::PT_NO_BAND as i64);
            self.fail_if(nb, noband);
            self.fail_now(Internal::ParamSlotOutOfRange.site());
            self.b.ins().jump(ok, &[]);
            self.b.switch_to_block(ok);
        }
        let va = self.k(t.values.as_ptr() as i64);
        let off = self.b.ins().ishl_imm_u(idx, 3);
        let a = self.b.ins().iadd(va, off);
        self.b.ins().load(I64, ro_fixed(), a, 0)
    }

    /// The value of a value generated as a constant, if it is one.
    fn known_value(&self, v: Value) -> Option<i64> {
        let dfg = &self.b.func.dfg;
        let inst = dfg.value_def(v).inst()?;
        match dfg.insts[inst] {
            cranelift_codegen::ir::InstructionData::UnaryImm {
                opcode: cranelift_codegen::ir::Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    fn text(&mut self, t: &TextRef) -> R {
        let c = self.ctx;
        Ok(match t {
            TextRef::Lit(i) => {
                let tag = self.k(0);
                let a = self.k(*i as i64);
                let z = self.k(0);
                self.call_helper(H::Text, &[c, tag, a, z, z])
            }
            TextRef::Field { rec, record, field } => {
                let r = self.expr(*rec)?;
                let tag = self.k(1);
                let a = self.k(*record as i64);
                let f = self.k(*field as i64);
                self.call_helper(H::Text, &[c, tag, a, f, r])
            }
        })
    }

    /// `round_half_away(lo / d)` for a constant `d > 0`.
    fn div_round_const(&mut self, lo: Value, d: i64) -> Value {
        if d == 1 {
            return lo;
        }
        let dk = self.k(d);
        // `d` is a positive constant: the division cannot trap.
        let q = self.b.ins().sdiv(lo, dk);
        let qd = self.b.ins().imul(q, dk);
        let r = self.b.ins().isub(lo, qd);
        let ar = self.b.ins().iabs(r);
        let thr = self.b.ins().isub(dk, ar);
        let up = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, ar, thr);
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, lo, 0);
        let m1 = self.k(-1);
        let p1 = self.k(1);
        let adj = self.b.ins().select(neg, m1, p1);
        let q1 = self.b.ins().iadd(q, adj);
        self.b.ins().select(up, q1, q)
    }

    /// `v × unit`, failing with overflow.
    fn times_unit(&mut self, v: Value, unit: i64) -> Value {
        if unit == 1 {
            return v;
        }
        let u = self.k(unit);
        let r = self.b.ins().smul_overflow(v, u);
        self.checked(r)
    }

    fn arith(&mut self, n: NodeId, op: ArithOp, x: Value, y: Value) -> Value {
        let c = self.ctx;
        // Proven not to overflow (`ranges.rs`): no check.
        let safe = self.info.proofs.safe(n);
        match op {
            ArithOp::Add if safe => return self.b.ins().iadd(x, y),
            ArithOp::Sub | ArithOp::SubDates if safe => return self.b.ins().isub(x, y),
            ArithOp::Mul if safe => return self.b.ins().imul(x, y),
            _ => {}
        }
        match op {
            ArithOp::Add => {
                let r = self.b.ins().sadd_overflow(x, y);
                self.checked(r)
            }
            ArithOp::Sub | ArithOp::SubDates => {
                let r = self.b.ins().ssub_overflow(x, y);
                self.checked(r)
            }
            ArithOp::Mul => {
                let r = self.b.ins().smul_overflow(x, y);
                self.checked(r)
            }
            ArithOp::MulRound { den, unit } => {
                let dk = self.k(den);
                let uk = self.k(unit);
                let d = den as i128 * unit as i128;
                let Ok(d) = i64::try_from(d) else {
                    return self.call_helper(H::MulRound, &[c, x, y, dk, uk]);
                };
                if d <= 0 || unit <= 0 {
                    return self.call_helper(H::MulRound, &[c, x, y, dk, uk]);
                }
                let lo = self.b.ins().imul(x, y);
                if self.info.proofs.product_fits(n) {
                    // Proven: the product fits in 64 bits.
                    let q = self.div_round_const(lo, d);
                    return if safe {
                        self.b.ins().imul_imm_s(q, unit)
                    } else {
                        self.times_unit(q, unit)
                    };
                }
                // Fast path: the exact product fits in 64 bits.
                let hi = self.b.ins().smulhi(x, y);
                let sign = self.b.ins().sshr_imm_u(lo, 63);
                let fits = self.b.ins().icmp(IntCC::Equal, hi, sign);
                let (m, p) = self.merge_block();
                let fast = self.b.create_block();
                let slow = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(fits, fast, &[], slow, &[]);
                self.b.switch_to_block(fast);
                let q = self.div_round_const(lo, d);
                let v = self.times_unit(q, unit);
                self.jump_with(m, v);
                self.b.switch_to_block(slow);
                let v = self.call_helper(H::MulRound, &[c, x, y, dk, uk]);
                self.jump_with(m, v);
                self.b.switch_to_block(m);
                p
            }
            ArithOp::DivRound { pre, unit } => {
                let pk = self.k(pre);
                let uk = self.k(unit);
                if unit <= 0 || pre == 0 {
                    return self.call_helper(H::DivRound, &[c, x, y, pk, uk]);
                }
                // Fast path: `x × pre` and `y × unit` fit, and the divisor
                // is neither 0 nor −1 (so `sdiv` cannot trap).
                let (n, of1) = if pre == 1 {
                    (x, self.b.ins().iconst(I8, 0))
                } else {
                    self.b.ins().smul_overflow(x, pk)
                };
                let (d, of2) = if unit == 1 {
                    (y, self.b.ins().iconst(I8, 0))
                } else {
                    self.b.ins().smul_overflow(y, uk)
                };
                let is0 = self.b.ins().icmp_imm_s(IntCC::Equal, d, 0);
                let ism1 = self.b.ins().icmp_imm_s(IntCC::Equal, d, -1);
                let bad = self.b.ins().bor(of1, of2);
                let bad = self.b.ins().bor(bad, is0);
                let bad = self.b.ins().bor(bad, ism1);
                let (m, p) = self.merge_block();
                let fast = self.b.create_block();
                let slow = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(bad, slow, &[], fast, &[]);
                self.b.switch_to_block(fast);
                let q = self.b.ins().sdiv(n, d);
                let qd = self.b.ins().imul(q, d);
                let r = self.b.ins().isub(n, qd);
                let ar = self.b.ins().iabs(r);
                let ad = self.b.ins().iabs(d);
                let thr = self.b.ins().isub(ad, ar);
                let up = self
                    .b
                    .ins()
                    .icmp(IntCC::UnsignedGreaterThanOrEqual, ar, thr);
                let xs = self.b.ins().bxor(n, d);
                let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, xs, 0);
                let m1 = self.k(-1);
                let p1 = self.k(1);
                let adj = self.b.ins().select(neg, m1, p1);
                let q1 = self.b.ins().iadd(q, adj);
                let q = self.b.ins().select(up, q1, q);
                let v = self.times_unit(q, unit);
                self.jump_with(m, v);
                self.b.switch_to_block(slow);
                let v = self.call_helper(H::DivRound, &[c, x, y, pk, uk]);
                self.jump_with(m, v);
                self.b.switch_to_block(m);
                p
            }
            ArithOp::AddDays => self.call_helper(H::AddDays, &[c, x, y]),
            ArithOp::AddMonths { factor } => {
                let f = self.k(factor);
                self.call_helper(H::AddMonths, &[c, x, y, f])
            }
        }
    }

    fn builtin(&mut self, n: NodeId, bi: Builtin, args: &[Value]) -> Value {
        let c = self.ctx;
        let safe = self.info.proofs.safe(n);
        let arg = |g: &mut Self, i: usize| match args.get(i) {
            Some(v) => *v,
            None => g.k(0),
        };
        match bi {
            Builtin::Min | Builtin::Max => {
                let Some((first, rest)) = args.split_first() else {
                    return self.k(0);
                };
                let mut acc = *first;
                for v in rest {
                    acc = if bi == Builtin::Min {
                        self.b.ins().smin(acc, *v)
                    } else {
                        self.b.ins().smax(acc, *v)
                    };
                }
                acc
            }
            Builtin::Clamp => {
                let (a, lo, hi) = (arg(self, 0), arg(self, 1), arg(self, 2));
                let t = self.b.ins().smax(a, lo);
                self.b.ins().smin(t, hi)
            }
            Builtin::Abs => {
                let a = arg(self, 0);
                if safe {
                    return self.b.ins().iabs(a);
                }
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, i64::MIN);
                self.fail_if(is_min, sites::kind_site(ErrKind::Overflow));
                self.b.ins().iabs(a)
            }
            Builtin::RoundTo(unit) => {
                let a = arg(self, 0);
                if unit <= 0 {
                    let u = self.k(unit);
                    return self.call_helper(H::RoundTo, &[c, a, u]);
                }
                let q = self.div_round_const(a, unit);
                if safe {
                    return self.b.ins().imul_imm_s(q, unit);
                }
                self.times_unit(q, unit)
            }
            Builtin::YearsBetween
            | Builtin::MonthsBetween
            | Builtin::Year
            | Builtin::Month
            | Builtin::Day => {
                let code = match bi {
                    Builtin::YearsBetween => rt::B_YEARS_BETWEEN,
                    Builtin::MonthsBetween => rt::B_MONTHS_BETWEEN,
                    Builtin::Year => rt::B_YEAR,
                    Builtin::Month => rt::B_MONTH,
                    _ => rt::B_DAY,
                };
                let k = self.k(code);
                let (a, b) = (arg(self, 0), arg(self, 1));
                self.call_helper(H::Builtin, &[c, k, a, b])
            }
            Builtin::DaysBetween => {
                let (a, b) = (arg(self, 0), arg(self, 1));
                if safe {
                    return self.b.ins().isub(b, a);
                }
                let r = self.b.ins().ssub_overflow(b, a);
                self.checked(r)
            }
            Builtin::ToDecimal => {
                let a = arg(self, 0);
                if safe {
                    return self.b.ins().imul_imm_s(a, MICRO);
                }
                let m = self.k(MICRO);
                let r = self.b.ins().smul_overflow(a, m);
                self.checked(r)
            }
            Builtin::ToInt => arg(self, 0),
            Builtin::BandsStart
            | Builtin::BandsContiguous
            | Builtin::MinRate
            | Builtin::MaxRate => self.k(0),
        }
    }

    /// The value of node `n` when it is the same for every evaluation of
    /// this program: a constant or a date of the binding.
    fn known(&self, n: NodeId) -> Option<i64> {
        match self.ir.node(n)? {
            Node::Const(v) => Some(*v),
            Node::AsOf => Some(self.bound.as_of as i64),
            Node::CtxDate(c) => Some(
                self.bound
                    .ctx_dates
                    .get(*c as usize)
                    .copied()
                    .unwrap_or(self.bound.as_of) as i64,
            ),
            _ => None,
        }
    }

    /// The civil date `(year, month, day)` of day number `z` (which fits
    /// in an `i32`): `num::civil_from_days` step by step, every division by
    /// a positive constant (cannot trap).
    fn civil(&mut self, z: Value) -> (Value, Value, Value) {
        let z = self.b.ins().iadd_imm_s(z, 719_468);
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, z, 0);
        let zm = self.b.ins().iadd_imm_s(z, -146_096);
        let zz = self.b.ins().select(neg, zm, z);
        let k146097 = self.k(146_097);
        let era = self.b.ins().sdiv(zz, k146097);
        let t = self.b.ins().imul_imm_s(era, 146_097);
        let doe = self.b.ins().isub(z, t);
        let div = |g: &mut Self, v: Value, d: i64| {
            let dk = g.k(d);
            g.b.ins().sdiv(v, dk)
        };
        let a = div(self, doe, 1460);
        let bq = div(self, doe, 36_524);
        let c = div(self, doe, 146_096);
        let t = self.b.ins().isub(doe, a);
        let t = self.b.ins().iadd(t, bq);
        let t = self.b.ins().isub(t, c);
        let yoe = div(self, t, 365);
        let t = self.b.ins().imul_imm_s(era, 400);
        let y = self.b.ins().iadd(yoe, t);
        let t1 = self.b.ins().imul_imm_s(yoe, 365);
        let t2 = div(self, yoe, 4);
        let t3 = div(self, yoe, 100);
        let t = self.b.ins().iadd(t1, t2);
        let t = self.b.ins().isub(t, t3);
        let doy = self.b.ins().isub(doe, t);
        let t = self.b.ins().imul_imm_s(doy, 5);
        let t = self.b.ins().iadd_imm_s(t, 2);
        let mp = div(self, t, 153);
        let t = self.b.ins().imul_imm_s(mp, 153);
        let t = self.b.ins().iadd_imm_s(t, 2);
        let t = div(self, t, 5);
        let d = self.b.ins().isub(doy, t);
        let d = self.b.ins().iadd_imm_s(d, 1);
        let lt10 = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, mp, 10);
        let m3 = self.b.ins().iadd_imm_s(mp, 3);
        let m9 = self.b.ins().iadd_imm_s(mp, -9);
        let m = self.b.ins().select(lt10, m3, m9);
        let early = self.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, m, 2);
        let y1 = self.b.ins().iadd_imm_s(y, 1);
        let y = self.b.ins().select(early, y1, y);
        // `civil_from_days` returns the year as an `i32`.
        let y = self.b.ins().ireduce(types::I32, y);
        let y = self.b.ins().sextend(I64, y);
        (y, m, d)
    }

    /// `num::days_in_month(y, m)` for a month `m` in 1..=12.
    fn days_in_month(&mut self, y: Value, m: Value) -> Value {
        let rem_zero = |g: &mut Self, d: i64| {
            let dk = g.k(d);
            let r = g.b.ins().srem(y, dk);
            g.b.ins().icmp_imm_s(IntCC::Equal, r, 0)
        };
        let by4 = rem_zero(self, 4);
        let by100 = rem_zero(self, 100);
        let by400 = rem_zero(self, 400);
        let not100 = self.b.ins().bxor_imm_s(by100, 1);
        let t = self.b.ins().band(by4, not100);
        let leap = self.b.ins().bor(t, by400);
        let leap = self.bool64(leap);
        let feb = self.b.ins().iadd_imm_s(leap, 28);
        let long: i64 =
            (1 << 1) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 12);
        let lk = self.k(long);
        let bit = self.b.ins().sshr(lk, m);
        let bit = self.b.ins().band_imm_s(bit, 1);
        let other = self.b.ins().iadd_imm_s(bit, 30);
        let is_feb = self.b.ins().icmp_imm_s(IntCC::Equal, m, 2);
        self.b.ins().select(is_feb, feb, other)
    }

    /// A date as `(year, month, day, days in that month)`, from its known
    /// value or computed.
    fn date_parts(&mut self, v: Value, known: Option<i64>) -> [Value; 4] {
        if let Some(z) = known.and_then(|z| i32::try_from(z).ok()) {
            let (y, m, d) = weft_syntax::num::civil_from_days(z);
            let dim = weft_syntax::num::days_in_month(y, m);
            return [
                self.k(y as i64),
                self.k(m as i64),
                self.k(d as i64),
                self.k(dim as i64),
            ];
        }
        let (y, m, d) = self.civil(v);
        let dim = self.days_in_month(y, m);
        [y, m, d, dim]
    }

    /// `years_between`, `months_between`, `year`, `month`, `day`: the
    /// interpreter's `ops::builtin`, generated inline (an argument outside
    /// `i32` fails with `date_out_of_range`).
    fn date_builtin(&mut self, bi: Builtin, args: &[Value], known: &[Option<i64>]) -> Value {
        let n = if matches!(bi, Builtin::YearsBetween | Builtin::MonthsBetween) {
            2
        } else {
            1
        };
        let arg = |g: &mut Self, i: usize| match args.get(i) {
            Some(v) => *v,
            None => g.k(0),
        };
        let kn = |i: usize| match args.get(i) {
            Some(_) => known.get(i).copied().flatten(),
            None => Some(0),
        };
        // Every argument known: computed now.
        if (0..n).all(|i| kn(i).is_some()) {
            let vals: Vec<i64> = (0..n).map(|i| kn(i).unwrap_or(0)).collect();
            return match weft_interp::ops::builtin(bi, &vals) {
                Ok(v) => self.k(v),
                Err(k) => self.fail_now(sites::kind_site(k)),
            };
        }
        let site = sites::kind_site(ErrKind::DateOutOfRange);
        let mut vs = Vec::with_capacity(n);
        for i in 0..n {
            let v = arg(self, i);
            match kn(i) {
                Some(z) if i32::try_from(z).is_err() => {
                    self.fail_now(site);
                }
                Some(_) => {}
                None => {
                    let t = self.b.ins().ireduce(types::I32, v);
                    let t = self.b.ins().sextend(I64, t);
                    let fits = self.b.ins().icmp(IntCC::Equal, t, v);
                    self.fail_unless(fits, site);
                }
            }
            vs.push(v);
        }
        let [y1, m1, d1, _] = self.date_parts(vs[0], kn(0));
        match bi {
            Builtin::Year => return y1,
            Builtin::Month => return m1,
            Builtin::Day => return d1,
            _ => {}
        }
        let [y2, m2, d2, dim2] = self.date_parts(vs[1], kn(1));
        let dy = self.b.ins().isub(y2, y1);
        let dy = self.b.ins().imul_imm_s(dy, 12);
        let dm = self.b.ins().isub(m2, m1);
        let months = self.b.ins().iadd(dy, dm);
        let ann = self.b.ins().smin(d1, dim2);
        let pos = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, months, 0);
        let before = self.b.ins().icmp(IntCC::SignedLessThan, d2, ann);
        let dec = self.b.ins().band(pos, before);
        let negm = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, months, 0);
        let after = self.b.ins().icmp(IntCC::SignedGreaterThan, d2, ann);
        let inc = self.b.ins().band(negm, after);
        let dec = self.bool64(dec);
        let inc = self.bool64(inc);
        let months = self.b.ins().isub(months, dec);
        let months = self.b.ins().iadd(months, inc);
        if bi == Builtin::MonthsBetween {
            return months;
        }
        // `div_euclid(12)`.
        let k12 = self.k(12);
        let q = self.b.ins().sdiv(months, k12);
        let t = self.b.ins().imul_imm_s(q, 12);
        let r = self.b.ins().isub(months, t);
        let rneg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
        let rneg = self.bool64(rneg);
        self.b.ins().isub(q, rneg)
    }

    /// The members of group `g` cannot be read: the helper finds the
    /// interpreter's error (it always fails).
    fn members_fail(&mut self, gr: Value, g: Value) {
        let c = self.ctx;
        self.call_raw(H::Members, &[c, gr, g]);
        let st = self.b.ins().load(I64, rw(), c, rt::OFF_STATUS);
        let dr = self.dyn_raise_block();
        self.b.ins().jump(dr, &[BlockArg::Value(st)]);
    }

    #[allow(clippy::too_many_arguments)]
    fn agg(
        &mut self,
        n: NodeId,
        kind: AggKind,
        group: NodeId,
        group_record: u32,
        slot: u32,
        body: Option<NodeId>,
        filter: Option<NodeId>,
    ) -> R {
        let g = self.expr(group)?;
        let col = self
            .ir
            .hir
            .records
            .get(group_record as usize)
            .and_then(|r| r.members())
            .and_then(|(f, _)| self.info.col_index(group_record, f.raw(), self.ir));
        let gr = self.k(group_record as i64);
        let (lo, hi) = match col {
            Some(ix) => {
                let cd = self.col_desc(ix);
                let n = self.load_fixed(cd, rt::COL_MEM_LEN);
                let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, g, n);
                let fast = self.b.create_block();
                let slow = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(ok, fast, &[], slow, &[]);
                self.b.switch_to_block(slow);
                self.members_fail(gr, g);
                self.b.switch_to_block(fast);
                let data = self.load_fixed(cd, rt::COL_DATA);
                let off = self.b.ins().ishl_imm_u(g, 3);
                let a = self.b.ins().iadd(data, off);
                let lo = self.b.ins().load(I64, ro(), a, 0);
                let hi = self.b.ins().load(I64, ro(), a, 8);
                (lo, hi)
            }
            None => {
                self.members_fail(gr, g);
                self.switch_new();
                let z = self.k(0);
                (z, z)
            }
        };
        let mvar = self.b.declare_var(I64);
        let acc = self.b.declare_var(I64);
        let any = self.b.declare_var(I64);
        let zero = self.k(0);
        self.b.def_var(mvar, lo);
        self.b.def_var(acc, zero);
        self.b.def_var(any, zero);
        let header = self.b.create_block();
        let body_b = self.b.create_block();
        let next = self.b.create_block();
        let done = self.b.create_block();
        let (result, p) = self.merge_block();
        self.b.ins().jump(header, &[]);

        self.b.switch_to_block(header);
        let m = self.b.use_var(mvar);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, m, hi);
        self.b.ins().brif(more, body_b, &[], done, &[]);

        self.b.switch_to_block(body_b);
        if let Some(var) = self.f.slots.get(slot as usize) {
            let var = *var;
            self.b.def_var(var, m);
        }
        if let Some(f) = filter {
            let fv = self.expr(f)?;
            let pass = self.b.create_block();
            self.b.ins().brif(fv, pass, &[], next, &[]);
            self.b.switch_to_block(pass);
        }
        let body_or = |g: &mut Self, dflt: i64| -> R {
            match body {
                Some(b) => g.expr(b),
                None => Ok(g.k(dflt)),
            }
        };
        match kind {
            AggKind::Count => {
                let a = self.b.use_var(acc);
                let a1 = self.b.ins().iadd_imm_s(a, 1);
                self.b.def_var(acc, a1);
            }
            AggKind::Sum => {
                let v = body_or(self, 0)?;
                let a = self.b.use_var(acc);
                let s = if self.info.proofs.safe(n) {
                    // Proven: no partial sum overflows.
                    self.b.ins().iadd(a, v)
                } else {
                    let r = self.b.ins().sadd_overflow(a, v);
                    self.checked(r)
                };
                self.b.def_var(acc, s);
            }
            AggKind::Any => {
                let v = body_or(self, 0)?;
                let cont = self.b.create_block();
                let one = self.k(1);
                self.b
                    .ins()
                    .brif(v, result, &[BlockArg::Value(one)], cont, &[]);
                self.b.switch_to_block(cont);
            }
            AggKind::All => {
                let v = body_or(self, 1)?;
                let cont = self.b.create_block();
                let z = self.k(0);
                self.b
                    .ins()
                    .brif(v, cont, &[], result, &[BlockArg::Value(z)]);
                self.b.switch_to_block(cont);
            }
            AggKind::Min | AggKind::Max => {
                let v = body_or(self, 0)?;
                let a = self.b.use_var(acc);
                let seen = self.b.use_var(any);
                let mm = if kind == AggKind::Min {
                    self.b.ins().smin(a, v)
                } else {
                    self.b.ins().smax(a, v)
                };
                let nv = self.b.ins().select(seen, mm, v);
                self.b.def_var(acc, nv);
            }
        }
        let one = self.k(1);
        self.b.def_var(any, one);
        self.b.ins().jump(next, &[]);

        self.b.switch_to_block(next);
        let m = self.b.use_var(mvar);
        let m1 = self.b.ins().iadd_imm_s(m, 1);
        self.b.def_var(mvar, m1);
        self.b.ins().jump(header, &[]);

        self.b.switch_to_block(done);
        let out = match kind {
            AggKind::Any => self.k(0),
            AggKind::All => self.k(1),
            AggKind::Min | AggKind::Max => {
                let seen = self.b.use_var(any);
                self.fail_unless(seen, sites::kind_site(ErrKind::Empty));
                self.b.use_var(acc)
            }
            AggKind::Count | AggKind::Sum => self.b.use_var(acc),
        };
        self.jump_with(result, out);
        self.b.switch_to_block(result);
        Ok(p)
    }
}
