//! What generated code reads at run time, and the Rust helpers it calls.
//!
//! One [`Ctx`] is built per evaluation (a chunk, or a sequence of
//! instances sharing a memo) and passed by pointer to every generated
//! function. Its first fields are plain machine words at fixed offsets
//! (read by generated code); the rest is Rust data only helpers touch.
//!
//! Every helper is `extern "C"`, takes the context first and only `i64`
//! arguments, returns an `i64`, and reports a failure by writing
//! `site + 1` into [`Ctx::status`] (the generated code checks it after the
//! call). Helpers never panic: a panic cannot unwind through generated
//! code.

use crate::sites::{self, Internal, Site};
use weft_interp::{EvalError, ops};
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column};
use weft_ir::{ArithOp, Builtin, ErrKind, InstId, Ir};

/// Memo states (one byte per instance and row).
pub(crate) const UNSET: u8 = 0;
pub(crate) const BUSY: u8 = 1;
pub(crate) const DONE: u8 = 2;
pub(crate) const FAILED: u8 = 3;

/// Where a memo group starts in the flat state/value arrays, and how many
/// rows it has. A group is the compiled instances of one record kind (or
/// the global instances, one row); its entries are row-major: row `r`,
/// instance `i` is at `base + r × width + local(i)`, so one row's values
/// share a few cache lines.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MemoDesc {
    pub base: i64,
    pub len: u64,
}

/// The memo layout of a compiled program.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoLayout {
    /// Per compiled instance: its group (whose descriptor also gives the
    /// rows of its record).
    pub group: Vec<Option<u32>>,
    /// Per memoised instance: its group and position in the group's rows
    /// (`None` for an instance that is not memoised, see `inlining.rs`).
    pub slot: Vec<Option<(u32, u32)>>,
    /// Per group: its record (`None` for the global group) and width.
    pub groups: Vec<(Option<u32>, u32)>,
}

impl MemoLayout {
    pub fn new(ir: &Ir, bound: &Bound, memoised: &[bool]) -> MemoLayout {
        let mut groups: Vec<(Option<u32>, u32)> = vec![(None, 0)];
        groups.extend((0..ir.hir.records.len() as u32).map(|r| (Some(r), 0)));
        let mut slot = vec![None; ir.instances.len()];
        let mut group = vec![None; ir.instances.len()];
        for (i, inst) in ir.instances.iter().enumerate() {
            if bound.body.get(i).copied().flatten().is_none() {
                continue;
            }
            let g = match inst.entity {
                Some(r) if (r as usize) < ir.hir.records.len() => r as usize + 1,
                Some(r) => match groups.iter().position(|(x, _)| *x == Some(r)) {
                    Some(g) => g,
                    None => {
                        groups.push((Some(r), 0));
                        groups.len() - 1
                    }
                },
                None => 0,
            };
            group[i] = Some(g as u32);
            if !memoised.get(i).copied().unwrap_or(true) {
                continue;
            }
            if let Some(grp) = groups.get_mut(g) {
                slot[i] = Some((g as u32, grp.1));
                grp.1 += 1;
            }
        }
        MemoLayout {
            group,
            slot,
            groups,
        }
    }
}

/// The largest memo (entries) kept for reuse: 4 Mi entries, 36 MiB.
const MAX_KEPT: usize = 4 << 20;

thread_local! {
    /// Memo buffers of the last evaluation on this thread, reused by the
    /// next (saves the page faults of fresh zeroed memory for every chunk).
    static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<i64>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// A column as generated code reads it. Lengths are 0 where the column
/// cannot be read that way, so the fast path's one bounds check also
/// rejects a column of the wrong kind (the slow-path helper then finds the
/// interpreter's exact error).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColDesc {
    /// Values (`I64`, `Opt`) or offsets (`Members`).
    pub data: *const i64,
    /// Rows readable as numbers (`I64`, `Opt`).
    pub num_len: u64,
    /// Presence flags (`Opt`), one byte each.
    pub pres: *const u8,
    pub pres_len: u64,
    /// Groups of a members column (`offsets.len() - 1`).
    pub mem_len: u64,
}

impl Default for ColDesc {
    fn default() -> Self {
        ColDesc {
            data: std::ptr::null(),
            num_len: 0,
            pres: std::ptr::null(),
            pres_len: 0,
            mem_len: 0,
        }
    }
}

/// One key of a parameter: variant → rank (−1 when excluded).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyDesc {
    pub ranks: *const i32,
    pub n: u64,
    pub size: u64,
}

