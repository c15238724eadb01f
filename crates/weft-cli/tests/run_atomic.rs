//! `weft run` never leaves a partial file under a final name: killed in the
//! middle of a run, the output directory has no results (and a rerun works,
//! removing what the killed run left); refused when the output directory is
//! not empty. (The lock, crashes at each step of a replacement, signals and
//! the rest of issue 12 are in `run_commit.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn weft() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.env("NO_COLOR", "1");
    c
}

fn policy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin")
}

fn synth(dir: &Path, households: u64) {
    let st = weft()
        .arg("synth")
        .arg(policy())
        .args([
            "--households",
            &households.to_string(),
            "--seed",
            "3",
            "--as-of",
            "2019-08",
            "--sample",
            "0",
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn a_killed_run_leaves_no_partial_output() {
    let tmp = tempfile::tempdir().unwrap();
    let pop = tmp.path().join("pop");
    synth(&pop, 20_000);
    let out = tmp.path().join("out");
    let mut child = weft()
        .arg("run")
        .arg(policy())
        .arg("--persons")
        .arg(pop.join("persons.csv"))
        .arg("--households")
        .arg(pop.join("households.csv"))
        .args([
            "--as-of",
            "2019-08",
            "--quiet",
            "--engine",
            "interp",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once its temporary directory exists (the run has started
    // writing) — or after a while.
    let start = Instant::now();
    let mut saw_tmp = false;
    while start.elapsed() < Duration::from_secs(60) {
        let tmp_exists = std::fs::read_dir(tmp.path()).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".out.weft-stage-")
        });
        if tmp_exists {
            saw_tmp = true;
            std::thread::sleep(Duration::from_millis(200));
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let finished_before_kill = child.try_wait().unwrap().is_some();
    child.kill().ok();
    child.wait().unwrap();
    assert!(saw_tmp, "the run never created its temporary directory");
    assert!(
        !finished_before_kill,
        "the run finished before it could be killed: make the population larger"
    );
    for f in [
        "persons.csv",
        "households.csv",
        "errors.csv",
        "manifest.json",
    ] {
        assert!(
            !out.join(f).exists(),
            "{f} exists under the final name after a killed run"
        );
    }
    // A rerun succeeds and removes the killed run's staging directory.
    let st = weft()
        .arg("run")
        .arg(policy())
        .arg("--persons")
        .arg(pop.join("persons.csv"))
        .arg("--households")
        .arg(pop.join("households.csv"))
        .args([
            "--as-of", "2019-08", "--quiet", "--engine", "interp", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(out.join("manifest.json").exists());
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_non_empty_output_directory_is_refused_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/jilin/spec-examples");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let run = |force: bool| {
        let mut c = weft();
        c.arg("run")
            .arg(policy())
            .arg("--persons")
            .arg(ex.join("persons.csv"))
            .arg("--households")
            .arg(ex.join("households.csv"))
            .args([
                "--as-of", "2018-08", "--quiet", "--engine", "interp", "--out",
            ])
            .arg(&out);
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    let refused = run(false);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    assert!(!out.join("persons.csv").exists());
    // --force replaces a result, and only a result: a file of another
    // kind is refused, and kept.
    let forced = run(true);
    assert_eq!(forced.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&forced.stderr)
            .contains("`keep.txt`, which is not part of a Weft result"),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(out.join("keep.txt")).unwrap();
    assert!(run(false).status.success());
    assert!(run(true).status.success());
    assert!(out.join("persons.csv").exists());
}

#[test]
fn fail_fast_writes_nothing_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/jilin/spec-examples/errors");
    let out = tmp.path().join("out");
    let st = weft()
        .arg("run")
        .arg(policy())
        .arg("--persons")
        .arg(ex.join("persons.csv"))
        .arg("--households")
        .arg(ex.join("households.csv"))
        .args([
            "--as-of",
            "2018-08",
            "--quiet",
            "--engine",
            "interp",
            "--fail-fast",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        st.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
    // Leftover temporary directories are removed on a stop.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.iter().all(|n| !n.to_string_lossy().starts_with('.')),
        "{left:?}"
    );
}
