//! Checks, rejections and evaluation of one chunk of groups.
//!
//! For each [`Staged`] chunk: the record checks run first on every row
//! that parsed, by the run's engine; then spec §5.3's rules apply —
//! a group with an error, or with a member with an error, is rejected
//! whole (each of its rows gets an error row), a member left out by an
//! `exclude` check goes to the errors alone; the engine evaluates the
//! groups kept, and an evaluation error rejects its group the same way.
//! The evaluated rows become one [`OutBlock`] per output, encoded on the
//! same thread when the sink takes bytes.

use super::ErrorRow;
use super::block::{Rows, Values};
use super::link::Staged;
use super::output::{Codes, OutBlock, OutSpec, OutVals};
use crate::cpu::Stopwatch;
use crate::rows::RowError;
use crate::summary::Summary;
use std::time::Duration;
use weft_check::ty::Ty;
use weft_data::schema::{ColKind, InputSchema};
use weft_interp::batch::{Engine, Plan};
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column, Table};
use weft_ir::{ColumnValue, InstId, Ir};

/// How outputs leave the evaluating threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encode {
    /// As typed blocks (Parquet, observers, the embedding API).
    Blocks,
    Csv,
    Jsonl,
}

/// Where an output column's value comes from.
#[derive(Clone, Debug)]
pub enum ColSource {
    /// Column `n` of the plan's values for the output's record.
    Plan(usize),
    /// A text field reached through links: `(record, field)` steps.
    Text(Vec<(u32, u32)>),
}

/// Everything one side of a run needs to process chunks.
pub struct Ctx<'a> {
    pub ir: &'a Ir,
    pub bound: &'a Bound,
    pub plan: &'a Plan,
    pub eval: &'a dyn Engine,
    pub gs: &'a InputSchema,
    pub ms: Option<&'a InputSchema>,
    pub gword: String,
    pub mword: String,
    /// Per output: its columns' sources and specs.
    pub sources: Vec<Vec<ColSource>>,
    pub specs: Vec<Vec<OutSpec>>,
    pub codes: Vec<Codes>,
    /// Text fields the engines read (`(record, field)`): only those are
    /// given to them as text columns.
    pub text_used: Vec<(u32, u32)>,
    pub encode: Encode,
    /// The field whose value breaks results down (`--by`): record, field.
    pub by: Option<(u32, u32)>,
}

impl<'a> Ctx<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ir: &'a Ir,
        bound: &'a Bound,
        plan: &'a Plan,
        eval: &'a dyn Engine,
        gs: &'a InputSchema,
        ms: Option<&'a InputSchema>,
        encode: Encode,
        by: Option<(u32, u32)>,
    ) -> Ctx<'a> {
        let prog = &ir.hir;
        let word = |r: u32| {
            prog.records
                .get(r as usize)
                .map(|x| x.name.to_lowercase())
                .unwrap_or_default()
        };
        let mut counters: std::collections::HashMap<u32, usize> = Default::default();
        let sources = ir
            .outputs
            .iter()
            .map(|o| {
                o.columns
                    .iter()
                    .map(|c| match &c.value {
                        ColumnValue::Inst(_) => {
                            let n = counters.entry(o.record).or_insert(0);
                            *n += 1;
                            ColSource::Plan(*n - 1)
                        }
                        ColumnValue::Text(p) => ColSource::Text(p.clone()),
                    })
                    .collect()
            })
            .collect();
        let specs = super::output::specs(ir);
        let codes = specs.iter().map(|s| Codes::new(s)).collect();
        Ctx {
            ir,
            bound,
            plan,
            eval,
            gs,
            ms,
            gword: word(gs.record),
            mword: ms.map(|m| word(m.record)).unwrap_or_default(),
            sources,
            specs,
            codes,
            text_used: text_fields_used(ir),
            encode,
            by,
        }
    }

    fn schema_of(&self, record: u32) -> Option<&InputSchema> {
        if record == self.gs.record {
            Some(self.gs)
        } else {
            self.ms.filter(|m| m.record == record)
        }
    }
}

