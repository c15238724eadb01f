//! Columnar records as the engines read them.
//!
//! A [`Chunk`] holds, per record kind, a [`Table`] of columns, one per
//! field. Every scalar is an `i64` in the IR's encoding; a link holds the
//! row of the linked record in the same chunk; a members list holds
//! offsets: the members of group row `g` are rows `offsets[g]..offsets[g+1]`
//! of the member table (members are stored grouped).

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
        self.tables.get(record as usize).map(|t| t.rows).unwrap_or(0)
    }

    pub fn col(&self, record: u32, field: u32) -> Option<&Column> {
        self.tables.get(record as usize)?.cols.get(field as usize)
    }
}
