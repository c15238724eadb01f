//! An input file of any format, read in raw blocks on the reader thread
//! and parsed into [`Rows`] on any thread.

use super::block::{RowSink, Rows, Shape};
use super::csv::{CsvInput, RawBlock};
use super::jsonl::{JsonlInput, Keys, Seen};
use super::{InputFile, RunError};
#[cfg(feature = "parquet")]
use arrow_array::RecordBatch;
#[cfg(feature = "parquet")]
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use std::path::Path;
#[cfg(feature = "parquet")]
use std::path::PathBuf;
#[cfg(feature = "parquet")]
use std::sync::Arc;
use weft_check::Program;
use weft_check::ty::Ty;
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{FileError, Format, file_name};

/// Rows per Parquet batch.
#[cfg(feature = "parquet")]
const PARQUET_ROWS: usize = 8 * 1024;
/// Row groups of at most this many rows are decoded on the parsing threads,
/// one per task; a file with larger ones is decoded on the reader thread in
/// batches of [`PARQUET_ROWS`] (so memory stays bounded either way).
#[cfg(feature = "parquet")]
const GROUP_ROWS: u64 = 64 * 1024;

/// A block of input as read, not yet parsed.
pub enum Raw {
    Bytes(RawBlock),
    #[cfg(feature = "parquet")]
    /// A record batch and the line of its first row.
    Batch(RecordBatch, u64),
    /// A Parquet row group, to decode where it is parsed.
    #[cfg(feature = "parquet")]
    Group(Arc<GroupSource>, usize, u64),
}

#[cfg(feature = "parquet")]
/// What a parsing thread needs to decode one row group of a Parquet file.
pub struct GroupSource {
    path: PathBuf,
    meta: ArrowReaderMetadata,
}

enum Kind {
    Csv(CsvInput),
    Jsonl(JsonlInput),
    #[cfg(feature = "parquet")]
    Parquet {
        reader: ParquetRecordBatchReader,
        rows: u64,
        /// Bytes per row, for progress.
        row_bytes: u64,
        sha: Option<std::thread::JoinHandle<Result<String, FileError>>>,
    },
    #[cfg(feature = "parquet")]
    /// Parquet, one row group at a time, decoded by the parsing threads.
    ParquetGroups {
        source: Arc<GroupSource>,
        /// The first row and row count of each row group.
        groups: Vec<(u64, u64)>,
        next: usize,
        row_bytes: u64,
        sha: Option<std::thread::JoinHandle<Result<String, FileError>>>,
    },
}

/// How blocks of an input are parsed (shared by the parsing threads).
pub struct Parser<'a> {
    pub name: String,
    pub shape: Shape<'a>,
    format: ParseAs,
}

enum ParseAs {
    Csv {
        header_len: usize,
    },
    Jsonl(Keys),
    #[cfg(feature = "parquet")]
    Parquet,
}

impl Parser<'_> {
    /// Parse a raw block (on any thread).
    pub fn parse(&self, raw: &Raw) -> Result<(Rows, Seen), RunError> {
        let mut seen = Seen::default();
        let rows = match (&self.format, raw) {
            (ParseAs::Csv { header_len }, Raw::Bytes(b)) => {
                let mut sink = RowSink::new(&self.shape, lines_in(&b.bytes));
                super::csv::parse_block(&self.name, *header_len, b, &mut sink)?;
                sink.finish()
            }
            (ParseAs::Jsonl(keys), Raw::Bytes(b)) => {
                let mut sink = RowSink::new(&self.shape, lines_in(&b.bytes));
                super::jsonl::parse_block(&self.name, keys, b, &mut sink, &mut seen)?;
                sink.finish()
            }
            #[cfg(feature = "parquet")]
            (ParseAs::Parquet, Raw::Batch(batch, first)) => {
                let mut sink = RowSink::new(&self.shape, batch.num_rows());
                super::parquet::parse_batch(batch, *first, &mut sink);
                sink.finish()
            }
            #[cfg(feature = "parquet")]
            (ParseAs::Parquet, Raw::Group(source, group, first)) => {
                self.parse_group(source, *group, *first)?
            }
            #[allow(unreachable_patterns)]
            _ => Rows::new(self.shape.schema, 0),
        };
        Ok((rows, seen))
    }
}

