pub mod check;
pub mod diff;
pub mod diff_html;
pub mod eval;
pub mod explain;
pub mod fmt;
pub mod run;
pub mod synth;
pub mod test;

use crate::PolicyArgs;
use crate::out;
use std::sync::Arc;
use weft_engine::load::{PackFiles, PackSources};
use weft_syntax::{Diagnostic, SourceMap};

/// A checked and lowered policy.
pub struct Loaded {
    pub sources: SourceMap,
    pub ir: weft_ir::Ir,
    pub pack: PackSources,
}

pub fn read_pack(p: &PolicyArgs) -> Result<PackSources, i32> {
    let mut pack = match PackSources::from_dir(&p.policy) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read the policy {}: {e}", p.policy.display());
            return Err(1);
        }
    };
    for o in &p.params {
        if let Err(e) = pack.add_overlay(o) {
            eprintln!("error: cannot read the parameters {}: {e}", o.display());
            return Err(1);
        }
    }
    Ok(pack)
}

/// Load, check and lower; print diagnostics. `Err(exit code)` on errors.
pub fn load(p: &PolicyArgs) -> Result<Loaded, i32> {
    let pack = read_pack(p)?;
    let (sources, program, diags) = weft_engine::load::compile_sources(&pack);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        eprint!("{}", out::diagnostics(&diags, &sources));
        eprintln!(
            "error: {} in {}",
            out::plural(errors, "error", "errors"),
            p.policy.display()
        );
        return Err(1);
    }
    print_warnings(&diags, &sources);
    match weft_ir::lower::lower(Arc::new(program)) {
        Ok(ir) => {
            // Parameters given for this command are checked against the
            // policy's assertions, as `weft check` checks the pack's own.
            if !pack.overlays.is_empty() {
                let failed = weft_engine::asserts::check_assertions(&ir, &sources);
                if !failed.is_empty() {
                    eprint!("{}", out::diagnostics(&failed, &sources));
                }
                let errors = failed.iter().filter(|d| d.is_error()).count();
                if errors > 0 {
                    eprintln!(
                        "error: the parameters given break {} of the policy",
                        out::plural(errors, "assertion", "assertions")
                    );
                    return Err(1);
                }
            }
            Ok(Loaded { sources, ir, pack })
        }
        Err(e) => {
            eprintln!("internal error while lowering the policy: {}", e.0);
            Err(1)
        }
    }
}

fn print_warnings(diags: &[Diagnostic], sources: &SourceMap) {
    if !diags.is_empty() {
        eprint!("{}", out::diagnostics(diags, sources));
    }
}

/// `NAME=FILE` arguments → `(name, file)`: each input named once, each
/// file a regular file (`weft_engine::inputs::check_input`). `Err(exit
/// code)` after a message.
pub fn input_specs(specs: &[String]) -> Result<Vec<(String, std::path::PathBuf)>, i32> {
    let mut out: Vec<(String, std::path::PathBuf)> = Vec::new();
    for spec in specs {
        let Some((name, path)) = spec.split_once('=') else {
            eprintln!("error: `--input {spec}` should be NAME=FILE");
            return Err(2);
        };
        let path = std::path::PathBuf::from(path);
        if let Some((_, first)) = out.iter().find(|(n, _)| n == name) {
            eprintln!(
                "error: the input `{name}` is given twice ({} and {}); give each input once (`--{name} FILE` and `--input {name}=FILE` are the same)",
                first.display(),
                path.display()
            );
            return Err(2);
        }
        if let Err(e) = weft_engine::inputs::check_input(&path) {
            eprintln!("error: {e}");
            return Err(1);
        }
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
pub fn init_threads(threads: Option<usize>) -> Result<(), i32> {
    let max = max_threads();
    match threads {
        Some(0) => {
            eprintln!("error: --threads must be at least 1");
            return Err(2);
        }
        Some(t) if t > max => {
            eprintln!(
                "error: --threads {t} is more than {max} (four per core on this machine); more threads than that only take memory"
            );
            return Err(2);
        }
        _ => {}
    }
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build_global()
    {
        Ok(()) => Ok(()),
        Err(e) => {
            eprintln!(
                "error: cannot start {} evaluation threads: {e}; try fewer with --threads",
                threads
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "the".into())
            );
            Err(1)
        }
    }
}

/// `YYYY-MM` → the first day of that month.
pub fn parse_month(s: &str) -> Result<i32, i32> {
    match weft_syntax::num::parse_month(s) {
        Some(d) => Ok(d),
        None => {
            eprintln!("error: `{s}` is not a month; write it as YYYY-MM, e.g. 2018-08");
            Err(2)
        }
    }
}
