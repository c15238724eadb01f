//! Parquet in and out (through Arrow record batches), and the Arrow
//! conversions the engine and the API share. The Parquet reader and writer
//! need the `parquet` feature (on by default); the Arrow conversions
//! ([`set_cell`], [`BatchBuilder`], [`rows_of_batch`]) are always there.
//!
//! # Reading
//!
//! The columns are the file's top-level fields, in schema order. Rows are
//! read in batches of [`BATCH_ROWS`], so memory does not grow with the
//! file. `row.line` is the row number plus one, as if a header were line 1:
//! the first row is line 2.
//!
//! Cells are normalised, never validated (the engine parses them by type):
//! - `Utf8`, `LargeUtf8`, `Utf8View`: [`CellKind::Text`];
//! - `Boolean`: [`CellKind::Bool`], `true` / `false`;
//! - `Int8`..`Int64`, `UInt8`..`UInt64`: [`CellKind::Text`] in decimal
//!   digits (`-` for negatives);
//! - `Decimal32/64/128/256(p, s)`: [`CellKind::Text`], the exact value in
//!   plain decimal notation, trailing fractional zeros dropped (unscaled
//!   12345 at scale 2 is `123.45`, 12300 at scale 2 is `123`, at scale 0
//!   `12345`; -5 at scale 2 is `-0.05`). A scale above 2 is not an error
//!   here: `12.345` is then rejected as money by the engine, while `12.340`
//!   (exactly 12.34) reads as `12.34`;
//! - `Date32` (and `Date64`): [`CellKind::Text`], `YYYY-MM-DD`;
//! - `Float16/32/64`: [`CellKind::Float`] holding the shortest text that
//!   reads back as the same value (`0.1`, `1234.5`), never an exponent;
//!   the engine refuses floating point as money;
//! - null: [`CellKind::Null`];
//! - dictionary-encoded columns: as their values;
//! - anything else (lists, structs, maps, timestamps, times, durations,
//!   binary): [`CellKind::Nested`] holding `<type>`.
//!
//! A 0-byte file, or one that is not Parquet, is a whole-file error saying
//! it is not a Parquet file; a file that fails to decode part way is a
//! whole-file error when the reader reaches it.
//!
//! # Writing
//!
//! The schema comes from the [`OutType`]s, every column nullable: Text →
//! `Utf8`, Bool → `Boolean`, Int → `Int64`, Money → `Decimal128(18, 2)`
//! (fen as the unscaled value), Decimal → `Decimal128(18, 6)` (millionths),
//! Date → `Date32`. Rows are buffered and written as a row group of
//! [`BATCH_ROWS`] rows at a time (Snappy-compressed), so the writer never
//! holds the whole output. `finish` writes the last row group and the
//! footer, then fsyncs the file.

use crate::cell::{Cell, CellKind, Row};
#[cfg(feature = "parquet")]
use crate::{FileError, RowReader, RowWriter, file_name};
use crate::{OutCell, OutType};
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowDictionaryKeyType, Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type,
    Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, RecordBatch};
use arrow_buffer::ArrowNativeType;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
#[cfg(feature = "parquet")]
use parquet::arrow::ArrowWriter;
#[cfg(feature = "parquet")]
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
#[cfg(feature = "parquet")]
use parquet::basic::Compression;
#[cfg(feature = "parquet")]
use parquet::file::properties::WriterProperties;
use std::fmt::Write as _;
#[cfg(feature = "parquet")]
use std::fs::File;
#[cfg(feature = "parquet")]
use std::io::Write as _;
#[cfg(feature = "parquet")]
use std::path::Path;
use std::sync::Arc;
use weft_syntax::num;

/// Rows per read batch and per written row group.
pub const BATCH_ROWS: usize = 8192;

/// The largest unscaled value a `Decimal128(18, _)` column holds.
const MAX_18_DIGITS: i64 = 999_999_999_999_999_999;

#[cfg(feature = "parquet")]
pub struct ParquetReader {
    file: String,
    header: Vec<String>,
    batches: ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    /// The next row of `batch`.
    pos: usize,
    /// Rows handed out so far.
    rows: u64,
}

