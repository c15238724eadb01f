//! `weft run`: a whole population through an engine.
//!
//! 1. **Index** (first pass): read the key and link columns of every file to
//!    find duplicate ids and members naming unknown groups, and to learn
//!    whether the member file is grouped in the group file's order. Ids are
//!    128-bit hashes, spilled to temporary files in partitions by hash and
//!    joined one partition at a time (see [`Index`]), so the index's memory
//!    does not grow with the population. The files' SHA-256 are computed
//!    meanwhile on another thread.
//! 2. **Read and validate** (second pass, on a thread of its own): parse
//!    every row against its record's columns; group members with their
//!    group; collect groups into chunks and chunks into batches. If the
//!    member file is grouped in the group file's order the files are
//!    streamed together and memory is bounded by the batch size; otherwise
//!    every row is read into memory first (memory then grows with the
//!    population; the run says so).
//! 3. **Evaluate** (on a second thread): the chunks of a batch run in
//!    parallel (rayon). For each chunk the record checks run first (with
//!    the interpreter); rows that fail are rejected with their group (or,
//!    for `exclude` checks, left out alone), then the engine evaluates the
//!    outputs.
//! 4. **Write** (on the calling thread): results are taken batch by batch
//!    in input order. Outputs go to a temporary directory beside the output
//!    directory and are renamed into place at the end, `manifest.json`
//!    last, so an interrupted run never leaves a partial file under a final
//!    name.
//!
//! Steps 2–4 form a pipeline: while batch N is written, N+1 is evaluated
//! and N+2 read. The stages hand batches over through channels that hold
//! none, so at most three batches are in memory at once. A stop
//! (`--max-errors`, an error) on any stage ends the others, and a reading
//! error is reported after the batches read before it, as if the stages
//! ran in turn: the results, errors and stops are those of a sequential
//! run. The [`Timings`] of the stages overlap.
//!
//! Every input row ends in exactly one output: a result file when it was
//! evaluated, `errors` when it was rejected or left out.

use crate::cpu::Stopwatch;
use crate::rows::{Group, Parsed, RowError, Val, build_chunk, header_map, parse_row};
use crate::summary::Summary;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use weft_check::ty::Ty;
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{
    FileError, Format, OutCell, OutType, Row, RowWriter, file_name, open_reader, open_writer,
};
use weft_interp::Interp;
use weft_interp::batch::{ChunkResult, Plan};
use weft_ir::bind::{BindError, Bound};
use weft_ir::data::{Chunk, Column};
use weft_ir::{ColumnValue, InstId, Ir};

/// An engine that evaluates chunks for a plan.
pub trait ChunkEval: Sync {
    fn name(&self) -> &'static str;
    fn eval_chunk(&self, chunk: &Chunk) -> ChunkResult;
}

/// The interpreter as a [`ChunkEval`].
pub struct InterpEval<'a> {
    pub ir: &'a Ir,
    pub bound: &'a Bound,
    pub plan: &'a Plan,
}

impl ChunkEval for InterpEval<'_> {
    fn name(&self) -> &'static str {
        "interp"
    }
    fn eval_chunk(&self, chunk: &Chunk) -> ChunkResult {
        weft_interp::batch::eval_chunk(self.ir, self.bound, chunk, self.plan)
    }
}

#[derive(Debug, Clone)]
pub struct InputFile {
    /// The input name (`persons`) of the record it holds.
    pub input: String,
    pub path: PathBuf,
    pub format: Format,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub as_of: i32,
    pub inputs: Vec<InputFile>,
    pub out_dir: PathBuf,
    pub out_format: Format,
    pub force: bool,
    /// Stop (writing nothing) once more rows than this are rejected.
    pub max_errors: Option<u64>,
    /// Members per chunk.
    pub chunk_rows: usize,
    /// `(name, sha256)` of the policy's files, for the manifest.
    pub policy_files: Vec<(String, String)>,
    pub engine_name: String,
    /// Write the outputs (false for a diff, which only observes).
    pub write: bool,
    /// An enum field of the records to break results down by.
    pub by: Option<String>,
    /// Partitions of the first pass's id index (`None`: by input size).
    pub index_partitions: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// First pass over the files.
    pub index: Duration,
    /// Reading, parsing and grouping rows into batches: the reader
    /// thread's wall time, without its waits for the evaluator. Reading
    /// overlaps evaluation and writing, so `read + eval + write` is more
    /// than the time they took together.
    pub read: Duration,
    /// Record checks, chunk building and evaluation (wall time of the
    /// parallel sections; overlaps reading and writing).
    pub eval: Duration,
    /// Sum over chunks of the CPU time spent building the chunk's columns,
    /// running the record checks and applying rejections (the thread's CPU
    /// clock, so time the pipeline's other threads take on the same core
    /// is not counted; wall time where there is no such clock).
    pub check_cpu: Duration,
    /// Sum over chunks of the engine's CPU time, measured the same way.
    pub eval_cpu: Duration,
    /// Writing outputs (overlapping reading and evaluation), then errors,
    /// manifest and renaming.
    pub write: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct FileCounts {
    pub input: String,
    pub file: String,
    pub rows: u64,
    pub evaluated: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub files: Vec<FileCounts>,
    pub timings: Timings,
    pub summary: Summary,
    /// Per side of a [`run_sides`] (the first is `summary`).
    pub summaries: Vec<Summary>,
    pub streamed: bool,
    pub warnings: Vec<String>,
    pub out_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{file}: missing column(s) {}", columns.join(", "))]
    MissingColumns { file: String, columns: Vec<String> },
    #[error("cannot evaluate this month: {0}")]
    Bind(#[from] BindError),
    #[error("cannot write the output: {0}")]
    Output(String),
    #[error("stopped after {errors} rejected row(s) (limit {limit}); nothing was written")]
    Stopped { errors: u64, limit: u64 },
    #[error("cannot use the temporary directory for the id index: {0}")]
    Scratch(String),
}

/// Progress, for a bar.
pub trait Progress: Sync {
    fn total(&self, _rows: u64) {}
    fn advance(&self, _rows: u64) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

fn hash_id(s: &str) -> u128 {
    // Two independent 64-bit hashes (fixed keys, so a run is reproducible).
    let mut a =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    a.write(s.as_bytes());
    let mut b =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    b.write_u8(0x5a);
    b.write(s.as_bytes());
    ((a.finish() as u128) << 64) | b.finish() as u128
}

/// What the first pass learnt.
///
/// Memory bounded by partitions: every group id is written as `(hash, seq)`
/// to one of `P` temporary files chosen by its hash, every member as its
/// key hash and `(link hash, seq)`; then each partition is sorted and
/// joined on its own. What stays in memory is the ids that appear more than
/// once (usually none) and read buffers; each member's group is read back in
/// member order from the partitions' join results ([`Links`]). `P` grows
/// with the input files' size (8 MiB of input a partition, at most 256), so
/// a partition holds about 100,000 ids of CSV.
struct Index {
    group_rows: u64,
    member_rows: u64,
    dup_groups: HashSet<u128>,
    dup_members: HashSet<u128>,
    /// Members appear grouped, in the group file's order.
    ordered: bool,
    group_sha: String,
    member_sha: String,
    /// Each member row's group, in member order (when there are members).
    links: Option<Links>,
}

/// The group seq of each member row, read back in member order: a byte per
/// member names its partition, and each partition's join result lists
/// `(member seq, group seq)` in member order (`u64::MAX`: no such group).
struct Links {
    order: std::io::BufReader<std::fs::File>,
    parts: Vec<std::io::BufReader<std::fs::File>>,
    _dir: tempfile::TempDir,
}

const NO_GROUP: u64 = u64::MAX;
/// A member row without a link column is marked in its seq's top bit.
const NO_LINK: u64 = 1 << 63;

fn scratch(e: std::io::Error) -> RunError {
    RunError::Scratch(e.to_string())
}

impl Links {
    /// The group of member row `mseq` (the next one in order).
    fn next(&mut self, mseq: u64) -> Result<Option<u64>, RunError> {
        use std::io::Read;
        let mut b = [0u8; 1];
        self.order.read_exact(&mut b).map_err(scratch)?;
        let part = self
            .parts
            .get_mut(b[0] as usize)
            .ok_or_else(|| RunError::Scratch("a damaged partition number".into()))?;
        let mut e = [0u8; 16];
        part.read_exact(&mut e).map_err(scratch)?;
        let (m, g) = split16(&e);
        if m != mseq {
            return Err(RunError::Scratch(format!(
                "the index is out of step (row {m}, expected {mseq})"
            )));
        }
        Ok((g != NO_GROUP).then_some(g))
    }

    fn rewind(&mut self) -> Result<(), RunError> {
        use std::io::Seek;
        self.order.rewind().map_err(scratch)?;
        for p in &mut self.parts {
            p.rewind().map_err(scratch)?;
        }
        Ok(())
    }
}

fn split16(e: &[u8; 16]) -> (u64, u64) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&e[..8]);
    b.copy_from_slice(&e[8..]);
    (u64::from_le_bytes(a), u64::from_le_bytes(b))
}

/// Spill files of one kind, one per partition.
struct Spill {
    files: Vec<std::io::BufWriter<std::fs::File>>,
    paths: Vec<PathBuf>,
}

impl Spill {
    fn new(dir: &Path, kind: &str, parts: usize) -> Result<Spill, RunError> {
        let mut files = Vec::with_capacity(parts);
        let mut paths = Vec::with_capacity(parts);
        for p in 0..parts {
            let path = dir.join(format!("{kind}-{p}"));
            let f = crate::scratch::file(&path).map_err(scratch)?;
            files.push(std::io::BufWriter::with_capacity(1 << 14, f));
            paths.push(path);
        }
        Ok(Spill { files, paths })
    }

