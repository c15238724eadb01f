//! The input columns a policy's records declare.

use weft_check::Program;
use weft_check::hir::{FieldKind, RecordDef};
use weft_check::ty::Ty;

#[derive(Debug, Clone, PartialEq)]
pub enum ColKind {
    /// A value parsed by its type.
    Value(Ty),
    /// Text (ids).
    Text,
    /// The key of a record of another kind.
    Link { target: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct InputColumn {
    /// The column name in data files.
    pub name: String,
    pub field: u32,
    pub kind: ColKind,
    /// Inclusive bounds declared with `in lo..=hi`.
    pub range: Option<(Option<i64>, Option<i64>)>,
}

/// One input file's columns, for one record kind.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSchema {
    pub record: u32,
    /// The name of the input (`persons`): its flag and default file name.
    pub input: String,
    pub columns: Vec<InputColumn>,
    /// The column holding the record's id.
    pub key: Option<usize>,
}

impl InputSchema {
    pub fn from_record(record: u32, rec: &RecordDef) -> InputSchema {
        let mut columns = Vec::new();
        let mut key = None;
        for (fi, f) in rec.fields.iter_enumerated() {
            let kind = match &f.kind {
                FieldKind::Members { .. } => continue,
                FieldKind::Link { target, .. } => ColKind::Link {
                    target: target.raw(),
                },
                FieldKind::Column if f.ty == Ty::Text => ColKind::Text,
                FieldKind::Column => ColKind::Value(f.ty.clone()),
            };
            if rec.key == Some(fi) {
                key = Some(columns.len());
            }
            columns.push(InputColumn {
                name: rec.column(fi).to_string(),
                field: fi.raw(),
                kind,
                range: f.range,
            });
        }
        InputSchema {
            record,
            input: rec.input.clone().unwrap_or_else(|| rec.name.to_lowercase()),
            columns,
            key,
        }
    }

    /// The schemas of every record of a program that is read from a file.
    pub fn all(prog: &Program) -> Vec<InputSchema> {
        prog.records
            .iter()
            .enumerate()
            .map(|(i, r)| InputSchema::from_record(i as u32, r))
            .collect()
    }
}
