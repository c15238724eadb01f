//! The API as a service embedding Weft uses it: load the Jilin pack, ask
//! for the Arrow schema of its inputs, evaluate JSON and Arrow batches
//! (typed and text), refuse batches whose columns cannot hold their
//! fields, overlay a parameter, explain, read results by id, and share one
//! evaluator between threads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft::arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, RecordBatch, StringArray, TimestampSecondArray,
};
use weft::arrow_schema::{DataType, Schema};
use weft::{BatchOptions, Date, Engine, Error, IntegerMoney, Money, Policy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn jilin() -> Policy {
    Policy::from_dir(root().join("policies/jilin")).unwrap()
}

/// A CSV file as a header and rows of text.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().iter().map(|s| s.to_string()).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(|s| s.to_string()).collect())
        .collect();
    (h, rows)
}

/// `1234.50` → 123450 (fen).
fn fen(text: &str) -> i128 {
    let (yuan, cents) = text.split_once('.').unwrap_or((text, "0"));
    let neg = yuan.starts_with('-');
    let v = yuan.trim_start_matches('-').parse::<i128>().unwrap() * 100
        + format!("{cents:0<2}").parse::<i128>().unwrap();
    if neg { -v } else { v }
}

fn days(text: &str) -> i32 {
    let p: Vec<u32> = text.split('-').map(|x| x.parse().unwrap()).collect();
    Date::new(p[0] as i32, p[1], p[2]).unwrap().days()
}

/// A column of text cells as an array of `ty` (empty cells are null).
fn column(cells: &[&str], ty: &DataType) -> ArrayRef {
    fn opt<'a>(c: &&'a str) -> Option<&'a str> {
        (!c.is_empty()).then_some(*c)
    }
    match ty {
        DataType::Decimal128(p, s) => Arc::new(
            Decimal128Array::from(cells.iter().map(|c| opt(c).map(fen)).collect::<Vec<_>>())
                .with_precision_and_scale(*p, *s)
                .unwrap(),
        ),
        DataType::Date32 => Arc::new(Date32Array::from(
            cells.iter().map(|c| opt(c).map(days)).collect::<Vec<_>>(),
        )),
        DataType::Boolean => Arc::new(BooleanArray::from(
            cells
                .iter()
                .map(|c| opt(c).map(|c| c == "true"))
                .collect::<Vec<_>>(),
        )),
        DataType::Int64 => Arc::new(Int64Array::from(
            cells
                .iter()
                .map(|c| opt(c).map(|c| c.parse::<i64>().unwrap()))
                .collect::<Vec<_>>(),
        )),
        DataType::Utf8 => Arc::new(StringArray::from(cells.iter().map(opt).collect::<Vec<_>>())),
        other => panic!("no test conversion to {other}"),
    }
}

/// Rows of text as a record batch: typed as `schema` says, or all text.
fn batch(header: &[String], rows: &[Vec<String>], schema: Option<&Schema>) -> RecordBatch {
    let cols: Vec<(String, ArrayRef)> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let cells: Vec<&str> = rows.iter().map(|r| r[i].as_str()).collect();
            let ty = schema
                .and_then(|s| s.field_with_name(h).ok())
                .map(|f| f.data_type().clone())
                .unwrap_or(DataType::Utf8);
            (h.clone(), column(&cells, &ty))
        })
        .collect();
    RecordBatch::try_from_iter(cols).unwrap()
}

/// An output cell as the output files write it (`Value`'s display).
fn cell_text(a: &dyn Array, i: usize) -> String {
    use weft::arrow_array::cast::AsArray;
    use weft::arrow_array::types::{Date32Type, Decimal128Type, Int64Type};
    if a.is_null(i) {
        return String::new();
    }
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Date32 => Date::from_days(a.as_primitive::<Date32Type>().value(i)).to_string(),
        DataType::Decimal128(_, 2) => {
            let v = a.as_primitive::<Decimal128Type>().value(i);
            Money::from_fen(i64::try_from(v).unwrap()).to_string()
        }
        DataType::Decimal128(_, 6) => {
            let v = a.as_primitive::<Decimal128Type>().value(i);
            weft::Decimal::from_millionths(i64::try_from(v).unwrap()).to_string()
        }
        other => panic!("an output column of type {other}"),
    }
}

