//! `weft run` end to end on small inputs: each input format, each kind of
//! bad row and bad file, and the awkward text files real exports produce
//! (CRLF, a byte-order mark, quoted commas, Chinese ids, blank lines).
//! Outputs are snapshot-tested.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run the Jilin policy on the given households/persons text and return
/// the exit code, stderr's first line and every output file.
fn run_text(households: &[u8], persons: &[u8], ext: &str, month: &str) -> String {
    run_text_with(households, persons, ext, month, &[])
}

fn run_text_with(
    households: &[u8],
    persons: &[u8],
    ext: &str,
    month: &str,
    extra: &[&str],
) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join(format!("households.{ext}"));
    let p = tmp.path().join(format!("persons.{ext}"));
    std::fs::write(&h, households).unwrap();
    std::fs::write(&p, persons).unwrap();
    run_files(
        &root().join("policies/jilin"),
        &[("households", &h), ("persons", &p)],
        month,
        "csv",
        tmp.path(),
        extra,
    )
}

fn run_files(
    policy: &Path,
    inputs: &[(&str, &Path)],
    month: &str,
    out_format: &str,
    tmp: &Path,
    extra: &[&str],
) -> String {
    let out = tmp.join("out");
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.env("NO_COLOR", "1").arg("run").arg(policy);
    for (name, path) in inputs {
        c.arg(format!("--{name}")).arg(path);
    }
    c.args([
        "--as-of",
        month,
        "--quiet",
        "--engine",
        "interp",
        "--summary",
        "json",
        "--format",
        out_format,
        "--out",
    ])
    .arg(&out)
    .args(extra);
    let o = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let mut s = format!("exit: {:?}\n", o.status.code());
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error") || l.starts_with("warning"))
        .unwrap_or("");
    s.push_str(&format!(
        "stderr: {}\n",
        first.replace(&tmp.display().to_string(), "<tmp>")
    ));
    if out.exists() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name == "manifest.json" || !name.ends_with(".csv") {
                continue;
            }
            s.push_str(&format!(
                "--- {name}\n{}",
                std::fs::read_to_string(&f).unwrap()
            ));
        }
    }
    s
}

const H: &str = "household_id,region,residence,financial_assets,owns_vehicle,registered_poor\n";
const P: &str = "person_id,household_id,birth_date,disability_grade,disability_kind,self_care,serious_illness,monthly_income,rigid_expense,capable_supporter,father_status,mother_status,in_institution,education_stage,boarding,hospital_level,medical_expense,employment_type,employment_start,unemployed_months_before,dibao_at_employment\n";

fn person(id: &str, hh: &str, birth: &str) -> String {
    format!(
        "{id},{hh},{birth},0,none,full,false,0.00,0.00,true,present,present,false,none,false,none,0.00,none,,0,false\n"
    )
}

#[test]
fn crlf_bom_quotes_chinese_ids_and_blank_lines() {
    let h = format!(
        "\u{feff}{}\"户,1\",changchun,urban,0.00,false,false\r\n\r\n长春2,jilin,rural,100.00,false,true\r\n",
        H.trim_end()
    );
    let h = h.replacen("registered_poor", "registered_poor\r\n", 1);
    let p = format!(
        "{P}{}\n{}",
        person("\"人,1\"", "\"户,1\"", "1950-03-01").trim_end(),
        person("人2", "长春2", "2010-05-05")
    );
    insta::assert_snapshot!(run_text(h.as_bytes(), p.as_bytes(), "csv", "2018-08"));
}