    fn write(&mut self, part: usize, bytes: &[u8]) -> Result<(), RunError> {
        use std::io::Write;
        match self.files.get_mut(part) {
            Some(f) => f.write_all(bytes).map_err(scratch),
            None => Err(RunError::Scratch("a partition out of range".into())),
        }
    }

    fn finish(self) -> Result<Vec<PathBuf>, RunError> {
        use std::io::Write;
        for mut f in self.files {
            f.flush().map_err(scratch)?;
        }
        Ok(self.paths)
    }
}

/// Read a spill file of fixed-size records.
fn read_spill<const N: usize>(path: &Path) -> Result<Vec<[u8; N]>, RunError> {
    let bytes = std::fs::read(path).map_err(scratch)?;
    let _ = std::fs::remove_file(path);
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
        .collect())
}

fn u128_at(b: &[u8]) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    u128::from_le_bytes(a)
}

fn u64_at(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

fn partition_of(h: u128, parts: usize) -> usize {
    (h as u64 % parts as u64) as usize
}

/// How many partitions: 8 MiB of input each, a power of two, 1 to 256.
fn partitions(files: &[&Path]) -> usize {
    let bytes: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    ((bytes / (8 << 20)) as usize)
        .next_power_of_two()
        .clamp(1, 256)
}

fn sha256_file(path: &Path) -> Result<String, FileError> {
    use std::io::Read;
    let name = file_name(path);
    let mut f = std::fs::File::open(path)
        .map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| FileError::new(&name, format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn dups(mut v: Vec<u128>) -> HashSet<u128> {
    v.sort_unstable();
    let mut out = HashSet::new();
    for w in v.windows(2) {
        if w[0] == w[1] {
            out.insert(w[0]);
        }
    }
    out
}

struct Side<'a> {
    schema: &'a InputSchema,
    file: &'a InputFile,
    name: String,
}

fn open_checked(
    side: &Side<'_>,
    warnings: &mut Vec<String>,
) -> Result<(Box<dyn weft_data::RowReader>, Vec<usize>), RunError> {
    let rdr = open_reader(&side.file.path, side.file.format)?;
    let header = rdr.header().to_vec();
    let map =
        header_map(side.schema, &header, side.file.format == Format::Jsonl).map_err(|columns| {
            RunError::MissingColumns {
                file: side.name.clone(),
                columns,
            }
        })?;
    for h in &header {
        if !side.schema.columns.iter().any(|c| c.name == *h) {
            warnings.push(format!(
                "{}: the column `{h}` is not used by the policy and is ignored",
                side.name
            ));
        }
    }
    Ok((rdr, map))
}

/// Floating-point money (a Parquet float column) is a whole-file error.
fn no_float_money(side: &Side<'_>, map: &[usize], row: &Row) -> Result<(), RunError> {
    for (ci, c) in side.schema.columns.iter().enumerate() {
        let money = match &c.kind {
            ColKind::Value(Ty::Money(_)) => true,
            ColKind::Value(Ty::Opt(t)) => matches!(**t, Ty::Money(_)),
            _ => false,
        };
        if money {
            if let Some(cell) = map.get(ci).and_then(|i| row.cells.get(*i)) {
                if cell.kind == weft_data::CellKind::Float {
                    return Err(RunError::File(FileError::new(
                        &side.name,
                        format!(
                            "the column `{}` holds floating-point numbers; money must be exact (Decimal128 with scale ≤ 2, or text like \"1234.50\")",
                            c.name
                        ),
                    )));
                }
            }
        }
    }
    Ok(())
}

fn index(
    g: &Side<'_>,
    m: Option<&Side<'_>>,
    warnings: &mut Vec<String>,
    parts: Option<usize>,
) -> Result<Index, RunError> {
    // The files' SHA-256 (for the manifest) on a thread of their own, read
    // while the files are indexed; each is taken where it is needed, so an
    // error is reported where it was before.
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let paths: Vec<&Path> = std::iter::once(g)
            .chain(m)
            .map(|x| x.file.path.as_path())
            .collect();
        s.spawn(move || {
            for p in paths {
                if tx.send(sha256_file(p)).is_err() {
                    break;
                }
            }
        });
        let next_sha = move || -> Result<String, RunError> {
            match rx.recv() {
                Ok(r) => Ok(r?),
                Err(_) => Err(RunError::Scratch("the file hashes are missing".into())),
            }
        };
        index_files(g, m, warnings, parts, next_sha)
    })
}

/// [`index`]; `next_sha` gives each file's SHA-256, the group file's first.
fn index_files(
    g: &Side<'_>,
    m: Option<&Side<'_>>,
    warnings: &mut Vec<String>,
    parts: Option<usize>,
    mut next_sha: impl FnMut() -> Result<String, RunError>,
) -> Result<Index, RunError> {
    use std::io::Write;
    let mut paths = vec![g.file.path.as_path()];
    if let Some(m) = m {
        paths.push(m.file.path.as_path());
    }
    let parts = parts
        .map(|p| p.clamp(1, 256))
        .unwrap_or_else(|| partitions(&paths));
    let dir = crate::scratch::dir("weft-index").map_err(scratch)?;

    // Groups: (hash, seq) by partition.
    let (mut rdr, map) = open_checked(g, warnings)?;
    let key = g.schema.key.and_then(|k| map.get(k).copied());
    let mut row = Row::default();
    let mut gspill = Spill::new(dir.path(), "groups", parts)?;
    let mut n = 0u64;
    while rdr.next_row(&mut row)? {
        no_float_money(g, &map, &row)?;
        if let Some(k) = key {
            let h = hash_id(row.text(k).trim());
            let mut e = [0u8; 24];
            e[..16].copy_from_slice(&h.to_le_bytes());
            e[16..].copy_from_slice(&n.to_le_bytes());
            gspill.write(partition_of(h, parts), &e)?;
        }
        n += 1;
    }
    let gpaths = gspill.finish()?;
    let group_sha = next_sha()?;
    let mut idx = Index {
        group_rows: n,
        member_rows: 0,
        dup_groups: HashSet::new(),
        dup_members: HashSet::new(),
        ordered: true,
        group_sha,
        member_sha: String::new(),
        links: None,
    };

    // Members: key hashes and (link hash, seq) by partition, and the
    // partition of each member's link in member order.
    let mut member_paths = None;
    if let Some(m) = m {
        let (mut rdr, map) = open_checked(m, warnings)?;
        let key = m.schema.key.and_then(|k| map.get(k).copied());
        let link = m
            .schema
            .columns
            .iter()
            .position(|c| matches!(c.kind, ColKind::Link { .. }))
            .and_then(|k| map.get(k).copied());
        let mut kspill = Spill::new(dir.path(), "keys", parts)?;
        let mut lspill = Spill::new(dir.path(), "links", parts)?;
        let order_path = dir.path().join("order");
        let mut order =
            std::io::BufWriter::new(crate::scratch::file(&order_path).map_err(scratch)?);
        let mut n = 0u64;
        while rdr.next_row(&mut row)? {
            no_float_money(m, &map, &row)?;
            if let Some(k) = key {
                let h = hash_id(row.text(k).trim());
                kspill.write(partition_of(h, parts), &h.to_le_bytes())?;
            }
            let (h, seq) = match link {
                Some(l) => (hash_id(row.text(l).trim()), n),
                None => (0, n | NO_LINK),
            };
            let part = partition_of(h, parts);
            let mut e = [0u8; 24];
            e[..16].copy_from_slice(&h.to_le_bytes());
            e[16..].copy_from_slice(&seq.to_le_bytes());
            lspill.write(part, &e)?;
            order.write_all(&[part as u8]).map_err(scratch)?;
            n += 1;
        }
        order.flush().map_err(scratch)?;
        idx.member_rows = n;
        idx.member_sha = next_sha()?;
        member_paths = Some((kspill.finish()?, lspill.finish()?, order_path));
    }

    // Join, one partition at a time.
    let mut results = Vec::new();
    for (p, gpath) in gpaths.iter().enumerate() {
        let mut groups: Vec<(u128, u64)> = read_spill::<24>(gpath)?
            .iter()
            .map(|e| (u128_at(&e[..16]), u64_at(&e[16..])))
            .collect();
        groups.sort_unstable();
        let dup = dups(groups.iter().map(|(h, _)| *h).collect());
        groups.retain(|(h, _)| !dup.contains(h));
        idx.dup_groups.extend(dup);
        let Some((kpaths, lpaths, _)) = &member_paths else {
            continue;
        };
        if let Some(kp) = kpaths.get(p) {
            let keys: Vec<u128> = read_spill::<16>(kp)?.iter().map(|e| u128_at(e)).collect();
            idx.dup_members.extend(dups(keys));
        }
        let Some(lp) = lpaths.get(p) else { continue };
        let out_path = dir.path().join(format!("joined-{p}"));
        let mut out = std::io::BufWriter::new(crate::scratch::file(&out_path).map_err(scratch)?);
        for e in read_spill::<24>(lp)? {
            let (h, seq) = (u128_at(&e[..16]), u64_at(&e[16..]));
            let g = if seq & NO_LINK != 0 {
                NO_GROUP
            } else {
                groups
                    .binary_search_by(|(x, _)| x.cmp(&h))
                    .ok()
                    .and_then(|i| groups.get(i))
                    .map(|(_, s)| *s)
                    .unwrap_or(NO_GROUP)
            };
            let mut r = [0u8; 16];
            r[..8].copy_from_slice(&(seq & !NO_LINK).to_le_bytes());
            r[8..].copy_from_slice(&g.to_le_bytes());
            out.write_all(&r).map_err(scratch)?;
        }
        out.flush().map_err(scratch)?;
        results.push(out_path);
    }

    // Are the members grouped in the group file's order?
    if let Some((_, _, order_path)) = member_paths {
        let open = |p: &Path| -> Result<std::io::BufReader<std::fs::File>, RunError> {
            Ok(std::io::BufReader::with_capacity(
                1 << 14,
                std::fs::File::open(p).map_err(scratch)?,
            ))
        };
        let mut links = Links {
            order: open(&order_path)?,
            parts: results.iter().map(|p| open(p)).collect::<Result<_, _>>()?,
            _dir: dir,
        };
        let mut last: Option<u64> = None;
        let mut closed: u64 = 0;
        for mseq in 0..idx.member_rows {
            if let Some(gs) = links.next(mseq)? {
                match last {
                    Some(p) if p == gs => {}
                    Some(p) if gs > p && gs >= closed => {
                        closed = p + 1;
                        last = Some(gs);
                    }
                    None => last = Some(gs),
                    _ => idx.ordered = false,
                }
            }
        }
        links.rewind()?;
        idx.links = Some(links);
    }
    Ok(idx)
}