/// A parameter reference as bound for this evaluation.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamDesc {
    /// 0: bound with the expected number of keys (fast path usable);
    /// otherwise the helper decides.
    pub status: i64,
    pub values: *const i64,
    pub len: u64,
    pub keys: *const KeyDesc,
}

impl Default for ParamDesc {
    fn default() -> Self {
        ParamDesc {
            status: 1,
            values: std::ptr::null(),
            len: 0,
            keys: std::ptr::null(),
        }
    }
}

/// The bands of a parameter used by a marginal scale, as bound for this
/// evaluation: `n` rows of `[lo, hi, has_hi, rate]`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct BandsDesc {
    /// 0: bound (fast path usable); otherwise the helper decides.
    pub status: i64,
    pub rows: *const [i64; 4],
    pub n: u64,
}

/// An error raised during an evaluation: its site, the instance whose body
/// raised it, and that instance's row (−1 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrRec {
    pub site: u32,
    pub inst: u32,
    pub row: i64,
}

/// Compile-time facts the helpers need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Info {
    pub sites: Vec<Site>,
    /// Dense column index of `(record, field)`: `col_base[record] + field`.
    pub col_base: Vec<u32>,
    pub ncols: usize,
    /// Per parameter reference: the number of keys its lookups use.
    pub param_keys: Vec<usize>,
    /// Bands of inline marginal scales: `(lo, hi)` per row.
    pub marginal_rows: Vec<Vec<(i64, Option<i64>)>>,
    /// The [`Info::marginal_rows`] entry of each such `Marginal` node.
    pub marginal_table: std::collections::HashMap<weft_ir::NodeId, u32>,
    pub memo: MemoLayout,
    /// Parameter references whose bands a marginal scale reads; the
    /// context has a [`BandsDesc`] for each, in this order.
    pub band_params: Vec<u32>,
    /// Per compiled instance: whether its body never writes slot 0 (so
    /// `Local(0)` is its row).
    pub row_stable: Vec<bool>,
    /// Per instance: whether it is on a cycle of calls (its memo entry is
    /// marked busy while it is evaluated, to find the cycle).
    pub on_cycle: Vec<bool>,
    /// Per parameter reference: its bound values as a table indexed by
    /// the keys' variants, compiled into the code (`None`: read through
    /// the helper).
    pub param_tables: Vec<Option<ParamTable>>,
    /// Operations proven not to overflow, and what the proofs assume.
    pub proofs: crate::ranges::Proofs,
}

/// What a parameter lookup can find for one combination of key variants.
pub(crate) const PT_OK: u8 = 0;
pub(crate) const PT_NO_BAND: u8 = 1;
pub(crate) const PT_NO_SLOT: u8 = 2;

/// A bound parameter as the generated code reads it: one entry per
/// combination of key variants (`Σ kⱼ × strideⱼ`, each `kⱼ < nⱼ`), the
/// value and what [`weft_ir::bind::BoundParam::index`] and the values
/// give for it. The boxes are owned by the program and never move, so
/// their addresses are constants in the code.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParamTable {
    /// Per key: the number of variants its ranks cover.
    pub ns: Vec<u64>,
    pub strides: Vec<i64>,
    pub values: Box<[i64]>,
    /// `PT_OK`, `PT_NO_BAND` or `PT_NO_SLOT` per entry.
    pub states: Box<[u8]>,
}

/// Combinations of key variants compiled as a table at most.
const MAX_TABLE: usize = 1 << 16;

impl ParamTable {
    /// The table of `bp` looked up with `nkeys` keys, if small enough.
    pub fn new(bp: &weft_ir::bind::BoundParam, nkeys: usize) -> Option<ParamTable> {
        if bp.ranks.len() != nkeys || bp.sizes.len() != nkeys {
            return None;
        }
        let ns: Vec<u64> = bp.ranks.iter().map(|r| r.len() as u64).collect();
        let mut total: usize = 1;
        for n in &ns {
            total = total.checked_mul(*n as usize)?;
        }
        if total > MAX_TABLE {
            return None;
        }
        let mut strides = vec![1i64; nkeys];
        for j in (0..nkeys.saturating_sub(1)).rev() {
            strides[j] = strides[j + 1] * ns[j + 1] as i64;
        }
        let mut values = vec![0i64; total];
        let mut states = vec![PT_OK; total];
        let mut keys = vec![0i64; nkeys];
        for e in 0..total {
            let mut rest = e;
            for j in (0..nkeys).rev() {
                let n = ns[j] as usize;
                keys[j] = (rest % n) as i64;
                rest /= n;
            }
            match bp.index(&keys) {
                None => states[e] = PT_NO_BAND,
                Some(i) => match bp.values.get(i) {
                    Some(v) => values[e] = *v,
                    None => states[e] = PT_NO_SLOT,
                },
            }
        }
        Some(ParamTable {
            ns,
            strides,
            values: values.into_boxed_slice(),
            states: states.into_boxed_slice(),
        })
    }

