//! Parquet input and Arrow record batches, converted column by column.
//!
//! Arrays of a fitting type are used as they are, without text: `Int8`…
//! `Int64` (and unsigned) for integers, `Decimal128` with scale ≤ 2 for
//! money, `Date32` for dates, `Boolean` for booleans, `Utf8`, `LargeUtf8`,
//! `Utf8View` and dictionaries of them for text, ids and enums. A value
//! such a fast path does not accept as it is (a negative amount, a value
//! outside a declared range) goes through the same text parsing as every
//! other reader, so its error row is the one CSV gives. Other readable
//! types (floats where they are not money, other decimals, `Date64`) are
//! read through their exact text (`weft_data::parquetio::set_cell`).
//!
//! A column of a type that cannot hold the field's values (floating-point
//! money; integer money, which could be fen or yuan; lists, structs, maps, binary, timestamps, times, durations) is a
//! whole-file error naming the column, found before any row is read.

use super::block::RowSink;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use weft_check::ty::Ty;
use weft_data::cell::Cell;
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{CellKind, FileError};

/// Whether a column of type `dt` can hold values of the schema column's
/// kind; `Err` is the message of the whole-file error.
pub fn usable(kind: &ColKind, name: &str, dt: &DataType) -> Result<(), String> {
    let inner = match dt {
        DataType::Dictionary(_, v) => v.as_ref(),
        t => t,
    };
    let money = match kind {
        ColKind::Value(Ty::Money(_)) => true,
        ColKind::Value(Ty::Opt(t)) => matches!(**t, Ty::Money(_)),
        _ => false,
    };
    let float = matches!(
        inner,
        DataType::Float16 | DataType::Float32 | DataType::Float64
    );
    if money && is_integer(inner) {
        return Err(format!(
            "the column `{name}` holds integers, which could be fen or yuan; store money as Decimal128 with scale ≤ 2 (yuan), or as text like \"1234.50\""
        ));
    }
    if money && float {
        return Err(format!(
            "the column `{name}` holds floating-point numbers; money must be exact (Decimal128 with scale ≤ 2, or text like \"1234.50\")"
        ));
    }
    let readable = matches!(
        inner,
        DataType::Null
            | DataType::Boolean
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
    );
    if readable {
        Ok(())
    } else {
        Err(format!(
            "the column `{name}` is of type {dt}, which cannot hold its values (use text, integers, Decimal128, Date32 or Boolean)"
        ))
    }
}

