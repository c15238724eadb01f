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
        self.explain_files_with_rules(as_of, as_of, inputs, record, columns)
    }

    /// [`Policy::explain_files`] with the rules, parameters and series in
    /// force in `rules_as_of` (see [`Policy::evaluator_with_rules`]).
    pub fn explain_files_with_rules(
        &self,
        as_of: Month,
        rules_as_of: Month,
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
        let eval = self.evaluator_with_rules(as_of, rules_as_of, Engine::Interpreter)?;
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

/// One side of an explained change: a month, and the month of the rules
/// in force (the same, unless `--rules-as-of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    /// The month evaluated (the population's dates: ages, births).
    pub as_of: Month,
    /// The month whose rules, parameters and series are in force.
    pub rules_as_of: Month,
}

/// Why a record's outputs differ between two situations.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExplainedChange {
    /// The explanation before.
    pub before: Explanation,
    /// The explanation after.
    pub after: Explanation,
    /// `(what, before, after)` of every value on either path that differs:
    /// outputs, rules' values, inputs, parameters (a value on one side
    /// only has `None` on the other).
    pub values_changed: Vec<(String, Option<String>, Option<String>)>,
    /// The parameters whose version or values differ.
    pub parameters_changed: Vec<crate::run::ParameterChange>,
    /// The rules whose version in force differs (`from` clauses).
    pub rules_changed: Vec<String>,
}

impl ExplainedChange {
    /// As text: what moved, then the explanation after.
    pub fn to_text(&self) -> String {
        let b = &self.before.inner;
        let a = &self.after.inner;
        let mut s = format!(
            "{} {}: {} → {}\n",
            a.record_kind, a.record, b.as_of, a.as_of
        );
        s.push_str("\nvalues that differ:\n");
        if self.values_changed.is_empty() {
            s.push_str("  none\n");
        }
        for (what, x, y) in &self.values_changed {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not used)".into());
            s.push_str(&format!("  {what}: {} → {}\n", show(x), show(y)));
        }
        if !self.parameters_changed.is_empty() {
            s.push_str("\nparameters that differ:\n");
            for p in &self.parameters_changed {
                let side = |v: &Option<crate::run::ParameterVersion>| match v {
                    Some(v) => format!("{} (from {}, {})", v.value, v.effective, v.origin),
                    None => "not used".into(),
                };
                s.push_str(&format!(
                    "  {}\n    before: {}\n    after:  {}\n",
                    p.name,
                    side(&p.before),
                    side(&p.after)
                ));
            }
        }
        if !self.rules_changed.is_empty() {
            s.push_str(&format!(
                "\nrules with another version in force: {}\n",
                self.rules_changed.join(", ")
            ));
        }
        s.push_str("\nafter:\n");
        s.push_str(&self.after.to_text());
        s
    }

    /// As JSON: `{"before", "after", "values_changed", "parameters_changed",
    /// "rules_changed"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "values_changed": self.values_changed.iter().map(|(w, b, a)| serde_json::json!({"what": w, "before": b, "after": a})).collect::<Vec<_>>(),
            "parameters_changed": self.parameters_changed,
            "rules_changed": self.rules_changed,
        })
    }
}

impl Policy {
    /// Explain how one record's outputs change between two situations
    /// (`weft explain --as-of A --as-of-after B`): both explanations, the
    /// values on their paths that differ (ages, rules' values, outputs),
    /// the parameters and the rules whose versions differ. `after` may be
    /// another version of the policy (an overlay).
    pub fn explain_change(
        &self,
        before: Side,
        after: (&Policy, Side),
        inputs: &[(String, PathBuf)],
        record: &RecordRef,
        columns: &[String],
    ) -> Result<ExplainOutcome2, Error> {
        let b = self.explain_files_with_rules(
            before.as_of,
            before.rules_as_of,
            inputs,
            record,
            columns,
        )?;
        let a = after.0.explain_files_with_rules(
            after.1.as_of,
            after.1.rules_as_of,
            inputs,
            record,
            columns,
        )?;
        let (b, a) = match (b, a) {
            (ExplainOutcome::Explained(b), ExplainOutcome::Explained(a)) => (b, a),
            (ExplainOutcome::NotEvaluated(n), _) => {
                return Ok(ExplainOutcome2::NotEvaluated(true, n));
            }
            (_, ExplainOutcome::NotEvaluated(n)) => {
                return Ok(ExplainOutcome2::NotEvaluated(false, n));
            }
        };
        let eb =
            self.evaluator_with_rules(before.as_of, before.rules_as_of, Engine::Interpreter)?;
        let ea = after.0.evaluator_with_rules(
            after.1.as_of,
            after.1.rules_as_of,
            Engine::Interpreter,
        )?;
        let parameters_changed = crate::report::DiffReport::of(weft_engine::diff::DiffReport {
            parameters_changed: weft_engine::diff::parameters_changed(
                (eb.ir(), eb.bound()),
                (ea.ir(), ea.bound()),
            ),
            ..Default::default()
        })
        .parameters_changed;
        let vb = weft_engine::explain::values(&b.inner);
        let va = weft_engine::explain::values(&a.inner);
        // The parameters on either path only.
        let on_path = |name: &str| {
            vb.iter()
                .chain(va.iter())
                .any(|(w, _)| w == name || w.strip_prefix(name).is_some_and(|r| r.starts_with('[')))
        };
        let parameters_changed: Vec<crate::run::ParameterChange> = parameters_changed
            .into_iter()
            .filter(|p| on_path(&p.name))
            .collect();
        // Rules whose chosen body differs (same program only).
        let mut rules_changed: Vec<String> = Vec::new();
        if eb.ir().instances.len() == ea.ir().instances.len() {
            for (i, inst) in eb.ir().instances.iter().enumerate() {
                let (x, y) = (eb.bound().body.get(i), ea.bound().body.get(i));
                if x != y && inst.versions.len() > 1 && !rules_changed.contains(&inst.name) {
                    rules_changed.push(inst.name.clone());
                }
            }
        }
        let mut values_changed = Vec::new();
        for (w, x) in &vb {
            let y = va.iter().find(|(v, _)| v == w).map(|(_, y)| y.clone());
            if y.as_ref() != Some(x) {
                values_changed.push((w.clone(), Some(x.clone()), y));
            }
        }
        for (w, y) in &va {
            if !vb.iter().any(|(v, _)| v == w) {
                values_changed.push((w.clone(), None, Some(y.clone())));
            }
        }
        Ok(ExplainOutcome2::Explained(Box::new(ExplainedChange {
            before: b,
            after: a,
            values_changed,
            parameters_changed,
            rules_changed,
        })))
    }
}

/// What explaining a change gives.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ExplainOutcome2 {
    /// Both sides evaluated.
    Explained(Box<ExplainedChange>),
    /// One side was not (true: the side before).
    NotEvaluated(bool, NotEvaluated),
}
