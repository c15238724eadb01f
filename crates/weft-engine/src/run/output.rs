//! Outputs from typed columns: the evaluated rows of a chunk as columns
//! ([`OutBlock`]), encoded as CSV or JSON Lines bytes on the evaluating
//! threads, or turned into Arrow arrays for Parquet.
//!
//! Money, integers, dates and booleans are formatted straight into the
//! block's buffer; text is quoted only where CSV needs it (a `,`, `"`, CR
//! or LF inside), as the `csv` crate writes it; enum codes are written from
//! a table made once. The bytes are those the row writers of `weft-data`
//! write (a test holds them equal).

use super::block::Texts;
use arrow_array::{ArrayRef, RecordBatch};
use std::sync::Arc;
use weft_check::Program;
use weft_check::ty::Ty;
use weft_data::{OutCell, OutType};
use weft_ir::Ir;
use weft_syntax::num;

/// How one output column is written.
#[derive(Debug, Clone)]
pub enum OutKind {
    Money,
    Int,
    Bool,
    Decimal,
    Date,
    /// An enum: its codes by variant.
    Enum(Vec<String>),
    Text,
}

#[derive(Debug, Clone)]
pub struct OutSpec {
    pub name: String,
    pub kind: OutKind,
}

impl OutSpec {
    pub fn out_type(&self) -> OutType {
        match self.kind {
            OutKind::Money => OutType::Money,
            OutKind::Int => OutType::Int,
            OutKind::Bool => OutType::Bool,
            OutKind::Decimal => OutType::Decimal,
            OutKind::Date => OutType::Date,
            OutKind::Enum(_) | OutKind::Text => OutType::Text,
        }
    }
}

/// The kind of a column of type `ty`.
pub fn kind_of(prog: &Program, ty: &Ty) -> OutKind {
    match ty {
        Ty::Money(_) => OutKind::Money,
        Ty::Bool => OutKind::Bool,
        Ty::Decimal => OutKind::Decimal,
        Ty::Date => OutKind::Date,
        Ty::Text => OutKind::Text,
        Ty::Enum(e, _) => OutKind::Enum(
            prog.enums
                .get(*e)
                .map(|en| en.variants.iter().map(|v| v.code.clone()).collect())
                .unwrap_or_default(),
        ),
        Ty::Opt(t) => kind_of(prog, t),
        _ => OutKind::Int,
    }
}

/// The columns of every output of a program.
pub fn specs(ir: &Ir) -> Vec<Vec<OutSpec>> {
    ir.outputs
        .iter()
        .map(|o| {
            o.columns
                .iter()
                .map(|c| OutSpec {
                    name: c.name.clone(),
                    kind: match c.value {
                        weft_ir::ColumnValue::Text(_) => OutKind::Text,
                        weft_ir::ColumnValue::Inst(_) => kind_of(&ir.hir, &c.ty),
                    },
                })
                .collect()
        })
        .collect()
}

/// One output column's values for some rows.
#[derive(Debug, Clone)]
pub enum OutVals {
    I64(Vec<i64>),
    Text(Texts),
}

impl OutVals {
    fn len(&self) -> usize {
        match self {
            OutVals::I64(v) => v.len(),
            OutVals::Text(t) => t.len(),
        }
    }
}

/// Evaluated rows of one output: their positions in the input and their
/// columns.
#[derive(Debug, Clone, Default)]
pub struct OutBlock {
    pub seq: Vec<u64>,
    pub cols: Vec<OutVals>,
}

