//! Shared test support: building policies, both engines (one
//! `weft_interp::batch::Engine` each), and comparing them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_check::pack::{PackSources, compile_sources};
use weft_interp::EvalError;
pub use weft_interp::batch::Engine;
use weft_interp::batch::{Compiled, Interpreter};
use weft_ir::bind::{Bound, bind, reachable};
use weft_ir::data::Chunk;
use weft_ir::{InstId, Ir};
use weft_jit::{Jit, JitProgram};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Read a pack directory (`.weft` modules, `.toml`/`.csv` parameters).
pub fn read_pack(dir: &Path) -> PackSources {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut out = PackSources::default();
    for p in files {
        let rel = p
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let text = std::fs::read_to_string(&p).unwrap();
        match ext {
            "weft" => out.modules.push((rel, text)),
            "toml" | "csv" => out.params.push((rel, text)),
            _ => {}
        }
    }
    out
}

/// Compile and lower a pack; panics (with the diagnostics) if it does not check.
pub fn lower_pack(src: &PackSources) -> Ir {
    let (_, program, diags) = compile_sources(src);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {} {:?}", d.code, d.message, d.help))
        .collect();
    assert!(
        errors.is_empty(),
        "the policy does not check:\n{}",
        errors.join("\n")
    );
    weft_ir::lower::lower(Arc::new(program)).expect("lowering")
}

pub fn jilin() -> Ir {
    lower_pack(&read_pack(&repo_root().join("policies/jilin")))
}

/// A policy from inline modules.
pub fn policy(modules: &[(&str, &str)]) -> Ir {
    let src = PackSources {
        modules: modules
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
        ..Default::default()
    };
    lower_pack(&src)
}

/// Every `(instance, row)` an expectation of a test can reach, for the rows
/// of the test chunk.
pub fn reachable_pairs(ir: &Ir, chunk: &Chunk, roots: &[InstId]) -> Vec<(InstId, usize)> {
    let reach = reachable(ir, roots);
    let mut out = Vec::new();
    for (i, r) in reach.iter().enumerate() {
        if !r {
            continue;
        }
        match ir.instances[i].entity {
            Some(rec) => out.extend((0..chunk.rows(rec)).map(|row| (i as InstId, row))),
            None => out.push((i as InstId, 0)),
        }
    }
    out
}

/// The JIT engine for a binding, compiled afresh (not from the cache).
pub fn jit_engine<'a>(ir: &'a Ir, bound: &'a Bound) -> Jit<'a> {
    let p = JitProgram::compile(ir, bound).expect("compile");
    let compiled = Compiled {
        time: p.compile_time(),
        reused: false,
    };
    Jit::with_program(ir, bound, Arc::new(p), compiled)
}

/// The JIT engine for a binding without proofs: every overflow checked,
/// whatever the chunk holds (`JitProgram::compile_checked`).
pub fn jit_checked_engine<'a>(ir: &'a Ir, bound: &'a Bound) -> Jit<'a> {
    let p = JitProgram::compile_checked(ir, bound).expect("compile");
    let compiled = Compiled {
        time: p.compile_time(),
        reused: false,
    };
    Jit::with_program(ir, bound, Arc::new(p), compiled)
}

/// The reference interpreter's results for `pairs`, in order, one memo.
pub fn interp(
    ir: &Ir,
    bound: &Bound,
    chunk: &Chunk,
    pairs: &[(InstId, usize)],
) -> Vec<Result<i64, EvalError>> {
    Interpreter::new(ir, bound).eval_insts(chunk, pairs)
}

/// Evaluate `pairs` in order with one memo on the reference interpreter
/// and on `engine`, and demand identical results.
pub fn assert_agree(
    engine: &dyn Engine,
    ir: &Ir,
    bound: &Bound,
    chunk: &Chunk,
    pairs: &[(InstId, usize)],
    what: &str,
) -> usize {
    let a = interp(ir, bound, chunk, pairs);
    let b = engine.eval_insts(chunk, pairs);
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        let (inst, row) = pairs[k];
        assert_eq!(
            x,
            y,
            "{what}: `{}` (instance {inst}) row {row}: interp vs {}",
            ir.instances[inst as usize].name,
            engine.name()
        );
    }
    a.len()
}