/// The first pass's id index is spilled to disk in partitions by hash; any
/// number of partitions finds the same duplicates and unknown households,
/// and so does reading a persons file that is not in household order (which
/// is read into memory, with a warning).
#[test]
fn the_id_index_gives_the_same_results_in_any_partitioning_and_order() {
    let h = format!(
        "{H}A,jilin,urban,0,false,false\nD,siping,rural,0,false,false\nD,siping,rural,0,false,false\nE,tonghua,urban,0,false,false\nF,yanbian,urban,0,false,false\nG,baishan,rural,0,false,false\n"
    );
    let rows = [
        person("A1", "A", "1950-01-01"),
        person("A2", "A", "2015-03-01"),
        person("D1", "D", "1950-01-01"),
        person("E1", "E", "1960-01-01"),
        person("X1", "NOPE", "1990-01-01"),
        person("F1", "F", "1980-01-01"),
        person("F1", "F", "1981-01-01"),
        person("F2", "F", "2010-05-31"),
        person("G1", "G", "1940-12-31"),
    ];
    let ordered: String = rows.concat();
    let want = run_text(
        h.as_bytes(),
        format!("{P}{ordered}").as_bytes(),
        "csv",
        "2019-08",
    );
    assert!(want.contains("appears on more than one row"), "{want}");
    assert!(want.contains("unknown household NOPE"), "{want}");
    for parts in ["1", "2", "3", "64", "256"] {
        let got = run_text_with(
            h.as_bytes(),
            format!("{P}{ordered}").as_bytes(),
            "csv",
            "2019-08",
            &["--index-partitions", parts],
        );
        assert_eq!(got, want, "{parts} partitions");
    }
    // Households' persons out of order: the same rows, read into memory.
    let shuffled: String = rows.iter().rev().cloned().collect();
    for parts in ["1", "5"] {
        let got = run_text_with(
            h.as_bytes(),
            format!("{P}{shuffled}").as_bytes(),
            "csv",
            "2019-08",
            &["--index-partitions", parts],
        );
        assert!(
            got.contains("stderr: warning: persons.csv is not grouped"),
            "{got}"
        );
        // Rows come out in input order and persons' line numbers differ:
        // compare the rows as sets, without persons' line numbers.
        let rows = |s: &str| {
            let mut l: Vec<String> = s
                .split_once("--- ")
                .map(|x| x.1)
                .unwrap_or_default()
                .lines()
                .map(|l| {
                    let l = match l.strip_prefix("persons.csv,") {
                        Some(rest) => rest.split_once(',').map(|x| x.1).unwrap_or(rest),
                        None => l,
                    };
                    match l.split_once(" (line ") {
                        Some((a, b)) => {
                            format!("{a}{}", b.split_once(')').map(|x| x.1).unwrap_or(""))
                        }
                        None => l.to_string(),
                    }
                })
                .collect();
            l.sort();
            l
        };
        assert_eq!(rows(&got), rows(&want), "{parts} partitions, shuffled");
    }
}

#[test]
fn every_kind_of_bad_row() {
    let h = format!(
        "{H}A,atlantis,urban,0,false,false\nB,jilin,urban,12.345,false,false\nC,jilin,urban,1,maybe,false\nD,siping,rural,0,false,false\nD,siping,rural,0,false,false\nE,tonghua,urban,0,false,false\nF,yanbian,urban,0,false,false\n,baishan,urban,0,false,false\n"
    );
    let mut p = String::from(P);
    p += &person("A1", "A", "1950-01-01");
    p += &person("B1", "B", "1950-01-01");
    p += &person("C1", "C", "1950-01-01");
    p += &person("D1", "D", "1950-01-01");
    // A member of the duplicate household with an error of its own, after
    // the link column: its own error is reported.
    p += &person("D2", "D", "1950-02-30");
    p += &person("E1", "E", "1950-02-30");
    p += &person("E2", "E", "1960-01-01");
    p += &person("X1", "NOPE", "1990-01-01");
    // A member of an unknown household with an error after the link
    // column: the unknown household is reported.
    p += &person("X2", "NOPE", "1990-13-01");
    p += "F1,F,1970-01-01,2,none,full,false,0.00,0.00,true,present,present,false,none,false,none,0.00,none,,0,false\n";
    p += "F2,F,1970-01-01,0,none,full,false,0.00,0.00,true,present,present,false,none,false,none,0.00,enterprise,,0,false\n";
    p += &person("F3", "F", "2019-01-01");
    p += &person("F3", "F", "1980-01-01");
    p += "G1,F,1970-01-01,0,none,full,false,0.00,0.00,true,present,present,false,none,false,none,12.00,none,,0,false\n";
    insta::assert_snapshot!(run_text(h.as_bytes(), p.as_bytes(), "csv", "2018-08"));
}

#[test]
fn an_unborn_person_is_left_out_and_the_household_evaluated() {
    let h = format!("{H}G,tonghua,urban,0,false,true\n");
    let p = format!(
        "{P}{}{}",
        person("G1", "G", "1945-07-07"),
        person("G2", "G", "2030-01-01")
    );
    insta::assert_snapshot!(run_text(h.as_bytes(), p.as_bytes(), "csv", "2018-08"));
}

