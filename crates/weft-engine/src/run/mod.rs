//! `weft run`: a whole population through an engine, in one pass.
//!
//! The data path (each step a module):
//! 1. **Read** ([`source`], [`csv`], [`jsonl`], [`parquet`]): a reader
//!    thread reads each input in raw blocks of whole records (CSV and JSON
//!    Lines: about 4 MiB cut at a record's end; Parquet: record batches).
//!    Blocks are parsed in parallel (rayon) straight into typed columns in
//!    the engines' encoding ([`block`]): no cell becomes a `String`.
//! 2. **Join** ([`link`]): members are joined to their groups as both
//!    files are walked together, and complete groups are cut into chunks.
//!    Every id's hash goes to an index that finds duplicates and resolves
//!    the links it could not place once the files are read. A run that
//!    learns something then that changes earlier rows (duplicate ids, a
//!    member file not grouped in the group file's order) starts again
//!    knowing it; the outputs of the first attempt are never committed.
//! 3. **Check and evaluate** ([`process`]), on an evaluating thread: the
//!    chunks of a batch run in parallel — record checks, spec §5.3's
//!    rejections, the engine — and their outputs are encoded there too.
//! 4. **Write** (this thread): encoded blocks are written in input order
//!    ([`output`]); errors, the manifest and the renaming come last.
//!
//! The three stages form a pipeline over batches (channels of one batch),
//! so memory follows the batch size, not the population (except in the
//! order-free mode for member files not grouped by group, which holds the
//! inputs in memory). Every input row ends in exactly one output: a result
//! file when it was evaluated, `errors` when it was rejected or left out.

pub mod block;
pub mod csv;
mod frame;
pub mod jsonl;
pub mod link;
mod marks;
mod memory;
pub mod output;
pub mod parquet;
pub mod process;
mod sorted;
mod source;

pub use crate::engines::Engine;
pub use memory::{
    BatchLines, BatchOutput, ErrorCells, MemoryResult, Prepared, check_groups, prepare_in_memory,
    run_batches, run_batches_at, run_in_memory,
};
pub use process::Encode;

use crate::summary::Summary;
use link::{Fed, IdIndex, Known, Linker, Staged, Unresolved, Words};
use output::{OutBlock, OutSpec};
use process::{Ctx, Outcome};
use rayon::prelude::*;
use source::{Input, Raw};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use weft_check::ty::Ty;
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{FileError, Format, OutCell, OutType, file_name, open_writer};
use weft_interp::batch::Plan;
use weft_ir::bind::{BindError, Bound};
use weft_ir::{ColumnValue, InstId, Ir};

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
    /// The month whose rules and parameters are in force, when not
    /// `as_of` (`--rules-as-of`), for the manifest.
    pub rules_as_of: Option<i32>,
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
    /// Partitions of the id index, spilled from the start (`None`: in
    /// memory up to [`link::IN_MEMORY`] ids, then by input size); for
    /// tests of the spilled index.
    pub index_partitions: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Finding duplicate ids and resolving links once the files are read
    /// (the id index's join).
    pub index: Duration,
    /// Reading and parsing the inputs and joining members to groups: the
    /// reader thread's time, without its waits for the evaluator. The
    /// stages overlap, so `read + eval + write` is more than the run.
    pub read: Duration,
    /// Record checks, chunk building and evaluation (wall time of the
    /// parallel sections; overlaps reading and writing).
    pub eval: Duration,
    /// Sum over chunks of the CPU time of building the chunk's columns,
    /// running the record checks and applying rejections.
    pub check_cpu: Duration,
    /// Sum over chunks of the engine's CPU time.
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
    /// Rows rejected: bad data, or a member of a group rejected (spec §5.3).
    pub rejected: u64,
    /// Rows left out by an `exclude` check (persons not yet born): not
    /// errors of the data. Their rows are in `errors` with the reason.
    pub left_out: u64,
}

#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub files: Vec<FileCounts>,
    pub timings: Timings,
    pub summary: Summary,
    /// Per side of a [`run_sides`] (the first is `summary`).
    pub summaries: Vec<Summary>,
    /// The member file was joined as it was read (grouped in the group
    /// file's order), not held in memory.
    pub streamed: bool,
    /// How many times the inputs were read (2 when duplicates or an
    /// ungrouped member file were found on the way).
    pub passes: u32,
    pub warnings: Vec<String>,
    pub out_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Usage(String),
    /// An input the policy reads was not given.
    #[error("the policy reads the input `{input}`, which was not given")]
    MissingInput { input: String },
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