impl OutBlock {
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// Row `i` as cells (for observers and the embedding API).
    pub fn cells(&self, specs: &[OutSpec], i: usize) -> Vec<OutCell> {
        specs
            .iter()
            .zip(&self.cols)
            .map(|(s, c)| match c {
                OutVals::Text(t) => OutCell::Text(t.get(i).to_string()),
                OutVals::I64(v) => {
                    let x = v.get(i).copied().unwrap_or(0);
                    match &s.kind {
                        OutKind::Money => OutCell::Money(x),
                        OutKind::Bool => OutCell::Bool(x != 0),
                        OutKind::Decimal => OutCell::Decimal(x),
                        OutKind::Date => OutCell::Date(i32::try_from(x).unwrap_or(0)),
                        OutKind::Enum(codes) => OutCell::Text(
                            usize::try_from(x)
                                .ok()
                                .and_then(|k| codes.get(k))
                                .cloned()
                                .unwrap_or_else(|| x.to_string()),
                        ),
                        OutKind::Text => OutCell::Text(x.to_string()),
                        OutKind::Int => OutCell::Int(x),
                    }
                }
            })
            .collect()
    }

    /// Append `other`'s rows.
    pub fn append(&mut self, other: &OutBlock) {
        if self.cols.is_empty() {
            *self = other.clone();
            return;
        }
        self.seq.extend_from_slice(&other.seq);
        for (a, b) in self.cols.iter_mut().zip(&other.cols) {
            match (a, b) {
                (OutVals::I64(x), OutVals::I64(y)) => x.extend_from_slice(y),
                (OutVals::Text(x), OutVals::Text(y)) => x.extend_from(y, 0..y.len()),
                _ => {}
            }
        }
    }

    /// Append rows `range` of `other` (of the same columns).
    pub fn extend_from(&mut self, other: &OutBlock, range: std::ops::Range<usize>) {
        if self.cols.is_empty() {
            self.cols = other
                .cols
                .iter()
                .map(|c| match c {
                    OutVals::I64(_) => OutVals::I64(Vec::new()),
                    OutVals::Text(_) => OutVals::Text(Texts::default()),
                })
                .collect();
        }
        self.seq
            .extend_from_slice(other.seq.get(range.clone()).unwrap_or(&[]));
        for (a, b) in self.cols.iter_mut().zip(&other.cols) {
            match (a, b) {
                (OutVals::I64(x), OutVals::I64(y)) => {
                    x.extend_from_slice(y.get(range.clone()).unwrap_or(&[]))
                }
                (OutVals::Text(x), OutVals::Text(y)) => x.extend_from(y, range.clone()),
                _ => {}
            }
        }
    }

    /// Append the block's encoding to `o` (the order-free mode's scratch
    /// files, [`super::sorted`]).
    pub fn encode(&self, o: &mut super::frame::Out) {
        o.u64s(&self.seq);
        o.u64(self.cols.len() as u64);
        for c in &self.cols {
            match c {
                OutVals::I64(v) => {
                    o.u64(0);
                    o.i64s(v);
                }
                OutVals::Text(t) => {
                    o.u64(1);
                    t.encode(o);
                }
            }
        }
    }

    /// A block encoded by [`OutBlock::encode`]; `None` when the bytes are
    /// not one.
    pub fn decode(i: &mut super::frame::In<'_>) -> Option<OutBlock> {
        let seq = i.u64s()?;
        let n = usize::try_from(i.u64()?).ok()?;
        let mut cols = Vec::new();
        for _ in 0..n {
            cols.push(match i.u64()? {
                0 => OutVals::I64(i.i64s()?),
                1 => OutVals::Text(Texts::decode(i)?),
                _ => return None,
            });
        }
        let b = OutBlock { seq, cols };
        b.check().then_some(b)
    }

    /// The rows in the order of their `seq`.
    pub fn sorted(&self) -> OutBlock {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_unstable_by_key(|&i| self.seq.get(i).copied().unwrap_or(0));
        OutBlock {
            seq: order.iter().map(|&i| self.seq[i]).collect(),
            cols: self
                .cols
                .iter()
                .map(|c| match c {
                    OutVals::I64(v) => OutVals::I64(order.iter().map(|&i| v[i]).collect()),
                    OutVals::Text(t) => {
                        let mut x = Texts::with_capacity(order.len());
                        for &i in &order {
                            x.push(t.get(i));
                        }
                        OutVals::Text(x)
                    }
                })
                .collect(),
        }
    }

