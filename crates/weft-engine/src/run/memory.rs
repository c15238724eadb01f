//! Records held in memory (`weft eval`, `weft explain`, the embedding
//! API): the same parsing, joining, checks, rejections and evaluation as a
//! run over files, without files.
//!
//! Rows of text cells (JSON, rows given in code) are parsed by the
//! readers' `RowSink` and grouped as parsed rows ([`prepare_in_memory`]).
//! Arrow record batches ([`run_batches`]) are converted column by column
//! into typed rows by the Parquet reader's conversion
//! ([`super::parquet::parse_batch`]), with no text round trip for typed
//! values, and grouped column by column.

use super::block::{Rows, Texts, Values};
use super::link::{self, Staged};
use super::process::{Ctx, Encode, process, validate};
use super::{Engine, RunError, plan_for};
use crate::engines::Interpreter;
use crate::rows::{Group, Parsed, RowError, Val, header_map, parse_rows};
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

/// Typed rows of a record batch (row `i` at line `i + 1`, seq `i`), by
/// the Parquet reader's conversion; columns the input does not read are
/// ignored.
fn batch_rows(
    ir: &Ir,
    schema: &InputSchema,
    batch: &RecordBatch,
    lines: Option<&[u64]>,
) -> Result<Rows, RunError> {
    if let Some(lines) = lines
        && lines.len() != batch.num_rows()
    {
        return Err(RunError::Usage(format!(
            "the input `{}` has {} rows but {} line numbers",
            schema.input,
            batch.num_rows(),
            lines.len()
        )));
    }
    let bschema = batch.schema();
    let header: Vec<String> = bschema.fields().iter().map(|f| f.name().clone()).collect();
    header_map(schema, &header, true).map_err(|columns| RunError::MissingColumns {
        file: schema.input.clone(),
        columns,
    })?;
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
    if let Some(lines) = lines
        && lines.len() == typed.lines.len()
    {
        typed.lines = lines.to_vec();
    }
    Ok(typed)
}

/// Parse the rows of one input held as text.
fn parse_input(
    ir: &Ir,
    schema: &InputSchema,
    (header, rows): (&[String], &[Row]),
) -> Result<Vec<Parsed>, RunError> {
    let map = header_map(schema, header, true).map_err(|columns| RunError::MissingColumns {
        file: schema.input.clone(),
        columns,
    })?;
    Ok(parse_rows(&ir.hir, schema, &map, rows))
}

