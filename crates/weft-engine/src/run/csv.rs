//! CSV input, read in blocks of whole records and parsed in parallel.
//!
//! The reader thread reads the file in blocks of about [`BLOCK`] bytes and
//! cuts each at the end of its last complete record: a line end outside
//! quotes (a file without quotes is cut at its last line end; otherwise the
//! quotes are counted). Blocks are then parsed on any thread, straight
//! from the bytes into typed columns ([`super::block::RowSink`]).
//!
//! The format (RFC 4180, as written by spreadsheets):
//! - fields separated by `,`; lines end with LF or CRLF; a UTF-8
//!   byte-order mark at the start is skipped; a blank line (empty, or only
//!   spaces and tabs) is skipped;
//! - a field that starts with `"` is quoted: `""` inside stands for one
//!   `"`, and it may hold commas; text after the closing quote up to the
//!   next comma is kept as it is; a `"` inside an unquoted field is an
//!   ordinary character;
//! - `line` is the physical line where a record starts (the header being
//!   line 1 when it is the first line), whatever the line ends and however
//!   many blank lines or quoted line ends come before.
//!
//! What refuses the file as a whole (nothing is written, the line is
//! named), because which household the damaged rows belong to cannot be
//! known and a household must never be evaluated short of a member:
//! - a quote that is not closed on its line (it would join the lines after
//!   it into one field: no column of a record holds text over several
//!   lines, so a line end inside quotes is always such a mistake);
//! - a record of more than [`MAX_RECORD`] bytes;
//! - a record with fewer fields than the header, or with more where an
//!   extra field is not empty (a stray quote or comma shifts the columns);
//! - a header naming a column twice;
//! - bytes that are not UTF-8.

use super::block::RowSink;
use super::marks::Marks;
use crate::rows::RowError;
use memchr::{memchr, memchr_iter, memchr2_iter, memrchr};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use weft_data::csvio::NOT_UTF8;
use weft_data::{CellKind, FileError, file_name};

/// Bytes read at a time.
pub const BLOCK: usize = 1 << 20;
/// The longest record accepted.
pub const MAX_RECORD: usize = 64 << 20;

/// A block of whole records.
pub struct RawBlock {
    pub bytes: Vec<u8>,
    /// The physical line of its first byte.
    pub first_line: u64,
}

/// A CSV file being read.
pub struct CsvInput {
    name: String,
    file: std::fs::File,
    /// Bytes read and not yet handed out (they start a record).
    carry: Vec<u8>,
    /// The line of `carry`'s first byte.
    line: u64,
    eof: bool,
    sha: Sha256,
    header_len: usize,
}

