//! Explaining one record of a population held in files (`weft explain`):
//! only the record's group is read into memory and evaluated, by the
//! tracing interpreter.

use crate::{Engine, Error, Explanation, Month, Policy};
use std::path::{Path, PathBuf};
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{Format, Row, open_reader};
use weft_engine::rows::{Group, build_chunk};
use weft_engine::run::{check_groups, prepare_in_memory};

/// Which record to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordRef {
    /// A member record (a person) by its id.
    Member(String),
    /// A group record (a household) by its id.
    Group(String),
    /// A record by its id, when the id names only one.
    Id(String),
}

/// A record that was not evaluated, with the error rows saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotEvaluated {
    /// The record's group was rejected as a whole (its kind and id:
    /// `household`, `H1`); otherwise the record alone was left out.
    pub rejected_group: Option<(String, String)>,
    /// The error rows.
    pub errors: Vec<crate::ErrorRow>,
}

/// What explaining a record gives.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ExplainOutcome {
    /// The record was evaluated: why its outputs are what they are.
    Explained(Explanation),
    /// The record (or its group) was not evaluated.
    NotEvaluated(NotEvaluated),
}

struct Loaded {
    header: Vec<String>,
    rows: Vec<Row>,
}

/// Rows of `schema`'s file whose column `col` is one of `ids`.
fn rows_where(
    path: &Path,
    schema: &InputSchema,
    col: usize,
    ids: &[String],
) -> Result<Loaded, Error> {
    let format = Format::from_path(path)
        .ok_or_else(|| Error::Run(format!("cannot tell the format of {}", path.display())))?;
    let mut rdr = open_reader(path, format).map_err(|e| Error::Run(e.to_string()))?;
    let header = rdr.header().to_vec();
    let name = schema
        .columns
        .get(col)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let at = header
        .iter()
        .position(|h| *h == name)
        .ok_or_else(|| Error::Run(format!("{}: no column `{name}`", path.display())))?;
    let mut rows = Vec::new();
    let mut row = Row::default();
    while rdr
        .next_row(&mut row)
        .map_err(|e| Error::Run(e.to_string()))?
    {
        if ids.iter().any(|i| i == row.text(at).trim()) {
            rows.push(row.clone());
        }
    }
    Ok(Loaded { header, rows })
}

