//! What the Python package (`crates/weft-py`) and its Spark runner need
//! beyond the rest of the API: the types of the input columns, the
//! programmes (so a run's summary can be computed from its output tables),
//! the group/member link (so Spark can partition by household), and a
//! batch evaluation whose rows carry their own line numbers (so a
//! partition of a population reports the lines of the whole input, as
//! `weft run` does, in error rows and in their messages).
//!
//! Nothing here reads files or panics.

use crate::{BatchResult, Error, Evaluator, Policy, RecordBatch, values};
use weft_check::ty::{Per, Ty};
use weft_data::schema::{ColKind, InputSchema};

/// An input column and the kind of value it holds: `money`, `decimal`,
/// `int`, `bool`, `date`, `duration`, `enum`, `text`, `link` (the id of
/// another record) or `other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputColumnType {
    /// The column's name in the input.
    pub name: String,
    /// The kind of value.
    pub kind: &'static str,
    /// Whether it is the record's key.
    pub key: bool,
}

fn kind_of(ty: &Ty) -> &'static str {
    match ty {
        Ty::Bool => "bool",
        Ty::Int | Ty::IntLit => "int",
        Ty::Decimal => "decimal",
        Ty::Money(_) => "money",
        Ty::Date => "date",
        Ty::Dur(_) => "duration",
        Ty::Text => "text",
        Ty::Enum(..) => "enum",
        Ty::Opt(inner) => kind_of(inner),
        _ => "other",
    }
}

/// The columns of each input, with their kinds: `(input, columns)`.
pub fn input_column_types(policy: &Policy) -> Vec<(String, Vec<InputColumnType>)> {
    InputSchema::all(&policy.inner.ir.hir)
        .into_iter()
        .map(|s| {
            let cols = s
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| InputColumnType {
                    name: c.name.clone(),
                    kind: match &c.kind {
                        ColKind::Link { .. } => "link",
                        ColKind::Text => "text",
                        ColKind::Value(t) => kind_of(t),
                    },
                    key: s.key == Some(i),
                })
                .collect();
            (s.input, cols)
        })
        .collect()
}

/// A programme of the policy and where its amounts are in the outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeColumns {
    /// The programme's name.
    pub name: String,
    /// Its display name, if declared.
    pub display: Option<String>,
    /// The output holding its amounts.
    pub output: String,
    /// Its money columns and their period: `once`, `month` or `year`.
    pub amounts: Vec<(String, &'static str)>,
    /// The boolean column saying who receives it (otherwise: anyone with a
    /// positive amount).
    pub recipients: Option<String>,
}

/// The programmes, as a run's summary counts them.
pub fn programmes(policy: &Policy) -> Vec<ProgrammeColumns> {
    let ir = &policy.inner.ir;
    ir.hir
        .programmes
        .iter()
        .filter_map(|p| {
            let out = ir.outputs.get(p.output)?;
            let col = |i: usize| out.columns.get(i);
            let amounts = p
                .amounts
                .iter()
                .filter_map(|&a| {
                    let c = col(a)?;
                    let per = match &c.ty {
                        Ty::Money(p) => *p,
                        Ty::Opt(inner) => match **inner {
                            Ty::Money(p) => p,
                            _ => return None,
                        },
                        _ => return None,
                    };
                    let per = match per {
                        Per::Month => "month",
                        Per::Year => "year",
                        _ => "once",
                    };
                    Some((c.name.clone(), per))
                })
                .collect();
            Some(ProgrammeColumns {
                name: p.name.clone(),
                display: p.display.clone(),
                output: out.name.clone(),
                amounts,
                recipients: p.recipients.and_then(col).map(|c| c.name.clone()),
            })
        })
        .collect()
}

/// How members belong to groups: the group input and its key column, the
/// member input and its column naming the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// The group input (`households`).
    pub group_input: String,
    /// Its key column (`household_id`).
    pub group_key: String,
    /// The member input (`persons`).
    pub member_input: String,
    /// The member column holding the group's key (`household_id`).
    pub member_link: String,
}