    fn check(&self) -> bool {
        self.cols.iter().all(|c| c.len() == self.seq.len())
    }
}

/// Whether CSV needs quotes around `s`.
fn needs_quotes(s: &[u8]) -> bool {
    s.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// A CSV field as the `csv` crate writes it.
pub fn push_csv_text(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if needs_quotes(b) {
        out.push(b'"');
        for &c in b {
            if c == b'"' {
                out.push(b'"');
            }
            out.push(c);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(b);
    }
}

/// The two digits of each number below 100.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

#[inline]
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let k = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[k..k + 2]);
    }
    if v >= 10 {
        let k = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[k..k + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

#[inline]
fn push_money(out: &mut Vec<u8>, fen: i64) {
    if fen == 0 {
        out.extend_from_slice(b"0.00");
        return;
    }
    if fen < 0 {
        out.push(b'-');
    }
    let a = fen.unsigned_abs();
    push_u64(out, a / 100);
    let k = (a % 100) as usize * 2;
    out.push(b'.');
    out.extend_from_slice(&PAIRS[k..k + 2]);
}

fn push_date(out: &mut Vec<u8>, v: i64) {
    let d = i32::try_from(v).unwrap_or(0);
    let (y, m, dd) = num::civil_from_days(d);
    if (0..=9999).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (dd / 10) as u8,
            b'0' + (dd % 10) as u8,
        ]);
    } else {
        out.extend_from_slice(num::format_date(d).as_bytes());
    }
}

/// Enum codes as CSV fields and JSON strings, made once.
pub struct Codes {
    csv: Vec<Vec<Vec<u8>>>,
    json: Vec<Vec<Vec<u8>>>,
    /// JSON keys (`"name":`).
    keys: Vec<Vec<u8>>,
}

impl Codes {
    pub fn new(specs: &[OutSpec]) -> Codes {
        let mut csv = Vec::new();
        let mut json = Vec::new();
        for s in specs {
            match &s.kind {
                OutKind::Enum(codes) => {
                    csv.push(
                        codes
                            .iter()
                            .map(|c| {
                                let mut v = Vec::new();
                                push_csv_text(&mut v, c);
                                v
                            })
                            .collect(),
                    );
                    json.push(
                        codes
                            .iter()
                            .map(|c| serde_json::to_vec(c).unwrap_or_default())
                            .collect(),
                    );
                }
                _ => {
                    csv.push(Vec::new());
                    json.push(Vec::new());
                }
            }
        }
        let keys = specs
            .iter()
            .map(|s| {
                let mut k = serde_json::to_vec(&s.name).unwrap_or_default();
                k.push(b':');
                k
            })
            .collect();
        Codes { csv, json, keys }
    }
}

/// The CSV header line.
pub fn csv_header(specs: &[OutSpec]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_csv_text(&mut out, &s.name);
    }
    if specs.len() == 1 && specs.first().map(|s| s.name.is_empty()).unwrap_or(false) {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
    out
}