impl Policy {
    /// Explain one record of a population held in files (`(input name,
    /// path)`, the format by extension) as of a month: the rules, table
    /// rows, exceptions, parameters and values that decided its outputs
    /// (the reference interpreter traces the evaluation). Only the
    /// record's group is read into memory. `columns` limits the output
    /// columns explained (none: all).
    pub fn explain_files(
        &self,
        as_of: Month,
        inputs: &[(String, PathBuf)],
        record: &RecordRef,
        columns: &[String],
    ) -> Result<ExplainOutcome, Error> {
        let ir = self.ir();
        let schemas = InputSchema::all(&ir.hir);
        let plan = weft_engine::run::plan_for(ir)?;
        let plan = &plan;
        let gs = schemas
            .get(plan.group.0 as usize)
            .ok_or_else(|| Error::Input("the policy has no group record".into()))?;
        let ms = plan
            .member
            .as_ref()
            .and_then(|(m, _)| schemas.get(*m as usize));
        let file_of = |input: &str| -> Option<PathBuf> {
            inputs
                .iter()
                .find(|(n, _)| n == input)
                .map(|(_, p)| p.clone())
        };
        let gpath = file_of(&gs.input).ok_or_else(|| Error::MissingInput {
            input: gs.input.clone(),
        })?;
        let mpath = ms.and_then(|m| file_of(&m.input));
        if let (Some(m), None) = (ms, &mpath) {
            return Err(Error::MissingInput {
                input: m.input.clone(),
            });
        }
        let gkey = gs.key.unwrap_or(0);
        let mkey = ms.and_then(|m| m.key).unwrap_or(0);
        let mlink = ms
            .and_then(|m| {
                m.columns
                    .iter()
                    .position(|c| matches!(c.kind, ColKind::Link { .. }))
            })
            .unwrap_or(0);
        let (want_member, id) = match record {
            RecordRef::Member(p) => (true, p.clone()),
            RecordRef::Group(h) => (false, h.clone()),
            RecordRef::Id(i) => {
                let is_group = rows_where(&gpath, gs, gkey, std::slice::from_ref(i))
                    .map(|l| !l.rows.is_empty())
                    .unwrap_or(false);
                let is_member = match (ms, &mpath) {
                    (Some(m), Some(p)) => rows_where(p, m, mkey, std::slice::from_ref(i))
                        .map(|l| !l.rows.is_empty())
                        .unwrap_or(false),
                    _ => false,
                };
                match (is_group, is_member) {
                    (true, true) => {
                        return Err(Error::AmbiguousId {
                            id: i.clone(),
                            group: gs.input.clone(),
                            member: ms.map(|m| m.input.clone()).unwrap_or_default(),
                        });
                    }
                    (false, false) => return Err(Error::NoSuchRecord { id: i.clone() }),
                    (g, _) => (!g, i.clone()),
                }
            }
        };
        // The group's id.
        let gid = match (want_member, ms, &mpath) {
            (false, _, _) => id.clone(),
            (true, Some(m), Some(p)) => {
                let l = rows_where(p, m, mkey, std::slice::from_ref(&id))?;
                let link = m.columns.get(mlink).map(|c| c.name.as_str()).unwrap_or("");
                match (l.rows.first(), l.header.iter().position(|h| h == link)) {
                    (Some(r), Some(at)) => r.text(at).trim().to_string(),
                    _ => return Err(Error::Run(format!("no {} has the id `{id}`", m.input))),
                }
            }
            (true, _, _) => return Err(Error::NoSuchRecord { id }),
        };
        let g = rows_where(&gpath, gs, gkey, std::slice::from_ref(&gid))?;
        if g.rows.is_empty() {
            return Err(Error::Run(format!("no {} has the id `{gid}`", gs.input)));
        }
        let m = match (ms, &mpath) {
            (Some(m), Some(p)) => Some(rows_where(p, m, mlink, std::slice::from_ref(&gid))?),
            _ => None,
        };
        // Bound once the record is found (as `weft explain` always did).
        let eval = self.evaluator(as_of, Engine::Interpreter)?;
        let prepared = prepare_in_memory(
            ir,
            (&g.header, &g.rows),
            m.as_ref().map(|l| (l.header.as_slice(), l.rows.as_slice())),
        )?;
        let (keep, mut errors) = check_groups(ir, eval.bound(), prepared.groups)?;
        errors.extend(prepared.errors);
        let errors: Vec<crate::ErrorRow> = errors
            .into_iter()
            .map(crate::ErrorRow::from_cells)
            .collect();
        let Some(group) = keep.into_iter().next() else {
            let word = ir
                .hir
                .records
                .get(gs.record as usize)
                .map(|r| r.name.to_lowercase())
                .unwrap_or_else(|| gs.input.clone());
            return Ok(ExplainOutcome::NotEvaluated(NotEvaluated {
                rejected_group: Some((word, gid)),
                errors,
            }));
        };
        let (rec, row) = if want_member {
            match group.members.iter().position(|x| x.id == id) {
                Some(i) => (ms.map(|m| m.record).unwrap_or(0), i),
                None => {
                    return Ok(ExplainOutcome::NotEvaluated(NotEvaluated {
                        rejected_group: None,
                        errors: errors.into_iter().filter(|e| e.record_id == id).collect(),
                    }));
                }
            }
        } else {
            (gs.record, 0)
        };
        let groups: Vec<Group> = vec![group];
        let refs: Vec<&Group> = groups.iter().collect();
        let chunk = build_chunk(&ir.hir, gs, ms, &refs);
        let inner = weft_engine::explain::explain(
            ir,
            eval.bound(),
            &chunk,
            plan,
            (rec, row),
            columns,
            Some(self.sources()),
        );
        if !columns.is_empty() && inner.outputs.is_empty() {
            return Err(Error::UnknownOutputColumn {
                columns: columns.to_vec(),
            });
        }
        Ok(ExplainOutcome::Explained(Explanation { inner }))
    }
}
