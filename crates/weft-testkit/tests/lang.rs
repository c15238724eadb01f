//! Runs every policy under `tests/lang/`.
//!
//! A policy whose files carry no error markers must check cleanly (after
//! its assertions are checked too), have at least one `test` block, and
//! pass all of them on the reference interpreter. A policy with markers
//! (`//~ CODE` in `.weft`, `#~ CODE` in `.toml`, on the line where the
//! diagnostic's primary label starts) must produce exactly those
//! diagnostics, warnings included; if it still has no errors, its tests
//! run as well.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use weft_check::pack::compile_sources;
use weft_engine::engines::EngineKind;
use weft_engine::testing::run_tests;
use weft_testkit::{Marker, lang_dir, markers, read_pack};

/// Check one policy directory; `Err` lists what went wrong.
fn run_policy(dir: &Path) -> Result<String, String> {
    let pack = read_pack(dir).map_err(|e| format!("cannot read: {e}"))?;
    let expected = markers(&pack);
    let (sources, program, mut diags) = compile_sources(&pack);
    let errors = diags.iter().any(|d| d.is_error());
    let mut ir = None;
    if !errors {
        let lowered = weft_ir::lower::lower(Arc::new(program))
            .map_err(|e| format!("lowering failed: {}", e.0))?;
        diags.extend(weft_engine::asserts::check_assertions(&lowered, &sources));
        ir = Some(lowered);
    }
    let mut got: Vec<Marker> = diags
        .iter()
        .map(|d| {
            let (file, line) = match d.span() {
                Some(s) => (
                    sources.name(s.file).to_string(),
                    sources.line_col(s.file, s.start).0,
                ),
                None => (String::new(), 0),
            };
            Marker {
                file,
                line,
                code: d.code.to_string(),
            }
        })
        .collect();
    got.sort();
    let mut problems = Vec::new();
    if got != expected {
        let rendered = weft_syntax::diag::render_plain(&diags, &sources);
        let mut want: BTreeMap<&Marker, i32> = BTreeMap::new();
        for m in &expected {
            *want.entry(m).or_default() += 1;
        }
        for m in &got {
            *want.entry(m).or_default() -= 1;
        }
        for (m, n) in want {
            if n > 0 {
                problems.push(format!("missing {} at {}:{}", m.code, m.file, m.line));
            } else if n < 0 {
                problems.push(format!("unexpected {} at {}:{}", m.code, m.file, m.line));
            }
        }
        problems.push(format!("diagnostics:\n{rendered}"));
    }
    let mut summary = format!("{} diagnostics", got.len());
    if let Some(ir) = ir {
        let outcomes = run_tests(&ir, EngineKind::Interp);
        if outcomes.is_empty() && expected.iter().all(|m| m.code.starts_with('W')) {
            problems
                .push("no test block: a policy that checks cleanly must test its semantics".into());
        }
        let mut expectations = 0;
        for o in &outcomes {
            expectations += o.expectations;
            for f in &o.failures {
                let (l, c) = sources.line_col(f.span.file, f.span.start);
                problems.push(format!(
                    "test `{}` failed at {}:{l}:{c}: expectation {}: {}",
                    o.name,
                    sources.name(f.span.file),
                    f.expect,
                    f.message
                ));
            }
        }
        summary = format!(
            "{summary}, {} tests, {expectations} expectations",
            outcomes.len()
        );
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn every_lang_policy() {
    let mut dirs: Vec<_> = std::fs::read_dir(lang_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() > 3,
        "tests/lang should hold the construct policies"
    );
    let only = std::env::var("WEFT_LANG").ok();
    let mut failed = Vec::new();
    for d in &dirs {
        let name = d.file_name().unwrap().to_string_lossy().to_string();
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        match run_policy(d) {
            Ok(s) => println!("tests/lang/{name}: ok ({s})"),
            Err(e) => {
                println!("tests/lang/{name}: FAILED\n{e}\n");
                failed.push(name);
            }
        }
    }
    assert!(failed.is_empty(), "failed: {}", failed.join(", "));
}
