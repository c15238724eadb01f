//! Records held in memory (`weft eval`, `weft explain`, the embedding
//! API): the same parsing, joining, checks, rejections and evaluation as a
//! run over files, without files.
//!
//! Records come as rows of text cells ([`InMemory::Text`]: JSON, rows
//! given in code) or as Arrow record batches ([`InMemory::Batch`]), whose
//! arrays are converted column by column into typed rows by the Parquet
//! reader's conversion ([`super::parquet::parse_batch`]), with no text
//! round trip for typed values.

use super::block::{Rows, Texts, Values};
use super::link::Staged;
use super::process::{Ctx, Encode, process, validate};
use super::{ChunkEval, InterpEval, RunError, plan_for};
use crate::rows::{Group, Parsed, RowError, Val, header_map, parse_rows, parsed_of};
use arrow_array::RecordBatch;
use std::collections::HashMap;
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{OutCell, Row};
use weft_ir::Ir;
use weft_ir::bind::Bound;

/// An error row of records held in memory:
/// `(input, line, record_id, column, message)`.
pub type ErrorCells = (String, u64, String, String, String);

/// The result of evaluating rows held in memory ([`run_in_memory`]).
#[derive(Debug, Clone, Default)]
pub struct MemoryResult {
    /// Per output: its rows, in input order.
    pub outputs: Vec<Vec<Vec<OutCell>>>,
    /// `(input, line, record_id, column, message)`, group rows first.
    pub errors: Vec<ErrorCells>,
}

/// Rows held in memory, parsed and grouped, before checks and evaluation.
pub struct Prepared {
    pub groups: Vec<Group>,
    /// Members naming no (or an ambiguous) group: `(input, line, id, column, message)`.
    pub errors: Vec<ErrorCells>,
}

fn schemas_of(ir: &Ir) -> Result<(Vec<InputSchema>, usize, Option<usize>), RunError> {
    let plan = plan_for(ir)?;
    let schemas = InputSchema::all(&ir.hir);
    let g = plan.group.0 as usize;
    if schemas.get(g).is_none() {
        return Err(RunError::Usage("no group record".into()));
    }
    let m = plan.member.as_ref().map(|(m, _)| *m as usize);
    Ok((schemas, g, m))
}

/// Records of one input held in memory.
#[derive(Clone, Copy)]
pub enum InMemory<'a> {
    /// A header and rows of text cells (`line` of each row is its
    /// position, 1-based).
    Text(&'a [String], &'a [Row]),
    /// An Arrow record batch (row `i` is at line `i + 1`); columns the
    /// input does not read are ignored.
    Batch(&'a RecordBatch),
}

impl InMemory<'_> {
    fn is_empty(&self) -> bool {
        match self {
            InMemory::Text(_, rows) => rows.is_empty(),
            InMemory::Batch(b) => b.num_rows() == 0,
        }
    }
}

/// Parse the records of one input.
fn parse_input(
    ir: &Ir,
    schema: &InputSchema,
    records: InMemory<'_>,
) -> Result<Vec<Parsed>, RunError> {
    let missing = |columns| RunError::MissingColumns {
        file: schema.input.clone(),
        columns,
    };
    match records {
        InMemory::Text(header, rows) => {
            let map = header_map(schema, header, true).map_err(missing)?;
            Ok(parse_rows(&ir.hir, schema, &map, rows))
        }
        InMemory::Batch(batch) => {
            let bschema = batch.schema();
            let header: Vec<String> = bschema.fields().iter().map(|f| f.name().clone()).collect();
            header_map(schema, &header, true).map_err(missing)?;
            let fields: Vec<(String, arrow_schema::DataType)> = bschema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect();
            super::parquet::check_types(schema, &fields, &schema.input)?;
            let shape = super::block::Shape::new(&ir.hir, schema, &header);
            let mut sink = super::block::RowSink::new(&shape, batch.num_rows());
            super::parquet::parse_batch(batch, 1, &mut sink);
            let mut typed = sink.finish();
            typed.seq = (0..typed.len() as u64).collect();
            Ok(parsed_of(&typed))
        }
    }
}

/// Parse and group rows held in memory (for `weft eval`, `weft explain`
/// and the embedding API): the same parsing, duplicate and unknown-group
/// rules as [`super::run`]. `line` of each row is its position (1-based).
pub fn prepare_in_memory(
    ir: &Ir,
    group: (&[String], &[Row]),
    members: Option<(&[String], &[Row])>,
) -> Result<Prepared, RunError> {
    prepare_records(
        ir,
        InMemory::Text(group.0, group.1),
        members.map(|(h, r)| InMemory::Text(h, r)),
    )
}

