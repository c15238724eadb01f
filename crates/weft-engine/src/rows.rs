//! Parsing input rows against a record's schema, and assembling groups of
//! rows into evaluation chunks.

use weft_check::Program;
use weft_data::cell::Row;
use weft_data::schema::{ColKind, InputSchema};
use weft_ir::data::{Chunk, Column, Table};

/// A value read from one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    I64(i64),
    Absent,
    Text(String),
}

/// Why a row is not evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The column named in the error row (empty for a row rejected because
    /// of another row).
    pub column: String,
    pub message: String,
    /// Index of the column in the schema, for "first in header order".
    pub order: usize,
}

impl RowError {
    /// `column message`, as another row's error row quotes it.
    pub fn quoted(&self) -> String {
        if self.column.is_empty() {
            self.message.clone()
        } else {
            format!("{} {}", self.column, self.message)
        }
    }
}

/// One parsed input row.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Position in its file (0-based, data rows only).
    pub seq: u64,
    pub line: u64,
    pub id: String,
    /// One value per schema column.
    pub vals: Vec<Val>,
    /// The first problem in header order, if any.
    pub error: Option<RowError>,
    /// A failed `exclude` check: the row is left out alone.
    pub excluded: Option<RowError>,
}

/// Where each schema column is in a file's header.
///
/// With `optional_may_be_missing` (JSON Lines, where a key whose value is
/// null is often left out), a missing optional column reads as absent.
pub fn header_map(
    schema: &InputSchema,
    header: &[String],
    optional_may_be_missing: bool,
) -> Result<Vec<usize>, Vec<String>> {
    let mut map = Vec::new();
    let mut missing = Vec::new();
    for c in &schema.columns {
        match header.iter().position(|h| *h == c.name) {
            Some(i) => map.push(i),
            None => {
                let optional = matches!(&c.kind, ColKind::Value(weft_check::ty::Ty::Opt(_)));
                if !(optional && optional_may_be_missing) {
                    missing.push(c.name.clone());
                }
                map.push(usize::MAX);
            }
        }
    }
    if missing.is_empty() {
        Ok(map)
    } else {
        Err(missing)
    }
}

/// Parse rows held in memory (the `i`-th row is `seq` `i`), with the
/// readers' own parsing ([`crate::run::block::RowSink`]). Errors are
/// ordered by the column's position in the header.
pub fn parse_rows(
    prog: &Program,
    schema: &InputSchema,
    map: &[usize],
    rows: &[Row],
) -> Vec<Parsed> {
    use crate::run::block::{RowSink, Shape};
    let shape = Shape::from_map(prog, schema, map);
    let mut sink = RowSink::new(&shape, rows.len());
    for (i, row) in rows.iter().enumerate() {
        sink.begin(row.line, i as u64);
        for (at, cell) in row.cells.iter().enumerate() {
            sink.cell_at(at, cell.kind, &cell.text);
        }
        sink.end();
    }
    parsed_of(&sink.finish())
}

/// Typed rows as [`Parsed`] rows (for the grouping of rows held in
/// memory).
pub fn parsed_of(typed: &crate::run::block::Rows) -> Vec<Parsed> {
    use crate::run::block::Values;
    (0..typed.len())
        .map(|i| Parsed {
            seq: typed.seq.get(i).copied().unwrap_or(0),
            line: typed.lines.get(i).copied().unwrap_or(0),
            id: crate::run::link::key_text(typed, i),
            vals: typed
                .cols
                .iter()
                .map(|c| match c {
                    Values::Text(t) => Val::Text(t.get(i).to_string()),
                    v => v.value(i).map(Val::I64).unwrap_or(Val::Absent),
                })
                .collect(),
            error: typed.error(i).cloned(),
            excluded: None,
        })
        .collect()
}

