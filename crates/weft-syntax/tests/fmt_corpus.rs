//! `weft fmt` over a corpus of deliberately messy files
//! (`tests/fmt_corpus/*.weft`): the formatted text of each is a reviewed
//! insta snapshot, formatting it again changes nothing, and a file that does
//! not parse is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

use std::path::PathBuf;
use weft_syntax::fmt::{FmtError, format_source};

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fmt_corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "weft"));
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, text)
        })
        .collect()
}

#[test]
fn corpus_snapshots() {
    let files = corpus();
    assert!(files.len() >= 7, "the corpus is missing");
    for (name, text) in files {
        let out = format_source(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = format_source(&out).unwrap_or_else(|e| panic!("{name} (second pass): {e}"));
        assert_eq!(again, out, "{name}: formatting is not idempotent");
        assert!(
            out.ends_with('\n') && !out.ends_with("\n\n"),
            "{name}: final newline"
        );
        assert!(!out.contains('\r'), "{name}: CRLF left");
        assert!(
            out.lines().all(|l| !l.ends_with(' ') && !l.ends_with('\t')),
            "{name}: trailing white space"
        );
        insta::assert_snapshot!(format!("fmt_{name}"), out);
    }
}

#[test]
fn the_corpus_is_messy() {
    // Each corpus file must need formatting, or it tests nothing.
    for (name, text) in corpus() {
        let out = format_source(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(out, text, "{name} is already formatted");
    }
}

#[test]
fn unparseable_files_are_refused() {
    for bad in [
        "rule x: Int = (1 +\n",
        "rule x: Int = 1 +\n",
        "table t(p: P): Int\n  hit first\n  | a => \n",
        "rule x: Int = １\n",
        "rule x（p: P）: Int = 1\n",
        "test \"unclosed as of 2020-01 {\n}\n",
    ] {
        match format_source(bad) {
            Err(FmtError::Syntax(d)) => assert!(!d.is_empty(), "{bad:?}"),
            other => panic!("{bad:?} should not be formatted: {other:?}"),
        }
    }
}

#[test]
fn small_cases() {
    let cases = [
        // Empty and blank files.
        ("", ""),
        ("\n\n  \n", ""),
        ("// only a comment", "// only a comment\n"),
        // A byte-order mark is dropped.
        ("\u{FEFF}rule x: Int = 1\n", "rule x: Int = 1\n"),
        // `..=` before `>` is a range then an arrow.
        (
            "scale s(x: Money): Money\n  flat\n  | ¥0..=> ¥1\n",
            "scale s(x: Money): Money\n  flat\n  | ¥0.. => ¥1\n",
        ),
        // Doc comments keep their text; a doc at the end of a line belongs
        // to the next item and stays where it is.
        (
            "///no space\nrule x: Int = 1\n",
            "///no space\nrule x: Int = 1\n",
        ),
        (
            "rule x: Int = 1 /// doc of y\nrule y: Int = 2\n",
            "rule x: Int = 1 /// doc of y\nrule y: Int = 2\n",
        ),
        // A test marker pointing at the line above stays under it.
        (
            "rule a: Int = x\n//~^ E0201\nrule b: Int = 2 +\n  y\n//~^ E0201\nrule c: Int = 3\n",
            "rule a: Int = x\n//~^ E0201\n\nrule b: Int = 2 +\n  y\n  //~^ E0201\n\nrule c: Int = 3\n",
        ),
        // A table cell `-` (any value) and negative numbers.
        (
            "table t(p: P): Int\n  hit first\n  given p.a\n  | - => -1\n  | -1 => 1\n",
            "table t(p: P): Int\n  hit first\n  given p.a\n  | -  => -1\n  | -1 => 1\n",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            format_source(input).ok().as_deref(),
            Some(want),
            "{input:?}"
        );
    }
}

/// Every `.weft` file of the repository.
fn repository_files() -> Vec<PathBuf> {
    fn walk(d: &std::path::Path, out: &mut Vec<PathBuf>) {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.sort();
        for p in v {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "weft") {
                out.push(p);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for d in [
        "policies",
        "tests/lang",
        "tests/run",
        "crates/weft-syntax/tests/fmt_corpus",
    ] {
        walk(&root.join(d), &mut out);
    }
    out
}

#[test]
fn reindented_files_still_format() {
    // Every file of the repository with its lines re-indented at random,
    // the spaces between tokens widened, trailing blanks, blank lines and
    // CRLF line ends added: the formatter must still
    // format it (no internal error), and formatting must be idempotent.
    let mut seed: u64 = 0x5eed_f00d;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let files = repository_files();
    assert!(files.len() > 40);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        for round in 0..3 {
            let mut messy = String::new();
            for line in text.lines() {
                let body = line.trim_start_matches([' ', '\t']);
                for _ in 0..next(4) / 3 {
                    messy.push('\n');
                }
                for _ in 0..next(9) {
                    messy.push(if next(5) == 0 { '\t' } else { ' ' });
                }
                // Widen the spaces between tokens (outside strings and
                // comments): one space, two, or a tab.
                let mut in_str = false;
                let mut prev = ' ';
                for (i, c) in body.char_indices() {
                    if !in_str && body[i..].starts_with("//") {
                        messy.push_str(&body[i..]);
                        break;
                    }
                    if c == '"' && prev != '\\' {
                        in_str = !in_str;
                    }
                    if c == ' ' && !in_str {
                        messy.push_str(["  ", "\t", " "][next(3) as usize]);
                    } else {
                        messy.push(c);
                    }
                    prev = c;
                }
                if next(6) == 0 {
                    messy.push_str("  ");
                }
                messy.push_str(if next(7) == 0 { "\r\n" } else { "\n" });
            }
            let out = format_source(&messy)
                .unwrap_or_else(|e| panic!("{} (round {round}): {e}\n{messy}", path.display()));
            let again = format_source(&out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                again,
                out,
                "{} (round {round}): not idempotent",
                path.display()
            );
        }
    }
}
