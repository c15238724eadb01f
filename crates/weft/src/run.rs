//! Runs over files: a population read from CSV, JSON Lines or Parquet
//! files, written whole (or not at all) to an output directory — what
//! `weft run` does — and the comparison of two situations over one
//! population (`weft diff`).
//!
//! Evaluation runs on rayon's global pool; size it before the first run
//! (`rayon::ThreadPoolBuilder::build_global`) to choose the number of
//! threads.

use crate::{Error, Evaluator};
use std::path::{Path, PathBuf};
use weft_engine::run::{EvalSide, InputFile, RunOptions};

use crate::report::ProgressAdapter;
pub use crate::report::{
    BINS, ByRow, DiffReport, FileCounts, Format, NoProgress, ParameterChange, ParameterVersion,
    ProgrammeDiff, ProgrammeTotals, Progress, RangeTotals, RunReport, Timings, parse_months,
};

/// An amount of fen (a total, which may exceed one record's money) as
/// yuan with two decimals, grouped for reading (`1,234.50`), as the
/// summaries of `weft run` and `weft diff` show it.
pub fn format_yuan(fen: i128) -> String {
    weft_engine::summary::yuan(fen)
}

/// An amount of fen as an exact decimal string of yuan without separators
/// (`"423223.89"`), as the JSON summaries write money.
pub fn format_yuan_exact(fen: i128) -> String {
    crate::report::exact_yuan(fen)
}

/// What a run over files reads and where it writes.
///
/// ```no_run
/// # fn main() -> Result<(), weft::Error> {
/// use weft::run::{Format, NoProgress, RunConfig};
/// let policy = weft::Policy::from_dir("policies/jilin")?;
/// let eval = policy.evaluator("2019-08".parse()?, weft::Engine::Jit)?;
/// let config = RunConfig::new("out/2019-08", Format::Csv)
///     .input("persons", "persons.csv", Format::Csv)
///     .input("households", "households.csv", Format::Csv)
///     .force(true);
/// let report = eval.run_files(&config, &NoProgress)?;
/// println!("{} households rejected", report.files[0].rejected);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RunConfig {
    inputs: Vec<InputFile>,
    out_dir: PathBuf,
    out_format: Format,
    force: bool,
    max_errors: Option<u64>,
    chunk_rows: usize,
    index_partitions: Option<usize>,
}

impl RunConfig {
    /// A run writing to `out_dir` in `format`.
    pub fn new(out_dir: impl Into<PathBuf>, format: Format) -> RunConfig {
        RunConfig {
            inputs: Vec::new(),
            out_dir: out_dir.into(),
            out_format: format,
            force: false,
            max_errors: None,
            chunk_rows: 4096,
            index_partitions: None,
        }
    }

    /// Read the input `name` (as the policy declares it) from `path`.
    pub fn input(mut self, name: &str, path: impl Into<PathBuf>, format: Format) -> RunConfig {
        self.inputs.push(InputFile {
            input: name.to_string(),
            path: path.into(),
            format: format.inner(),
        });
        self
    }

    /// Replace an earlier result in the output directory (default: refuse
    /// a non-empty directory).
    pub fn force(mut self, force: bool) -> RunConfig {
        self.force = force;
        self
    }

    /// Stop, writing nothing, once more than `n` rows are rejected.
    pub fn max_errors(mut self, n: Option<u64>) -> RunConfig {
        self.max_errors = n;
        self
    }

    /// Members per chunk (at least 1; default 4096).
    pub fn chunk_rows(mut self, n: usize) -> RunConfig {
        self.chunk_rows = n.max(1);
        self
    }

    /// Partitions of the first pass's on-disk id index, spilled from the
    /// start (default: in memory up to 2 million ids); for tests.
    pub fn index_partitions(mut self, n: Option<usize>) -> RunConfig {
        self.index_partitions = n;
        self
    }

    /// The same run writing to another directory (a month of a range).
    pub fn with_out_dir(&self, out_dir: impl Into<PathBuf>) -> RunConfig {
        RunConfig {
            out_dir: out_dir.into(),
            ..self.clone()
        }
    }

    /// The output directory.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    fn options(&self, ev: &Evaluator, write: bool, by: Option<String>) -> RunOptions {
        RunOptions {
            as_of: ev.as_of().days(),
            rules_as_of: (ev.rules_as_of() != ev.as_of()).then(|| ev.rules_as_of().days()),
            inputs: self.inputs.clone(),
            out_dir: self.out_dir.clone(),
            out_format: self.out_format.inner(),
            force: self.force,
            max_errors: self.max_errors,
            chunk_rows: self.chunk_rows,
            policy_files: if write {
                ev.policy().file_hashes()
            } else {
                Vec::new()
            },
            engine_name: ev.engine().name().to_string(),
            write,
            by,
            index_partitions: self.index_partitions,
        }
    }
}

impl Evaluator {
    /// Evaluate a population read from files and write its results, error
    /// rows and manifest to the output directory, all or nothing.
    pub fn run_files(
        &self,
        config: &RunConfig,
        progress: &dyn Progress,
    ) -> Result<RunReport, Error> {
        let opts = config.options(self, true, None);
        self.with_chunk_eval(|ev| {
            weft_engine::run::run(
                self.ir(),
                self.bound(),
                ev,
                &opts,
                &ProgressAdapter(progress),
            )
        })
        .map(RunReport::of)
        .map_err(Error::from)
    }
}

/// What a comparison reads, and how it reports.
#[derive(Debug, Clone, Default)]
pub struct DiffConfig {
    inputs: Vec<InputFile>,
    by: Option<String>,
    changes: Option<PathBuf>,
    before: String,
    after: String,
}

impl DiffConfig {
    /// A comparison with no inputs yet.
    pub fn new() -> DiffConfig {
        DiffConfig::default()
    }

