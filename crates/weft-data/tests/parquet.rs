//! Parquet reader and writer. Fixtures are made here with arrow/parquet.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failure is a panic
#![cfg(feature = "parquet")]

mod common;

use arrow_array::ArrowPrimitiveType;
use arrow_array::builder::{
    Decimal128Builder, Float64Builder, Int64Builder, ListBuilder, StringDictionaryBuilder,
};
use arrow_array::types::{Float16Type, Int32Type};
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Decimal256Array,
    Float16Array, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, StringViewArray, TimestampMicrosecondArray,
    UInt8Array, UInt64Array,
};
use arrow_buffer::i256;
use arrow_schema::{DataType, Field, Schema};
use common::*;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_check::Program;
use weft_check::ty::{Per, Ty};
use weft_data::cell::{Cell, parse_value};
use weft_data::parquetio::{ParquetReader, ParquetWriter};
use weft_data::{
    CellKind, Format, OutCell, OutType, RowReader, RowWriter, open_reader, open_writer,
};

type F16 = <Float16Type as ArrowPrimitiveType>::Native;

/// Write these columns as a Parquet file, `group` rows per row group.
fn write_parquet(name: &str, cols: Vec<(&str, ArrayRef)>, group: usize) -> PathBuf {
    let p = tmp_dir(name).join(name);
    let batch =
        RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(n, a)| (n, a, true)))
            .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .build();
    let f = std::fs::File::create(&p).unwrap();
    let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    p
}

fn read(p: &Path) -> (Vec<String>, Vec<Got>) {
    let mut r = ParquetReader::open(p).unwrap();
    let rows = read_all(&mut r);
    (r.header().to_vec(), rows)
}

/// The cells of one column, by row.
fn column(rows: &[Got], i: usize) -> Vec<(CellKind, String)> {
    rows.iter().map(|(_, c)| c[i].clone()).collect()
}

fn decimals(values: &[Option<i128>], precision: u8, scale: i8) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(values.to_vec())
            .with_precision_and_scale(precision, scale)
            .unwrap(),
    )
}

#[test]
fn decimal128_keeps_its_exact_value() {
    let v = [
        Some(12345),
        Some(-12345),
        Some(5),
        Some(-5),
        Some(0),
        Some(12300),
        Some(100),
        None,
        Some(999_999_999_999_999_999),
    ];
    let p = write_parquet(
        "dec.parquet",
        vec![
            ("s0", decimals(&v, 38, 0)),
            ("s1", decimals(&v, 38, 1)),
            ("s2", decimals(&v, 38, 2)),
            ("s3", decimals(&v, 38, 3)),
        ],
        1024,
    );
    let (h, rows) = read(&p);
    assert_eq!(h, ["s0", "s1", "s2", "s3"]);
    let texts = |i: usize| column(&rows, i);
    let txt = |v: &[&str]| {
        v.iter()
            .map(|s| if *s == "NULL" { null() } else { t(s) })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(0),
        txt(&[
            "12345",
            "-12345",
            "5",
            "-5",
            "0",
            "12300",
            "100",
            "NULL",
            "999999999999999999"
        ])
    );
    assert_eq!(
        texts(1),
        txt(&[
            "1234.5",
            "-1234.5",
            "0.5",
            "-0.5",
            "0",
            "1230",
            "10",
            "NULL",
            "99999999999999999.9"
        ])
    );
    assert_eq!(
        texts(2),
        txt(&[
            "123.45",
            "-123.45",
            "0.05",
            "-0.05",
            "0",
            "123",
            "1",
            "NULL",
            "9999999999999999.99"
        ])
    );
    assert_eq!(
        texts(3),
        txt(&[
            "12.345",
            "-12.345",
            "0.005",
            "-0.005",
            "0",
            "12.3",
            "0.1",
            "NULL",
            "999999999999999.999"
        ])
    );
    // The engine then takes scale ≤ 2 as money and rejects a third decimal.
    let prog = Program::default();
    let money = Ty::Money(Per::Month);
    let cell = |i: usize, r: usize| {
        let (kind, text) = rows[r].1[i].clone();
        Cell { kind, text }
    };
    assert_eq!(parse_value(&prog, &money, &cell(2, 0)), Ok(Some(12_345)));
    assert_eq!(parse_value(&prog, &money, &cell(0, 0)), Ok(Some(1_234_500)));
    assert!(parse_value(&prog, &money, &cell(3, 0)).is_err());
    assert!(
        parse_value(&prog, &money, &cell(2, 1)).is_err(),
        "negative money"
    );
}

