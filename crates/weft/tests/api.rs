//! The embedding API as a caller uses it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use weft::{Engine, Error, Month, Policy, Records, Sources, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn jilin() -> Policy {
    Policy::from_dir(root().join("policies/jilin")).unwrap()
}

/// Read a CSV file into rows of strings.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().iter().map(|s| s.to_string()).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(|s| s.to_string()).collect())
        .collect();
    (h, rows)
}

fn object(header: &[String], row: &[String]) -> serde_json::Value {
    serde_json::Value::Object(
        header
            .iter()
            .zip(row)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    )
}

/// Every household of the spec's small population, evaluated through the
/// API from 8 threads on both engines, gives exactly the rows `weft run`
/// writes (the expected files, which `weft run` reproduces cell for cell).
#[test]
fn eight_threads_agree_with_weft_run() {
    let policy = jilin();
    let dir = root().join("tests/jilin/spec-examples/population-small");
    let (hh, hrows) = csv_rows(&dir.join("households.csv"));
    let (ph, prows) = csv_rows(&dir.join("persons.csv"));
    let (eh, erows) = csv_rows(&dir.join("expected-2018-08/households.csv"));
    let (ep, eprows) = csv_rows(&dir.join("expected-2018-08/persons.csv"));
    assert_eq!(eh[0], "household_id");
    assert_eq!(ep[0], "person_id");
    for engine in [Engine::Interpreter, Engine::Jit] {
        let eval = policy
            .evaluator("2018-08".parse().unwrap(), engine)
            .unwrap();
        let chunks: Vec<Vec<usize>> = (0..8)
            .map(|t| (0..hrows.len()).filter(|i| i % 8 == t).collect())
            .collect();
        std::thread::scope(|s| {
            for chunk in &chunks {
                let (eval, hrows, prows, erows, eprows) = (&eval, &hrows, &prows, &erows, &eprows);
                let (hh, ph) = (&hh, &ph);
                s.spawn(move || {
                    for &i in chunk {
                        let hid = &hrows[i][0];
                        let persons: Vec<serde_json::Value> = prows.iter().filter(|p| &p[1] == hid).map(|p| object(ph, p)).collect();
                        let input = serde_json::json!({"households": object(hh, &hrows[i]), "persons": persons});
                        let r = eval.evaluate_json(&input).unwrap();
                        if let Some(want) = erows.iter().find(|e| &e[0] == hid) {
                            let got = r.output("households").unwrap().row_by_id(hid).unwrap();
                            let got: Vec<String> = got.iter().map(Value::to_string).collect();
                            assert_eq!(&got, want, "household {hid} ({engine:?})");
                        }
                        for p in prows.iter().filter(|p| &p[1] == hid) {
                            if let Some(want) = eprows.iter().find(|e| e[0] == p[0]) {
                                let got = r.output("persons").unwrap().row_by_id(&p[0]).unwrap();
                                let got: Vec<String> = got.iter().map(Value::to_string).collect();
                                assert_eq!(&got, want, "person {} ({engine:?})", p[0]);
                            }
                        }
                    }
                });
            }
        });
    }
}

#[test]
fn diagnostics_are_values() {
    let err = Policy::from_sources(Sources::new().module("bad.weft", "rule r: Money = ¥1 + 2%"))
        .unwrap_err();
    let Error::Policy(d) = err else {
        panic!("expected diagnostics")
    };
    assert!(d.has_errors());
    let first = d.iter().next().unwrap();
    assert!(first.code.starts_with('E'));
    assert_eq!(first.location.as_deref(), Some("bad.weft:1:17"));
    assert!(d.render().contains("bad.weft"));
    assert_eq!(d.reports().len(), d.len());
}

#[test]
fn records_in_code_and_an_error_row() {
    let policy = jilin();
    let eval = policy
        .evaluator(Month::new(2018, 8).unwrap(), Engine::Interpreter)
        .unwrap();
    let person = |id: &str, birth: &str| {
        vec![
            ("person_id", id.to_string()),
            ("household_id", "A".to_string()),
            ("birth_date", birth.to_string()),
            ("disability_grade", "0".into()),
            ("disability_kind", "none".into()),
            ("self_care", "partial".into()),
            ("serious_illness", "false".into()),
            ("monthly_income", "0".into()),
            ("rigid_expense", "0".into()),
            ("capable_supporter", "false".into()),
            ("father_status", "deceased".into()),
            ("mother_status", "deceased".into()),
            ("in_institution", "false".into()),
            ("education_stage", "none".into()),
            ("boarding", "false".into()),
            ("hospital_level", "none".into()),
            ("medical_expense", "0".into()),
            ("employment_type", "none".into()),
            ("unemployed_months_before", "0".into()),
            ("dibao_at_employment", "false".into()),
        ]
    };
    let records = Records::new()
        .add(
            "households",
            [
                ("household_id", "A"),
                ("region", "changchun"),
                ("residence", "urban"),
                ("financial_assets", "5000.00"),
                ("owns_vehicle", "false"),
                ("registered_poor", "false"),
            ],
        )
        .add("persons", person("A1", "1946-03-15"))
        .add("persons", person("A2", "1946-02-30"));
    let r = eval.evaluate(&records).unwrap();
    // A2's bad date rejects the household: no rows, three error rows.
    assert!(r.output("persons").unwrap().rows.is_empty());
    assert_eq!(r.errors.len(), 3);
    assert_eq!(r.errors[2].column, "birth_date");
    let json = r.to_json();
    assert_eq!(json["errors"][2]["record_id"], "A2");
}