/// A copy of `b` with column `name` replaced (or added).
fn with_column(b: &RecordBatch, name: &str, a: ArrayRef) -> RecordBatch {
    let mut cols: Vec<(String, ArrayRef)> = b
        .schema()
        .fields()
        .iter()
        .zip(b.columns())
        .filter(|(f, _)| f.name() != name)
        .map(|(f, c)| (f.name().clone(), c.clone()))
        .collect();
    cols.push((name.to_string(), a));
    RecordBatch::try_from_iter(cols).unwrap()
}

struct Population {
    households: (Vec<String>, Vec<Vec<String>>),
    persons: (Vec<String>, Vec<Vec<String>>),
}

fn small() -> Population {
    let dir = root().join("tests/jilin/spec-examples/population-small");
    Population {
        households: csv_rows(&dir.join("households.csv")),
        persons: csv_rows(&dir.join("persons.csv")),
    }
}

/// The population with rows an agency's export really has: a person of an
/// unknown household, a duplicate person id, a disability grade out of
/// range and a negative income.
fn with_bad_rows(mut pop: Population) -> Population {
    let (ph, prows) = &mut pop.persons;
    let at = |name: &str| ph.iter().position(|h| h == name).unwrap();
    let mut orphan = prows[0].clone();
    orphan[at("person_id")] = "P-ORPHAN".into();
    orphan[at("household_id")] = "H-NOWHERE".into();
    let duplicate = prows[5].clone();
    let mut graded = prows[10].clone();
    graded[at("disability_grade")] = "9".into();
    let mut negative = prows[20].clone();
    negative[at("monthly_income")] = "-5.00".into();
    prows[10] = graded;
    prows[20] = negative;
    prows.push(orphan);
    prows.push(duplicate);
    pop
}

fn typed(policy: &Policy, pop: &Population) -> (RecordBatch, RecordBatch) {
    let hs = policy.input_schema("households").unwrap();
    let ps = policy.input_schema("persons").unwrap();
    (
        batch(&pop.households.0, &pop.households.1, Some(&hs)),
        batch(&pop.persons.0, &pop.persons.1, Some(&ps)),
    )
}

fn text(pop: &Population) -> (RecordBatch, RecordBatch) {
    (
        batch(&pop.households.0, &pop.households.1, None),
        batch(&pop.persons.0, &pop.persons.1, None),
    )
}

#[test]
fn the_input_schema_says_what_each_column_should_be() {
    let policy = jilin();
    let p = policy.input_schema("persons").unwrap();
    let ty = |n: &str| p.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("monthly_income"), DataType::Decimal128(18, 2));
    assert_eq!(ty("birth_date"), DataType::Date32);
    assert_eq!(ty("serious_illness"), DataType::Boolean);
    assert_eq!(ty("disability_grade"), DataType::Int64);
    assert_eq!(ty("self_care"), DataType::Utf8, "enums by their codes");
    assert_eq!(ty("person_id"), DataType::Utf8);
    // An optional field is nullable; a required one is not.
    assert!(p.field_with_name("employment_start").unwrap().is_nullable());
    assert!(!p.field_with_name("birth_date").unwrap().is_nullable());
    // Exactly the columns the policy reads, in the order of `inputs()`.
    let info = policy
        .inputs()
        .into_iter()
        .find(|i| i.name == "persons")
        .unwrap();
    let names: Vec<&String> = p.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, info.columns.iter().collect::<Vec<_>>());
    assert!(policy.input_schema("vehicles").is_none());
}