    /// The one value every lookup gives, if there is one (every entry
    /// found, all equal).
    pub fn constant(&self) -> Option<i64> {
        if self.states.iter().any(|s| *s != PT_OK) {
            return None;
        }
        let first = *self.values.first()?;
        self.values.iter().all(|v| *v == first).then_some(first)
    }

    pub fn all_ok(&self) -> bool {
        self.states.iter().all(|s| *s == PT_OK)
    }
}

impl Info {
    pub fn col_index(&self, record: u32, field: u32, ir: &Ir) -> Option<usize> {
        let base = *self.col_base.get(record as usize)? as usize;
        let nf = ir.hir.records.get(record as usize)?.fields.len();
        if (field as usize) < nf {
            Some(base + field as usize)
        } else {
            None
        }
    }
}

/// The per-evaluation context. The fields up to `params` are read by
/// generated code at their `offset_of!` offsets.
#[repr(C)]
pub(crate) struct Ctx<'a> {
    /// `site + 1` of the last helper failure, 0 when none.
    pub status: i64,
    /// The value of the last instance run through the entry trampoline.
    pub out: i64,
    pub memo: *const MemoDesc,
    pub states: *mut u8,
    pub vals: *mut i64,
    pub cols: *const ColDesc,
    pub params: *const ParamDesc,
    pub bands: *const BandsDesc,
    pub rt: Rt<'a>,
}

/// The Rust side of a context: what the raw pointers above point into,
/// and the inputs the helpers consult.
pub(crate) struct Rt<'a> {
    pub ir: &'a Ir,
    pub bound: &'a Bound,
    pub chunk: &'a Chunk,
    pub info: &'a Info,
    pub errors: Vec<ErrRec>,
    // Owned here, used through the raw pointers above.
    _memo: Vec<MemoDesc>,
    _states: Vec<u8>,
    _vals: Vec<i64>,
    _cols: Vec<ColDesc>,
    _params: Vec<ParamDesc>,
    _keys: Vec<KeyDesc>,
    _bands: Vec<BandsDesc>,
    _band_rows: Vec<[i64; 4]>,
}