#[test]
fn parameter_overlays_and_explanations() {
    let policy = jilin();
    let raised = policy
        .with_params(&[("raise.toml", "[dibao_standard_urban]\n[[dibao_standard_urban.version]]\neffective = 2018-08-01\nchangchun = 700\njilin = 545\nsiping = 540\nliaoyuan = 550\ntonghua = 550\nbaishan = 540\nsongyuan = 543\nbaicheng = 470\nyanbian = 620\nchangbaishan = 550\n")])
        .unwrap();
    let ex = root().join("tests/jilin/spec-examples");
    let (hh, hrows) = csv_rows(&ex.join("households.csv"));
    let (ph, prows) = csv_rows(&ex.join("persons.csv"));
    let input = serde_json::json!({
        "households": hrows.iter().map(|r| object(&hh, r)).collect::<Vec<_>>(),
        "persons": prows.iter().map(|r| object(&ph, r)).collect::<Vec<_>>(),
    });
    let before = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap()
        .evaluate_json(&input)
        .unwrap();
    let after = raised
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap()
        .evaluate_json(&input)
        .unwrap();
    let s = |r: &weft::Evaluation| {
        r.output("households")
            .unwrap()
            .value(0, "dibao_standard")
            .unwrap()
            .to_string()
    };
    assert_eq!(s(&before), "620.00");
    assert_eq!(s(&after), "700.00");
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Interpreter)
        .unwrap();
    let e = eval.explain_json(&input, "A1", &["tekun_care"]).unwrap();
    assert_eq!(e.value_text("tekun_care"), Some("¥356.00 per month"));
    assert_eq!(
        e.value("tekun_care").and_then(|v| v.as_money()),
        Some(weft::Money::from_fen(35_600))
    );
    assert!(e.to_text().contains("care_ratio[partial]"));
    assert_eq!(e.to_json()["outputs"][0][0], "tekun_care");
}

#[test]
fn a_month_without_parameters_is_an_error_value() {
    let policy = jilin();
    let err = policy
        .evaluator("2015-03".parse().unwrap(), Engine::Interpreter)
        .unwrap_err();
    assert!(
        matches!(&err, Error::NoParameterVersion { param, .. } if !param.is_empty()),
        "{err}"
    );
    assert!(err.to_string().contains("no version of"));
    assert!(matches!(
        "2015-13".parse::<Month>(),
        Err(Error::BadMonth { .. })
    ));
}

/// The facade exposes no type of the internal crates, so they can change
/// without breaking callers: no public signature of `crates/weft/src`
/// names a `weft_*` crate.
#[test]
fn the_public_api_exposes_no_internal_type() {
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.iter().any(|f| f.ends_with("doc/mod.rs")), "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut in_pub_struct = false;
        let mut depth = 0i32;
        for (n, line) in text.lines().enumerate() {
            let t = line.trim_start();
            if t.starts_with("//") {
                continue;
            }
            let public = t.starts_with("pub fn")
                || t.starts_with("pub use")
                || t.starts_with("pub type")
                || t.starts_with("pub struct")
                || t.starts_with("pub enum")
                || t.starts_with("pub trait")
                || t.starts_with("pub mod");
            // Fields of public structs and public enum variants.
            if t.starts_with("pub struct") || t.starts_with("pub enum") {
                in_pub_struct = true;
                depth = 0;
            }
            let field = in_pub_struct
                && depth == 1
                && (t.starts_with("pub ") || (!t.starts_with("fn") && t.contains('(')));
            if public || field {
                assert!(
                    !t.contains("weft_"),
                    "{}:{}: a public item names an internal crate: {t}",
                    path.display(),
                    n + 1
                );
            }
            depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
            if in_pub_struct && depth <= 0 && t.contains('}') {
                in_pub_struct = false;
            }
        }
    }
}
