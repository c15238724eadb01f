//! Typed rows: input cells in the engines' own encoding, column by column.
//!
//! Every reader (CSV, JSON Lines, Parquet, Arrow batches, rows held in
//! memory) turns a block of its input into [`Rows`] through a [`RowSink`]:
//! one `i64` (or optional `i64`) per value column, text columns (ids and
//! links) end to end in one buffer ([`Texts`]), the physical line of each
//! row and the first error of each row in header order. There is no
//! allocation per cell: a block's columns grow by pushing.
//!
//! The parsing of a value is [`weft_data::cell::parse_text`], the one
//! definition of spec §2's formats, so every reader accepts exactly the same
//! values with the same messages. Ids and links are hashed here
//! ([`hash_id`]), on the threads that parse, for the duplicate and link
//! checks of [`super::link`].

use crate::rows::RowError;
use weft_check::Program;
use weft_check::ty::Ty;
use weft_data::CellKind;
use weft_data::cell::parse_text;
use weft_data::schema::{ColKind, InputSchema};

/// A 128-bit hash of an id (XXH3-128 with its fixed default seed, so a
/// run is reproducible). Ids are compared by hash; at 10^7 ids the chance
/// of any collision is below 10^-24. (Like any fixed-key hash it is not
/// proof against ids crafted to collide; a collision makes two ids one,
/// and so a duplicate: their households are rejected, never merged.)
#[inline]
pub fn hash_id(s: &str) -> u128 {
    twox_hash::XxHash3_128::oneshot(s.as_bytes())
}

/// Texts stored end to end in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    buf: String,
    ends: Vec<usize>,
}

impl Texts {
    pub fn with_capacity(rows: usize) -> Texts {
        Texts {
            buf: String::with_capacity(rows * 12),
            ends: Vec::with_capacity(rows),
        }
    }

    pub fn push(&mut self, s: &str) {
        self.buf.push_str(s);
        self.ends.push(self.buf.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of row `i` (empty past the end).
    pub fn get(&self, i: usize) -> &str {
        let end = self.ends.get(i).copied().unwrap_or(0);
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(end)
        };
        self.buf.get(start..end).unwrap_or("")
    }

    /// Append rows `range` of `other`.
    pub fn extend_from(&mut self, other: &Texts, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        let start = if range.start == 0 {
            0
        } else {
            other.ends.get(range.start - 1).copied().unwrap_or(0)
        };
        let end = other.ends.get(range.end - 1).copied().unwrap_or(start);
        let base = self.buf.len();
        self.buf.push_str(other.buf.get(start..end).unwrap_or(""));
        if let Some(ends) = other.ends.get(range) {
            self.ends.extend(ends.iter().map(|e| e - start + base));
        }
    }

    /// Keep the rows whose `keep` is true, in place.
    pub fn retain(&mut self, keep: &[bool]) {
        let mut w = 0usize;
        let mut ends = Vec::new();
        std::mem::swap(&mut ends, &mut self.ends);
        let mut kept = 0usize;
        let mut start = 0usize;
        let mut bytes = std::mem::take(&mut self.buf).into_bytes();
        for i in 0..ends.len() {
            let end = ends[i];
            if keep.get(i).copied().unwrap_or(true) {
                let len = end - start;
                if w != start {
                    bytes.copy_within(start..end, w);
                }
                w += len;
                ends[kept] = w;
                kept += 1;
            }
            start = end;
        }
        ends.truncate(kept);
        bytes.truncate(w);
        // Whole strings were moved, so the bytes are still UTF-8.
        self.buf = String::from_utf8(bytes).unwrap_or_default();
        self.ends = ends;
    }

    /// Every text as its own `String` (for an engine that reads text fields).
    pub fn to_strings(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.get(i).to_string()).collect()
    }
}

/// One column's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    I64(Vec<i64>),
    /// Values (0 when absent) and presence.
    Opt(Vec<i64>, Vec<bool>),
    Text(Texts),
}