pub(crate) const OFF_STATUS: i32 = std::mem::offset_of!(Ctx<'static>, status) as i32;
pub(crate) const OFF_OUT: i32 = std::mem::offset_of!(Ctx<'static>, out) as i32;
pub(crate) const OFF_MEMO: i32 = std::mem::offset_of!(Ctx<'static>, memo) as i32;
pub(crate) const OFF_STATES: i32 = std::mem::offset_of!(Ctx<'static>, states) as i32;
pub(crate) const OFF_VALS: i32 = std::mem::offset_of!(Ctx<'static>, vals) as i32;
pub(crate) const OFF_COLS: i32 = std::mem::offset_of!(Ctx<'static>, cols) as i32;
pub(crate) const OFF_PARAMS: i32 = std::mem::offset_of!(Ctx<'static>, params) as i32;
pub(crate) const OFF_BANDS: i32 = std::mem::offset_of!(Ctx<'static>, bands) as i32;
pub(crate) const BANDS_SIZE: i64 = std::mem::size_of::<BandsDesc>() as i64;
pub(crate) const BANDS_STATUS: i32 = std::mem::offset_of!(BandsDesc, status) as i32;
pub(crate) const BANDS_ROWS: i32 = std::mem::offset_of!(BandsDesc, rows) as i32;
pub(crate) const BANDS_N: i32 = std::mem::offset_of!(BandsDesc, n) as i32;

pub(crate) const MEMO_SIZE: i64 = std::mem::size_of::<MemoDesc>() as i64;
pub(crate) const MEMO_BASE: i32 = std::mem::offset_of!(MemoDesc, base) as i32;
pub(crate) const MEMO_LEN: i32 = std::mem::offset_of!(MemoDesc, len) as i32;
pub(crate) const COL_SIZE: i64 = std::mem::size_of::<ColDesc>() as i64;
pub(crate) const COL_DATA: i32 = std::mem::offset_of!(ColDesc, data) as i32;
pub(crate) const COL_NUM_LEN: i32 = std::mem::offset_of!(ColDesc, num_len) as i32;
pub(crate) const COL_PRES: i32 = std::mem::offset_of!(ColDesc, pres) as i32;
pub(crate) const COL_PRES_LEN: i32 = std::mem::offset_of!(ColDesc, pres_len) as i32;
pub(crate) const COL_MEM_LEN: i32 = std::mem::offset_of!(ColDesc, mem_len) as i32;
pub(crate) const PARAM_SIZE: i64 = std::mem::size_of::<ParamDesc>() as i64;
pub(crate) const PARAM_STATUS: i32 = std::mem::offset_of!(ParamDesc, status) as i32;
pub(crate) const PARAM_VALUES: i32 = std::mem::offset_of!(ParamDesc, values) as i32;
pub(crate) const PARAM_LEN: i32 = std::mem::offset_of!(ParamDesc, len) as i32;
pub(crate) const PARAM_KEYS: i32 = std::mem::offset_of!(ParamDesc, keys) as i32;
pub(crate) const KEY_SIZE: i64 = std::mem::size_of::<KeyDesc>() as i64;
pub(crate) const KEY_RANKS: i32 = std::mem::offset_of!(KeyDesc, ranks) as i32;
pub(crate) const KEY_N: i32 = std::mem::offset_of!(KeyDesc, n) as i32;
pub(crate) const KEY_SIZE_FIELD: i32 = std::mem::offset_of!(KeyDesc, size) as i32;

impl<'a> Ctx<'a> {
    /// A fresh context (empty memo) for one chunk.
    pub fn new(ir: &'a Ir, bound: &'a Bound, chunk: &'a Chunk, info: &'a Info) -> Box<Ctx<'a>> {
        // Memo: per group, one entry per row and compiled instance (as the
        // interpreter's memo: one per instance and row of its record).
        let mut memo = Vec::with_capacity(info.memo.groups.len());
        let mut total: usize = 0;
        for (rec, width) in &info.memo.groups {
            let rows = match rec {
                Some(r) => chunk.rows(*r),
                None => 1,
            };
            memo.push(MemoDesc {
                base: total as i64,
                len: rows as u64,
            });
            total = total.saturating_add(rows.saturating_mul(*width as usize));
        }
        let (mut states, mut vals) = BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
        states.clear();
        states.resize(total, UNSET);
        // Values are read only where the state says they were written.
        if vals.len() < total {
            vals.resize(total, 0);
        }
        // Columns.
        let mut cols = vec![ColDesc::default(); info.ncols];
        for (r, rec) in ir.hir.records.iter().enumerate() {
            for f in 0..rec.fields.len() {
                let Some(ix) = info.col_index(r as u32, f as u32, ir) else {
                    continue;
                };
                let Some(slot) = cols.get_mut(ix) else {
                    continue;
                };
                match chunk.col(r as u32, f as u32) {
                    Some(Column::I64(v)) => {
                        slot.data = v.as_ptr();
                        slot.num_len = v.len() as u64;
                    }
                    Some(Column::Opt(v, p)) => {
                        slot.data = v.as_ptr();
                        slot.num_len = v.len() as u64;
                        // `bool` is one byte holding 0 or 1.
                        slot.pres = p.as_ptr().cast::<u8>();
                        slot.pres_len = p.len() as u64;
                    }
                    Some(Column::Members(off)) => {
                        slot.data = off.as_ptr();
                        slot.mem_len = off.len().saturating_sub(1) as u64;
                    }
                    _ => {}
                }
            }
        }
        // Parameters.
        let mut keys = Vec::new();
        let mut spans = Vec::new();
        for (pi, expected) in info.param_keys.iter().enumerate() {
            let bp = match bound.params.get(pi) {
                Some(Some(bp)) if bp.ranks.len() == *expected && bp.sizes.len() == *expected => bp,
                _ => {
                    spans.push(None);
                    continue;
                }
            };
            let start = keys.len();
            for (r, s) in bp.ranks.iter().zip(&bp.sizes) {
                keys.push(KeyDesc {
                    ranks: r.as_ptr(),
                    n: r.len() as u64,
                    size: *s as u64,
                });
            }
            spans.push(Some((start, bp)));
        }
        let params = spans
            .iter()
            .map(|s| match s {
                Some((start, bp)) => ParamDesc {
                    status: 0,
                    values: bp.values.as_ptr(),
                    len: bp.values.len() as u64,
                    keys: keys
                        .get(*start..)
                        .map(|k| k.as_ptr())
                        .unwrap_or(std::ptr::null()),
                },
                None => ParamDesc::default(),
            })
            .collect::<Vec<_>>();
        // Bands of marginal scales.
        let mut band_rows: Vec<[i64; 4]> = Vec::new();
        let mut spans = Vec::with_capacity(info.band_params.len());
        for pref in &info.band_params {
            match bound.params.get(*pref as usize) {
                Some(Some(bp)) => {
                    let start = band_rows.len();
                    band_rows.extend(
                        bp.bands
                            .iter()
                            .map(|b| [b.lo, b.hi.unwrap_or(0), b.hi.is_some() as i64, b.rate]),
                    );
                    spans.push(Some((start, bp.bands.len())));
                }
                _ => spans.push(None),
            }
        }
        let bands: Vec<BandsDesc> = spans
            .iter()
            .map(|s| match s {
                Some((start, n)) => BandsDesc {
                    status: 0,
                    rows: band_rows
                        .get(*start..)
                        .map(|r| r.as_ptr())
                        .unwrap_or(std::ptr::null()),
                    n: *n as u64,
                },
                None => BandsDesc {
                    status: 1,
                    rows: std::ptr::null(),
                    n: 0,
                },
            })
            .collect();
        let memo_ptr = memo.as_ptr();
        let states_ptr = states.as_mut_ptr();
        let vals_ptr = vals.as_mut_ptr();
        let cols_ptr = cols.as_ptr();
        let params_ptr = params.as_ptr();
        Box::new(Ctx {
            status: 0,
            out: 0,
            memo: memo_ptr,
            states: states_ptr,
            vals: vals_ptr,
            cols: cols_ptr,
            params: params_ptr,
            bands: bands.as_ptr(),
            rt: Rt {
                ir,
                bound,
                chunk,
                info,
                errors: Vec::new(),
                _memo: memo,
                _states: states,
                _vals: vals,
                _cols: cols,
                _params: params,
                _keys: keys,
                _bands: bands,
                _band_rows: band_rows,
            },
        })
    }
}

impl Drop for Rt<'_> {
    fn drop(&mut self) {
        let states = std::mem::take(&mut self._states);
        let vals = std::mem::take(&mut self._vals);
        // Keep them for the next evaluation on this thread, unless they are
        // so large that holding on to them would waste memory.
        if vals.len() > MAX_KEPT {
            return;
        }
        let _ = BUFFERS.try_with(|b| {
            if let Ok(mut b) = b.try_borrow_mut() {
                *b = (states, vals);
            }
        });
    }
}

impl Rt<'_> {
    /// The error with id `id` (1-based) as the interpreter reports it.
    pub fn error(&self, id: i64) -> EvalError {
        let rec = usize::try_from(id - 1)
            .ok()
            .and_then(|i| self.errors.get(i))
            .copied();
        match rec {
            Some(r) => {
                let (kind, detail) = sites::resolve(&self.info.sites, r.site);
                EvalError {
                    kind,
                    inst: r.inst,
                    row: usize::try_from(r.row).ok(),
                    detail,
                }
            }
            None => EvalError {
                kind: ErrKind::NoRow,
                inst: 0,
                row: None,
                detail: "internal error: lost error".to_string(),
            },
        }
    }
}

// ------------------------------------------------------------------ helpers
//
// # Safety (every `h_*` helper)
// `ctx` must be the context pointer an evaluation passed to generated code
// (live, used by one thread, not otherwise borrowed while the helper runs);
// pointer arguments must point at as many `i64`s as the helper reads.

fn fail(ctx: &mut Ctx<'_>, site: u32) -> i64 {
    ctx.status = site as i64 + 1;
    0
}

fn fail_kind(ctx: &mut Ctx<'_>, k: ErrKind) -> i64 {
    fail(ctx, sites::kind_site(k))
}

fn fail_internal(ctx: &mut Ctx<'_>, i: Internal) -> i64 {
    fail(ctx, i.site())
}

fn result(ctx: &mut Ctx<'_>, r: Result<i64, ErrKind>) -> i64 {
    match r {
        Ok(v) => v,
        Err(k) => fail_kind(ctx, k),
    }
}

/// Turn the helper's context pointer into a reference.
///
/// # Safety
/// `ctx` must be the pointer the evaluation passed to generated code: a
/// live, exclusively used context (generated code does not touch it while
/// a helper runs).
unsafe fn ctx_mut<'c, 'a>(ctx: *mut Ctx<'a>) -> &'c mut Ctx<'a> {
    // SAFETY: guaranteed by the caller (see above).
    unsafe { &mut *ctx }
}

/// Record an error raised by `inst` (row `row`, −1 for none) at `site`;
/// returns its id (1-based). Clears the helper status.
pub(crate) unsafe extern "C" fn h_raise(ctx: *mut Ctx<'_>, site: i64, inst: i64, row: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    c.status = 0;
    c.rt.errors.push(ErrRec {
        site: u32::try_from(site).unwrap_or(Internal::LostError.site()),
        inst: u32::try_from(inst).unwrap_or(u32::MAX),
        row,
    });
    c.rt.errors.len() as i64
}

/// A numeric field read that missed the fast path: the interpreter's checks.
pub(crate) unsafe extern "C" fn h_field(ctx: *mut Ctx<'_>, record: i64, field: i64, r: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let chunk = c.rt.chunk;
    let col = match (u32::try_from(record), u32::try_from(field)) {
        (Ok(rc), Ok(f)) => chunk.col(rc, f),
        _ => None,
    };
    let Some(col) = col else {
        return fail_internal(c, Internal::ColumnNotLoaded);
    };
    let Ok(r) = usize::try_from(r) else {
        return fail_internal(c, Internal::NegativeRow);
    };
    match col {
        Column::I64(v) | Column::Opt(v, _) => match v.get(r) {
            Some(x) => *x,
            None => fail_internal(c, Internal::RowOutOfRange),
        },
        _ => fail_internal(c, Internal::FieldNotNumber),
    }
}

/// Presence of an optional field, off the fast path.
pub(crate) unsafe extern "C" fn h_isset(ctx: *mut Ctx<'_>, record: i64, field: i64, r: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let chunk = c.rt.chunk;
    let col = match (u32::try_from(record), u32::try_from(field)) {
        (Ok(rc), Ok(f)) => chunk.col(rc, f),
        _ => None,
    };
    let Some(col) = col else {
        return fail_internal(c, Internal::ColumnNotLoaded);
    };
    let Ok(r) = usize::try_from(r) else {
        return fail_internal(c, Internal::NegativeRow);
    };
    match col {
        Column::Opt(_, p) => match p.get(r) {
            Some(x) => *x as i64,
            None => fail_internal(c, Internal::RowOutOfRange),
        },
        Column::I64(_) => 1,
        _ => fail_internal(c, Internal::PresenceOfNonOptional),
    }
}

/// The members of group `g` that the fast path could not read: always an
/// error, the one the interpreter reports.
pub(crate) unsafe extern "C" fn h_members(ctx: *mut Ctx<'_>, group_record: i64, g: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let ir = c.rt.ir;
    let chunk = c.rt.chunk;
    let gr = u32::try_from(group_record).unwrap_or(u32::MAX);
    let Some((field, _)) = ir.hir.records.get(gr as usize).and_then(|r| r.members()) else {
        return fail_internal(c, Internal::RecordWithoutMembers);
    };
    match chunk.col(gr, field.raw()) {
        None => fail_internal(c, Internal::ColumnNotLoaded),
        Some(Column::Members(off)) => {
            let Ok(g) = usize::try_from(g) else {
                return fail_internal(c, Internal::NegativeRow);
            };
            if off.get(g).is_none() || off.get(g + 1).is_none() {
                return fail_internal(c, Internal::RowOutOfRange);
            }
            // The fast path would have read these; it cannot get here.
            fail_internal(c, Internal::RowOutOfRange)
        }
        Some(_) => fail_internal(c, Internal::MembersNotLoaded),
    }
}

/// A parameter lookup off the fast path (`keys` points at `n` values).
pub(crate) unsafe extern "C" fn h_param(
    ctx: *mut Ctx<'_>,
    pref: i64,
    keys: *const i64,
    n: i64,
) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let n = usize::try_from(n).unwrap_or(0);
    let ks: &[i64] = if n == 0 || keys.is_null() {
        &[]
    } else {
        // SAFETY: generated code passes a stack slot holding `n` keys.
        unsafe { std::slice::from_raw_parts(keys, n) }
    };
    let bp = match usize::try_from(pref)
        .ok()
        .and_then(|p| c.rt.bound.params.get(p))
    {
        Some(Some(bp)) => bp,
        _ => return fail_internal(c, Internal::ParamNotBound),
    };
    let Some(idx) = bp.index(ks) else {
        return fail_kind(c, ErrKind::NoBand);
    };
    match bp.values.get(idx) {
        Some(v) => *v,
        None => fail_internal(c, Internal::ParamSlotOutOfRange),
    }
}

/// Where a piece of text is: a literal (`tag` 0, `a` = index) or a text
/// field (`tag` 1, `a` = record, `b` = field, `r` = row). Returns a
/// pointer to the string.
pub(crate) unsafe extern "C" fn h_text(ctx: *mut Ctx<'_>, tag: i64, a: i64, b: i64, r: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let ir = c.rt.ir;
    let chunk = c.rt.chunk;
    let s: &String = if tag == 0 {
        match usize::try_from(a).ok().and_then(|i| ir.texts.get(i)) {
            Some(s) => s,
            None => return fail_internal(c, Internal::UnknownText),
        }
    } else {
        let col = match (u32::try_from(a), u32::try_from(b)) {
            (Ok(rc), Ok(f)) => chunk.col(rc, f),
            _ => None,
        };
        match col {
            None => return fail_internal(c, Internal::ColumnNotLoaded),
            Some(Column::Text(v)) => match usize::try_from(r).ok().and_then(|r| v.get(r)) {
                Some(s) => s,
                None => return fail_internal(c, Internal::RowOutOfRange),
            },
            Some(_) => return fail_internal(c, Internal::TextNotText),
        }
    };
    s as *const String as i64
}

/// Equality of two strings returned by [`h_text`].
pub(crate) unsafe extern "C" fn h_text_eq(_ctx: *mut Ctx<'_>, a: i64, b: i64) -> i64 {
    let (pa, pb) = (a as *const String, b as *const String);
    if pa.is_null() || pb.is_null() {
        return 0;
    }
    // SAFETY: both point at strings of the context's IR or chunk (from
    // `h_text`), which outlive the evaluation.
    let (x, y) = unsafe { (&*pa, &*pb) };
    (x == y) as i64
}

pub(crate) unsafe extern "C" fn h_mul_round(
    ctx: *mut Ctx<'_>,
    a: i64,
    b: i64,
    den: i64,
    unit: i64,
) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    result(c, ops::mul_round(a, b, den, unit))
}

pub(crate) unsafe extern "C" fn h_div_round(
    ctx: *mut Ctx<'_>,
    a: i64,
    b: i64,
    pre: i64,
    unit: i64,
) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    result(c, ops::div_round(a, b, pre, unit))
}

pub(crate) unsafe extern "C" fn h_add_days(ctx: *mut Ctx<'_>, a: i64, b: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    // `num::add_days` adds in i64 without a check: a sum outside i64 would
    // panic there (and abort here), so it is reported as out of range.
    if a.checked_add(b).is_none() {
        return fail_kind(c, ErrKind::DateOutOfRange);
    }
    result(c, ops::arith(ArithOp::AddDays, a, b))
}

pub(crate) unsafe extern "C" fn h_add_months(
    ctx: *mut Ctx<'_>,
    a: i64,
    b: i64,
    factor: i64,
) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    // `num::add_months` adds the month count to `year × 12 + month` without
    // a check; a sum outside i64 is reported as out of range (see above).
    if let (Ok(d), Some(n)) = (i32::try_from(a), b.checked_mul(factor)) {
        let (y, m, _) = weft_syntax::num::civil_from_days(d);
        if (y as i64 * 12 + (m as i64 - 1)).checked_add(n).is_none() {
            return fail_kind(c, ErrKind::DateOutOfRange);
        }
    }
    result(c, ops::arith(ArithOp::AddMonths { factor }, a, b))
}

/// Codes of the builtins computed by [`h_builtin`].
pub(crate) const B_YEARS_BETWEEN: i64 = 0;
pub(crate) const B_MONTHS_BETWEEN: i64 = 1;
pub(crate) const B_YEAR: i64 = 2;
pub(crate) const B_MONTH: i64 = 3;
pub(crate) const B_DAY: i64 = 4;

pub(crate) unsafe extern "C" fn h_builtin(ctx: *mut Ctx<'_>, code: i64, a: i64, b: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let bi = match code {
        B_YEARS_BETWEEN => Builtin::YearsBetween,
        B_MONTHS_BETWEEN => Builtin::MonthsBetween,
        B_YEAR => Builtin::Year,
        B_MONTH => Builtin::Month,
        _ => Builtin::Day,
    };
    result(c, ops::builtin(bi, &[a, b]))
}

