//! `weft explain`: why one record's outputs are what they are.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use std::path::PathBuf;
use weft::explain::{ExplainOutcome, ExplainOutcome2, RecordRef, Side};

#[derive(clap::Args, Clone)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated, YYYY-MM.
    #[arg(long = "as-of")]
    pub as_of: String,
    /// Evaluate under the rules, parameters and series in force in this
    /// month (YYYY-MM), the population as of --as-of (with --as-of-after:
    /// the side before).
    #[arg(long = "rules-as-of", value_name = "YYYY-MM")]
    pub rules_as_of: Option<String>,
    /// Explain the change from --as-of to this month: the values, inputs
    /// (ages), parameters and rules that differ, then the explanation
    /// after.
    #[arg(long = "as-of-after", value_name = "YYYY-MM")]
    pub as_of_after: Option<String>,
    /// An input file: `NAME=FILE` (`--persons FILE` means the same).
    #[arg(long = "input", value_name = "NAME=FILE")]
    pub input: Vec<String>,
    /// The id of a person or household, when it names only one.
    #[arg(long)]
    pub id: Option<String>,
    /// The id of a member record (a person).
    #[arg(long)]
    pub person: Option<String>,
    /// The id of a group record (a household).
    #[arg(long)]
    pub household: Option<String>,
    /// Explain only these output columns.
    #[arg(long = "output")]
    pub output: Vec<String>,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    pub format: String,
}

pub fn explain(a: &ExplainArgs) -> CliResult {
    let as_of = super::parse_month(&a.as_of)?;
    let rules_as_of = a
        .rules_as_of
        .as_deref()
        .map(super::parse_month)
        .transpose()?;
    let as_of_after = a
        .as_of_after
        .as_deref()
        .map(super::parse_month)
        .transpose()?;
    if a.format != "text" && a.format != "json" {
        return Err(CliError::Usage(format!(
            "unknown format `{}`; use text or json",
            a.format
        )));
    }
    super::input_specs(&a.input)?;
    let policy = super::load(&a.policy)?;
    let inputs: Vec<(String, PathBuf)> = a
        .input
        .iter()
        .filter_map(|s| s.split_once('='))
        .map(|(n, p)| (n.to_string(), PathBuf::from(p)))
        .collect();
    // Both files first, then which record: as before the API took over.
    for input in [policy.group_input(), policy.member_input()]
        .into_iter()
        .flatten()
    {
        if !inputs.iter().any(|(n, _)| *n == input.name) {
            let name = &input.name;
            return Err(CliError::Usage(format!(
                "give the `{name}` file with `--{name} FILE`"
            )));
        }
    }
    let record = match (&a.person, &a.household, &a.id) {
        (Some(p), None, None) => RecordRef::Member(p.clone()),
        (None, Some(h), None) => RecordRef::Group(h.clone()),
        (None, None, Some(i)) => RecordRef::Id(i.clone()),
        _ => {
            return Err(CliError::Usage(
                "name the record with one of --id, --person or --household".into(),
            ));
        }
    };
    if let Some(after) = as_of_after {
        return explain_change(a, &policy, (as_of, rules_as_of, after), &inputs, &record);
    }
    // The tracing interpreter explains; nothing is compiled.
    let rules = rules_as_of.unwrap_or(as_of);
    let outcome = match policy.explain_files_with_rules(as_of, rules, &inputs, &record, &a.output) {
        Ok(o) => o,
        Err(weft::Error::MissingInput { input }) => {
            return Err(CliError::Usage(format!(
                "give the `{input}` file with `--{input} FILE`"
            )));
        }
        Err(e @ weft::Error::AmbiguousId { .. }) => {
            return Err(CliError::Usage(format!(
                "{e}: say which with --household or --person"
            )));
        }
        Err(e @ weft::Error::UnknownOutputColumn { .. }) => {
            return Err(CliError::Usage(e.to_string()));
        }
        Err(e @ weft::Error::NoParameterVersion { .. }) => {
            return Err(CliError::Failed(format!("cannot evaluate {as_of}: {e}")));
        }
        Err(e) => return Err(e.into()),
    };
    let e = match outcome {
        ExplainOutcome::Explained(e) => e,
        ExplainOutcome::NotEvaluated(n) => {
            not_evaluated(a, &n);
            return Err(CliError::Reported);
        }
        _ => return Err(CliError::Reported),
    };
    if a.format == "json" {
        println!("{}", e.to_json_pretty());
    } else {
        print!("{}", e.to_text());
    }
    if e.rejected().is_some() {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

/// `--as-of-after`: explain a change.
fn explain_change(
    a: &ExplainArgs,
    policy: &weft::Policy,
    (as_of, rules, after): (weft::Month, Option<weft::Month>, weft::Month),
    inputs: &[(String, PathBuf)],
    record: &RecordRef,
) -> CliResult {
    let before = Side {
        as_of,
        rules_as_of: rules.unwrap_or(as_of),
    };
    let after_side = Side {
        as_of: after,
        rules_as_of: after,
    };
    let outcome = policy
        .explain_change(before, (policy, after_side), inputs, record, &a.output)
        .map_err(|e| match e {
            e @ (weft::Error::AmbiguousId { .. } | weft::Error::UnknownOutputColumn { .. }) => {
                CliError::Usage(e.to_string())
            }
            e => e.into(),
        })?;
    match outcome {
        ExplainOutcome2::Explained(c) => {
            if a.format == "json" {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&c.to_json()).unwrap_or_default()
                );
            } else {
                print!("{}", c.to_text());
            }
            Ok(())
        }
        ExplainOutcome2::NotEvaluated(side, n) => {
            eprintln!("as of {}:", if side { as_of } else { after });
            not_evaluated(a, &n);
            Err(CliError::Reported)
        }
        _ => Err(CliError::Reported),
    }
}

/// Why a record was not evaluated, on stderr.
fn not_evaluated(a: &ExplainArgs, n: &weft::explain::NotEvaluated) {
    match &n.rejected_group {
        Some((word, gid)) => eprintln!("the {word} {gid} is rejected and not evaluated:"),
        None => {
            let id = a
                .person
                .as_ref()
                .or(a.id.as_ref())
                .cloned()
                .unwrap_or_default();
            eprintln!("the record {id} is left out of the evaluation:");
        }
    }
    for r in &n.errors {
        eprintln!(
            "  {}",
            error_line(&r.input, &r.record_id, &r.column, &r.message)
        );
    }
}

/// An error row as a line: `file id (column): message`.
fn error_line(file: &str, id: &str, column: &str, message: &str) -> String {
    if column.is_empty() {
        format!("{file} {id}: {message}")
    } else {
        format!("{file} {id} ({column}): {message}")
    }
}
