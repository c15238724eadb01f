use crate::PolicyArgs;
use crate::out;
use weft_engine::testing::{Evaluator, Interpreter, TestOutcome, run_tests};

pub fn test(p: &PolicyArgs, engine: &str, filter: Option<&str>, coverage: bool) -> i32 {
    let loaded = match super::load(p) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let ir = &loaded.ir;
    let mut engines: Vec<Box<dyn Evaluator>> = Vec::new();
    match engine {
        "interp" => engines.push(Box::new(Interpreter)),
        "jit" | "both" => {
            if engine == "both" {
                engines.push(Box::new(Interpreter));
            }
            match weft_engine::engines::jit_evaluator() {
                Some(j) => engines.push(j),
                None => {
                    if engine == "jit" {
                        eprintln!("error: the JIT engine is not available in this build");
                        return 1;
                    }
                }
            }
        }
        other => {
            eprintln!("error: unknown engine `{other}`; use interp, jit or both");
            return 2;
        }
    }
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let mut results: Vec<(String, Vec<TestOutcome>)> = Vec::new();
    for e in &engines {
        results.push((e.name().to_string(), run_tests(ir, e.as_ref())));
    }
    let Some((_, first)) = results.first() else {
        return 1;
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
                        let (l, c) = loaded.sources.line_col(f.span.file, f.span.start);
                        let which = if f.expect == 0 {
                            String::new()
                        } else {
                            format!("expectation {}: ", f.expect)
                        };
                        println!(
                            "  [{eng}] {}:{l}:{c}: {which}{}",
                            loaded.sources.name(f.span.file),
                            f.message
                        );
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
        print_coverage(&loaded, &weft_engine::testing::coverage(ir));
    }
    if failed.is_empty() { 0 } else { 1 }
}

fn print_coverage(loaded: &super::Loaded, c: &weft_engine::testing::Coverage) {
    let prog = &loaded.ir.hir;
    let at = |span: weft_syntax::Span| {
        let (l, col) = loaded.sources.line_col(span.file, span.start);
        format!("{}:{l}:{col}", loaded.sources.name(span.file))
    };
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
            if let Some(rd) = prog.rules.get(*r as usize) {
                println!("  `{}` ({})", rd.name, at(rd.span));
            }
        }
    }
    if !c.rows_missed.is_empty() {
        println!("table rows no test applies:");
        for (r, row) in &c.rows_missed {
            if let Some(rd) = prog.rules.get(*r as usize) {
                if let weft_check::hir::RuleKind::Table(t) = &rd.kind {
                    if let Some(x) = t.rows.get(*row) {
                        let text = loaded
                            .sources
                            .slice(x.span)
                            .trim()
                            .trim_start_matches('|')
                            .trim()
                            .to_string();
                        println!("  `{}` row {} ({}): {text}", rd.name, row + 1, at(x.span));
                    }
                }
            }
        }
    }
    if !c.exceptions_missed.is_empty() {
        println!("exceptions no test applies:");
        for (r, x) in &c.exceptions_missed {
            if let Some(e) = prog
                .rules
                .get(*r as usize)
                .and_then(|rd| rd.exceptions.get(*x))
            {
                println!(
                    "  `{}` of `{}` ({})",
                    e.label,
                    prog.rules[*r as usize].name,
                    at(e.span)
                );
            }
        }
    }
    println!();
}