#[cfg(feature = "parquet")]
impl ParquetReader {
    pub fn open(path: &Path) -> Result<ParquetReader, FileError> {
        let name = file_name(path);
        let f = File::open(path).map_err(|e| FileError::new(&name, format!("cannot open: {e}")))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            return Err(FileError::new(
                &name,
                "the file is empty (0 bytes): it is not a Parquet file",
            ));
        }
        let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| {
            FileError::new(
                &name,
                format!("this is not a Parquet file, or it is damaged ({e})"),
            )
        })?;
        let header = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| FileError::new(&name, format!("cannot read: {e}")))?;
        Ok(ParquetReader {
            file: name,
            header,
            batches,
            batch: None,
            pos: 0,
            rows: 0,
        })
    }
}

#[cfg(feature = "parquet")]
impl RowReader for ParquetReader {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self, row: &mut Row) -> Result<bool, FileError> {
        loop {
            if let Some(b) = &self.batch
                && self.pos < b.num_rows()
            {
                self.rows += 1;
                row.line = self.rows + 1;
                row.reset(self.header.len());
                for (col, cell) in b.columns().iter().zip(row.cells.iter_mut()) {
                    set_cell(col.as_ref(), self.pos, cell);
                }
                self.pos += 1;
                return Ok(true);
            }
            match self.batches.next() {
                None => {
                    self.batch = None;
                    return Ok(false);
                }
                Some(Err(e)) => {
                    return Err(FileError::new(
                        &self.file,
                        format!("cannot read after row {}: {e}", self.rows),
                    ));
                }
                Some(Ok(b)) => {
                    self.batch = Some(b);
                    self.pos = 0;
                }
            }
        }
    }
}

/// Set `cell` from row `i` of `arr`.
pub fn set_cell(arr: &dyn Array, i: usize, cell: &mut Cell) {
    cell.text.clear();
    if arr.is_null(i) {
        cell.kind = CellKind::Null;
        return;
    }
    let t = &mut cell.text;
    let kind = match arr.data_type() {
        DataType::Null => Some(CellKind::Null),
        DataType::Boolean => arr.as_boolean_opt().map(|a| {
            t.push_str(if a.value(i) { "true" } else { "false" });
            CellKind::Bool
        }),
        DataType::Utf8 => arr.as_string_opt::<i32>().map(|a| text(t, a.value(i))),
        DataType::LargeUtf8 => arr.as_string_opt::<i64>().map(|a| text(t, a.value(i))),
        DataType::Utf8View => arr.as_string_view_opt().map(|a| text(t, a.value(i))),
        DataType::Int8 => int::<Int8Type>(arr, i, t),
        DataType::Int16 => int::<Int16Type>(arr, i, t),
        DataType::Int32 => int::<Int32Type>(arr, i, t),
        DataType::Int64 => int::<Int64Type>(arr, i, t),
        DataType::UInt8 => int::<UInt8Type>(arr, i, t),
        DataType::UInt16 => int::<UInt16Type>(arr, i, t),
        DataType::UInt32 => int::<UInt32Type>(arr, i, t),
        DataType::UInt64 => int::<UInt64Type>(arr, i, t),
        DataType::Decimal32(_, s) => decimal::<Decimal32Type>(arr, i, *s, t),
        DataType::Decimal64(_, s) => decimal::<Decimal64Type>(arr, i, *s, t),
        DataType::Decimal128(_, s) => decimal::<Decimal128Type>(arr, i, *s, t),
        DataType::Decimal256(_, s) => decimal::<Decimal256Type>(arr, i, *s, t),
        DataType::Date32 => arr
            .as_primitive_opt::<Date32Type>()
            .map(|a| text(t, &num::format_date(a.value(i)))),
        DataType::Date64 => arr.as_primitive_opt::<Date64Type>().and_then(|a| {
            let days = i32::try_from(a.value(i).div_euclid(86_400_000)).ok()?;
            Some(text(t, &num::format_date(days)))
        }),
        DataType::Float16 => arr.as_primitive_opt::<Float16Type>().map(|a| {
            let v = a.value(i);
            // The shortest fixed-point text that rounds back to this half.
            let x = v.to_f64();
            let mut s = x.to_string();
            for digits in 0..=30 {
                let c = format!("{x:.digits$}");
                if c.parse::<f64>()
                    .ok()
                    .map(<Float16Type as ArrowPrimitiveType>::Native::from_f64)
                    == Some(v)
                {
                    s = c;
                    break;
                }
            }
            text(t, &s);
            CellKind::Float
        }),
        DataType::Float32 => arr.as_primitive_opt::<Float32Type>().map(|a| {
            let _ = write!(t, "{}", a.value(i));
            CellKind::Float
        }),
        DataType::Float64 => arr.as_primitive_opt::<Float64Type>().map(|a| {
            let _ = write!(t, "{}", a.value(i));
            CellKind::Float
        }),
        DataType::Dictionary(k, _) => {
            let at = match k.as_ref() {
                DataType::Int8 => dict::<Int8Type>(arr, i),
                DataType::Int16 => dict::<Int16Type>(arr, i),
                DataType::Int32 => dict::<Int32Type>(arr, i),
                DataType::Int64 => dict::<Int64Type>(arr, i),
                DataType::UInt8 => dict::<UInt8Type>(arr, i),
                DataType::UInt16 => dict::<UInt16Type>(arr, i),
                DataType::UInt32 => dict::<UInt32Type>(arr, i),
                DataType::UInt64 => dict::<UInt64Type>(arr, i),
                _ => None,
            };
            if let Some((values, j)) = at {
                return set_cell(values.as_ref(), j, cell);
            }
            None
        }
        _ => None,
    };
    match kind {
        Some(k) => cell.kind = k,
        None => {
            cell.text.clear();
            let _ = write!(cell.text, "<{}>", arr.data_type());
            cell.kind = CellKind::Nested;
        }
    }
}

