//! `weft run --as-of A..B`: every month evaluated into OUT/YYYY-MM and one
//! summary over the range.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const P: &str = "tests/jilin/spec-examples/population-small/persons.csv";
const H: &str = "tests/jilin/spec-examples/population-small/households.csv";

fn summary(as_of: &str, out: &Path) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .current_dir(root())
        .args([
            "run",
            "policies/jilin",
            "--persons",
            P,
            "--households",
            H,
            "--as-of",
            as_of,
        ])
        .args([
            "--quiet",
            "--force",
            "--summary",
            "json",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
}

fn fen(v: &Value) -> i128 {
    let t = v.as_str().unwrap();
    let (y, c) = t.split_once('.').unwrap();
    let s = if y.starts_with('-') { -1 } else { 1 };
    s * (y.trim_start_matches('-').parse::<i128>().unwrap() * 100 + c.parse::<i128>().unwrap())
}

/// The range summary of 2018-01..2018-12 is the sum of twelve one-month
/// runs: monthly and one-off amounts summed, recipients as record-months,
/// yearly amounts a twelfth per month; each month's outputs are those of
/// its own run.
#[test]
fn a_year_equals_the_sum_of_its_twelve_months() {
    let tmp = tempfile::tempdir().unwrap();
    let range = summary("2018-01..2018-12", &tmp.path().join("year"));
    assert_eq!(range["as_of"], "2018-01..2018-12");
    let months = range["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    let progs = range["programmes"].as_array().unwrap();
    let mut sums: Vec<(i128, i128, i128, u64)> = vec![(0, 0, 0, 0); progs.len()];
    let mut changed = false;
    let mut first: Option<String> = None;
    for m in 1..=12 {
        let month = format!("2018-{m:02}");
        let one = summary(&month, &tmp.path().join(&month));
        let mine = months
            .iter()
            .find(|x| x["as_of"] == month.as_str())
            .unwrap();
        assert_eq!(mine["programmes"], one["programmes"], "{month}");
        assert_eq!(mine["files"], one["files"], "{month}");
        // The month's directory holds that month's run.
        let dir = tmp.path().join("year").join(&month);
        assert_eq!(
            std::fs::read_to_string(dir.join("households.csv")).unwrap(),
            std::fs::read_to_string(tmp.path().join(&month).join("households.csv")).unwrap(),
            "{month}"
        );
        let hh = std::fs::read_to_string(dir.join("households.csv")).unwrap();
        if first.get_or_insert_with(|| hh.clone()) != &hh {
            changed = true;
        }
        for (i, p) in one["programmes"].as_array().unwrap().iter().enumerate() {
            sums[i].0 += fen(&p["total_per_month"]);
            sums[i].1 += fen(&p["total_once"]);
            sums[i].2 += fen(&p["total_per_year"]);
            sums[i].3 += p["recipients"].as_u64().unwrap();
        }
    }
    assert!(
        changed,
        "the months differ (July's standards), so the sum means something"
    );
    for (p, (monthly, once, yearly, recipients)) in progs.iter().zip(sums) {
        assert_eq!(fen(&p["total_per_month"]), monthly, "{}", p["programme"]);
        assert_eq!(fen(&p["total_once"]), once, "{}", p["programme"]);
        assert_eq!(
            p["recipients"].as_u64().unwrap(),
            recipients,
            "{}",
            p["programme"]
        );
        // A twelfth of each month's yearly amounts, rounded to the fen.
        let share = (yearly + 6) / 12;
        assert_eq!(fen(&p["total_per_year"]), share, "{}", p["programme"]);
        assert_eq!(
            fen(&p["total"]),
            fen(&p["total_per_month"]) + fen(&p["total_per_year"]) + fen(&p["total_once"])
        );
    }
    let dibao = progs.iter().find(|p| p["programme"] == "dibao").unwrap();
    assert!(fen(&dibao["total_per_month"]) > 0);
}

#[test]
fn a_bad_range_is_a_usage_error() {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .current_dir(root())
        .args([
            "run",
            "policies/jilin",
            "--persons",
            P,
            "--households",
            H,
            "--as-of",
            "2018-12..2018-01",
        ])
        .args(["--quiet", "--out", "/nonexistent/x"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `weft diff` over a range: each side totalled by the rule of a range
/// run — the side after equals `weft run` over the same months.
#[test]
fn a_diff_over_a_range_totals_each_side_like_a_range_run() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .current_dir(root())
        .args(["diff", "policies/jilin", "--persons", P, "--households", H])
        .args([
            "--as-of",
            "2018-07..2018-09",
            "--rules-as-of",
            "2018-06",
            "--quiet",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["months"].as_array().unwrap().len(), 3);
    let run = summary("2018-07..2018-09", &tmp.path().join("r"));
    for (x, y) in d["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(run["programmes"].as_array().unwrap())
    {
        assert_eq!(x["programme"], y["programme"]);
        assert_eq!(x["after"]["total"], y["total"], "{}", x["programme"]);
        assert_eq!(x["after"]["recipients"], y["recipients"]);
        assert_eq!(
            fen(&x["difference"]),
            fen(&x["after"]["total"]) - fen(&x["before"]["total"])
        );
    }
    let dibao = d["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["programme"] == "dibao")
        .unwrap();
    assert!(
        fen(&dibao["difference"]) > 0,
        "the July 2018 standards cost more"
    );
}
