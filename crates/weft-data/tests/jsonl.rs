//! JSON Lines reader and writer.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use weft_check::Program;
use weft_check::ty::{Per, Ty};
use weft_data::cell::parse_value;
use weft_data::csvio::NOT_UTF8;
use weft_data::jsonl::{JsonlReader, JsonlWriter};
use weft_data::{
    CellKind, Format, OutCell, OutType, Row, RowReader, RowWriter, open_reader, open_writer,
};

fn read(bytes: &[u8]) -> (Vec<String>, Vec<Got>) {
    let p = file_with("in.jsonl", bytes);
    let mut r = JsonlReader::open(&p).unwrap();
    let rows = read_all(&mut r);
    (r.header().to_vec(), rows)
}

fn open_err(bytes: &[u8]) -> String {
    let p = file_with("in.jsonl", bytes);
    match JsonlReader::open(&p) {
        Ok(_) => panic!("expected a whole-file error"),
        Err(e) => {
            assert_eq!(e.file, "in.jsonl");
            e.message
        }
    }
}

#[test]
fn numbers_keep_their_literal_text() {
    let (h, rows) = read(
        br#"{"a": 1234.50, "b": 1e3, "c": -0, "d": 123456789012345678901234567890, "e": 1E-2, "f": 0.1, "g": 728}"#,
    );
    assert_eq!(h, ["a", "b", "c", "d", "e", "f", "g"]);
    assert_eq!(
        rows,
        [(
            1,
            vec![
                n("1234.50"),
                n("1e3"),
                n("-0"),
                n("123456789012345678901234567890"),
                n("1E-2"),
                n("0.1"),
                n("728")
            ]
        )]
    );
}

#[test]
fn every_kind_of_value() {
    let (h, rows) = read(
        "{\"s\":\"张三\",\"esc\":\"\\u5f20 \\\"q\\\"\\n\",\"t\":true,\"f\":false,\"z\":null,\"arr\":[1, 2.50],\"obj\":{\"k\": \"v\"},\"e\":\"\"}\n"
            .as_bytes(),
    );
    assert_eq!(h, ["s", "esc", "t", "f", "z", "arr", "obj", "e"]);
    assert_eq!(
        rows[0].1,
        [
            t("张三"),
            t("张 \"q\"\n"),
            b(true),
            b(false),
            null(),
            nested("[1, 2.50]"),
            nested(r#"{"k": "v"}"#),
            t("")
        ]
    );
}

#[test]
fn later_rows_match_keys_by_name() {
    let (h, rows) = read(
        concat!(
            r#"{"id": "P1", "income": "728.00", "born": "2001-03-04"}"#,
            "\n",
            r#"{"born": "1990-01-01", "extra": 5, "id": "P2", "income": 12}"#,
            "\n",
            r#"{"id": "P3"}"#,
            "\n",
            r#"{}"#,
            "\n",
            r#"{"id": "P5", "id": "P5b", "income": null}"#,
            "\n",
        )
        .as_bytes(),
    );
    // Keys only later lines have come after the first line's.
    assert_eq!(h, ["id", "income", "born", "extra"]);
    assert_eq!(
        rows,
        [
            (1, vec![t("P1"), t("728.00"), t("2001-03-04"), null()]),
            (2, vec![t("P2"), n("12"), t("1990-01-01"), n("5")]),
            (3, vec![t("P3"), null(), null(), null()]),
            (4, vec![null(), null(), null(), null()]),
            // A repeated key takes its last value.
            (5, vec![t("P5b"), null(), null(), null()]),
        ]
    );
}

#[test]
fn crlf_bom_and_blank_lines() {
    let (h, rows) = read(b"\xEF\xBB\xBF{\"a\":\"x\",\"b\":1}\r\n\r\n   \t\r\n{\"a\":\"y\",\"b\":2}\r\n\n{\"b\":3,\"a\":\"z\"}");
    assert_eq!(h, ["a", "b"]);
    assert_eq!(
        rows,
        [
            (1, vec![t("x"), n("1")]),
            (4, vec![t("y"), n("2")]),
            (6, vec![t("z"), n("3")]),
        ]
    );
}

#[test]
fn blank_lines_before_the_first_object() {
    let (h, rows) = read(b"\n\r\n  \n{\"a\":true}\n\n");
    assert_eq!(h, ["a"]);
    assert_eq!(rows, [(4, vec![b(true)])]);
}

#[test]
fn a_line_that_is_not_an_object_is_a_row_of_nested_cells() {
    let long = format!("[{}]", "1,".repeat(50) + "1");
    let text = format!(
        "{{\"a\":1,\"b\":2}}\n[1,2]\n  42  \n{{\"a\":1}} trailing\n{{\"a\":\n\"just text\"\n{long}\n{{\"a\":3,\"b\":4}}\n"
    );
    let (h, rows) = read(text.as_bytes());
    assert_eq!(h, ["a", "b"]);
    let bad = |line: u64, s: &str| (line, vec![nested(s), nested(s)]);
    let first40: String = long.chars().take(40).collect();
    assert_eq!(
        rows,
        [
            (1, vec![n("1"), n("2")]),
            bad(2, "[1,2]"),
            bad(3, "42"),
            bad(4, "{\"a\":1} trailing"),
            bad(5, "{\"a\":"),
            bad(6, "\"just text\""),
            bad(7, &first40),
            (8, vec![n("3"), n("4")]),
        ]
    );
    assert_eq!(first40.chars().count(), 40);
}

#[test]
fn a_non_object_line_shows_forty_characters_not_bytes() {
    let line = "农".repeat(50);
    let (_, rows) = read(format!("{{\"a\":1}}\n{line}\n").as_bytes());
    assert_eq!(rows[1].1, [nested(&"农".repeat(40))]);
}

#[test]
fn a_first_line_that_is_not_an_object_fails_the_file() {
    let m = open_err(b"\n[\n  {\"a\": 1}\n]\n");
    assert!(m.contains("line 2 is not a JSON object"), "{m}");
    let m = open_err(b"{\"a\": 1");
    assert!(m.contains("line 1 is not a JSON object"), "{m}");
}

#[test]
fn an_empty_file_fails() {
    let m = open_err(b"");
    assert!(m.starts_with("the file is empty (0 bytes)"), "{m}");
}

#[test]
fn a_file_of_blank_lines_has_no_columns_and_no_rows() {
    let (h, rows) = read(b"\n  \r\n\n");
    assert!(h.is_empty());
    assert!(rows.is_empty());
    let (h, rows) = read(b"\xEF\xBB\xBF");
    assert!(h.is_empty());
    assert!(rows.is_empty());
}

#[test]
fn invalid_utf8_fails_the_file() {
    // In the first line: when opening.
    assert_eq!(open_err(b"{\"a\":\"\xD5\xC5\xC8\xFD\"}\n"), NOT_UTF8);
    // Later: when the reader reaches it.
    let p = file_with("in.jsonl", b"{\"a\":\"x\"}\n{\"a\":\"\xD5\xC5\"}\n");
    let mut r = JsonlReader::open(&p).unwrap();
    let mut row = Row::default();
    assert!(r.next_row(&mut row).unwrap());
    let e = r.next_row(&mut row).unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.message.as_str()),
        ("in.jsonl", NOT_UTF8)
    );
}

