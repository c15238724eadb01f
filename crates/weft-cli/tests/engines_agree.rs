//! The JIT and the interpreter agree cell for cell — values and error rows —
//! over the example population and a larger synthetic one, at several
//! months (including months where standards change and the 2019-07-01
//! switch).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(pop: &Path, month: &str, engine: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .current_dir(root())
        .arg("run")
        .arg("policies/jilin")
        .arg("--persons")
        .arg(pop.join("persons.csv"))
        .arg("--households")
        .arg(pop.join("households.csv"))
        .args(["--as-of", month, "--quiet", "--engine", engine, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{engine} {month}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn compare(pop: &Path, months: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    for month in months {
        let a = tmp.path().join(format!("interp-{month}"));
        let b = tmp.path().join(format!("jit-{month}"));
        run(pop, month, "interp", &a);
        run(pop, month, "jit", &b);
        for f in ["persons.csv", "households.csv", "errors.csv"] {
            let x = std::fs::read_to_string(a.join(f)).unwrap();
            let y = std::fs::read_to_string(b.join(f)).unwrap();
            if x != y {
                let line = x
                    .lines()
                    .zip(y.lines())
                    .position(|(p, q)| p != q)
                    .unwrap_or(0);
                panic!(
                    "{month} {f}: the engines differ at line {}:\n  interp: {}\n  jit:    {}",
                    line + 1,
                    x.lines().nth(line).unwrap_or(""),
                    y.lines().nth(line).unwrap_or("")
                );
            }
        }
    }
}

#[test]
fn on_the_example_population() {
    compare(
        &root().join("examples/population"),
        &[
            "2017-06", "2018-01", "2018-06", "2018-07", "2019-06", "2019-07", "2019-12",
        ],
    );
}

#[test]
fn on_a_larger_synthetic_population() {
    let tmp = tempfile::tempdir().unwrap();
    let pop = tmp.path().join("pop");
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .current_dir(root())
        .args([
            "synth",
            "policies/jilin",
            "--households",
            "8000",
            "--seed",
            "99",
            "--as-of",
            "2019-12",
            "--sample",
            "0",
            "--out",
        ])
        .arg(&pop)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    compare(&pop, &["2018-08", "2019-08"]);
}
