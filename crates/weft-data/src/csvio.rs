//! CSV in and out (RFC 4180 quoting, CRLF or LF line ends, an optional
//! UTF-8 byte-order mark, blank lines skipped).

use crate::cell::{CellKind, Row};
use crate::{FileError, OutCell, OutType, RowReader, RowWriter, file_name};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use weft_syntax::num;

pub const NOT_UTF8: &str = "the file is not valid UTF-8; convert it to UTF-8 first (spreadsheet exports in China are often GB18030: `iconv -f GB18030 -t UTF-8`)";

pub struct CsvReader {
    file: String,
    rdr: csv::Reader<BufReader<File>>,
    header: Vec<String>,
    rec: csv::ByteRecord,
}

impl CsvReader {
    pub fn open(path: &Path) -> Result<CsvReader, FileError> {
        let name = file_name(path);
        let f = File::open(path).map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(FileError::new(
                &name,
                "the file is empty (0 bytes): it has no header row",
            ));
        }
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 16, f));
        let mut rec = csv::ByteRecord::new();
        let got = rdr
            .read_byte_record(&mut rec)
            .map_err(|e| FileError::new(&name, format!("cannot read the header: {e}")))?;
        if !got {
            return Err(FileError::new(&name, "the file has no header row"));
        }
        let mut header = Vec::new();
        for f in rec.iter() {
            let s = std::str::from_utf8(f).map_err(|_| FileError::new(&name, NOT_UTF8))?;
            header.push(s.trim().trim_start_matches('\u{feff}').to_string());
        }
        Ok(CsvReader {
            file: name,
            rdr,
            header,
            rec,
        })
    }
}

impl RowReader for CsvReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self, row: &mut Row) -> Result<bool, FileError> {
        loop {
            let got = self
                .rdr
                .read_byte_record(&mut self.rec)
                .map_err(|e| FileError::new(&self.file, format!("cannot read: {e}")))?;
            if !got {
                return Ok(false);
            }
            // A line with nothing on it is skipped.
            if self.rec.len() == 1 && self.rec.get(0).map(|f| f.is_empty()).unwrap_or(true) {
                continue;
            }
            row.line = self.rec.position().map(|p| p.line()).unwrap_or(0);
            row.reset(self.header.len());
            for (i, f) in self.rec.iter().enumerate().take(self.header.len()) {
                let s = std::str::from_utf8(f).map_err(|_| FileError::new(&self.file, NOT_UTF8))?;
                let kind = if s.is_empty() {
                    CellKind::Null
                } else {
                    CellKind::Text
                };
                row.set(i, kind, s);
            }
            return Ok(true);
        }
    }
}

pub struct CsvWriter {
    file: String,
    w: csv::Writer<BufWriter<File>>,
    buf: Vec<String>,
}

impl CsvWriter {
    pub fn create(path: &Path, columns: &[(String, OutType)]) -> Result<CsvWriter, FileError> {
        let name = file_name(path);
        let f =
            File::create(path).map_err(|e| FileError::new(&name, format!("cannot create: {e}")))?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(BufWriter::with_capacity(1 << 16, f));
        w.write_record(columns.iter().map(|(n, _)| n.as_str()))
            .map_err(|e| FileError::new(&name, format!("cannot write: {e}")))?;
        Ok(CsvWriter {
            file: name,
            w,
            buf: Vec::new(),
        })
    }
}

/// The text of a value in a CSV (or JSON string) cell.
pub fn cell_text(c: &OutCell, out: &mut String) {
    out.clear();
    match c {
        OutCell::Null => {}
        OutCell::Text(s) => out.push_str(s),
        OutCell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        OutCell::Int(v) => {
            if *v < 0 {
                out.push('-');
            }
            num::push_u64(out, v.unsigned_abs());
        }
        OutCell::Money(v) => num::push_money(out, *v),
        OutCell::Decimal(v) => out.push_str(&num::format_decimal(*v)),
        OutCell::Date(d) => out.push_str(&num::format_date(*d)),
    }
}

impl RowWriter for CsvWriter {
    fn write_row(&mut self, cells: &[OutCell]) -> Result<(), FileError> {
        self.buf.resize(cells.len(), String::new());
        for (c, b) in cells.iter().zip(self.buf.iter_mut()) {
            cell_text(c, b);
        }
        self.w
            .write_record(self.buf.iter())
            .map_err(|e| FileError::new(&self.file, format!("cannot write: {e}")))
    }

    fn finish(self: Box<Self>) -> Result<(), FileError> {
        let file = self.file.clone();
        let inner = self
            .w
            .into_inner()
            .map_err(|e| FileError::new(&file, format!("cannot write: {e}")))?;
        let f = inner
            .into_inner()
            .map_err(|e| FileError::new(&file, format!("cannot write: {e}")))?;
        let mut f = f;
        f.flush()
            .and_then(|_| f.sync_all())
            .map_err(|e| FileError::new(&file, format!("cannot write: {e}")))
    }
}
