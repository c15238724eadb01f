//! The corpus of typical drafter mistakes: one small policy per directory
//! under `tests/mistakes/`, each with one mistake, and the one diagnostic it
//! must give (one mistake, one error). The snapshot holds the diagnostic as
//! `weft check` renders it (no colour, 80 columns).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use weft_check::pack::{PackSources, compile_sources};
use weft_msg::Lang;
use weft_syntax::diag::render_plain;

fn read_pack(dir: &Path) -> PackSources {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut pack = PackSources::default();
    for f in files {
        let rel = f
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).unwrap();
        if rel.ends_with(".weft") {
            pack.modules.push((rel, text));
        } else {
            pack.params.push((rel, text));
        }
    }
    pack
}

fn cases() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mistakes");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn each_mistake_gives_one_diagnostic() {
    let mut wrong = Vec::new();
    for dir in cases() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (sources, _, diags) =
            weft_msg::with_lang(Lang::En, || compile_sources(&read_pack(&dir)));
        let text = render_plain(&diags, &sources);
        if diags.len() != 1 {
            wrong.push(format!("{name}: {} diagnostics\n{text}", diags.len()));
        }
        insta::assert_snapshot!(name, text);
    }
    assert!(
        wrong.is_empty(),
        "not one mistake, one error:\n\n{}",
        wrong.join("\n")
    );
}

/// The same corpus in Chinese: the same single diagnostic, with the same
/// code, in words a drafter reads.
#[test]
fn each_mistake_in_chinese() {
    for dir in cases() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let en = weft_msg::with_lang(Lang::En, || compile_sources(&read_pack(&dir)).2);
        let (sources, _, diags) =
            weft_msg::with_lang(Lang::ZhCn, || compile_sources(&read_pack(&dir)));
        let codes = |d: &[weft_syntax::Diagnostic]| d.iter().map(|x| x.code).collect::<Vec<_>>();
        assert_eq!(codes(&diags), codes(&en), "{name}");
        insta::assert_snapshot!(format!("zh_{name}"), render_plain(&diags, &sources));
    }
}