impl Values {
    fn for_kind(kind: &ColKind, rows: usize) -> Values {
        match kind {
            ColKind::Text | ColKind::Link { .. } => Values::Text(Texts::with_capacity(rows)),
            ColKind::Value(Ty::Opt(_)) => {
                Values::Opt(Vec::with_capacity(rows), Vec::with_capacity(rows))
            }
            ColKind::Value(_) => Values::I64(Vec::with_capacity(rows)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Values::I64(v) | Values::Opt(v, _) => v.len(),
            Values::Text(t) => t.len(),
        }
    }

    fn retain(&mut self, keep: &[bool]) {
        fn r<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                let k = keep.get(i).copied().unwrap_or(true);
                i += 1;
                k
            });
        }
        match self {
            Values::I64(v) => r(v, keep),
            Values::Opt(v, p) => {
                r(v, keep);
                r(p, keep);
            }
            Values::Text(t) => t.retain(keep),
        }
    }

    /// Append rows `range` of `other` (of the same kind).
    pub fn extend_from(&mut self, other: &Values, range: std::ops::Range<usize>) {
        match (self, other) {
            (Values::I64(a), Values::I64(b)) => a.extend_from_slice(b.get(range).unwrap_or(&[])),
            (Values::Opt(a, p), Values::Opt(b, q)) => {
                a.extend_from_slice(b.get(range.clone()).unwrap_or(&[]));
                p.extend_from_slice(q.get(range).unwrap_or(&[]));
            }
            (Values::Text(a), Values::Text(b)) => a.extend_from(b, range),
            _ => {}
        }
    }

    pub fn empty_like(&self, rows: usize) -> Values {
        match self {
            Values::I64(_) => Values::I64(Vec::with_capacity(rows)),
            Values::Opt(..) => Values::Opt(Vec::with_capacity(rows), Vec::with_capacity(rows)),
            Values::Text(_) => Values::Text(Texts::with_capacity(rows)),
        }
    }

    /// The text of row `i` of a text column.
    pub fn text(&self, i: usize) -> &str {
        match self {
            Values::Text(t) => t.get(i),
            _ => "",
        }
    }

    /// The value of row `i` of a value column (`None`: absent).
    pub fn value(&self, i: usize) -> Option<i64> {
        match self {
            Values::I64(v) => v.get(i).copied(),
            Values::Opt(v, p) => match p.get(i) {
                Some(true) => v.get(i).copied(),
                _ => None,
            },
            Values::Text(_) => None,
        }
    }
}

/// Rows of one record kind, typed, with what validation needs.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// Position of each row in its file (0-based, data rows only).
    pub seq: Vec<u64>,
    /// Physical line of each row (Parquet: row number + 1).
    pub lines: Vec<u64>,
    /// One column per schema column.
    pub cols: Vec<Values>,
    /// `(row, error)`: each row's first problem in header order, by row.
    pub errors: Vec<(usize, RowError)>,
    /// Hash of each row's id (when the record has a key).
    pub key: Vec<u128>,
    /// Hash of each row's link (when the record has a link column).
    pub link: Vec<u128>,
    /// The schema columns of the key and of the link.
    pub key_col: Option<usize>,
    pub link_col: Option<usize>,
}

/// The scratch-file encoding of parsed rows (the order-free mode's sort,
/// [`super::sorted`]).
impl Texts {
    pub fn encode(&self, o: &mut super::frame::Out) {
        o.str(&self.buf);
        o.u64s(&self.ends.iter().map(|e| *e as u64).collect::<Vec<_>>());
    }

    pub fn decode(i: &mut super::frame::In<'_>) -> Option<Texts> {
        let buf = i.str()?;
        let ends = i
            .u64s()?
            .into_iter()
            .map(|e| usize::try_from(e).ok())
            .collect::<Option<Vec<usize>>>()?;
        // Ends rise and stay within the text, at character boundaries.
        let mut last = 0;
        for e in &ends {
            if *e < last || !buf.is_char_boundary(*e) {
                return None;
            }
            last = *e;
        }
        Some(Texts { buf, ends })
    }
}

impl Values {
    fn encode(&self, o: &mut super::frame::Out) {
        match self {
            Values::I64(v) => {
                o.u64(0);
                o.i64s(v);
            }
            Values::Opt(v, p) => {
                o.u64(1);
                o.i64s(v);
                o.bools(p);
            }
            Values::Text(t) => {
                o.u64(2);
                t.encode(o);
            }
        }
    }