/// The text fields an engine reads (in a text comparison).
pub fn text_fields_used(ir: &Ir) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for n in &ir.nodes {
        if let weft_ir::Node::TextEq(a, b) = n {
            for t in [a, b] {
                if let weft_ir::TextRef::Field { record, field, .. } = t {
                    if !out.contains(&(*record, *field)) {
                        out.push((*record, *field));
                    }
                }
            }
        }
    }
    out
}

/// What processing one chunk on one side gave.
#[derive(Default)]
pub struct Outcome {
    /// Error rows of groups rejected.
    pub group_errors: Vec<ErrorRow>,
    /// Error rows of members rejected or left out (those in `left_out`).
    pub member_errors: Vec<ErrorRow>,
    /// Seqs of the members left out by an `exclude` check (spec §5.3: not
    /// an error of the data; their rows are in `member_errors` too).
    pub left_out: Vec<u64>,
    /// Per output: the rows evaluated.
    pub outs: Vec<OutBlock>,
    /// Per output: the rows encoded (CSV, JSON Lines).
    pub bytes: Vec<Vec<u8>>,
    /// Per output: the `--by` value of each row evaluated.
    pub by: Vec<Vec<Option<i64>>>,
    pub evaluated_groups: u64,
    pub evaluated_members: u64,
    pub eval_cpu: Duration,
    pub check_cpu: Duration,
    pub summary: Summary,
}

/// A table of the engines' columns from typed rows.
fn table(
    cx: &Ctx<'_>,
    schema: &InputSchema,
    rows: &mut Rows,
    links: Option<&[i64]>,
    members: Option<&[usize]>,
) -> Table {
    let prog = &cx.ir.hir;
    let Some(rec) = prog.records.get(schema.record as usize) else {
        return Table::default();
    };
    let mut cols: Vec<Column> = rec.fields.iter().map(|_| Column::Absent).collect();
    let n = rows.len();
    for (ci, c) in schema.columns.iter().enumerate() {
        let col = match (&c.kind, rows.cols.get_mut(ci)) {
            (ColKind::Link { .. }, _) => Column::I64(links.map(|l| l.to_vec()).unwrap_or_default()),
            // Values move to the chunk (and back, see `give_back`).
            (_, Some(Values::I64(v))) => Column::I64(std::mem::take(v)),
            (_, Some(Values::Opt(v, p))) => Column::Opt(std::mem::take(v), std::mem::take(p)),
            (_, Some(Values::Text(t))) => {
                if cx.text_used.contains(&(schema.record, c.field)) {
                    Column::Text(t.to_strings())
                } else {
                    Column::Absent
                }
            }
            (_, None) => Column::Absent,
        };
        if let Some(slot) = cols.get_mut(c.field as usize) {
            *slot = col;
        }
    }
    if let (Some(off), Some((mf, _))) = (members, rec.members()) {
        if let Some(slot) = cols.get_mut(mf.index()) {
            *slot = Column::Members(off.iter().map(|x| *x as i64).collect());
        }
    }
    Table { rows: n, cols }
}

/// Move the value columns of `chunk` back into `st` (taken by [`to_chunk`]).
fn give_back(cx: &Ctx<'_>, st: &mut Staged, mut chunk: Chunk) {
    let mut back = |schema: &InputSchema, rows: &mut Rows| {
        let Some(t) = chunk.tables.get_mut(schema.record as usize) else {
            return;
        };
        for (ci, c) in schema.columns.iter().enumerate() {
            let Some(col) = t.cols.get_mut(c.field as usize) else {
                continue;
            };
            match (rows.cols.get_mut(ci), col) {
                (Some(Values::I64(v)), Column::I64(x)) => *v = std::mem::take(x),
                (Some(Values::Opt(v, p)), Column::Opt(x, q)) => {
                    *v = std::mem::take(x);
                    *p = std::mem::take(q);
                }
                _ => {}
            }
        }
    };
    back(cx.gs, &mut st.groups);
    if let Some(ms) = cx.ms {
        back(ms, &mut st.members);
    }
}