#[test]
fn empty_and_header_only_files() {
    insta::assert_snapshot!(
        "empty_households",
        run_text(b"", P.as_bytes(), "csv", "2018-08")
    );
    insta::assert_snapshot!(
        "header_only",
        run_text(H.as_bytes(), P.as_bytes(), "csv", "2018-08")
    );
}

#[test]
fn missing_and_unknown_columns() {
    let h = "household_id,region,residence,owns_vehicle,registered_poor,note\nA,jilin,urban,false,false,x\n";
    insta::assert_snapshot!(
        "missing_column",
        run_text(h.as_bytes(), P.as_bytes(), "csv", "2018-08")
    );
    let h2 = format!("{},note\nA,jilin,urban,0,false,false,hello\n", H.trim_end());
    let p2 = format!("{P}{}", person("A1", "A", "1950-01-01"));
    insta::assert_snapshot!(
        "unknown_column",
        run_text(h2.as_bytes(), p2.as_bytes(), "csv", "2018-08")
    );
}

#[test]
fn a_file_that_is_not_utf8_is_refused_whole() {
    let mut h = H.as_bytes().to_vec();
    h.extend_from_slice(b"A,jilin,urban,0,false,false\n");
    h.extend_from_slice(&[0xb3, 0xa4, 0xb4, 0xba, b',', b'\n']); // GB18030 "长春"
    insta::assert_snapshot!(run_text(&h, P.as_bytes(), "csv", "2018-08"));
}

#[test]
fn a_month_without_parameters_fails_the_run() {
    let h = format!("{H}A,jilin,urban,0,false,false\n");
    let p = format!("{P}{}", person("A1", "A", "1950-01-01"));
    insta::assert_snapshot!(run_text(h.as_bytes(), p.as_bytes(), "csv", "2016-06"));
}

