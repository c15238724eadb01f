//! Benchmarks of Weft's evaluation phase: the interpreter and the JIT.
//! Not part of the product.
//!
//! The *evaluation phase* is what the engines do: validated in-memory
//! columns in, output columns in memory out. Reading, validation, grouping
//! and writing are excluded (they are `weft run --timings`' other phases),
//! and so is compilation.
//!
//! The limit these are compared with is the hand-written yardstick
//! (`../shared/yardstick/jilin-native`), a separate program with its own
//! data structures, timed in the same run by `scripts/bench-eval.sh`. An
//! in-process "hand-written" baseline written against the engine's own
//! chunks and parameter lookups measured those, not the limit, and is
//! gone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use weft_data::{Format, Row, open_reader};
use weft_engine::rows::{Group, build_chunk};
use weft_engine::run::{check_groups, plan_for, prepare_in_memory, roots};
use weft_interp::batch::Plan;
use weft_ir::Ir;
use weft_ir::bind::{Bound, bind};
use weft_ir::data::Chunk;

/// The jilin pack of this repository, checked and lowered.
pub fn jilin() -> Ir {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/jilin");
    let pack =
        <weft_check::pack::PackSources as weft_engine::load::PackFiles>::from_dir(&dir).unwrap();
    let (_, prog, diags) = weft_check::pack::compile_sources(&pack);
    assert!(
        !diags.iter().any(|d| d.is_error()),
        "the jilin pack has errors"
    );
    weft_ir::lower::lower(Arc::new(prog)).unwrap()
}

fn read(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut r = open_reader(path, Format::from_path(path).unwrap()).unwrap();
    let header = r.header().to_vec();
    let mut rows = Vec::new();
    let mut row = Row::default();
    while r.next_row(&mut row).unwrap() {
        rows.push(row.clone());
    }
    (header, rows)
}

/// A population prepared for the evaluation phase: chunks of about
/// `chunk_members` members, as `weft run` builds them.
pub struct Prepared {
    pub ir: Ir,
    pub bound: Bound,
    pub plan: Plan,
    pub chunks: Vec<Chunk>,
    pub members: usize,
}

/// Read a population directory (`households.csv`, `persons.csv`), validate
/// it for a month and cut it into chunks.
pub fn prepare(ir: Ir, dir: &Path, as_of: i32, chunk_members: usize) -> Prepared {
    let bound = bind(&ir, as_of, &roots(&ir)).unwrap();
    let plan = plan_for(&ir).unwrap();
    let (gh, gr) = read(&dir.join("households.csv"));
    let (mh, mr) = read(&dir.join("persons.csv"));
    let prepared = prepare_in_memory(&ir, (&gh, &gr), Some((&mh, &mr))).unwrap();
    let (keep, _) = check_groups(&ir, &bound, prepared.groups).unwrap();
    let schemas = weft_data::schema::InputSchema::all(&ir.hir);
    let gs = &schemas[plan.group.0 as usize];
    let ms = plan.member.as_ref().map(|(m, _)| &schemas[*m as usize]);
    let mut chunks = Vec::new();
    let mut current: Vec<&Group> = Vec::new();
    let mut n = 0;
    let mut members = 0;
    for g in &keep {
        n += g.members.len().max(1);
        members += g.members.len();
        current.push(g);
        if n >= chunk_members {
            chunks.push(build_chunk(&ir.hir, gs, ms, &current));
            current.clear();
            n = 0;
        }
    }
    if !current.is_empty() {
        chunks.push(build_chunk(&ir.hir, gs, ms, &current));
    }
    Prepared {
        ir,
        bound,
        plan,
        chunks,
        members,
    }
}

/// A synthetic population in a temporary directory.
pub fn synth(ir: &Ir, households: u64, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let opts = weft_engine::synth::SynthOptions {
        groups: households,
        seed,
        as_of: weft_syntax::num::parse_month("2019-12").unwrap(),
        out_dir: dir.path().to_path_buf(),
        format: Format::Csv,
        sample: 0,
    };
    weft_engine::synth::synth(ir, &opts).unwrap();
    dir
}
