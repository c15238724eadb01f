//! The JSON documents `weft run --summary json` and `weft diff --format
//! json` write hold to their schemas in `docs/schema/`, checked by a small
//! validator of the part of JSON Schema those files use (`type`,
//! `properties`, `required`, `additionalProperties: false`, `items`,
//! `enum`, `pattern`, `minimum`, `$ref` to `#/$defs/…`); a keyword it
//! does not know fails the test, so the schemas cannot drift past it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema(name: &str) -> Value {
    let p = root().join("docs/schema").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "pattern",
    "minimum",
    "$ref",
    "$defs",
];

/// The problems of `v` against `s` (empty: valid).
fn check(root: &Value, s: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    let Some(obj) = s.as_object() else {
        out.push(format!("{at}: schema is not an object"));
        return;
    };
    for k in obj.keys() {
        if !KNOWN.contains(&k.as_str()) {
            out.push(format!(
                "{at}: schema keyword `{k}` not supported by this checker"
            ));
        }
    }
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local $ref");
        let target = &root["$defs"][name];
        assert!(!target.is_null(), "{r} is not defined");
        check(root, target, v, at, out);
    }
    if let Some(t) = obj.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            out.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let (Some(e), false) = (obj.get("enum").and_then(Value::as_array), v.is_null()) {
        if !e.contains(v) {
            out.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(p), Some(x)) = (obj.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !regex::Regex::new(p).unwrap().is_match(x) {
            out.push(format!("{at}: {x:?} does not match {p}"));
        }
    }
    if let (Some(m), Some(x)) = (obj.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < m {
            out.push(format!("{at}: {x} < {m}"));
        }
    }
    if let Some(o) = v.as_object() {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(req) = obj.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !o.contains_key(r) {
                    out.push(format!("{at}: `{r}` is missing"));
                }
            }
        }
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(root, ps, x, &format!("{at}.{k}"), out),
                None if obj.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{at}: `{k}` is not allowed"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(a)) = (obj.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check(root, items, x, &format!("{at}[{i}]"), out);
        }
    }
}

fn assert_valid(schema_name: &str, v: &Value) {
    let s = schema(schema_name);
    let mut out = Vec::new();
    check(&s, &s, v, "$", &mut out);
    assert!(out.is_empty(), "{schema_name}:\n{}\n{v:#}", out.join("\n"));
}

fn weft(args: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
}

const P: &str = "tests/jilin/spec-examples/population-small/persons.csv";
const H: &str = "tests/jilin/spec-examples/population-small/households.csv";

#[test]
fn the_checker_finds_what_breaks_a_schema() {
    let s = schema("run-summary.schema.json");
    let mut out = Vec::new();
    let bad = serde_json::json!({"as_of": "2018-1", "engine": "jit", "programmes": [{"programme": "x", "name": null, "recipients": 1, "total_per_month": "1,234.00", "total_per_year": "0.00", "total_once": "0.00"}], "extra": 1});
    check(&s, &s, &bad, "$", &mut out);
    let text = out.join("\n");
    assert!(text.contains("$.as_of"), "{text}");
    assert!(text.contains("total_per_month"), "{text}");
    assert!(text.contains("`extra` is not allowed"), "{text}");
}

#[test]
fn run_summaries_hold_to_their_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let v = weft(&[
        "run",
        "policies/jilin",
        "--as-of",
        "2018-08",
        "--persons",
        P,
        "--households",
        H,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--summary",
        "json",
        "--timings",
    ]);
    assert_valid("run-summary.schema.json", &v);
    assert!(v["timings_ms"]["evaluate_engine"].is_number());
    // Money is exact, without separators.
    let dibao = v["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["programme"] == "dibao")
        .unwrap();
    assert!(
        dibao["total_per_month"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
}

#[test]
fn diff_reports_hold_to_their_schema() {
    let v = weft(&[
        "diff",
        "policies/jilin",
        "--as-of",
        "2018-06",
        "--as-of-after",
        "2018-07",
        "--persons",
        P,
        "--households",
        H,
        "--format",
        "json",
    ]);
    assert_valid("diff.schema.json", &v);
    // Labelled objects, never positional arrays of amounts.
    let dibao = v["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["programme"] == "dibao")
        .unwrap();
    assert!(dibao["total_before"]["per_month"].is_string());
    assert_eq!(dibao["histogram"].as_array().unwrap().len(), 8);
    assert!(dibao["histogram"][0]["min"].is_null());
    assert_eq!(dibao["histogram"][0]["max"], "-1000.00");
    // The July 2018 standards are among the parameters that changed.
    let names: Vec<&str> = v["parameters_changed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"dibao_standard_urban"), "{names:?}");
}

#[test]
fn a_range_run_summary_holds_to_the_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let v = weft(&[
        "run",
        "policies/jilin",
        "--as-of",
        "2018-06..2018-08",
        "--persons",
        P,
        "--households",
        H,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--summary",
        "json",
        "--timings",
    ]);
    assert_valid("run-summary.schema.json", &v);
    assert_eq!(v["months"].as_array().unwrap().len(), 3);
    assert!(v["timings_ms"]["evaluate_engine"].is_number());
}
