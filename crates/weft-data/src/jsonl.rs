//! JSON Lines in and out.
//!
//! # Reading
//!
//! One JSON object per line. Line ends are LF or CRLF; a UTF-8 byte-order
//! mark at the start of the file is skipped; a line holding only whitespace
//! is skipped. `row.line` is the physical line number, the first line being
//! line 1 (there is no header line).
//!
//! The columns are the keys of the first non-blank line, in the order
//! written, followed by every key that only later lines have, in the order
//! they first appear (a pass over the file when it is opened finds them: a
//! key whose value is null is often left out of the first object). Lines
//! are matched by key name, in any order: a key a line lacks is a null
//! cell; a key written twice in one object takes its last value (and, in
//! the first line, the place of that last value).
//!
//! Cells are normalised, never validated:
//! - a string is [`CellKind::Text`] holding the string;
//! - a number is [`CellKind::Number`] holding its literal text exactly as
//!   written (`1234.50` stays `1234.50`, `1e3` stays `1e3`, `-0` stays
//!   `-0`): numbers are never parsed, let alone through binary floating
//!   point. Each value is taken as serde_json's `RawValue`, the exact slice
//!   of the line (`arbitrary_precision` would normalise `1e3` to `1e+3`);
//! - `true` / `false` is [`CellKind::Bool`] with the text `true` / `false`;
//! - `null` is [`CellKind::Null`];
//! - an array or an object is [`CellKind::Nested`] holding its JSON text as
//!   written.
//!
//! A later line that is not a JSON object (a bare value, malformed JSON,
//! trailing text after the object) does not fail the file: it becomes a
//! row whose cells are all [`CellKind::Nested`], holding the first 40
//! characters of the line, so the engine reports it as an error row with
//! its line number. If the *first* non-blank line is not a JSON object the
//! columns cannot be known, so that is a whole-file error (a pretty-printed
//! JSON document or a JSON array ends up here).
//!
//! Whole-file errors: a 0-byte file; a file that is not valid UTF-8
//! ([`crate::csvio::NOT_UTF8`], reported when the reader reaches the line);
//! a first non-blank line that is not an object. A file of blank lines only has no
//! columns and no rows (the engine then reports the missing columns).
//!
//! # Writing
//!
//! One object per row, LF line ends, the columns as keys in order, no
//! spaces. Text, money (two decimals: `"728.00"`, kept exact as a string),
//! decimals (`format_decimal`) and dates (`YYYY-MM-DD`) are JSON strings;
//! integers are JSON numbers; booleans `true` / `false`; null `null`.
//! `finish` flushes and fsyncs the file.

use crate::cell::{CellKind, Row};
use crate::{FileError, OutCell, OutType, RowReader, RowWriter, file_name};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use weft_syntax::num;

/// How many characters of a line that is not an object its cells hold.
const SHOWN: usize = 40;

pub struct JsonlReader {
    file: String,
    rdr: BufReader<File>,
    header: Vec<String>,
    /// Column index by key.
    index: HashMap<String, usize>,
    /// The physical line number of the last line read.
    line: u64,
    buf: Vec<u8>,
    /// `buf` holds the first object, read to find the header, not yet handed out.
    first_pending: bool,
}

/// Read one line into `buf` (without its line end); `Ok(false)` at the end.
fn read_line(rdr: &mut BufReader<File>, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    if rdr.read_until(b'\n', buf)? == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(true)
}

fn shown(line: &str) -> String {
    line.trim().chars().take(SHOWN).collect()
}

