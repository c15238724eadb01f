//! Record data in and out: the input schema a policy's record declarations
//! define, readers for CSV, JSON Lines and Parquet that yield rows of
//! cells, the parsing of a cell into a typed value (with the error message
//! a caseworker reads), and writers for the output files.
//!
//! Readers never decide whether a row is valid: they hand every row, with
//! its physical line number, to the engine, which parses the cells against
//! the schema. A problem with a whole file (not UTF-8, a missing column,
//! floating-point money in Parquet, an empty file) is a [`FileError`].
//!
//! This crate reads and writes the files it is given; it never decides
//! where files go (the engine writes to temporary names and renames).

pub mod cell;
pub mod csvio;
pub mod format;
pub mod jsonl;
pub mod parquetio;
pub mod schema;

pub use cell::{CellKind, Row};
pub use format::Format;

/// A problem with a whole input or output file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct FileError {
    /// The file's name as given (its last path component).
    pub file: String,
    pub message: String,
}

impl FileError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> FileError {
        FileError {
            file: file.into(),
            message: message.into(),
        }
    }
}

/// A source of rows.
pub trait RowReader: Send {
    /// The column names, in file order.
    fn header(&self) -> &[String];
    /// Fill `row` with the next row. `Ok(false)` at the end.
    fn next_row(&mut self, row: &mut Row) -> Result<bool, FileError>;
}

/// A sink of output rows.
pub trait RowWriter: Send {
    fn write_row(&mut self, cells: &[OutCell]) -> Result<(), FileError>;
    /// Flush and close; the file is complete only after this.
    fn finish(self: Box<Self>) -> Result<(), FileError>;
}

/// A typed output value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutCell {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    /// Fen.
    Money(i64),
    /// Millionths.
    Decimal(i64),
    /// Days since 1970-01-01.
    Date(i32),
}

/// The type of an output column, for writers that declare one (Parquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutType {
    Text,
    Bool,
    Int,
    Money,
    Decimal,
    Date,
}

/// The last path component of a path, as error rows name files.
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.to_string_lossy().to_string())
}

/// The error of a Parquet file in a build without the `parquet` feature.
pub fn no_parquet(path: &std::path::Path) -> FileError {
    FileError::new(
        file_name(path),
        "this build of Weft reads and writes no Parquet files (it was built without the `parquet` feature)",
    )
}

/// Open a reader for a file in a format.
pub fn open_reader(
    path: &std::path::Path,
    format: Format,
) -> Result<Box<dyn RowReader>, FileError> {
    match format {
        Format::Csv => Ok(Box::new(csvio::CsvReader::open(path)?)),
        Format::Jsonl => Ok(Box::new(jsonl::JsonlReader::open(path)?)),
        #[cfg(feature = "parquet")]
        Format::Parquet => Ok(Box::new(parquetio::ParquetReader::open(path)?)),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Err(no_parquet(path)),
    }
}

/// Open a writer for a file in a format, with the columns' names and types.
pub fn open_writer(
    path: &std::path::Path,
    format: Format,
    columns: &[(String, OutType)],
) -> Result<Box<dyn RowWriter>, FileError> {
    match format {
        Format::Csv => Ok(Box::new(csvio::CsvWriter::create(path, columns)?)),
        Format::Jsonl => Ok(Box::new(jsonl::JsonlWriter::create(path, columns)?)),
        #[cfg(feature = "parquet")]
        Format::Parquet => Ok(Box::new(parquetio::ParquetWriter::create(path, columns)?)),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Err(no_parquet(path)),
    }
}
