//! `weft run`: a population through the policy.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use clap::{Args, FromArgMatches};
use indicatif::{ProgressBar, ProgressStyle};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use weft::run::{Format, Progress, RunConfig, RunReport, format_yuan as yuan};

#[derive(Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated, YYYY-MM.
    #[arg(long = "as-of")]
    pub as_of: String,
    /// The output directory (refused if not empty, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// An input file: `NAME=FILE`, NAME being the policy's input name. The
    /// short form `--NAME FILE` (e.g. `--persons P.csv`) means the same.
    #[arg(long = "input", value_name = "NAME=FILE")]
    pub input: Vec<String>,
    /// Output format: csv, jsonl or parquet.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Input format, if the file extensions do not say.
    #[arg(long = "input-format")]
    pub input_format: Option<String>,
    /// Replace the result in a non-empty output directory, all or nothing
    /// (the directory must hold only a Weft result's files).
    #[arg(long)]
    pub force: bool,
    /// When another run is writing to the same output directory, wait for
    /// it (default: fail at once, naming it).
    #[arg(long = "wait-lock")]
    pub wait_lock: bool,
    /// Stop, writing nothing, once more than N rows are rejected.
    #[arg(long = "max-errors", value_name = "N")]
    pub max_errors: Option<u64>,
    /// Stop, writing nothing, at the first rejected row.
    #[arg(long = "fail-fast")]
    pub fail_fast: bool,
    /// Evaluation threads (default: every core; at most four per core);
    /// reading and writing run on a thread each besides.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Partitions of the first pass's on-disk id index (default: one per
    /// 8 MiB of input); for tests of the index.
    #[arg(long, hide = true)]
    pub index_partitions: Option<usize>,
    /// Members per chunk.
    #[arg(long, default_value_t = 4096)]
    pub chunk: usize,
    /// `jit` (default when available) or `interp`.
    #[arg(long)]
    pub engine: Option<String>,
    /// The summary on stderr: `text` or `json`.
    #[arg(long, default_value = "text")]
    pub summary: String,
    /// Print the time spent indexing, reading, evaluating and writing.
    #[arg(long)]
    pub timings: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `--persons P` → `--input persons=P` for flags `run` does not know.
pub fn rewrite_input_flags(args: Vec<OsString>) -> Vec<OsString> {
    let sub = args
        .get(1)
        .map(|a| a.to_string_lossy().to_string())
        .unwrap_or_default();
    let cmd = match sub.as_str() {
        "run" => RunArgs::augment_args(clap::Command::new("run")),
        "explain" => crate::cmd::explain::ExplainArgs::augment_args(clap::Command::new("explain")),
        "diff" => crate::cmd::diff::DiffArgs::augment_args(clap::Command::new("diff")),
        _ => return args,
    };
    let known: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| l.to_string()))
        .chain(["help".to_string()])
        .collect();
    let _ = RunArgs::from_arg_matches;
    let mut out = Vec::new();
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().to_string();
        if let Some(name) = s.strip_prefix("--") {
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (name.to_string(), None),
            };
            if !name.is_empty() && !known.contains(&name) {
                let value = match inline {
                    Some(v) => Some(OsString::from(v)),
                    None => it.next(),
                };
                if let Some(v) = value {
                    out.push(OsString::from("--input"));
                    let mut pair = OsString::from(format!("{name}="));
                    pair.push(v);
                    out.push(pair);
                    continue;
                }
            }
        }
        out.push(a);
    }
    out
}

struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn total(&self, rows: u64) {
        if let Some(b) = &self.0 {
            b.set_length(rows);
        }
    }
    fn advance(&self, rows: u64) {
        if let Some(b) = &self.0 {
            b.inc(rows);
        }
    }
}

