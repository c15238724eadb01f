//! What the Python package (`crates/weft-py`) and its Spark runner need
//! beyond the rest of the API: the types of the input columns, the
//! programmes (so a run's summary can be computed from its output tables),
//! the group/member link (so Spark can partition by household), and a
//! batch evaluation whose rows carry their own line numbers (so a
//! partition of a population reports the lines of the whole input, as
//! `weft run` does, in error rows and in their messages).
//!
//! Nothing here reads files or panics.

use crate::{BatchOptions, BatchResult, Error, Evaluator, Policy, RecordBatch};
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
            let out = ir.outputs.get(p.output.index())?;
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
/// number of each of its rows (`None`: the row number plus two, as `weft
/// run` numbers the rows of a CSV file with a header). Error rows and
/// messages name these lines.
pub fn evaluate_batch_lines(
    ev: &Evaluator,
    inputs: &[(&str, &RecordBatch, Option<&[u64]>)],
) -> Result<BatchResult, Error> {
    let defaults: Vec<Vec<u64>> = inputs
        .iter()
        .map(|(_, b, l)| match l {
            Some(_) => Vec::new(),
            None => (2..b.num_rows() as u64 + 2).collect(),
        })
        .collect();
    let with_lines: Vec<(&str, &RecordBatch, Option<&[u64]>)> = inputs
        .iter()
        .zip(&defaults)
        .map(|((n, b, l), d)| (*n, *b, Some(l.unwrap_or(d.as_slice()))))
        .collect();
    ev.evaluate_batch_lines(&with_lines, &BatchOptions::default())
}
