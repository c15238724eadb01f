//! The `weft` command is a front end on the `weft` crate's public API:
//! it depends on no crate of the pipeline below it, so whatever it needs
//! is API every embedder has too.
//!
//! One crate besides `weft` is allowed: `weft-lsp`, the language server
//! behind `weft lsp`. It is not below the API but beside the command, a
//! front end on `weft` alone (its own `tests/on_the_api.rs` holds it to
//! that); it cannot be re-exported by `weft`, which it depends on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The names of a Cargo.toml section's keys (`[dependencies]`).
fn section_keys(toml: &str, section: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut inside = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == section;
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            if let Some((k, _)) = line.split_once('=') {
                keys.push(k.trim().split('.').next().unwrap().to_string());
            }
        }
    }
    keys
}

#[test]
fn the_command_depends_on_the_weft_crate_and_nothing_below_it() {
    let toml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let deps = section_keys(&toml, "[dependencies]");
    assert!(deps.contains(&"weft".to_string()), "{deps:?}");
    let inner: Vec<&String> = deps
        .iter()
        .filter(|d| d.starts_with("weft-") && *d != "weft-lsp")
        .collect();
    assert!(
        inner.is_empty(),
        "weft-cli reaches past the API into {inner:?}; make what it needs API of `crates/weft`"
    );
    // And no source file names an inner crate.
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line
                        .split("//")
                        .next()
                        .unwrap_or("")
                        .replace("weft_lsp::", "");
                    assert!(!code.contains("weft_"), "{}:{}: {line}", p.display(), n + 1);
                }
            }
        }
    }
}
