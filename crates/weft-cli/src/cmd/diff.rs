//! `weft diff`: two situations over one population.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use std::path::PathBuf;
use weft::run::{DiffConfig, Format};

#[derive(clap::Args, Clone)]
pub struct DiffArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated before, YYYY-MM.
    #[arg(long = "as-of")]
    pub as_of: String,
    /// Evaluate the side before under the rules, parameters and series in
    /// force in this month (YYYY-MM), the population as of --as-of: with
    /// `--as-of M --rules-as-of M0 --as-of-after M` the diff shows what the
    /// policy changed between M0 and M alone (no ages, no births).
    #[arg(long = "rules-as-of", value_name = "YYYY-MM")]
    pub rules_as_of: Option<String>,
    /// The month evaluated after (default: the same month).
    #[arg(long = "as-of-after")]
    pub as_of_after: Option<String>,
    /// Parameter files (or directories) that overlay the parameters after.
    #[arg(long = "params-after", value_name = "FILE_OR_DIR")]
    pub params_after: Vec<PathBuf>,
    /// Another version of the policy pack, evaluated after.
    #[arg(long = "policy-after", value_name = "DIR")]
    pub policy_after: Option<PathBuf>,
    /// An input file: `NAME=FILE` (`--persons FILE` means the same).
    #[arg(long = "input", value_name = "NAME=FILE")]
    pub input: Vec<String>,
    /// The enum field to break results down by (default: `region` if the
    /// records have it).
    #[arg(long)]
    pub by: Option<String>,
    /// Write every changed cell (output, record_id, column, before, after)
    /// to this CSV file.
    #[arg(long)]
    pub changes: Option<PathBuf>,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Write a self-contained HTML report with charts.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// `jit` (default when available) or `interp`.
    #[arg(long)]
    pub engine: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn diff(a: &DiffArgs) -> CliResult {
    if a.as_of.contains("..") {
        return diff_range(a);
    }
    let as_of = super::parse_month(&a.as_of)?;
    let as_of_after = match &a.as_of_after {
        Some(m) => super::parse_month(m)?,
        None => as_of,
    };
    if a.format != "text" && a.format != "json" {
        return Err(CliError::Usage(format!(
            "unknown format `{}`; use text or json",
            a.format
        )));
    }
    let rules_as_of = a
        .rules_as_of
        .as_deref()
        .map(super::parse_month)
        .transpose()?;
    if a.as_of_after.is_none()
        && a.params_after.is_empty()
        && a.policy_after.is_none()
        && rules_as_of.is_none()
    {
        return Err(CliError::Usage(
            "say what changes after: --as-of-after, --params-after or --policy-after".into(),
        ));
    }
    if let Some(h) = a.html.as_ref().filter(|h| h.is_dir()) {
        return Err(CliError::Usage(format!(
            "--html {} is a directory; give the report's file name (e.g. {})",
            h.display(),
            h.join("diff.html").display()
        )));
    }
    let specs = super::input_specs(&a.input)?;
    super::init_threads(None)?;
    let before = super::load(&a.policy)?;
    let after_args = PolicyArgs {
        policy: a
            .policy_after
            .clone()
            .unwrap_or_else(|| a.policy.policy.clone()),
        params: a
            .policy
            .params
            .iter()
            .chain(a.params_after.iter())
            .cloned()
            .collect(),
    };
    let after = if a.params_after.is_empty() && a.policy_after.is_none() {
        before.clone()
    } else {
        super::load(&after_args)?
    };
    let engine = super::engine(
        a.engine.as_deref(),
        &[(&before, as_of), (&after, as_of_after)],
    )?;
    let eval_b = match rules_as_of {
        Some(r) => super::run::evaluator_with_rules(&before, as_of, Some(r), engine).map_err(
            |e| match e {
                e @ weft::Error::NoParameterVersion { .. } => CliError::Failed(format!(
                    "cannot evaluate {as_of} under the rules of {r}: {e}"
                )),
                e => e.into(),
            },
        )?,
        None => super::evaluator(&before, as_of, engine)?,
    };
    // Only parameter values change: the compiled program is shared.
    let eval_a = if as_of_after == as_of && rules_as_of.is_none() {
        eval_b.rebind(&after).map_err(|e| match e {
            e @ weft::Error::NoParameterVersion { .. } => {
                CliError::Failed(format!("cannot evaluate {as_of_after}: {e}"))
            }
            e => e.into(),
        })?
    } else {
        super::evaluator(&after, as_of_after, engine)?
    };
    let describe =
        |p: &PolicyArgs, d: weft::Month, extra: &[PathBuf], rules: Option<weft::Month>| {
            let mut s = format!("{} as of {d}", p.policy.display());
            if let Some(r) = rules {
                s.push_str(&format!(" under the rules of {r}"));
            }
            for x in extra {
                s.push_str(&format!(" with {}", x.display()));
            }
            s
        };
    let mut config = DiffConfig::new()
        .by(a.by.clone())
        .changes(a.changes.as_deref())
        .labels(
            describe(&a.policy, as_of, &[], rules_as_of),
            describe(&after_args, as_of_after, &a.params_after, None),
        );
    for (name, path) in specs {
        let Some(format) = Format::from_path(&path) else {
            return Err(CliError::Usage(format!(
                "cannot tell the format of {} from its extension",
                path.display()
            )));
        };
        config = config.input(&name, path, format);
    }
    let t = std::time::Instant::now();
    // (Unlike `weft run`, no `help:` line for a missing input.)
    let progress = super::run::Bar::new(a.quiet);
    let result = weft::run::diff_with_progress(&eval_b, &eval_a, &config, &progress);
    progress.finish();
    let report = result.map_err(|e| match e {
        e @ weft::Error::MissingInput { .. } => CliError::Usage(e.to_string()),
        e => CliError::from(e),
    })?;
    if a.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        );
    } else {
        print!("{}", report.to_text());
        eprintln!(
            "(both sides evaluated in one pass in {:.1} s)",
            t.elapsed().as_secs_f64()
        );
    }
    if let Some(h) = &a.html {
        let page = super::diff_html::page(&report);
        // Whole or not at all: a temporary file beside it, renamed.
        weft::files::write_atomic(h, page.as_bytes())?;
        eprintln!("report written to {}", h.display());
    }
    Ok(())
}

