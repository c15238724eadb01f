//! Records held in memory are rejected with the same error rows as the
//! same records in files: `Evaluator::evaluate_json` and
//! `Evaluator::run_files` (what `weft run` does) say the same thing about a
//! duplicated household's members, a person naming no household, and one
//! naming a household that does not exist.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use weft::run::{Format, NoProgress, RunConfig};
use weft::{Engine, Policy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

fn write_csv(path: &Path, (h, rows): &(Vec<String>, Vec<Vec<String>>)) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(h).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

fn as_json((h, rows): &(Vec<String>, Vec<Vec<String>>)) -> serde_json::Value {
    rows.iter()
        .map(|r| {
            serde_json::Value::Object(
                h.iter()
                    .zip(r)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn memory_and_files_reject_unlinked_persons_alike() {
    let dir = root().join("tests/jilin/spec-examples/population-small");
    let mut hh = csv_rows(&dir.join("households.csv"));
    let mut pp = csv_rows(&dir.join("persons.csv"));
    let pcol = |n: &str| pp.0.iter().position(|h| h == n).unwrap();
    let (pid, link) = (pcol("person_id"), pcol("household_id"));
    // A household whose id is on two rows (right after the first, so the
    // files stay grouped), a person naming no household, one naming a
    // household that does not exist.
    let first = hh.1[0].clone();
    hh.1.insert(1, first.clone());
    let mut unnamed = pp.1[0].clone();
    unnamed[pid] = "P-UNNAMED".into();
    unnamed[link] = String::new();
    let mut orphan = pp.1[0].clone();
    orphan[pid] = "P-ORPHAN".into();
    orphan[link] = "H-NOWHERE".into();
    pp.1.push(unnamed);
    pp.1.push(orphan);
    // Values outside their declared ranges.
    let grade = pcol("disability_grade");
    let months = pcol("unemployed_months_before");
    pp.1[1][grade] = "9".into();
    pp.1[2][months] = "-3".into();
    let (graded, idle) = (pp.1[1][pid].clone(), pp.1[2][pid].clone());

    let policy = Policy::from_dir(root().join("policies/jilin")).unwrap();
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Interpreter)
        .unwrap();
    let json = serde_json::json!({"households": as_json(&hh), "persons": as_json(&pp)});
    let memory = eval.evaluate_json(&json).unwrap().errors;

    let tmp = tempfile::tempdir().unwrap();
    write_csv(&tmp.path().join("households.csv"), &hh);
    write_csv(&tmp.path().join("persons.csv"), &pp);
    let out = tmp.path().join("out");
    let config = RunConfig::new(&out, Format::Csv)
        .input("households", tmp.path().join("households.csv"), Format::Csv)
        .input("persons", tmp.path().join("persons.csv"), Format::Csv);
    eval.run_files(&config, &NoProgress).unwrap();
    let files = csv_rows(&out.join("errors.csv"));

    // (record id, column, message) of each persons row, in each.
    let of_persons_mem: Vec<(String, String, String)> = memory
        .iter()
        .filter(|e| e.input == "persons")
        .map(|e| (e.record_id.clone(), e.column.clone(), e.message.clone()))
        .collect();
    let of_persons_file: Vec<(String, String, String)> = files
        .1
        .iter()
        .filter(|r| r[0] == "persons.csv")
        .map(|r| (r[2].clone(), r[3].clone(), r[4].clone()))
        .collect();
    assert_eq!(of_persons_mem, of_persons_file);
    // Each case is there, said the way a run over files says it.
    let message_of = |id: &str| {
        of_persons_file
            .iter()
            .find(|e| e.0 == id)
            .map(|e| e.2.clone())
            .unwrap_or_default()
    };
    assert_eq!(message_of("P-ORPHAN"), "unknown household H-NOWHERE");
    assert!(message_of("P-UNNAMED").starts_with("no household is named"));
    // A range as the policy writes it.
    let column_message = |id: &str, col: &str| {
        of_persons_file
            .iter()
            .find(|e| e.0 == id && e.1 == col)
            .map(|e| e.2.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        column_message(&graded, "disability_grade"),
        "9 is outside 0..=4"
    );
    // (A negative count of months is refused before its range is.)
    assert_eq!(
        column_message(&idle, "unemployed_months_before"),
        "-3 is not a whole number"
    );
    let hid = &first[0];
    let member = pp.1.iter().find(|r| &r[link] == hid).unwrap();
    assert!(
        message_of(&member[pid]).contains("appears on more than one row"),
        "{of_persons_file:?}"
    );
}