/// [`prepare_in_memory`] for records as text rows or record batches.
pub fn prepare_records(
    ir: &Ir,
    group: InMemory<'_>,
    members: Option<InMemory<'_>>,
) -> Result<Prepared, RunError> {
    let prog = &ir.hir;
    let (schemas, gi, mi) = schemas_of(ir)?;
    let gs = &schemas[gi];
    let ms = mi.and_then(|m| schemas.get(m));
    let mut groups: Vec<Group> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // The first row of each group id, for linking members.
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, p) in parse_input(ir, gs, group)?.into_iter().enumerate() {
        *seen.entry(p.id.clone()).or_insert(0) += 1;
        first.entry(p.id.clone()).or_insert(i);
        groups.push(Group {
            row: p,
            members: Vec::new(),
        });
    }
    let key_col = |s: &InputSchema| {
        s.key
            .and_then(|k| s.columns.get(k))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    for g in groups.iter_mut() {
        if seen.get(&g.row.id).copied().unwrap_or(0) > 1 {
            let col = key_col(gs);
            g.row.error = Some(RowError {
                column: col.clone(),
                message: format!("{} appears on more than one row", g.row.id),
                order: 0,
            });
        }
    }
    let mut errors = Vec::new();
    let gword = prog
        .records
        .get(gs.record as usize)
        .map(|r| r.name.to_lowercase())
        .unwrap_or_default();
    // No member rows at all (a household without persons) need no header.
    if let (Some(ms), Some(mrecords)) = (ms, members.filter(|m| !m.is_empty())) {
        let link = ms
            .columns
            .iter()
            .position(|c| matches!(c.kind, ColKind::Link { .. }));
        let mut mseen: HashMap<String, usize> = HashMap::new();
        let parsed: Vec<Parsed> = parse_input(ir, ms, mrecords)?;
        for p in &parsed {
            *mseen.entry(p.id.clone()).or_insert(0) += 1;
        }
        for mut p in parsed {
            if mseen.get(&p.id).copied().unwrap_or(0) > 1 {
                let col = key_col(ms);
                p.error = Some(RowError {
                    column: col.clone(),
                    message: format!("{} appears on more than one row", p.id),
                    order: 0,
                });
            }
            let target = link.and_then(|c| match p.vals.get(c) {
                Some(Val::Text(s)) => Some(s.clone()),
                _ => None,
            });
            let gi = target.as_ref().and_then(|t| first.get(t).copied());
            match gi {
                Some(gi) if seen.get(&groups[gi].row.id).copied().unwrap_or(0) == 1 => {
                    groups[gi].members.push(p)
                }
                _ => {
                    let col = link
                        .and_then(|c| ms.columns.get(c))
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    let t = target.unwrap_or_default();
                    errors.push((
                        ms.input.clone(),
                        p.line,
                        p.id.clone(),
                        col,
                        format!("unknown {gword} {t}"),
                    ));
                }
            }
        }
    }
    Ok(Prepared { groups, errors })
}

/// Typed rows of parsed rows.
fn rows_of<'a>(schema: &InputSchema, parsed: impl Iterator<Item = &'a Parsed>) -> Rows {
    let mut rows = Rows::new(schema, 0);
    for (i, p) in parsed.enumerate() {
        rows.seq.push(p.seq);
        rows.lines.push(p.line);
        for (ci, col) in rows.cols.iter_mut().enumerate() {
            let v = p.vals.get(ci);
            match col {
                Values::Text(t) => t.push(match v {
                    Some(Val::Text(s)) => s,
                    _ => "",
                }),
                Values::I64(x) => x.push(match v {
                    Some(Val::I64(a)) => *a,
                    _ => 0,
                }),
                Values::Opt(x, present) => match v {
                    Some(Val::I64(a)) => {
                        x.push(*a);
                        present.push(true);
                    }
                    _ => {
                        x.push(0);
                        present.push(false);
                    }
                },
            }
        }
        if let Some(e) = &p.error {
            rows.errors.push((i, e.clone()));
        }
    }
    let _ = Texts::default();
    rows
}

