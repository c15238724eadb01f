//! `weft test`: a policy's own tests, on one engine or both.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use crate::out;
use std::path::Path;
use weft::Engine;
use weft::openfisca::YamlTestOutcome;
use weft::testing::{Coverage, TestOutcome};

fn engines(engine: &str) -> Result<Vec<Engine>, CliError> {
    match engine {
        "interp" => Ok(vec![Engine::Interpreter]),
        "jit" => Ok(vec![Engine::Jit]),
        "both" => Ok(vec![Engine::Interpreter, Engine::Jit]),
        other => Err(CliError::Usage(format!(
            "unknown engine `{other}`; use interp, jit or both"
        ))),
    }
}

/// `weft test POLICY --yaml DIR`: OpenFisca YAML test files, through the
/// policy's `openfisca.yaml` mapping.
pub fn test_yaml(p: &PolicyArgs, engine: &str, filter: Option<&str>, dir: &Path) -> CliResult {
    let engines = engines(engine)?;
    let policy = super::load(p)?;
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let all = policy.run_openfisca_tests(&p.policy, dir, &engines)?;
    let selected: Vec<&YamlTestOutcome> = all
        .iter()
        .filter(|t| filter.map(|f| t.name.contains(f)).unwrap_or(true))
        .collect();
    println!(
        "\nrunning {} from {} on {}",
        out::plural(selected.len(), "OpenFisca test", "OpenFisca tests"),
        dir.display(),
        names.join(" and ")
    );
    for t in &selected {
        println!(
            "test {}#{}: {} ... {}",
            t.file,
            t.index,
            t.name,
            if t.passed() { "ok" } else { "FAILED" }
        );
        for n in &t.notes {
            println!("  note: {n}");
        }
    }
    let failed: Vec<&&YamlTestOutcome> = selected.iter().filter(|t| !t.passed()).collect();
    if !failed.is_empty() {
        println!("\nfailures:");
        for t in &failed {
            println!("\n---- {}#{}: {} ----", t.file, t.index, t.name);
            for f in &t.failures {
                println!("  {f}");
            }
        }
    }
    let expectations: usize = selected.iter().map(|t| t.expectations).sum();
    println!(
        "\ntest result: {}. {} passed; {} failed; {} checked on {}\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failed.len(),
        failed.len(),
        out::plural(expectations, "expectation", "expectations"),
        names.join(" and ")
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Reported)
    }
}

pub fn test(p: &PolicyArgs, engine: &str, filter: Option<&str>, coverage: bool) -> CliResult {
    let engines = engines(engine)?;
    let policy = super::load(p)?;
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