/// Parse and group rows held in memory (for `weft eval`, `weft explain`
/// and the embedding API): the same parsing, duplicate and unknown-group
/// rules as [`super::run`]. `line` of each row is its position (1-based).
pub fn prepare_in_memory(
    ir: &Ir,
    group: (&[String], &[Row]),
    members: Option<(&[String], &[Row])>,
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
    if let (Some(ms), Some(mrecords)) = (ms, members.filter(|(_, r)| !r.is_empty())) {
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
            let dup = gi.is_some_and(|gi| seen.get(&groups[gi].row.id).copied().unwrap_or(0) > 1);
            match gi {
                Some(gi) if !dup => groups[gi].members.push(p),
                _ => {
                    // As a run over files says it (a duplicated household's
                    // member quotes its own error first).
                    let w = link::Words {
                        gword: gword.clone(),
                        gkey: key_col(gs),
                        link_name: link
                            .and_then(|c| ms.columns.get(c))
                            .map(|c| c.name.clone())
                            .unwrap_or_default(),
                        ..link::Words::default()
                    };
                    let (col, message) = match (&p.error, dup) {
                        (Some(e), true) => (e.column.clone(), e.message.clone()),
                        _ => link::unlinked(&w, target.as_deref().unwrap_or(""), dup),
                    };
                    errors.push((ms.input.clone(), p.line, p.id.clone(), col, message));
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
    eval: &dyn Engine,
    group: (&[String], &[Row]),
    members: Option<(&[String], &[Row])>,
) -> Result<MemoryResult, RunError> {
    let plan = plan_for(ir)?;
    let (schemas, gi, mi) = schemas_of(ir)?;
    let gs = &schemas[gi];
    let ms = mi.and_then(|m| schemas.get(m));
    let Prepared { groups, errors } = prepare_in_memory(ir, group, members)?;
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
    let interp = Interpreter::new(ir, bound);
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

/// Record batches evaluated ([`run_batches`]): per output, its rows as a
/// record batch (the Parquet writer's schema), and the error rows.
#[derive(Debug, Clone)]
pub struct BatchOutput {
    pub outputs: Vec<RecordBatch>,
    pub errors: Vec<ErrorCells>,
}

/// Each row's id (its key's text; empty without a key), as
/// [`prepare_in_memory`] groups by it.
fn ids(rows: &Rows) -> Vec<&str> {
    let col = rows.key_col.and_then(|c| rows.cols.get(c));
    (0..rows.len())
        .map(|i| col.map(|c| c.text(i)).unwrap_or(""))
        .collect()
}

/// Group typed rows as [`prepare_in_memory`] groups parsed ones — the same
/// duplicate and unknown-group rules, in the same order — but column by
/// column: members are copied next to their group, nothing is allocated
/// per row.
fn stage_rows(
    ir: &Ir,
    gs: &InputSchema,
    ms: Option<&InputSchema>,
    mut groups: Rows,
    members: Option<Rows>,
) -> (Staged, Vec<ErrorCells>) {
    let key_col = |s: &InputSchema| {
        s.key
            .and_then(|k| s.columns.get(k))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let duplicate = |id: &str, column: String| RowError {
        column,
        message: format!("{id} appears on more than one row"),
        order: 0,
    };
    // Group ids: how often each appears, and its first row.
    let gids = ids(&groups);
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::with_capacity(gids.len());
    for (i, id) in gids.iter().enumerate() {
        seen.entry(id).or_insert((0, i)).0 += 1;
    }
    let dup_groups: Vec<(usize, RowError)> = gids
        .iter()
        .enumerate()
        .filter(|(_, id)| seen.get(*id).map(|s| s.0).unwrap_or(0) > 1)
        .map(|(i, id)| (i, duplicate(id, key_col(gs))))
        .collect();
    // Each member's group, or an error row when its group is unknown or
    // ambiguous.
    let mut errors: Vec<ErrorCells> = Vec::new();
    let mut of_group: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    let mut dup_members: Vec<(usize, RowError)> = Vec::new();
    if let (Some(ms), Some(m)) = (ms, members.as_ref()) {
        let gword = ir
            .hir
            .records
            .get(gs.record as usize)
            .map(|r| r.name.to_lowercase())
            .unwrap_or_default();
        let link = ms
            .columns
            .iter()
            .position(|c| matches!(c.kind, ColKind::Link { .. }));
        let link_name = link
            .and_then(|c| ms.columns.get(c))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let mids = ids(m);
        let mut mseen: HashMap<&str, usize> = HashMap::with_capacity(mids.len());
        for id in &mids {
            *mseen.entry(id).or_insert(0) += 1;
        }
        for (i, id) in mids.iter().enumerate() {
            if mseen.get(id).copied().unwrap_or(0) > 1 {
                dup_members.push((i, duplicate(id, key_col(ms))));
            }
            let target = link.and_then(|c| m.cols.get(c)).map(|c| c.text(i));
            match target.and_then(|t| seen.get(t)) {
                Some((1, g)) => {
                    if let Some(list) = of_group.get_mut(*g) {
                        list.push(i);
                    }
                }
                _ => errors.push((
                    ms.input.clone(),
                    m.lines.get(i).copied().unwrap_or(0),
                    id.to_string(),
                    link_name.clone(),
                    format!("unknown {gword} {}", target.unwrap_or("")),
                )),
            }
        }
    }
    drop(seen);
    drop(gids);
    for (i, e) in dup_groups {
        groups.note_error(i, e, true);
    }
    let (members, offsets) = match members {
        Some(mut m) => {
            for (i, e) in dup_members {
                m.note_error(i, e, true);
            }
            let mut staged = m.empty_like(m.len());
            let mut offsets = Vec::with_capacity(of_group.len() + 1);
            offsets.push(0);
            for list in &of_group {
                for &i in list {
                    staged.extend_from(&m, i..i + 1);
                }
                offsets.push(staged.len());
            }
            (staged, offsets)
        }
        None => (Rows::default(), vec![0; groups.len() + 1]),
    };
    (
        Staged {
            groups,
            members,
            offsets,
            excluded: Vec::new(),
        },
        errors,
    )
}

/// Evaluate records given as Arrow record batches: read by the Parquet
/// reader's typed conversion, grouped column by column ([`stage_rows`]),
/// checked and evaluated as [`super::run`] does, the outputs returned as
/// record batches. The same rows, values and error rows as
/// [`run_in_memory`] over the batches' text, allocating per batch, not
/// per row.
pub fn run_batches(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn Engine,
    group: &RecordBatch,
    members: Option<&RecordBatch>,
) -> Result<BatchOutput, RunError> {
    run_batches_at(ir, bound, eval, (group, None), members.map(|m| (m, None)))
}

/// A batch and, optionally, the line of each of its rows.
pub type BatchLines<'a> = (&'a RecordBatch, Option<&'a [u64]>);

/// [`run_batches`] where each batch may give the line of each of its rows
/// (`None`: the row's position plus one, as [`run_batches`] does): error
/// rows name these lines and are ordered by them, so a part of a larger
/// input (a partition of a population) reports the lines of the whole.
/// A list of lines whose length is not the batch's row count is refused.
pub fn run_batches_at(
    ir: &Ir,
    bound: &Bound,
    eval: &dyn Engine,
    group: BatchLines<'_>,
    members: Option<BatchLines<'_>>,
) -> Result<BatchOutput, RunError> {
    let plan = plan_for(ir)?;
    let (schemas, gi, mi) = schemas_of(ir)?;
    let gs = &schemas[gi];
    let ms = mi.and_then(|m| schemas.get(m));
    let grows = batch_rows(ir, gs, group.0, group.1)?;
    let mrows = match (ms, members.filter(|(b, _)| b.num_rows() > 0)) {
        (Some(ms), Some((b, l))) => Some(batch_rows(ir, ms, b, l)?),
        _ => None,
    };
    let (staged, errors) = stage_rows(ir, gs, ms, grows, mrows);
    let cx = Ctx::new(ir, bound, &plan, eval, gs, ms, Encode::Blocks, None);
    let o = process(&cx, staged);
    let mut outputs = Vec::with_capacity(o.outs.len());
    for (oi, b) in o.outs.iter().enumerate() {
        let spec = cx.specs.get(oi).map(|s| s.as_slice()).unwrap_or(&[]);
        let schema = super::output::arrow_schema(spec);
        let batch =
            super::output::to_batch(spec, &schema, &b.sorted()).map_err(RunError::Output)?;
        outputs.push(batch);
    }
    Ok(BatchOutput {
        outputs,
        errors: error_cells(gs, ms, o.group_errors, o.member_errors, errors),
    })
}

/// The error rows of an evaluation in memory: groups first, by position;
/// then members and members naming no group, by line.
fn error_cells(
    gs: &InputSchema,
    ms: Option<&InputSchema>,
    mut gerrs: Vec<super::ErrorRow>,
    mut merrs: Vec<super::ErrorRow>,
    unlinked: Vec<ErrorCells>,
) -> Vec<ErrorCells> {
    gerrs.sort_by_key(|e| e.seq);
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
    rest.extend(unlinked);
    rest.sort_by_key(|e| e.1);
    all.extend(rest);
    all
}