#[cfg(feature = "parquet")]
impl Parser<'_> {
    /// Decode and parse one Parquet row group.
    fn parse_group(
        &self,
        source: &GroupSource,
        group: usize,
        first: u64,
    ) -> Result<Rows, RunError> {
        let damaged = |e: &dyn std::fmt::Display| {
            RunError::from(FileError::new(
                &self.name,
                format!("cannot read the rows from line {first} on: {e}"),
            ))
        };
        let f = std::fs::File::open(&source.path).map_err(|e| damaged(&e))?;
        let rows = source
            .meta
            .metadata()
            .row_groups()
            .get(group)
            .map(|g| g.num_rows().max(0) as usize)
            .unwrap_or(0);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, source.meta.clone())
            .with_row_groups(vec![group])
            .with_batch_size(rows.max(1))
            .build()
            .map_err(|e| damaged(&e))?;
        let mut sink = RowSink::new(&self.shape, rows);
        let mut line = first;
        for batch in reader {
            let batch = batch.map_err(|e| damaged(&e))?;
            super::parquet::parse_batch(&batch, line, &mut sink);
            line += batch.num_rows() as u64;
        }
        Ok(sink.finish())
    }
}

#[cfg(feature = "parquet")]
/// The Arrow schema to read a Parquet file with: text columns that hold
/// values (enum codes, dates or amounts written as text) are read as
/// dictionaries, so each distinct text is parsed once per batch and no
/// string is made per row. `None`: nothing to change.
fn dictionary_hint(
    schema: &InputSchema,
    file: &arrow_schema::Schema,
) -> Option<arrow_schema::SchemaRef> {
    use arrow_schema::{DataType, Field};
    let mut changed = false;
    let fields: Vec<Field> = file
        .fields()
        .iter()
        .map(|f| {
            let value = schema
                .columns
                .iter()
                .any(|c| c.name == *f.name() && matches!(c.kind, ColKind::Value(_)));
            if value && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8) {
                changed = true;
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(f.data_type().clone()),
                ))
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    changed.then(|| {
        Arc::new(arrow_schema::Schema::new_with_metadata(
            fields,
            file.metadata().clone(),
        ))
    })
}

/// An input being read.
pub struct Input<'a> {
    pub parser: Parser<'a>,
    name: String,
    kind: Kind,
    /// The file's size in bytes.
    pub size: u64,
    /// Columns and unknown keys seen (JSON Lines).
    seen: Seen,
}

/// How many lines a block holds (the rows to make room for).
fn lines_in(b: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', b).count() + 1
}

/// Refuse what cannot be read as a file of records.
fn check_file(path: &Path, name: &str) -> Result<u64, FileError> {
    let meta =
        std::fs::metadata(path).map_err(|e| FileError::new(name, format!("cannot open: {e}")))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(FileError::new(
            name,
            "is a directory, not a file of records",
        ));
    }
    if !ft.is_file() {
        return Err(FileError::new(
            name,
            "is not a regular file (a device, a FIFO or a socket): give a file of records",
        ));
    }
    Ok(meta.len())
}