/// Typed Arrow columns, text columns and JSON give the same outputs and
/// the same error rows, on both engines; and the outputs are those `weft
/// run` writes.
#[test]
fn typed_batches_text_batches_and_json_agree() {
    let policy = jilin();
    let pop = with_bad_rows(small());
    let (th, tp) = typed(&policy, &pop);
    let (xh, xp) = text(&pop);
    let as_json = |(h, rows): &(Vec<String>, Vec<Vec<String>>)| -> serde_json::Value {
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
    };
    let json = serde_json::json!({"households": as_json(&pop.households), "persons": as_json(&pop.persons)});
    let mut first: Option<weft::BatchResult> = None;
    for engine in [Engine::Interpreter, Engine::Jit] {
        let eval = policy
            .evaluator("2018-08".parse().unwrap(), engine)
            .unwrap();
        let typed = eval
            .evaluate_batch(&[("households", &th), ("persons", &tp)])
            .unwrap();
        let text = eval
            .evaluate_batch(&[("persons", &xp), ("households", &xh)])
            .unwrap();
        assert_eq!(typed.outputs(), text.outputs(), "{engine:?}");
        // The same error rows; a bad value is echoed as its text, which
        // for the Decimal128 -500 (scale 2) is `-5` and in the CSV `-5.00`.
        let echo = |rows: &[weft::ErrorRow]| -> Vec<weft::ErrorRow> {
            rows.iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.message = e.message.replace("-5.00", "-5");
                    e
                })
                .collect()
        };
        assert_eq!(typed.errors(), echo(text.errors()), "{engine:?}");
        let j = eval.evaluate_json(&json).unwrap();
        assert_eq!(text.errors(), j.errors.as_slice(), "{engine:?}");
        // Cell for cell, the batch outputs are the JSON evaluation's.
        for name in ["households", "persons"] {
            let b = typed.output(name).unwrap();
            let want = &j.output(name).unwrap().rows;
            assert_eq!(b.num_rows(), want.len(), "{name}");
            for (i, row) in want.iter().enumerate() {
                let got: Vec<String> = b
                    .columns()
                    .iter()
                    .map(|c| cell_text(c.as_ref(), i))
                    .collect();
                let want: Vec<String> = row.iter().map(|v| v.to_string()).collect();
                assert_eq!(got, want, "{name} row {i} ({engine:?})");
            }
        }
        if let Some(f) = &first {
            assert_eq!(f.outputs(), typed.outputs(), "the engines agree");
        }
        first = Some(typed);
    }
    let r = first.unwrap();
    // The bad rows, each with the column at fault.
    let column_of = |id: &str| -> Vec<&str> {
        r.errors()
            .iter()
            .filter(|e| e.record_id == id)
            .map(|e| e.column.as_str())
            .collect()
    };
    assert_eq!(column_of("P-ORPHAN"), ["household_id"]);
    let graded = &pop.persons.1[10][0];
    assert!(
        column_of(graded).contains(&"disability_grade"),
        "{:?}",
        r.errors()
    );
    let negative = &pop.persons.1[20][0];
    assert!(
        column_of(negative).contains(&"monthly_income"),
        "{:?}",
        r.errors()
    );
    let duplicate = &pop.persons.1[5][0];
    assert!(
        column_of(duplicate).contains(&"person_id"),
        "{:?}",
        r.errors()
    );

    // Without the bad rows, the outputs are `weft run`'s expected files.
    let clean = small();
    let (h, p) = typed(&policy, &clean);
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap();
    let r = eval
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    let (eh, erows) = csv_rows(
        &root().join("tests/jilin/spec-examples/population-small/expected-2018-08/households.csv"),
    );
    let out = r.output("households").unwrap();
    assert_eq!(out.num_rows(), erows.len());
    let col = eh.iter().position(|c| c == "dibao_benefit").unwrap();
    let dibao = out
        .column_by_name("dibao_benefit")
        .unwrap()
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap();
    for (i, want) in erows.iter().enumerate() {
        assert_eq!(dibao.value(i), fen(&want[col]), "household {}", want[0]);
    }
}

#[test]
fn columns_the_policy_does_not_read_are_ignored_whatever_their_type() {
    let policy = jilin();
    let pop = small();
    let (h, p) = typed(&policy, &pop);
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap();
    let want = eval
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    let n = p.num_rows();
    let noisy = with_column(&p, "bmi", Arc::new(Float64Array::from(vec![Some(22.5); n])));
    let noisy = with_column(
        &noisy,
        "updated_at",
        Arc::new(TimestampSecondArray::from(vec![Some(1_500_000_000); n])),
    );
    let got = eval
        .evaluate_batch(&[("households", &h), ("persons", &noisy)])
        .unwrap();
    assert_eq!(got.outputs(), want.outputs());
    // Strict mode refuses them, naming the column.
    let strict = BatchOptions::new().strict(true);
    let err = eval
        .evaluate_batch_with(&[("households", &h), ("persons", &noisy)], &strict)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { input, column } if input == "persons" && column == "bmi"),
        "{err}"
    );
}