/// One error row.
#[derive(Debug, Clone)]
struct ErrorRow {
    seq: u64,
    line: u64,
    id: String,
    column: String,
    message: String,
}

/// A group after validation: rejected (with error rows) or to evaluate.
struct Outcome {
    group_errors: Vec<ErrorRow>,
    member_errors: Vec<ErrorRow>,
    /// Evaluated rows: `(seq, cells, by)` (by: the `--by` field's value).
    group_out: Vec<OutRow>,
    member_out: Vec<OutRow>,
    evaluated_groups: u64,
    evaluated_members: u64,
    eval_cpu: Duration,
    check_cpu: Duration,
}

/// An evaluated row: `(seq, cells, by)`.
type OutRow = (u64, Vec<OutCell>, Option<i64>);

impl Outcome {
    /// The evaluated rows of an output of `record`: the groups' when it is
    /// the group record, else the members'.
    fn rows_of(&self, record: u32, group_record: u32) -> &[OutRow] {
        if record == group_record {
            &self.group_out
        } else {
            &self.member_out
        }
    }
}

/// The output columns of one record: per column, where its value comes from.
struct OutPlan {
    /// Per output: per column, the plan column (instance) or a text path.
    sources: Vec<Vec<ColSource>>,
}

#[derive(Clone)]
enum ColSource {
    Plan(usize, Ty),
    Text(Vec<(u32, u32)>),
}

fn out_type(ty: &Ty) -> OutType {
    match ty {
        Ty::Money(_) => OutType::Money,
        Ty::Bool => OutType::Bool,
        Ty::Decimal => OutType::Decimal,
        Ty::Date => OutType::Date,
        Ty::Text => OutType::Text,
        Ty::Enum(..) => OutType::Text,
        Ty::Opt(t) => out_type(t),
        _ => OutType::Int,
    }
}

fn out_cell(prog: &weft_check::Program, ty: &Ty, v: i64) -> OutCell {
    match ty {
        Ty::Money(_) => OutCell::Money(v),
        Ty::Bool => OutCell::Bool(v != 0),
        Ty::Decimal => OutCell::Decimal(v),
        Ty::Date => OutCell::Date(i32::try_from(v).unwrap_or(0)),
        Ty::Enum(..) => OutCell::Text(weft_ir::value::csv_value(prog, ty, v)),
        Ty::Opt(t) => out_cell(prog, t, v),
        _ => OutCell::Int(v),
    }
}

/// The plan for a program: member and group columns.
pub fn plan_for(ir: &Ir) -> Result<Plan, RunError> {
    Plan::outputs(ir).ok_or_else(|| RunError::Usage("the policy declares no output".into()))
}

fn out_plan(ir: &Ir) -> OutPlan {
    let mut sources = Vec::new();
    let mut counters: HashMap<u32, usize> = HashMap::new();
    for o in &ir.outputs {
        let mut v = Vec::new();
        for c in &o.columns {
            match &c.value {
                ColumnValue::Inst(_) => {
                    let n = counters.entry(o.record).or_insert(0);
                    v.push(ColSource::Plan(*n, c.ty.clone()));
                    *n += 1;
                }
                ColumnValue::Text(p) => v.push(ColSource::Text(p.clone())),
            }
        }
        sources.push(v);
    }
    OutPlan { sources }
}

/// Roots of binding: output columns and record checks.
pub fn roots(ir: &Ir) -> Vec<InstId> {
    let mut r: Vec<InstId> = ir
        .outputs
        .iter()
        .flat_map(|o| o.columns.iter())
        .filter_map(|c| match c.value {
            ColumnValue::Inst(i) => Some(i),
            _ => None,
        })
        .collect();
    r.extend(ir.checks.iter().flatten().copied());
    r
}

#[derive(Clone)]
struct Ctx<'a> {
    ir: &'a Ir,
    bound: &'a Bound,
    plan: &'a Plan,
    outp: &'a OutPlan,
    eval: &'a dyn ChunkEval,
    gs: &'a InputSchema,
    ms: Option<&'a InputSchema>,
    gname: String,
    mname: String,
    gword: String,
    mword: String,
    /// The field whose value breaks results down (`--by`): record, field.
    by: Option<(u32, u32)>,
}

/// Text of a text column reached through links from row `row` of the
/// output's record (each step of `path` names its record and field).
fn text_at(chunk: &Chunk, row: usize, path: &[(u32, u32)]) -> String {
    let mut row = row;
    for (i, (r, f)) in path.iter().enumerate() {
        let Some(col) = chunk.col(*r, *f) else {
            return String::new();
        };
        if i + 1 == path.len() {
            return match col {
                Column::Text(v) => v.get(row).cloned().unwrap_or_default(),
                Column::I64(v) => v.get(row).map(|x| x.to_string()).unwrap_or_default(),
                _ => String::new(),
            };
        }
        match col {
            Column::I64(v) => row = v.get(row).copied().unwrap_or(0).max(0) as usize,
            _ => return String::new(),
        }
    }
    String::new()
}

/// A check's message with `{column}` replaced by the row's value there.
fn interpolate(
    prog: &weft_check::Program,
    schema: &InputSchema,
    p: &Parsed,
    message: &str,
) -> String {
    if !message.contains('{') {
        return message.to_string();
    }
    let mut out = message.to_string();
    for (ci, c) in schema.columns.iter().enumerate() {
        let pat = format!("{{{}}}", c.name);
        if !out.contains(&pat) {
            continue;
        }
        let text = match (p.vals.get(ci), &c.kind) {
            (Some(Val::I64(v)), ColKind::Value(ty)) => weft_ir::value::csv_value(prog, ty, *v),
            (Some(Val::Text(t)), _) => t.clone(),
            _ => String::new(),
        };
        out = out.replace(&pat, &text);
    }
    out
}

