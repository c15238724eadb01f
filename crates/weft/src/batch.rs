//! Arrow input: the schema a policy expects of a record batch, and the
//! check of a batch's schema before any row is read.
//!
//! | field type | Arrow types accepted | as |
//! | --- | --- | --- |
//! | money | `Decimal128(p, s)` with `s ≤ 2` (yuan); integers only with [`IntegerMoney::Fen`] or [`IntegerMoney::Yuan`] | exact fen |
//! | date | `Date32`, `Date64` | the day |
//! | boolean | `Boolean` | |
//! | whole number, duration | `Int8`…`Int64`, `UInt8`…`UInt64` | |
//! | decimal | `Decimal128`/`Decimal256` (exact), integers | millionths |
//! | enum | code strings (`Utf8`, `LargeUtf8`, `Utf8View`, or a dictionary of them) | the variant |
//! | id, link, text | strings, or integers (their digits) | |
//!
//! Every field also accepts strings in the formats of the data files
//! (`1234.50`, `2018-08-01`, `true`, codes), parsed and checked exactly as
//! CSV text is, and a column of Arrow's `Null` type. Floating-point
//! numbers, timestamps, times, durations, lists, structs, maps and binary
//! are refused for every field: one [`Error::ColumnType`] naming the
//! column, before any row is read. Columns the policy does not read are
//! ignored, whatever their type (unless the options are strict).

use crate::Error;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;
use weft_check::ty::Ty;
use weft_data::schema::{ColKind, InputSchema};

/// What the integers of a money column count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IntegerMoney {
    /// Refuse integer money columns ([`Error::IntegerMoney`]): an `Int64`
    /// could hold fen or yuan, and guessing wrong is a factor of 100.
    #[default]
    Refuse,
    /// Integers count fen (`80600` is ¥806.00).
    Fen,
    /// Integers count yuan (`806` is ¥806.00).
    Yuan,
}

/// How record batches and JSON records are read.
///
/// ```
/// use weft::{BatchOptions, IntegerMoney};
/// let opts = BatchOptions::new().integer_money(IntegerMoney::Fen).strict(true);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    pub(crate) integer_money: IntegerMoney,
    pub(crate) strict: bool,
}

impl BatchOptions {
    /// The defaults: integer money refused, unknown fields ignored.
    pub fn new() -> BatchOptions {
        BatchOptions::default()
    }

    /// What the integers of money columns count.
    pub fn integer_money(mut self, unit: IntegerMoney) -> BatchOptions {
        self.integer_money = unit;
        self
    }

    /// Refuse fields and columns the policy does not read
    /// ([`Error::UnknownColumn`]), and explained output columns it does
    /// not have ([`Error::UnknownOutputColumn`]), instead of ignoring them.
    pub fn strict(mut self, strict: bool) -> BatchOptions {
        self.strict = strict;
        self
    }
}

/// The innermost type of an optional.
fn base(ty: &Ty) -> &Ty {
    match ty {
        Ty::Opt(t) => base(t),
        t => t,
    }
}

fn nullable(kind: &ColKind) -> bool {
    matches!(kind, ColKind::Value(Ty::Opt(_)))
}

/// The Arrow type a policy prefers for a column.
fn preferred(kind: &ColKind) -> DataType {
    match kind {
        ColKind::Text | ColKind::Link { .. } => DataType::Utf8,
        ColKind::Value(ty) => match base(ty) {
            Ty::Money(_) => DataType::Decimal128(18, 2),
            Ty::Date => DataType::Date32,
            Ty::Bool => DataType::Boolean,
            Ty::Decimal => DataType::Decimal128(18, 6),
            Ty::Int | Ty::IntLit | Ty::Dur(_) => DataType::Int64,
            _ => DataType::Utf8,
        },
    }
}

/// The types accepted besides text, in words (for errors).
fn expected(kind: &ColKind) -> &'static str {
    match kind {
        ColKind::Text | ColKind::Link { .. } => "text or integers",
        ColKind::Value(ty) => match base(ty) {
            Ty::Money(_) => "Decimal128 with scale ≤ 2 (yuan), or text like \"1234.50\"",
            Ty::Date => "Date32, or text like \"2018-08-01\"",
            Ty::Bool => "Boolean, or text",
            Ty::Decimal => "Decimal128, integers, or text",
            Ty::Int | Ty::IntLit | Ty::Dur(_) => "integers, or text",
            Ty::Enum(..) => "code strings (Utf8 or a dictionary of Utf8)",
            _ => "text or integers",
        },
    }
}

fn is_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

fn is_int(dt: &DataType) -> bool {
    weft_engine::run::parquet::is_integer(dt)
}

