use crate::PolicyArgs;
use crate::out;
use weft_engine::testing::{Evaluator, Interpreter, TestOutcome, run_tests};

pub fn test(p: &PolicyArgs, engine: &str, filter: Option<&str>) -> i32 {
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
    let Some((_, first)) = results.first() else { return 1 };
    let selected: Vec<usize> = (0..first.len())
        .filter(|i| filter.map(|f| first[*i].name.contains(f)).unwrap_or(true))
        .collect();
    println!("\nrunning {} from {} on {}", out::plural(selected.len(), "test", "tests"), p.policy.display(), names.join(" and "));
    let mut failed = Vec::new();
    for &i in &selected {
        let t = &first[i];
        let ok = results.iter().all(|(_, r)| r.get(i).map(|x| x.passed()).unwrap_or(false));
        println!("test {}: {} ... {}", t.module, t.name, if ok { "ok" } else { "FAILED" });
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
                        let which = if f.expect == 0 { String::new() } else { format!("expectation {}: ", f.expect) };
                        println!("  [{eng}] {}:{l}:{c}: {which}{}", loaded.sources.name(f.span.file), f.message);
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
    if failed.is_empty() { 0 } else { 1 }
}
