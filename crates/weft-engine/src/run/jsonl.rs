//! JSON Lines input, read in blocks of whole lines and parsed in parallel.
//!
//! One JSON object per line (LF or CRLF line ends; a UTF-8 byte-order mark
//! at the start is skipped; a line of whitespace only is skipped). Values
//! are taken as spec §2 says: a string as its text, a number by its literal
//! text (never through binary floating point), `true`/`false`, `null`; an
//! array or object is not a single value (an error row). A key a line
//! lacks is a null value. Keys that no column uses are ignored (with a
//! warning once the file is read); a column the policy requires that no
//! line has is a whole-file error, reported when the file has been read.
//!
//! Columns are in the order of the first line's keys, then the others in
//! the schema's order: a row with several bad values reports the first in
//! that order.
//!
//! What refuses the file as a whole (the line is named), since the row's
//! household cannot be known: a line that is not one well-formed JSON
//! object, an object that gives a key twice, bytes that are not UTF-8.

use super::block::RowSink;
use super::csv::RawBlock;
use memchr::{memchr, memchr_iter, memrchr};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use weft_data::csvio::NOT_UTF8;
use weft_data::schema::InputSchema;
use weft_data::{CellKind, FileError, file_name};

/// A JSON Lines file being read.
pub struct JsonlInput {
    name: String,
    file: std::fs::File,
    carry: Vec<u8>,
    line: u64,
    eof: bool,
    started: bool,
    sha: Sha256,
}