/// Whether `dt` is an integer type (signed or unsigned).
pub fn is_integer(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

/// Check every used column of a batch's schema.
pub fn check_types(
    schema: &InputSchema,
    fields: &[(String, DataType)],
    file: &str,
) -> Result<(), FileError> {
    for (name, dt) in fields {
        if let Some(c) = schema.columns.iter().find(|c| c.name == *name) {
            usable(&c.kind, name, dt).map_err(|m| FileError::new(file, m))?;
        }
    }
    Ok(())
}

/// How one column's cells are read.
enum Conv<'a> {
    Null,
    Bool(&'a arrow_array::BooleanArray),
    Int(Vec<Option<i64>>),
    /// Unscaled values and the factor to fen.
    Money(&'a arrow_array::PrimitiveArray<Decimal128Type>, i128),
    Date(&'a arrow_array::PrimitiveArray<Date32Type>),
    Str(Strs<'a>),
    /// A dictionary of text values: each distinct text read once (its
    /// value, when the fast path reads it), and the keys.
    DictValues(Strs<'a>, Vec<Option<i64>>),
    /// Through the exact text of the value.
    Text,
}

enum Strs<'a> {
    Small(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    /// Dictionary: keys as indices, and the values.
    Dict(Vec<Option<usize>>, Box<Strs<'a>>),
}

impl Strs<'_> {
    fn len(&self) -> usize {
        match self {
            Strs::Small(a) => a.len(),
            Strs::Large(a) => a.len(),
            Strs::View(a) => a.len(),
            Strs::Dict(keys, _) => keys.len(),
        }
    }

    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Strs::Small(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Dict(keys, values) => keys.get(i).copied().flatten().and_then(|k| values.get(k)),
        }
    }
}

fn strs(a: &dyn Array) -> Option<Strs<'_>> {
    match a.data_type() {
        DataType::Utf8 => a.as_string_opt::<i32>().map(Strs::Small),
        DataType::LargeUtf8 => a.as_string_opt::<i64>().map(Strs::Large),
        DataType::Utf8View => a.as_string_view_opt().map(Strs::View),
        DataType::Dictionary(k, _) => {
            let (keys, values): (Vec<Option<usize>>, &dyn Array) = match k.as_ref() {
                DataType::Int8 => dict_keys::<Int8Type>(a)?,
                DataType::Int16 => dict_keys::<Int16Type>(a)?,
                DataType::Int32 => dict_keys::<Int32Type>(a)?,
                DataType::Int64 => dict_keys::<Int64Type>(a)?,
                DataType::UInt8 => dict_keys::<UInt8Type>(a)?,
                DataType::UInt16 => dict_keys::<UInt16Type>(a)?,
                DataType::UInt32 => dict_keys::<UInt32Type>(a)?,
                DataType::UInt64 => dict_keys::<UInt64Type>(a)?,
                _ => return None,
            };
            let values = strs(values)?;
            Some(Strs::Dict(keys, Box::new(values)))
        }
        _ => None,
    }
}

fn dict_keys<K: arrow_array::types::ArrowDictionaryKeyType>(
    a: &dyn Array,
) -> Option<(Vec<Option<usize>>, &dyn Array)> {
    use arrow_buffer::ArrowNativeType;
    let d = a.as_dictionary_opt::<K>()?;
    let n = d.values().len();
    let keys = (0..d.len())
        .map(|i| {
            if d.is_null(i) {
                None
            } else {
                let k = d.keys().value(i).as_usize();
                (k < n).then_some(k)
            }
        })
        .collect();
    Some((keys, d.values().as_ref()))
}

fn ints<T: arrow_array::ArrowPrimitiveType>(a: &dyn Array) -> Option<Vec<Option<i64>>>
where
    T::Native: TryInto<i64>,
{
    let p = a.as_primitive_opt::<T>()?;
    Some(
        (0..p.len())
            .map(|i| {
                if p.is_null(i) {
                    None
                } else {
                    // A value beyond i64 reads through its text (and fails).
                    p.value(i).try_into().ok()
                }
            })
            .collect(),
    )
}

fn conv<'a>(kind: &ColKind, a: &'a dyn Array) -> Conv<'a> {
    let dt = a.data_type();
    if *dt == DataType::Null {
        return Conv::Null;
    }
    if let Some(s) = strs(a) {
        return Conv::Str(s);
    }
    let ty = match kind {
        ColKind::Value(Ty::Opt(t)) => &**t,
        ColKind::Value(t) => t,
        _ => return Conv::Text,
    };
    match (ty, dt) {
        (Ty::Bool, DataType::Boolean) => a.as_boolean_opt().map(Conv::Bool),
        (Ty::Int | Ty::Dur(_), _) => {
            let v = match dt {
                DataType::Int8 => ints::<Int8Type>(a),
                DataType::Int16 => ints::<Int16Type>(a),
                DataType::Int32 => ints::<Int32Type>(a),
                DataType::Int64 => ints::<Int64Type>(a),
                DataType::UInt8 => ints::<UInt8Type>(a),
                DataType::UInt16 => ints::<UInt16Type>(a),
                DataType::UInt32 => ints::<UInt32Type>(a),
                DataType::UInt64 => ints::<UInt64Type>(a),
                _ => None,
            };
            v.map(Conv::Int)
        }
        (Ty::Money(_), DataType::Decimal128(_, s)) if (0..=2).contains(s) => a
            .as_primitive_opt::<Decimal128Type>()
            .map(|p| Conv::Money(p, 10i128.pow(2 - *s as u32))),
        (Ty::Date, DataType::Date32) => a.as_primitive_opt::<Date32Type>().map(Conv::Date),
        _ => None,
    }
    .unwrap_or(Conv::Text)
}

/// The largest amount of money a file may give, in fen (spec §2).
const MAX_FEN: i128 = 100_000_000_000_000;

/// Append the rows of `batch` (whose columns are `header`) to `sink`; row
/// `i` is at line `first_line + i`.
pub fn parse_batch(batch: &RecordBatch, first_line: u64, sink: &mut RowSink<'_, '_>) {
    let shape_cols: Vec<(usize, usize, Conv<'_>)> = {
        let schema = sink.schema();
        schema
            .columns
            .iter()
            .enumerate()
            .filter_map(|(ci, c)| {
                let at = sink.file_column(ci)?;
                let a = batch.columns().get(at)?;
                let c = match conv(&c.kind, a.as_ref()) {
                    Conv::Str(s @ Strs::Dict(..)) if matches!(c.kind, ColKind::Value(_)) => {
                        let values: Vec<Option<i64>> = match &s {
                            Strs::Dict(_, v) => (0..v.len())
                                .map(|k| v.get(k).and_then(|t| sink.fast_value(ci, t)))
                                .collect(),
                            _ => Vec::new(),
                        };
                        Conv::DictValues(s, values)
                    }
                    c => c,
                };
                Some((ci, at, c))
            })
            .collect()
    };
    let mut cell = Cell {
        kind: CellKind::Null,
        text: String::new(),
    };
    for i in 0..batch.num_rows() {
        sink.begin(first_line + i as u64, 0);
        for (ci, at, c) in &shape_cols {
            let (ci, at) = (*ci, *at);
            let typed: Option<Option<i64>> = match c {
                Conv::Null => Some(None),
                Conv::Bool(a) => Some((!a.is_null(i)).then(|| i64::from(a.value(i)))),
                Conv::Int(v) => match v.get(i).copied().flatten() {
                    Some(x) if x >= 0 => Some(Some(x)),
                    Some(_) => None,
                    None => {
                        if batch.column(at).is_null(i) {
                            Some(None)
                        } else {
                            None
                        }
                    }
                },
                Conv::Money(a, f) => {
                    if a.is_null(i) {
                        Some(None)
                    } else {
                        let v = a.value(i).checked_mul(*f);
                        match v {
                            Some(v) if (0..=MAX_FEN).contains(&v) => Some(Some(v as i64)),
                            _ => None,
                        }
                    }
                }
                Conv::Date(a) => Some((!a.is_null(i)).then(|| i64::from(a.value(i)))),
                Conv::DictValues(s, values) => {
                    let known = match s {
                        Strs::Dict(keys, _) => keys
                            .get(i)
                            .copied()
                            .flatten()
                            .and_then(|k| values.get(k).copied().flatten()),
                        _ => None,
                    };
                    match (known, s.get(i)) {
                        (Some(v), _) => sink.typed(ci, v),
                        (None, Some(t)) => sink.cell(ci, at, CellKind::Text, t),
                        (None, None) => sink.cell(ci, at, CellKind::Null, ""),
                    }
                    continue;
                }
                Conv::Str(s) => {
                    match s.get(i) {
                        Some(t) => sink.cell(ci, at, CellKind::Text, t),
                        None => sink.cell(ci, at, CellKind::Null, ""),
                    }
                    continue;
                }
                Conv::Text => None,
            };
            match typed {
                Some(None) => sink.cell(ci, at, CellKind::Null, ""),
                Some(Some(v)) if sink.in_range(ci, v) => sink.typed(ci, v),
                _ => {
                    // Through the value's text, as every reader parses it.
                    weft_data::parquetio::set_cell(batch.column(at).as_ref(), i, &mut cell);
                    sink.cell(ci, at, cell.kind, &cell.text);
                }
            }
        }
        sink.end();
    }
}
