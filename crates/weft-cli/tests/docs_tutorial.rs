//! Keeps `docs/tutorial.md` true: the tutorial's finished policy
//! (`docs/tutorial/heating`) checks cleanly, its tests pass on both
//! engines, and the proposal the tutorial diffs against is a valid overlay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn weft(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .env("NO_COLOR", "1")
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

const POLICY: &str = "docs/tutorial/heating";

#[test]
fn the_tutorial_policy_checks_without_diagnostics() {
    let (code, out, err) = weft(&["check", POLICY]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("0 warnings") || err.contains("0 warnings"),
        "the tutorial shows a check without warnings:\n{out}{err}"
    );
}

#[test]
fn the_tutorial_tests_pass_on_both_engines() {
    let (code, out, err) = weft(&["test", POLICY]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("test result: ok. 5 passed; 0 failed"),
        "{out}{err}"
    );
}

#[test]
fn the_tutorial_proposal_is_a_valid_overlay() {
    let (code, out, err) = weft(&[
        "check",
        POLICY,
        "--params",
        "docs/tutorial/proposal-2024.toml",
    ]);
    assert_eq!(code, 0, "{out}{err}");
}