impl JsonlReader {
    pub fn open(path: &Path) -> Result<JsonlReader, FileError> {
        let name = file_name(path);
        let f = File::open(path).map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(FileError::new(
                &name,
                "the file is empty (0 bytes): it has no records",
            ));
        }
        let mut r = JsonlReader {
            file: name,
            rdr: BufReader::with_capacity(1 << 16, f),
            header: Vec::new(),
            index: HashMap::new(),
            line: 0,
            buf: Vec::new(),
            first_pending: false,
        };
        r.read_header()?;
        r.later_keys(path)?;
        Ok(r)
    }

    /// Add the keys that only later lines have.
    fn later_keys(&mut self, path: &Path) -> Result<(), FileError> {
        let f = File::open(path)
            .map_err(|e| FileError::new(&self.file, format!("cannot open: {e}")))?;
        let mut rdr = BufReader::with_capacity(1 << 16, f);
        let mut buf = Vec::new();
        while read_line(&mut rdr, &mut buf)
            .map_err(|e| FileError::new(&self.file, format!("cannot read: {e}")))?
        {
            let Ok(text) = std::str::from_utf8(&buf) else {
                continue;
            };
            let text = text.trim_start_matches('\u{feff}');
            if text.trim().is_empty() {
                continue;
            }
            let Some(obj) = parse_object(text) else {
                continue;
            };
            let mut keys: Vec<(usize, String)> = obj
                .into_iter()
                .filter(|(k, _)| !self.index.contains_key(k))
                .map(|(k, v)| {
                    (
                        (v.get().as_ptr() as usize).wrapping_sub(text.as_ptr() as usize),
                        k,
                    )
                })
                .collect();
            keys.sort_unstable();
            for (_, k) in keys {
                self.index.insert(k.clone(), self.header.len());
                self.header.push(k);
            }
        }
        Ok(())
    }

    /// Read up to the first non-blank line and take its keys as the
    /// header; the line stays in `buf` for the first `next_row`.
    fn read_header(&mut self) -> Result<(), FileError> {
        loop {
            if !self.next_line()? {
                return Ok(());
            }
            let text = self.line_text()?;
            if text.trim().is_empty() {
                continue;
            }
            let Some(obj) = parse_object(text) else {
                return Err(FileError::new(
                    &self.file,
                    format!(
                        "line {} is not a JSON object, so the columns cannot be known \
                         (JSON Lines needs one object per line): {}",
                        self.line,
                        shown(text)
                    ),
                ));
            };
            // The keys in the order written: each value borrows from the
            // line, so its address gives its position.
            let mut keys: Vec<(usize, String)> = obj
                .into_iter()
                .map(|(k, v)| {
                    (
                        (v.get().as_ptr() as usize).wrapping_sub(text.as_ptr() as usize),
                        k,
                    )
                })
                .collect();
            keys.sort_unstable();
            for (i, (_, k)) in keys.into_iter().enumerate() {
                self.index.insert(k.clone(), i);
                self.header.push(k);
            }
            self.first_pending = true;
            return Ok(());
        }
    }

    fn next_line(&mut self) -> Result<bool, FileError> {
        let got = read_line(&mut self.rdr, &mut self.buf)
            .map_err(|e| FileError::new(&self.file, format!("cannot read: {e}")))?;
        if got {
            self.line += 1;
            if self.line == 1 && self.buf.starts_with("\u{feff}".as_bytes()) {
                self.buf.drain(..3);
            }
        }
        Ok(got)
    }

    fn line_text(&self) -> Result<&str, FileError> {
        std::str::from_utf8(&self.buf)
            .map_err(|_| FileError::new(&self.file, crate::csvio::NOT_UTF8))
    }
}

/// A line's object: each key with the literal text of its value (a
/// repeated key keeps its last value). `None` if the line is not one JSON
/// object.
fn parse_object(text: &str) -> Option<HashMap<String, &RawValue>> {
    serde_json::from_str::<HashMap<String, &RawValue>>(text).ok()
}

/// Set cell `i` of `row` from the literal text of a JSON value.
fn set_raw(row: &mut Row, i: usize, raw: &str) {
    match raw.as_bytes().first() {
        Some(b'"') => match raw.get(1..raw.len() - 1) {
            // Without a backslash, the text between the quotes is the string.
            Some(inner) if !inner.contains('\\') => row.set(i, CellKind::Text, inner),
            _ => match serde_json::from_str::<String>(raw) {
                Ok(s) => row.set(i, CellKind::Text, &s),
                Err(_) => row.set(i, CellKind::Nested, raw),
            },
        },
        Some(b'-' | b'0'..=b'9') => row.set(i, CellKind::Number, raw),
        Some(b't') => row.set(i, CellKind::Bool, "true"),
        Some(b'f') => row.set(i, CellKind::Bool, "false"),
        Some(b'n') => row.set(i, CellKind::Null, ""),
        _ => row.set(i, CellKind::Nested, raw),
    }
}