/// Run the record checks and apply the rejection rules: the groups to
/// evaluate, and the error rows of the others (in `out`); and the chunk the
/// checks ran on when it holds exactly the groups to evaluate.
fn validate(cx: &Ctx<'_>, groups: Vec<Group>, out: &mut Outcome) -> (Vec<Group>, Option<Chunk>) {
    let prog = &cx.ir.hir;
    // Record checks, on a chunk of every row that parsed.
    let mut groups = groups;
    let chunk = {
        let refs: Vec<&Group> = groups.iter().collect();
        build_chunk(prog, cx.gs, cx.ms, &refs)
    };
    {
        let mut it = Interp::new(cx.ir, cx.bound, &chunk);
        let mut m_row = 0usize;
        let check =
            |it: &mut Interp<'_>, rec: u32, row: usize, p: &mut Parsed, schema: &InputSchema| {
                if p.error.is_some() {
                    return;
                }
                let Some(checks) = cx.ir.checks.get(rec as usize) else {
                    return;
                };
                let Some(rdef) = prog.records.get(rec as usize) else {
                    return;
                };
                for (ci, inst) in checks.iter().enumerate() {
                    let Some(def) = rdef.checks.get(ci) else {
                        continue;
                    };
                    let failed = match it.eval_inst(*inst, row) {
                        Ok(v) => (v == 0).then(|| interpolate(prog, schema, p, &def.message)),
                        Err(e) => Some(format!("cannot be checked: {}", e.detail)),
                    };
                    if let Some(message) = failed {
                        let order = schema
                            .columns
                            .iter()
                            .position(|c| c.field == def.column)
                            .unwrap_or(usize::MAX);
                        let e = RowError {
                            column: rdef.column(def.column).to_string(),
                            message,
                            order,
                        };
                        if def.exclude {
                            if p.excluded.is_none() {
                                p.excluded = Some(e);
                            }
                        } else if p.error.as_ref().map(|x| e.order < x.order).unwrap_or(true) {
                            p.error = Some(e);
                        }
                    }
                }
            };
        for (gi, g) in groups.iter_mut().enumerate() {
            check(&mut it, cx.gs.record, gi, &mut g.row, cx.gs);
            if let Some(ms) = cx.ms {
                for m in g.members.iter_mut() {
                    check(&mut it, ms.record, m_row, m, ms);
                    m_row += 1;
                }
            }
        }
    }
    // Nothing to reject or leave out (the usual case): evaluate on the same
    // chunk.
    let clean = groups.iter().all(|g| {
        g.row.error.is_none()
            && g.members
                .iter()
                .all(|m| m.error.is_none() && m.excluded.is_none())
    });
    if clean {
        return (groups, Some(chunk));
    }
    drop(chunk);
    // Rejections.
    let mut keep: Vec<Group> = Vec::new();
    for mut g in groups {
        // Excluded members go to errors alone (unless they have an error).
        let mut members = Vec::new();
        for m in g.members.drain(..) {
            if m.error.is_none() {
                if let Some(x) = &m.excluded {
                    out.member_errors.push(ErrorRow {
                        seq: m.seq,
                        line: m.line,
                        id: m.id.clone(),
                        column: x.column.clone(),
                        message: x.message.clone(),
                    });
                    continue;
                }
            }
            members.push(m);
        }
        g.members = members;
        let reason: Option<(String, RowError)> = match &g.row.error {
            Some(e) => Some((e.quoted(), e.clone())),
            None => g.members.iter().find(|m| m.error.is_some()).and_then(|m| {
                m.error.as_ref().map(|e| {
                    let q = format!("{} {} (line {}): {}", cx.mword, m.id, m.line, e.quoted());
                    (
                        q.clone(),
                        RowError {
                            column: String::new(),
                            message: q,
                            order: 0,
                        },
                    )
                })
            }),
        };
        match reason {
            Some((quoted, gerr)) => {
                out.group_errors.push(ErrorRow {
                    seq: g.row.seq,
                    line: g.row.line,
                    id: g.row.id.clone(),
                    column: gerr.column.clone(),
                    message: gerr.message.clone(),
                });
                for m in &g.members {
                    let (column, message) = match &m.error {
                        Some(e) => (e.column.clone(), e.message.clone()),
                        None => (
                            String::new(),
                            format!("{} {} rejected: {}", cx.gword, g.row.id, quoted),
                        ),
                    };
                    out.member_errors.push(ErrorRow {
                        seq: m.seq,
                        line: m.line,
                        id: m.id.clone(),
                        column,
                        message,
                    });
                }
            }
            None => keep.push(g),
        }
    }
    (keep, None)
}

/// Validate, check and evaluate one chunk's worth of groups.
fn process(cx: &Ctx<'_>, groups: Vec<Group>) -> Outcome {
    let prog = &cx.ir.hir;
    let mut out = Outcome {
        group_errors: Vec::new(),
        member_errors: Vec::new(),
        group_out: Vec::new(),
        member_out: Vec::new(),
        evaluated_groups: 0,
        evaluated_members: 0,
        eval_cpu: Duration::ZERO,
        check_cpu: Duration::ZERO,
    };
    let t = Stopwatch::start();
    let (keep, chunk) = validate(cx, groups, &mut out);
    out.check_cpu = t.elapsed();
    if keep.is_empty() {
        return out;
    }
    // Evaluate.
    let chunk = chunk.unwrap_or_else(|| {
        let refs: Vec<&Group> = keep.iter().collect();
        build_chunk(prog, cx.gs, cx.ms, &refs)
    });
    let t = Stopwatch::start();
    let res = cx.eval.eval_chunk(&chunk);
    out.eval_cpu = t.elapsed();
    let mut m_row = 0usize;
    for (gi, g) in keep.iter().enumerate() {
        let mrange = m_row..m_row + g.members.len();
        m_row += g.members.len();
        if let Some(Some(e)) = res.errors.get(gi) {
            // The record whose rule failed.
            let inst = cx.ir.inst(e.inst);
            let name = inst.map(|i| i.name.clone()).unwrap_or_default();
            let col = format!("rule:{name}");
            let msg = e.detail.clone();
            let failing_member = match (inst.and_then(|i| i.entity), e.row, cx.ms) {
                (Some(rec), Some(r), Some(ms)) if rec == ms.record && mrange.contains(&r) => {
                    Some(r - mrange.start)
                }
                _ => None,
            };
            let quoted = match failing_member {
                Some(i) => format!(
                    "{} {} (line {}): {col}: {msg}",
                    cx.mword, g.members[i].id, g.members[i].line
                ),
                None => format!("{col}: {msg}"),
            };
            let (gcol, gmsg) = if failing_member.is_none() {
                (col.clone(), msg.clone())
            } else {
                (String::new(), quoted.clone())
            };
            out.group_errors.push(ErrorRow {
                seq: g.row.seq,
                line: g.row.line,
                id: g.row.id.clone(),
                column: gcol,
                message: gmsg,
            });
            for (i, m) in g.members.iter().enumerate() {
                let (column, message) = if Some(i) == failing_member {
                    (col.clone(), msg.clone())
                } else {
                    (
                        String::new(),
                        format!("{} {} rejected: {}", cx.gword, g.row.id, quoted),
                    )
                };
                out.member_errors.push(ErrorRow {
                    seq: m.seq,
                    line: m.line,
                    id: m.id.clone(),
                    column,
                    message,
                });
            }
            continue;
        }
        out.evaluated_groups += 1;
        out.evaluated_members += g.members.len() as u64;
        for (oi, o) in cx.ir.outputs.iter().enumerate() {
            let srcs = &cx.outp.sources[oi];
            let is_member = cx.ms.map(|m| m.record == o.record).unwrap_or(false);
            let is_group = o.record == cx.gs.record;
            let rows: Vec<(u64, usize)> = if is_member {
                g.members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.seq, mrange.start + i))
                    .collect()
            } else if is_group {
                vec![(g.row.seq, gi)]
            } else {
                Vec::new()
            };
            for (seq, r) in rows {
                let mut cells = Vec::with_capacity(srcs.len());
                for s in srcs {
                    cells.push(match s {
                        ColSource::Plan(pc, ty) => {
                            let vals = if is_member {
                                res.member_values.get(*pc)
                            } else {
                                res.group_values.get(*pc)
                            };
                            let v = vals.and_then(|c| c.get(r)).copied().unwrap_or(0);
                            out_cell(prog, ty, v)
                        }
                        ColSource::Text(path) => OutCell::Text(text_at(&chunk, r, path)),
                    });
                }
                let by = cx.by.and_then(|(rec, f)| {
                    let row = if rec == cx.gs.record { gi } else { r };
                    match chunk.col(rec, f) {
                        Some(Column::I64(v)) => v.get(row).copied(),
                        _ => None,
                    }
                });
                if is_member {
                    out.member_out.push((seq, cells, by));
                } else {
                    out.group_out.push((seq, cells, by));
                }
            }
        }
    }
    let _ = (cx.plan, &cx.gname, &cx.mname);
    let _ = &prog;
    out
}

/// Writes rows in input order: directly when they come in order, otherwise
/// buffered and sorted at the end.
struct OrderedSink {
    writer: Option<Box<dyn RowWriter>>,
    pending: Vec<(u64, Vec<OutCell>)>,
    streaming: bool,
    rows: u64,
}

