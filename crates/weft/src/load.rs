//! Reading a policy pack: from a directory, or from sources held in memory.
//!
//! A pack is a directory of `.weft` files (each a module named by its path
//! without `.weft`, `/` written as `.`) and parameter data files (`.toml`,
//! `.csv`) anywhere below it. Files are read in sorted path order, so module
//! and diagnostic order never depend on the file system.

use std::path::{Path, PathBuf};
use weft_check::{ModuleSource, ParamSource};
use weft_syntax::{Diagnostic, SourceMap, Span};

/// The text of a policy pack, before parsing.
#[derive(Debug, Clone, Default)]
pub struct PackSources {
    /// `(path relative to the pack, text)` of each `.weft` file.
    pub modules: Vec<(String, String)>,
    /// `(path, text)` of each parameter file shipped with the pack.
    pub params: Vec<(String, String)>,
    /// `(path, text)` of parameter files given for one run.
    pub overlays: Vec<(String, String)>,
    /// Files that could not be read as text: `(path, problem)`.
    pub unreadable: Vec<(String, String)>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Read a text file; a file that is not UTF-8 is reported, not lost.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            Err(format!(
                "the file is not valid UTF-8 (first bad byte at offset {at}); save it as UTF-8 (files exported as GB18030 must be converted)"
            ))
        }
    }
}

impl PackSources {
    /// Read every `.weft`, `.toml` and `.csv` file below `dir`.
    pub fn from_dir(dir: &Path) -> std::io::Result<PackSources> {
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        let mut out = PackSources::default();
        for p in files {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "weft" | "toml" | "csv") {
                continue;
            }
            match read_text(&p) {
                Ok(text) => {
                    if ext == "weft" {
                        out.modules.push((rel, text));
                    } else {
                        out.params.push((rel, text));
                    }
                }
                Err(e) => out.unreadable.push((rel, e)),
            }
        }
        if out.modules.is_empty() && out.unreadable.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no .weft files in {}", dir.display()),
            ));
        }
        Ok(out)
    }

    /// Add parameter files for one run: a file, or every `.toml`/`.csv` in a
    /// directory.
    pub fn add_overlay(&mut self, path: &Path) -> std::io::Result<()> {
        let mut files = Vec::new();
        if path.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.to_path_buf());
        }
        for p in files {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "toml" | "csv") {
                continue;
            }
            let name = p.to_string_lossy().replace('\\', "/");
            match read_text(&p) {
                Ok(t) => self.overlays.push((name, t)),
                Err(e) => self.unreadable.push((name, e)),
            }
        }
        Ok(())
    }
}

/// The module name of a file path: `sub/dibao.weft` → `sub.dibao`.
pub fn module_name(path: &str) -> String {
    path.trim_end_matches(".weft").replace('/', ".")
}

/// Parse and check a pack. Runs on a thread with a large stack, so that
/// deeply nested (but within the pre-scan's limits) input cannot overflow.
pub fn compile_sources(src: &PackSources) -> (SourceMap, weft_check::Program, Vec<Diagnostic>) {
    let src = src.clone();
    let run = move || {
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        for (name, problem) in &src.unreadable {
            let id = sources.add(name.clone(), "");
            diags.push(
                Diagnostic::error("E0001", format!("cannot read `{name}`"))
                    .with_label(Span::new(id, 0, 0), "unreadable file")
                    .with_help(problem.clone()),
            );
        }
        let mut modules = Vec::new();
        for (name, text) in &src.modules {
            let id = sources.add(name.clone(), text.as_str());
            let (ast, d) = weft_syntax::parse_module(id, text);
            diags.extend(d);
            modules.push(ModuleSource {
                name: module_name(name),
                file: id,
                ast,
            });
        }
        let mut params = Vec::new();
        for (name, text) in &src.params {
            let id = sources.add(name.clone(), text.as_str());
            params.push(ParamSource {
                file: id,
                overlay: false,
            });
        }
        for (name, text) in &src.overlays {
            let id = sources.add(name.clone(), text.as_str());
            params.push(ParamSource {
                file: id,
                overlay: true,
            });
        }
        let (program, d) = weft_check::check(&sources, modules, &params);
        diags.extend(d);
        weft_check::sort_diagnostics(&mut diags);
        (sources, program, diags)
    };
    match std::thread::Builder::new()
        .name("weft-compile".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(run)
    {
        Ok(h) => match h.join() {
            Ok(r) => r,
            Err(_) => internal_failure(),
        },
        Err(_) => internal_failure(),
    }
}

fn internal_failure() -> (SourceMap, weft_check::Program, Vec<Diagnostic>) {
    (
        SourceMap::new(),
        weft_check::Program::default(),
        vec![Diagnostic::error("E0002", "internal error: the compiler stopped unexpectedly")
            .with_help("please report this with the policy that caused it")],
    )
}