fn csv_to_jsonl(text: &str) -> String {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(|s| s.to_string()).collect();
    let mut out = String::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let mut m = serde_json::Map::new();
        for (h, v) in header.iter().zip(rec.iter()) {
            if v.is_empty() {
                continue;
            }
            let val = match v {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                _ if h == "disability_grade" || h == "unemployed_months_before" => {
                    serde_json::Value::from(v.parse::<i64>().unwrap())
                }
                _ => serde_json::Value::String(v.to_string()),
            };
            m.insert(h.clone(), val);
        }
        out.push_str(&serde_json::to_string(&m).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn json_lines_input_gives_the_same_results_as_csv() {
    let ex = root().join("tests/jilin/spec-examples");
    let h = std::fs::read_to_string(ex.join("households.csv")).unwrap();
    let p = std::fs::read_to_string(ex.join("persons.csv")).unwrap();
    let from_csv = run_text(h.as_bytes(), p.as_bytes(), "csv", "2019-08");
    let from_jsonl = run_text(
        csv_to_jsonl(&h).as_bytes(),
        csv_to_jsonl(&p).as_bytes(),
        "jsonl",
        "2019-08",
    );
    assert_eq!(from_csv, from_jsonl);
    assert!(from_csv.starts_with("exit: Some(0)"));
}

#[test]
fn parquet_input_and_output_agree_with_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = root().join("policies/jilin");
    for fmt in ["csv", "parquet"] {
        let st = Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("synth")
            .arg(&policy)
            .args([
                "--households",
                "300",
                "--seed",
                "11",
                "--as-of",
                "2019-08",
                "--sample",
                "0",
                "--format",
                fmt,
                "--out",
            ])
            .arg(tmp.path().join(fmt))
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    let run = |fmt: &str, out_fmt: &str| {
        let dir = tmp.path().join(format!("run-{fmt}-{out_fmt}"));
        std::fs::create_dir_all(&dir).unwrap();
        let h = tmp.path().join(fmt).join(format!("households.{fmt}"));
        let p = tmp.path().join(fmt).join(format!("persons.{fmt}"));
        let s = run_files(
            &policy,
            &[("households", &h), ("persons", &p)],
            "2019-08",
            out_fmt,
            &dir,
            &[],
        );
        (s, dir.join("out"))
    };
    let (csv_out, _) = run("csv", "csv");
    let (pq_out, _) = run("parquet", "csv");
    assert_eq!(
        csv_out, pq_out,
        "Parquet input must give the same results as CSV"
    );
    // Parquet output, read back, equals the CSV output.
    let (_, pq_dir) = run("csv", "parquet");
    for name in ["persons", "households"] {
        let mut rdr = weft_data::open_reader(
            &pq_dir.join(format!("{name}.parquet")),
            weft_data::Format::Parquet,
        )
        .unwrap();
        let header = rdr.header().join(",");
        let mut lines = vec![header];
        let mut row = weft_data::Row::default();
        while rdr.next_row(&mut row).unwrap() {
            lines.push(
                row.cells
                    .iter()
                    .map(|c| c.text.clone())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        let csv_text =
            std::fs::read_to_string(tmp.path().join(format!("run-csv-csv/out/{name}.csv")))
                .unwrap();
        let want: Vec<String> = csv_text.lines().map(|l| l.to_string()).collect();
        // Money reads back as a decimal without trailing zeros; compare values.
        assert_eq!(lines.len(), want.len(), "{name}");
        for (a, b) in lines.iter().zip(&want).skip(1) {
            // Money reads back from Decimal128 without trailing zeros
            // (`2000` for `2000.00`): compare amounts in fen.
            let norm = |s: &str| -> Vec<String> {
                s.split(',')
                    .map(|c| match weft_data::cell::parse_money(c) {
                        Some(v) => v.to_string(),
                        _ => c.to_string(),
                    })
                    .collect()
            };
            assert_eq!(norm(a), norm(b), "{name}");
        }
    }
}

#[test]
fn an_evaluation_error_rejects_the_household() {
    let tmp = tempfile::tempdir().unwrap();
    let fam = tmp.path().join("families.csv");
    let mem = tmp.path().join("members.csv");
    std::fs::write(&fam, "family_id\nF1\nF2\n").unwrap();
    std::fs::write(
        &mem,
        "member_id,family_id,amount\nM1,F1,1.00\nM2,F1,2.00\nM3,F2,1000000000000.00\nM4,F2,3.00\n",
    )
    .unwrap();
    insta::assert_snapshot!(run_files(
        &root().join("tests/run/overflow"),
        &[("families", &fam), ("members", &mem)],
        "2019-01",
        "csv",
        tmp.path(),
        &[],
    ));
}

/// Each household's `members` output and the number of its person rows
/// evaluated: a household is never evaluated short of a member.
fn no_household_short(out: &str) {
    let section = |name: &str| -> Vec<Vec<String>> {
        out.split(&format!("--- {name}\n"))
            .nth(1)
            .map(|s| s.split("--- ").next().unwrap_or(""))
            .unwrap_or("")
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|c| c.to_string()).collect())
            .collect()
    };
    let persons = section("persons.csv");
    for h in section("households.csv") {
        let n = persons.iter().filter(|p| p.get(1) == h.first()).count();
        assert_eq!(h.get(1).cloned(), Some(n.to_string()), "{h:?} in\n{out}");
    }
}

/// Spec §5.3 for damaged files: a damage that hides which household a row
/// belongs to refuses the file (exit 1, the line named, nothing written);
/// otherwise the row is rejected with its household. In no case is a
/// household evaluated with fewer members than the file gives it.
#[test]
fn broken_csv_files_are_refused_or_rejected_whole() {
    let h = format!(
        "{H}A,jilin,urban,0,false,false\nB,jilin,urban,0,false,false\nC,jilin,urban,0,false,false\n"
    );
    let good = [
        person("A1", "A", "1950-01-01"),
        person("A2", "A", "2000-01-01"),
        person("B1", "B", "1960-01-01"),
        person("C1", "C", "1970-01-01"),
    ];
    let with = |i: usize, row: &str| -> String {
        let mut rows = good.to_vec();
        rows[i] = row.to_string();
        format!("{P}{}", rows.concat())
    };
    let cases: Vec<(&str, String)> = vec![
        // A quote that is never closed would swallow the rest of the file.
        (
            "stray quote",
            with(
                1,
                &person("A2", "A", "2000-01-01").replace("none,full", "\"none,full"),
            ),
        ),
        // Closed later: two lines become one record with too many fields.
        (
            "quote closed on a later line",
            with(
                1,
                &person("A2", "A", "2000-01-01").replace("none,full", "\"none,full"),
            )
            .replacen("B1,B,1960-01-01,0,none", "B1,B,1960-01-01,0,\"none", 1),
        ),
        (
            "a line end inside quotes",
            with(0, &person("\"A\n1\"", "A", "1950-01-01")),
        ),
        (
            "a field missing",
            with(
                2,
                &person("B1", "B", "1960-01-01").replacen(",none,full", ",full", 1),
            ),
        ),
        (
            "a field too many",
            with(
                2,
                &person("B1", "B", "1960-01-01").replace(",false\n", ",false,x\n"),
            ),
        ),
        (
            "a column named twice",
            P.replace("boarding", "in_institution") + &good.concat(),
        ),
    ];
    let mut all = String::new();
    for (name, p) in &cases {
        let got = run_text(h.as_bytes(), p.as_bytes(), "csv", "2019-08");
        assert!(got.starts_with("exit: Some(1)"), "{name}: {got}");
        assert!(!got.contains("--- "), "{name}: nothing is written: {got}");
        all.push_str(&format!("## {name}\n{got}"));
    }
    // An empty extra field (a trailing comma) is harmless.
    let got = run_text(
        h.as_bytes(),
        with(
            2,
            &person("B1", "B", "1960-01-01").replace(",false\n", ",false,\n"),
        )
        .as_bytes(),
        "csv",
        "2019-08",
    );
    assert!(got.starts_with("exit: Some(0)"), "{got}");
    no_household_short(&got);
    all.push_str(&format!("## a trailing comma\n{got}"));
    insta::assert_snapshot!(all);
}

/// `line` is the physical line, whatever the line ends and blank lines
/// before the row.
#[test]
fn lines_are_physical_lines() {
    let h = format!("{H}A,jilin,urban,0,false,false\r\n\r\n\r\nB,jilin,urban,x,false,false\r\n",)
        .replace("registered_poor\n", "registered_poor\r\n");
    let p = format!(
        "{P}\n{}\n\n \n{}",
        person("\"A,1\"", "A", "1950-01-01").trim_end(),
        person("A2", "A", "1950-13-01")
    )
    .replace("\n", "\r\n");
    let got = run_text(h.as_bytes(), p.as_bytes(), "csv", "2019-08");
    // B is on line 5 of households.csv; A2 on line 6 of persons.csv (the
    // header, a blank line, A,1, a blank line, a line of a space).
    assert!(got.contains("households.csv,5,B,financial_assets"), "{got}");
    assert!(got.contains("persons.csv,6,A2,birth_date"), "{got}");
    assert!(
        got.contains("persons.csv,3,\"A,1\",,household A rejected"),
        "{got}"
    );
}

#[test]
fn broken_json_lines_files_are_refused() {
    let h = "{\"household_id\":\"A\",\"region\":\"jilin\",\"residence\":\"urban\",\"financial_assets\":\"0\",\"owns_vehicle\":false,\"registered_poor\":false}\n";
    let p1 = "{\"person_id\":\"A1\",\"household_id\":\"A\",\"birth_date\":\"1950-01-01\",\"disability_grade\":0,\"disability_kind\":\"none\",\"self_care\":\"full\",\"serious_illness\":false,\"monthly_income\":\"0\",\"rigid_expense\":\"0\",\"capable_supporter\":true,\"father_status\":\"present\",\"mother_status\":\"present\",\"in_institution\":false,\"education_stage\":\"none\",\"boarding\":false,\"hospital_level\":\"none\",\"medical_expense\":\"0\",\"employment_type\":\"none\",\"employment_start\":null,\"unemployed_months_before\":0,\"dibao_at_employment\":false}\n";
    let p2 = p1.replace("A1", "A2");
    let mut all = String::new();
    for (name, p) in [
        (
            "not JSON",
            format!("{p1}{{\"person_id\":\"A2\",\"household_id\":\"A\",\n"),
        ),
        (
            "a key twice",
            format!(
                "{p1}{}",
                p2.replace(
                    "{\"person_id\":\"A2\"",
                    "{\"person_id\":\"A2\",\"person_id\":\"A3\""
                )
            ),
        ),
        ("not an object", format!("{p1}[1,2]\n")),
    ] {
        let got = run_text(h.as_bytes(), p.as_bytes(), "jsonl", "2019-08");
        assert!(got.starts_with("exit: Some(1)"), "{name}: {got}");
        assert!(!got.contains("--- "), "{name}: {got}");
        all.push_str(&format!("## {name}\n{got}"));
    }
    // Well-formed: both persons are evaluated with their household.
    let got = run_text(
        h.as_bytes(),
        format!("{p1}\r\n{p2}").as_bytes(),
        "jsonl",
        "2019-08",
    );
    assert!(got.starts_with("exit: Some(0)"), "{got}");
    no_household_short(&got);
    insta::assert_snapshot!(all);
}

#[test]
fn parquet_columns_of_the_wrong_type_or_named_twice_are_refused() {
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, cols: Vec<(&str, ArrayRef)>| -> PathBuf {
        let fields: Vec<arrow_schema::Field> = cols
            .iter()
            .map(|(n, a)| arrow_schema::Field::new(*n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        let batch =
            RecordBatch::try_new(schema.clone(), cols.into_iter().map(|c| c.1).collect()).unwrap();
        let path = tmp.path().join(name);
        let f = std::fs::File::create(&path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        path
    };
    let s = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    let households = |assets: ArrayRef, dup: bool| -> Vec<(&'static str, ArrayRef)> {
        let mut v = vec![
            ("household_id", s("A")),
            ("region", s("jilin")),
            ("residence", s("urban")),
            ("financial_assets", assets),
            ("owns_vehicle", s("false")),
            ("registered_poor", s("false")),
        ];
        if dup {
            v.push(("household_id", s("B")));
        }
        v
    };
    let p = tmp.path().join("persons.csv");
    std::fs::write(&p, format!("{P}{}", person("A1", "A", "1950-01-01"))).unwrap();
    let mut all = String::new();
    for (name, cols) in [
        (
            "float money",
            households(Arc::new(Float64Array::from(vec![1.5])), false),
        ),
        (
            "integer money",
            households(Arc::new(Int64Array::from(vec![150])), false),
        ),
        ("a column twice", households(s("0"), true)),
    ] {
        let h = write(&format!("{}.parquet", name.replace(' ', "_")), cols);
        let dir = tmp.path().join(name.replace(' ', "_"));
        std::fs::create_dir_all(&dir).unwrap();
        let got = run_files(
            &root().join("policies/jilin"),
            &[("households", &h), ("persons", &p)],
            "2019-08",
            "csv",
            &dir,
            &[],
        );
        assert!(got.starts_with("exit: Some(1)"), "{name}: {got}");
        all.push_str(&format!("## {name}\n{got}"));
    }
    insta::assert_snapshot!(all);
}

/// A Parquet file of many small row groups (decoded on the parsing threads,
/// one group per task) with text value columns (read as dictionaries) gives
/// what the same rows in CSV give: values, errors and their lines.
#[test]
fn parquet_row_groups_and_dictionaries_agree_with_csv() {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let tmp = tempfile::tempdir().unwrap();
    let policy = root().join("policies/jilin");
    let st = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("synth")
        .arg(&policy)
        .args(["--households", "400", "--seed", "5", "--as-of", "2019-08"])
        .args(["--sample", "0", "--format", "csv", "--out"])
        .arg(tmp.path().join("pop"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    // Damage a few rows in later groups: a bad date, an unknown code, an
    // amount out of range — each must give its error row at its line.
    let damage = |name: &str, text: String| -> String {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        if name == "persons" {
            for (at, col, bad) in [(301, 2, "2019-13-01"), (555, 5, "bogus"), (700, 7, "-3")] {
                let mut f: Vec<String> = lines[at].split(',').map(String::from).collect();
                f[col] = bad.into();
                lines[at] = f.join(",");
            }
        } else {
            let mut f: Vec<String> = lines[250].split(',').map(String::from).collect();
            f[1] = "atlantis".into();
            lines[250] = f.join(",");
        }
        lines.join("\n") + "\n"
    };
    let mut paths = Vec::new();
    for name in ["households", "persons"] {
        let csv_path = tmp.path().join("pop").join(format!("{name}.csv"));
        let text = damage(name, std::fs::read_to_string(&csv_path).unwrap());
        assert!(!text.contains('"'), "the test splits on commas");
        std::fs::write(&csv_path, &text).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        let cols: Vec<ArrayRef> = (0..header.len())
            .map(|c| {
                let v: Vec<Option<&str>> = rows
                    .iter()
                    .map(|r| Some(r[c]).filter(|s| !s.is_empty()))
                    .collect();
                Arc::new(StringArray::from(v)) as ArrayRef
            })
            .collect();
        let fields: Vec<arrow_schema::Field> = header
            .iter()
            .map(|h| arrow_schema::Field::new(*h, arrow_schema::DataType::Utf8, true))
            .collect();
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
        let pq_path = tmp.path().join(format!("{name}.parquet"));
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(37))
            .build();
        let f = std::fs::File::create(&pq_path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        paths.push((csv_path, pq_path));
    }
    let run = |i: usize, threads: &str| {
        let dir = tmp.path().join(format!("run-{i}-{threads}"));
        std::fs::create_dir_all(&dir).unwrap();
        let pick = |p: &(PathBuf, PathBuf)| if i == 0 { p.0.clone() } else { p.1.clone() };
        let (h, p) = (pick(&paths[0]), pick(&paths[1]));
        run_files(
            &policy,
            &[("households", &h), ("persons", &p)],
            "2019-08",
            "csv",
            &dir,
            &["--threads", threads],
        )
        .replace(".parquet", ".csv")
    };
    let from_csv = run(0, "1");
    assert!(from_csv.starts_with("exit: Some(0)"), "{from_csv}");
    for (what, want_line) in [
        ("2019-13-01", ",302,"),
        ("bogus", ",556,"),
        ("atlantis", ",251,"),
    ] {
        assert!(
            from_csv
                .lines()
                .any(|l| l.contains(want_line) && l.contains(what)),
            "no error row for {what} at {want_line}:\n{from_csv}"
        );
    }
    assert_eq!(from_csv, run(1, "1"), "Parquet (1 thread) differs from CSV");
    assert_eq!(
        from_csv,
        run(1, "2"),
        "Parquet (2 threads) differs from CSV"
    );
}

/// Enum inputs are read by code or by the label the records declare
/// (`urban` or `城镇`), in CSV, JSON Lines and Parquet alike, with the same
/// results; a text that is neither is still an error row.
#[test]
fn enum_labels_read_as_their_codes() {
    let codes_h =
        format!("{H}H1,changchun,urban,0.00,false,false\nH2,yanbian,rural,100.00,false,true\n");
    let labels_h =
        format!("{H}H1,长春市,城镇,0.00,false,false\nH2,延边州,农村,100.00,false,true\n");
    let p = format!(
        "{P}{}{}",
        person("P1", "H1", "1950-03-01"),
        person("P2", "H2", "2010-05-05")
    );
    let by_codes = run_text(codes_h.as_bytes(), p.as_bytes(), "csv", "2019-08");
    assert!(by_codes.starts_with("exit: Some(0)"), "{by_codes}");
    assert!(by_codes.contains("H2,"), "{by_codes}");
    assert_eq!(
        by_codes,
        run_text(labels_h.as_bytes(), p.as_bytes(), "csv", "2019-08")
    );
    assert_eq!(
        by_codes,
        run_text(
            csv_to_jsonl(&labels_h).as_bytes(),
            csv_to_jsonl(&p).as_bytes(),
            "jsonl",
            "2019-08"
        )
        .replace(".jsonl", ".csv")
    );
    // Neither a code nor a label: the household is rejected, as before.
    let bad = labels_h.replace("农村", "乡村");
    let got = run_text(bad.as_bytes(), p.as_bytes(), "csv", "2019-08");
    assert!(
        got.lines()
            .any(|l| l.contains("H2") && l.contains("residence") && l.contains("乡村")),
        "{got}"
    );
}

/// `--summary json` is one JSON document on stdout (messages stay on
/// stderr), money exact decimal strings without separators, and with
/// `--timings` the `timings_ms.evaluate_engine` key scripts read.
#[test]
fn the_json_summary_is_for_machines() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("households.csv");
    let p = tmp.path().join("persons.csv");
    let mut hh = String::from(H);
    let mut pp = String::from(P);
    for i in 0..300 {
        hh.push_str(&format!("H{i},changchun,urban,0.00,false,true\n"));
        pp.push_str(&person(&format!("P{i}"), &format!("H{i}"), "1940-01-01"));
    }
    std::fs::write(&h, hh).unwrap();
    std::fs::write(&p, pp).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(root().join("policies/jilin"))
        .arg("--households")
        .arg(&h)
        .arg("--persons")
        .arg(&p)
        .args([
            "--as-of",
            "2019-08",
            "--quiet",
            "--summary",
            "json",
            "--timings",
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {:?}", o.stdout));
    assert!(v["timings_ms"]["evaluate_engine"].is_number(), "{v}");
    let progs = v["programmes"].as_array().unwrap();
    let mut paid = 0;
    for prog in progs {
        for k in ["total_per_month", "total_per_year", "total_once"] {
            let s = prog[k].as_str().unwrap();
            let (int, frac) = s.trim_start_matches('-').split_once('.').unwrap();
            assert!(
                frac.len() == 2 && int.bytes().all(|c| c.is_ascii_digit()) && !int.is_empty(),
                "{k} = {s:?}"
            );
            if int.len() > 3 {
                paid += 1;
            }
        }
    }
    assert!(
        paid > 0,
        "some total is above 999 yuan (no separators): {v}"
    );
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains('{'),
        "JSON on stderr"
    );
}

/// A person not yet born is left out, not rejected: in the summary (text
/// and JSON), the manifest and a diff; and left-out rows are not errors
/// for `--fail-fast`.
#[test]
fn left_out_is_counted_apart_from_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let h = tmp.path().join("households.csv");
    let p = tmp.path().join("persons.csv");
    std::fs::write(
        &h,
        format!("{H}G,tonghua,urban,0,false,true\nB,jilin,urban,1.234,false,false\n"),
    )
    .unwrap();
    std::fs::write(
        &p,
        format!(
            "{P}{}{}{}",
            person("G1", "G", "1945-07-07"),
            person("G2", "G", "2030-01-01"),
            person("B1", "B", "1980-01-01")
        ),
    )
    .unwrap();
    let weft = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_weft"))
            .env("NO_COLOR", "1")
            .arg("run")
            .arg(root().join("policies/jilin"))
            .args([
                "--households",
                h.to_str().unwrap(),
                "--persons",
                p.to_str().unwrap(),
            ])
            .args([
                "--as-of", "2018-08", "--quiet", "--engine", "interp", "--force",
            ])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let out = tmp.path().join("out");
    let (code, _, text) = weft(&["--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    let persons = text
        .lines()
        .find(|l| l.trim_start().starts_with("persons"))
        .unwrap();
    let words: Vec<&str> = persons.split_whitespace().collect();
    assert_eq!(
        &words[..9],
        &[
            "persons",
            "3",
            "read",
            "1",
            "evaluated",
            "1",
            "rejected",
            "1",
            "left"
        ],
        "{text}"
    );
    let (code, json, _) = weft(&["--out", out.to_str().unwrap(), "--summary", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let f = &v["files"][1];
    assert_eq!(
        (
            f["read"].as_u64(),
            f["evaluated"].as_u64(),
            f["rejected"].as_u64(),
            f["left_out"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["inputs"][1]["left_out"].as_u64(), Some(1));
    assert_eq!(m["inputs"][1]["rejected"].as_u64(), Some(1));
    assert_eq!(m["inputs"][0]["rejected"].as_u64(), Some(1));
    // One row rejected (B's household and B1) is over a limit of 0 …
    let (code, _, _) = weft(&[
        "--out",
        tmp.path().join("o2").to_str().unwrap(),
        "--fail-fast",
    ]);
    assert_ne!(code, Some(0));
    // … but a left-out row alone is not.
    std::fs::write(&h, format!("{H}G,tonghua,urban,0,false,true\n")).unwrap();
    std::fs::write(
        &p,
        format!(
            "{P}{}{}",
            person("G1", "G", "1945-07-07"),
            person("G2", "G", "2030-01-01")
        ),
    )
    .unwrap();
    let (code, _, e) = weft(&[
        "--out",
        tmp.path().join("o3").to_str().unwrap(),
        "--fail-fast",
    ]);
    assert_eq!(code, Some(0), "{e}");
    // A diff counts both apart too.
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("diff")
        .arg(root().join("policies/jilin"))
        .args([
            "--households",
            h.to_str().unwrap(),
            "--persons",
            p.to_str().unwrap(),
        ])
        .args([
            "--as-of",
            "2018-06",
            "--as-of-after",
            "2018-07",
            "--engine",
            "interp",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["left_out_before"].as_u64(), Some(1), "{d}");
    assert_eq!(d["left_out_after"].as_u64(), Some(1));
    assert_eq!(d["rejected_before"].as_u64(), Some(0));
}
