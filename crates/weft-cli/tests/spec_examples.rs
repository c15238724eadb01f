//! The worked examples of the Jilin specification (spec §6), run through
//! `weft run` and compared with the expected outputs cell for cell (in
//! `errors.csv`, the columns `file, line, record_id, column`; messages are
//! free).
//!
//! The examples are a copy of `../shared/spec/examples` in
//! `tests/jilin/spec-examples`; `the_copy_matches_the_shared_spec` fails
//! loudly when the two differ.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> PathBuf {
    root().join("tests/jilin/spec-examples")
}

fn run(dir: &Path, month: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(root().join("policies/jilin"))
        .arg("--persons")
        .arg(dir.join("persons.csv"))
        .arg("--households")
        .arg(dir.join("households.csv"))
        .arg("--as-of")
        .arg(month)
        .arg("--out")
        .arg(&target)
        .arg("--quiet")
        .arg("--engine")
        .arg(std::env::var("WEFT_ENGINE").unwrap_or_else(|_| "interp".into()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "weft run failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn first_four(csv: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().take(4).map(|s| s.to_string()).collect())
        .collect()
}

fn check(dir: &Path, month: &str) {
    let out = run(dir, month);
    let got = out.path().join("out");
    let want = dir.join(format!("expected-{month}"));
    for f in ["persons.csv", "households.csv"] {
        assert_eq!(
            read(&got.join(f)),
            read(&want.join(f)),
            "{} {month} {f}",
            dir.display()
        );
    }
    assert_eq!(
        first_four(&read(&got.join("errors.csv"))),
        first_four(&read(&want.join("errors.csv"))),
        "{} {month} errors.csv",
        dir.display()
    );
    assert!(got.join("manifest.json").exists());
}

#[test]
fn four_households_2018_01() {
    check(&examples(), "2018-01");
}

#[test]
fn four_households_2018_08() {
    check(&examples(), "2018-08");
}

#[test]
fn four_households_2019_08() {
    check(&examples(), "2019-08");
}

#[test]
fn population_small_2018_08() {
    check(&examples().join("population-small"), "2018-08");
}

#[test]
fn population_small_2019_08() {
    check(&examples().join("population-small"), "2019-08");
}

#[test]
fn faulty_rows_2018_08() {
    check(&examples().join("errors"), "2018-08");
}

fn files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, base, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

#[test]
fn the_copy_matches_the_shared_spec() {
    let shared = root().join("../shared/spec/examples");
    if !shared.exists() {
        eprintln!("note: ../shared/spec/examples is not here; the copy cannot be compared");
        return;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    files(&examples(), &examples(), &mut a);
    files(&shared, &shared, &mut b);
    assert_eq!(
        a, b,
        "\n\n*** tests/jilin/spec-examples no longer has the files of ../shared/spec/examples: copy them again ***\n"
    );
    for f in &a {
        assert_eq!(
            std::fs::read(examples().join(f)).unwrap(),
            std::fs::read(shared.join(f)).unwrap(),
            "\n\n*** {} differs from ../shared/spec/examples: the specification changed; copy it again and review the differences ***\n",
            f.display()
        );
    }
}
