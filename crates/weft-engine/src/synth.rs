//! `weft synth`: synthetic populations from a policy's record declarations.
//!
//! Each field is drawn from its `synth` declaration (weighted values and
//! ranges, `absent` for optionals); a field without one is drawn uniformly
//! from its type (enum variants, true/false, its declared `in` range, a
//! plausible default for amounts and dates). A group record's members
//! field may declare how many members a group has (`members: [Person]
//! synth { 1: 30, 2: 30, … }`). Rows that fail a record check are drawn
//! again, so every record is valid by construction (a run over the output
//! rejects nothing). The generator is ChaCha8 (`rand_chacha` 0.3, pinned in
//! `Cargo.lock`): a seed means the same population after an upgrade.
//!
//! Members are written grouped, in the order of their groups, so `weft
//! run` streams the output with bounded memory.

use crate::engines::Interpreter;
use crate::run::{plan_for, roots, run_in_memory};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use weft_check::hir::{FieldKind, RecordDef, SynthAlt};
use weft_check::ty::{Per, Ty};
use weft_data::cell::{CellKind, Row};
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{FileError, Format, OutCell, OutType, open_writer};
use weft_interp::Interp;
use weft_ir::Ir;
use weft_ir::bind::bind;
use weft_ir::data::{Chunk, Column, Table};
use weft_syntax::num;

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub groups: u64,
    pub seed: u64,
    pub as_of: i32,
    pub out_dir: std::path::PathBuf,
    pub format: Format,
    /// Groups evaluated to report programme hit rates (0: none).
    pub sample: usize,
}

#[derive(Debug, Clone, Default)]
pub struct SynthReport {
    pub files: Vec<(String, u64)>,
    /// `(programme, recipients in the sample, rows in the sample)`.
    pub hit_rates: Vec<(String, u64, u64)>,
    pub redraws: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{0}")]
    Policy(String),
    #[error(transparent)]
    File(#[from] FileError),
}

fn draw_alt(rng: &mut ChaCha8Rng, alts: &[(SynthAlt, u64)]) -> Option<Option<i64>> {
    let total: u64 = alts.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return None;
    }
    let mut x = rng.gen_range(0..total);
    for (a, w) in alts {
        if x < *w {
            return Some(match a {
                SynthAlt::Absent => None,
                SynthAlt::Value(v) => Some(*v),
                SynthAlt::Range(lo, hi) => Some(rng.gen_range(*lo..=*hi)),
            });
        }
        x -= w;
    }
    None
}

/// A value of a field without a `synth` declaration.
fn default_value(
    rng: &mut ChaCha8Rng,
    prog: &weft_check::Program,
    ty: &Ty,
    range: Option<(Option<i64>, Option<i64>)>,
    as_of: i32,
) -> Option<i64> {
    let (ty, optional) = match ty {
        Ty::Opt(t) => (&**t, true),
        t => (t, false),
    };
    if optional && rng.gen_bool(0.5) {
        return None;
    }
    let (lo, hi) = match range {
        Some((lo, hi)) => (lo, hi),
        None => (None, None),
    };
    Some(match ty {
        Ty::Bool => rng.gen_range(0..=1),
        Ty::Enum(e, set) => {
            let n = prog.enums.get(*e).map(|x| x.variants.len()).unwrap_or(1);
            let allowed: Vec<i64> = (0..n as i64).filter(|v| set & (1u64 << v) != 0).collect();
            if allowed.is_empty() {
                0
            } else {
                allowed[rng.gen_range(0..allowed.len())]
            }
        }
        Ty::Money(_) => rng.gen_range(lo.unwrap_or(0)..=hi.unwrap_or(1_000_000)),
        Ty::Date => rng.gen_range(
            lo.unwrap_or(num::days_from_civil(1930, 1, 1) as i64)..=hi.unwrap_or(as_of as i64),
        ),
        Ty::Decimal => rng.gen_range(lo.unwrap_or(0)..=hi.unwrap_or(num::MICRO)),
        _ => rng.gen_range(lo.unwrap_or(0)..=hi.unwrap_or(100)),
    })
}

struct Draw<'a> {
    prog: &'a weft_check::Program,
    rec: &'a RecordDef,
    schema: &'a InputSchema,
    as_of: i32,
}