#[test]
fn cells_parse_by_the_spec() {
    let (_, rows) = read(br#"{"m1": 1234.50, "m2": 1e3, "m3": "728.00", "m4": 12.345, "m5": [1]}"#);
    let p = Program::default();
    let money = Ty::Money(Per::Month);
    let cell = |i: usize| {
        let (kind, text) = rows[0].1[i].clone();
        weft_data::cell::Cell { kind, text }
    };
    assert_eq!(parse_value(&p, &money, &cell(0)), Ok(Some(123_450)));
    assert!(parse_value(&p, &money, &cell(1)).is_err());
    assert_eq!(parse_value(&p, &money, &cell(2)), Ok(Some(72_800)));
    assert!(parse_value(&p, &money, &cell(3)).is_err());
    assert_eq!(
        parse_value(&p, &money, &cell(4)),
        Err("[1] is not a single value".to_string())
    );
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
fn writer_output_is_exact() {
    let dir = tmp_dir("jsonl-writer");
    let p = dir.join("persons.jsonl");
    let mut w: Box<dyn RowWriter> = Box::new(JsonlWriter::create(&p, &columns()).unwrap());
    w.write_row(&[
        OutCell::Text("P1".into()),
        OutCell::Int(16),
        OutCell::Bool(true),
        OutCell::Money(72_800),
        OutCell::Decimal(50_000),
        OutCell::Date(17_532),
    ])
    .unwrap();
    w.write_row(&[
        OutCell::Text("张\"三\"\n".into()),
        OutCell::Int(-3),
        OutCell::Bool(false),
        OutCell::Money(-5),
        OutCell::Decimal(-1_300_000),
        OutCell::Null,
    ])
    .unwrap();
    w.write_row(&[
        OutCell::Null,
        OutCell::Null,
        OutCell::Null,
        OutCell::Null,
        OutCell::Null,
        OutCell::Null,
    ])
    .unwrap();
    w.finish().unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"person_id":"P1","age":16,"eligible":true,"benefit":"728.00","ratio":"0.05","start":"2018-01-01"}"#,
            "\n",
            r#"{"person_id":"张\"三\"\n","age":-3,"eligible":false,"benefit":"-0.05","ratio":"-1.3","start":null}"#,
            "\n",
            r#"{"person_id":null,"age":null,"eligible":null,"benefit":null,"ratio":null,"start":null}"#,
            "\n",
        )
    );
}