    fn decode(i: &mut super::frame::In<'_>) -> Option<Values> {
        match i.u64()? {
            0 => Some(Values::I64(i.i64s()?)),
            1 => Some(Values::Opt(i.i64s()?, i.bools()?)),
            2 => Some(Values::Text(Texts::decode(i)?)),
            _ => None,
        }
    }
}

impl Rows {
    /// Append the rows' encoding to `o`.
    pub fn encode(&self, o: &mut super::frame::Out) {
        o.u64s(&self.seq);
        o.u64s(&self.lines);
        o.u64(self.cols.len() as u64);
        for c in &self.cols {
            c.encode(o);
        }
        o.u64(self.errors.len() as u64);
        for (r, e) in &self.errors {
            o.u64(*r as u64);
            o.str(&e.column);
            o.str(&e.message);
            o.u64(e.order as u64);
        }
        o.u128s(&self.key);
        o.u128s(&self.link);
    }

    /// Rows encoded by [`Rows::encode`], with the key and link columns of
    /// `like`; `None` when the bytes are not such an encoding.
    pub fn decode(i: &mut super::frame::In<'_>, like: &Rows) -> Option<Rows> {
        let seq = i.u64s()?;
        let lines = i.u64s()?;
        let ncols = usize::try_from(i.u64()?).ok()?;
        if ncols != like.cols.len() {
            return None;
        }
        let cols = (0..ncols)
            .map(|_| Values::decode(i))
            .collect::<Option<Vec<Values>>>()?;
        let nerr = usize::try_from(i.u64()?).ok()?;
        let mut errors = Vec::new();
        for _ in 0..nerr {
            let r = usize::try_from(i.u64()?).ok()?;
            let column = i.str()?;
            let message = i.str()?;
            let order = usize::try_from(i.u64()?).ok()?;
            errors.push((
                r,
                RowError {
                    column,
                    message,
                    order,
                },
            ));
        }
        let key = i.u128s()?;
        let link = i.u128s()?;
        let n = lines.len();
        let fits = seq.len() == n
            && cols.iter().all(|c| c.len() == n)
            && (key.is_empty() || key.len() == n)
            && (link.is_empty() || link.len() == n)
            && errors.iter().all(|(r, _)| *r < n);
        fits.then_some(Rows {
            seq,
            lines,
            cols,
            errors,
            key,
            link,
            key_col: like.key_col,
            link_col: like.link_col,
        })
    }

    pub fn new(schema: &InputSchema, rows: usize) -> Rows {
        Rows {
            seq: Vec::with_capacity(rows),
            lines: Vec::with_capacity(rows),
            cols: schema
                .columns
                .iter()
                .map(|c| Values::for_kind(&c.kind, rows))
                .collect(),
            errors: Vec::new(),
            key: Vec::new(),
            link: Vec::new(),
            key_col: schema.key,
            link_col: schema
                .columns
                .iter()
                .position(|c| matches!(c.kind, ColKind::Link { .. })),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Rows of the same columns, none yet.
    pub fn empty_like(&self, rows: usize) -> Rows {
        Rows {
            seq: Vec::with_capacity(rows),
            lines: Vec::with_capacity(rows),
            cols: self.cols.iter().map(|c| c.empty_like(rows)).collect(),
            errors: Vec::new(),
            key: Vec::new(),
            link: Vec::new(),
            key_col: self.key_col,
            link_col: self.link_col,
        }
    }

    /// Append rows `range` of `other`.
    pub fn extend_from(&mut self, other: &Rows, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        if self.cols.is_empty() && self.is_empty() {
            *self = other.empty_like(range.len());
        }
        let base = self.len();
        self.seq
            .extend_from_slice(other.seq.get(range.clone()).unwrap_or(&[]));
        self.lines
            .extend_from_slice(other.lines.get(range.clone()).unwrap_or(&[]));
        for (a, b) in self.cols.iter_mut().zip(&other.cols) {
            a.extend_from(b, range.clone());
        }
        if !other.key.is_empty() {
            self.key
                .extend_from_slice(other.key.get(range.clone()).unwrap_or(&[]));
        }
        if !other.link.is_empty() {
            self.link
                .extend_from_slice(other.link.get(range.clone()).unwrap_or(&[]));
        }
        let lo = other.errors.partition_point(|(r, _)| *r < range.start);
        for (r, e) in &other.errors[lo..] {
            if *r >= range.end {
                break;
            }
            self.errors.push((r - range.start + base, e.clone()));
        }
    }

    /// Keep the rows whose `keep` is true, in place (errors renumbered).
    pub fn retain(&mut self, keep: &[bool]) {
        fn r<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                let k = keep.get(i).copied().unwrap_or(true);
                i += 1;
                k
            });
        }
        r(&mut self.seq, keep);
        r(&mut self.lines, keep);
        r(&mut self.key, keep);
        r(&mut self.link, keep);
        for c in &mut self.cols {
            c.retain(keep);
        }
        // New row numbers: kept rows before each row.
        let mut before = Vec::with_capacity(keep.len());
        let mut n = 0usize;
        for k in keep {
            before.push(n);
            if *k {
                n += 1;
            }
        }
        let errors = std::mem::take(&mut self.errors);
        self.errors = errors
            .into_iter()
            .filter(|(i, _)| keep.get(*i).copied().unwrap_or(true))
            .map(|(i, e)| (before.get(i).copied().unwrap_or(i), e))
            .collect();
    }

    /// The error of row `i`.
    pub fn error(&self, i: usize) -> Option<&RowError> {
        self.errors
            .binary_search_by_key(&i, |(r, _)| *r)
            .ok()
            .and_then(|k| self.errors.get(k))
            .map(|(_, e)| e)
    }

    /// Set the error of row `i` when `e` comes first in header order
    /// (`replace_equal`: also when it is the same column).
    pub fn note_error(&mut self, i: usize, e: RowError, replace_equal: bool) {
        match self.errors.binary_search_by_key(&i, |(r, _)| *r) {
            Ok(k) => {
                if let Some((_, old)) = self.errors.get_mut(k) {
                    if e.order < old.order || (replace_equal && e.order == old.order) {
                        *old = e;
                    }
                }
            }
            Err(k) => self.errors.insert(k, (i, e)),
        }
    }
}