/// The engines' chunk of a staged chunk (its value columns move into it).
pub fn to_chunk(cx: &Ctx<'_>, st: &mut Staged) -> Chunk {
    let prog = &cx.ir.hir;
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    let gtable = table(
        cx,
        cx.gs,
        &mut st.groups,
        None,
        cx.ms.map(|_| st.offsets.as_slice()),
    );
    if let Some(ms) = cx.ms {
        let mut owner = Vec::with_capacity(st.members.len());
        for g in 0..st.group_count() {
            owner.extend(std::iter::repeat_n(g as i64, st.members_of(g).len()));
        }
        let mtable = table(cx, ms, &mut st.members, Some(&owner), None);
        if let Some(t) = chunk.tables.get_mut(ms.record as usize) {
            *t = mtable;
        }
    }
    if let Some(t) = chunk.tables.get_mut(cx.gs.record as usize) {
        *t = gtable;
    }
    chunk
}

/// A check's message with `{column}` replaced by the row's value there.
fn interpolate(
    cx: &Ctx<'_>,
    schema: &InputSchema,
    rows: &Rows,
    chunk: &Chunk,
    i: usize,
    message: &str,
) -> String {
    if !message.contains('{') {
        return message.to_string();
    }
    let mut out = message.to_string();
    for (ci, c) in schema.columns.iter().enumerate() {
        let pat = format!("{{{}}}", c.name);
        if !out.contains(&pat) {
            continue;
        }
        let value = match chunk.col(schema.record, c.field) {
            Some(Column::I64(v)) => v.get(i).copied(),
            Some(Column::Opt(v, p)) => match p.get(i) {
                Some(true) => v.get(i).copied(),
                _ => None,
            },
            _ => None,
        };
        let text = match (rows.cols.get(ci), &c.kind) {
            (Some(Values::Text(t)), _) => t.get(i).to_string(),
            (_, ColKind::Value(ty)) => match value {
                Some(x) => weft_ir::value::csv_value(&cx.ir.hir, ty, x),
                None => String::new(),
            },
            _ => String::new(),
        };
        out = out.replace(&pat, &text);
    }
    out
}

fn row_id(rows: &Rows, i: usize) -> String {
    rows.key_col
        .and_then(|c| rows.cols.get(c))
        .map(|c| c.text(i).to_string())
        .unwrap_or_default()
}

fn error_row(rows: &Rows, i: usize, column: String, message: String) -> ErrorRow {
    ErrorRow {
        seq: rows.seq.get(i).copied().unwrap_or(0),
        line: rows.lines.get(i).copied().unwrap_or(0),
        id: row_id(rows, i),
        column,
        message,
    }
}