/// `--as-of A..B`: each month compared, then each programme totalled over
/// the range on both sides (the rule of `weft run` over a range).
fn diff_range(a: &DiffArgs) -> CliResult {
    let months = weft::run::parse_months(&a.as_of)?;
    if a.as_of_after.is_some() || a.html.is_some() || a.changes.is_some() {
        return Err(CliError::Usage(
            "over a range of months, compare other parameters or another policy (--params-after, --policy-after, --rules-as-of), without --as-of-after, --html or --changes".into(),
        ));
    }
    if a.format != "text" && a.format != "json" {
        return Err(CliError::Usage(format!(
            "unknown format `{}`; use text or json",
            a.format
        )));
    }
    let rules_as_of = a
        .rules_as_of
        .as_deref()
        .map(super::parse_month)
        .transpose()?;
    if a.params_after.is_empty() && a.policy_after.is_none() && rules_as_of.is_none() {
        return Err(CliError::Usage(
            "say what changes after: --params-after, --policy-after or --rules-as-of".into(),
        ));
    }
    let specs = super::input_specs(&a.input)?;
    super::init_threads(None)?;
    let before = super::load(&a.policy)?;
    let after_args = PolicyArgs {
        policy: a
            .policy_after
            .clone()
            .unwrap_or_else(|| a.policy.policy.clone()),
        params: a
            .policy
            .params
            .iter()
            .chain(a.params_after.iter())
            .cloned()
            .collect(),
    };
    let after = if a.params_after.is_empty() && a.policy_after.is_none() {
        before.clone()
    } else {
        super::load(&after_args)?
    };
    let first = months
        .first()
        .copied()
        .ok_or_else(|| CliError::Usage("no month".into()))?;
    let engine = super::engine(a.engine.as_deref(), &[(&before, first), (&after, first)])?;
    let progress = super::run::Bar::new(a.quiet);
    let mut reports = Vec::new();
    for (i, m) in months.iter().enumerate() {
        progress.start(&format!("{m} ({}/{}) ", i + 1, months.len()));
        let eval_b = super::run::evaluator_with_rules(&before, *m, rules_as_of, engine)?;
        let eval_a = super::evaluator(&after, *m, engine)?;
        let mut config = DiffConfig::new()
            .by(a.by.clone())
            .labels(format!("{m} before"), format!("{m} after"));
        for (name, path) in &specs {
            let Some(format) = Format::from_path(path) else {
                return Err(CliError::Usage(format!(
                    "cannot tell the format of {} from its extension",
                    path.display()
                )));
            };
            config = config.input(name, path.clone(), format);
        }
        let r = weft::run::diff_with_progress(&eval_b, &eval_a, &config, &progress);
        reports.push((*m, r?));
    }
    progress.finish();
    let refs: Vec<&weft::run::DiffReport> = reports.iter().map(|(_, r)| r).collect();
    let b = weft::run::RangeTotals::of_diffs(&refs, false);
    let af = weft::run::RangeTotals::of_diffs(&refs, true);
    if a.format == "json" {
        let progs: Vec<serde_json::Value> = b
            .iter()
            .zip(&af)
            .map(|(x, y)| {
                let side = |t: &weft::run::RangeTotals| {
                    serde_json::json!({
                        "recipients": t.recipient_months,
                        "total_per_month": weft::run::format_yuan_exact(t.per_month),
                        "total_per_year": weft::run::format_yuan_exact(t.per_year),
                        "total_once": weft::run::format_yuan_exact(t.once),
                        "total": weft::run::format_yuan_exact(t.total()),
                    })
                };
                serde_json::json!({
                    "programme": x.name,
                    "name": x.display,
                    "before": side(x),
                    "after": side(y),
                    "difference": weft::run::format_yuan_exact(y.total() - x.total()),
                })
            })
            .collect();
        let v = serde_json::json!({
            "as_of": a.as_of.trim(),
            "months": reports.iter().map(|(m, r)| serde_json::json!({"as_of": m.to_string(), "report": r.to_json()})).collect::<Vec<_>>(),
            "programmes": progs,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(());
    }
    println!(
        "weft diff over {} ({} months): {}{}  →  {}",
        a.as_of.trim(),
        months.len(),
        a.policy.policy.display(),
        rules_as_of
            .map(|r| format!(" under the rules of {r}"))
            .unwrap_or_default(),
        after_args.policy.display()
    );
    println!(
        "  {:<24} {:>18} {:>18} {:>18}",
        "programme", "before", "after", "difference"
    );
    let y = weft::run::format_yuan;
    for (x, z) in b.iter().zip(&af) {
        println!(
            "  {:<24} {:>18} {:>18} {:>18}",
            x.name,
            y(x.total()),
            y(z.total()),
            y(z.total() - x.total())
        );
    }
    let net: i128 = b.iter().zip(&af).map(|(x, z)| z.total() - x.total()).sum();
    println!("  {:<24} {:>18} {:>18} {:>18}", "all", "", "", y(net));
    println!(
        "(totals over the range: monthly and one-off amounts summed, a twelfth of each month's yearly amounts; see docs/cli.md)"
    );
    Ok(())
}