impl Draw<'_> {
    /// Values for the schema's value columns (`None` = absent).
    fn row(&self, rng: &mut ChaCha8Rng) -> Vec<Option<i64>> {
        self.schema
            .columns
            .iter()
            .map(|c| match &c.kind {
                ColKind::Value(ty) => {
                    let fd = self.rec.fields.get(c.field as usize);
                    match fd
                        .and_then(|f| f.synth.as_ref())
                        .and_then(|s| draw_alt(rng, s))
                    {
                        Some(v) => v,
                        None => default_value(rng, self.prog, ty, c.range, self.as_of),
                    }
                }
                _ => None,
            })
            .collect()
    }
}

/// A value of type `ty` as a typed cell (enums by their code).
pub(crate) fn cell_of(prog: &weft_check::Program, ty: &Ty, v: Option<i64>) -> OutCell {
    let Some(v) = v else { return OutCell::Null };
    match ty {
        Ty::Opt(t) => cell_of(prog, t, Some(v)),
        Ty::Money(_) => OutCell::Money(v),
        Ty::Bool => OutCell::Bool(v != 0),
        Ty::Decimal => OutCell::Decimal(v),
        Ty::Date => OutCell::Date(i32::try_from(v).unwrap_or(0)),
        Ty::Enum(..) => OutCell::Text(weft_ir::value::csv_value(prog, ty, v)),
        _ => OutCell::Int(v),
    }
}

fn out_type(ty: &Ty) -> OutType {
    match ty {
        Ty::Opt(t) => out_type(t),
        Ty::Money(_) => OutType::Money,
        Ty::Bool => OutType::Bool,
        Ty::Decimal => OutType::Decimal,
        Ty::Date => OutType::Date,
        Ty::Enum(..) | Ty::Text => OutType::Text,
        _ => OutType::Int,
    }
}

/// Which rows of a batch fail a record check (by the record's checks).
fn failing(
    ir: &Ir,
    bound: &weft_ir::bind::Bound,
    record: u32,
    schema: &InputSchema,
    rows: &[Vec<Option<i64>>],
) -> Vec<bool> {
    let prog = &ir.hir;
    let Some(checks) = ir.checks.get(record as usize) else {
        return vec![false; rows.len()];
    };
    if checks.is_empty() {
        return vec![false; rows.len()];
    }
    let Some(rec) = prog.records.get(record as usize) else {
        return vec![false; rows.len()];
    };
    let mut cols: Vec<Column> = rec.fields.iter().map(|_| Column::Absent).collect();
    for (ci, c) in schema.columns.iter().enumerate() {
        let col = match &c.kind {
            ColKind::Value(Ty::Opt(_)) => Column::Opt(
                rows.iter().map(|r| r[ci].unwrap_or(0)).collect(),
                rows.iter().map(|r| r[ci].is_some()).collect(),
            ),
            ColKind::Value(_) => Column::I64(rows.iter().map(|r| r[ci].unwrap_or(0)).collect()),
            ColKind::Text => Column::Text(vec![String::new(); rows.len()]),
            ColKind::Link { .. } => Column::I64(vec![0; rows.len()]),
        };
        if let Some(slot) = cols.get_mut(c.field as usize) {
            *slot = col;
        }
    }
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    if let Some(t) = chunk.tables.get_mut(record as usize) {
        *t = Table {
            rows: rows.len(),
            cols,
        };
    }
    let mut it = Interp::new(ir, bound, &chunk);
    (0..rows.len())
        .map(|r| {
            checks
                .iter()
                .any(|i| !matches!(it.eval_inst(*i, r), Ok(v) if v != 0))
        })
        .collect()
}

