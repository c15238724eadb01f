//! `weft check`: every diagnostic of a policy, and its assertions.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use crate::out;

pub fn check(p: &PolicyArgs) -> CliResult {
    let (diags, counts) = match weft::Policy::load(&p.policy, &p.params) {
        Ok(policy) => (policy.check(), Some(policy.counts())),
        Err(weft::Error::Policy(diags)) => (diags.sorted(), None),
        Err(e @ weft::Error::Internal(_)) => {
            eprintln!("{e}");
            return Err(CliError::Reported);
        }
        Err(e) => return Err(e.into()),
    };
    if !diags.is_empty() {
        eprint!("{}", out::diagnostics(&diags));
    }
    let errors = diags.error_count();
    let warnings = diags.len() - errors;
    let Some(c) = counts.filter(|_| errors == 0) else {
        eprintln!(
            "error: {} and {} in {}",
            out::plural(errors, "error", "errors"),
            out::plural(warnings, "warning", "warnings"),
            p.policy.display()
        );
        return Err(CliError::Reported);
    };
    println!(
        "ok: {} checked — {}, {}, {}, {}, {}",
        p.policy.display(),
        out::plural(c.modules, "module", "modules"),
        out::plural(c.rules, "rule", "rules"),
        out::plural(c.parameters, "parameter", "parameters"),
        out::plural(c.assertions, "assertion", "assertions"),
        out::plural(warnings, "warning", "warnings"),
    );
    Ok(())
}