/// A column of a type that cannot hold its field is one error naming the
/// input, the column, what was expected and what was found — before any
/// row is read — instead of an error row on every record.
#[test]
fn wrong_typed_columns_are_one_typed_error() {
    let policy = jilin();
    let pop = small();
    let (h, p) = typed(&policy, &pop);
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap();
    let n = p.num_rows();
    let cases: Vec<(&str, ArrayRef, &str)> = vec![
        (
            "monthly_income",
            Arc::new(Float64Array::from(vec![Some(100.5); n])),
            "Float64",
        ),
        (
            "birth_date",
            Arc::new(TimestampSecondArray::from(vec![Some(0); n])),
            "Timestamp(s)",
        ),
        (
            "self_care",
            Arc::new(Int32Array::from(vec![Some(1); n])),
            "Int32",
        ),
        (
            "serious_illness",
            Arc::new(Date32Array::from(vec![Some(1); n])),
            "Date32",
        ),
    ];
    for (name, array, found_type) in cases {
        let bad = with_column(&p, name, array);
        let err = eval
            .evaluate_batch(&[("households", &h), ("persons", &bad)])
            .unwrap_err();
        match &err {
            Error::ColumnType {
                input,
                column,
                expected,
                found,
            } => {
                assert_eq!((input.as_str(), column.as_str()), ("persons", name));
                assert!(found.starts_with(found_type), "{found}");
                assert!(!expected.is_empty());
            }
            other => panic!("{name}: {other}"),
        }
        assert!(err.to_string().contains(name), "{err}");
    }
    // A missing column names every column missing.
    let fewer = RecordBatch::try_from_iter(
        p.schema()
            .fields()
            .iter()
            .zip(p.columns())
            .filter(|(f, _)| f.name() != "birth_date" && f.name() != "self_care")
            .map(|(f, c)| (f.name().clone(), c.clone())),
    )
    .unwrap();
    let err = eval
        .evaluate_batch(&[("households", &h), ("persons", &fewer)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumns { input, columns } if input == "persons" && columns == &["birth_date", "self_care"]),
        "{err}"
    );
    let err = eval.evaluate_batch(&[("households", &h)]).unwrap_err();
    assert!(
        matches!(&err, Error::MissingInput { input } if input == "persons"),
        "{err}"
    );
    let err = eval
        .evaluate_batch(&[("households", &h), ("persons", &p), ("cars", &p)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownInput { name, .. } if name == "cars"),
        "{err}"
    );
}

