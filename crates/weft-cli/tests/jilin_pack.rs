//! The `jilin` policy pack seen from the `weft` command:
//!
//! - the parameter checks of spec §3.11 with overlay files
//!   (`tests/jilin/overlays/`): an error-level failure makes `weft check`
//!   exit 1 naming the parameter, the key, the version's date and both
//!   sides; the warning-level urban floor does not fail it;
//! - cases of §3 that the shipped parameters never reach (a price rise that
//!   rounds differently via the fen, indices exactly at their triggers, this
//!   year's standard above 1.3 × last year's, `add_months` clamping), run
//!   through `weft eval` with an overlay;
//! - the output of the pack's own `test` blocks.
//!
//! Every command runs from the repository root with relative paths and
//! `NO_COLOR=1`, so the diagnostics are plain and the snapshots stable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `weft` with `args`; the exit code and stdout + stderr.
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
fn check_fails_when_a_rural_standard_falls_below_the_guidance() {
    let (code, stdout, stderr) = weft(&[
        "check",
        "policies/jilin",
        "--params",
        "tests/jilin/overlays/rural-below-guidance.toml",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    for needle in [
        "rural_standard_floor",
        "dibao_standard_rural",
        "[baicheng]",
        "2019-01-01",
        "¥3,500.00 per year",
        "¥3,535.00 per year",
    ] {
        assert!(
            stderr.contains(needle),
            "`{needle}` missing from:\n{stderr}"
        );
    }
    insta::assert_snapshot!(shown(code, &stdout, &stderr));
}

#[test]
fn check_warns_but_succeeds_for_the_shipped_baicheng_urban_standard() {
    let (code, stdout, stderr) = weft(&["check", "policies/jilin"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for needle in [
        "urban_standard_floor",
        "dibao_standard_urban",
        "[baicheng]",
        "2018-07-01",
        "¥470.00",
        "¥471.98",
    ] {
        assert!(
            stderr.contains(needle),
            "`{needle}` missing from:\n{stderr}"
        );
    }
    insta::assert_snapshot!(shown(code, &stdout, &stderr));
}

#[test]
fn check_warns_but_succeeds_for_an_urban_standard_below_the_floor() {
    let (code, stdout, stderr) = weft(&[
        "check",
        "policies/jilin",
        "--params",
        "tests/jilin/overlays/urban-below-floor.toml",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for needle in [
        "urban_standard_floor",
        "[siping]",
        "2019-01-01",
        "¥500.00",
        "¥502.87",
    ] {
        assert!(
            stderr.contains(needle),
            "`{needle}` missing from:\n{stderr}"
        );
    }
    insta::assert_snapshot!(shown(code, &stdout, &stderr));
}

/// One household of one person as `weft eval` JSON; `person` overrides
/// fields of a plain adult.
fn household(
    region: &str,
    residence: &str,
    person: &[(&str, serde_json::Value)],
) -> serde_json::Value {
    let mut p = serde_json::json!({
        "person_id": "P1", "household_id": "H", "birth_date": "1978-01-01",
        "disability_grade": 0, "disability_kind": "none", "self_care": "full",
        "serious_illness": false, "monthly_income": "0", "rigid_expense": "0",
        "capable_supporter": true, "father_status": "present", "mother_status": "present",
        "in_institution": false, "education_stage": "none", "boarding": false,
        "hospital_level": "none", "medical_expense": "0", "employment_type": "none",
        "employment_start": "", "unemployed_months_before": 0, "dibao_at_employment": false
    });
    for (k, v) in person {
        p[*k] = v.clone();
    }
    serde_json::json!({
        "households": {
            "household_id": "H", "region": region, "residence": residence,
            "financial_assets": "0", "owns_vehicle": false, "registered_poor": false
        },
        "persons": [p]
    })
}

/// `weft eval` of `input` as of `month` with an overlay; the person's outputs.
fn eval_person(input: &serde_json::Value, month: &str, overlay: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.json");
    std::fs::write(&file, input.to_string()).unwrap();
    let (code, stdout, stderr) = weft(&[
        "eval",
        "policies/jilin",
        "--as-of",
        month,
        "--input",
        file.to_str().unwrap(),
        "--params",
        overlay,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    v["persons"][0].clone()
}

#[test]
fn price_subsidy_rounds_the_exact_product_once_to_the_yuan_and_fires_at_the_triggers() {
    // A dibao member (no income) in Baicheng, urban: S = 445.00 in 2018.
    let h = household("baicheng", "urban", &[]);
    let overlay = "tests/jilin/overlays/price-triggers.toml";
    // 445.00 × 0.091 = 40.495 → 40 (via the fen: 40.50 → 41)
    assert_eq!(
        eval_person(&h, "2018-03", overlay)["price_subsidy"],
        "40.00"
    );
    // food CPI 6.0% = trigger: 445.00 × 0.06 = 26.70 → 27
    assert_eq!(
        eval_person(&h, "2018-04", overlay)["price_subsidy"],
        "27.00"
    );
    // CPI 3.5% = trigger: 445.00 × 0.035 = 15.575 → 16
    assert_eq!(
        eval_person(&h, "2018-05", overlay)["price_subsidy"],
        "16.00"
    );
    // food 5.99%, CPI 3.49%: nothing fires
    assert_eq!(eval_person(&h, "2018-06", overlay)["price_subsidy"], "0.00");
}

#[test]
fn tekun_basic_living_is_never_below_this_years_standard() {
    // Aged 80, no supporter, no income: tekun-eligible. With the overlay
    // S = 900.00 from 2019-01-01 and S₋₁ = 620.00:
    // max(round(1.3 × 620.00), 900.00) = max(806.00, 900.00) = 900.00.
    let h = household(
        "changchun",
        "urban",
        &[
            ("birth_date", "1939-01-01".into()),
            ("capable_supporter", false.into()),
        ],
    );
    let p = eval_person(&h, "2019-01", "tests/jilin/overlays/standard-jump.toml");
    assert_eq!(p["tekun_eligible"], true);
    assert_eq!(p["tekun_basic_living"], "900.00");
}

#[test]
fn employment_linkage_end_is_clamped_to_the_end_of_the_month() {
    // linkage_months = 1: a job from 2017-01-31 runs until
    // add_months(2017-01-31, 1) = 2017-02-28 (exclusive).
    let h = household(
        "jilin",
        "urban",
        &[
            ("monthly_income", "1500".into()),
            ("employment_type", "enterprise".into()),
            ("employment_start", "2017-01-31".into()),
            ("unemployed_months_before", 14.into()),
            ("dibao_at_employment", true.into()),
        ],
    );
    let overlay = "tests/jilin/overlays/linkage-one-month.toml";
    assert_eq!(
        eval_person(&h, "2017-02", overlay)["employment_subsidy"],
        "400.00"
    );
    // D = 2017-03-01 ≥ 2017-02-28 (an unclamped 2017-03-03 would still pay)
    assert_eq!(
        eval_person(&h, "2017-03", overlay)["employment_subsidy"],
        "0.00"
    );
}

/// The persons-file header of spec §2.2.
const PERSONS_HEADER: &str = "person_id,household_id,birth_date,disability_grade,disability_kind,self_care,serious_illness,monthly_income,rigid_expense,capable_supporter,father_status,mother_status,in_institution,education_stage,boarding,hospital_level,medical_expense,employment_type,employment_start,unemployed_months_before,dibao_at_employment";

#[test]
fn the_packs_record_checks_reject_rows_and_an_unborn_person_leaves_the_household_whole() {
    // The record checks of records.weft are not run by `test` blocks (their
    // records are built directly), so they are checked here through `weft run`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("households.csv"),
        "household_id,region,residence,financial_assets,owns_vehicle,registered_poor\n\
         A,changchun,urban,0,false,false\n\
         B,changchun,urban,0,false,false\n\
         C,changchun,urban,0,false,false\n\
         N,changchun,urban,0,false,false\n",
    )
    .unwrap();
    // hospital_level is none throughout
    let person = |id: &str, h: &str, born: &str, expense: &str, job: &str, start: &str| {
        format!(
            "{id},{h},{born},0,none,full,false,0,0,true,present,present,false,none,false,none,{expense},{job},{start},14,true\n"
        )
    };
    let persons = [
        PERSONS_HEADER.to_string() + "\n",
        // an expense without a hospital
        person("A1", "A", "1978-01-01", "100.00", "none", ""),
        // a job without a start date
        person("B1", "B", "1978-01-01", "0", "enterprise", ""),
        // a start date without a job
        person("C1", "C", "1978-01-01", "0", "none", "2017-01-01"),
        person("N1", "N", "1978-01-01", "0", "none", ""),
        // born the day after D = 2018-08-01
        person("N2", "N", "2018-08-02", "0", "none", ""),
    ]
    .concat();
    std::fs::write(dir.path().join("persons.csv"), persons).unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = weft(&[
        "run",
        "policies/jilin",
        "--persons",
        dir.path().join("persons.csv").to_str().unwrap(),
        "--households",
        dir.path().join("households.csv").to_str().unwrap(),
        "--as-of",
        "2018-08",
        "--out",
        out.to_str().unwrap(),
        "--engine",
        "interp",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap();
    let first_four: Vec<String> = errors
        .lines()
        .map(|l| l.splitn(5, ',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        first_four,
        [
            "file,line,record_id,column",
            "households.csv,2,A,",
            "households.csv,3,B,",
            "households.csv,4,C,",
            "persons.csv,2,A1,medical_expense",
            "persons.csv,3,B1,employment_start",
            "persons.csv,4,C1,employment_start",
            "persons.csv,6,N2,birth_date",
        ],
        "{errors}"
    );
    // N is evaluated without the unborn N2: one member, a dibao household
    // of one with no income: (620.00 − 0.00) × 1.
    assert_eq!(
        std::fs::read_to_string(out.join("households.csv")).unwrap(),
        "household_id,members,counted_members,per_capita_income,dibao_standard,dibao_eligible,dibao_benefit,temporary_assistance\n\
         N,1,1,0.00,620.00,true,620.00,0.00\n"
    );
}

#[test]
fn the_packs_own_tests_pass() {
    // `weft test` lists the tests by file and position: deterministic.
    let (code, stdout, stderr) = weft(&["test", "policies/jilin", "--engine", "interp"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    insta::assert_snapshot!(shown(code, &stdout, &stderr));
}