pub fn run(a: &RunArgs) -> CliResult {
    let as_of = super::parse_month(&a.as_of)?;
    let Some(out_format) = Format::from_name(&a.format) else {
        return Err(CliError::Usage(format!(
            "unknown output format `{}`; use csv, jsonl or parquet",
            a.format
        )));
    };
    let input_format = match &a.input_format {
        Some(f) => match Format::from_name(f) {
            Some(f) => Some(f),
            None => {
                return Err(CliError::Usage(format!(
                    "unknown input format `{f}`; use csv, jsonl or parquet"
                )));
            }
        },
        None => None,
    };
    let specs = super::input_specs(&a.input)?;
    let mut config = RunConfig::new(&a.out, out_format)
        .force(a.force)
        .max_errors(if a.fail_fast { Some(0) } else { a.max_errors })
        .chunk_rows(a.chunk)
        .index_partitions(a.index_partitions);
    for (name, path) in specs {
        let Some(format) = input_format.or_else(|| Format::from_path(&path)) else {
            return Err(CliError::Usage(format!(
                "cannot tell the format of {} from its extension; add --input-format",
                path.display()
            )));
        };
        config = config.input(&name, path, format);
    }
    super::init_threads(a.threads)?;
    // One run at a time per output directory: locked now, before the long
    // preparations, and held (the run itself reuses it) to the end.
    let out_name = a.out.display().to_string();
    let mut waiting = |pid: Option<u32>| {
        eprintln!(
            "waiting for the weft run ({}) that is writing to {out_name}",
            pid.map(|p| format!("pid {p}"))
                .unwrap_or_else(|| "pid unknown".into())
        );
    };
    let _lock = match weft::files::OutputLock::acquire(&a.out, a.wait_lock, &mut waiting) {
        Ok(l) => l,
        Err(e @ weft::Error::Busy { .. }) => {
            return Err(CliError::Failed(format!(
                "{e}; wait for it with --wait-lock, or choose another --out"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let policy = super::load(&a.policy)?;
    let engine = super::engine(a.engine.as_deref(), &[(&policy, as_of)])?;
    let t_bind = std::time::Instant::now();
    let eval = super::evaluator(&policy, as_of, engine)?;
    let compile_time = t_bind.elapsed();
    let bar = if !a.quiet && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ) {
            b.set_style(style);
        }
        Some(b)
    } else {
        None
    };
    let progress = Bar(bar);
    let t = std::time::Instant::now();
    let result = eval.run_files(&config, &progress);
    if let Some(b) = &progress.0 {
        b.finish_and_clear();
    }
    let report = result?;
    let total = t.elapsed();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let engine_name = eval.engine().name();
    if a.summary == "json" {
        let progs: Vec<serde_json::Value> = report
            .programmes
            .iter()
            .map(|p| {
                serde_json::json!({
                    "programme": p.name,
                    "name": p.display,
                    "recipients": p.recipients,
                    "total_per_month": exact_yuan(p.per_month),
                    "total_per_year": exact_yuan(p.per_year),
                    "total_once": exact_yuan(p.once),
                })
            })
            .collect();
        let files: Vec<serde_json::Value> = report
            .files
            .iter()
            .map(|f| serde_json::json!({"input": f.input, "file": f.file, "read": f.rows, "evaluated": f.evaluated, "rejected": f.rejected}))
            .collect();
        let mut v = serde_json::json!({"as_of": as_of.to_string(), "engine": engine_name, "files": files, "programmes": progs});
        if a.timings {
            v["timings_ms"] = timings_json(
                &report,
                compile_time,
                eval.compiled().map(|c| c.reused),
                total,
            );
        }
        // For machines: one JSON document on stdout (messages stay on stderr).
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        eprintln!(
            "weft run {} as of {} ({} engine) → {}",
            a.policy.policy.display(),
            as_of,
            engine_name,
            a.out.display()
        );
        for f in &report.files {
            eprintln!(
                "  {:<12} {:>10} read {:>10} evaluated {:>8} rejected  ({})",
                f.input, f.rows, f.evaluated, f.rejected, f.file
            );
        }
        eprintln!(
            "  {:<24} {:>10} {:>18} {:>18} {:>16}",
            "programme", "recipients", "per month", "per year", "once"
        );
        for p in &report.programmes {
            eprintln!(
                "  {:<24} {:>10} {:>18} {:>18} {:>16}",
                p.name,
                p.recipients,
                yuan(p.per_month),
                yuan(p.per_year),
                yuan(p.once)
            );
        }
        if a.timings {
            let tm = &report.timings;
            let members = report.files.last().map(|f| f.evaluated).unwrap_or(0);
            let per_s = if tm.eval_cpu.as_secs_f64() > 0.0 {
                members as f64 / tm.eval_cpu.as_secs_f64()
            } else {
                0.0
            };
            eprintln!(
                "  timings: compile {:.1} ms{}, index {:.1} ms, read {:.1} ms, checks + evaluation {:.1} ms wall (checks {:.1} ms, evaluation {:.1} ms engine time: {:.0} {} per second per core), write {:.1} ms (reading, evaluation and writing overlap); total {:.1} ms",
                ms(compile_time),
                match eval.compiled() {
                    Some(c) if c.reused => " (a compiled program reused)",
                    Some(_) => " (compiled)",
                    None => "",
                },
                ms(tm.index),
                ms(tm.read),
                ms(tm.eval),
                ms(tm.check_cpu),
                ms(tm.eval_cpu),
                per_s,
                report
                    .files
                    .last()
                    .map(|f| f.input.as_str())
                    .unwrap_or("records"),
                ms(tm.write),
                ms(total)
            );
        }
    }
    Ok(())
}

/// Fen as an exact decimal string of yuan, without separators
/// (`"423223.89"`, `"-0.05"`): what a program reading the JSON can parse.
fn exact_yuan(fen: i128) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timings_json(
    r: &RunReport,
    compile: std::time::Duration,
    reused: Option<bool>,
    total: std::time::Duration,
) -> serde_json::Value {
    let t = &r.timings;
    serde_json::json!({
        "compile": ms(compile), "compiled_program_reused": reused, "index": ms(t.index), "read": ms(t.read), "evaluate": ms(t.eval), "checks": ms(t.check_cpu),
        "evaluate_engine": ms(t.eval_cpu), "write": ms(t.write), "total": ms(total),
    })
}
