//! `Policy::run_openfisca_tests` (`weft test --yaml`) on YAML tests written
//! for this repository (tests/openfisca/runner.yaml), against the port of
//! the OpenFisca country template: what passes, and the exact reason of
//! each failure, on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use weft::{Engine, Policy};

fn pack() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/country-template")
}

fn run(engines: &[Engine]) -> Vec<weft::openfisca::YamlTestOutcome> {
    let policy = Policy::from_dir(pack()).unwrap();
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openfisca");
    policy
        .run_openfisca_tests(&pack(), &tests, engines)
        .unwrap()
}

#[test]
fn the_runner_passes_and_fails_what_it_should() {
    let outcomes = run(&[Engine::Interpreter, Engine::Jit]);
    let mut report = String::new();
    for t in &outcomes {
        let verdict = if t.passed() { "ok" } else { "FAILED" };
        report.push_str(&format!(
            "{}#{} {} [{} checked]: {verdict}\n",
            t.file, t.index, t.name, t.expectations
        ));
        for f in &t.failures {
            report.push_str(&format!("  {f}\n"));
        }
        for n in &t.notes {
            report.push_str(&format!("  note: {n}\n"));
        }
        // The names say which outcome each test should have.
        assert_eq!(
            t.passed(),
            t.name.starts_with("passes"),
            "{}: {:?}",
            t.name,
            t.failures
        );
    }
    insta::assert_snapshot!(report);
}

#[test]
fn a_pack_without_a_mapping_is_refused() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin");
    let policy = Policy::from_dir(&dir).unwrap();
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openfisca");
    let err = policy
        .run_openfisca_tests(&dir, &tests, &[Engine::Interpreter])
        .unwrap_err();
    assert!(err.to_string().contains("openfisca.yaml"), "{err}");
}