/// A fast path for the common spelling of a value type. It accepts only
/// text that [`parse_text`] accepts, with the same value; anything else
/// (spaces, signs, errors) goes through [`parse_text`].
#[derive(Debug, Clone)]
pub enum Fast {
    None,
    Money,
    Int,
    Bool,
    Date,
    /// The codes allowed, with their variant index: codes of up to 8
    /// bytes packed in a `u64` ([`pack`]) with their length, compared as
    /// integers; longer ones as bytes.
    Enum(Vec<(usize, u64, Vec<u8>, i64)>),
}

/// Up to 8 bytes as one integer (zero-padded).
#[inline]
fn pack(b: &[u8]) -> u64 {
    b.iter()
        .take(8)
        .enumerate()
        .fold(0, |w, (i, &c)| w | u64::from(c) << (8 * i))
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

impl Fast {
    fn of(prog: &Program, ty: &Ty) -> Fast {
        let ty = match ty {
            Ty::Opt(t) => &**t,
            t => t,
        };
        match ty {
            Ty::Money(_) => Fast::Money,
            Ty::Int | Ty::Dur(_) => Fast::Int,
            Ty::Bool => Fast::Bool,
            Ty::Date => Fast::Date,
            Ty::Enum(e, set) => match prog.enums.get(*e) {
                // Codes first, then labels (as `parse_text` reads them).
                Some(en) => Fast::Enum(
                    en.variants
                        .iter()
                        .map(|v| Some(v.code.as_str()))
                        .chain(en.variants.iter().map(|v| v.display.as_deref()))
                        .enumerate()
                        .filter_map(|(k, t)| {
                            let i = k % en.variants.len().max(1);
                            let c = t?.as_bytes();
                            (set & (1u64 << i) != 0)
                                .then(|| (c.len(), pack(c), c.to_vec(), i as i64))
                        })
                        .collect(),
                ),
                None => Fast::None,
            },
            _ => Fast::None,
        }
    }

    #[inline]
    fn parse(&self, b: &[u8]) -> Option<i64> {
        match self {
            Fast::None => None,
            Fast::Int => digits(b),
            Fast::Bool => match b {
                b"true" => Some(1),
                b"false" => Some(0),
                _ => None,
            },
            Fast::Money => {
                // Digits, then optionally `.` and one or two digits.
                let mut v: i64 = 0;
                let mut k = 0;
                while let Some(c) = b.get(k).filter(|c| c.is_ascii_digit()) {
                    if k == 13 {
                        return None;
                    }
                    v = v * 10 + i64::from(c - b'0');
                    k += 1;
                }
                if k == 0 {
                    return None;
                }
                v *= 100;
                match &b[k..] {
                    [] => {}
                    [b'.', d] if d.is_ascii_digit() => v += i64::from(d - b'0') * 10,
                    [b'.', d, e] if d.is_ascii_digit() && e.is_ascii_digit() => {
                        v += i64::from(d - b'0') * 10 + i64::from(e - b'0')
                    }
                    _ => return None,
                }
                (v <= 100_000_000_000_000).then_some(v)
            }
            Fast::Date => {
                if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
                    return None;
                }
                let y = digits(&b[0..4])?;
                let m = digits(&b[5..7])?;
                let d = digits(&b[8..10])?;
                weft_syntax::num::make_date(y as i32, m as u32, d as u32).map(i64::from)
            }
            Fast::Enum(codes) => {
                let (n, w) = (b.len(), pack(b));
                codes
                    .iter()
                    .find(|(len, packed, code, _)| {
                        *len == n && *packed == w && (n <= 8 || code.as_slice() == b)
                    })
                    .map(|(.., i)| *i)
            }
        }
    }
}