impl RowReader for JsonlReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self, row: &mut Row) -> Result<bool, FileError> {
        loop {
            // The first object was read (and checked) with the header.
            if !std::mem::take(&mut self.first_pending) && !self.next_line()? {
                return Ok(false);
            }
            let text = std::str::from_utf8(&self.buf)
                .map_err(|_| FileError::new(&self.file, crate::csvio::NOT_UTF8))?;
            if text.trim().is_empty() {
                continue;
            }
            row.line = self.line;
            row.reset(self.header.len());
            match parse_object(text) {
                Some(obj) => {
                    for (k, v) in obj {
                        if let Some(&i) = self.index.get(k.as_str()) {
                            set_raw(row, i, v.get());
                        }
                    }
                }
                None => {
                    let s = shown(text);
                    for i in 0..self.header.len() {
                        row.set(i, CellKind::Nested, &s);
                    }
                }
            }
            return Ok(true);
        }
    }
}

pub struct JsonlWriter {
    file: String,
    w: BufWriter<File>,
    /// Each column's key, serialised with its colon: `"name":`.
    keys: Vec<Vec<u8>>,
}

impl JsonlWriter {
    pub fn create(path: &Path, columns: &[(String, OutType)]) -> Result<JsonlWriter, FileError> {
        let name = file_name(path);
        let mut keys = Vec::with_capacity(columns.len());
        for (c, _) in columns {
            let mut k = serde_json::to_vec(c)
                .map_err(|e| FileError::new(&name, format!("cannot write: {e}")))?;
            k.push(b':');
            keys.push(k);
        }
        let f =
            File::create(path).map_err(|e| FileError::new(&name, format!("cannot create: {e}")))?;
        Ok(JsonlWriter {
            file: name,
            w: BufWriter::with_capacity(1 << 16, f),
            keys,
        })
    }

    fn write_cells(&mut self, cells: &[OutCell]) -> std::io::Result<()> {
        self.w.write_all(b"{")?;
        for (i, (k, c)) in self.keys.iter().zip(cells).enumerate() {
            if i > 0 {
                self.w.write_all(b",")?;
            }
            self.w.write_all(k)?;
            match c {
                OutCell::Null => self.w.write_all(b"null")?,
                OutCell::Bool(b) => self.w.write_all(if *b { b"true" } else { b"false" })?,
                OutCell::Int(v) => write!(self.w, "{v}")?,
                OutCell::Text(s) => serde_json::to_writer(&mut self.w, s)?,
                OutCell::Money(v) => write!(self.w, "\"{}\"", num::format_money(*v))?,
                OutCell::Decimal(v) => write!(self.w, "\"{}\"", num::format_decimal(*v))?,
                OutCell::Date(d) => write!(self.w, "\"{}\"", num::format_date(*d))?,
            }
        }
        self.w.write_all(b"}\n")
    }
}

impl RowWriter for JsonlWriter {
    fn write_row(&mut self, cells: &[OutCell]) -> Result<(), FileError> {
        if cells.len() != self.keys.len() {
            return Err(FileError::new(
                &self.file,
                format!(
                    "cannot write a row of {} values into {} columns",
                    cells.len(),
                    self.keys.len()
                ),
            ));
        }
        self.write_cells(cells)
            .map_err(|e| FileError::new(&self.file, format!("cannot write: {e}")))
    }

    fn finish(self: Box<Self>) -> Result<(), FileError> {
        let file = self.file;
        let f = self
            .w
            .into_inner()
            .map_err(|e| FileError::new(&file, format!("cannot write: {e}")))?;
        let mut f = f;
        f.flush()
            .and_then(|_| f.sync_all())
            .map_err(|e| FileError::new(&file, format!("cannot write: {e}")))
    }
}
