//! `weft fmt` never changes meaning: every policy of the repository (and the
//! formatter's messy corpus) is formatted in memory, and the pack compiled
//! before and after must give the same diagnostics (number and codes) and
//! the same lowered IR (nodes, instances, parameter values; spans aside).
//! Formatting twice changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_check::pack::{PackSources, compile_sources};
use weft_syntax::fmt::format_source;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every policy directory of the repository.
fn packs() -> Vec<PathBuf> {
    let r = root();
    let mut v = vec![
        r.join("policies/jilin"),
        r.join("crates/weft-syntax/tests/fmt_corpus"),
    ];
    v.extend(subdirs(&r.join("tests/lang")));
    v.extend(subdirs(&r.join("tests/run")));
    v.extend(subdirs(&r.join("docs/tutorial")));
    v
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for p in subdirs_and_files(dir) {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn subdirs_and_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The pack as `weft check` reads it: `.weft` modules, `.toml`/`.csv`
/// parameter files.
fn read_pack(dir: &Path) -> PackSources {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut pack = PackSources::default();
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
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if ext == "weft" {
            pack.modules.push((rel, text));
        } else {
            pack.params.push((rel, text));
        }
    }
    pack
}

/// An instance: name, kind, versions (effective date, node).
type InstanceMeaning = (String, weft_ir::InstKind, Vec<(i32, weft_ir::NodeId)>);
/// A parameter: name, versions (effective date, values).
type ParamMeaning = (String, Vec<(i32, Vec<Option<weft_check::hir::PVal>>)>);

/// What must not change: diagnostics (code, level), and when the pack
/// checks, the lowered program without spans.
#[derive(Debug, PartialEq)]
struct Meaning {
    diags: Vec<(String, bool)>,
    nodes: Option<Vec<weft_ir::Node>>,
    instances: Vec<InstanceMeaning>,
    params: Vec<ParamMeaning>,
}

fn meaning(pack: &PackSources) -> Meaning {
    let (_, program, diags) = compile_sources(pack);
    let errors = diags.iter().any(|d| d.is_error());
    let mut m = Meaning {
        diags: diags
            .iter()
            .map(|d| (d.code.to_string(), d.is_error()))
            .collect(),
        nodes: None,
        instances: Vec::new(),
        params: Vec::new(),
    };
    if errors {
        return m;
    }
    let ir =
        weft_ir::lower::lower(Arc::new(program)).unwrap_or_else(|e| panic!("lowering: {}", e.0));
    m.instances = ir
        .instances
        .iter()
        .map(|i| (i.name.clone(), i.kind.clone(), i.versions.clone()))
        .collect();
    m.params = ir
        .hir
        .params
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.versions
                    .iter()
                    .map(|v| (v.effective, v.values.clone()))
                    .collect(),
            )
        })
        .collect();
    m.nodes = Some(ir.nodes);
    m
}

#[test]
fn formatting_never_changes_meaning() {
    let packs = packs();
    assert!(packs.len() > 20, "the repository's policies were not found");
    let mut files = 0;
    let mut changed = 0;
    for dir in packs {
        let before = read_pack(&dir);
        let mut after = before.clone();
        for (name, text) in &mut after.modules {
            let out =
                format_source(text).unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()));
            let again = format_source(&out)
                .unwrap_or_else(|e| panic!("{}/{name} (again): {e}", dir.display()));
            assert_eq!(
                again,
                out,
                "{}/{name}: formatting is not idempotent",
                dir.display()
            );
            files += 1;
            if out != *text {
                changed += 1;
            }
            *text = out;
        }
        let (mb, ma) = (meaning(&before), meaning(&after));
        assert!(
            mb.nodes.is_some() || !mb.diags.is_empty(),
            "{}: nothing compiled",
            dir.display()
        );
        assert_eq!(mb, ma, "{}: formatting changed the meaning", dir.display());
    }
    // The corpus at least must have changed, or this tests nothing.
    assert!(
        files > 40 && changed >= 7,
        "{files} files, {changed} changed"
    );
}

#[test]
fn the_comparison_sees_a_change_of_meaning() {
    // A guard against a comparison that could never fail.
    let before = read_pack(&root().join("policies/jilin"));
    let mut after = before.clone();
    for (name, text) in &mut after.modules {
        if name == "dibao.weft" {
            assert!(text.contains("age(p) >= 60"));
            *text = text.replacen("age(p) >= 60", "age(p) >= 61", 1);
        }
    }
    assert_ne!(meaning(&before), meaning(&after));
}
