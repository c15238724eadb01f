//! Reading a policy pack: from a directory, or from sources held in memory.
//!
//! A pack is a directory of `.weft` files (each a module named by its path
//! without `.weft`, `/` written as `.`) and parameter data files (`.toml`,
//! `.csv`) anywhere below it. Files are read in sorted path order, so module
//! and diagnostic order never depend on the file system.

use std::path::{Path, PathBuf};
pub use weft_check::pack::{PackSources, compile_sources, module_name};

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

/// Reading packs from the file system.
pub trait PackFiles: Sized {
    fn from_dir(dir: &Path) -> std::io::Result<Self>;
    fn add_overlay(&mut self, path: &Path) -> std::io::Result<()>;
}

impl PackFiles for PackSources {
    /// Read every `.weft`, `.toml` and `.csv` file below `dir`.
    fn from_dir(dir: &Path) -> std::io::Result<PackSources> {
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
    fn add_overlay(&mut self, path: &Path) -> std::io::Result<()> {
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