/// Progress, in bytes of input read.
pub trait Progress: Sync {
    fn total(&self, _bytes: u64) {}
    fn advance(&self, _bytes: u64) {}
    /// `rows` more input rows were evaluated, rejected or left out.
    fn rows(&self, _rows: u64) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One error row.
#[derive(Debug, Clone)]
pub struct ErrorRow {
    pub seq: u64,
    pub line: u64,
    pub id: String,
    pub column: String,
    pub message: String,
}

/// The plan for a program: member and group columns.
pub fn plan_for(ir: &Ir) -> Result<Plan, RunError> {
    Plan::outputs(ir).ok_or_else(|| RunError::Usage("the policy declares no output".into()))
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

/// Run a population through an engine.
///
/// Chunks are evaluated on rayon's *global* pool (from a thread of the
/// pipeline, so a caller's `ThreadPool::install` does not apply): size it
/// with `rayon::ThreadPoolBuilder::build_global`, as `weft run --threads`
/// does.
pub fn run(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn Engine,
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
    pub eval: &'a dyn Engine,
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
    /// The rows of one batch evaluated, rejected (`(is_group, seq)`) or
    /// left out (member seqs) on
    /// one side. Called for every side of a batch before the next batch.
    fn observe(
        &mut self,
        side: usize,
        evaluated: &[Evaluated<'_>],
        rejected: &[(bool, u64)],
        left_out: &[u64],
    );
    /// The run starts again from the first row (it found duplicate ids or
    /// an ungrouped member file on the way): forget what was observed.
    fn restart(&mut self) {}
}

/// Batches in flight between stages (each channel holds one).
const CHANNEL: usize = 1;
/// Groups read ahead of the members, and the most looked ahead for a link.
const AHEAD: u64 = 64 * 1024;
const MAX_AHEAD: u64 = 1024 * 1024;

/// What stays the same across the attempts of a run.
struct Setup<'a> {
    prog: &'a weft_check::Program,
    gs: &'a InputSchema,
    ms: Option<&'a InputSchema>,
    gfile: &'a InputFile,
    mfile: Option<&'a InputFile>,
    ctxs: Vec<Ctx<'a>>,
    opts: &'a RunOptions,
    batch_chunks: usize,
}

/// The evaluated results of an attempt that is kept.
struct Finished {
    gerrs: Vec<ErrorRow>,
    merrs: Vec<ErrorRow>,
    /// Members left out (their rows are in `merrs`).
    left_out: u64,
    summaries: Vec<Summary>,
    group_rows: u64,
    member_rows: u64,
    evaluated_groups: u64,
    evaluated_members: u64,
    gsha: String,
    msha: String,
    sinks: Vec<Sink>,
    warnings: Vec<String>,
    timings: Timings,
}

enum Attempt {
    Done(Box<Finished>),
    Again { found: link::Found, unordered: bool },
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
    let ir = first.ir;
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
            .ok_or_else(|| RunError::MissingInput {
                input: s.input.clone(),
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
    // make a staging directory (`crate::commit`).
    let commit = match opts.write {
        true => Some(crate::commit::Commit::begin(
            &opts.out_dir,
            opts.force,
            ir.outputs.iter().map(|o| o.name.as_str()),
        )?),
        false => None,
    };
    let by = match &opts.by {
        None => None,
        Some(name) => {
            let find_in = |rec: u32| {
                prog.records
                    .get(rec as usize)
                    .and_then(|r| r.field(name))
                    .filter(|(_, f)| matches!(f.ty, Ty::Enum(..)))
                    .map(|(f, _)| (rec, f.raw()))
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
    let encode = if observer.is_some() || !opts.write {
        Encode::Blocks
    } else {
        match opts.out_format {
            Format::Csv => Encode::Csv,
            Format::Jsonl => Encode::Jsonl,
            Format::Parquet => Encode::Blocks,
        }
    };
    let ctxs: Vec<Ctx<'_>> = sides
        .iter()
        .map(|s| Ctx::new(s.ir, s.bound, &plan, s.eval, gs, ms, encode, by))
        .collect();
    let threads = rayon::current_num_threads().max(1);
    let setup = Setup {
        prog,
        gs,
        ms,
        gfile,
        mfile,
        ctxs,
        opts,
        batch_chunks: threads * 2,
    };
    let mut report = RunReport {
        out_dir: opts.out_dir.clone(),
        passes: 0,
        streamed: true,
        ..RunReport::default()
    };

    // Output files in the staging directory, removed when `commit` is
    // dropped; an output that cannot be written is named as such.
    let tmp = commit
        .as_ref()
        .map(|c| c.staging().to_path_buf())
        .unwrap_or_default();
    let cleanup = |e: RunError| -> RunError { crate::commit::output_error(e, &opts.out_dir) };
    let mut known = Known::default();
    let mut unordered = false;
    let fin = loop {
        report.passes += 1;
        let a = attempt(
            &setup,
            &known,
            unordered,
            &tmp,
            progress,
            observer.as_deref_mut(),
        )
        .map_err(cleanup)?;
        match a {
            Attempt::Done(f) => break f,
            Attempt::Again {
                found,
                unordered: u,
            } => {
                if u && !unordered {
                    unordered = true;
                    report.streamed = false;
                    report.warnings.push(format!(
                        "{} is not grouped in the order of {}: its rows are sorted on disk first (slower than a grouped file)",
                        setup.mfile.map(|m| file_name(&m.path)).unwrap_or_default(),
                        file_name(&gfile.path)
                    ));
                }
                known.dup_groups.extend(found.dup_groups);
                known.dup_members.extend(found.dup_members);
                if let Some(o) = observer.as_deref_mut() {
                    o.restart();
                }
            }
        }
    };
    let mut fin = *fin;
    report.warnings.append(&mut fin.warnings);
    let gname = file_name(&gfile.path);
    let mname = mfile.map(|m| file_name(&m.path)).unwrap_or_default();
    report.files.push(FileCounts {
        input: gs.input.clone(),
        file: gname.clone(),
        rows: fin.group_rows,
        evaluated: fin.evaluated_groups,
        rejected: fin.gerrs.len() as u64,
        left_out: 0,
    });
    if let Some(m) = ms {
        report.files.push(FileCounts {
            input: m.input.clone(),
            file: mname.clone(),
            rows: fin.member_rows,
            evaluated: fin.evaluated_members,
            rejected: fin.merrs.len() as u64 - fin.left_out,
            left_out: fin.left_out,
        });
    }
    let accounted: u64 = report
        .files
        .iter()
        .map(|f| f.evaluated + f.rejected + f.left_out)
        .sum();
    let total: u64 = report.files.iter().map(|f| f.rows).sum();
    if accounted != total {
        return Err(cleanup(RunError::Output(format!(
            "internal error: {total} rows read but {accounted} accounted for"
        ))));
    }
    report.timings = fin.timings.clone();
    report.summary = fin.summaries.first().cloned().unwrap_or_default();
    report.summaries = fin.summaries.clone();
    if !opts.write {
        return Ok(report);
    }

    // Finish outputs and errors.
    let t = Instant::now();
    let ext = opts.out_format.extension();
    let mut out_rows = Vec::new();
    let specs = output::specs(ir);
    for (oi, s) in fin.sinks.into_iter().enumerate() {
        let name = format!("{}.{ext}", ir.outputs[oi].name);
        let spec = specs.get(oi).map(|v| v.as_slice()).unwrap_or(&[]);
        let n = s.finish(spec).map_err(|e| cleanup(e.into()))?;
        out_rows.push((name, n));
    }
    let mut gerrs = fin.gerrs;
    let mut merrs = fin.merrs;
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
    for (file, list) in [(gname.clone(), &gerrs), (mname, &merrs)] {
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
        first.bound,
        opts,
        &fin.gsha,
        &fin.msha,
        &report,
        &out_rows,
    );
    let mtext = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    if let Some(c) = commit {
        c.finish(&(mtext + "\n"))?;
    }
    report.timings.write += t.elapsed();
    Ok(report)
}

/// An output file being written.
enum SinkKind {
    Bytes(std::io::BufWriter<std::fs::File>),
    #[cfg(feature = "parquet")]
    Parquet(
        Box<::parquet::arrow::ArrowWriter<std::fs::File>>,
        arrow_schema::SchemaRef,
    ),
    /// Rows that come in another order than the input's (member outputs
    /// of an ungrouped member file), put back in input order.
    Reorder(sorted::Reorder),
    /// Nothing is written (a diff).
    None,
}

struct Sink {
    name: String,
    kind: SinkKind,
    rows: u64,
}

/// Rows per Parquet row group.
const ROW_GROUP: usize = 64 * 1024;

fn io_err(name: &str, e: impl std::fmt::Display) -> FileError {
    FileError::new(name, format!("cannot write this output: {e}"))
}

impl Sink {
    fn create(
        path: &Path,
        format: Format,
        specs: &[OutSpec],
        reorder: Option<usize>,
    ) -> Result<Sink, FileError> {
        let name = file_name(path);
        if let Some(rows) = reorder {
            return Ok(Sink {
                name,
                kind: SinkKind::Reorder(sorted::Reorder::new(format, path, rows)),
                rows: 0,
            });
        }
        let f = std::fs::File::create(path)
            .map_err(|e| FileError::new(&name, format!("cannot create: {e}")))?;
        let kind = match format {
            Format::Csv => {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                w.write_all(&output::csv_header(specs))
                    .map_err(|e| io_err(&name, e))?;
                SinkKind::Bytes(w)
            }
            Format::Jsonl => SinkKind::Bytes(std::io::BufWriter::with_capacity(1 << 20, f)),
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => return Err(weft_data::no_parquet(path)),
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                let schema = output::arrow_schema(specs);
                // Dictionaries only for enum codes: ids are unique and
                // numbers gain little, while building a dictionary is most
                // of a writer's work.
                let mut props = ::parquet::file::properties::WriterProperties::builder()
                    .set_compression(::parquet::basic::Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(ROW_GROUP))
                    .set_dictionary_enabled(false);
                for s in specs {
                    if matches!(s.kind, output::OutKind::Enum(_)) {
                        props = props.set_column_dictionary_enabled(
                            ::parquet::schema::types::ColumnPath::from(s.name.as_str()),
                            true,
                        );
                    }
                }
                let props = props.build();
                let w = ::parquet::arrow::ArrowWriter::try_new(f, schema.clone(), Some(props))
                    .map_err(|e| io_err(&name, e))?;
                SinkKind::Parquet(Box::new(w), schema)
            }
        };
        Ok(Sink {
            name,
            kind,
            rows: 0,
        })
    }

    fn none() -> Sink {
        Sink {
            name: String::new(),
            kind: SinkKind::None,
            rows: 0,
        }
    }

    /// Write one chunk's rows of this output.
    #[cfg_attr(not(feature = "parquet"), allow(unused_variables))]
    fn write(
        &mut self,
        specs: &[OutSpec],
        block: &OutBlock,
        bytes: Option<&[u8]>,
    ) -> Result<(), FileError> {
        self.rows += block.len() as u64;
        match &mut self.kind {
            SinkKind::Bytes(w) => {
                let b = match bytes {
                    Some(b) => std::borrow::Cow::Borrowed(b),
                    None => std::borrow::Cow::Owned(Vec::new()),
                };
                w.write_all(&b).map_err(|e| io_err(&self.name, e))
            }
            #[cfg(feature = "parquet")]
            SinkKind::Parquet(w, schema) => {
                if block.is_empty() {
                    return Ok(());
                }
                let batch =
                    output::to_batch(specs, schema, block).map_err(|e| io_err(&self.name, e))?;
                w.write(&batch).map_err(|e| io_err(&self.name, e))
            }
            SinkKind::Reorder(r) => r.push(block),
            SinkKind::None => Ok(()),
        }
    }

    /// Flush, sync and close; the rows written.
    fn finish(self, specs: &[OutSpec]) -> Result<u64, FileError> {
        let name = self.name;
        match self.kind {
            SinkKind::Bytes(w) => {
                let f = w.into_inner().map_err(|e| io_err(&name, e.error()))?;
                f.sync_all().map_err(|e| io_err(&name, e))?;
            }
            #[cfg(feature = "parquet")]
            SinkKind::Parquet(w, _) => {
                let f = w.into_inner().map_err(|e| io_err(&name, e))?;
                f.sync_all().map_err(|e| io_err(&name, e))?;
            }
            SinkKind::Reorder(r) => {
                let format = r.format;
                let mut s = Sink::create(&r.path, format, specs, None)?;
                let codes = output::Codes::new(specs);
                r.finish(ROW_GROUP, |block| {
                    let bytes = match format {
                        Format::Csv => {
                            let mut b = Vec::new();
                            output::encode_csv(specs, &codes, block, &mut b);
                            Some(b)
                        }
                        Format::Jsonl => {
                            let mut b = Vec::new();
                            output::encode_jsonl(specs, &codes, block, &mut b);
                            Some(b)
                        }
                        Format::Parquet => None,
                    };
                    s.write(specs, block, bytes.as_deref())
                })?;
                return s.finish(specs);
            }
            SinkKind::None => {}
        }
        Ok(self.rows)
    }
}

/// One batch as read: chunks of groups with their members, and the
/// members rejected while joining (no such group, or a duplicate one).
struct ReadBatch {
    chunks: Vec<ToEval>,
    unknown: Vec<ErrorRow>,
}

/// A chunk as the reader sends it.
enum ToEval {
    /// Ranges of parsed blocks, gathered on the evaluating thread.
    Pending(link::Pending),
    Staged(Box<Staged>),
}

/// One batch evaluated: per chunk, an outcome per side.
struct EvalBatch {
    per_chunk: Vec<Vec<Outcome>>,
    unknown: Vec<ErrorRow>,
    wall: Duration,
}

fn eval_batch(cxs: &[Ctx<'_>], b: ReadBatch) -> EvalBatch {
    let t = Instant::now();
    let per_chunk: Vec<Vec<Outcome>> = b
        .chunks
        .into_par_iter()
        .map(|c| {
            let st = match c {
                ToEval::Pending(p) => p.gather(),
                ToEval::Staged(s) => *s,
            };
            let mut v = Vec::with_capacity(cxs.len());
            for (i, c) in cxs.iter().enumerate() {
                if i + 1 == cxs.len() {
                    v.push(process::process(c, st));
                    break;
                }
                v.push(process::process(c, st.clone()));
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

/// What the reader learnt.
struct ReadEnd {
    group_rows: u64,
    member_rows: u64,
    gsha: String,
    msha: String,
    unresolved: Vec<Unresolved>,
    found: link::Found,
    out_of_order: bool,
    read: Duration,
    index: Duration,
    warnings: Vec<String>,
}

fn words(setup: &Setup<'_>, gin: &Input<'_>, min: Option<&Input<'_>>) -> Words {
    let gs = setup.gs;
    let name = |s: &InputSchema, c: Option<usize>| {
        c.and_then(|c| s.columns.get(c))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let link = setup.ms.and_then(|m| {
        m.columns
            .iter()
            .position(|c| matches!(c.kind, ColKind::Link { .. }))
    });
    Words {
        gword: setup
            .ctxs
            .first()
            .map(|c| c.gword.clone())
            .unwrap_or_default(),
        gkey: name(gs, gs.key),
        mkey: setup.ms.map(|m| name(m, m.key)).unwrap_or_default(),
        link_name: setup.ms.map(|m| name(m, link)).unwrap_or_default(),
        gkey_order: gin.order_of(gs.key),
        mkey_order: min
            .map(|m| m.order_of(setup.ms.and_then(|s| s.key)))
            .unwrap_or(0),
        link_order: min.map(|m| m.order_of(link)).unwrap_or(0),
    }
}

/// Set the seqs of freshly parsed rows.
fn number(rows: &mut Rows, next: &mut u64) {
    for s in rows.seq.iter_mut() {
        *s = *next;
        *next += 1;
    }
}

use block::Rows;

/// The reader thread: read, parse, join; send batches of chunks.
#[allow(clippy::too_many_arguments)]
fn read_all(
    setup: &Setup<'_>,
    known: &Known,
    mut gin: Input<'_>,
    mut min: Option<Input<'_>>,
    progress: &dyn Progress,
    tx: std::sync::mpsc::SyncSender<ReadBatch>,
) -> Result<Option<ReadEnd>, RunError> {
    let t0 = Instant::now();
    let mut waited = Duration::ZERO;
    let threads = rayon::current_num_threads().max(1);
    let mut warnings = Vec::new();
    let mut index = IdIndex::new(
        gin.size + min.as_ref().map(|m| m.size).unwrap_or(0),
        setup.opts.index_partitions,
    );
    let mut linker = Linker::new(
        known,
        words(setup, &gin, min.as_ref()),
        setup.opts.chunk_rows,
        min.is_some(),
    );
    let (mut gseq, mut mseq) = (0u64, 0u64);
    let mut gdone = false;
    let mut mdone = min.is_none();
    if mdone {
        linker.finish_members();
    }
    let mut batch: Vec<ToEval> = Vec::new();
    let send = |batch: &mut Vec<ToEval>,
                linker: &mut Linker<'_>,
                waited: &mut Duration,
                force: bool|
     -> bool {
        if batch.len() >= setup.batch_chunks
            || (force && (!batch.is_empty() || !linker.unknown.is_empty()))
        {
            let b = ReadBatch {
                chunks: std::mem::take(batch),
                unknown: std::mem::take(&mut linker.unknown),
            };
            let t = Instant::now();
            let ok = tx.send(b).is_ok();
            *waited += t.elapsed();
            return ok;
        }
        true
    };
    loop {
        let mut raws: Vec<(bool, Raw)> = Vec::new();
        // Groups: enough read ahead of the members.
        let gwant = if gdone {
            0
        } else if min.is_none() || mdone {
            threads
        } else if linker.ahead() < AHEAD {
            2
        } else {
            0
        };
        for _ in 0..gwant {
            match gin.read()? {
                Some((r, n)) => {
                    progress.advance(n);
                    raws.push((true, r));
                }
                None => {
                    gdone = true;
                    linker.groups_done = true;
                    break;
                }
            }
        }
        let mut members_end = false;
        if let Some(m) = min.as_mut().filter(|_| !mdone) {
            for _ in 0..threads {
                match m.read()? {
                    Some((r, n)) => {
                        progress.advance(n);
                        raws.push((false, r));
                    }
                    None => {
                        members_end = true;
                        break;
                    }
                }
            }
        }
        if raws.is_empty() && gdone && (mdone || members_end) {
            if members_end && !mdone {
                linker.finish_members();
            }
            break;
        }
        let parsed: Vec<Result<(Rows, jsonl::Seen), RunError>> = {
            let (g, m) = (&gin.parser, min.as_ref().map(|m| &m.parser));
            raws.par_iter()
                .map(|(is_g, r)| match (is_g, m) {
                    (true, _) => g.parse(r),
                    (false, Some(m)) => m.parse(r),
                    (false, None) => Err(RunError::Usage("no member input".into())),
                })
                .collect()
        };
        for ((is_g, _), p) in raws.iter().zip(parsed) {
            let (mut rows, seen) = p?;
            if *is_g {
                number(&mut rows, &mut gseq);
                index.push_groups(&rows.key)?;
                gin.saw(seen);
                linker.push_groups(rows);
                continue;
            }
            let Some(m) = min.as_mut() else { continue };
            number(&mut rows, &mut mseq);
            index.push_members(&rows.key)?;
            m.saw(seen);
            linker.mark_members(&mut rows);
            let rows = std::sync::Arc::new(rows);
            let mut from = 0;
            loop {
                match linker.feed(&rows, from) {
                    Fed::Done => break,
                    Fed::OutOfOrder => {
                        return Ok(None);
                    }
                    Fed::NeedGroups(i) => {
                        if !gdone && linker.ahead() < MAX_AHEAD {
                            match gin.read()? {
                                Some((r, n)) => {
                                    progress.advance(n);
                                    let (mut g, seen) = gin.parser.parse(&r)?;
                                    number(&mut g, &mut gseq);
                                    index.push_groups(&g.key)?;
                                    gin.saw(seen);
                                    linker.push_groups(g);
                                }
                                None => {
                                    gdone = true;
                                    linker.groups_done = true;
                                }
                            }
                            from = i;
                        } else {
                            linker.set_aside(&rows, i);
                            from = i + 1;
                        }
                    }
                }
            }
        }
        if members_end && !mdone {
            mdone = true;
            linker.finish_members();
        }
        batch.extend(linker.take_ready().into_iter().map(ToEval::Pending));
        if !send(&mut batch, &mut linker, &mut waited, false) {
            return Ok(None);
        }
    }
    linker.finish();
    batch.extend(linker.take_ready().into_iter().map(ToEval::Pending));
    if !send(&mut batch, &mut linker, &mut waited, true) {
        return Ok(None);
    }
    gin.finish(&mut warnings)?;
    if let Some(m) = min.as_mut() {
        m.finish(&mut warnings)?;
    }
    let gsha = gin.sha256()?;
    let msha = match min.as_mut() {
        Some(m) => m.sha256()?,
        None => String::new(),
    };
    let read = t0.elapsed().saturating_sub(waited);
    let t = Instant::now();
    let unresolved = std::mem::take(&mut linker.unresolved);
    let found = index.finish(&unresolved)?;
    Ok(Some(ReadEnd {
        group_rows: gseq,
        member_rows: mseq,
        gsha,
        msha,
        unresolved,
        found,
        out_of_order: false,
        read,
        index: t.elapsed(),
        warnings,
    }))
}

/// One pass over the inputs.
fn attempt<'o>(
    setup: &Setup<'_>,
    known: &Known,
    unordered: bool,
    tmp: &Path,
    progress: &dyn Progress,
    mut observer: Option<&mut (dyn Observer + 'o)>,
) -> Result<Attempt, RunError> {
    let opts = setup.opts;
    let mut warnings = Vec::new();
    let gin = Input::open(setup.prog, setup.gs, setup.gfile, &mut warnings)?;
    let min = match (setup.ms, setup.mfile) {
        (Some(ms), Some(mf)) => Some(Input::open(setup.prog, ms, mf, &mut warnings)?),
        _ => None,
    };
    progress.total(gin.size + min.as_ref().map(|m| m.size).unwrap_or(0));
    let Some(cx0) = setup.ctxs.first() else {
        return Err(RunError::Usage("nothing to evaluate".into()));
    };
    let ir = cx0.ir;
    let ext = opts.out_format.extension();
    let mut sinks: Vec<Sink> = Vec::new();
    for (oi, o) in ir.outputs.iter().enumerate() {
        if !opts.write {
            sinks.push(Sink::none());
            continue;
        }
        let is_member = setup.ms.map(|m| m.record == o.record).unwrap_or(false);
        let path = tmp.join(format!("{}.{ext}", o.name));
        let spec = cx0.specs.get(oi).map(|v| v.as_slice()).unwrap_or(&[]);
        sinks.push(Sink::create(
            &path,
            opts.out_format,
            spec,
            (unordered && is_member).then(|| sorted::reorder_rows(opts.index_partitions)),
        )?);
    }
    let mut gerrs: Vec<ErrorRow> = Vec::new();
    let mut merrs: Vec<ErrorRow> = Vec::new();
    let mut left_out = 0u64;
    let mut summaries: Vec<Summary> = setup.ctxs.iter().map(|c| Summary::new(c.ir)).collect();
    let (mut eval_g, mut eval_m) = (0u64, 0u64);
    let mut timings = Timings::default();
    let mut write_time = Duration::ZERO;
    let limit = opts.max_errors;
    let gs = setup.gs;

    let piped: Result<Option<ReadEnd>, RunError> = std::thread::scope(|s| {
        let (btx, brx) = std::sync::mpsc::sync_channel::<ReadBatch>(CHANNEL);
        let reading = std::thread::Builder::new()
            .name("weft-read".into())
            .spawn_scoped(s, move || {
                if unordered {
                    sorted::read_sorted(setup, known, gin, min, progress, btx)
                } else {
                    read_all(setup, known, gin, min, progress, btx)
                }
            })
            .map_err(|e| RunError::Usage(format!("cannot start the reading thread: {e}")))?;
        let (otx, orx) = std::sync::mpsc::sync_channel::<EvalBatch>(CHANNEL);
        let cxs = &setup.ctxs;
        let evaluating = std::thread::Builder::new()
            .name("weft-eval".into())
            .spawn_scoped(s, move || {
                for b in brx {
                    if otx.send(eval_batch(cxs, b)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| RunError::Usage(format!("cannot start the evaluating thread: {e}")))?;
        for b in orx {
            timings.eval += b.wall;
            merrs.extend(b.unknown);
            let t = Instant::now();
            if let Some(obs) = observer.as_deref_mut() {
                for (si, cx) in cxs.iter().enumerate() {
                    let mut rows: Vec<(usize, u64, Vec<OutCell>, Option<i64>)> = Vec::new();
                    let mut rej: Vec<(bool, u64)> = Vec::new();
                    let mut out: Vec<u64> = Vec::new();
                    for v in &b.per_chunk {
                        let Some(o) = v.get(si) else { continue };
                        for (oi, blk) in o.outs.iter().enumerate() {
                            let spec = cx.specs.get(oi).map(|x| x.as_slice()).unwrap_or(&[]);
                            for i in 0..blk.len() {
                                let by = o.by.get(oi).and_then(|v| v.get(i)).copied().flatten();
                                rows.push((oi, blk.seq[i], blk.cells(spec, i), by));
                            }
                        }
                        rej.extend(o.group_errors.iter().map(|e| (true, e.seq)));
                        rej.extend(
                            o.member_errors
                                .iter()
                                .filter(|e| !o.left_out.contains(&e.seq))
                                .map(|e| (false, e.seq)),
                        );
                        out.extend(o.left_out.iter().copied());
                    }
                    let ev: Vec<Evaluated<'_>> = rows
                        .iter()
                        .map(|(oi, seq, cells, by)| Evaluated {
                            output: *oi,
                            seq: *seq,
                            cells,
                            by: *by,
                        })
                        .collect();
                    obs.observe(si, &ev, &rej, &out);
                }
            }
            let mut batch_rows = 0u64;
            for v in b.per_chunk {
                for (si, o) in v.into_iter().enumerate() {
                    if let Some(sm) = summaries.get_mut(si) {
                        sm.merge(&o.summary);
                    }
                    if si > 0 {
                        continue;
                    }
                    timings.eval_cpu += o.eval_cpu;
                    timings.check_cpu += o.check_cpu;
                    eval_g += o.evaluated_groups;
                    eval_m += o.evaluated_members;
                    batch_rows += o.evaluated_groups
                        + o.evaluated_members
                        + (o.group_errors.len() + o.member_errors.len()) as u64;
                    for (oi, blk) in o.outs.iter().enumerate() {
                        let spec = cx0.specs.get(oi).map(|x| x.as_slice()).unwrap_or(&[]);
                        if let Some(sink) = sinks.get_mut(oi) {
                            sink.write(spec, blk, o.bytes.get(oi).map(|b| b.as_slice()))?;
                        }
                    }
                    gerrs.extend(o.group_errors);
                    merrs.extend(o.member_errors);
                    left_out += o.left_out.len() as u64;
                }
            }
            write_time += t.elapsed();
            progress.rows(batch_rows);
            if let Some(l) = limit {
                // Rows left out are not errors: they do not count.
                let so_far = (gerrs.len() + merrs.len()) as u64 - left_out;
                if so_far > l {
                    return Err(RunError::Stopped {
                        errors: so_far,
                        limit: l,
                    });
                }
            }
        }
        if let Err(p) = evaluating.join() {
            std::panic::resume_unwind(p);
        }
        match reading.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    });
    let Some(end) = piped? else {
        // The member file is not grouped in the group file's order.
        return Ok(Attempt::Again {
            found: link::Found::default(),
            unordered: true,
        });
    };
    let new_dups = end
        .found
        .dup_groups
        .iter()
        .any(|h| !known.dup_groups.contains(h))
        || end
            .found
            .dup_members
            .iter()
            .any(|h| !known.dup_members.contains(h));
    let misplaced = end.out_of_order || end.found.resolved.iter().any(|r| *r);
    if (misplaced && !unordered) || new_dups {
        return Ok(Attempt::Again {
            found: end.found,
            unordered: misplaced,
        });
    }
    merrs.extend(end.unresolved.into_iter().map(|u| u.error));
    if let Some(l) = limit {
        let so_far = (gerrs.len() + merrs.len()) as u64 - left_out;
        if so_far > l {
            return Err(RunError::Stopped {
                errors: so_far,
                limit: l,
            });
        }
    }
    let _ = gs;
    timings.read = end.read;
    timings.index = end.index;
    timings.write = write_time;
    warnings.extend(end.warnings);
    Ok(Attempt::Done(Box::new(Finished {
        gerrs,
        merrs,
        left_out,
        summaries,
        group_rows: end.group_rows,
        member_rows: end.member_rows,
        evaluated_groups: eval_g,
        evaluated_members: eval_m,
        gsha: end.gsha,
        msha: end.msha,
        sinks,
        warnings,
        timings,
    })))
}
