//! Columnar records as the engines read them.
//!
//! A [`Chunk`] holds, per record kind, a [`Table`] of columns, one per
//! field. Every scalar is an `i64` in the IR's encoding; a link holds the
//! row of the linked record in the same chunk; a members list holds
//! offsets: the members of group row `g` are rows `offsets[g]..offsets[g+1]`
//! of the member table (members are stored grouped).

use crate::Ir;
use crate::lower::test_rows;
use weft_check::hir::{FieldKind, TestDef, TestValue};
use weft_check::ty::Ty;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// One value per row (scalars and links).
    I64(Vec<i64>),
    /// Optional scalars: values (0 when absent) and presence.
    Opt(Vec<i64>, Vec<bool>),
    Text(Vec<String>),
    /// Offsets into the member table, `rows + 1` of them.
    Members(Vec<i64>),
    /// A column the evaluation does not need.
    Absent,
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::I64(v) | Column::Opt(v, _) => v.len(),
            Column::Text(v) => v.len(),
            Column::Members(v) => v.len().saturating_sub(1),
            Column::Absent => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub rows: usize,
    /// One column per field of the record, in declaration order.
    pub cols: Vec<Column>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    /// One table per record kind, by record id.
    pub tables: Vec<Table>,
}

impl Chunk {
    pub fn rows(&self, record: u32) -> usize {
        self.tables
            .get(record as usize)
            .map(|t| t.rows)
            .unwrap_or(0)
    }

    pub fn col(&self, record: u32, field: u32) -> Option<&Column> {
        self.tables.get(record as usize)?.cols.get(field as usize)
    }
}

/// Build the chunk of a test's records.
pub fn test_chunk(ir: &Ir, t: &TestDef) -> Chunk {
    let prog = &ir.hir;
    let rows = test_rows(prog, t);
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    for (rid, rec) in prog.records.iter().enumerate() {
        let members: Vec<usize> = (0..t.records.len())
            .filter(|i| (t.records[*i].record).index() == rid)
            .collect();
        let n = members.len();
        // Records of this kind by row.
        let mut by_row = vec![0usize; n];
        for &i in &members {
            if let Some(slot) = usize::try_from(rows[i])
                .ok()
                .and_then(|r| by_row.get_mut(r))
            {
                *slot = i;
            }
        }
        let mut cols = Vec::new();
        for (fi, fd) in rec.fields.iter().enumerate() {
            let col = match &fd.kind {
                FieldKind::Members { of } => {
                    // Offsets: members are grouped by their link, in row order.
                    let link = prog.records.get(*of).and_then(|r| r.link());
                    let mut counts = vec![0i64; n];
                    if let Some((lf, _, _)) = link {
                        for r in &t.records {
                            if r.record == *of {
                                if let Some(TestValue::Link(target)) = r.values.get(lf) {
                                    if let Some(c) = usize::try_from(rows[*target])
                                        .ok()
                                        .and_then(|x| counts.get_mut(x))
                                    {
                                        *c += 1;
                                    }
                                }
                            }
                        }
                    }
                    let mut off = vec![0i64; n + 1];
                    for g in 0..n {
                        off[g + 1] = off[g] + counts[g];
                    }
                    Column::Members(off)
                }
                FieldKind::Link { .. } => Column::I64(
                    by_row
                        .iter()
                        .map(|i| match t.records[*i].values.get(fi) {
                            Some(TestValue::Link(target)) => rows[*target],
                            _ => -1,
                        })
                        .collect(),
                ),
                FieldKind::Column => match &fd.ty {
                    Ty::Text => Column::Text(
                        by_row
                            .iter()
                            .map(|i| match t.records[*i].values.get(fi) {
                                Some(TestValue::Text(s)) => s.clone(),
                                _ => String::new(),
                            })
                            .collect(),
                    ),
                    Ty::Opt(_) => {
                        let mut v = Vec::with_capacity(n);
                        let mut p = Vec::with_capacity(n);
                        for i in &by_row {
                            match t.records[*i].values.get(fi) {
                                Some(TestValue::Scalar(x)) => {
                                    v.push(*x);
                                    p.push(true);
                                }
                                _ => {
                                    v.push(0);
                                    p.push(false);
                                }
                            }
                        }
                        Column::Opt(v, p)
                    }
                    _ => Column::I64(
                        by_row
                            .iter()
                            .map(|i| match t.records[*i].values.get(fi) {
                                Some(TestValue::Scalar(x)) => *x,
                                _ => 0,
                            })
                            .collect(),
                    ),
                },
            };
            cols.push(col);
        }
        chunk.tables[rid] = Table { rows: n, cols };
    }
    chunk
}