/// A group: its own row and its members' rows (either may be absent in a
/// policy without a hierarchy).
#[derive(Debug, Clone)]
pub struct Group {
    pub row: Parsed,
    pub members: Vec<Parsed>,
}

/// Build a chunk from groups. Members are stored grouped, in group order;
/// links hold the group's row in the chunk.
pub fn build_chunk(
    prog: &Program,
    group_schema: &InputSchema,
    member_schema: Option<&InputSchema>,
    groups: &[&Group],
) -> Chunk {
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    let nmem: usize = groups.iter().map(|g| g.members.len()).sum();
    let gtable = table(
        prog,
        group_schema,
        groups.iter().map(|g| &g.row),
        groups.len(),
        |_, _| 0,
    );
    let mut gtable = gtable;
    if let Some(ms) = member_schema {
        if let Some((mf, _)) = prog
            .records
            .get(group_schema.record as usize)
            .and_then(|r| r.members())
        {
            let mut off = Vec::with_capacity(groups.len() + 1);
            off.push(0i64);
            for g in groups {
                let last = off.last().copied().unwrap_or(0);
                off.push(last + g.members.len() as i64);
            }
            if let Some(c) = gtable.cols.get_mut(mf.index()) {
                *c = Column::Members(off);
            }
        }
        // Each member's group row.
        let mut owner = Vec::with_capacity(nmem);
        for (gi, g) in groups.iter().enumerate() {
            owner.extend(std::iter::repeat_n(gi as i64, g.members.len()));
        }
        let mtable = table(
            prog,
            ms,
            groups.iter().flat_map(|g| g.members.iter()),
            nmem,
            |i, _| owner.get(i).copied().unwrap_or(-1),
        );
        if let Some(t) = chunk.tables.get_mut(ms.record as usize) {
            *t = mtable;
        }
    }
    if let Some(t) = chunk.tables.get_mut(group_schema.record as usize) {
        *t = gtable;
    }
    chunk
}

fn table<'a>(
    prog: &Program,
    schema: &InputSchema,
    rows: impl Iterator<Item = &'a Parsed>,
    n: usize,
    link: impl Fn(usize, &Parsed) -> i64,
) -> Table {
    let Some(rec) = prog.records.get(schema.record as usize) else {
        return Table::default();
    };
    let mut cols: Vec<Column> = rec.fields.iter().map(|_| Column::Absent).collect();
    let mut builders: Vec<Column> = schema
        .columns
        .iter()
        .map(|c| match &c.kind {
            ColKind::Text => Column::Text(Vec::with_capacity(n)),
            ColKind::Link { .. } => Column::I64(Vec::with_capacity(n)),
            ColKind::Value(weft_check::ty::Ty::Opt(_)) => {
                Column::Opt(Vec::with_capacity(n), Vec::with_capacity(n))
            }
            ColKind::Value(_) => Column::I64(Vec::with_capacity(n)),
        })
        .collect();
    for (i, r) in rows.enumerate() {
        for (ci, b) in builders.iter_mut().enumerate() {
            let v = r.vals.get(ci);
            match (b, &schema.columns[ci].kind) {
                (Column::I64(col), ColKind::Link { .. }) => col.push(link(i, r)),
                (Column::Text(col), _) => col.push(match v {
                    Some(Val::Text(s)) => s.clone(),
                    _ => String::new(),
                }),
                (Column::Opt(col, present), _) => match v {
                    Some(Val::I64(x)) => {
                        col.push(*x);
                        present.push(true);
                    }
                    _ => {
                        col.push(0);
                        present.push(false);
                    }
                },
                (Column::I64(col), _) => col.push(match v {
                    Some(Val::I64(x)) => *x,
                    _ => 0,
                }),
                _ => {}
            }
        }
    }
    for (ci, b) in builders.into_iter().enumerate() {
        if let Some(slot) = cols.get_mut(schema.columns[ci].field as usize) {
            *slot = b;
        }
    }
    Table { rows: n, cols }
}