/// The policy's group/member link, if it has one.
pub fn hierarchy(policy: &Policy) -> Option<Hierarchy> {
    let ir = &policy.inner.ir;
    let (g, m) = ir.hierarchy()?;
    let schemas = InputSchema::all(&ir.hir);
    let gs = schemas.get(g as usize)?;
    let ms = schemas.get(m as usize)?;
    let group_key = gs.columns.get(gs.key?)?.name.clone();
    let member_link = ms
        .columns
        .iter()
        .find(|c| matches!(c.kind, ColKind::Link { target } if target == g))?
        .name
        .clone();
    Some(Hierarchy {
        group_input: gs.input.clone(),
        group_key,
        member_input: ms.input.clone(),
        member_link,
    })
}

/// Like [`Evaluator::evaluate_batch`], but each input may give the line
/// number of each of its rows (`None`: the row number plus one, as if a
/// header were line 1, which is what `weft run` reports for a CSV or
/// Parquet file). Error rows and messages name these lines.
pub fn evaluate_batch_lines(
    ev: &Evaluator,
    inputs: &[(&str, &RecordBatch, Option<&[u64]>)],
) -> Result<BatchResult, Error> {
    let (g, m) = ev.inputs();
    for (n, _, _) in inputs {
        if *n != g && Some(*n) != m.as_deref() {
            return Err(Error::Input(format!("the policy has no input `{n}`")));
        }
    }
    let table = |name: &str| -> Result<super::Table, Error> {
        let (_, b, lines) = inputs
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| Error::Input(format!("the batch needs the input `{name}`")))?;
        let mut t = weft_data::parquetio::rows_of_batch(b, 2);
        if let Some(lines) = lines {
            if lines.len() != t.1.len() {
                return Err(Error::Input(format!(
                    "the input `{name}` has {} rows but {} line numbers",
                    t.1.len(),
                    lines.len()
                )));
            }
            for (r, l) in t.1.iter_mut().zip(lines.iter()) {
                r.line = *l;
            }
        }
        for r in &t.1 {
            for (c, h) in r.cells.iter().zip(&t.0) {
                if c.kind == weft_data::cell::CellKind::Float {
                    return Err(Error::Input(format!(
                        "the column `{h}` of `{name}` holds floating-point numbers; money must be exact (Decimal128 with scale ≤ 2, or text)"
                    )));
                }
            }
        }
        Ok(t)
    };
    let gt = table(&g)?;
    let mt = match &m {
        Some(m) => Some(table(m)?),
        None => None,
    };
    let res = ev.run(&gt, mt.as_ref())?;
    let ir = &ev.policy.inner.ir;
    let mut outputs = Vec::new();
    for (o, rows) in ir.outputs.iter().zip(&res.outputs) {
        let cols: Vec<(String, weft_data::OutType)> = o
            .columns
            .iter()
            .map(|c| (c.name.clone(), values::out_type(&c.ty)))
            .collect();
        let mut b = weft_data::parquetio::BatchBuilder::new(&cols).map_err(Error::Input)?;
        for r in rows {
            b.push(r).map_err(Error::Input)?;
        }
        outputs.push((o.name.clone(), b.finish().map_err(Error::Input)?));
    }
    use weft_data::{OutCell, OutType};
    let ecols: Vec<(String, OutType)> = [
        ("input", OutType::Text),
        ("line", OutType::Int),
        ("record_id", OutType::Text),
        ("column", OutType::Text),
        ("message", OutType::Text),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), *t))
    .collect();
    let mut eb = weft_data::parquetio::BatchBuilder::new(&ecols).map_err(Error::Input)?;
    for (f, l, id, c, msg) in &res.errors {
        eb.push(&[
            OutCell::Text(f.clone()),
            OutCell::Int(i64::try_from(*l).unwrap_or(i64::MAX)),
            OutCell::Text(id.clone()),
            OutCell::Text(c.clone()),
            OutCell::Text(msg.clone()),
        ])
        .map_err(Error::Input)?;
    }
    Ok(BatchResult {
        outputs,
        errors: eb.finish().map_err(Error::Input)?,
    })
}