/// Run the record checks on every row without an error: every check of
/// every such row is evaluated first, in one sequence (by the engine when
/// it evaluates instances, else by the interpreter), then the failures
/// are noted in the same order.
fn run_checks(cx: &Ctx<'_>, st: &mut Staged, chunk: &Chunk) {
    let prog = &cx.ir.hir;
    // (member?, row, check index, instance) of each evaluation.
    let mut jobs: Vec<(bool, usize, usize, InstId)> = Vec::new();
    let plan = |schema: &InputSchema, rows: &Rows, i: usize, member: bool, jobs: &mut Vec<_>| {
        if rows.error(i).is_some() {
            return;
        }
        let Some(checks) = cx.ir.checks.get(schema.record as usize) else {
            return;
        };
        for (ci, inst) in checks.iter().enumerate() {
            jobs.push((member, i, ci, *inst));
        }
    };
    for g in 0..st.group_count() {
        plan(cx.gs, &st.groups, g, false, &mut jobs);
        if let Some(ms) = cx.ms {
            for m in st.members_of(g) {
                plan(ms, &st.members, m, true, &mut jobs);
            }
        }
    }
    if jobs.is_empty() {
        return;
    }
    let insts: Vec<(InstId, usize)> = jobs.iter().map(|(_, r, _, i)| (*i, *r)).collect();
    let results = cx.eval.eval_insts(chunk, &insts);
    let mut excluded = std::mem::take(&mut st.excluded);
    for ((member, i, ci, _), result) in jobs.iter().zip(results) {
        let (schema, rows) = match (member, cx.ms) {
            (false, _) => (cx.gs, &mut st.groups),
            (true, Some(ms)) => (ms, &mut st.members),
            (true, None) => continue,
        };
        let Some(rdef) = prog.records.get(schema.record as usize) else {
            continue;
        };
        let Some(def) = rdef.checks.get(*ci) else {
            continue;
        };
        let failed = match result {
            Ok(v) => (v == 0).then(|| interpolate(cx, schema, rows, chunk, *i, &def.message)),
            Err(e) => Some(format!("cannot be checked: {}", e.detail)),
        };
        if let Some(message) = failed {
            let order = schema
                .columns
                .iter()
                .position(|c| c.field == def.column.raw())
                .unwrap_or(usize::MAX);
            let e = RowError {
                column: rdef.column(def.column).to_string(),
                message,
                order,
            };
            if def.exclude {
                if *member && !excluded.iter().any(|(r, _)| *r == *i) {
                    excluded.push((*i, e));
                }
            } else {
                rows.note_error(*i, e, false);
            }
        }
    }
    excluded.sort_by_key(|(r, _)| *r);
    st.excluded = excluded;
}

/// Apply the rejection rules: keep (in place) the groups to evaluate and
/// write the error rows of the others.
fn reject(cx: &Ctx<'_>, st: &mut Staged, out: &mut Outcome) {
    let mut keep_g = vec![true; st.group_count()];
    let mut keep_m = vec![true; st.members.len()];
    let excluded = |m: usize| -> Option<&RowError> {
        st.excluded
            .binary_search_by_key(&m, |(r, _)| *r)
            .ok()
            .and_then(|k| st.excluded.get(k))
            .map(|(_, e)| e)
    };
    for (g, keep) in keep_g.iter_mut().enumerate() {
        // Excluded members go to errors alone (unless they have an error).
        let mut members = Vec::new();
        for m in st.members_of(g) {
            if st.members.error(m).is_none() {
                if let Some(x) = excluded(m) {
                    out.left_out
                        .push(st.members.seq.get(m).copied().unwrap_or(0));
                    out.member_errors.push(error_row(
                        &st.members,
                        m,
                        x.column.clone(),
                        x.message.clone(),
                    ));
                    keep_m[m] = false;
                    continue;
                }
            }
            members.push(m);
        }
        let gid = row_id(&st.groups, g);
        let reason: Option<(String, String, String)> = match st.groups.error(g) {
            Some(e) => Some((e.quoted(), e.column.clone(), e.message.clone())),
            None => members.iter().find_map(|&m| {
                st.members.error(m).map(|e| {
                    let q = format!(
                        "{} {} (line {}): {}",
                        cx.mword,
                        row_id(&st.members, m),
                        st.members.lines.get(m).copied().unwrap_or(0),
                        e.quoted()
                    );
                    (q.clone(), String::new(), q)
                })
            }),
        };
        if let Some((quoted, column, message)) = reason {
            out.group_errors
                .push(error_row(&st.groups, g, column, message));
            *keep = false;
            for &m in &members {
                let (column, message) = match st.members.error(m) {
                    Some(e) => (e.column.clone(), e.message.clone()),
                    None => (
                        String::new(),
                        format!("{} {gid} rejected: {quoted}", cx.gword),
                    ),
                };
                out.member_errors
                    .push(error_row(&st.members, m, column, message));
                keep_m[m] = false;
            }
        }
    }
    // New offsets: the kept members of each kept group.
    let mut offsets = vec![0usize];
    let mut n = 0usize;
    for (g, keep) in keep_g.iter().enumerate() {
        if !keep {
            continue;
        }
        n += st.members_of(g).filter(|m| keep_m[*m]).count();
        offsets.push(n);
    }
    st.groups.retain(&keep_g);
    st.members.retain(&keep_m);
    st.offsets = offsets;
    st.excluded.clear();
}