#[test]
fn decimal256_too() {
    let big = i256::from_i128(i128::MAX).wrapping_mul(i256::from_i128(10));
    let a = Decimal256Array::from(vec![Some(i256::from_i128(-7)), Some(big), None])
        .with_precision_and_scale(76, 2)
        .unwrap();
    let p = write_parquet("d256.parquet", vec![("d", Arc::new(a))], 1024);
    let (_, rows) = read(&p);
    // i128::MAX ends in 7: ten times it, at scale 2, ends in ".70", shown ".7".
    let expect = format!("{}.7", &i128::MAX.to_string()[..38]);
    assert_eq!(column(&rows, 0), [t("-0.07"), t(&expect), null()]);
}

#[test]
fn every_kind_of_column() {
    let mut list = ListBuilder::new(Int64Builder::new());
    list.values().append_value(1);
    list.append(true);
    list.append(false);
    list.append(true);
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    dict.append_value("urban");
    dict.append_null();
    dict.append_value("rural");
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "utf8",
            Arc::new(StringArray::from(vec![Some("张三"), None, Some("")])),
        ),
        (
            "large",
            Arc::new(LargeStringArray::from(vec![Some("a"), Some("b"), None])),
        ),
        (
            "view",
            Arc::new(StringViewArray::from(vec![
                Some("a long string of more than twelve bytes"),
                None,
                Some("v"),
            ])),
        ),
        (
            "bool",
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ),
        (
            "i8",
            Arc::new(Int8Array::from(vec![Some(-128), Some(0), Some(127)])),
        ),
        (
            "i16",
            Arc::new(Int16Array::from(vec![Some(-3), None, Some(4)])),
        ),
        (
            "i32",
            Arc::new(Int32Array::from(vec![
                Some(i32::MIN),
                Some(1),
                Some(i32::MAX),
            ])),
        ),
        (
            "i64",
            Arc::new(Int64Array::from(vec![
                Some(i64::MIN),
                Some(0),
                Some(i64::MAX),
            ])),
        ),
        (
            "u8",
            Arc::new(UInt8Array::from(vec![Some(255), Some(0), None])),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from(vec![Some(u64::MAX), Some(7), None])),
        ),
        (
            "date",
            Arc::new(Date32Array::from(vec![Some(17_532), Some(-1), None])),
        ),
        (
            "f64",
            Arc::new(Float64Array::from(vec![Some(1234.5), Some(0.1), None])),
        ),
        (
            "f32",
            Arc::new(Float32Array::from(vec![
                Some(0.1f32),
                Some(-2.0),
                Some(1e-7),
            ])),
        ),
        (
            "f16",
            Arc::new(Float16Array::from(vec![
                Some(F16::from_f32(0.1)),
                Some(F16::from_f32(1.5)),
                Some(F16::from_f32(65504.0)),
            ])),
        ),
        ("list", Arc::new(list.finish())),
        ("dict", Arc::new(dict.finish())),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(vec![
                Some(0),
                None,
                Some(1),
            ])),
        ),
        (
            "bin",
            Arc::new(BinaryArray::from(vec![
                Some(&b"\xff"[..]),
                None,
                Some(&b"x"[..]),
            ])),
        ),
    ];
    let p = write_parquet("kinds.parquet", cols, 1024);
    let (h, rows) = read(&p);
    assert_eq!(
        h,
        [
            "utf8", "large", "view", "bool", "i8", "i16", "i32", "i64", "u8", "u64", "date", "f64",
            "f32", "f16", "list", "dict", "ts", "bin"
        ]
    );
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3, 4]);
    let col = |name: &str| column(&rows, h.iter().position(|c| c == name).unwrap());
    assert_eq!(col("utf8"), [t("张三"), null(), t("")]);
    assert_eq!(col("large"), [t("a"), t("b"), null()]);
    assert_eq!(
        col("view"),
        [t("a long string of more than twelve bytes"), null(), t("v")]
    );
    assert_eq!(col("bool"), [b(true), b(false), null()]);
    assert_eq!(col("i8"), [t("-128"), t("0"), t("127")]);
    assert_eq!(col("i16"), [t("-3"), null(), t("4")]);
    assert_eq!(col("i32"), [t("-2147483648"), t("1"), t("2147483647")]);
    assert_eq!(
        col("i64"),
        [t("-9223372036854775808"), t("0"), t("9223372036854775807")]
    );
    assert_eq!(col("u8"), [t("255"), t("0"), null()]);
    assert_eq!(col("u64"), [t("18446744073709551615"), t("7"), null()]);
    assert_eq!(col("date"), [t("2018-01-01"), t("1969-12-31"), null()]);
    assert_eq!(col("f64"), [f("1234.5"), f("0.1"), null()]);
    assert_eq!(col("f32"), [f("0.1"), f("-2"), f("0.0000001")]);
    assert_eq!(col("f16"), [f("0.1"), f("1.5"), f("65504")]);
    for name in ["list", "ts", "bin"] {
        let c = col(name);
        assert_eq!(c[0].0, CellKind::Nested, "{name}");
        assert!(c[0].1.starts_with('<'), "{name}: {}", c[0].1);
        assert_eq!(c[1], null(), "{name}");
    }
    assert_eq!(col("dict"), [t("urban"), null(), t("rural")]);
}

