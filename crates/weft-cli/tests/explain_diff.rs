//! `weft explain` and `weft diff` end to end.

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

const P: &str = "tests/jilin/spec-examples/persons.csv";
const H: &str = "tests/jilin/spec-examples/households.csv";

fn explain(month: &str, who: &[&str], format: &str) -> String {
    let mut args = vec![
        "explain",
        "policies/jilin",
        "--persons",
        P,
        "--households",
        H,
        "--as-of",
        month,
        "--format",
        format,
    ];
    args.extend_from_slice(who);
    let (code, out, err) = weft(&args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn a_tekun_person_with_a_medical_cascade() {
    insta::assert_snapshot!(explain(
        "2018-08",
        &[
            "--person",
            "A1",
            "--output",
            "tekun_basic_living",
            "--output",
            "tekun_care",
            "--output",
            "medical_aid_pays"
        ],
        "text"
    ));
}

#[test]
fn an_orphan_in_2019() {
    insta::assert_snapshot!(explain(
        "2019-08",
        &[
            "--person",
            "C1",
            "--output",
            "child_category",
            "--output",
            "child_allowance"
        ],
        "text"
    ));
}

#[test]
fn a_dibao_household_with_increments() {
    insta::assert_snapshot!(explain(
        "2018-08",
        &["--household", "B", "--output", "dibao_benefit"],
        "text"
    ));
}

#[test]
fn explanations_as_json() {
    insta::assert_snapshot!(explain(
        "2018-08",
        &["--id", "B4", "--output", "disability_living_subsidy"],
        "json"
    ));
}

/// Every explained value is the value `weft run` writes, for every record
/// and column of the worked examples.
#[test]
fn explained_values_equal_the_batch_output() {
    let tmp = tempfile::tempdir().unwrap();
    for engine in ["interp", "jit"] {
        let out = tmp.path().join(engine);
        let (code, _, err) = weft(&[
            "run",
            "policies/jilin",
            "--persons",
            P,
            "--households",
            H,
            "--as-of",
            "2018-08",
            "--quiet",
            "--engine",
            engine,
            "--out",
            out.to_str().unwrap(),
        ]);
        if engine == "jit" && err.contains("not available") {
            continue;
        }
        assert_eq!(code, 0, "{err}");
        for (file, flag) in [
            ("persons.csv", "--person"),
            ("households.csv", "--household"),
        ] {
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            let mut rdr = csv::Reader::from_reader(text.as_bytes());
            let header: Vec<String> = rdr
                .headers()
                .unwrap()
                .iter()
                .map(|s| s.to_string())
                .collect();
            for rec in rdr.records() {
                let rec = rec.unwrap();
                let id = rec.get(0).unwrap().to_string();
                let json = explain("2018-08", &[flag, &id], "json");
                let v: serde_json::Value = serde_json::from_str(&json).unwrap();
                let outs = v["outputs"].as_array().unwrap();
                for pair in outs {
                    let col = pair[0].as_str().unwrap();
                    let shown = pair[1]["value"].as_str().unwrap();
                    let ci = header.iter().position(|h| h == col).unwrap();
                    let batch = rec.get(ci).unwrap();
                    // "¥1,190.00 per month" → "1190.00"; "72 years" → "72".
                    let norm: String = shown
                        .split(' ')
                        .next()
                        .unwrap()
                        .trim_start_matches('¥')
                        .replace(',', "");
                    let norm = if batch == "none"
                        || batch.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        shown.to_string()
                    } else {
                        norm
                    };
                    assert_eq!(norm, batch, "{engine}: {id} {col}");
                }
            }
        }
    }
}

fn run_to(dir: &Path, month: &str, pop: &Path) -> PathBuf {
    let out = dir.join(format!("run-{month}"));
    let (code, _, err) = weft(&[
        "run",
        "policies/jilin",
        "--persons",
        pop.join("persons.csv").to_str().unwrap(),
        "--households",
        pop.join("households.csv").to_str().unwrap(),
        "--as-of",
        month,
        "--quiet",
        "--engine",
        "interp",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

/// Sum a money column of a result file, in fen.
fn total(file: &Path, col: &str) -> i128 {
    let text = std::fs::read_to_string(file).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let ci = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == col)
        .unwrap();
    rdr.records()
        .map(|r| fen(r.unwrap().get(ci).unwrap()))
        .sum()
}

#[test]
fn a_diff_across_the_july_2018_standards_matches_two_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let pop = root().join("tests/jilin/spec-examples/population-small");
    let (code, json, err) = weft(&[
        "diff",
        "policies/jilin",
        "--persons",
        pop.join("persons.csv").to_str().unwrap(),
        "--households",
        pop.join("households.csv").to_str().unwrap(),
        "--as-of",
        "2018-06",
        "--as-of-after",
        "2018-07",
        "--engine",
        "interp",
        "--format",
        "json",
        "--html",
        tmp.path().join("report.html").to_str().unwrap(),
        "--changes",
        tmp.path().join("changes.csv").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let before = run_to(tmp.path(), "2018-06", &pop);
    let after = run_to(tmp.path(), "2018-07", &pop);
    // Independent sums of the two runs' outputs.
    let cases = [
        (
            "tekun",
            "persons.csv",
            &["tekun_basic_living", "tekun_care"][..],
            "per_month",
        ),
        (
            "dibao",
            "households.csv",
            &["dibao_benefit"][..],
            "per_month",
        ),
        (
            "medical_aid",
            "persons.csv",
            &["medical_aid_pays"][..],
            "per_year",
        ),
        (
            "price_subsidy",
            "persons.csv",
            &["price_subsidy"][..],
            "per_month",
        ),
    ];
    for (prog, file, cols, period) in cases {
        let p = report["programmes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["programme"] == prog)
            .unwrap();
        let b: i128 = cols.iter().map(|c| total(&before.join(file), c)).sum();
        let a: i128 = cols.iter().map(|c| total(&after.join(file), c)).sum();
        assert_eq!(
            fen(p["total_before"][period].as_str().unwrap()),
            b,
            "{prog} before"
        );
        assert_eq!(
            fen(p["total_after"][period].as_str().unwrap()),
            a,
            "{prog} after"
        );
    }
    // The standards rose in July 2018: the dibao total rises.
    let dibao = report["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["programme"] == "dibao")
        .unwrap();
    assert!(
        fen(dibao["total_after"]["per_month"].as_str().unwrap())
            > fen(dibao["total_before"]["per_month"].as_str().unwrap())
    );
    // The changes file lists changed cells only.
    let changes = std::fs::read_to_string(tmp.path().join("changes.csv")).unwrap();
    assert_eq!(
        changes.lines().count() as u64 - 1,
        report["cells_changed"].as_u64().unwrap()
    );
    // The HTML page: self-contained, charts as SVG, the JSON's numbers.
    let html = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    for banned in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(
            !html.contains(banned),
            "the report must not load anything: found `{banned}`"
        );
    }
    assert!(html.matches("<svg").count() >= 3, "three charts");
    // The memo's parts: the headline a year's worth of the change with its
    // sign, the parameters changed, who loses most (with ids), the policy.
    let net: i128 = report["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let y = |k: &str| {
                fen(p[k]["per_month"].as_str().unwrap()) * 12
                    + fen(p[k]["per_year"].as_str().unwrap())
            };
            y("total_after") - y("total_before")
        })
        .sum();
    assert!(net > 0, "the July standards cost more");
    assert!(
        html.contains(&format!("+¥{}", weft::run::format_yuan(net))),
        "headline"
    );
    assert!(html.contains("more spending a year"));
    assert!(html.contains("<code>dibao_standard_urban</code>"));
    for l in report["losers"].as_array().unwrap() {
        assert!(html.contains(&format!("<code>{}</code>", l["id"].as_str().unwrap())));
    }
    assert!(html.contains(report["policy"]["sha256_before"].as_str().unwrap()));
    // Per-period histograms apart.
    assert!(html.contains("Amounts per month") && html.contains("Amounts per year"));
    for p in report["programmes"].as_array().unwrap() {
        let period = match p["period"].as_str().unwrap() {
            "per month" => "per_month",
            "per year" => "per_year",
            _ => "once",
        };
        let fmt = |v: &serde_json::Value| weft::run::format_yuan(fen(v.as_str().unwrap()));
        assert!(
            html.contains(&format!("<td class=n>{}</td>", p["recipients_after"])),
            "{}",
            p["programme"]
        );
        assert!(
            html.contains(&fmt(&p["total_before"][period])),
            "{}",
            p["programme"]
        );
        assert!(
            html.contains(&fmt(&p["total_after"][period])),
            "{}",
            p["programme"]
        );
    }
}

/// A rejected household, and a person left out of the evaluation, are
/// explained by their error rows instead of a tree (exit 1).
#[test]
fn explain_of_a_rejected_or_left_out_record() {
    let d = "tests/jilin/spec-examples/errors";
    let (p, h) = (format!("{d}/persons.csv"), format!("{d}/households.csv"));
    let mut out = String::new();
    for id in ["F", "G2"] {
        let (code, stdout, stderr) = weft(&[
            "explain",
            "policies/jilin",
            "--persons",
            &p,
            "--households",
            &h,
            "--as-of",
            "2018-08",
            "--id",
            id,
        ]);
        out += &format!("--- {id}: exit {code}\n{stdout}{stderr}");
    }
    insta::assert_snapshot!(out);
}

/// `1234.50` (yuan, as the output files write money) in fen.
fn fen(text: &str) -> i128 {
    let (yuan, cents) = text.split_once('.').unwrap_or((text, "0"));
    let sign = if yuan.starts_with('-') { -1 } else { 1 };
    let yuan: i128 = yuan.trim_start_matches('-').parse().unwrap();
    let cents: i128 = format!("{cents:0<2}").parse().unwrap();
    sign * (yuan * 100 + cents)
}

const SP: &str = "tests/jilin/spec-examples/population-small/persons.csv";
const SH: &str = "tests/jilin/spec-examples/population-small/households.csv";

fn explain_small(month: &str, id: &str, output: &str) -> String {
    let (code, out, err) = weft(&[
        "explain",
        "policies/jilin",
        "--persons",
        SP,
        "--households",
        SH,
        "--as-of",
        month,
        "--id",
        id,
        "--output",
        output,
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

/// Income is below the standard but the assets are over the limit: the
/// explanation shows the input and the comparison with both sides.
#[test]
fn a_household_failing_dibao_on_assets() {
    let out = explain_small("2018-08", "H42-000052", "dibao_eligible");
    assert!(
        out.contains("input household H42-000052: financial_assets = ¥47,093.66"),
        "{out}"
    );
    assert!(
        out.contains("financial_assets ¥47,093.66 <= dibao_standard × dibao_asset_months × counted_members ¥25,920.00 (¥540.00 × 24 months × 2): false"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

/// A priority person through `registered_poor`: the input that made it
/// true is shown.
#[test]
fn a_priority_person_through_registered_poor() {
    let out = explain_small("2018-08", "P42-0000002", "major_illness_pays");
    let priority = out
        .split("priority(P42-0000002) = true")
        .nth(1)
        .expect("priority shown");
    assert!(
        priority.contains("input household H42-000000: registered_poor = true"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

/// A table's rows before the one that applied, each with why not.
#[test]
fn a_table_row_skipped() {
    let out = explain_small("2018-08", "P42-0000006", "child_category");
    assert!(
        out.contains("row 4 does not apply: age(p) < 16 and p.household.residence == rural"),
        "{out}"
    );
    assert!(
        out.contains("household.residence urban == rural: false"),
        "{out}"
    );
    assert!(out.contains("row 5 applies"), "{out}");
    insta::assert_snapshot!(out);
}

/// `--rules-as-of`: the population of July 2018 under June's rules against
/// July's: only the policy changed, so no age (nor any other value of the
/// population's own) moves; the standards do.
#[test]
fn a_rules_as_of_diff_changes_no_age() {
    let tmp = tempfile::tempdir().unwrap();
    let changes = tmp.path().join("changes.csv");
    let (code, json, err) = weft(&[
        "diff",
        "policies/jilin",
        "--persons",
        SP,
        "--households",
        SH,
        "--as-of",
        "2018-07",
        "--rules-as-of",
        "2018-06",
        "--as-of-after",
        "2018-07",
        "--format",
        "json",
        "--changes",
        changes.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let text = std::fs::read_to_string(&changes).unwrap();
    let columns: std::collections::BTreeSet<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2))
        .collect();
    assert!(!columns.contains("age"), "{columns:?}");
    assert!(columns.contains("dibao_standard"), "{columns:?}");
    // Across the two months without it, ages do move (the test can fail).
    let (code, _, err) = weft(&[
        "diff",
        "policies/jilin",
        "--persons",
        SP,
        "--households",
        SH,
        "--as-of",
        "2018-06",
        "--as-of-after",
        "2018-07",
        "--format",
        "json",
        "--changes",
        changes.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&changes).unwrap();
    assert!(text.lines().any(|l| l.split(',').nth(2) == Some("age")));
    assert!(
        report["before"]
            .as_str()
            .unwrap()
            .contains("under the rules of 2018-06")
    );
    let names: Vec<&str> = report["parameters_changed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"dibao_standard_urban"), "{names:?}");
}

/// `--rules-as-of` on `weft run` too: a July population
/// under June's standard pays June's dibao.
#[test]
fn run_under_the_rules_of_another_month() {
    let tmp = tempfile::tempdir().unwrap();
    let total_of = |rules: Option<&str>, month: &str| {
        let out = tmp
            .path()
            .join(format!("{month}-{}", rules.unwrap_or("own")));
        let mut args = vec![
            "run",
            "policies/jilin",
            "--persons",
            SP,
            "--households",
            SH,
            "--as-of",
            month,
            "--quiet",
            "--summary",
            "json",
            "--out",
        ];
        let o = out.to_str().unwrap().to_string();
        args.push(&o);
        if let Some(r) = rules {
            args.extend(["--rules-as-of", r]);
        }
        let (code, json, err) = weft(&args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let d = v["programmes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["programme"] == "dibao")
            .unwrap()
            .clone();
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        (
            fen(d["total_per_month"].as_str().unwrap()),
            m["rules_as_of"].clone(),
            total(&out.join("persons.csv"), "age"),
        )
    };
    let (june, _, _) = total_of(None, "2018-06");
    let (july, _, july_ages) = total_of(None, "2018-07");
    let (mixed, rules, mixed_ages) = total_of(Some("2018-06"), "2018-07");
    assert!(july > june);
    assert_ne!(mixed, july, "June's standards pay less");
    assert_eq!(rules, "2018-06");
    assert_eq!(mixed_ages, july_ages, "ages are July's");
}

/// `weft explain --as-of A --as-of-after B`: what differs and why.
#[test]
fn explain_across_two_months() {
    let (code, out, err) = weft(&[
        "explain",
        "policies/jilin",
        "--persons",
        SP,
        "--households",
        SH,
        "--as-of",
        "2018-06",
        "--as-of-after",
        "2018-07",
        "--id",
        "H42-000052",
        "--output",
        "dibao_standard",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("dibao_standard(H42-000052): ¥500.00 per month → ¥540.00 per month"),
        "{out}"
    );
    assert!(out.contains("dibao_standard_urban\n    before:"), "{out}");
    assert!(
        !out.contains("cpi_yoy"),
        "only the parameters on the path: {out}"
    );
    insta::assert_snapshot!(out);
}