impl OrderedSink {
    fn push(&mut self, seq: u64, cells: &[OutCell]) -> Result<(), FileError> {
        self.rows += 1;
        if self.streaming {
            if let Some(w) = self.writer.as_mut() {
                w.write_row(cells)?;
            }
        } else {
            self.pending.push((seq, cells.to_vec()));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<u64, FileError> {
        self.pending.sort_by_key(|(s, _)| *s);
        if let Some(mut w) = self.writer.take() {
            for (_, c) in &self.pending {
                w.write_row(c)?;
            }
            w.finish()?;
        }
        Ok(self.rows)
    }
}

/// The staging directory of a run that writes (see [`crate::commit`]).
fn temp_dir_for(commit: Option<&crate::commit::Commit>) -> PathBuf {
    commit
        .map(|c| c.staging().to_path_buf())
        .unwrap_or_default()
}

/// One batch of the second pass, as read: chunks of groups with their
/// members, and the members rejected while reading them because they name
/// no group (or a duplicate one).
struct ReadBatch {
    chunks: Vec<Vec<Group>>,
    unknown: Vec<ErrorRow>,
}

/// One batch evaluated: per chunk, an outcome per side.
struct EvalBatch {
    per_chunk: Vec<Vec<Outcome>>,
    unknown: Vec<ErrorRow>,
    /// Wall time of the parallel section.
    wall: Duration,
}

/// Evaluate a batch's chunks in parallel, on every side.
fn eval_batch(cxs: &[Ctx<'_>], b: ReadBatch) -> EvalBatch {
    let t = Instant::now();
    let per_chunk: Vec<Vec<Outcome>> = b
        .chunks
        .into_par_iter()
        .map(|groups| {
            let mut v = Vec::with_capacity(cxs.len());
            for (i, c) in cxs.iter().enumerate() {
                if i + 1 == cxs.len() {
                    v.push(process(c, groups));
                    break;
                }
                v.push(process(c, groups.clone()));
            }
            v
        })
        .collect();
    EvalBatch {
        per_chunk,
        unknown: b.unknown,
        wall: t.elapsed(),
    }
}

/// What reading needs from the run, unchanging.
#[derive(Clone, Copy)]
struct ReadCx<'a> {
    prog: &'a weft_check::Program,
    gs: &'a InputSchema,
    ms: Option<&'a InputSchema>,
    gword: &'a str,
    dup_groups: &'a HashSet<u128>,
    dup_members: &'a HashSet<u128>,
    /// The member record's link column.
    link_col: Option<usize>,
}

/// The second pass's reading (see [`run_sides`]): group rows parsed with
/// their members into chunks of about `chunk_members` members, and chunks
/// into batches of `batch_chunks`. It runs on a thread of its own.
struct BatchReader<'a> {
    cx: ReadCx<'a>,
    /// Stream the member file beside the group file (else bucket it first).
    ordered: bool,
    batch_chunks: usize,
    chunk_members: usize,
    grdr: Box<dyn weft_data::RowReader>,
    gmap: Vec<usize>,
    mreader: Option<(Box<dyn weft_data::RowReader>, Vec<usize>)>,
    links: Option<Links>,
    grow: Row,
    mrow: Row,
    gseq: u64,
    mseq: u64,
    /// In memory mode: every member first, bucketed by group.
    buckets: HashMap<u64, Vec<Parsed>>,
    /// Streaming: a member read ahead that belongs to a later group.
    ahead: Option<(Option<u64>, Parsed)>,
    members_done: bool,
    /// The chunk being filled (it carries over to the next batch).
    current: Vec<Group>,
    current_members: usize,
    /// The group file is read to its end.
    done: bool,
    /// Members rejected since the last batch was sent.
    unknown: Vec<ErrorRow>,
    /// Time spent reading (not waiting for the evaluator).
    read_time: Duration,
}

impl BatchReader<'_> {
    /// Send every batch; stop quietly when the receiver has gone (the run
    /// stopped). Returns the time spent reading.
    fn run(mut self, tx: std::sync::mpsc::SyncSender<ReadBatch>) -> Result<Duration, RunError> {
        if !self.ordered {
            self.read_all_members()?;
        }
        while let Some(b) = self.next_batch()? {
            if tx.send(b).is_err() {
                break;
            }
        }
        Ok(self.read_time)
    }

    /// In memory mode: every member, bucketed by its group.
    fn read_all_members(&mut self) -> Result<(), RunError> {
        let cx = self.cx;
        if let (Some((rdr, map)), Some(ms)) = (self.mreader.as_mut(), cx.ms) {
            let t = Instant::now();
            while rdr.next_row(&mut self.mrow)? {
                let g = linked(&mut self.links, self.mseq)?;
                let (g, p) = parse_member(cx, ms, &self.mrow, self.mseq, map, g);
                self.mseq += 1;
                match g {
                    Some(g) => self.buckets.entry(g).or_default().push(p),
                    None => self.unknown.push(unknown_member(cx, ms, &p, map)),
                }
            }
            self.members_done = true;
            self.read_time += t.elapsed();
        }
        Ok(())
    }

    /// The next batch (`None` at the end).
    fn next_batch(&mut self) -> Result<Option<ReadBatch>, RunError> {
        if self.done {
            return Ok(None);
        }
        let cx = self.cx;
        let t = Instant::now();
        let mut chunks: Vec<Vec<Group>> = Vec::new();
        while chunks.len() < self.batch_chunks {
            if !self.grdr.next_row(&mut self.grow)? {
                self.done = true;
                break;
            }
            let this = self.gseq;
            let mut row = parse_row(cx.prog, cx.gs, &self.gmap, &self.grow, this);
            self.gseq += 1;
            let gs = cx.gs;
            if cx.dup_groups.contains(&hash_id(&row.id)) && !row.id.is_empty() {
                let col = gs
                    .key
                    .and_then(|k| gs.columns.get(k))
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                let order = gs.key.and_then(|k| self.gmap.get(k).copied()).unwrap_or(0);
                if row.error.as_ref().map(|e| order <= e.order).unwrap_or(true) {
                    row.error = Some(RowError {
                        column: col,
                        message: format!("{} appears on more than one row", row.id),
                        order,
                    });
                }
            }
            // Its members.
            let mut members = Vec::new();
            if self.ordered {
                if let (Some((rdr, map)), Some(ms)) = (self.mreader.as_mut(), cx.ms) {
                    loop {
                        let next = match self.ahead.take() {
                            Some(x) => Some(x),
                            None if self.members_done => None,
                            None => {
                                if rdr.next_row(&mut self.mrow)? {
                                    let g = linked(&mut self.links, self.mseq)?;
                                    let x = parse_member(cx, ms, &self.mrow, self.mseq, map, g);
                                    self.mseq += 1;
                                    Some(x)
                                } else {
                                    self.members_done = true;
                                    None
                                }
                            }
                        };
                        let Some((g, p)) = next else { break };
                        match g {
                            None => self.unknown.push(unknown_member(cx, ms, &p, map)),
                            Some(g) if g == this => members.push(p),
                            Some(g) if g > this => {
                                self.ahead = Some((Some(g), p));
                                break;
                            }
                            // Cannot happen when the index found the file ordered.
                            Some(_) => self.unknown.push(unknown_member(cx, ms, &p, map)),
                        }
                    }
                }
            } else {
                members = self.buckets.remove(&this).unwrap_or_default();
            }
            self.current_members += members.len().max(1);
            self.current.push(Group { row, members });
            if self.current_members >= self.chunk_members {
                chunks.push(std::mem::take(&mut self.current));
                self.current_members = 0;
            }
        }
        if self.done {
            if !self.current.is_empty() {
                chunks.push(std::mem::take(&mut self.current));
            }
            // Members after the last group, or of groups that do not exist.
            if let (Some((rdr, map)), Some(ms)) = (self.mreader.as_mut(), cx.ms) {
                if let Some((_, p)) = self.ahead.take() {
                    self.unknown.push(unknown_member(cx, ms, &p, map));
                }
                while !self.members_done && rdr.next_row(&mut self.mrow)? {
                    let g = linked(&mut self.links, self.mseq)?;
                    let (_, p) = parse_member(cx, ms, &self.mrow, self.mseq, map, g);
                    self.mseq += 1;
                    self.unknown.push(unknown_member(cx, ms, &p, map));
                }
                self.members_done = true;
            }
        }
        self.read_time += t.elapsed();
        if chunks.is_empty() && self.unknown.is_empty() {
            return Ok(None);
        }
        Ok(Some(ReadBatch {
            chunks,
            unknown: std::mem::take(&mut self.unknown),
        }))
    }
}

/// The group of member row `mseq`, from the first pass.
fn linked(links: &mut Option<Links>, mseq: u64) -> Result<Option<u64>, RunError> {
    match links.as_mut() {
        Some(l) => l.next(mseq),
        None => Ok(None),
    }
}

/// A member row parsed, with its group's seq (`linked`, when it has a link).
fn parse_member(
    cx: ReadCx<'_>,
    ms: &InputSchema,
    mrow: &Row,
    mseq: u64,
    map: &[usize],
    linked: Option<u64>,
) -> (Option<u64>, Parsed) {
    let mut p = parse_row(cx.prog, ms, map, mrow, mseq);
    let key_hash = hash_id(&p.id);
    let link_text = cx.link_col.and_then(|c| match p.vals.get(c) {
        Some(Val::Text(s)) => Some(s.clone()),
        _ => None,
    });
    let gs_seq = link_text.and(linked);
    if cx.dup_members.contains(&key_hash) && !p.id.is_empty() {
        let col = ms
            .key
            .and_then(|k| ms.columns.get(k))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let order = ms.key.and_then(|k| map.get(k).copied()).unwrap_or(0);
        if p.error.as_ref().map(|e| order <= e.order).unwrap_or(true) {
            p.error = Some(RowError {
                column: col,
                message: format!("{} appears on more than one row", p.id),
                order,
            });
        }
    }
    (gs_seq, p)
}