/// Integer money could be fen or yuan: refused unless the caller says,
/// then read exactly as said.
#[test]
fn integer_money_is_refused_unless_the_caller_says_fen_or_yuan() {
    let policy = jilin();
    let pop = small();
    let (h, p) = typed(&policy, &pop);
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap();
    let want = eval
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    let incomes: Vec<i128> = pop
        .persons
        .1
        .iter()
        .map(|r| {
            fen(&r[pop
                .persons
                .0
                .iter()
                .position(|c| c == "monthly_income")
                .unwrap()])
        })
        .collect();
    let in_fen = with_column(
        &p,
        "monthly_income",
        Arc::new(Int64Array::from(
            incomes.iter().map(|v| *v as i64).collect::<Vec<_>>(),
        )),
    );
    let err = eval
        .evaluate_batch(&[("households", &h), ("persons", &in_fen)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::IntegerMoney { input, column } if input == "persons" && column == "monthly_income"),
        "{err}"
    );
    let fen_opts = BatchOptions::new().integer_money(IntegerMoney::Fen);
    let got = eval
        .evaluate_batch_with(&[("households", &h), ("persons", &in_fen)], &fen_opts)
        .unwrap();
    assert_eq!(got.outputs(), want.outputs());
    // Whole yuan: ¥806 as 806.
    let whole: Vec<i128> = incomes.iter().map(|v| v / 100 * 100).collect();
    let as_decimal = with_column(
        &p,
        "monthly_income",
        Arc::new(
            Decimal128Array::from(whole.clone())
                .with_precision_and_scale(18, 2)
                .unwrap(),
        ),
    );
    let in_yuan = with_column(
        &p,
        "monthly_income",
        Arc::new(Int64Array::from(
            whole.iter().map(|v| (*v / 100) as i64).collect::<Vec<_>>(),
        )),
    );
    let yuan_opts = BatchOptions::new().integer_money(IntegerMoney::Yuan);
    let a = eval
        .evaluate_batch(&[("households", &h), ("persons", &as_decimal)])
        .unwrap();
    let b = eval
        .evaluate_batch_with(&[("households", &h), ("persons", &in_yuan)], &yuan_opts)
        .unwrap();
    assert_eq!(a.outputs(), b.outputs());
    assert_ne!(a.outputs(), want.outputs(), "the cents matter somewhere");
}

/// One evaluator, shared by threads, gives every thread the same result.
#[test]
fn one_evaluator_serves_many_threads() {
    let policy = jilin();
    let pop = with_bad_rows(small());
    let (h, p) = typed(&policy, &pop);
    let eval = Arc::new(
        policy
            .evaluator("2018-08".parse().unwrap(), Engine::Jit)
            .unwrap(),
    );
    let want = eval
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    let results: Vec<weft::BatchResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (eval, h, p) = (eval.clone(), &h, &p);
                s.spawn(move || {
                    eval.evaluate_batch(&[("households", h), ("persons", p)])
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for r in results {
        assert_eq!(r.outputs(), want.outputs());
        assert_eq!(r.errors(), want.errors());
    }
}

/// Results by id, typed; an overlay; an explanation; strict explain.
#[test]
fn typed_results_overlays_and_explanations() {
    let policy = jilin();
    let dir = root().join("tests/jilin/spec-examples");
    let (hh, hrows) = csv_rows(&dir.join("households.csv"));
    let (ph, prows) = csv_rows(&dir.join("persons.csv"));
    let obj = |h: &[String], r: &[String]| -> serde_json::Value {
        serde_json::Value::Object(
            h.iter()
                .zip(r)
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    };
    let input = serde_json::json!({
        "households": hrows.iter().map(|r| obj(&hh, r)).collect::<Vec<_>>(),
        "persons": prows.iter().map(|r| obj(&ph, r)).collect::<Vec<_>>(),
    });
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap();
    let r = eval.evaluate_json(&input).unwrap();
    let hid = &hrows[0][0];
    let standard = r
        .get("households", hid, "dibao_standard")
        .and_then(|v| v.as_money())
        .unwrap();
    assert_eq!(standard, Money::from_fen(62_000));
    assert_eq!(r.get("households", hid, "no_such_column"), None);
    assert_eq!(r.get("households", "no-such-id", "dibao_standard"), None);
    let pid = &prows[0][0];
    let born = r.get("persons", pid, "person_id").and_then(|v| v.as_text());
    assert_eq!(born, Some(pid.as_str()));

    let raised = policy
        .with_params(&[("raise.toml", "[dibao_standard_urban]\n[[dibao_standard_urban.version]]\neffective = 2018-08-01\nchangchun = 700\njilin = 545\nsiping = 540\nliaoyuan = 550\ntonghua = 550\nbaishan = 540\nsongyuan = 543\nbaicheng = 470\nyanbian = 620\nchangbaishan = 550\n")])
        .unwrap();
    let after = raised
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap()
        .evaluate_json(&input)
        .unwrap();
    assert_eq!(
        after
            .get("households", hid, "dibao_standard")
            .and_then(|v| v.as_money()),
        Some(Money::from_fen(70_000))
    );

    let e = eval.explain_json(&input, "A1", &["tekun_care"]).unwrap();
    assert_eq!(e.columns().collect::<Vec<_>>(), ["tekun_care"]);
    assert!(e.rejected().is_none());
    // A name that is no output column: ignored by default, refused when strict.
    let lenient = eval.explain_json(&input, "A1", &["tekun_car"]).unwrap();
    assert_eq!(lenient.columns().count(), 0);
    let strict = BatchOptions::new().strict(true);
    let err = eval
        .explain_json_with(&input, "A1", &["tekun_car"], &strict)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownOutputColumn { columns } if columns == &["tekun_car"]),
        "{err}"
    );
    let err = eval.explain_json(&input, "nobody", &[]).unwrap_err();
    assert!(
        matches!(&err, Error::NoSuchRecord { id } if id == "nobody"),
        "{err}"
    );
    // Strict JSON: a field the policy does not read.
    let mut extra = input.clone();
    extra["persons"][0]["nickname"] = "Lao Wang".into();
    assert!(eval.evaluate_json(&extra).is_ok());
    let err = eval.evaluate_json_with(&extra, &strict).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { input, column } if input == "persons" && column == "nickname"),
        "{err}"
    );
}

