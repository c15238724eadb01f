//! `weft test POLICY --yaml DIR`: OpenFisca YAML tests from the command
//! line (the repository's own YAML tests of the runner, against the port
//! of the OpenFisca country template).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn weft(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn shown(code: i32, stdout: &str, stderr: &str) -> String {
    format!("exit code: {code}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
}

#[test]
fn yaml_tests_report_like_weft_test() {
    let (code, stdout, stderr) = weft(&[
        "test",
        "policies/country-template",
        "--yaml",
        "crates/weft/tests/openfisca",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    insta::assert_snapshot!(shown(code, &stdout, &stderr));
}

#[test]
fn a_filter_keeps_the_passing_tests() {
    let (code, stdout, stderr) = weft(&[
        "test",
        "policies/country-template",
        "--yaml",
        "crates/weft/tests/openfisca/runner.yaml",
        "--engine",
        "interp",
        "--filter",
        "passes",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("test result: ok. 13 passed; 0 failed;"),
        "{stdout}"
    );
    assert!(stdout.contains("on interp\n"), "{stdout}");
}

#[test]
fn yaml_and_coverage_do_not_go_together() {
    let (code, _, stderr) = weft(&[
        "test",
        "policies/country-template",
        "--yaml",
        "crates/weft/tests/openfisca",
        "--coverage",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--coverage"), "{stderr}");
}

#[test]
fn a_missing_directory_is_an_error() {
    let (code, stdout, stderr) =
        weft(&["test", "policies/country-template", "--yaml", "no/such/dir"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("no/such/dir"), "{stdout}{stderr}");
}
