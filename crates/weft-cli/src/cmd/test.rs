//! `weft test`: a policy's own tests, on one engine or both.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use crate::out;
use weft::Engine;
use weft::testing::{Coverage, TestOutcome};

pub fn test(p: &PolicyArgs, engine: &str, filter: Option<&str>, coverage: bool) -> CliResult {
    let policy = super::load(p)?;
    let engines: Vec<Engine> = match engine {
        "interp" => vec![Engine::Interpreter],
        "jit" => vec![Engine::Jit],
        "both" => vec![Engine::Interpreter, Engine::Jit],
        other => {
            return Err(CliError::Usage(format!(
                "unknown engine `{other}`; use interp, jit or both"
            )));
        }
    };
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let mut results: Vec<(&str, Vec<TestOutcome>)> = Vec::new();
    for e in &engines {
        results.push((e.name(), policy.run_tests(*e)?));
    }
    let Some((_, first)) = results.first() else {
        return Err(CliError::Reported);
    };
    let selected: Vec<usize> = (0..first.len())
        .filter(|i| filter.map(|f| first[*i].name.contains(f)).unwrap_or(true))
        .collect();
    println!(
        "\nrunning {} from {} on {}",
        out::plural(selected.len(), "test", "tests"),
        p.policy.display(),
        names.join(" and ")
    );
    let mut failed = Vec::new();
    for &i in &selected {
        let t = &first[i];
        let ok = results
            .iter()
            .all(|(_, r)| r.get(i).map(|x| x.passed()).unwrap_or(false));
        println!(
            "test {}: {} ... {}",
            t.module,
            t.name,
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            failed.push(i);
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for &i in &failed {
            let t = &first[i];
            println!("\n---- {}: {} ----", t.module, t.name);
            for (eng, r) in &results {
                if let Some(o) = r.get(i) {
                    for f in &o.failures {
                        let which = if f.expectation == 0 {
                            String::new()
                        } else {
                            format!("expectation {}: ", f.expectation)
                        };
                        println!("  [{eng}] {}: {which}{}", f.location, f.message);
                    }
                }
            }
        }
    }
    let passed = selected.len() - failed.len();
    let expectations: usize = selected.iter().map(|i| first[*i].expectations).sum();
    println!(
        "\ntest result: {}. {} passed; {} failed; {} checked on {}\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        passed,
        failed.len(),
        out::plural(expectations, "expectation", "expectations"),
        names.join(" and ")
    );
    if coverage {
        print_coverage(&policy.test_coverage());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Reported)
    }
}

fn print_coverage(c: &Coverage) {
    println!(
        "coverage: {} of {} rules evaluated by a test, {} of {} table rows applied, {} of {} exceptions applied",
        c.rules_total - c.rules_missed.len(),
        c.rules_total,
        c.rows_total - c.rows_missed.len(),
        c.rows_total,
        c.exceptions_total - c.exceptions_missed.len(),
        c.exceptions_total
    );
    if !c.rules_missed.is_empty() {
        println!("rules no test evaluates:");
        for r in &c.rules_missed {
            println!("  `{}` ({})", r.rule, r.location);
        }
    }
    if !c.rows_missed.is_empty() {
        println!("table rows no test applies:");
        for r in &c.rows_missed {
            println!(
                "  `{}` row {} ({}): {}",
                r.rule,
                r.part.as_deref().unwrap_or(""),
                r.location,
                r.text.as_deref().unwrap_or("")
            );
        }
    }
    if !c.exceptions_missed.is_empty() {
        println!("exceptions no test applies:");
        for x in &c.exceptions_missed {
            println!(
                "  `{}` of `{}` ({})",
                x.part.as_deref().unwrap_or(""),
                x.rule,
                x.location
            );
        }
    }
    println!();
}