/// Evaluate each pair with a fresh memo on both engines.
pub fn assert_agree_each(
    engine: &dyn Engine,
    ir: &Ir,
    bound: &Bound,
    chunk: &Chunk,
    pairs: &[(InstId, usize)],
    what: &str,
) {
    for (inst, row) in pairs {
        let a = interp(ir, bound, chunk, &[(*inst, *row)]);
        let b = engine.eval_insts(chunk, &[(*inst, *row)]);
        assert_eq!(
            a, b,
            "{what}: `{}` (instance {inst}) row {row} alone",
            ir.instances[*inst as usize].name
        );
    }
}

pub fn bind_roots(ir: &Ir, as_of: i32, roots: &[InstId]) -> Bound {
    bind(ir, as_of, roots).expect("bind")
}

/// A value of a hand-built record.
#[derive(Debug, Clone)]
pub enum V {
    I(i64),
    T(String),
    Absent,
}

/// Results by `(instance, row)`.
pub type Results = Vec<((InstId, usize), Result<i64, EvalError>)>;

/// A hand-built row: values by field name.
pub type Row<'a> = Vec<(&'a str, V)>;
/// A group row and its members.
pub type Group<'a> = (Row<'a>, Vec<Row<'a>>);

/// Build a chunk from rows given by field name. `groups[g]` is a group
/// record row and its members (each member's link is set to `g`). Fields
/// not given are 0, empty or absent.
pub fn grouped_chunk(ir: &Ir, group: &str, member: &str, groups: &[Group<'_>]) -> Chunk {
    use weft_check::hir::FieldKind;
    use weft_ir::data::{Column, Table};
    let prog = &ir.hir;
    let grec = prog.record_by_name(group).unwrap();
    let mrec = prog.record_by_name(member).unwrap();
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    let members: Vec<(usize, &Row<'_>)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, (_, ms))| ms.iter().map(move |m| (g, m)))
        .collect();
    for (rid, rows) in [
        (
            grec,
            groups.iter().map(|(h, _)| (0usize, h)).collect::<Vec<_>>(),
        ),
        (mrec, members.clone()),
    ] {
        let rec = &prog.records[rid];
        let n = rows.len();
        let mut cols = Vec::new();
        for fd in &rec.fields {
            let get = |row: &Row<'_>| {
                row.iter()
                    .find(|(k, _)| *k == fd.name)
                    .map(|(_, v)| v.clone())
            };
            let col = match &fd.kind {
                FieldKind::Members { .. } => {
                    let mut off = vec![0i64; n + 1];
                    for (g, (_, ms)) in groups.iter().enumerate() {
                        off[g + 1] = off[g] + ms.len() as i64;
                    }
                    Column::Members(off)
                }
                FieldKind::Link { .. } => Column::I64(
                    rows.iter()
                        .map(|(g, r)| match get(r) {
                            Some(V::I(x)) => x,
                            _ => *g as i64,
                        })
                        .collect(),
                ),
                FieldKind::Column => match &fd.ty {
                    weft_ir::Ty::Text => Column::Text(
                        rows.iter()
                            .map(|(_, r)| match get(r) {
                                Some(V::T(s)) => s,
                                _ => String::new(),
                            })
                            .collect(),
                    ),
                    weft_ir::Ty::Opt(_) => {
                        let vals: Vec<Option<i64>> = rows
                            .iter()
                            .map(|(_, r)| match get(r) {
                                Some(V::I(x)) => Some(x),
                                _ => None,
                            })
                            .collect();
                        Column::Opt(
                            vals.iter().map(|v| v.unwrap_or(0)).collect(),
                            vals.iter().map(|v| v.is_some()).collect(),
                        )
                    }
                    _ => Column::I64(
                        rows.iter()
                            .map(|(_, r)| match get(r) {
                                Some(V::I(x)) => x,
                                _ => 0,
                            })
                            .collect(),
                    ),
                },
            };
            cols.push(col);
        }
        chunk.tables[rid.index()] = Table { rows: n, cols };
    }
    chunk
}

/// Every instance for every row of its record. (Assertions over keys run
/// with their key slots unset, 0, on both engines.)
pub fn all_pairs(ir: &Ir, chunk: &Chunk) -> (Vec<InstId>, Vec<(InstId, usize)>) {
    let roots: Vec<InstId> = (0..ir.instances.len() as InstId).collect();
    let pairs = reachable_pairs(ir, chunk, &roots);
    (roots, pairs)
}

/// The instance of a rule (first context: the evaluation date).
pub fn rule_inst(ir: &Ir, name: &str) -> InstId {
    ir.instances
        .iter()
        .position(|i| {
            i.name == name
                && i.kind == weft_ir::InstKind::Rule
                && ir.contexts[i.ctx as usize] == weft_ir::Ctx::AsOf
        })
        .unwrap_or_else(|| panic!("no rule `{name}`")) as InstId
}

/// Compare both engines on every instance and row, in order, in reverse
/// order and one by one; returns the interpreter's results by pair.
pub fn check_policy(ir: &Ir, as_of: i32, chunk: &Chunk) -> Results {
    let (roots, pairs) = all_pairs(ir, chunk);
    let bound = bind_roots(ir, as_of, &roots);
    // The program as compiled (its proofs hold for validated input; a
    // chunk outside the fields' domains goes to the interpreter), and
    // one with every overflow checked (the checks, on any values).
    for jit in [jit_engine(ir, &bound), jit_checked_engine(ir, &bound)] {
        assert_agree(&jit, ir, &bound, chunk, &pairs, "in order");
        let rev: Vec<_> = pairs.iter().rev().copied().collect();
        assert_agree(&jit, ir, &bound, chunk, &rev, "reversed");
        assert_agree_each(&jit, ir, &bound, chunk, &pairs, "alone");
    }
    let res = interp(ir, &bound, chunk, &pairs);
    pairs.into_iter().zip(res).collect()
}

pub fn date(s: &str) -> i64 {
    weft_syntax::num::parse_date(s).unwrap() as i64
}

/// A plan for the outputs of a policy with a hierarchy: every computed
/// column of the member output and of the group output.
pub fn output_plan(ir: &Ir) -> weft_interp::batch::Plan {
    assert!(ir.hierarchy().is_some(), "a policy with members");
    weft_interp::batch::Plan::outputs(ir).expect("outputs")
}

/// Random records of a policy with a hierarchy, respecting field types and
/// ranges: enums within their variants, optionals sometimes absent, money
/// mostly small with the occasional extreme, dates from 1925 to 2020.
/// With `wild`, now and then a value outside what validation allows.
pub fn random_chunk(
    ir: &Ir,
    rng: &mut rand_chacha::ChaCha8Rng,
    households: usize,
    wild: bool,
) -> Chunk {
    use rand::Rng;
    use weft_check::hir::FieldKind;
    use weft_check::ty::Ty;
    use weft_ir::data::{Column, Table};
    let prog = &ir.hir;
    let (grec, mrec) = ir.hierarchy().expect("a policy with members");
    let sizes: Vec<usize> = (0..households)
        .map(|_| match rng.gen_range(0..100) {
            0..=4 => 0,
            5..=40 => 1,
            41..=70 => 2,
            71..=90 => 3,
            _ => rng.gen_range(4..=7),
        })
        .collect();
    let persons: usize = sizes.iter().sum();
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    let lo_date = weft_syntax::num::parse_date("1925-01-01").unwrap() as i64;
    let hi_date = weft_syntax::num::parse_date("2020-12-31").unwrap() as i64;
    for (rid, n) in [(grec, households), (mrec, persons)] {
        let rec = &prog.records.as_slice()[rid as usize];
        let mut cols = Vec::new();
        for (fi, fd) in rec.fields.iter().enumerate() {
            let scalar = |rng: &mut rand_chacha::ChaCha8Rng, ty: &Ty| -> i64 {
                let (lo, hi) = match fd.range {
                    Some((lo, hi)) => (lo.unwrap_or(0), hi.unwrap_or(lo.unwrap_or(0) + 60)),
                    None => (0, 60),
                };
                if wild && rng.gen_range(0..400) == 0 {
                    return [i64::MAX, i64::MIN, -1, 1 << 40, 64][rng.gen_range(0..5)];
                }
                match ty {
                    Ty::Bool => rng.gen_range(0..=1),
                    Ty::Enum(e, set) => {
                        let nv = prog.enums[*e].variants.len().min(64);
                        let opts: Vec<i64> =
                            (0..nv as i64).filter(|v| set & (1u64 << v) != 0).collect();
                        opts[rng.gen_range(0..opts.len())]
                    }
                    Ty::Money(_) => match rng.gen_range(0..100) {
                        0..=29 => 0,
                        30..=79 => rng.gen_range(0..100_000),
                        80..=96 => rng.gen_range(0..40_000_000),
                        97 => rng.gen_range(0..=1) * 50 + 44_500,
                        // Up to the largest amount validation accepts;
                        // beyond it only in wild chunks.
                        _ if wild => rng.gen_range(0..i64::MAX / 1_000),
                        _ => rng.gen_range(0..=100_000_000_000_000),
                    },
                    Ty::Date => rng.gen_range(lo_date..=hi_date),
                    Ty::Decimal => rng.gen_range(0..2_000_000),
                    _ => rng.gen_range(lo..=hi),
                }
            };
            let col = match &fd.kind {
                FieldKind::Members { .. } => {
                    let mut off = vec![0i64; n + 1];
                    for g in 0..n {
                        off[g + 1] = off[g] + sizes[g] as i64;
                    }
                    Column::Members(off)
                }
                FieldKind::Link { .. } => Column::I64(
                    sizes
                        .iter()
                        .enumerate()
                        .flat_map(|(g, s)| std::iter::repeat_n(g as i64, *s))
                        .collect(),
                ),
                FieldKind::Column => match &fd.ty {
                    Ty::Text => Column::Text(
                        (0..n)
                            .map(|i| format!("{}{i}", if fi == 0 { "id" } else { "t" }))
                            .collect(),
                    ),
                    Ty::Opt(inner) => {
                        let pres: Vec<bool> = (0..n).map(|_| rng.gen_range(0..3) == 0).collect();
                        let vals = pres
                            .iter()
                            .map(|p| if *p { scalar(rng, inner) } else { 0 })
                            .collect();
                        Column::Opt(vals, pres)
                    }
                    ty => Column::I64((0..n).map(|_| scalar(rng, ty)).collect()),
                },
            };
            cols.push(col);
        }
        chunk.tables[rid as usize] = Table { rows: n, cols };
    }
    chunk
}

/// Compare two chunk results: errors everywhere, values of accepted groups.
pub fn assert_same_chunk_result(
    ir: &Ir,
    chunk: &Chunk,
    plan: &weft_interp::batch::Plan,
    a: &weft_interp::batch::ChunkResult,
    b: &weft_interp::batch::ChunkResult,
    what: &str,
) {
    assert_eq!(a.errors, b.errors, "{what}: errors");
    for (g, err) in a.errors.iter().enumerate() {
        if err.is_some() {
            continue;
        }
        for (c, col) in a.group_values.iter().enumerate() {
            assert_eq!(col[g], b.group_values[c][g], "{what}: group {g} column {c}");
        }
        for m in weft_interp::batch::member_range(ir, chunk, plan, g) {
            for (c, col) in a.member_values.iter().enumerate() {
                assert_eq!(
                    col[m], b.member_values[c][m],
                    "{what}: group {g} member {m} column {c}"
                );
            }
        }
    }
}
