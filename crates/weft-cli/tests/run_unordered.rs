//! `weft run` on a persons file not grouped by household: the order-free
//! mode sorts it on disk (bounded memory) and must give exactly the results
//! of the same rows grouped, with every output in its input's order —
//! whether the sort uses one partition or many, whether the reordered
//! outputs stay in memory or spill. (Every format is parsed into the same
//! typed rows before the sort; the formats' parsing is tested in
//! `run_inputs.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn weft(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// A deterministic shuffle (a linear congruential generator).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (seed >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

/// Each output's lines (CSV) by file name.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".csv") {
            let text = std::fs::read_to_string(&p).unwrap();
            m.insert(name, text.lines().map(str::to_string).collect());
        }
    }
    m
}

#[test]
fn an_ungrouped_persons_file_gives_the_grouped_results_in_its_own_order() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let pop = t.join("pop");
    let policy = root().join("policies/jilin");
    let policy = policy.to_str().unwrap();
    let (code, err) = weft(&[
        "synth",
        policy,
        "--households",
        "1500",
        "--seed",
        "11",
        "--as-of",
        "2019-08",
        "--out",
        pop.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let persons = std::fs::read_to_string(pop.join("persons.csv")).unwrap();
    let mut lines = persons.lines();
    let header = lines.next().unwrap().to_string();
    let mut rows: Vec<String> = lines.map(str::to_string).collect();
    // Some bad rows too: a person of no household, a duplicated person id.
    let cols = header.split(',').count();
    let mut stray: Vec<String> = rows[0].split(',').map(str::to_string).collect();
    let hcol = header.split(',').position(|c| c == "household_id").unwrap();
    stray[0] = "P-STRAY".into();
    stray[hcol] = "H-NOWHERE".into();
    assert_eq!(stray.len(), cols);
    rows.push(stray.join(","));
    // (the duplicate next to its twin, so the grouped file stays grouped)
    rows.insert(6, rows[5].clone());
    std::fs::create_dir_all(t.join("grouped")).unwrap();
    std::fs::create_dir_all(t.join("shuffled")).unwrap();
    let grouped = t.join("grouped/persons.csv");
    std::fs::write(&grouped, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    shuffle(&mut rows, 7);
    let shuffled = t.join("shuffled/persons.csv");
    std::fs::write(&shuffled, format!("{header}\n{}\n", rows.join("\n"))).unwrap();

    let households = pop.join("households.csv");
    let run = |persons: &Path, out: &str, extra: &[&str]| {
        let out = t.join(out);
        let mut args = vec![
            "run",
            policy,
            "--households",
            households.to_str().unwrap(),
            "--persons",
            persons.to_str().unwrap(),
            "--as-of",
            "2019-08",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (code, err) = weft(&args);
        (code, err, outputs(&out))
    };
    let (code, err, want) = run(&grouped, "want", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("not grouped"), "{err}");
    let tries: [&[&str]; 3] = [
        &[],
        &["--index-partitions", "1"],
        &["--index-partitions", "4"],
    ];
    for (k, extra) in tries.into_iter().enumerate() {
        let (code, err, got) = run(&shuffled, &format!("got{k}"), extra);
        assert_eq!(code, 0, "{extra:?}: {err}");
        assert!(err.contains("persons.csv is not grouped"), "{err}");
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (name, w) in &want {
            let g = &got[name];
            if name == "households.csv" {
                // Household outputs follow the household file: identical.
                assert_eq!(g, w, "{name} {extra:?}");
                continue;
            }
            // The same rows (persons' line numbers aside: the lines moved)...
            let strip = |v: &[String]| {
                let mut v: Vec<String> = v.iter().map(|l| without_person_lines(l)).collect();
                v.sort();
                v
            };
            assert_eq!(strip(g), strip(w), "{name} {extra:?}");
        }
        // ...and person outputs in the shuffled file's order.
        let order: Vec<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
        for (name, g) in &got {
            if name == "errors.csv" || !g[0].starts_with("person_id") {
                continue;
            }
            let ids: Vec<&str> = g[1..]
                .iter()
                .map(|l| l.split(',').next().unwrap())
                .collect();
            let mut at = 0;
            for id in &ids {
                let next = order[at..].iter().position(|o| o == id);
                assert!(next.is_some(), "{name}: {id} out of order");
                at += next.unwrap() + 1;
            }
        }
    }
}

/// An error row without the persons file's line numbers: its own line
/// (a persons row) and `(line N)` where a household's row quotes a person.
fn without_person_lines(l: &str) -> String {
    let mut l = l.to_string();
    if l.starts_with("persons") {
        let f: Vec<&str> = l.splitn(3, ',').collect();
        l = format!("{},{}", f[0], f.get(2).unwrap_or(&""));
    }
    while let Some(i) = l.find(" (line ") {
        let end = l[i..].find(')').map(|e| i + e + 1).unwrap_or(l.len());
        l.replace_range(i..end, "");
    }
    l
}