/// The error row of a member whose group does not exist (or is a
/// duplicate): it is rejected alone.
fn unknown_member(cx: ReadCx<'_>, ms: &InputSchema, p: &Parsed, map: &[usize]) -> ErrorRow {
    let link_col = cx.link_col;
    let col = link_col
        .and_then(|c| ms.columns.get(c))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let text = link_col.and_then(|c| match p.vals.get(c) {
        Some(Val::Text(s)) => Some(s.clone()),
        _ => None,
    });
    let text = text.unwrap_or_default();
    let dup = cx.dup_groups.contains(&hash_id(&text));
    let link_order = link_col.and_then(|c| map.get(c).copied()).unwrap_or(0);
    // The row's own error wins when its column comes before the link, or
    // when the group is a duplicate.
    if let Some(e) = &p.error {
        if dup || e.order < link_order {
            return ErrorRow {
                seq: p.seq,
                line: p.line,
                id: p.id.clone(),
                column: e.column.clone(),
                message: e.message.clone(),
            };
        }
    }
    if dup {
        let gs = cx.gs;
        let key = gs
            .key
            .and_then(|k| gs.columns.get(k))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        return ErrorRow {
            seq: p.seq,
            line: p.line,
            id: p.id.clone(),
            column: String::new(),
            message: format!(
                "{} {text} rejected: {key} {text} appears on more than one row",
                cx.gword
            ),
        };
    }
    ErrorRow {
        seq: p.seq,
        line: p.line,
        id: p.id.clone(),
        column: col,
        message: format!("unknown {} {text}", cx.gword),
    }
}

/// Run a population through an engine.
///
/// Chunks are evaluated on rayon's *global* pool (from a thread of the
/// pipeline, so a caller's `ThreadPool::install` does not apply): size it
/// with `rayon::ThreadPoolBuilder::build_global`, as `weft run --threads`
/// does.
pub fn run(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn ChunkEval,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    run_sides(&[EvalSide { ir, bound, eval }], opts, progress, None)
}

/// One way of evaluating the population: a program, bound for a month,
/// and an engine. Every side of a [`run_sides`] must read the same input
/// columns (the same records).
pub struct EvalSide<'a> {
    pub ir: &'a Ir,
    pub bound: &'a Bound,
    pub eval: &'a dyn ChunkEval,
}

/// One evaluated output row, as an [`Observer`] sees it.
pub struct Evaluated<'a> {
    pub output: usize,
    /// Position of the row in its input file.
    pub seq: u64,
    pub cells: &'a [OutCell],
    /// The value (variant index) of the `--by` field for this row.
    pub by: Option<i64>,
}