#[test]
fn dates_to_and_from_days_and_diagnostics_with_places() {
    let d = Date::new(2018, 8, 1).unwrap();
    assert_eq!(Date::from_days(d.days()), d);
    assert_eq!(d.days(), 17_744);
    assert_eq!("2018-08".parse::<weft::Month>().unwrap().first_day(), d);
    let err =
        Policy::from_sources(weft::Sources::new().module("bad.weft", "rule r: Money = ¥1 + 2%"))
            .unwrap_err();
    let Error::Policy(diags) = &err else {
        panic!("{err}")
    };
    let first = diags.iter().next().unwrap();
    assert_eq!(
        (first.file.as_deref(), first.line, first.column),
        (Some("bad.weft"), Some(1), Some(17))
    );
    // The error is a miette diagnostic carrying each item with its code.
    let m: &dyn weft::miette::Diagnostic = &err;
    assert_eq!(m.code().map(|c| c.to_string()), Some(first.code.clone()));
    assert_eq!(m.related().map(|r| r.count()), Some(diags.len()));
    // An I/O error keeps the operating system's error.
    let err = Policy::from_dir("/no/such/pack").unwrap_err();
    match err {
        Error::Io { source, path, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            assert_eq!(path, Path::new("/no/such/pack"));
        }
        other => panic!("{other}"),
    }
}

/// One region's standard raised alone, without restating the others; an
/// evaluator of the overlay shares the compiled program.
#[test]
fn one_parameter_value_as_an_overlay() {
    let policy = jilin();
    let pop = small();
    let (h, p) = typed(&policy, &pop);
    let month: weft::Month = "2018-08".parse().unwrap();
    let from = Date::new(2018, 8, 1).unwrap();
    let raised = policy
        .with_param(
            "dibao_standard_urban",
            &["changchun"],
            from,
            weft::Value::Money(Money::from_fen(99_900)),
        )
        .unwrap();
    let eval = policy.evaluator(month, Engine::Jit).unwrap();
    let before = eval
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    let after = eval
        .rebind(&raised)
        .unwrap()
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    let standard = |r: &weft::BatchResult, i: usize| {
        let b = r.output("households").unwrap();
        cell_text(b.column_by_name("dibao_standard").unwrap().as_ref(), i)
    };
    let (hh, hrows) = &pop.households;
    let col = |n: &str| hh.iter().position(|c| c == n).unwrap();
    let mut raised_rows = 0;
    for (i, row) in hrows.iter().enumerate() {
        if row[col("region")] == "changchun" && row[col("residence")] == "urban" {
            assert_eq!(standard(&after, i), "999.00", "{}", row[0]);
            raised_rows += 1;
        } else {
            assert_eq!(standard(&after, i), standard(&before, i), "{}", row[0]);
        }
    }
    assert!(
        raised_rows > 0,
        "the population has urban Changchun households"
    );
    // Before the date, the old standard holds.
    let july = raised
        .evaluator("2018-07".parse().unwrap(), Engine::Interpreter)
        .unwrap()
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    let july_before = policy
        .evaluator("2018-07".parse().unwrap(), Engine::Interpreter)
        .unwrap()
        .evaluate_batch(&[("households", &h), ("persons", &p)])
        .unwrap();
    assert_eq!(july.outputs(), july_before.outputs());
    // Mistakes are errors, not panics.
    let bad = |name: &str, keys: &[&str], v: weft::Value| {
        policy.with_param(name, keys, from, v).unwrap_err()
    };
    let m = weft::Value::Money(Money::from_fen(1));
    assert!(matches!(
        bad("no_such", &["changchun"], m.clone()),
        Error::Input(_)
    ));
    assert!(matches!(
        bad("dibao_standard_urban", &[], m.clone()),
        Error::Input(_)
    ));
    assert!(matches!(
        bad("dibao_standard_urban", &["atlantis"], m.clone()),
        Error::Input(_)
    ));
    assert!(matches!(
        bad(
            "dibao_standard_urban",
            &["changchun"],
            weft::Value::Bool(true)
        ),
        Error::Input(_)
    ));
    // An unkeyed decimal.
    let r = policy
        .with_param(
            "tekun_living_ratio",
            &[],
            from,
            weft::Value::Decimal(weft::Decimal::from_millionths(1_500_000)),
        )
        .unwrap();
    assert_ne!(
        eval.rebind(&r)
            .unwrap()
            .evaluate_batch(&[("households", &h), ("persons", &p)])
            .unwrap()
            .outputs(),
        before.outputs()
    );
}

