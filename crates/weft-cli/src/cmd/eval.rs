//! `weft eval`: one household (or record) from a JSON file.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use serde_json::Value;
use std::path::Path;
use weft::{Engine, Evaluation};

pub fn eval(
    p: &PolicyArgs,
    (as_of, rules_as_of): (&str, Option<&str>),
    input: &Path,
    format: &str,
    engine: &str,
    explain: Option<&str>,
) -> CliResult {
    let as_of = super::parse_month(as_of)?;
    let rules_as_of = rules_as_of.map(super::parse_month).transpose()?;
    if !matches!(format, "table" | "json") {
        return Err(CliError::Usage(format!(
            "unknown format `{format}`; use table or json"
        )));
    }
    let Some(engine) = Engine::from_name(engine) else {
        return Err(CliError::Usage(format!(
            "unknown engine `{engine}`; use interp or jit"
        )));
    };
    let policy = super::load(p)?;
    let text_in = weft::files::read_text(input)?;
    let json: Value = serde_json::from_str(&text_in)
        .map_err(|e| CliError::Failed(format!("{} is not valid JSON: {e}", input.display())))?;
    let Some(obj) = json.as_object() else {
        return Err(CliError::Failed(format!(
            "{} should hold an object with one key per input",
            input.display()
        )));
    };
    // Input names are checked before the month is bound.
    let inputs: Vec<String> = [policy.group_input(), policy.member_input()]
        .into_iter()
        .flatten()
        .map(|i| i.name)
        .collect();
    if let Some(k) = obj.keys().find(|k| !inputs.contains(k)) {
        return Err(weft::Error::UnknownInput {
            name: k.clone(),
            inputs,
        }
        .into());
    }
    // Explaining traces the interpreter; nothing is compiled.
    let engine = if explain.is_some() {
        Engine::Interpreter
    } else {
        engine
    };
    let eval = super::run::evaluator_with_rules(&policy, as_of, rules_as_of, engine).map_err(
        |e| match e {
            e @ weft::Error::NoParameterVersion { .. } => {
                CliError::Failed(format!("cannot evaluate this month: {e}"))
            }
            e => e.into(),
        },
    )?;
    if let Some(id) = explain {
        return explain_one(&eval, &json, id, format);
    }
    let res = eval.evaluate_json(&json)?;
    if format == "json" {
        let mut out = serde_json::Map::new();
        out.insert("as_of".into(), Value::String(as_of.to_string()));
        if let Value::Object(m) = res.to_json() {
            out.extend(m);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default()
        );
    } else {
        print_table(as_of, &res);
    }
    if res.errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Reported)
    }
}

fn print_table(as_of: weft::Month, res: &Evaluation) {
    println!("as of {as_of}");
    for o in &res.outputs {
        if o.rows.is_empty() {
            continue;
        }
        println!();
        println!("{}", o.name);
        let width = o
            .columns
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0);
        let cols: Vec<Vec<String>> = o
            .rows
            .iter()
            .map(|r| r.iter().map(|v| v.to_string()).collect())
            .collect();
        let colw: Vec<usize> = cols
            .iter()
            .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        for (ci, c) in o.columns.iter().enumerate() {
            let mut line = format!("  {c:width$}");
            for (r, w) in cols.iter().zip(&colw) {
                let v = r.get(ci).cloned().unwrap_or_default();
                let pad = w.saturating_sub(v.chars().count());
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(&v);
            }
            println!("{}", line.trim_end());
        }
    }
    if !res.errors.is_empty() {
        println!();
        println!("errors");
        for e in &res.errors {
            println!(
                "  {} #{} {}{}: {}",
                e.input,
                e.line,
                e.record_id,
                if e.column.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.column)
                },
                e.message
            );
        }
    }
}

fn explain_one(eval: &weft::Evaluator, json: &Value, id: &str, format: &str) -> CliResult {
    let e = match eval.explain_json(json, id, &[]) {
        Ok(e) => e,
        Err(e @ weft::Error::NotEvaluated { .. }) => {
            eprintln!("{e}");
            return Err(CliError::Reported);
        }
        Err(e) => return Err(e.into()),
    };
    if format == "json" {
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