/// Sees every batch's results, side by side (for `weft diff`).
pub trait Observer {
    /// The rows of one batch evaluated (or rejected: `(is_group, seq)`) on
    /// one side. Called for every side of a batch before the next batch.
    fn observe(&mut self, side: usize, evaluated: &[Evaluated<'_>], rejected: &[(bool, u64)]);
}

/// Evaluate a population on several sides in one pass over the input; the
/// first side's results are written when `opts.write`. Evaluation runs on
/// rayon's global pool, as in [`run`].
pub fn run_sides(
    sides: &[EvalSide<'_>],
    opts: &RunOptions,
    progress: &dyn Progress,
    mut observer: Option<&mut dyn Observer>,
) -> Result<RunReport, RunError> {
    let Some(first) = sides.first() else {
        return Err(RunError::Usage("nothing to evaluate".into()));
    };
    let (ir, bound, eval) = (first.ir, first.bound, first.eval);
    let prog = &ir.hir;
    let plan = plan_for(ir)?;
    let schemas = InputSchema::all(prog);
    let gs = schemas
        .get(plan.group.0 as usize)
        .ok_or_else(|| RunError::Usage("no group record".into()))?;
    let ms = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize));
    let find = |s: &InputSchema| -> Result<&InputFile, RunError> {
        opts.inputs
            .iter()
            .find(|f| f.input == s.input)
            .ok_or_else(|| {
                RunError::Usage(format!(
                    "the policy reads `{}`: give it with `--{} FILE`",
                    s.input, s.input
                ))
            })
    };
    let gfile = find(gs)?;
    let mfile = match ms {
        Some(m) => Some(find(m)?),
        None => None,
    };
    for f in &opts.inputs {
        if f.input != gs.input && ms.map(|m| m.input != f.input).unwrap_or(true) {
            return Err(RunError::Usage(format!(
                "the policy has no input named `{}`",
                f.input
            )));
        }
    }
    for other in sides.iter().skip(1) {
        if InputSchema::all(&other.ir.hir) != schemas {
            return Err(RunError::Usage(
                "the policies compared read different input columns".into(),
            ));
        }
    }
    // Lock the output directory, refuse a non-empty one unless forced,
    // make a staging directory (commit.rs).
    let commit = match opts.write {
        true => Some(crate::commit::Commit::begin(
            &opts.out_dir,
            opts.force,
            ir.outputs.iter().map(|o| o.name.as_str()),
        )?),
        false => None,
    };
    let gside = Side {
        schema: gs,
        file: gfile,
        name: file_name(&gfile.path),
    };
    let mside = match (ms, mfile) {
        (Some(s), Some(f)) => Some(Side {
            schema: s,
            file: f,
            name: file_name(&f.path),
        }),
        _ => None,
    };
    let mut report = RunReport {
        out_dir: opts.out_dir.clone(),
        ..RunReport::default()
    };
    let t0 = Instant::now();
    let mut idx = index(
        &gside,
        mside.as_ref(),
        &mut report.warnings,
        opts.index_partitions,
    )?;
    report.timings.index = t0.elapsed();
    report.streamed = idx.ordered;
    if !idx.ordered {
        report.warnings.push(format!(
            "{} is not grouped in the order of {}: every row is read into memory first (memory grows with the population)",
            mside.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            gside.name
        ));
    }
    progress.total(idx.group_rows + idx.member_rows);

    let outp = out_plan(ir);
    let word = |r: u32| {
        prog.records
            .get(r as usize)
            .map(|x| x.name.to_lowercase())
            .unwrap_or_default()
    };
    let cx = Ctx {
        ir,
        bound,
        plan: &plan,
        outp: &outp,
        eval,
        gs,
        ms,
        gname: gside.name.clone(),
        mname: mside.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
        gword: word(gs.record),
        mword: ms.map(|m| word(m.record)).unwrap_or_default(),
        by: None,
    };
    let by = match &opts.by {
        None => None,
        Some(name) => {
            let find_in = |rec: u32| {
                prog.records
                    .get(rec as usize)
                    .and_then(|r| r.field(name))
                    .filter(|(_, f)| matches!(f.ty, Ty::Enum(..)))
                    .map(|(f, _)| (rec, f))
            };
            match find_in(gs.record).or_else(|| ms.and_then(|m| find_in(m.record))) {
                Some(x) => Some(x),
                None => {
                    return Err(RunError::Usage(format!(
                        "`{name}` is not an enum field of the records"
                    )));
                }
            }
        }
    };
    let outps: Vec<OutPlan> = sides.iter().map(|s| out_plan(s.ir)).collect();
    let cxs: Vec<Ctx<'_>> = sides
        .iter()
        .zip(&outps)
        .map(|(s, o)| Ctx {
            ir: s.ir,
            bound: s.bound,
            plan: &plan,
            outp: o,
            eval: s.eval,
            by,
            ..cx.clone()
        })
        .collect();
    let mut summaries: Vec<Summary> = sides.iter().map(|s| Summary::new(s.ir)).collect();

    // Output files in a temporary directory.
    let tmp = temp_dir_for(commit.as_ref());
    // The staging directory is removed when `commit` is dropped; an
    // output that cannot be written is named as such.
    let cleanup = |e: RunError| -> RunError { crate::commit::output_error(e, &opts.out_dir) };
    let ext = opts.out_format.extension();
    let mut sinks: Vec<OrderedSink> = Vec::new();
    for o in ir.outputs.iter().filter(|_| opts.write) {
        let cols: Vec<(String, OutType)> = o
            .columns
            .iter()
            .map(|c| (c.name.clone(), out_type(&c.ty)))
            .collect();
        let path = tmp.join(format!("{}.{ext}", o.name));
        let w = open_writer(&path, opts.out_format, &cols).map_err(|e| cleanup(e.into()))?;
        let is_member = ms.map(|m| m.record == o.record).unwrap_or(false);
        sinks.push(OrderedSink {
            writer: Some(w),
            pending: Vec::new(),
            streaming: idx.ordered || !is_member,
            rows: 0,
        });
    }
    let mut gerrs: Vec<ErrorRow> = Vec::new();
    let mut merrs: Vec<ErrorRow> = Vec::new();
    let threads = rayon::current_num_threads().max(1);
    let mut stats_eval_g = 0u64;
    let mut stats_eval_m = 0u64;
    let limit = opts.max_errors;

    // Readers.
    let (grdr, gmap) = open_checked(&gside, &mut Vec::new()).map_err(cleanup)?;
    let mreader = match &mside {
        Some(m) => Some(open_checked(m, &mut Vec::new()).map_err(cleanup)?),
        None => None,
    };
    let link_col = ms.and_then(|m| {
        m.columns
            .iter()
            .position(|c| matches!(c.kind, ColKind::Link { .. }))
    });
    let reader = BatchReader {
        cx: ReadCx {
            prog,
            gs,
            ms,
            gword: &cx.gword,
            dup_groups: &idx.dup_groups,
            dup_members: &idx.dup_members,
            link_col,
        },
        ordered: idx.ordered,
        batch_chunks: threads * 2,
        chunk_members: opts.chunk_rows.max(1),
        grdr,
        gmap,
        mreader,
        links: idx.links.take(),
        grow: Row::default(),
        mrow: Row::default(),
        gseq: 0,
        mseq: 0,
        buckets: HashMap::new(),
        ahead: None,
        members_done: false,
        current: Vec::new(),
        current_members: 0,
        done: false,
        unknown: Vec::new(),
        read_time: Duration::ZERO,
    };

    let mut eval_wall = Duration::ZERO;
    let mut eval_cpu = Duration::ZERO;
    let mut check_cpu = Duration::ZERO;
    let mut write_time = Duration::ZERO;

    // Three stages, each on a thread of its own: the reader parses rows
    // and groups them into batches; the evaluator runs each batch's chunks
    // in parallel (rayon's global pool); this thread takes the results in
    // input order for the summaries, the observer and the sinks. While
    // batch N is written, N+1 is evaluated and N+2 read. The channels hold
    // nothing (a send waits for the receiver), so each stage holds at most
    // one batch: three batches in memory at once, whatever the population.
    // When this thread stops early (an error, `--max-errors`) it drops its
    // receiver: the evaluator's next send fails and it returns, dropping
    // its own receiver, and so the reader's next send fails. A reader's
    // error arrives after every batch read before it has been handled, as
    // when the stages ran in turn.
    let piped: Result<Duration, RunError> = std::thread::scope(|s| {
        let (btx, brx) = std::sync::mpsc::sync_channel::<ReadBatch>(0);
        let reading = s.spawn(move || reader.run(btx));
        let (otx, orx) = std::sync::mpsc::sync_channel::<EvalBatch>(0);
        let cxs = &cxs;
        let evaluating = s.spawn(move || {
            for b in brx {
                if otx.send(eval_batch(cxs, b)).is_err() {
                    // The run stopped.
                    break;
                }
            }
        });
        for b in orx {
            eval_wall += b.wall;
            // Members naming no group, rejected while reading the batch.
            merrs.extend(b.unknown);
            if b.per_chunk.is_empty() {
                continue;
            }
            // Other sides: summaries and the observer.
            let mut outcomes: Vec<Outcome> = Vec::with_capacity(b.per_chunk.len());
            let mut others: Vec<Vec<Outcome>> = (1..cxs.len()).map(|_| Vec::new()).collect();
            for mut v in b.per_chunk {
                let rest = v.split_off(1.min(v.len()));
                if let Some(o) = v.pop() {
                    outcomes.push(o);
                }
                for (i, o) in rest.into_iter().enumerate() {
                    if let Some(x) = others.get_mut(i) {
                        x.push(o);
                    }
                }
            }
            if let Some(obs) = observer.as_deref_mut() {
                for (si, list) in std::iter::once(&outcomes).chain(others.iter()).enumerate() {
                    let side_ir = sides[si].ir;
                    let mut ev: Vec<Evaluated<'_>> = Vec::new();
                    let mut rej: Vec<(bool, u64)> = Vec::new();
                    for o in list {
                        for (oi, out) in side_ir.outputs.iter().enumerate() {
                            for (seq, cells, by) in o.rows_of(out.record, gs.record) {
                                ev.push(Evaluated {
                                    output: oi,
                                    seq: *seq,
                                    cells,
                                    by: *by,
                                });
                            }
                        }
                        rej.extend(o.group_errors.iter().map(|e| (true, e.seq)));
                        rej.extend(o.member_errors.iter().map(|e| (false, e.seq)));
                    }
                    obs.observe(si, &ev, &rej);
                }
            }
            for (si, list) in others.iter().enumerate() {
                let side_ir = sides[si + 1].ir;
                for o in list {
                    for (oi, out) in side_ir.outputs.iter().enumerate() {
                        for (_, cells, _) in o.rows_of(out.record, gs.record) {
                            summaries[si + 1].add(side_ir, oi, cells);
                        }
                    }
                }
            }
            // Write in order.
            let t = Instant::now();
            let mut n_rows = 0u64;
            for o in outcomes {
                eval_cpu += o.eval_cpu;
                check_cpu += o.check_cpu;
                stats_eval_g += o.evaluated_groups;
                stats_eval_m += o.evaluated_members;
                n_rows += o.group_out.len() as u64
                    + o.member_out.len() as u64
                    + o.group_errors.len() as u64
                    + o.member_errors.len() as u64;
                for (seq, cells, _) in o.group_out {
                    for (oi, out) in ir.outputs.iter().enumerate() {
                        if out.record == gs.record {
                            summaries[0].add(ir, oi, &cells);
                            if let Some(s) = sinks.get_mut(oi) {
                                s.push(seq, &cells)?;
                            }
                        }
                    }
                }
                for (seq, cells, _) in o.member_out {
                    for (oi, out) in ir.outputs.iter().enumerate() {
                        if ms.map(|m| m.record == out.record).unwrap_or(false) {
                            summaries[0].add(ir, oi, &cells);
                            if let Some(s) = sinks.get_mut(oi) {
                                s.push(seq, &cells)?;
                            }
                        }
                    }
                }
                gerrs.extend(o.group_errors);
                merrs.extend(o.member_errors);
            }
            write_time += t.elapsed();
            progress.advance(n_rows);
            if let Some(l) = limit {
                let so_far = (gerrs.len() + merrs.len()) as u64;
                if so_far > l {
                    return Err(RunError::Stopped {
                        errors: so_far,
                        limit: l,
                    });
                }
            }
        }
        // Every batch is in: both stages have finished.
        if let Err(p) = evaluating.join() {
            std::panic::resume_unwind(p);
        }
        match reading.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    });
    let read_time = piped.map_err(cleanup)?;
    if let Some(l) = limit {
        let so_far = (gerrs.len() + merrs.len()) as u64;
        if so_far > l {
            return Err(cleanup(RunError::Stopped {
                errors: so_far,
                limit: l,
            }));
        }
    }

    // Counts.
    report.files.push(FileCounts {
        input: gs.input.clone(),
        file: gside.name.clone(),
        rows: idx.group_rows,
        evaluated: stats_eval_g,
        rejected: gerrs.len() as u64,
    });
    if let (Some(m), Some(side)) = (ms, mside.as_ref()) {
        report.files.push(FileCounts {
            input: m.input.clone(),
            file: side.name.clone(),
            rows: idx.member_rows,
            evaluated: stats_eval_m,
            rejected: merrs.len() as u64,
        });
    }
    let accounted: u64 = report.files.iter().map(|f| f.evaluated + f.rejected).sum();
    let total: u64 = report.files.iter().map(|f| f.rows).sum();
    if accounted != total {
        return Err(cleanup(RunError::Output(format!(
            "internal error: {total} rows read but {accounted} accounted for"
        ))));
    }
    report.timings.read = read_time;
    report.timings.eval = eval_wall;
    report.timings.eval_cpu = eval_cpu;
    report.timings.check_cpu = check_cpu;
    report.summary = summaries[0].clone();
    report.summaries = summaries;
    if !opts.write {
        return Ok(report);
    }

    // Finish outputs and errors.
    let t = Instant::now();
    let mut out_rows = Vec::new();
    for (oi, s) in sinks.into_iter().enumerate() {
        let n = s.finish().map_err(|e| cleanup(e.into()))?;
        out_rows.push((format!("{}.{ext}", ir.outputs[oi].name), n));
    }
    gerrs.sort_by_key(|e| e.seq);
    merrs.sort_by_key(|e| e.seq);
    let err_cols: Vec<(String, OutType)> = ["file", "line", "record_id", "column", "message"]
        .iter()
        .map(|c| {
            (
                c.to_string(),
                if *c == "line" {
                    OutType::Int
                } else {
                    OutType::Text
                },
            )
        })
        .collect();
    let err_name = format!("errors.{ext}");
    let mut ew = open_writer(&tmp.join(&err_name), opts.out_format, &err_cols)
        .map_err(|e| cleanup(e.into()))?;
    let mname = mside.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    for (file, list) in [(gside.name.clone(), &gerrs), (mname, &merrs)] {
        for e in list {
            ew.write_row(&[
                OutCell::Text(file.clone()),
                OutCell::Int(e.line as i64),
                OutCell::Text(e.id.clone()),
                OutCell::Text(e.column.clone()),
                OutCell::Text(e.message.clone()),
            ])
            .map_err(|e| cleanup(e.into()))?;
        }
    }
    ew.finish().map_err(|e| cleanup(e.into()))?;
    out_rows.push((err_name.clone(), (gerrs.len() + merrs.len()) as u64));

    // Manifest, then move everything into place.
    let manifest = crate::manifest::manifest(
        ir,
        bound,
        opts,
        &idx.group_sha,
        &idx.member_sha,
        &report,
        &out_rows,
    );
    let mtext = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    if let Some(c) = commit {
        c.finish(&(mtext + "\n"))?;
    }
    write_time += t.elapsed();

    report.timings.write = write_time;
    Ok(report)
}

/// An error row of records held in memory:
/// `(input, line, record_id, column, message)`.
pub type ErrorCells = (String, u64, String, String, String);

/// The result of evaluating rows held in memory ([`run_in_memory`]).
#[derive(Debug, Clone, Default)]
pub struct MemoryResult {
    /// Per output: its rows, in input order.
    pub outputs: Vec<Vec<Vec<OutCell>>>,
    /// `(input, line, record_id, column, message)`, group rows first.
    pub errors: Vec<ErrorCells>,
}

/// Rows held in memory, parsed and grouped, before checks and evaluation.
pub struct Prepared {
    pub groups: Vec<Group>,
    /// Members naming no (or an ambiguous) group: `(input, line, id, column, message)`.
    pub errors: Vec<ErrorCells>,
}

/// Parse and group rows held in memory (for `weft eval`, `weft explain`
/// and the embedding API): the same parsing, duplicate and unknown-group
/// rules as [`run`]. `line` of each row is its position (1-based).
pub fn prepare_in_memory(
    ir: &Ir,
    group: (&[String], &[Row]),
    members: Option<(&[String], &[Row])>,
) -> Result<Prepared, RunError> {
    let prog = &ir.hir;
    let plan = plan_for(ir)?;
    let schemas = InputSchema::all(prog);
    let gs = schemas
        .get(plan.group.0 as usize)
        .ok_or_else(|| RunError::Usage("no group record".into()))?;
    let ms = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize));
    let gmap = header_map(gs, group.0, true).map_err(|columns| RunError::MissingColumns {
        file: gs.input.clone(),
        columns,
    })?;
    let mut groups: Vec<Group> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // The first row of each group id, for linking members.
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, r) in group.1.iter().enumerate() {
        let p = parse_row(prog, gs, &gmap, r, i as u64);
        *seen.entry(p.id.clone()).or_insert(0) += 1;
        first.entry(p.id.clone()).or_insert(i);
        groups.push(Group {
            row: p,
            members: Vec::new(),
        });
    }
    let key_col = |s: &InputSchema| {
        s.key
            .and_then(|k| s.columns.get(k))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    for g in groups.iter_mut() {
        if seen.get(&g.row.id).copied().unwrap_or(0) > 1 {
            let col = key_col(gs);
            g.row.error = Some(RowError {
                column: col.clone(),
                message: format!("{} appears on more than one row", g.row.id),
                order: 0,
            });
        }
    }
    let mut errors = Vec::new();
    let gword = prog
        .records
        .get(gs.record as usize)
        .map(|r| r.name.to_lowercase())
        .unwrap_or_default();
    // No member rows at all (a household without persons) need no header.
    if let (Some(ms), Some((mh, mrows))) = (ms, members.filter(|(_, r)| !r.is_empty())) {
        let mmap = header_map(ms, mh, true).map_err(|columns| RunError::MissingColumns {
            file: ms.input.clone(),
            columns,
        })?;
        let link = ms
            .columns
            .iter()
            .position(|c| matches!(c.kind, ColKind::Link { .. }));
        let mut mseen: HashMap<String, usize> = HashMap::new();
        let parsed: Vec<Parsed> = mrows
            .iter()
            .enumerate()
            .map(|(i, r)| parse_row(prog, ms, &mmap, r, i as u64))
            .collect();
        for p in &parsed {
            *mseen.entry(p.id.clone()).or_insert(0) += 1;
        }
        for mut p in parsed {
            if mseen.get(&p.id).copied().unwrap_or(0) > 1 {
                let col = key_col(ms);
                p.error = Some(RowError {
                    column: col.clone(),
                    message: format!("{} appears on more than one row", p.id),
                    order: 0,
                });
            }
            let target = link.and_then(|c| match p.vals.get(c) {
                Some(Val::Text(s)) => Some(s.clone()),
                _ => None,
            });
            let gi = target.as_ref().and_then(|t| first.get(t).copied());
            match gi {
                Some(gi) if seen.get(&groups[gi].row.id).copied().unwrap_or(0) == 1 => {
                    groups[gi].members.push(p)
                }
                _ => {
                    let col = link
                        .and_then(|c| ms.columns.get(c))
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    let t = target.unwrap_or_default();
                    errors.push((
                        ms.input.clone(),
                        p.line,
                        p.id.clone(),
                        col,
                        format!("unknown {gword} {t}"),
                    ));
                }
            }
        }
    }
    Ok(Prepared { groups, errors })
}