pub(crate) unsafe extern "C" fn h_round_to(ctx: *mut Ctx<'_>, a: i64, unit: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    result(c, ops::builtin(Builtin::RoundTo(unit), &[a]))
}

pub(crate) fn bands_code(b: Builtin) -> i64 {
    match b {
        Builtin::BandsStart => 0,
        Builtin::BandsContiguous => 1,
        Builtin::MinRate => 2,
        Builtin::MaxRate => 3,
        _ => 4,
    }
}

pub(crate) unsafe extern "C" fn h_bands_info(ctx: *mut Ctx<'_>, code: i64, pref: i64) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let bi = match code {
        0 => Builtin::BandsStart,
        1 => Builtin::BandsContiguous,
        2 => Builtin::MinRate,
        3 => Builtin::MaxRate,
        _ => Builtin::Abs,
    };
    match usize::try_from(pref)
        .ok()
        .and_then(|p| c.rt.bound.params.get(p))
    {
        Some(Some(bp)) => ops::bands_info(bi, &bp.bands),
        _ => fail_internal(c, Internal::BandsNotBound),
    }
}

pub(crate) unsafe extern "C" fn h_marginal_param(
    ctx: *mut Ctx<'_>,
    x: i64,
    adj: i64,
    round_each: i64,
    pref: i64,
) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let bands = match usize::try_from(pref)
        .ok()
        .and_then(|p| c.rt.bound.params.get(p))
    {
        Some(Some(bp)) => &bp.bands,
        _ => return fail_internal(c, Internal::BandsNotBound),
    };
    let r = with_bands(bands.iter().map(|b| (b.lo, b.hi, b.rate)), |list| {
        ops::marginal(x, list, adj, round_each != 0)
    });
    result(c, r)
}