/// What a reader needs to turn cells into typed rows, for one input.
pub struct Shape<'a> {
    pub prog: &'a Program,
    pub schema: &'a InputSchema,
    /// Per schema column: its fast path.
    pub fast: Vec<Fast>,
    /// Per schema column: its declared range (`i64::MIN`/`MAX` when open).
    pub bounds: Vec<(i64, i64)>,
    /// The schema column of each file column (`None`: not used).
    pub by_file: Vec<Option<usize>>,
    /// The file column of each schema column (`None`: not in the file).
    pub in_file: Vec<Option<usize>>,
    /// The schema column of the link (members only).
    pub link: Option<usize>,
}

impl<'a> Shape<'a> {
    /// The shape of a file whose columns are `header` (already checked to
    /// hold every column the schema needs).
    pub fn new(prog: &'a Program, schema: &'a InputSchema, header: &[String]) -> Shape<'a> {
        let by_file = header
            .iter()
            .map(|h| schema.columns.iter().position(|c| c.name == *h))
            .collect();
        let in_file = schema
            .columns
            .iter()
            .map(|c| header.iter().position(|h| *h == c.name))
            .collect();
        Shape {
            prog,
            schema,
            fast: fasts(prog, schema),
            bounds: bounds(schema),
            by_file,
            in_file,
            link: schema
                .columns
                .iter()
                .position(|c| matches!(c.kind, ColKind::Link { .. })),
        }
    }
}

impl<'a> Shape<'a> {
    /// The shape of rows whose schema column `ci` is at `map[ci]`
    /// (`usize::MAX`: not given).
    pub fn from_map(prog: &'a Program, schema: &'a InputSchema, map: &[usize]) -> Shape<'a> {
        let in_file: Vec<Option<usize>> = (0..schema.columns.len())
            .map(|ci| map.get(ci).copied().filter(|at| *at != usize::MAX))
            .collect();
        let width = in_file.iter().flatten().max().map(|m| m + 1).unwrap_or(0);
        let mut by_file = vec![None; width];
        for (ci, at) in in_file.iter().enumerate() {
            if let Some(slot) = at.and_then(|at| by_file.get_mut(at)) {
                *slot = Some(ci);
            }
        }
        Shape {
            prog,
            schema,
            fast: fasts(prog, schema),
            bounds: bounds(schema),
            by_file,
            in_file,
            link: schema
                .columns
                .iter()
                .position(|c| matches!(c.kind, ColKind::Link { .. })),
        }
    }

    /// The shape of an input whose columns are found by name in each row
    /// (JSON Lines): every schema column is "in the file", at `orders`.
    pub fn with_orders(prog: &'a Program, schema: &'a InputSchema, orders: &[usize]) -> Shape<'a> {
        Shape {
            prog,
            schema,
            fast: fasts(prog, schema),
            bounds: bounds(schema),
            by_file: Vec::new(),
            in_file: (0..schema.columns.len())
                .map(|ci| Some(orders.get(ci).copied().unwrap_or(ci)))
                .collect(),
            link: schema
                .columns
                .iter()
                .position(|c| matches!(c.kind, ColKind::Link { .. })),
        }
    }
}

