pub mod check;
pub mod diff;
pub mod diff_html;
pub mod doc;
pub mod eval;
pub mod explain;
pub mod fmt;
pub mod lsp;
pub mod run;
pub mod synth;
pub mod test;

use crate::PolicyArgs;
use crate::error::CliError;
use crate::out;

/// Load and check a policy with its `--params` overlays, printing its
/// diagnostics (warnings too); parameters given for this command are
/// checked against the policy's assertions, as `weft check` checks the
/// pack's own.
pub fn load(p: &PolicyArgs) -> Result<weft::Policy, CliError> {
    let policy = match weft::Policy::load(&p.policy, &p.params) {
        Ok(policy) => policy,
        Err(weft::Error::Policy(diags)) => {
            eprint!("{}", out::diagnostics(&diags));
            eprintln!(
                "error: {} in {}",
                out::plural(diags.error_count(), "error", "errors"),
                p.policy.display()
            );
            return Err(CliError::Reported);
        }
        Err(e @ weft::Error::Internal(_)) => {
            eprintln!("{e}");
            return Err(CliError::Reported);
        }
        Err(e) => return Err(e.into()),
    };
    let warnings = policy.warnings();
    if !warnings.is_empty() {
        eprint!("{}", out::diagnostics(&warnings));
    }
    if !p.params.is_empty() {
        let failed = policy.check_assertions();
        if !failed.is_empty() {
            eprint!("{}", out::diagnostics(&failed));
        }
        if failed.has_errors() {
            return Err(weft::Error::Assertions(failed).into());
        }
    }
    Ok(policy)
}

/// `NAME=FILE` arguments → `(name, file)`: each input named once, each
/// file one a run can read ([`weft::files::check_input`]).
pub fn input_specs(specs: &[String]) -> Result<Vec<(String, std::path::PathBuf)>, CliError> {
    let mut out: Vec<(String, std::path::PathBuf)> = Vec::new();
    for spec in specs {
        let Some((name, path)) = spec.split_once('=') else {
            return Err(CliError::Usage(format!(
                "`--input {spec}` should be NAME=FILE"
            )));
        };
        let path = std::path::PathBuf::from(path);
        if let Some((_, first)) = out.iter().find(|(n, _)| n == name) {
            return Err(CliError::Usage(format!(
                "the input `{name}` is given twice ({} and {}); give each input once (`--{name} FILE` and `--input {name}=FILE` are the same)",
                first.display(),
                path.display()
            )));
        }
        weft::files::check_input(&path)?;
        out.push((name.to_string(), path));
    }
    Ok(out)
}

/// The most evaluation threads `--threads` accepts: four per core. More
/// buy nothing (evaluation is CPU-bound) and cost memory (a batch holds
/// two chunks per thread).
pub fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_mul(4)
}

/// Start rayon's global pool: `threads` evaluation threads (every core
/// when `None`). A number out of range is a usage error (2); threads the
/// system will not create are an error (1), not a panic later.
pub fn init_threads(threads: Option<usize>) -> Result<(), CliError> {
    let max = max_threads();
    match threads {
        Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
        Some(t) if t > max => {
            return Err(CliError::Usage(format!(
                "--threads {t} is more than {max} (four per core on this machine); more threads than that only take memory"
            )));
        }
        _ => {}
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build_global()
        .map_err(|e| {
            CliError::Failed(format!(
                "cannot start {} evaluation threads: {e}; try fewer with --threads",
                threads
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "the".into())
            ))
        })
}

/// `YYYY-MM` → the month.
pub fn parse_month(s: &str) -> Result<weft::Month, CliError> {
    Ok(s.parse::<weft::Month>()?)
}

/// An evaluator for `as_of`; a month without parameters is reported as
/// `cannot evaluate MONTH: …`.
pub fn evaluator(
    policy: &weft::Policy,
    as_of: weft::Month,
    engine: weft::Engine,
) -> Result<weft::Evaluator, CliError> {
    policy.evaluator(as_of, engine).map_err(|e| match e {
        e @ weft::Error::NoParameterVersion { .. } => {
            CliError::Failed(format!("cannot evaluate {as_of}: {e}"))
        }
        e => e.into(),
    })
}

/// `--engine NAME`: `jit` or `interp` (default: the JIT when this build
/// has it). An unknown name is a usage error, reported after `months`
/// bind — the order of the messages `weft run` and `weft diff` always
/// gave.
pub fn engine(
    name: Option<&str>,
    months: &[(&weft::Policy, weft::Month)],
) -> Result<weft::Engine, CliError> {
    let Some(name) = name else {
        return Ok(weft::Engine::fastest());
    };
    match weft::Engine::from_name(name) {
        Some(e) => Ok(e),
        None => {
            for (policy, month) in months {
                evaluator(policy, *month, weft::Engine::Interpreter)?;
            }
            Err(CliError::Usage(format!(
                "unknown engine `{name}`; use jit or interp"
            )))
        }
    }
}