fn text(t: &mut String, s: &str) -> CellKind {
    t.push_str(s);
    CellKind::Text
}

fn int<T: ArrowPrimitiveType>(arr: &dyn Array, i: usize, t: &mut String) -> Option<CellKind>
where
    T::Native: std::fmt::Display,
{
    let a = arr.as_primitive_opt::<T>()?;
    let _ = write!(t, "{}", a.value(i));
    Some(CellKind::Text)
}

fn decimal<T: ArrowPrimitiveType>(
    arr: &dyn Array,
    i: usize,
    scale: i8,
    t: &mut String,
) -> Option<CellKind>
where
    T::Native: std::fmt::Display,
{
    let a = arr.as_primitive_opt::<T>()?;
    let _ = write!(t, "{}", a.value(i));
    place_point(t, scale);
    Some(CellKind::Text)
}

/// Turn the unscaled integer in `t` (optional `-`, then digits) into the
/// exact decimal value at `scale`, without trailing fractional zeros.
fn place_point(t: &mut String, scale: i8) {
    let start = usize::from(t.starts_with('-'));
    if t[start..] == *"0" {
        return;
    }
    if scale <= 0 {
        for _ in 0..scale.unsigned_abs() {
            t.push('0');
        }
        return;
    }
    let scale = usize::from(scale.unsigned_abs());
    let digits = t.len() - start;
    if digits <= scale {
        // Pad so there is one digit before the point.
        let zeros = "0".repeat(scale + 1 - digits);
        t.insert_str(start, &zeros);
    }
    let point = t.len() - scale;
    t.insert(point, '.');
    let trimmed = t.trim_end_matches('0').trim_end_matches('.').len();
    t.truncate(trimmed);
}

/// The values array and index behind row `i` of a dictionary array.
fn dict<K: ArrowDictionaryKeyType>(arr: &dyn Array, i: usize) -> Option<(&ArrayRef, usize)> {
    let d = arr.as_dictionary_opt::<K>()?;
    let j = d.keys().value(i).as_usize();
    (j < d.values().len()).then_some((d.values(), j))
}