#[test]
fn writer_round_trip() {
    let dir = tmp_dir("jsonl-round-trip");
    let p = dir.join("out.jsonl");
    let mut w = open_writer(&p, Format::Jsonl, &columns()).unwrap();
    let rows = [
        [
            OutCell::Text("H17".into()),
            OutCell::Int(i64::MAX),
            OutCell::Bool(true),
            OutCell::Money(100_000_000_000_000),
            OutCell::Decimal(1),
            OutCell::Date(0),
        ],
        [
            OutCell::Text(String::new()),
            OutCell::Int(i64::MIN),
            OutCell::Bool(false),
            OutCell::Money(0),
            OutCell::Decimal(0),
            OutCell::Date(-1),
        ],
    ];
    for r in &rows {
        w.write_row(r).unwrap();
    }
    w.finish().unwrap();
    let mut r = open_reader(&p, Format::Jsonl).unwrap();
    assert_eq!(
        r.header(),
        ["person_id", "age", "eligible", "benefit", "ratio", "start"]
    );
    assert_eq!(
        read_all(r.as_mut()),
        [
            (
                1,
                vec![
                    t("H17"),
                    n("9223372036854775807"),
                    b(true),
                    t("1000000000000.00"),
                    t("0.000001"),
                    t("1970-01-01")
                ]
            ),
            (
                2,
                vec![
                    t(""),
                    n("-9223372036854775808"),
                    b(false),
                    t("0.00"),
                    t("0"),
                    t("1969-12-31")
                ]
            ),
        ]
    );
}

#[test]
fn writer_with_no_rows_writes_an_empty_file() {
    let dir = tmp_dir("jsonl-empty");
    let p = dir.join("out.jsonl");
    let w = JsonlWriter::create(&p, &columns()).unwrap();
    Box::new(w).finish().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"");
}

#[test]
fn writer_refuses_a_row_of_the_wrong_width() {
    let dir = tmp_dir("jsonl-width");
    let p = dir.join("out.jsonl");
    let mut w = JsonlWriter::create(&p, &columns()).unwrap();
    let e = w.write_row(&[OutCell::Null]).unwrap_err();
    assert_eq!(e.file, "out.jsonl");
}

#[test]
fn many_rows_keep_their_lines() {
    let mut text = String::new();
    for i in 0..20_000u32 {
        if i % 7 == 3 {
            text.push('\n');
        }
        text.push_str(&format!("{{\"i\":{i},\"s\":\"r{i}\"}}\n"));
    }
    let (h, rows) = read(text.as_bytes());
    assert_eq!(h, ["i", "s"]);
    assert_eq!(rows.len(), 20_000);
    let mut line = 0u64;
    for (i, (l, cells)) in rows.iter().enumerate() {
        line += 1 + u64::from(i % 7 == 3);
        assert_eq!(*l, line);
        assert_eq!(cells[0], n(&i.to_string()));
        assert_eq!(cells[1].0, CellKind::Text);
    }
}

#[test]
fn header_order_with_escaped_and_repeated_keys_and_huge_numbers() {
    let (h, rows) = read(
        concat!(
            r#"{"z": 1e400, "a\u0062": "x", "m": {"nested": [1, {"k": 2}]}, "dup": 1, "q": 2, "dup": 3}"#,
            "\n",
            r#"{"ab": "y", "z": -1.5E+07}"#,
            "\n",
        )
        .as_bytes(),
    );
    // A repeated key sits where its last value is.
    assert_eq!(h, ["z", "ab", "m", "q", "dup"]);
    assert_eq!(
        rows,
        [
            (
                1,
                vec![
                    n("1e400"),
                    t("x"),
                    nested(r#"{"nested": [1, {"k": 2}]}"#),
                    n("2"),
                    n("3")
                ]
            ),
            (2, vec![n("-1.5E+07"), t("y"), null(), null(), null()]),
        ]
    );
}

#[test]
fn format_dispatch_reads_jsonl() {
    let p = file_with("persons.ndjson", b"{\"a\":\"1\"}\n");
    assert_eq!(Format::from_path(&p), Some(Format::Jsonl));
    let mut r = open_reader(&p, Format::Jsonl).unwrap();
    assert_eq!(read_all(r.as_mut()), [(1, vec![t("1")])]);
}
