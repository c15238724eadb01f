//! `weft fmt`: format policy files in place, check that they are formatted
//! (`--check`), or format standard input (`--stdin`).
//!
//! The layout is described in the language reference (`weft_syntax::fmt`
//! implements it; [`weft::fmt::format_source`] is its API). A file that
//! does not parse is left as it is and reported (exit 1).

use crate::error::{CliError, CliResult};
use crate::out;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use weft::fmt::{FormatError, format_source};

#[derive(clap::Args, Clone)]
pub struct FmtArgs {
    /// Files or directories (every `*.weft` file below them).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted and exit 1 if
    /// there are any.
    #[arg(long)]
    pub check: bool,
    /// Format the text on standard input and write it to standard output.
    #[arg(long, conflicts_with = "paths")]
    pub stdin: bool,
}

/// Formatting runs on a thread with a large stack, like checking, so that
/// deeply nested input cannot overflow it.
const STACK: usize = 256 * 1024 * 1024;

pub fn fmt(args: &FmtArgs) -> CliResult {
    let args = args.clone();
    let run = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || fmt_on_thread(&args));
    match run.map(|h| h.join()) {
        Ok(Ok(result)) => result,
        _ => {
            eprintln!("internal error: the formatter stopped");
            Err(CliError::Reported)
        }
    }
}

fn fmt_on_thread(args: &FmtArgs) -> CliResult {
    if args.stdin {
        return fmt_stdin(args.check);
    }
    if args.paths.is_empty() {
        return Err(CliError::Usage(
            "give the files or directories to format, or --stdin".into(),
        ));
    }
    let mut files = Vec::new();
    for p in &args.paths {
        if let Err(e) = collect(p, &mut files) {
            return Err(CliError::Failed(format!(
                "cannot read {}: {e}",
                p.display()
            )));
        }
    }
    let mut failed = 0usize;
    let mut changed = 0usize;
    for path in &files {
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                eprintln!(
                    "error: {} is not UTF-8 text; left unchanged",
                    path.display()
                );
                failed += 1;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                failed += 1;
                continue;
            }
        };
        let formatted = match format_source(&path.display().to_string(), &text) {
            Ok(f) => f,
            Err(e) => {
                report(&path.display().to_string(), &e);
                failed += 1;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if args.check {
            println!("{}", path.display());
        } else if let Err(e) = write_atomic(path, &formatted) {
            // `cannot write PATH: REASON`
            eprintln!("error: {e}");
            failed += 1;
        }
    }
    if args.check {
        if changed > 0 {
            eprintln!(
                "{} not formatted (run `weft fmt` on {})",
                out::plural(changed, "file is", "files are"),
                if changed == 1 { "it" } else { "them" }
            );
        }
    } else if changed > 0 {
        eprintln!("formatted {}", out::plural(changed, "file", "files"));
    }
    if failed > 0 {
        eprintln!(
            "error: {} left unchanged",
            out::plural(failed, "file", "files")
        );
    }
    if failed > 0 || (args.check && changed > 0) {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

fn fmt_stdin(check: bool) -> CliResult {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        return Err(CliError::Failed(format!("cannot read standard input: {e}")));
    }
    let (result, outcome) = match format_source("<stdin>", &text) {
        Ok(f) => {
            if check {
                if f != text {
                    println!("<stdin>");
                    return Err(CliError::Reported);
                }
                return Ok(());
            }
            (f, Ok(()))
        }
        Err(e) => {
            report("<stdin>", &e);
            if check {
                return Err(CliError::Reported);
            }
            // Unchanged, so that a pipe does not lose the text.
            (text, Err(CliError::Reported))
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(result.as_bytes())
        .and_then(|_| stdout.flush())
    {
        // A reader that went away (`| head`) is not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(CliError::Reported),
        _ => {}
    }
    outcome
}

fn report(name: &str, e: &FormatError) {
    match e {
        FormatError::Syntax(diags) => {
            eprint!("{}", out::diagnostics(diags));
            eprintln!("error: {name} does not parse; left unchanged");
        }
        FormatError::Internal(m) => {
            eprintln!(
                "error: {name}: the formatter could not format it safely ({m}); left unchanged"
            );
        }
        _ => eprintln!("error: {name}: {e}; left unchanged"),
    }
}

/// `path` itself if it is a file; every `*.weft` file below it, in order,
/// if it is a directory (hidden directories skipped).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            collect(&p, out)?;
        } else if name.ends_with(".weft") && (m.is_file() || m.file_type().is_symlink()) {
            out.push(p);
        }
    }
    Ok(())
}

/// Write through a temporary file in the same directory, then rename it
/// over the original (keeping its mode), so a reader never sees half a
/// file; the temporary file is removed on an error or a signal
/// ([`weft::files::write_atomic`]).
fn write_atomic(path: &Path, text: &str) -> Result<(), weft::Error> {
    weft::files::write_atomic(path, text.as_bytes())
}