enum ColBuilder {
    Text(StringBuilder),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
}

impl ColBuilder {
    fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Text(b) => Arc::new(b.finish()),
            ColBuilder::Bool(b) => Arc::new(b.finish()),
            ColBuilder::Int(b) => Arc::new(b.finish()),
            ColBuilder::Decimal(b) => Arc::new(b.finish()),
            ColBuilder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// Whether `c` can be written into a column of type `ty`.
fn fits(ty: OutType, c: &OutCell) -> bool {
    matches!(
        (ty, c),
        (_, OutCell::Null)
            | (OutType::Text, OutCell::Text(_))
            | (OutType::Bool, OutCell::Bool(_))
            | (OutType::Int, OutCell::Int(_))
            | (OutType::Date, OutCell::Date(_))
    ) || matches!((ty, c), (OutType::Money, OutCell::Money(v)) | (OutType::Decimal, OutCell::Decimal(v)) if v.unsigned_abs() <= MAX_18_DIGITS as u64)
}

/// Builds Arrow record batches from typed output rows (the Parquet writer
/// and the embedding API's batch results use it). Money is Decimal128(18, 2)
/// (fen as the unscaled value), decimals Decimal128(18, 6), dates Date32,
/// text Utf8, booleans Boolean, integers Int64; every column is nullable.
pub struct BatchBuilder {
    columns: Vec<(String, OutType)>,
    schema: SchemaRef,
    builders: Vec<ColBuilder>,
    rows: usize,
}

impl BatchBuilder {
    pub fn new(columns: &[(String, OutType)]) -> Result<BatchBuilder, String> {
        let mut fields = Vec::with_capacity(columns.len());
        let mut builders = Vec::with_capacity(columns.len());
        for (col, ty) in columns {
            let (dt, b) = match ty {
                OutType::Text => (DataType::Utf8, ColBuilder::Text(StringBuilder::new())),
                OutType::Bool => (DataType::Boolean, ColBuilder::Bool(BooleanBuilder::new())),
                OutType::Int => (DataType::Int64, ColBuilder::Int(Int64Builder::new())),
                OutType::Date => (DataType::Date32, ColBuilder::Date(Date32Builder::new())),
                OutType::Money | OutType::Decimal => {
                    let scale = if *ty == OutType::Money { 2 } else { 6 };
                    let b = Decimal128Builder::new()
                        .with_precision_and_scale(18, scale)
                        .map_err(|e| e.to_string())?;
                    (DataType::Decimal128(18, scale), ColBuilder::Decimal(b))
                }
            };
            fields.push(Field::new(col, dt, true));
            builders.push(b);
        }
        Ok(BatchBuilder {
            columns: columns.to_vec(),
            schema: Arc::new(Schema::new(fields)),
            builders,
            rows: 0,
        })
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows added since the last [`BatchBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Add a row; a row that does not fit the columns is refused whole.
    pub fn push(&mut self, cells: &[OutCell]) -> Result<(), String> {
        if cells.len() != self.columns.len() {
            return Err(format!(
                "cannot write a row of {} values into {} columns",
                cells.len(),
                self.columns.len()
            ));
        }
        // Check the whole row first, so a bad value leaves no partial row.
        for ((col, ty), c) in self.columns.iter().zip(cells) {
            if !fits(*ty, c) {
                return Err(format!(
                    "cannot write {c:?} into column {col} of type {ty:?}"
                ));
            }
        }
        for (b, c) in self.builders.iter_mut().zip(cells) {
            match (b, c) {
                (ColBuilder::Text(b), OutCell::Text(s)) => b.append_value(s),
                (ColBuilder::Text(b), _) => b.append_null(),
                (ColBuilder::Bool(b), OutCell::Bool(v)) => b.append_value(*v),
                (ColBuilder::Bool(b), _) => b.append_null(),
                (ColBuilder::Int(b), OutCell::Int(v)) => b.append_value(*v),
                (ColBuilder::Int(b), _) => b.append_null(),
                (ColBuilder::Decimal(b), OutCell::Money(v) | OutCell::Decimal(v)) => {
                    b.append_value(i128::from(*v))
                }
                (ColBuilder::Decimal(b), _) => b.append_null(),
                (ColBuilder::Date(b), OutCell::Date(v)) => b.append_value(*v),
                (ColBuilder::Date(b), _) => b.append_null(),
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows added so far as a batch; the builder starts again empty.
    pub fn finish(&mut self) -> Result<RecordBatch, String> {
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(ColBuilder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| e.to_string())
    }
}

/// The rows of a record batch as a reader would give them (`line` counts
/// from `first_line`).
pub fn rows_of_batch(batch: &RecordBatch, first_line: u64) -> (Vec<String>, Vec<Row>) {
    let header: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let mut row = Row::default();
        row.reset(header.len());
        row.line = first_line + i as u64;
        for (col, cell) in batch.columns().iter().zip(row.cells.iter_mut()) {
            set_cell(col.as_ref(), i, cell);
        }
        rows.push(row);
    }
    (header, rows)
}

#[cfg(feature = "parquet")]
pub struct ParquetWriter {
    file: String,
    batch: BatchBuilder,
    w: ArrowWriter<File>,
}

#[cfg(feature = "parquet")]
impl ParquetWriter {
    pub fn create(path: &Path, columns: &[(String, OutType)]) -> Result<ParquetWriter, FileError> {
        let name = file_name(path);
        let err = |e: &dyn std::fmt::Display| FileError::new(&name, format!("cannot write: {e}"));
        let batch = BatchBuilder::new(columns).map_err(|e| err(&e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(BATCH_ROWS))
            .build();
        let f =
            File::create(path).map_err(|e| FileError::new(&name, format!("cannot create: {e}")))?;
        let w = ArrowWriter::try_new(f, batch.schema(), Some(props)).map_err(|e| err(&e))?;
        Ok(ParquetWriter {
            file: name,
            batch,
            w,
        })
    }

    /// Write the buffered rows as one row group.
    fn flush_rows(&mut self) -> Result<(), FileError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let err =
            |e: &dyn std::fmt::Display| FileError::new(&self.file, format!("cannot write: {e}"));
        let batch = self.batch.finish().map_err(|e| err(&e))?;
        self.w.write(&batch).map_err(|e| err(&e))?;
        self.w.flush().map_err(|e| err(&e))
    }
}

#[cfg(feature = "parquet")]
impl RowWriter for ParquetWriter {
    fn write_row(&mut self, cells: &[OutCell]) -> Result<(), FileError> {
        self.batch
            .push(cells)
            .map_err(|e| FileError::new(&self.file, e))?;
        if self.batch.len() >= BATCH_ROWS {
            self.flush_rows()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), FileError> {
        self.flush_rows()?;
        let file = self.file.clone();
        let err = |e: &dyn std::fmt::Display| FileError::new(&file, format!("cannot write: {e}"));
        let mut f = self.w.into_inner().map_err(|e| err(&e))?;
        f.flush().and_then(|_| f.sync_all()).map_err(|e| err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::place_point;

    fn placed(unscaled: i128, scale: i8) -> String {
        let mut t = unscaled.to_string();
        place_point(&mut t, scale);
        t
    }

    #[test]
    fn the_point_goes_where_the_scale_says() {
        assert_eq!(placed(12345, 2), "123.45");
        assert_eq!(placed(12345, 0), "12345");
        assert_eq!(placed(-12345, 3), "-12.345");
        assert_eq!(placed(12340, 3), "12.34");
        assert_eq!(placed(12300, 2), "123");
        assert_eq!(placed(5, 2), "0.05");
        assert_eq!(placed(-5, 4), "-0.0005");
        assert_eq!(placed(0, 2), "0");
        // Arrow allows a negative scale (Parquet does not): value × 10^-scale.
        assert_eq!(placed(123, -2), "12300");
        assert_eq!(placed(-1, -3), "-1000");
        assert_eq!(placed(0, -3), "0");
        assert_eq!(
            placed(i128::MIN, 38),
            "-1.70141183460469231731687303715884105728"
        );
    }
}