/// Prepared groups as one staged chunk.
fn staged(gs: &InputSchema, ms: Option<&InputSchema>, groups: &[Group]) -> Staged {
    let mut offsets = vec![0];
    let mut n = 0;
    for g in groups {
        n += g.members.len();
        offsets.push(n);
    }
    let members = match ms {
        Some(ms) => rows_of(ms, groups.iter().flat_map(|g| g.members.iter())),
        None => Rows::default(),
    };
    Staged {
        groups: rows_of(gs, groups.iter().map(|g| &g.row)),
        members,
        offsets,
        excluded: Vec::new(),
    }
}

/// Evaluate a few records given as rows: [`prepare_in_memory`], then the
/// checks and the evaluation of [`super::run`], without files.
pub fn run_in_memory(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn ChunkEval,
    group: (&[String], &[Row]),
    members: Option<(&[String], &[Row])>,
) -> Result<MemoryResult, RunError> {
    run_records(
        ir,
        bound,
        eval,
        InMemory::Text(group.0, group.1),
        members.map(|(h, r)| InMemory::Text(h, r)),
    )
}

/// [`run_in_memory`] for records as text rows or record batches.
pub fn run_records(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn ChunkEval,
    group: InMemory<'_>,
    members: Option<InMemory<'_>>,
) -> Result<MemoryResult, RunError> {
    let plan = plan_for(ir)?;
    let (schemas, gi, mi) = schemas_of(ir)?;
    let gs = &schemas[gi];
    let ms = mi.and_then(|m| schemas.get(m));
    let Prepared { groups, errors } = prepare_records(ir, group, members)?;
    let cx = Ctx::new(ir, bound, &plan, eval, gs, ms, Encode::Blocks, None);
    let o = process(&cx, staged(gs, ms, &groups));
    let outputs = o
        .outs
        .iter()
        .enumerate()
        .map(|(oi, b)| {
            let spec = cx.specs.get(oi).map(|s| s.as_slice()).unwrap_or(&[]);
            let sorted = b.sorted();
            (0..sorted.len()).map(|i| sorted.cells(spec, i)).collect()
        })
        .collect();
    let mut gerrs = o.group_errors;
    gerrs.sort_by_key(|e| e.seq);
    let mut merrs = o.member_errors;
    merrs.sort_by_key(|e| e.seq);
    let mut all: Vec<ErrorCells> = gerrs
        .into_iter()
        .map(|e| (gs.input.clone(), e.line, e.id, e.column, e.message))
        .collect();
    let mut rest: Vec<ErrorCells> = merrs
        .into_iter()
        .map(|e| {
            (
                ms.map(|m| m.input.clone()).unwrap_or_default(),
                e.line,
                e.id,
                e.column,
                e.message,
            )
        })
        .collect();
    rest.extend(errors);
    rest.sort_by_key(|e| e.1);
    all.extend(rest);
    Ok(MemoryResult {
        outputs,
        errors: all,
    })
}

/// Run the record checks on prepared groups and apply the rejection rules:
/// the groups to evaluate and the error rows of the others
/// (`(input, line, id, column, message)`).
pub fn check_groups(
    ir: &Ir,
    bound: &Bound,
    groups: Vec<Group>,
) -> Result<(Vec<Group>, Vec<ErrorCells>), RunError> {
    let plan = plan_for(ir)?;
    let (schemas, gi, mi) = schemas_of(ir)?;
    let gs = &schemas[gi];
    let ms = mi.and_then(|m| schemas.get(m));
    let interp = InterpEval {
        ir,
        bound,
        plan: &plan,
    };
    let cx = Ctx::new(ir, bound, &plan, &interp, gs, ms, Encode::Blocks, None);
    let mut out = super::process::Outcome::default();
    let (keep, _) = validate(&cx, staged(gs, ms, &groups), &mut out);
    // The groups and members kept, by their seqs.
    let kept_groups: std::collections::HashSet<u64> = keep.groups.seq.iter().copied().collect();
    let kept_members: std::collections::HashSet<u64> = keep.members.seq.iter().copied().collect();
    let kept: Vec<Group> = groups
        .into_iter()
        .filter(|g| kept_groups.contains(&g.row.seq))
        .map(|mut g| {
            g.members.retain(|m| kept_members.contains(&m.seq));
            g
        })
        .collect();
    let mut errs: Vec<ErrorCells> = out
        .group_errors
        .into_iter()
        .map(|e| (gs.input.clone(), e.line, e.id, e.column, e.message))
        .collect();
    errs.extend(out.member_errors.into_iter().map(|e| {
        (
            ms.map(|m| m.input.clone()).unwrap_or_default(),
            e.line,
            e.id,
            e.column,
            e.message,
        )
    }));
    Ok((kept, errs))
}