impl JsonlInput {
    pub fn open(path: &Path) -> Result<JsonlInput, FileError> {
        let name = file_name(path);
        let file = std::fs::File::open(path)
            .map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(FileError::new(&name, "the file is empty (0 bytes)"));
        }
        Ok(JsonlInput {
            name,
            file,
            carry: Vec::new(),
            line: 1,
            eof: false,
            started: false,
            sha: Sha256::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn fill(&mut self) -> Result<(), FileError> {
        let block = super::csv::BLOCK;
        let start = self.carry.len();
        self.carry.reserve(block);
        let got = (&mut self.file)
            .take(block as u64)
            .read_to_end(&mut self.carry)
            .map_err(|e| FileError::new(&self.name, format!("cannot read: {e}")))?;
        if got < block {
            self.eof = true;
        }
        self.sha.update(&self.carry[start..]);
        if !self.started {
            self.started = true;
            if self.carry.starts_with(b"\xEF\xBB\xBF") {
                self.carry.drain(..3);
            }
        }
        Ok(())
    }

    /// The keys of the first non-blank line, in order (the column order for
    /// "first error in header order"). Reads ahead without consuming.
    pub fn first_keys(&mut self) -> Result<Vec<String>, FileError> {
        loop {
            let mut pos = 0;
            let mut line = self.line;
            while let Some(nl) = memchr(b'\n', &self.carry[pos..]).map(|i| pos + i) {
                let l = &self.carry[pos..nl];
                if !is_blank(l) {
                    let text = std::str::from_utf8(l).map_err(|_| {
                        FileError::new(&self.name, format!("line {line}: {NOT_UTF8}"))
                    })?;
                    let mut keys = Vec::new();
                    scan_object(text, |k, _, _| keys.push(k.to_string()))
                        .map_err(|why| not_object(&self.name, line, &why))?;
                    return Ok(keys);
                }
                pos = nl + 1;
                line += 1;
            }
            if self.eof {
                let l = &self.carry[pos..];
                if is_blank(l) {
                    return Ok(Vec::new());
                }
                let text = std::str::from_utf8(l)
                    .map_err(|_| FileError::new(&self.name, format!("line {line}: {NOT_UTF8}")))?;
                let mut keys = Vec::new();
                scan_object(text, |k, _, _| keys.push(k.to_string()))
                    .map_err(|why| not_object(&self.name, line, &why))?;
                return Ok(keys);
            }
            if self.carry.len() > super::csv::MAX_RECORD {
                return Err(FileError::new(
                    &self.name,
                    format!(
                        "line {line}: a line longer than {} MiB",
                        super::csv::MAX_RECORD >> 20
                    ),
                ));
            }
            self.fill()?;
        }
    }

    /// The next block of whole lines.
    pub fn next_block(&mut self) -> Result<Option<RawBlock>, FileError> {
        loop {
            if !self.eof && self.carry.len() < super::csv::BLOCK {
                self.fill()?;
            }
            if self.carry.is_empty() && self.eof {
                return Ok(None);
            }
            let cut = if self.eof {
                Some(self.carry.len())
            } else {
                memrchr(b'\n', &self.carry).map(|i| i + 1)
            };
            match cut {
                Some(n) => {
                    let rest = self.carry.split_off(n);
                    let bytes = std::mem::replace(&mut self.carry, rest);
                    let first_line = self.line;
                    self.line += memchr_iter(b'\n', &bytes).count() as u64;
                    return Ok(Some(RawBlock { bytes, first_line }));
                }
                None => {
                    if self.carry.len() > super::csv::MAX_RECORD {
                        return Err(FileError::new(
                            &self.name,
                            format!(
                                "line {}: a line longer than {} MiB",
                                self.line,
                                super::csv::MAX_RECORD >> 20
                            ),
                        ));
                    }
                    self.fill()?;
                }
            }
        }
    }

    pub fn sha256(&mut self) -> String {
        let h = std::mem::take(&mut self.sha);
        crate::run::hex(&h.finalize())
    }
}

fn is_blank(l: &[u8]) -> bool {
    l.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

fn not_object(name: &str, line: u64, why: &str) -> FileError {
    FileError::new(
        name,
        format!(
            "line {line}: not one JSON object ({why}); which household it belongs to cannot be known, so the file is refused"
        ),
    )
}

/// How a JSON Lines file's keys map to the schema's columns.
pub struct Keys {
    /// Schema column by key.
    pub column: HashMap<String, usize>,
    /// The first line's keys and their schema columns: most lines give the
    /// same keys in the same order, so the k-th key is checked first.
    pub first: Vec<(String, Option<usize>)>,
    /// The order of each schema column (its place among the columns).
    pub order: Vec<usize>,
}

impl Keys {
    pub fn new(schema: &InputSchema, first: &[String]) -> Keys {
        let column: HashMap<String, usize> = schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let mut order = vec![usize::MAX; schema.columns.len()];
        for (pos, k) in first.iter().enumerate() {
            if let Some(&ci) = column.get(k) {
                if let Some(o) = order.get_mut(ci) {
                    *o = pos;
                }
            }
        }
        for (ci, o) in order.iter_mut().enumerate() {
            if *o == usize::MAX {
                *o = first.len() + ci;
            }
        }
        let first = first
            .iter()
            .map(|k| (k.clone(), column.get(k).copied()))
            .collect();
        Keys {
            column,
            first,
            order,
        }
    }

    /// The schema column of the `k`-th key of a line.
    #[inline]
    fn lookup(&self, k: usize, key: &str) -> Option<usize> {
        match self.first.get(k) {
            Some((name, c)) if name == key => *c,
            _ => self.column.get(key).copied(),
        }
    }
}

/// What a block saw of the file's keys.
#[derive(Default)]
pub struct Seen {
    /// Per schema column: some line has it.
    pub columns: Vec<bool>,
    /// Keys no column uses, in the order first seen.
    pub unknown: Vec<String>,
}

/// Parse a block into `sink`.
pub fn parse_block(
    name: &str,
    keys: &Keys,
    raw: &RawBlock,
    sink: &mut RowSink<'_, '_>,
    seen: &mut Seen,
) -> Result<(), FileError> {
    let text = std::str::from_utf8(&raw.bytes).map_err(|e| {
        let line =
            raw.first_line + memchr_iter(b'\n', &raw.bytes[..e.valid_up_to()]).count() as u64;
        FileError::new(name, format!("line {line}: {NOT_UTF8}"))
    })?;
    if seen.columns.len() < keys.order.len() {
        seen.columns.resize(keys.order.len(), false);
    }
    let mut given: Vec<bool> = vec![false; keys.order.len()];
    for (this, l) in (raw.first_line..).zip(text.split('\n')) {
        if is_blank(l.as_bytes()) {
            continue;
        }
        given.fill(false);
        sink.begin(this, 0);
        let mut dup: Option<String> = None;
        let mut pos = 0usize;
        scan_object(l, |k, kind, v| {
            let column = keys.lookup(pos, k);
            pos += 1;
            match column {
                Some(ci) => {
                    if given.get(ci).copied().unwrap_or(false) {
                        dup.get_or_insert_with(|| k.to_string());
                        return;
                    }
                    if let Some(g) = given.get_mut(ci) {
                        *g = true;
                    }
                    if let Some(s) = seen.columns.get_mut(ci) {
                        *s = true;
                    }
                    sink.cell(ci, keys.order.get(ci).copied().unwrap_or(ci), kind, v);
                }
                None => {
                    if !seen.unknown.iter().any(|u| u == k) {
                        seen.unknown.push(k.to_string());
                    }
                }
            }
        })
        .map_err(|why| not_object(name, this, &why))?;
        if let Some(k) = dup {
            return Err(not_object(
                name,
                this,
                &format!("the key `{k}` is given twice"),
            ));
        }
        sink.end();
    }
    Ok(())
}

/// Scan a line holding one JSON object, calling `f(key, kind, text)` for
/// each member: strings by their decoded text, numbers by their literal
/// text, `true`/`false`, `null` (empty text), arrays and objects by their
/// JSON text as written. `Err`: why the line is not one object.
pub fn scan_object(line: &str, mut f: impl FnMut(&str, CellKind, &str)) -> Result<(), String> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err("it does not start with `{`".into());
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return Err(format!("a key was expected at column {}", i + 1));
            }
            let (key, next) = string(line, i)?;
            i = skip_ws(b, next);
            if b.get(i) != Some(&b':') {
                return Err(format!("`:` was expected at column {}", i + 1));
            }
            i = skip_ws(b, i + 1);
            match b.get(i) {
                Some(b'"') => {
                    let (s, next) = string(line, i)?;
                    f(&key, CellKind::Text, &s);
                    i = next;
                }
                Some(b't') if b[i..].starts_with(b"true") => {
                    f(&key, CellKind::Bool, "true");
                    i += 4;
                }
                Some(b'f') if b[i..].starts_with(b"false") => {
                    f(&key, CellKind::Bool, "false");
                    i += 5;
                }
                Some(b'n') if b[i..].starts_with(b"null") => {
                    f(&key, CellKind::Null, "");
                    i += 4;
                }
                Some(b'[' | b'{') => {
                    let end = nested_end(b, i)?;
                    f(&key, CellKind::Nested, &line[i..end]);
                    i = end;
                }
                Some(b'-' | b'0'..=b'9') => {
                    let end = number_end(b, i)?;
                    f(&key, CellKind::Number, &line[i..end]);
                    i = end;
                }
                _ => return Err(format!("a value was expected at column {}", i + 1)),
            }
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(format!("`,` or `}}` was expected at column {}", i + 1)),
            }
        }
    }
    if skip_ws(b, i) != b.len() {
        return Err(format!("text follows the object at column {}", i + 1));
    }
    Ok(())
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// A JSON string starting at `i` (at its `"`): its text and the offset
/// after it.
fn string(line: &str, i: usize) -> Result<(Cow<'_, str>, usize), String> {
    let b = line.as_bytes();
    let start = i + 1;
    // Fast path: no escapes (one look at each byte, inline: strings are
    // short).
    let mut j = start;
    while let Some(&c) = b.get(j) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        j += 1;
    }
    match b.get(j) {
        None => return Err("a string is not closed".into()),
        Some(b'"') => return Ok((Cow::Borrowed(&line[start..j]), j + 1)),
        Some(b'\\') => {}
        Some(_) => return Err("a control character in a string".into()),
    }
    let mut s = String::from(&line[start..j]);
    loop {
        match b.get(j) {
            None => return Err("a string is not closed".into()),
            Some(b'"') => return Ok((Cow::Owned(s), j + 1)),
            Some(b'\\') => {
                let c = match b.get(j + 1) {
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    Some(b'/') => '/',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{c}',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'u') => {
                        let hi = hex4(b, j + 2)?;
                        j += 6;
                        let c = if (0xD800..0xDC00).contains(&hi) {
                            if b.get(j) != Some(&b'\\') || b.get(j + 1) != Some(&b'u') {
                                return Err("a lone surrogate in a string".into());
                            }
                            let lo = hex4(b, j + 2)?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err("a lone surrogate in a string".into());
                            }
                            j += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        } else {
                            char::from_u32(hi)
                        };
                        s.push(c.ok_or("a lone surrogate in a string")?);
                        continue;
                    }
                    _ => return Err("a bad escape in a string".into()),
                };
                s.push(c);
                j += 2;
            }
            Some(c) if *c < 0x20 => return Err("a control character in a string".into()),
            Some(_) => {
                // Copy up to the next quote or backslash.
                let rest = &b[j..];
                let k = rest
                    .iter()
                    .position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)
                    .unwrap_or(rest.len());
                s.push_str(&line[j..j + k]);
                j += k;
            }
        }
    }
}