/// Checks and rejections: the groups to evaluate, and the chunk the
/// checks ran on when it holds exactly those.
pub fn validate(cx: &Ctx<'_>, mut st: Staged, out: &mut Outcome) -> (Staged, Option<Chunk>) {
    let chunk = to_chunk(cx, &mut st);
    run_checks(cx, &mut st, &chunk);
    let clean =
        st.groups.errors.is_empty() && st.members.errors.is_empty() && st.excluded.is_empty();
    if clean {
        return (st, Some(chunk));
    }
    give_back(cx, &mut st, chunk);
    reject(cx, &mut st, out);
    (st, None)
}

/// The text at the end of `path` from row `row` of the output's record.
fn text_at<'s>(
    cx: &Ctx<'_>,
    st: &'s Staged,
    chunk: &Chunk,
    row: usize,
    path: &[(u32, u32)],
) -> Option<&'s str> {
    let mut row = row;
    for (i, (r, f)) in path.iter().enumerate() {
        if i + 1 == path.len() {
            let schema = cx.schema_of(*r)?;
            let ci = schema.columns.iter().position(|c| c.field == *f)?;
            let rows = if *r == cx.gs.record {
                &st.groups
            } else {
                &st.members
            };
            return Some(rows.cols.get(ci)?.text(row));
        }
        match chunk.col(*r, *f) {
            Some(Column::I64(v)) => row = v.get(row).copied().unwrap_or(0).max(0) as usize,
            _ => return None,
        }
    }
    None
}