fn bounds(schema: &InputSchema) -> Vec<(i64, i64)> {
    schema
        .columns
        .iter()
        .map(|c| match c.range {
            Some((lo, hi)) => (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX)),
            None => (i64::MIN, i64::MAX),
        })
        .collect()
}

fn fasts(prog: &Program, schema: &InputSchema) -> Vec<Fast> {
    schema
        .columns
        .iter()
        .map(|c| match &c.kind {
            ColKind::Value(ty) => Fast::of(prog, ty),
            _ => Fast::None,
        })
        .collect()
}

/// `s` without surrounding whitespace (quickly when there is none).
#[inline]
fn trimmed(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if *f > b' ' && *f < 0x80 && *l > b' ' && *l < 0x80 => s,
        _ => s.trim(),
    }
}

/// Builds [`Rows`] one cell at a time.
pub struct RowSink<'s, 'a> {
    shape: &'s Shape<'a>,
    pub rows: Rows,
    /// Which schema columns the current row has set.
    set: Vec<bool>,
    error: Option<RowError>,
}

impl<'s, 'a> RowSink<'s, 'a> {
    pub fn new(shape: &'s Shape<'a>, rows: usize) -> RowSink<'s, 'a> {
        let mut r = Rows::new(shape.schema, rows);
        if shape.schema.key.is_some() {
            r.key.reserve(rows);
        }
        if shape.link.is_some() {
            r.link.reserve(rows);
        }
        RowSink {
            shape,
            rows: r,
            set: vec![false; shape.schema.columns.len()],
            error: None,
        }
    }

    fn note(&mut self, e: RowError) {
        if self
            .error
            .as_ref()
            .map(|x| e.order < x.order)
            .unwrap_or(true)
        {
            self.error = Some(e);
        }
    }

    /// Start a row at physical line `line` (row `seq` of its file, when
    /// known; else set later).
    pub fn begin(&mut self, line: u64, seq: u64) {
        self.rows.lines.push(line);
        self.rows.seq.push(seq);
        for s in &mut self.set {
            *s = false;
        }
        self.error = None;
    }

    /// The cell of file column `at` (when the schema uses it).
    #[inline]
    pub fn cell_at(&mut self, at: usize, kind: CellKind, text: &str) {
        if let Some(Some(ci)) = self.shape.by_file.get(at) {
            self.cell(*ci, at, kind, text);
        }
    }

    /// The cell of schema column `ci`, at file column `order`.
    pub fn cell(&mut self, ci: usize, order: usize, kind: CellKind, text: &str) {
        let Some(c) = self.shape.schema.columns.get(ci) else {
            return;
        };
        if self.set.get(ci).copied().unwrap_or(true) {
            return;
        }
        if let Some(s) = self.set.get_mut(ci) {
            *s = true;
        }
        match &c.kind {
            ColKind::Text | ColKind::Link { .. } => {
                let t = trimmed(text);
                let is_key = Some(ci) == self.shape.schema.key;
                let is_link = matches!(c.kind, ColKind::Link { .. });
                if let Some(Values::Text(col)) = self.rows.cols.get_mut(ci) {
                    col.push(t);
                }
                if is_key {
                    self.rows.key.push(hash_id(t));
                }
                if is_link {
                    self.rows.link.push(hash_id(t));
                }
                if kind == CellKind::Nested {
                    let shown: String = t.chars().take(40).collect();
                    self.note(RowError {
                        column: c.name.clone(),
                        message: format!("{shown} is not a single value"),
                        order,
                    });
                }
                if t.is_empty() && (is_key || is_link) {
                    self.note(RowError {
                        column: c.name.clone(),
                        message: "an empty id".into(),
                        order,
                    });
                }
            }
            ColKind::Value(ty) => {
                if matches!(kind, CellKind::Text | CellKind::Number) {
                    if let Some(v) = self
                        .shape
                        .fast
                        .get(ci)
                        .and_then(|f| f.parse(text.as_bytes()))
                    {
                        if self.in_range(ci, v) {
                            self.push_value(ci, Some(v));
                            return;
                        }
                    }
                }
                let v = match parse_text(self.shape.prog, ty, kind, text) {
                    Ok(Some(v)) => {
                        if let Some((lo, hi)) = c.range {
                            let below = lo.map(|l| v < l).unwrap_or(false);
                            let above = hi.map(|h| v > h).unwrap_or(false);
                            if below || above {
                                // The range as the policy writes it (`0..`,
                                // money in yuan, dates as dates).
                                let prog = self.shape.prog;
                                let range = weft_check::hir::range_text((lo, hi), |x| {
                                    weft_ir::value::csv_value(prog, ty, x)
                                });
                                self.note(RowError {
                                    column: c.name.clone(),
                                    message: format!("{} is outside {range}", text.trim()),
                                    order,
                                });
                            }
                        }
                        Some(v)
                    }
                    Ok(None) => None,
                    Err(m) => {
                        self.note(RowError {
                            column: c.name.clone(),
                            message: m,
                            order,
                        });
                        None
                    }
                };
                self.push_value(ci, v);
            }
        }
    }