/// Evaluate a few records given as rows: [`prepare_in_memory`], then the
/// checks and the evaluation of [`run`], without files.
pub fn run_in_memory(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn ChunkEval,
    group: (&[String], &[Row]),
    members: Option<(&[String], &[Row])>,
) -> Result<MemoryResult, RunError> {
    let prog = &ir.hir;
    let plan = plan_for(ir)?;
    let schemas = InputSchema::all(prog);
    let gs = schemas
        .get(plan.group.0 as usize)
        .ok_or_else(|| RunError::Usage("no group record".into()))?;
    let ms = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize));
    let Prepared { groups, errors } = prepare_in_memory(ir, group, members)?;
    let outp = out_plan(ir);
    let word = |r: u32| {
        prog.records
            .get(r as usize)
            .map(|x| x.name.to_lowercase())
            .unwrap_or_default()
    };
    let cx = Ctx {
        ir,
        bound,
        plan: &plan,
        outp: &outp,
        eval,
        gs,
        ms,
        gname: gs.input.clone(),
        mname: ms.map(|m| m.input.clone()).unwrap_or_default(),
        gword: word(gs.record),
        mword: ms.map(|m| word(m.record)).unwrap_or_default(),
        by: None,
    };
    let o = process(&cx, groups);
    let mut outputs: Vec<Vec<(u64, Vec<OutCell>)>> = vec![Vec::new(); ir.outputs.len()];
    for (oi, out) in ir.outputs.iter().enumerate() {
        if out.record == gs.record {
            outputs[oi].extend(o.group_out.iter().map(|(s, c, _)| (*s, c.clone())));
        } else if ms.map(|m| m.record == out.record).unwrap_or(false) {
            outputs[oi].extend(o.member_out.iter().map(|(s, c, _)| (*s, c.clone())));
        }
    }
    let mut gerrs = o.group_errors;
    gerrs.sort_by_key(|e| e.seq);
    let mut merrs = o.member_errors;
    merrs.sort_by_key(|e| e.seq);
    let mut all = Vec::new();
    for e in gerrs {
        all.push((gs.input.clone(), e.line, e.id, e.column, e.message));
    }
    let mut rest: Vec<ErrorCells> = merrs
        .into_iter()
        .map(|e| {
            (
                ms.map(|m| m.input.clone()).unwrap_or_default(),
                e.line,
                e.id,
                e.column,
                e.message,
            )
        })
        .collect();
    rest.extend(errors);
    rest.sort_by_key(|e| e.1);
    all.extend(rest);
    Ok(MemoryResult {
        outputs: outputs
            .into_iter()
            .map(|mut v| {
                v.sort_by_key(|(s, _)| *s);
                v.into_iter().map(|(_, c)| c).collect()
            })
            .collect(),
        errors: all,
    })
}

/// Run the record checks on prepared groups and apply the rejection rules:
/// the groups to evaluate and the error rows of the others
/// (`(input, line, id, column, message)`).
pub fn check_groups(
    ir: &Ir,
    bound: &Bound,
    groups: Vec<Group>,
) -> Result<(Vec<Group>, Vec<ErrorCells>), RunError> {
    let prog = &ir.hir;
    let plan = plan_for(ir)?;
    let schemas = InputSchema::all(prog);
    let gs = schemas
        .get(plan.group.0 as usize)
        .ok_or_else(|| RunError::Usage("no group record".into()))?;
    let ms = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize));
    let outp = out_plan(ir);
    let interp = InterpEval {
        ir,
        bound,
        plan: &plan,
    };
    let word = |r: u32| {
        prog.records
            .get(r as usize)
            .map(|x| x.name.to_lowercase())
            .unwrap_or_default()
    };
    let cx = Ctx {
        ir,
        bound,
        plan: &plan,
        outp: &outp,
        eval: &interp,
        gs,
        ms,
        gname: gs.input.clone(),
        mname: ms.map(|m| m.input.clone()).unwrap_or_default(),
        gword: word(gs.record),
        mword: ms.map(|m| word(m.record)).unwrap_or_default(),
        by: None,
    };
    let mut out = Outcome {
        group_errors: Vec::new(),
        member_errors: Vec::new(),
        group_out: Vec::new(),
        member_out: Vec::new(),
        evaluated_groups: 0,
        evaluated_members: 0,
        eval_cpu: Duration::ZERO,
        check_cpu: Duration::ZERO,
    };
    let (keep, _) = validate(&cx, groups, &mut out);
    let mut errs: Vec<ErrorCells> = out
        .group_errors
        .into_iter()
        .map(|e| (gs.input.clone(), e.line, e.id, e.column, e.message))
        .collect();
    errs.extend(out.member_errors.into_iter().map(|e| {
        (
            ms.map(|m| m.input.clone()).unwrap_or_default(),
            e.line,
            e.id,
            e.column,
            e.message,
        )
    }));
    Ok((keep, errs))
}