/// Whether a column of type `dt` may hold values of `kind`: `Ok(true)`
/// when it is integer money to convert.
fn accepts(kind: &ColKind, dt: &DataType) -> Result<bool, ()> {
    if is_text(dt) || *dt == DataType::Null {
        return Ok(false);
    }
    let ok = match kind {
        ColKind::Text | ColKind::Link { .. } => is_int(dt),
        ColKind::Value(ty) => match base(ty) {
            Ty::Text => is_int(dt),
            Ty::Money(_) => {
                if is_int(dt) {
                    return Ok(true);
                }
                matches!(dt, DataType::Decimal128(_, s) if (0..=2).contains(s))
            }
            Ty::Date => matches!(dt, DataType::Date32 | DataType::Date64),
            Ty::Bool => *dt == DataType::Boolean,
            Ty::Decimal => {
                is_int(dt) || matches!(dt, DataType::Decimal128(..) | DataType::Decimal256(..))
            }
            Ty::Int | Ty::IntLit | Ty::Dur(_) => is_int(dt),
            _ => false,
        },
    };
    if ok { Ok(false) } else { Err(()) }
}

/// The Arrow schema of an input: one field per column the policy reads,
/// of the preferred type (see the [module](self) for every type accepted).
pub(crate) fn arrow_schema(schema: &InputSchema) -> Schema {
    Schema::new(
        schema
            .columns
            .iter()
            .map(|c| Field::new(&c.name, preferred(&c.kind), nullable(&c.kind)))
            .collect::<Vec<_>>(),
    )
}

/// Check a batch's schema against an input's and convert integer money as
/// the options say: the batch to evaluate (integer money columns replaced
/// by `Decimal128` ones).
pub(crate) fn conform(
    schema: &InputSchema,
    batch: &RecordBatch,
    opts: &BatchOptions,
) -> Result<RecordBatch, Error> {
    let bschema = batch.schema();
    let missing: Vec<String> = schema
        .columns
        .iter()
        .filter(|c| !nullable(&c.kind) && bschema.index_of(&c.name).is_err())
        .map(|c| c.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            input: schema.input.clone(),
            columns: missing,
        });
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let mut fields: Vec<Field> = bschema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut changed = false;
    for (at, f) in bschema.fields().iter().enumerate() {
        let Some(c) = schema.columns.iter().find(|c| c.name == *f.name()) else {
            if opts.strict {
                return Err(Error::UnknownColumn {
                    input: schema.input.clone(),
                    column: f.name().clone(),
                });
            }
            continue;
        };
        let integer_money = accepts(&c.kind, f.data_type()).map_err(|()| Error::ColumnType {
            input: schema.input.clone(),
            column: c.name.clone(),
            expected: expected(&c.kind).to_string(),
            found: f.data_type().to_string(),
        })?;
        if !integer_money {
            continue;
        }
        let scale = match opts.integer_money {
            IntegerMoney::Refuse => {
                return Err(Error::IntegerMoney {
                    input: schema.input.clone(),
                    column: c.name.clone(),
                });
            }
            IntegerMoney::Fen => 2,
            IntegerMoney::Yuan => 0,
        };
        let Some(a) = columns.get(at) else { continue };
        let decimal = integer_decimal(a.as_ref(), scale).ok_or_else(|| Error::ColumnType {
            input: schema.input.clone(),
            column: c.name.clone(),
            expected: expected(&c.kind).to_string(),
            found: f.data_type().to_string(),
        })?;
        if let (Some(col), Some(field)) = (columns.get_mut(at), fields.get_mut(at)) {
            *field = Field::new(f.name(), decimal.data_type().clone(), f.is_nullable());
            *col = decimal;
        }
        changed = true;
    }
    if !changed {
        return Ok(batch.clone());
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::Input(format!("{}: {e}", schema.input)))
}

/// An integer array as `Decimal128(38, scale)` of the same integers
/// (unscaled), exactly.
fn integer_decimal(a: &dyn Array, scale: i8) -> Option<ArrayRef> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    };
    fn conv<T: arrow_array::ArrowPrimitiveType>(a: &dyn Array) -> Option<Vec<Option<i128>>>
    where
        T::Native: Into<i128>,
    {
        let p = a.as_primitive_opt::<T>()?;
        Some(p.iter().map(|v| v.map(Into::into)).collect())
    }
    let values = match a.data_type() {
        DataType::Int8 => conv::<Int8Type>(a),
        DataType::Int16 => conv::<Int16Type>(a),
        DataType::Int32 => conv::<Int32Type>(a),
        DataType::Int64 => conv::<Int64Type>(a),
        DataType::UInt8 => conv::<UInt8Type>(a),
        DataType::UInt16 => conv::<UInt16Type>(a),
        DataType::UInt32 => conv::<UInt32Type>(a),
        DataType::UInt64 => conv::<UInt64Type>(a),
        _ => None,
    }?;
    let d = arrow_array::Decimal128Array::from(values)
        .with_precision_and_scale(38, scale)
        .ok()?;
    Some(Arc::new(d))
}