fn header_check(
    schema: &InputSchema,
    header: &[String],
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<(), RunError> {
    let missing: Vec<String> = schema
        .columns
        .iter()
        .filter(|c| !header.contains(&c.name))
        .map(|c| c.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(RunError::MissingColumns {
            file: name.to_string(),
            columns: missing,
        });
    }
    for h in header {
        if !schema.columns.iter().any(|c| c.name == *h) {
            warnings.push(format!(
                "{name}: the column `{h}` is not used by the policy and is ignored"
            ));
        }
    }
    Ok(())
}

#[cfg(feature = "parquet")]
fn sha256_file(path: &Path) -> Result<String, FileError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let name = file_name(path);
    let mut f = std::fs::File::open(path)
        .map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| FileError::new(&name, format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(super::hex(&h.finalize()))
}

impl<'a> Input<'a> {
    pub fn open(
        prog: &'a Program,
        schema: &'a InputSchema,
        file: &InputFile,
        warnings: &mut Vec<String>,
    ) -> Result<Input<'a>, RunError> {
        let name = file_name(&file.path);
        let size = check_file(&file.path, &name)?;
        match file.format {
            Format::Csv => {
                let (csv, header) = CsvInput::open(&file.path)?;
                header_check(schema, &header, &name, warnings)?;
                Ok(Input {
                    parser: Parser {
                        name: name.clone(),
                        shape: Shape::new(prog, schema, &header),
                        format: ParseAs::Csv {
                            header_len: csv.header_len(),
                        },
                    },
                    name,
                    kind: Kind::Csv(csv),
                    size,
                    seen: Seen::default(),
                })
            }
            Format::Jsonl => {
                let mut j = JsonlInput::open(&file.path)?;
                let first = j.first_keys()?;
                let keys = Keys::new(schema, &first);
                Ok(Input {
                    parser: Parser {
                        name: name.clone(),
                        shape: Shape::with_orders(prog, schema, &keys.order),
                        format: ParseAs::Jsonl(keys),
                    },
                    name,
                    kind: Kind::Jsonl(j),
                    size,
                    seen: Seen::default(),
                })
            }
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => Err(weft_data::no_parquet(&file.path).into()),
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                if size == 0 {
                    return Err(FileError::new(
                        &name,
                        "the file is empty (0 bytes): it is not a Parquet file",
                    )
                    .into());
                }
                let f = std::fs::File::open(&file.path)
                    .map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
                let damaged = |e: parquet::errors::ParquetError| {
                    FileError::new(
                        &name,
                        format!("this is not a Parquet file, or it is damaged ({e})"),
                    )
                };
                let meta =
                    ArrowReaderMetadata::load(&f, ArrowReaderOptions::new()).map_err(damaged)?;
                let fields: Vec<(String, arrow_schema::DataType)> = meta
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), f.data_type().clone()))
                    .collect();
                let header: Vec<String> = fields.iter().map(|f| f.0.clone()).collect();
                for (i, h) in header.iter().enumerate() {
                    if header[..i].contains(h) {
                        return Err(FileError::new(
                            &name,
                            format!("the file names the column `{h}` twice"),
                        )
                        .into());
                    }
                }
                header_check(schema, &header, &name, warnings)?;
                super::parquet::check_types(schema, &fields, &name)?;
                // Read value text as dictionaries when the reader can (it
                // cannot, say, for a column already stored as one).
                let meta = match dictionary_hint(schema, meta.schema()) {
                    Some(hint) => ArrowReaderMetadata::try_new(
                        meta.metadata().clone(),
                        ArrowReaderOptions::new().with_schema(hint),
                    )
                    .unwrap_or(meta),
                    None => meta,
                };
                let rows = meta.metadata().file_metadata().num_rows().max(1) as u64;
                let row_bytes = (size / rows).max(1);
                let path = file.path.clone();
                let sha = std::thread::Builder::new()
                    .name("weft-sha".into())
                    .spawn(move || sha256_file(&path))
                    .ok();
                let mut groups = Vec::new();
                let mut at = 2u64;
                for g in meta.metadata().row_groups() {
                    let n = g.num_rows().max(0) as u64;
                    groups.push((at, n));
                    at += n;
                }
                let kind = if groups.len() > 1 && groups.iter().all(|g| g.1 <= GROUP_ROWS) {
                    Kind::ParquetGroups {
                        source: Arc::new(GroupSource {
                            path: file.path.clone(),
                            meta,
                        }),
                        groups,
                        next: 0,
                        row_bytes,
                        sha,
                    }
                } else {
                    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, meta)
                        .with_batch_size(PARQUET_ROWS)
                        .build()
                        .map_err(|e| FileError::new(&name, format!("cannot read: {e}")))?;
                    Kind::Parquet {
                        reader,
                        rows: 0,
                        row_bytes,
                        sha,
                    }
                };
                Ok(Input {
                    parser: Parser {
                        name: name.clone(),
                        shape: Shape::new(prog, schema, &header),
                        format: ParseAs::Parquet,
                    },
                    name,
                    kind,
                    size,
                    seen: Seen::default(),
                })
            }
        }
    }

    /// The next raw block, and its size in bytes of the file (for progress).
    pub fn read(&mut self) -> Result<Option<(Raw, u64)>, RunError> {
        match &mut self.kind {
            Kind::Csv(c) => Ok(c.next_block()?.map(|b| {
                let n = b.bytes.len() as u64;
                (Raw::Bytes(b), n)
            })),
            Kind::Jsonl(j) => Ok(j.next_block()?.map(|b| {
                let n = b.bytes.len() as u64;
                (Raw::Bytes(b), n)
            })),
            #[cfg(feature = "parquet")]
            Kind::Parquet {
                reader,
                rows,
                row_bytes,
                ..
            } => match reader.next() {
                None => Ok(None),
                Some(Err(e)) => Err(FileError::new(
                    &self.name,
                    format!("cannot read after row {rows}: {e}"),
                )
                .into()),
                Some(Ok(b)) => {
                    let first = *rows + 2;
                    *rows += b.num_rows() as u64;
                    let n = b.num_rows() as u64 * *row_bytes;
                    Ok(Some((Raw::Batch(b, first), n)))
                }
            },
            #[cfg(feature = "parquet")]
            Kind::ParquetGroups {
                source,
                groups,
                next,
                row_bytes,
                ..
            } => match groups.get(*next) {
                None => Ok(None),
                Some(&(first, n)) => {
                    *next += 1;
                    Ok(Some((
                        Raw::Group(source.clone(), *next - 1, first),
                        n * *row_bytes,
                    )))
                }
            },
        }
    }

    /// Note what a parsed block saw (JSON Lines keys).
    pub fn saw(&mut self, seen: Seen) {
        if self.seen.columns.len() < seen.columns.len() {
            self.seen.columns.resize(seen.columns.len(), false);
        }
        for (a, b) in self.seen.columns.iter_mut().zip(&seen.columns) {
            *a |= *b;
        }
        for u in seen.unknown {
            if !self.seen.unknown.contains(&u) {
                self.seen.unknown.push(u);
            }
        }
    }

    /// The file has been read: JSON Lines columns no line gave are
    /// refused here (when the policy needs them), unknown keys warned of.
    pub fn finish(&mut self, warnings: &mut Vec<String>) -> Result<(), RunError> {
        if let Kind::Jsonl(..) = self.kind {
            let schema = self.parser.shape.schema;
            let missing: Vec<String> = schema
                .columns
                .iter()
                .enumerate()
                .filter(|(ci, c)| {
                    !self.seen.columns.get(*ci).copied().unwrap_or(false)
                        && !matches!(&c.kind, ColKind::Value(Ty::Opt(_)))
                })
                .map(|(_, c)| c.name.clone())
                .collect();
            if !missing.is_empty() {
                return Err(RunError::MissingColumns {
                    file: self.name.clone(),
                    columns: missing,
                });
            }
            for u in &self.seen.unknown {
                warnings.push(format!(
                    "{}: the column `{u}` is not used by the policy and is ignored",
                    self.name
                ));
            }
        }
        Ok(())
    }

    /// The file's SHA-256 (once read to its end).
    pub fn sha256(&mut self) -> Result<String, RunError> {
        match &mut self.kind {
            Kind::Csv(c) => Ok(c.sha256()),
            Kind::Jsonl(j) => Ok(j.sha256()),
            #[cfg(feature = "parquet")]
            Kind::Parquet { sha, .. } | Kind::ParquetGroups { sha, .. } => match sha.take() {
                Some(h) => match h.join() {
                    Ok(r) => Ok(r?),
                    Err(_) => Err(RunError::Scratch("the file hash failed".into())),
                },
                None => Err(RunError::Scratch("the file hash failed".into())),
            },
        }
    }

    /// The header position of schema column `ci`.
    pub fn order_of(&self, ci: Option<usize>) -> usize {
        ci.and_then(|c| self.parser.shape.in_file.get(c).copied().flatten())
            .unwrap_or(0)
    }
}