#[test]
fn float_money_is_a_float_cell_the_engine_refuses() {
    let p = write_parquet(
        "fm.parquet",
        vec![(
            "monthly_income",
            Arc::new(Float64Array::from(vec![Some(728.0), Some(1234.56)])),
        )],
        1024,
    );
    let (_, rows) = read(&p);
    assert_eq!(column(&rows, 0), [f("728"), f("1234.56")]);
    let (kind, text) = rows[0].1[0].clone();
    let e = parse_value(
        &Program::default(),
        &Ty::Money(Per::Month),
        &Cell { kind, text },
    )
    .unwrap_err();
    assert!(e.contains("floating-point"), "{e}");
}

#[test]
fn more_than_one_batch_keeps_line_numbers() {
    let n = 20_000usize;
    let ids: Vec<String> = (0..n).map(|i| format!("P{i}")).collect();
    let mut money = Decimal128Builder::new()
        .with_precision_and_scale(18, 2)
        .unwrap();
    let mut flt = Float64Builder::new();
    for i in 0..n {
        if i % 1000 == 999 {
            money.append_null();
        } else {
            money.append_value(i as i128 * 101);
        }
        flt.append_value(i as f64 / 4.0);
    }
    // Row groups that do not line up with the reader's batches.
    let p = write_parquet(
        "many.parquet",
        vec![
            ("person_id", Arc::new(StringArray::from(ids.clone()))),
            ("money", Arc::new(money.finish())),
            ("f", Arc::new(flt.finish())),
        ],
        5000,
    );
    let (_, rows) = read(&p);
    assert_eq!(rows.len(), n);
    for (i, (line, cells)) in rows.iter().enumerate() {
        assert_eq!(*line, i as u64 + 2);
        assert_eq!(cells[0], t(&ids[i]));
        if i % 1000 == 999 {
            assert_eq!(cells[1], null());
        } else {
            let fen = i as i64 * 101;
            let yuan = weft_syntax::num::format_money(fen);
            let canon = yuan.trim_end_matches('0').trim_end_matches('.');
            assert_eq!(cells[1], t(canon), "row {i}");
        }
        assert_eq!(cells[2], f(&(i as f64 / 4.0).to_string()));
    }
}

#[test]
fn no_rows() {
    let p = write_parquet(
        "none.parquet",
        vec![("a", Arc::new(StringArray::from(Vec::<String>::new())))],
        1024,
    );
    let (h, rows) = read(&p);
    assert_eq!(h, ["a"]);
    assert!(rows.is_empty());
}

#[test]
fn not_a_parquet_file() {
    for (name, bytes) in [
        ("empty.parquet", &b""[..]),
        ("csv.parquet", &b"a,b\n1,2\n"[..]),
        ("short.parquet", &b"PAR1"[..]),
    ] {
        let p = file_with(name, bytes);
        let e = match ParquetReader::open(&p) {
            Ok(_) => panic!("{name} opened"),
            Err(e) => e,
        };
        assert_eq!(e.file, name);
        assert!(
            e.message.contains("not a Parquet file"),
            "{name}: {}",
            e.message
        );
    }
    let e = match ParquetReader::open(&tmp_dir("missing").join("missing.parquet")) {
        Ok(_) => panic!("opened"),
        Err(e) => e,
    };
    assert!(e.message.starts_with("cannot open"), "{}", e.message);
}

fn columns() -> Vec<(String, OutType)> {
    [
        ("person_id", OutType::Text),
        ("age", OutType::Int),
        ("eligible", OutType::Bool),
        ("benefit", OutType::Money),
        ("ratio", OutType::Decimal),
        ("start", OutType::Date),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), *t))
    .collect()
}