/// Run `f` on the bands, without allocating for the usual few.
fn with_bands<T>(
    bands: impl ExactSizeIterator<Item = (i64, Option<i64>, i64)>,
    f: impl FnOnce(&[(i64, Option<i64>, i64)]) -> T,
) -> T {
    const N: usize = 16;
    if bands.len() <= N {
        let mut buf = [(0i64, None, 0i64); N];
        let mut n = 0;
        for (slot, b) in buf.iter_mut().zip(bands) {
            *slot = b;
            n += 1;
        }
        f(buf.get(..n).unwrap_or(&[]))
    } else {
        let v: Vec<_> = bands.collect();
        f(&v)
    }
}

/// A marginal scale with inline bands: `table` indexes
/// [`Info::marginal_rows`], `rates` points at one rate per row.
pub(crate) unsafe extern "C" fn h_marginal_rows(
    ctx: *mut Ctx<'_>,
    x: i64,
    adj: i64,
    round_each: i64,
    table: i64,
    rates: *const i64,
) -> i64 {
    // SAFETY: called only from generated code with its context pointer.
    let c = unsafe { ctx_mut(ctx) };
    let info = c.rt.info;
    let Some(rows) = usize::try_from(table)
        .ok()
        .and_then(|t| info.marginal_rows.get(t))
    else {
        return fail_internal(c, Internal::BandsNotBound);
    };
    let rs: &[i64] = if rows.is_empty() || rates.is_null() {
        &[]
    } else {
        // SAFETY: generated code passes a stack slot with one rate per row.
        unsafe { std::slice::from_raw_parts(rates, rows.len()) }
    };
    let r = with_bands(
        rows.iter().zip(rs).map(|((lo, hi), r)| (*lo, *hi, *r)),
        |list| ops::marginal(x, list, adj, round_each != 0),
    );
    result(c, r)
}

/// The error an instance gets when it cannot run at all, exactly as the
/// interpreter's `eval_inst` reports it (used for instances without code).
pub(crate) fn not_runnable(ir: &Ir, inst: InstId, row: usize) -> EvalError {
    let (what, erow) = match ir.inst(inst) {
        None => (Internal::UnknownInstance, None),
        Some(def) => (Internal::RowOutOfRange, def.entity.map(|_| row)),
    };
    EvalError {
        kind: ErrKind::NoRow,
        inst,
        row: erow,
        detail: what.detail(),
    }
}
