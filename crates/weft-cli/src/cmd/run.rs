//! `weft run`: a population through the policy.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use clap::{Args, FromArgMatches};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use weft::run::{Format, Progress, RunConfig, RunReport, format_yuan as yuan};

#[derive(Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated, YYYY-MM; or a range of months, YYYY-MM..YYYY-MM
    /// (each month in OUT/YYYY-MM, the summary totalled over the range).
    #[arg(long = "as-of")]
    pub as_of: String,
    /// Evaluate the population as of --as-of under the rules, parameters
    /// and series in force in this month (YYYY-MM): the policy's effect
    /// apart from the population's (ages, births).
    #[arg(long = "rules-as-of", value_name = "YYYY-MM")]
    pub rules_as_of: Option<String>,
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

/// The progress bar of `weft run` and `weft diff` (nothing when stderr is
/// not a terminal): the share of input read, rows done with thousands
/// separators, whole rows per second and an ETA from the average rate so
/// far (which settles, unlike an estimate from the last seconds).
pub struct Bar {
    bar: Option<ProgressBar>,
    rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        use std::sync::atomic::Ordering;
        let rows = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        if quiet || !std::io::stderr().is_terminal() {
            return Bar { bar: None, rows };
        }
        let b = ProgressBar::new(0);
        let (r1, r2) = (rows.clone(), rows.clone());
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix}{spinner} {wide_bar} {percent:>3}% · {rows} rows · {rate} rows/s · {eta_avg}",
        ) {
            let style = style
                .with_key(
                    "rows",
                    move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", thousands(r1.load(Ordering::Relaxed)));
                    },
                )
                .with_key(
                    "rate",
                    move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let secs = s.elapsed().as_secs_f64();
                        let n = r2.load(Ordering::Relaxed);
                        let rate = if secs > 0.0 {
                            (n as f64 / secs) as u64
                        } else {
                            0
                        };
                        let _ = write!(w, "{}", thousands(rate));
                    },
                )
                .with_key(
                    "eta_avg",
                    |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", eta(s.elapsed(), s.pos(), s.len().unwrap_or(0)));
                    },
                );
            b.set_style(style);
        }
        Bar { bar: Some(b), rows }
    }

    /// A label before the bar (`2018-03 (3/12) `), starting again from 0.
    pub fn start(&self, label: &str) {
        if let Some(b) = &self.bar {
            b.set_prefix(label.to_string());
            b.set_position(0);
            b.reset_elapsed();
            self.rows.store(0, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn total(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_length(bytes);
        }
    }
    fn advance(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }
    fn rows(&self, rows: u64) {
        self.rows
            .fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The time left at the average rate so far: `ETA 1m 05s`; nothing in the
/// first second or before anything is done (too little to tell).
fn eta(elapsed: std::time::Duration, pos: u64, len: u64) -> String {
    if pos == 0 || len <= pos || elapsed.as_secs_f64() < 1.0 {
        return String::new();
    }
    let left = elapsed.as_secs_f64() * (len - pos) as f64 / pos as f64;
    let s = left.round() as u64;
    if s >= 60 {
        format!("ETA {}m {:02}s", s / 60, s % 60)
    } else {
        format!("ETA {s}s")
    }
}

pub fn run(a: &RunArgs) -> CliResult {
    let months = weft::run::parse_months(&a.as_of)?;
    let as_of = months
        .first()
        .copied()
        .ok_or_else(|| CliError::Usage("no month".into()))?;
    let range = a.as_of.contains("..");
    if range && a.rules_as_of.is_some() {
        return Err(CliError::Usage(
            "--rules-as-of evaluates one month; give --as-of YYYY-MM".into(),
        ));
    }
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
    if range {
        return run_range(a, &policy, &months, engine, &config);
    }
    let t_bind = std::time::Instant::now();
    let rules_as_of = a
        .rules_as_of
        .as_deref()
        .map(super::parse_month)
        .transpose()?;
    let eval = match rules_as_of {
        Some(r) => evaluator_with_rules(&policy, as_of, Some(r), engine).map_err(|e| match e {
            e @ weft::Error::NoParameterVersion { .. } => CliError::Failed(format!(
                "cannot evaluate {as_of} under the rules of {r}: {e}"
            )),
            e => e.into(),
        })?,
        None => super::evaluator(&policy, as_of, engine)?,
    };
    let compile_time = t_bind.elapsed();
    let progress = Bar::new(a.quiet);
    let t = std::time::Instant::now();
    let result = eval.run_files(&config, &progress);
    progress.finish();
    let report = result?;
    let total = t.elapsed();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let engine_name = eval.engine().name();
    if a.summary == "json" {
        let progs: Vec<serde_json::Value> = report.programmes.iter().map(|p| p.to_json()).collect();
        let files: Vec<serde_json::Value> = report.files.iter().map(|f| f.to_json()).collect();
        let mut v = serde_json::json!({"as_of": as_of.to_string(), "engine": engine_name, "files": files, "programmes": progs});
        if let Some(r) = rules_as_of {
            v["rules_as_of"] = serde_json::json!(r.to_string());
        }
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
            "weft run {} as of {}{} ({} engine) → {}",
            a.policy.policy.display(),
            as_of,
            rules_as_of
                .map(|r| format!(" under the rules of {r}"))
                .unwrap_or_default(),
            engine_name,
            a.out.display()
        );
        for f in &report.files {
            eprintln!(
                "  {:<12} {:>10} read {:>10} evaluated {:>8} rejected {:>8} left out  ({})",
                f.input, f.rows, f.evaluated, f.rejected, f.left_out, f.file
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

/// `--as-of A..B`: every month into OUT/YYYY-MM, one summary.
fn run_range(
    a: &RunArgs,
    policy: &weft::Policy,
    months: &[weft::Month],
    engine: weft::Engine,
    config: &RunConfig,
) -> CliResult {
    let progress = Bar::new(a.quiet);
    let t = std::time::Instant::now();
    let n = months.len();
    let result = weft::run::run_range(policy, months, engine, config, &progress, &mut |i, m| {
        progress.start(&format!("{m} ({}/{n}) ", i + 1));
    });
    progress.finish();
    let runs = result.map_err(|e| match e {
        e @ weft::Error::NoParameterVersion { .. } => {
            CliError::Failed(format!("cannot evaluate: {e}"))
        }
        e => e.into(),
    })?;
    let total = t.elapsed();
    for r in &runs {
        for w in &r.report.warnings {
            eprintln!("warning: {}: {w}", r.as_of);
        }
    }
    let reports: Vec<&RunReport> = runs.iter().map(|r| &r.report).collect();
    let sums = weft::run::RangeTotals::of_months(&reports);
    let engine_name = engine.name();
    if a.summary == "json" {
        let months_json: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "as_of": r.as_of.to_string(),
                    "out": r.out_dir.display().to_string(),
                    "files": r.report.files.iter().map(|f| f.to_json()).collect::<Vec<_>>(),
                    "programmes": r.report.programmes.iter().map(|p| p.to_json()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut v = serde_json::json!({
            "as_of": a.as_of.trim(),
            "engine": engine_name,
            "months": months_json,
            "programmes": sums.iter().map(|p| p.to_json()).collect::<Vec<_>>(),
        });
        if a.timings {
            // Each month's timings summed.
            let mut all = RunReport::default();
            for r in &runs {
                let t = &r.report.timings;
                all.timings.index += t.index;
                all.timings.read += t.read;
                all.timings.eval += t.eval;
                all.timings.check_cpu += t.check_cpu;
                all.timings.eval_cpu += t.eval_cpu;
                all.timings.write += t.write;
            }
            v["timings_ms"] = timings_json(&all, std::time::Duration::ZERO, None, total);
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(());
    }
    eprintln!(
        "weft run {} over {} ({} months, {} engine) → {}/YYYY-MM",
        a.policy.policy.display(),
        a.as_of.trim(),
        n,
        engine_name,
        a.out.display()
    );
    for r in &runs {
        let counts: Vec<String> = r
            .report
            .files
            .iter()
            .map(|f| {
                format!(
                    "{} {} evaluated, {} rejected, {} left out",
                    f.input,
                    thousands(f.evaluated),
                    thousands(f.rejected),
                    thousands(f.left_out)
                )
            })
            .collect();
        eprintln!("  {}  {}", r.as_of, counts.join("; "));
    }
    eprintln!(
        "  {:<24} {:>16} {:>18} {:>18} {:>16} {:>18}",
        "programme", "recipient-months", "monthly, summed", "yearly, share", "once", "total"
    );
    for p in &sums {
        eprintln!(
            "  {:<24} {:>16} {:>18} {:>18} {:>16} {:>18}",
            p.name,
            thousands(p.recipient_months),
            yuan(p.per_month),
            yuan(p.per_year),
            yuan(p.once),
            yuan(p.total())
        );
    }
    if a.timings {
        eprintln!("  timings: {n} months in {:.1} ms", ms(total));
    }
    Ok(())
}

/// An evaluator for `as_of`, under the rules of `rules_as_of` when given.
pub fn evaluator_with_rules(
    policy: &weft::Policy,
    as_of: weft::Month,
    rules_as_of: Option<weft::Month>,
    engine: weft::Engine,
) -> Result<weft::Evaluator, weft::Error> {
    match rules_as_of {
        Some(r) => policy.evaluator_with_rules(as_of, r, engine),
        None => policy.evaluator(as_of, engine),
    }
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