impl CsvInput {
    /// Open a file and read its header.
    pub fn open(path: &Path) -> Result<(CsvInput, Vec<String>), FileError> {
        let name = file_name(path);
        let file = std::fs::File::open(path)
            .map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(FileError::new(
                &name,
                "the file is empty (0 bytes): it has no header row",
            ));
        }
        let mut input = CsvInput {
            name,
            file,
            carry: Vec::new(),
            line: 1,
            eof: false,
            sha: Sha256::new(),
            header_len: 0,
        };
        // Read until the header record is whole.
        loop {
            input.fill()?;
            if input.carry.starts_with(b"\xEF\xBB\xBF") {
                input.carry.drain(..3);
            }
            let text = match std::str::from_utf8(&input.carry) {
                Ok(t) => t,
                // A block may end inside a character; anything else is not UTF-8.
                Err(e) if !input.eof && input.carry.len() - e.valid_up_to() < 4 => {
                    utf8_prefix(&input.carry)
                }
                Err(_) => return Err(FileError::new(&input.name, NOT_UTF8)),
            };
            if let Some((fields, next, lines)) = first_record(text, input.eof) {
                let header: Vec<String> = fields
                    .iter()
                    .map(|f| f.trim().trim_start_matches('\u{feff}').to_string())
                    .collect();
                input.carry.drain(..next);
                input.line += lines;
                for (i, h) in header.iter().enumerate() {
                    if header[..i].contains(h) {
                        return Err(FileError::new(
                            &input.name,
                            format!("the header names the column `{h}` twice"),
                        ));
                    }
                }
                input.header_len = header.len();
                return Ok((input, header));
            }
            if input.eof {
                return Err(FileError::new(&input.name, "the file has no header row"));
            }
            if input.carry.len() > MAX_RECORD {
                return Err(FileError::new(
                    &input.name,
                    format!(
                        "line 1: the header is longer than {} MiB (is this a CSV file?)",
                        MAX_RECORD >> 20
                    ),
                ));
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read more bytes into `carry`.
    fn fill(&mut self) -> Result<(), FileError> {
        if self.eof {
            return Ok(());
        }
        let start = self.carry.len();
        self.carry.reserve(BLOCK);
        let got = (&mut self.file)
            .take(BLOCK as u64)
            .read_to_end(&mut self.carry)
            .map_err(|e| FileError::new(&self.name, format!("cannot read: {e}")))?;
        if got < BLOCK {
            self.eof = true;
        }
        self.sha.update(&self.carry[start..]);
        Ok(())
    }

    /// The next block of whole records (`None` at the end).
    pub fn next_block(&mut self) -> Result<Option<RawBlock>, FileError> {
        loop {
            if !self.eof && self.carry.len() < BLOCK {
                self.fill()?;
            }
            if self.carry.is_empty() && self.eof {
                return Ok(None);
            }
            match split_point(&self.carry) {
                Split::At(n) if !self.eof || n == self.carry.len() => {
                    return Ok(Some(self.take(n)));
                }
                Split::At(_) | Split::None if self.eof => {
                    // The last record has no line end.
                    if let Some(open) = open_quote(&self.carry) {
                        let line = self.line + count_lines(&self.carry[..open]);
                        return Err(FileError::new(
                            &self.name,
                            format!(
                                "line {line}: a quote opens a field here and is never closed (a stray `\"`?); which household the lines after it belong to cannot be known, so the file is refused"
                            ),
                        ));
                    }
                    let n = self.carry.len();
                    return Ok(Some(self.take(n)));
                }
                _ => {
                    if self.carry.len() > MAX_RECORD {
                        let open = open_quote(&self.carry);
                        let line = self.line + count_lines(&self.carry[..open.unwrap_or(0)]);
                        let why = if open.is_some() {
                            "a quote opens a field here and is not closed within"
                        } else {
                            "a record here is longer than"
                        };
                        return Err(FileError::new(
                            &self.name,
                            format!(
                                "line {line}: {why} {} MiB (a stray `\"`?)",
                                MAX_RECORD >> 20
                            ),
                        ));
                    }
                    self.fill()?;
                }
            }
        }
    }

    fn take(&mut self, n: usize) -> RawBlock {
        let rest = self.carry.split_off(n);
        let bytes = std::mem::replace(&mut self.carry, rest);
        let first_line = self.line;
        self.line += count_lines(&bytes);
        RawBlock { bytes, first_line }
    }

    /// The file's SHA-256 (once every block has been read).
    pub fn sha256(&mut self) -> String {
        let h = std::mem::take(&mut self.sha);
        crate::run::hex(&h.finalize())
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }
}

fn count_lines(b: &[u8]) -> u64 {
    memchr_iter(b'\n', b).count() as u64
}

/// The longest prefix of `b` that is UTF-8 (a block may end inside a
/// character while the header is looked for).
fn utf8_prefix(b: &[u8]) -> &str {
    match std::str::from_utf8(b) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or(""),
    }
}

enum Split {
    /// Whole records end at this offset.
    At(usize),
    None,
}

/// Where the last whole record of `b` ends (just after its line end).
fn split_point(b: &[u8]) -> Split {
    if memchr(b'"', b).is_none() {
        return match memrchr(b'\n', b) {
            Some(i) => Split::At(i + 1),
            None => Split::None,
        };
    }
    let mut quoted = false;
    let mut last = None;
    for i in memchr2_iter(b'"', b'\n', b) {
        if b[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            last = Some(i + 1);
        }
    }
    match last {
        Some(i) => Split::At(i),
        None => Split::None,
    }
}

/// Where the quote that is still open at the end of `b` opened.
fn open_quote(b: &[u8]) -> Option<usize> {
    let mut open = None;
    for i in memchr_iter(b'"', b) {
        open = match open {
            None => Some(i),
            Some(_) => None,
        };
    }
    open
}

/// The first non-blank record of `text` (the header): its fields, the
/// offset after it, and the lines it and the blank lines before it took.
/// `None` when it is not whole yet (unless `eof`).
fn first_record(text: &str, eof: bool) -> Option<(Vec<String>, usize, u64)> {
    let mut pos = 0;
    let mut lines = 0;
    loop {
        let b = text.as_bytes();
        if pos >= b.len() {
            return None;
        }
        let nl = memchr(b'\n', &b[pos..]).map(|i| pos + i);
        let line_end = nl.unwrap_or(b.len());
        if nl.is_none() && !eof {
            // Maybe more to come, unless a quoted field is open (then
            // `record` finds its end or fails).
            if !text[pos..].contains('"') {
                return None;
            }
        }
        if is_blank(&b[pos..line_end]) {
            nl?;
            pos = line_end + 1;
            lines += 1;
            continue;
        }
        let (fields, next, spanned) = record(text, pos).ok()?;
        if next >= b.len() && !eof && b.last() != Some(&b'\n') {
            return None;
        }
        return Some((
            fields.into_iter().map(|f| f.into_owned()).collect(),
            next,
            lines + spanned,
        ));
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'))
}

/// Parse one record starting at `pos` (the slow path, for records with
/// quotes): its fields, the offset after its line end, and the line ends
/// it holds (1; 0 at the end of the text without a line end).
/// `Err(offset)`: a quote opened at `offset` is not closed on its line.
fn record(text: &str, mut pos: usize) -> Result<(Vec<Cow<'_, str>>, usize, u64), usize> {
    let b = text.as_bytes();
    let mut fields = Vec::new();
    let lines = 0u64;
    loop {
        // One field.
        let field: Cow<'_, str>;
        if b.get(pos) == Some(&b'"') {
            let open = pos;
            let mut s = String::new();
            let mut i = pos + 1;
            loop {
                let Some(q) = memchr(b'"', &b[i..]).map(|k| i + k) else {
                    return Err(open);
                };
                let seg = &text[i..q];
                if memchr(b'\n', seg.as_bytes()).is_some() {
                    // No column holds text over several lines: this is a
                    // quote left open, joining lines.
                    return Err(open);
                }
                s.push_str(seg);
                if b.get(q + 1) == Some(&b'"') {
                    s.push('"');
                    i = q + 2;
                } else {
                    i = q + 1;
                    break;
                }
            }
            // Text after the closing quote, up to the field's end.
            let end = field_end(b, i);
            s.push_str(strip_cr(&text[i..end], b.get(end)));
            field = Cow::Owned(s);
            pos = end;
        } else {
            let end = field_end(b, pos);
            field = Cow::Borrowed(strip_cr(&text[pos..end], b.get(end)));
            pos = end;
        }
        fields.push(field);
        match b.get(pos) {
            Some(b',') => pos += 1,
            Some(_) => return Ok((fields, pos + 1, lines + 1)),
            None => return Ok((fields, pos, lines)),
        }
    }
}

/// The end of an unquoted field: the next `,` or line end.
fn field_end(b: &[u8], from: usize) -> usize {
    let rest = &b[from..];
    let comma = memchr(b',', rest);
    let nl = memchr(b'\n', rest);
    from + match (comma, nl) {
        (Some(c), Some(n)) => c.min(n),
        (Some(c), None) => c,
        (None, Some(n)) => n,
        (None, None) => rest.len(),
    }
}

/// A field's text without the `\r` of a CRLF line end.
fn strip_cr<'a>(s: &'a str, next: Option<&u8>) -> &'a str {
    if next != Some(&b',') {
        s.strip_suffix('\r').unwrap_or(s)
    } else {
        s
    }
}

