//! Helpers shared by the reader and writer tests.
#![allow(dead_code)]

use std::path::PathBuf;
use weft_data::{CellKind, Row, RowReader};

/// A fresh, empty directory for one test: named after the test binary,
/// the test (its thread's name) and `name`, so reruns reuse it.
pub fn tmp_dir(name: &str) -> PathBuf {
    let test = std::thread::current()
        .name()
        .unwrap_or("main")
        .replace("::", "-");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("weft-data")
        .join(env!("CARGO_CRATE_NAME"))
        .join(format!("{test}-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A file with these bytes, in a fresh directory.
pub fn file_with(name: &str, bytes: &[u8]) -> PathBuf {
    let p = tmp_dir(name).join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// One row as read: its line and its cells as (kind, text).
pub type Got = (u64, Vec<(CellKind, String)>);

pub fn read_all(r: &mut dyn RowReader) -> Vec<Got> {
    let mut row = Row::default();
    let mut out = Vec::new();
    while r.next_row(&mut row).unwrap() {
        assert_eq!(row.cells.len(), r.header().len(), "one cell per column");
        out.push((
            row.line,
            row.cells.iter().map(|c| (c.kind, c.text.clone())).collect(),
        ));
    }
    // The end stays the end.
    assert!(!r.next_row(&mut row).unwrap());
    out
}

pub fn t(s: &str) -> (CellKind, String) {
    (CellKind::Text, s.to_string())
}
pub fn n(s: &str) -> (CellKind, String) {
    (CellKind::Number, s.to_string())
}
pub fn b(v: bool) -> (CellKind, String) {
    (CellKind::Bool, v.to_string())
}
pub fn f(s: &str) -> (CellKind, String) {
    (CellKind::Float, s.to_string())
}
pub fn nested(s: &str) -> (CellKind, String) {
    (CellKind::Nested, s.to_string())
}
pub fn null() -> (CellKind, String) {
    (CellKind::Null, String::new())
}
