//! `weft explain`: why one record's outputs are what they are.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use std::path::PathBuf;
use weft::explain::{ExplainOutcome, RecordRef};

#[derive(clap::Args, Clone)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated, YYYY-MM.
    #[arg(long = "as-of")]
    pub as_of: String,
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
    // The tracing interpreter explains; nothing is compiled.
    let outcome = match policy.explain_files(as_of, &inputs, &record, &a.output) {
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

/// An error row as a line: `file id (column): message`.
fn error_line(file: &str, id: &str, column: &str, message: &str) -> String {
    if column.is_empty() {
        format!("{file} {id}: {message}")
    } else {
        format!("{file} {id} ({column}): {message}")
    }
}