fn kind_of(s: &str) -> CellKind {
    if s.is_empty() {
        CellKind::Null
    } else {
        CellKind::Text
    }
}

/// Parse a block into `sink`.
///
/// Records are cut at the marks ([`Marks`]: `,`, `\n`, `"`) found in one
/// walk over the block; a record holding a `"` anywhere is parsed again
/// from its start by [`record`], which knows quoting.
pub fn parse_block(
    name: &str,
    header_len: usize,
    raw: &RawBlock,
    sink: &mut RowSink<'_, '_>,
) -> Result<(), FileError> {
    let text = match std::str::from_utf8(&raw.bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = raw.first_line + count_lines(&raw.bytes[..e.valid_up_to()]);
            return Err(FileError::new(name, format!("line {line}: {NOT_UTF8}")));
        }
    };
    let b = text.as_bytes();
    let mut marks = Marks::new(b, 0);
    // The current record's fields so far (offsets into `text`).
    let mut fields: Vec<(usize, usize)> = Vec::with_capacity(header_len + 1);
    let mut line = raw.first_line;
    let mut start = 0;
    let mut field = 0;
    while start < b.len() {
        let (at, mark) = match marks.next() {
            Some(at) => (at, b.get(at).copied().unwrap_or(b'\n')),
            None => (b.len(), b'\n'),
        };
        match mark {
            b',' => {
                fields.push((field, at));
                field = at + 1;
            }
            b'"' => {
                let rec_line = line;
                let (quoted, next, spanned) = record(text, start).map_err(|open| {
                    let l = raw.first_line + count_lines(&b[..open]);
                    FileError::new(
                        name,
                        format!(
                            "line {l}: a quote opens a field here and is not closed on the same line (a stray `\"`?); which household the lines after it belong to cannot be known, so the file is refused"
                        ),
                    )
                })?;
                line += spanned.max(1);
                start = next.max(start + 1);
                field = start;
                fields.clear();
                marks.seek(start);
                emit(
                    name,
                    header_len,
                    rec_line,
                    quoted.iter().map(|f| &**f),
                    sink,
                )?;
            }
            _ => {
                let rec_line = line;
                line += 1;
                let end = if at > field && b.get(at - 1) == Some(&b'\r') {
                    at - 1
                } else {
                    at
                };
                fields.push((field, end));
                start = at + 1;
                field = start;
                if fields.len() == 1 && is_blank(&b[fields[0].0..end]) {
                    fields.clear();
                    continue;
                }
                let cells = fields.iter().map(|&(a, e)| text.get(a..e).unwrap_or(""));
                emit(name, header_len, rec_line, cells, sink)?;
                fields.clear();
            }
        }
    }
    Ok(())
}