fn hex4(b: &[u8], i: usize) -> Result<u32, String> {
    let h = b.get(i..i + 4).ok_or("a bad \\u escape")?;
    let s = std::str::from_utf8(h).map_err(|_| "a bad \\u escape")?;
    u32::from_str_radix(s, 16).map_err(|_| "a bad \\u escape".to_string())
}

/// The end of a JSON number at `i` (its grammar checked).
fn number_end(b: &[u8], mut i: usize) -> Result<usize, String> {
    let bad = || "a malformed number".to_string();
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        _ => return Err(bad()),
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !matches!(b.get(i), Some(b'0'..=b'9')) {
            return Err(bad());
        }
        while matches!(b.get(i), Some(b'0'..=b'9')) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !matches!(b.get(i), Some(b'0'..=b'9')) {
            return Err(bad());
        }
        while matches!(b.get(i), Some(b'0'..=b'9')) {
            i += 1;
        }
    }
    Ok(i)
}

/// The end of an array or object at `i`, brackets balanced (strings
/// skipped; the inside is checked by a JSON parser).
fn nested_end(b: &[u8], i: usize) -> Result<usize, String> {
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&c) = b.get(j) {
        match c {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1).ok_or("unbalanced brackets")?;
                if depth == 0 {
                    let end = j + 1;
                    let text = std::str::from_utf8(&b[i..end]).map_err(|_| "not UTF-8")?;
                    serde_json::from_str::<serde::de::IgnoredAny>(text)
                        .map_err(|e| format!("a malformed array or object: {e}"))?;
                    return Ok(end);
                }
            }
            b'"' => {
                j += 1;
                while let Some(&d) = b.get(j) {
                    match d {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err("an array or object is not closed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(l: &str) -> Result<Vec<(String, CellKind, String)>, String> {
        let mut v = Vec::new();
        scan_object(l, |k, kind, t| v.push((k.to_string(), kind, t.to_string())))?;
        Ok(v)
    }

    #[test]
    fn values_keep_their_text() {
        let v = scan(
            r#" {"a": "x\"y\u00e9", "b":1234.50, "c":1e3,"d":true,"e":null,"f":[1,{"g":"]"}]} "#,
        )
        .unwrap_or_default();
        let texts: Vec<&str> = v.iter().map(|x| x.2.as_str()).collect();
        assert_eq!(
            texts,
            vec!["x\"yé", "1234.50", "1e3", "true", "", r#"[1,{"g":"]"}]"#]
        );
        assert_eq!(v[1].1, CellKind::Number);
        assert_eq!(v[5].1, CellKind::Nested);
    }

    #[test]
    fn malformed_lines_are_refused() {
        for bad in [
            "",
            "[1]",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":01}",
            "{\"a\":1} x",
            "{\"a\":\"x}",
            "{\"a\":[1,}",
            "{\"a\":tru}",
        ] {
            assert!(scan(bad).is_err(), "{bad}");
        }
        assert_eq!(scan("{}").map(|v| v.len()), Ok(0));
    }
}