pub fn synth(ir: &Ir, opts: &SynthOptions) -> Result<SynthReport, SynthError> {
    let prog = &ir.hir;
    let plan = plan_for(ir).map_err(|e| SynthError::Policy(e.to_string()))?;
    let bound = bind(ir, opts.as_of, &roots(ir)).map_err(|e| {
        SynthError::Policy(format!(
            "cannot evaluate {}: {e}",
            num::format_month(opts.as_of)
        ))
    })?;
    let schemas = InputSchema::all(prog);
    let gs = schemas
        .get(plan.group.0 as usize)
        .ok_or_else(|| SynthError::Policy("no group record".into()))?;
    let ms = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize));
    let grec = prog
        .records
        .get(gs.record as usize)
        .ok_or_else(|| SynthError::Policy("no group record".into()))?;
    let members_synth: Vec<(SynthAlt, u64)> = grec
        .fields
        .iter()
        .find(|f| matches!(f.kind, FieldKind::Members { .. }))
        .and_then(|f| f.synth.clone())
        .unwrap_or_else(|| {
            vec![
                (SynthAlt::Value(1), 25),
                (SynthAlt::Value(2), 30),
                (SynthAlt::Value(3), 25),
                (SynthAlt::Value(4), 15),
                (SynthAlt::Value(5), 5),
            ]
        });
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|e| FileError::new(opts.out_dir.display().to_string(), e.to_string()))?;
    let ext = opts.format.extension();
    let header = |s: &InputSchema| -> Vec<(String, OutType)> {
        s.columns
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    match &c.kind {
                        ColKind::Value(t) => out_type(t),
                        _ => OutType::Text,
                    },
                )
            })
            .collect()
    };
    // Write to temporary names, rename at the end.
    let gpath = opts.out_dir.join(format!("{}.{ext}", gs.input));
    let gtmp = opts.out_dir.join(format!(".{}.{ext}.tmp", gs.input));
    let mut gw = open_writer(&gtmp, opts.format, &header(gs))?;
    let mut mw = match ms {
        Some(m) => Some((
            open_writer(
                &opts.out_dir.join(format!(".{}.{ext}.tmp", m.input)),
                opts.format,
                &header(m),
            )?,
            opts.out_dir.join(format!("{}.{ext}", m.input)),
            opts.out_dir.join(format!(".{}.{ext}.tmp", m.input)),
        )),
        None => None,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let gdraw = Draw {
        prog,
        rec: grec,
        schema: gs,
        as_of: opts.as_of,
    };
    let mdraw = ms.and_then(|m| {
        prog.records.get(m.record as usize).map(|rec| Draw {
            prog,
            rec,
            schema: m,
            as_of: opts.as_of,
        })
    });
    let mut report = SynthReport::default();
    let (mut ng, mut nm) = (0u64, 0u64);
    let batch = 4096u64;
    let mut sample_g: Vec<Row> = Vec::new();
    let mut sample_m: Vec<Row> = Vec::new();
    let to_row = |schema: &InputSchema, vals: &[Option<i64>], texts: &[String], line: u64| -> Row {
        let mut r = Row::default();
        r.reset(schema.columns.len());
        r.line = line;
        for (ci, c) in schema.columns.iter().enumerate() {
            match &c.kind {
                ColKind::Value(ty) => {
                    let cell = cell_of(prog, ty, vals[ci]);
                    let mut s = String::new();
                    weft_data::csvio::cell_text(&cell, &mut s);
                    r.set(
                        ci,
                        if s.is_empty() {
                            CellKind::Null
                        } else {
                            CellKind::Text
                        },
                        &s,
                    );
                }
                _ => r.set(ci, CellKind::Text, &texts[ci]),
            }
        }
        r
    };
    let mut g0 = 0u64;
    while g0 < opts.groups {
        let n = batch.min(opts.groups - g0);
        let mut grows: Vec<Vec<Option<i64>>> = (0..n).map(|_| gdraw.row(&mut rng)).collect();
        for _ in 0..100 {
            let bad = failing(ir, &bound, gs.record, gs, &grows);
            if !bad.iter().any(|b| *b) {
                break;
            }
            for (i, b) in bad.iter().enumerate() {
                if *b {
                    grows[i] = gdraw.row(&mut rng);
                    report.redraws += 1;
                }
            }
        }
        let sizes: Vec<i64> = (0..n)
            .map(|_| {
                draw_alt(&mut rng, &members_synth)
                    .flatten()
                    .unwrap_or(1)
                    .max(0)
            })
            .collect();
        let mut mrows: Vec<Vec<Option<i64>>> = Vec::new();
        if let Some(md) = &mdraw {
            let total: i64 = sizes.iter().sum();
            mrows = (0..total).map(|_| md.row(&mut rng)).collect();
            for round in 0..200 {
                let bad = failing(ir, &bound, md.schema.record, md.schema, &mrows);
                if !bad.iter().any(|b| *b) {
                    break;
                }
                if round == 199 {
                    return Err(SynthError::Policy(format!(
                        "cannot draw {} records that pass their checks: give the fields `synth` declarations the checks accept",
                        prog.records
                            .get(md.schema.record as usize)
                            .map(|r| r.name.clone())
                            .unwrap_or_default()
                    )));
                }
                for (i, b) in bad.iter().enumerate() {
                    if *b {
                        mrows[i] = md.row(&mut rng);
                        report.redraws += 1;
                    }
                }
            }
        }
        let mut m = 0usize;
        for (i, gvals) in grows.iter().enumerate() {
            let gid = format!("H{:07}", ng + 1);
            let mut gtexts = vec![String::new(); gs.columns.len()];
            if let Some(k) = gs.key {
                gtexts[k] = gid.clone();
            }
            let gcells: Vec<OutCell> = gs
                .columns
                .iter()
                .enumerate()
                .map(|(ci, c)| match &c.kind {
                    ColKind::Value(ty) => cell_of(prog, ty, gvals[ci]),
                    _ => OutCell::Text(gtexts[ci].clone()),
                })
                .collect();
            gw.write_row(&gcells)?;
            if (sample_g.len() as u64) < opts.sample as u64 {
                sample_g.push(to_row(gs, gvals, &gtexts, ng + 2));
            }
            ng += 1;
            if let (Some(msch), Some((w, _, _))) = (ms, mw.as_mut()) {
                for j in 0..sizes[i] {
                    let Some(vals) = mrows.get(m) else { break };
                    m += 1;
                    let pid = format!("P{:07}-{}", ng, j + 1);
                    let mut texts = vec![String::new(); msch.columns.len()];
                    for (ci, c) in msch.columns.iter().enumerate() {
                        match c.kind {
                            ColKind::Link { .. } => texts[ci] = gid.clone(),
                            ColKind::Text if Some(ci) == msch.key => texts[ci] = pid.clone(),
                            ColKind::Text => texts[ci] = format!("{pid}-{}", c.name),
                            _ => {}
                        }
                    }
                    let cells: Vec<OutCell> = msch
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(ci, c)| match &c.kind {
                            ColKind::Value(ty) => cell_of(prog, ty, vals[ci]),
                            _ => OutCell::Text(texts[ci].clone()),
                        })
                        .collect();
                    w.write_row(&cells)?;
                    if ng <= opts.sample as u64 {
                        sample_m.push(to_row(msch, vals, &texts, nm + 2));
                    }
                    nm += 1;
                }
            }
        }
        g0 += n;
    }
    gw.finish()?;
    std::fs::rename(&gtmp, &gpath)
        .map_err(|e| FileError::new(gpath.display().to_string(), e.to_string()))?;
    report.files.push((weft_data::file_name(&gpath), ng));
    if let Some((w, path, tmp)) = mw.take() {
        w.finish()?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| FileError::new(path.display().to_string(), e.to_string()))?;
        report.files.push((weft_data::file_name(&path), nm));
    }
    // Hit rates on a sample, evaluated with the interpreter.
    if opts.sample > 0 {
        let gh: Vec<String> = gs.columns.iter().map(|c| c.name.clone()).collect();
        let mh: Vec<String> = ms
            .map(|m| m.columns.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        let ev = Interpreter::new(ir, &bound);
        let res = run_in_memory(
            ir,
            &bound,
            &ev,
            (&gh, &sample_g),
            ms.map(|_| (mh.as_slice(), sample_m.as_slice())),
        )
        .map_err(|e| SynthError::Policy(e.to_string()))?;
        let mut summary = crate::summary::Summary::new(ir);
        for (oi, rows) in res.outputs.iter().enumerate() {
            for r in rows {
                summary.add(ir, oi, r);
            }
        }
        for (pi, p) in ir.hir.programmes.iter().enumerate() {
            let rows = res
                .outputs
                .get(p.output.index())
                .map(|r| r.len() as u64)
                .unwrap_or(0);
            let rec = summary
                .programmes
                .get(pi)
                .map(|t| t.recipients)
                .unwrap_or(0);
            report.hit_rates.push((p.name.clone(), rec, rows));
        }
        let _ = Per::Once;
    }
    Ok(report)
}

/// Remove a partial output of an interrupted synth (its temporary files).
pub fn clean(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with('.') && n.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