/// One record's fields into `sink`.
#[inline]
fn emit<'t>(
    name: &str,
    header_len: usize,
    line: u64,
    fields: impl Iterator<Item = &'t str>,
    sink: &mut RowSink<'_, '_>,
) -> Result<(), FileError> {
    sink.begin(line, 0);
    let mut n = 0;
    for f in fields {
        if n < header_len {
            sink.cell_at(n, kind_of(f), f);
        } else if !f.trim().is_empty() {
            return Err(too_many(name, line, header_len));
        }
        n += 1;
    }
    if n < header_len {
        return Err(too_few(name, line, n, header_len));
    }
    sink.end();
    Ok(())
}

fn too_many(name: &str, line: u64, header: usize) -> FileError {
    FileError::new(
        name,
        format!(
            "line {line}: the record has more fields than the header's {header} (a stray `\"` or `,` shifts the columns; which household it belongs to cannot be known, so the file is refused)"
        ),
    )
}

fn too_few(name: &str, line: u64, got: usize, header: usize) -> FileError {
    FileError::new(
        name,
        format!(
            "line {line}: the record has {got} field(s), the header {header} (a missing `,` or a line cut short; which household it belongs to cannot be known, so the file is refused)"
        ),
    )
}

/// A problem with a whole row found while reading it.
pub fn row_problem(column: &str, message: String, order: usize) -> RowError {
    RowError {
        column: column.to_string(),
        message,
        order,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_points_respect_quotes() {
        assert!(matches!(split_point(b"a,b\nc,d\ne"), Split::At(8)));
        assert!(matches!(split_point(b"a,\"b\nc\",d\ne"), Split::At(10)));
        assert!(matches!(split_point(b"a,\"b\nc,d\ne"), Split::None));
        assert_eq!(open_quote(b"a,\"b\nc"), Some(2));
        assert_eq!(open_quote(b"a,\"b\"\nc"), None);
    }

    #[test]
    fn quoted_records() {
        let t = "a,\"b,\"\"c\"\"d\",e\r\nx";
        let (f, next, lines) = record(t, 0).unwrap_or_default();
        assert_eq!(f, vec!["a", "b,\"c\"d", "e"]);
        assert_eq!(&t[next..], "x");
        assert_eq!(lines, 1);
        assert_eq!(record("a,\"b\nc\",d", 0).err(), Some(2));
        assert_eq!(record("\"ab", 0).err(), Some(0));
        let (f, _, _) = record("\"ab\"cd,e", 0).unwrap_or_default();
        assert_eq!(f, vec!["abcd", "e"]);
    }
}