    /// Read the input `name` from `path`.
    pub fn input(mut self, name: &str, path: impl Into<PathBuf>, format: Format) -> DiffConfig {
        self.inputs.push(InputFile {
            input: name.to_string(),
            path: path.into(),
            format: format.inner(),
        });
        self
    }

    /// The enum field to break results down by (default: `region` when
    /// the records have such an enum field).
    pub fn by(mut self, field: Option<String>) -> DiffConfig {
        self.by = field;
        self
    }

    /// Write every changed cell (`output,record_id,column,before,after`)
    /// to this CSV file.
    pub fn changes(mut self, path: Option<&Path>) -> DiffConfig {
        self.changes = path.map(Path::to_path_buf);
        self
    }

    /// How the report names the two sides.
    pub fn labels(mut self, before: impl Into<String>, after: impl Into<String>) -> DiffConfig {
        self.before = before.into();
        self.after = after.into();
        self
    }
}

/// Compare two situations (another month, other parameters, another
/// version of the policy) over one population, read once: who gains, who
/// loses, what it costs. Both evaluators must read the same records.
pub fn diff(
    before: &Evaluator,
    after: &Evaluator,
    config: &DiffConfig,
) -> Result<DiffReport, Error> {
    diff_with_progress(before, after, config, &NoProgress)
}

/// [`diff`], reporting progress.
pub fn diff_with_progress(
    before: &Evaluator,
    after: &Evaluator,
    config: &DiffConfig,
    progress: &dyn Progress,
) -> Result<DiffReport, Error> {
    let ir_b = before.ir();
    let prog = &ir_b.hir;
    // The breakdown field: `by`, else `region` when the records have it.
    let by = config.by.clone().or_else(|| {
        prog.records.iter().find_map(|r| {
            r.field("region")
                .filter(|(_, f)| matches!(f.ty, weft_check::ty::Ty::Enum(..)))
                .map(|_| "region".to_string())
        })
    });
    let by_names: Vec<String> = by
        .as_ref()
        .and_then(|name| {
            prog.records
                .iter()
                .find_map(|r| match r.field(name).map(|(_, f)| f.ty.clone()) {
                    Some(weft_check::ty::Ty::Enum(e, _)) => prog
                        .enums
                        .get(e)
                        .map(|en| en.variants.iter().map(|v| v.code.clone()).collect()),
                    _ => None,
                })
        })
        .unwrap_or_default();
    let changes: Option<Box<dyn weft_engine::diff::ChangeSink>> = match &config.changes {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(source) => {
                return Err(Error::Io {
                    doing: "cannot create",
                    path: p.clone(),
                    source,
                });
            }
        },
        None => None,
    };
    let mut obs = weft_engine::diff::DiffObserver::new(ir_b, by_names, changes);
    obs.report.before = config.before.clone();
    obs.report.after = config.after.clone();
    obs.report.by = by.clone();
    let rc = RunConfig {
        inputs: config.inputs.clone(),
        out_dir: PathBuf::new(),
        out_format: Format::Csv,
        force: true,
        max_errors: None,
        chunk_rows: 4096,
        index_partitions: None,
    };
    let opts = rc.options(before, false, by);
    let result = before.with_chunk_eval(|eb| {
        after.with_chunk_eval(|ea| {
            let sides = [
                EvalSide {
                    ir: ir_b,
                    bound: before.bound(),
                    eval: eb,
                },
                EvalSide {
                    ir: after.ir(),
                    bound: after.bound(),
                    eval: ea,
                },
            ];
            let p = ProgressAdapter(progress);
            weft_engine::run::run_sides(&sides, &opts, &p, Some(&mut obs))
        })
    });
    obs.finish();
    result?;
    if let Some(e) = obs.error() {
        return Err(Error::Run(format!("cannot write the changes file: {e}")));
    }
    obs.report.parameters_changed =
        weft_engine::diff::parameters_changed((ir_b, before.bound()), (after.ir(), after.bound()));
    let mut report = DiffReport::of(obs.report.clone());
    report.policy_sha256 = (
        weft_engine::manifest::policy_hash(&before.policy().file_hashes()),
        weft_engine::manifest::policy_hash(&after.policy().file_hashes()),
    );
    report.changes_file = config.changes.as_ref().map(|p| p.display().to_string());
    Ok(report)
}

/// One month of a run over a range of months.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MonthRun {
    /// The month.
    pub as_of: crate::Month,
    /// Its output directory (`OUT/YYYY-MM`).
    pub out_dir: PathBuf,
    /// What its run did.
    pub report: RunReport,
}

/// Evaluate a population for every month of `months` (`weft run --as-of
/// 2018-01..2018-12`): each month a complete result of its own in
/// `config`'s output directory's subdirectory `YYYY-MM` (results, errors,
/// manifest), all or nothing per month. A program is compiled once per
/// distinct binding (months whose rules and parameters bind alike share
/// it). `on_month(i, month)` is called before each month. Sum the
/// months' programmes with [`RangeTotals::of_months`].
pub fn run_range(
    policy: &crate::Policy,
    months: &[crate::Month],
    engine: crate::Engine,
    config: &RunConfig,
    progress: &dyn Progress,
    on_month: &mut dyn FnMut(usize, crate::Month),
) -> Result<Vec<MonthRun>, Error> {
    let mut out = Vec::with_capacity(months.len());
    for (i, m) in months.iter().enumerate() {
        on_month(i, *m);
        let eval = policy.evaluator(*m, engine)?;
        let dir = config.out_dir.join(m.to_string());
        let report = eval.run_files(&config.with_out_dir(&dir), progress)?;
        out.push(MonthRun {
            as_of: *m,
            out_dir: dir,
            report,
        });
    }
    Ok(out)
}