#[test]
fn writer_schema_and_round_trip() {
    let p = tmp_dir("pq-writer").join("persons.parquet");
    let mut w = open_writer(&p, Format::Parquet, &columns()).unwrap();
    let rows = [
        [
            OutCell::Text("张三".into()),
            OutCell::Int(16),
            OutCell::Bool(true),
            OutCell::Money(72_800),
            OutCell::Decimal(50_000),
            OutCell::Date(17_532),
        ],
        [
            OutCell::Text(String::new()),
            OutCell::Int(i64::MIN),
            OutCell::Bool(false),
            OutCell::Money(-5),
            OutCell::Decimal(-1_300_000),
            OutCell::Date(-1),
        ],
        [
            OutCell::Null,
            OutCell::Null,
            OutCell::Null,
            OutCell::Null,
            OutCell::Null,
            OutCell::Null,
        ],
    ];
    for r in &rows {
        w.write_row(r).unwrap();
    }
    w.finish().unwrap();

    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&p).unwrap()).unwrap();
    let expected = Schema::new(vec![
        Field::new("person_id", DataType::Utf8, true),
        Field::new("age", DataType::Int64, true),
        Field::new("eligible", DataType::Boolean, true),
        Field::new("benefit", DataType::Decimal128(18, 2), true),
        Field::new("ratio", DataType::Decimal128(18, 6), true),
        Field::new("start", DataType::Date32, true),
    ]);
    assert_eq!(builder.schema().fields(), expected.fields());

    let mut r = open_reader(&p, Format::Parquet).unwrap();
    assert_eq!(
        r.header(),
        ["person_id", "age", "eligible", "benefit", "ratio", "start"]
    );
    assert_eq!(
        read_all(r.as_mut()),
        [
            (
                2,
                vec![
                    t("张三"),
                    t("16"),
                    b(true),
                    t("728"),
                    t("0.05"),
                    t("2018-01-01")
                ]
            ),
            (
                3,
                vec![
                    t(""),
                    t("-9223372036854775808"),
                    b(false),
                    t("-0.05"),
                    t("-1.3"),
                    t("1969-12-31")
                ]
            ),
            (4, vec![null(), null(), null(), null(), null(), null()]),
        ]
    );
}

#[test]
fn writer_writes_row_groups_of_8192() {
    let p = tmp_dir("pq-groups").join("out.parquet");
    let cols = columns();
    let mut w: Box<dyn RowWriter> = Box::new(ParquetWriter::create(&p, &cols).unwrap());
    let n = 8192 * 2 + 100;
    for i in 0..n as i64 {
        w.write_row(&[
            OutCell::Text(format!("P{i}")),
            OutCell::Int(i),
            OutCell::Bool(i % 2 == 0),
            OutCell::Money(i * 3),
            OutCell::Decimal(i),
            OutCell::Date(i as i32),
        ])
        .unwrap();
    }
    w.finish().unwrap();
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&p).unwrap()).unwrap();
    let groups: Vec<i64> = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert_eq!(groups, [8192, 8192, 100]);
    let (_, rows) = read(&p);
    assert_eq!(rows.len(), n);
    let last = &rows[n - 1];
    assert_eq!(last.0, n as u64 + 1);
    let i = n as i64 - 1;
    assert_eq!(last.1[0], t(&format!("P{i}")));
    assert_eq!(last.1[1], t(&i.to_string()));
    assert_eq!(last.1[3], t(&weft_syntax::num::format_money(i * 3)));
    assert_eq!(last.1[4], t(&weft_syntax::num::format_decimal(i)));
    assert_eq!(last.1[5], t(&weft_syntax::num::format_date(i as i32)));
}

#[test]
fn writer_with_no_rows_is_a_valid_file() {
    let p = tmp_dir("pq-empty").join("out.parquet");
    let w = ParquetWriter::create(&p, &columns()).unwrap();
    Box::new(w).finish().unwrap();
    let (h, rows) = read(&p);
    assert_eq!(h.len(), 6);
    assert!(rows.is_empty());
}

#[test]
fn writer_refuses_bad_rows_without_corrupting_the_file() {
    let p = tmp_dir("pq-bad").join("out.parquet");
    let mut w = ParquetWriter::create(&p, &columns()).unwrap();
    let good = [
        OutCell::Text("P1".into()),
        OutCell::Int(1),
        OutCell::Bool(true),
        OutCell::Money(1),
        OutCell::Decimal(1),
        OutCell::Date(1),
    ];
    // Wrong width, a value of the wrong type, money beyond 18 digits.
    assert!(w.write_row(&good[..3]).is_err());
    let mut wrong = good.clone();
    wrong[5] = OutCell::Int(3);
    assert!(w.write_row(&wrong).is_err());
    let mut huge = good.clone();
    huge[3] = OutCell::Money(1_000_000_000_000_000_000);
    let e = w.write_row(&huge).unwrap_err();
    assert_eq!(e.file, "out.parquet");
    w.write_row(&good).unwrap();
    Box::new(w).finish().unwrap();
    let (_, rows) = read(&p);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1[3], t("0.01"));
}
