use crate::PolicyArgs;
use crate::out;

pub fn check(p: &PolicyArgs) -> i32 {
    let pack = match super::read_pack(p) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let (sources, program, mut diags) = weft_engine::load::compile_sources(&pack);
    let mut modules = program.modules.len();
    let rules = program.rules.len();
    let params = program.params.len();
    let asserts = program.asserts.len();
    if !diags.iter().any(|d| d.is_error()) {
        match weft_ir::lower::lower(std::sync::Arc::new(program)) {
            Ok(ir) => {
                diags.extend(weft_engine::asserts::check_assertions(&ir, &sources));
                modules = ir.hir.modules.len();
            }
            Err(e) => {
                eprintln!("internal error while lowering the policy: {}", e.0);
                return 1;
            }
        }
    }
    weft_check::sort_diagnostics(&mut diags);
    if !diags.is_empty() {
        eprint!("{}", out::diagnostics(&diags, &sources));
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        eprintln!(
            "error: {} and {} in {}",
            out::plural(errors, "error", "errors"),
            out::plural(warnings, "warning", "warnings"),
            p.policy.display()
        );
        return 1;
    }
    println!(
        "ok: {} checked — {}, {}, {}, {}, {}",
        p.policy.display(),
        out::plural(modules, "module", "modules"),
        out::plural(rules, "rule", "rules"),
        out::plural(params, "parameter", "parameters"),
        out::plural(asserts, "assertion", "assertions"),
        out::plural(warnings, "warning", "warnings"),
    );
    0
}