    /// The input's schema.
    pub fn schema(&self) -> &InputSchema {
        self.shape.schema
    }

    /// The file column of schema column `ci`.
    pub fn file_column(&self, ci: usize) -> Option<usize> {
        self.shape.in_file.get(ci).copied().flatten()
    }

    /// Whether `v` is within schema column `ci`'s declared range.
    #[inline]
    pub fn in_range(&self, ci: usize, v: i64) -> bool {
        match self.shape.bounds.get(ci) {
            Some(&(lo, hi)) => lo <= v && v <= hi,
            None => true,
        }
    }

    /// The value of `text` in schema column `ci` when the fast path reads
    /// it and it is within the declared range (`None`: the full parsing
    /// of [`RowSink::cell`] must decide, and give the message).
    pub fn fast_value(&self, ci: usize, text: &str) -> Option<i64> {
        self.shape
            .fast
            .get(ci)?
            .parse(text.as_bytes())
            .filter(|v| self.in_range(ci, *v))
    }

    /// A valid value already in the engines' encoding (a typed Arrow cell).
    pub fn typed(&mut self, ci: usize, v: i64) {
        if let Some(s) = self.set.get_mut(ci) {
            if *s {
                return;
            }
            *s = true;
        }
        self.push_value(ci, Some(v));
    }

    fn push_value(&mut self, ci: usize, v: Option<i64>) {
        match self.rows.cols.get_mut(ci) {
            Some(Values::I64(col)) => col.push(v.unwrap_or(0)),
            Some(Values::Opt(col, p)) => {
                col.push(v.unwrap_or(0));
                p.push(v.is_some());
            }
            _ => {}
        }
    }

    /// A problem with the current row found by the reader.
    pub fn row_error(&mut self, e: RowError) {
        self.note(e);
    }

    /// End the row: columns it did not give are null where the file has
    /// the column (a JSON key left out) and absent where it does not.
    pub fn end(&mut self) {
        for ci in 0..self.set.len() {
            if self.set.get(ci).copied().unwrap_or(true) {
                continue;
            }
            match self.shape.in_file.get(ci).copied().flatten() {
                Some(at) => self.cell(ci, at, CellKind::Null, ""),
                None => {
                    if let Some(s) = self.set.get_mut(ci) {
                        *s = true;
                    }
                    let is_key = Some(ci) == self.shape.schema.key;
                    let is_link = self.shape.link == Some(ci);
                    match self.rows.cols.get_mut(ci) {
                        Some(Values::Text(t)) => t.push(""),
                        Some(Values::I64(v)) => v.push(0),
                        Some(Values::Opt(v, p)) => {
                            v.push(0);
                            p.push(false);
                        }
                        None => {}
                    }
                    if is_key {
                        self.rows.key.push(hash_id(""));
                    }
                    if is_link {
                        self.rows.link.push(hash_id(""));
                    }
                }
            }
        }
        if let Some(e) = self.error.take() {
            let row = self.rows.lines.len().saturating_sub(1);
            self.rows.errors.push((row, e));
        }
    }

    /// The rows built.
    pub fn finish(self) -> Rows {
        debug_assert!(
            self.rows
                .cols
                .iter()
                .all(|c| c.len() == self.rows.lines.len())
        );
        self.rows
    }
}