/// Validate, check and evaluate one chunk.
pub fn process(cx: &Ctx<'_>, st: Staged) -> Outcome {
    let mut out = Outcome {
        summary: Summary::new(cx.ir),
        ..Outcome::default()
    };
    let t = Stopwatch::start();
    let (mut st, chunk) = validate(cx, st, &mut out);
    out.check_cpu = t.elapsed();
    let n_out = cx.ir.outputs.len();
    out.outs = (0..n_out).map(|_| OutBlock::default()).collect();
    out.by = (0..n_out).map(|_| Vec::new()).collect();
    if st.group_count() == 0 {
        encode(cx, &mut out);
        return out;
    }
    let chunk = match chunk {
        Some(c) => c,
        None => to_chunk(cx, &mut st),
    };
    let t = Stopwatch::start();
    let res = cx.eval.eval_chunk(&chunk, cx.plan);
    out.eval_cpu = t.elapsed();
    // Groups (and their member rows) evaluated.
    let mut groups: Vec<usize> = Vec::with_capacity(st.group_count());
    let mut members: Vec<usize> = Vec::with_capacity(st.members.len());
    for g in 0..st.group_count() {
        let mrange = st.members_of(g);
        if let Some(Some(e)) = res.errors.get(g) {
            // The record whose rule failed.
            let inst = cx.ir.inst(e.inst);
            let name = inst.map(|i| i.name.clone()).unwrap_or_default();
            let col = format!("rule:{name}");
            let msg = e.detail.clone();
            let failing = match (inst.and_then(|i| i.entity), e.row, cx.ms) {
                (Some(rec), Some(r), Some(ms)) if rec == ms.record && mrange.contains(&r) => {
                    Some(r)
                }
                _ => None,
            };
            let quoted = match failing {
                Some(m) => format!(
                    "{} {} (line {}): {col}: {msg}",
                    cx.mword,
                    row_id(&st.members, m),
                    st.members.lines.get(m).copied().unwrap_or(0)
                ),
                None => format!("{col}: {msg}"),
            };
            let (gcol, gmsg) = if failing.is_none() {
                (col.clone(), msg.clone())
            } else {
                (String::new(), quoted.clone())
            };
            out.group_errors.push(error_row(&st.groups, g, gcol, gmsg));
            let gid = row_id(&st.groups, g);
            for m in mrange {
                let (column, message) = if Some(m) == failing {
                    (col.clone(), msg.clone())
                } else {
                    (
                        String::new(),
                        format!("{} {gid} rejected: {quoted}", cx.gword),
                    )
                };
                out.member_errors
                    .push(error_row(&st.members, m, column, message));
            }
            continue;
        }
        groups.push(g);
        members.extend(mrange);
    }
    out.evaluated_groups = groups.len() as u64;
    out.evaluated_members = members.len() as u64;
    for (oi, o) in cx.ir.outputs.iter().enumerate() {
        let is_member = cx.ms.map(|m| m.record == o.record).unwrap_or(false);
        let is_group = o.record == cx.gs.record;
        let (rows, meta, values): (&[usize], &Rows, &[Vec<i64>]) = if is_member {
            (&members, &st.members, &res.member_values)
        } else if is_group {
            (&groups, &st.groups, &res.group_values)
        } else {
            continue;
        };
        let mut block = OutBlock {
            seq: rows
                .iter()
                .map(|&r| meta.seq.get(r).copied().unwrap_or(0))
                .collect(),
            cols: Vec::with_capacity(cx.sources[oi].len()),
        };
        for s in &cx.sources[oi] {
            block.cols.push(match s {
                ColSource::Plan(pc) => {
                    let v = values.get(*pc);
                    OutVals::I64(
                        rows.iter()
                            .map(|&r| v.and_then(|c| c.get(r)).copied().unwrap_or(0))
                            .collect(),
                    )
                }
                ColSource::Text(path) => {
                    let mut t = super::block::Texts::with_capacity(rows.len());
                    for &r in rows {
                        t.push(text_at(cx, &st, &chunk, r, path).unwrap_or(""));
                    }
                    OutVals::Text(t)
                }
            });
        }
        if let Some((rec, f)) = cx.by {
            let col = chunk.col(rec, f);
            out.by[oi] = rows
                .iter()
                .map(|&r| {
                    let row = if rec == cx.gs.record && is_member {
                        chunk
                            .col(o.record, link_field(cx).unwrap_or(0))
                            .and_then(|c| match c {
                                Column::I64(v) => v.get(r).map(|x| *x as usize),
                                _ => None,
                            })
                            .unwrap_or(0)
                    } else {
                        r
                    };
                    match col {
                        Some(Column::I64(v)) => v.get(row).copied(),
                        _ => None,
                    }
                })
                .collect();
        }
        out.summary.add_block(cx.ir, oi, &block);
        out.outs[oi] = block;
    }
    encode(cx, &mut out);
    out
}

/// The member record's link field.
fn link_field(cx: &Ctx<'_>) -> Option<u32> {
    let ms = cx.ms?;
    ms.columns
        .iter()
        .find(|c| matches!(c.kind, ColKind::Link { .. }))
        .map(|c| c.field)
}

fn encode(cx: &Ctx<'_>, out: &mut Outcome) {
    if cx.encode == Encode::Blocks {
        return;
    }
    out.bytes = out
        .outs
        .iter()
        .enumerate()
        .map(|(oi, b)| {
            let mut buf = Vec::new();
            if let (Some(s), Some(c)) = (cx.specs.get(oi), cx.codes.get(oi)) {
                match cx.encode {
                    Encode::Csv => super::output::encode_csv(s, c, b, &mut buf),
                    Encode::Jsonl => super::output::encode_jsonl(s, c, b, &mut buf),
                    Encode::Blocks => {}
                }
            }
            buf
        })
        .collect();
}

/// Whether `ty` reads as an optional.
pub fn is_opt(ty: &Ty) -> bool {
    matches!(ty, Ty::Opt(_))
}