/// Append `block`'s rows as CSV.
pub fn encode_csv(specs: &[OutSpec], codes: &Codes, block: &OutBlock, out: &mut Vec<u8>) {
    debug_assert!(block.check());
    /// How a column is written, decided once per block.
    enum Col<'b> {
        Text(&'b Texts),
        Money(&'b [i64]),
        Int(&'b [i64]),
        Bool(&'b [i64]),
        Decimal(&'b [i64]),
        Date(&'b [i64]),
        Enum(&'b [i64], &'b [Vec<u8>]),
    }
    let cols: Vec<Col<'_>> = specs
        .iter()
        .zip(&block.cols)
        .enumerate()
        .map(|(ci, (s, c))| match c {
            OutVals::Text(t) => Col::Text(t),
            OutVals::I64(v) => match &s.kind {
                OutKind::Money => Col::Money(v),
                OutKind::Int | OutKind::Text => Col::Int(v),
                OutKind::Bool => Col::Bool(v),
                OutKind::Decimal => Col::Decimal(v),
                OutKind::Date => Col::Date(v),
                OutKind::Enum(_) => Col::Enum(v, codes.csv.get(ci).map_or(&[], |t| t)),
            },
        })
        .collect();
    let at = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0);
    out.reserve(block.len() * specs.len() * 6);
    for i in 0..block.len() {
        let start = out.len();
        for (ci, c) in cols.iter().enumerate() {
            if ci > 0 {
                out.push(b',');
            }
            match *c {
                Col::Text(t) => push_csv_text(out, t.get(i)),
                Col::Money(v) => push_money(out, at(v, i)),
                Col::Int(v) => push_i64(out, at(v, i)),
                Col::Bool(v) => {
                    out.extend_from_slice(if at(v, i) != 0 { b"true" } else { b"false" })
                }
                Col::Decimal(v) => out.extend_from_slice(num::format_decimal(at(v, i)).as_bytes()),
                Col::Date(v) => push_date(out, at(v, i)),
                Col::Enum(v, codes) => {
                    let x = at(v, i);
                    match usize::try_from(x).ok().and_then(|k| codes.get(k)) {
                        Some(code) => out.extend_from_slice(code),
                        None => push_i64(out, x),
                    }
                }
            }
        }
        // A record of one empty field is written `""` (as the csv crate does).
        if out.len() == start && specs.len() == 1 {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
    }
}

/// `s` as a JSON string: as it is between quotes when nothing in it needs
/// escaping (the usual id), else as `serde_json` escapes it.
#[inline]
fn push_json_text(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Append `block`'s rows as JSON Lines.
pub fn encode_jsonl(specs: &[OutSpec], codes: &Codes, block: &OutBlock, out: &mut Vec<u8>) {
    out.reserve(block.len() * specs.len() * 16);
    for i in 0..block.len() {
        out.push(b'{');
        for (ci, (s, c)) in specs.iter().zip(&block.cols).enumerate() {
            if ci > 0 {
                out.push(b',');
            }
            if let Some(k) = codes.keys.get(ci) {
                out.extend_from_slice(k);
            }
            match c {
                OutVals::Text(t) => push_json_text(out, t.get(i)),
                OutVals::I64(v) => {
                    let x = v.get(i).copied().unwrap_or(0);
                    match &s.kind {
                        OutKind::Money => {
                            out.push(b'"');
                            push_money(out, x);
                            out.push(b'"');
                        }
                        OutKind::Int | OutKind::Text => push_i64(out, x),
                        OutKind::Bool => {
                            out.extend_from_slice(if x != 0 { b"true" } else { b"false" })
                        }
                        OutKind::Decimal => {
                            out.push(b'"');
                            out.extend_from_slice(num::format_decimal(x).as_bytes());
                            out.push(b'"');
                        }
                        OutKind::Date => {
                            out.push(b'"');
                            push_date(out, x);
                            out.push(b'"');
                        }
                        OutKind::Enum(_) => match usize::try_from(x)
                            .ok()
                            .and_then(|k| codes.json.get(ci).and_then(|t| t.get(k)))
                        {
                            Some(code) => out.extend_from_slice(code),
                            None => {
                                let _ = serde_json::to_writer(&mut *out, &x.to_string());
                            }
                        },
                    }
                }
            }
        }
        out.extend_from_slice(b"}\n");
    }
}

/// The largest unscaled value a `Decimal128(18, _)` column holds.
const MAX_18_DIGITS: i64 = 999_999_999_999_999_999;

/// `block`'s rows as an Arrow record batch (the Parquet writer's schema:
/// see `weft_data::parquetio`).
pub fn to_batch(
    specs: &[OutSpec],
    schema: &arrow_schema::SchemaRef,
    block: &OutBlock,
) -> Result<RecordBatch, String> {
    use arrow_array::{BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray};
    if block.cols.is_empty() && !specs.is_empty() {
        // No row was evaluated: a block without columns.
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(specs.len());
    for (s, c) in specs.iter().zip(&block.cols) {
        let a: ArrayRef = match (c, &s.kind) {
            (OutVals::Text(t), _) => Arc::new(StringArray::from_iter_values(
                (0..t.len()).map(|i| t.get(i)),
            )),
            (OutVals::I64(v), OutKind::Money | OutKind::Decimal) => {
                if let Some(bad) = v.iter().find(|x| x.unsigned_abs() > MAX_18_DIGITS as u64) {
                    return Err(format!(
                        "cannot write {bad} into column {} (more than 18 digits)",
                        s.name
                    ));
                }
                let scale = if matches!(s.kind, OutKind::Money) {
                    2
                } else {
                    6
                };
                Arc::new(
                    Decimal128Array::from_iter_values(v.iter().map(|x| i128::from(*x)))
                        .with_precision_and_scale(18, scale)
                        .map_err(|e| e.to_string())?,
                )
            }
            (OutVals::I64(v), OutKind::Bool) => {
                Arc::new(BooleanArray::from_iter(v.iter().map(|x| Some(*x != 0))))
            }
            (OutVals::I64(v), OutKind::Date) => Arc::new(Date32Array::from_iter_values(
                v.iter().map(|x| i32::try_from(*x).unwrap_or(0)),
            )),
            (OutVals::I64(v), OutKind::Enum(codes)) => {
                Arc::new(StringArray::from_iter_values(v.iter().map(|x| {
                    usize::try_from(*x)
                        .ok()
                        .and_then(|k| codes.get(k))
                        .cloned()
                        .unwrap_or_else(|| x.to_string())
                })))
            }
            (OutVals::I64(v), OutKind::Int | OutKind::Text) => {
                Arc::new(Int64Array::from(v.clone()))
            }
        };
        arrays.push(a);
    }
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())
}

/// The Arrow schema of an output (as `weft_data::parquetio` writes it).
pub fn arrow_schema(specs: &[OutSpec]) -> arrow_schema::SchemaRef {
    use arrow_schema::{DataType, Field, Schema};
    Arc::new(Schema::new(
        specs
            .iter()
            .map(|s| {
                let dt = match s.out_type() {
                    OutType::Text => DataType::Utf8,
                    OutType::Bool => DataType::Boolean,
                    OutType::Int => DataType::Int64,
                    OutType::Date => DataType::Date32,
                    OutType::Money => DataType::Decimal128(18, 2),
                    OutType::Decimal => DataType::Decimal128(18, 6),
                };
                Field::new(&s.name, dt, true)
            })
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers at every digit count and around every power of ten.
    fn samples() -> Vec<i64> {
        let mut v = vec![
            0,
            1,
            -1,
            9,
            10,
            11,
            99,
            100,
            101,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let mut p: i64 = 1;
        for _ in 0..18 {
            p *= 10;
            v.extend([p - 1, p, p + 1, -p, -p - 1, p / 3, p + p / 7]);
        }
        v
    }

    #[test]
    fn integers_are_written_as_rust_writes_them() {
        for x in samples() {
            let mut out = Vec::new();
            push_i64(&mut out, x);
            assert_eq!(String::from_utf8(out).unwrap(), x.to_string());
        }
    }

    #[test]
    fn json_text_is_written_as_serde_json_writes_it() {
        for s in [
            "P1",
            "",
            "户主",
            "a\"b",
            "a\\b",
            "tab\there",
            "\u{1}",
            "\u{7f}",
            "é",
        ] {
            let mut out = Vec::new();
            push_json_text(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn money_is_written_with_two_decimals() {
        for x in samples() {
            let mut out = Vec::new();
            push_money(&mut out, x);
            let a = x.unsigned_abs();
            let sign = if x < 0 { "-" } else { "" };
            let want = format!("{sign}{}.{:02}", a / 100, a % 100);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
