//! Test harnesses of the Weft language core.
//!
//! The tests of this crate read the top-level `tests/` directory (a virtual
//! workspace compiles no root `tests/*.rs`): `tests/lang/*` are small
//! policies, one per construct of the language, each either checking cleanly
//! with passing `test` blocks or carrying the diagnostics it must produce as
//! `//~ CODE` markers. The library holds what the harnesses, the mutation
//! fuzzer (`src/bin/fuzz.rs`) and the benchmarks share: reading a policy
//! directory into [`PackSources`], the markers, and a small random number
//! generator.
//!
//! Nothing here is used by the product; it must never be a dependency of a
//! crate other than tests and tools.

use std::path::{Path, PathBuf};
use weft_check::pack::PackSources;

pub mod policy_gen;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `tests/lang` directory.
pub fn lang_dir() -> PathBuf {
    root().join("tests/lang")
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

/// Read a policy directory the way `weft` does: every `.weft` file is a
/// module, every `.toml`/`.csv` a parameter file, in sorted path order.
/// Files under a subdirectory named `overlay` are read as overlays (files
/// given for one run with `--params`), which the CLI cannot express in a
/// directory.
pub fn read_pack(dir: &Path) -> std::io::Result<PackSources> {
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
        let bytes = std::fs::read(&p)?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                out.unreadable
                    .push((rel, "the file is not valid UTF-8".into()));
                continue;
            }
        };
        if ext == "weft" {
            out.modules.push((rel, text));
        } else if rel.starts_with("overlay/") {
            out.overlays.push((rel, text));
        } else {
            out.params.push((rel, text));
        }
    }
    Ok(out)
}

/// An expected diagnostic: a marker `//~ CODE` (in `.weft` files) or
/// `#~ CODE` (in `.toml` files) at the end of the line where the
/// diagnostic's primary label starts. `//~^ CODE` points at the line above
/// (one `^` per line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Marker {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub code: String,
}

/// Every marker of a pack.
pub fn markers(pack: &PackSources) -> Vec<Marker> {
    let mut out = Vec::new();
    let files = pack
        .modules
        .iter()
        .map(|f| (f, "//~"))
        .chain(pack.params.iter().map(|f| (f, "#~")))
        .chain(pack.overlays.iter().map(|f| (f, "#~")));
    for ((name, text), tag) in files {
        for (i, line) in text.lines().enumerate() {
            let Some(at) = line.find(tag) else { continue };
            let rest = &line[at + tag.len()..];
            let ups = rest.chars().take_while(|c| *c == '^').count();
            for code in rest[ups..].split_whitespace() {
                out.push(Marker {
                    file: name.clone(),
                    line: (i + 1).saturating_sub(ups),
                    code: code.to_string(),
                });
            }
        }
    }
    out.sort();
    out
}

/// A small deterministic random number generator (SplitMix64), enough for
/// the fuzzer and generated inputs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}