#[test]
fn batches_may_give_the_line_of_each_row_and_empty_batches_give_empty_outputs() {
    use weft::python_support::evaluate_batch_lines;
    let policy = jilin();
    let pop = with_bad_rows(small());
    let (h, p) = typed(&policy, &pop);
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Interpreter)
        .unwrap();
    let person_lines = |r: &weft::BatchResult| -> Vec<u64> {
        r.errors()
            .iter()
            .filter(|e| e.input == "persons")
            .map(|e| e.line)
            .collect()
    };
    // Without lines: a row's position plus two, as for a CSV file with a header.
    let plain =
        evaluate_batch_lines(&eval, &[("households", &h, None), ("persons", &p, None)]).unwrap();
    let plain_lines = person_lines(&plain);
    assert!(!plain_lines.is_empty());
    assert!(plain_lines.iter().all(|l| *l >= 2));
    // With lines: those lines, in the same order; outputs unchanged.
    let lines: Vec<u64> = (0..p.num_rows() as u64).map(|i| 100 + 3 * i).collect();
    let given = evaluate_batch_lines(
        &eval,
        &[("households", &h, None), ("persons", &p, Some(&lines))],
    )
    .unwrap();
    let want: Vec<u64> = plain_lines.iter().map(|l| 100 + 3 * (l - 2)).collect();
    assert_eq!(person_lines(&given), want);
    assert_eq!(given.outputs().len(), plain.outputs().len());
    for ((_, a), (_, b)) in given.outputs().iter().zip(plain.outputs()) {
        assert_eq!(a, b);
    }
    let errs = given.errors_batch().unwrap();
    assert_eq!(errs.num_rows(), given.errors().len());
    // As many lines as rows, or the batch is refused.
    assert!(
        evaluate_batch_lines(
            &eval,
            &[("households", &h, None), ("persons", &p, Some(&lines[1..]))],
        )
        .is_err()
    );
    // Empty batches (a partition without rows): empty outputs of the
    // policy's schema, no error rows.
    let (h0, p0) = (h.slice(0, 0), p.slice(0, 0));
    for engine in [Engine::Interpreter, Engine::Jit] {
        let eval = policy
            .evaluator("2018-08".parse().unwrap(), engine)
            .unwrap();
        let r = eval
            .evaluate_batch(&[("households", &h0), ("persons", &p0)])
            .unwrap();
        assert!(r.errors().is_empty());
        for ((_, empty), (_, full)) in r.outputs().iter().zip(plain.outputs()) {
            assert_eq!(empty.num_rows(), 0);
            assert_eq!(empty.schema(), full.schema());
        }
    }
}
