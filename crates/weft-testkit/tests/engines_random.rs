//! Random *policies* through both engines: a proptest strategy writes the
//! text of a well-typed policy (`weft_testkit::policy_gen`: parameters, rules,
//! tables, exceptions, scales, cascades over a household with members, with
//! values near the limits of 64 bits, rounding ties and month ends) and
//! random records for it; the policy must check without errors, lower, bind
//! and compile, and the reference interpreter and the JIT must give the
//! same `ChunkResult` (values and errors: kind, instance, row, detail) and
//! the same result for every instance and row, in order, in reverse order
//! and one by one.
//!
//! `WEFT_PROPTEST_CASES` sets the number of cases (default 32). A failure
//! is shrunk and printed as a policy text and records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use std::sync::Arc;
use weft_check::pack::{PackSources, compile_sources};
use weft_interp::batch::{ChunkResult, Plan};
use weft_interp::{EvalError, Interp};
use weft_ir::bind::bind;
use weft_ir::data::Chunk;
use weft_ir::{InstId, Ir};
use weft_jit::JitProgram;
use weft_testkit::policy_gen as pg;

fn cases() -> u32 {
    std::env::var("WEFT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

/// A generated case: the policy's text and the records, shown readably
/// when a case fails.
#[derive(Clone)]
struct Case {
    policy: String,
    records: pg::Records,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "\n---- policy ----\n{}", self.policy)?;
        writeln!(f, "---- records ----\n{:?}", self.records)
    }
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        // Small choices shrink in few steps; the policy's choices are
        // mostly below 256.
        prop::collection::vec(0u32..256, 0..1500),
        prop::collection::vec(any::<u32>(), 0..400),
    )
        .prop_map(|(p, r)| Case {
            policy: pg::policy(&p),
            records: pg::records(&r),
        })
}

fn pack(text: &str) -> PackSources {
    PackSources {
        modules: vec![("main.weft".into(), text.into())],
        ..Default::default()
    }
}

/// Check and lower a policy; the diagnostics of a policy that does not
/// check.
fn compile(text: &str) -> Result<Ir, String> {
    let (_, prog, diags) = compile_sources(&pack(text));
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {} {:?}", d.code, d.message, d.help))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "the generated policy does not check:\n{}",
            errors.join("\n")
        ));
    }
    weft_ir::lower::lower(Arc::new(prog)).map_err(|e| format!("lowering failed: {e:?}"))
}

/// Every instance for every row of its record.
fn all_pairs(ir: &Ir, chunk: &Chunk) -> Vec<(InstId, usize)> {
    let mut out = Vec::new();
    for (i, inst) in ir.instances.iter().enumerate() {
        match inst.entity {
            Some(rec) => out.extend((0..chunk.rows(rec)).map(|row| (i as InstId, row))),
            None => out.push((i as InstId, 0)),
        }
    }
    out
}

fn interp_insts(
    ir: &Ir,
    bound: &weft_ir::bind::Bound,
    chunk: &Chunk,
    pairs: &[(InstId, usize)],
) -> Vec<Result<i64, EvalError>> {
    let mut it = Interp::new(ir, bound, chunk);
    pairs.iter().map(|(i, r)| it.eval_inst(*i, *r)).collect()
}

fn same_chunk_result(
    ir: &Ir,
    chunk: &Chunk,
    plan: &Plan,
    a: &ChunkResult,
    b: &ChunkResult,
) -> Result<(), String> {
    if a.errors != b.errors {
        return Err(format!(
            "chunk errors differ:\n interp: {:?}\n jit:    {:?}",
            a.errors, b.errors
        ));
    }
    for (g, err) in a.errors.iter().enumerate() {
        if err.is_some() {
            continue;
        }
        for (c, col) in a.group_values.iter().enumerate() {
            if col[g] != b.group_values[c][g] {
                return Err(format!(
                    "group {g} column {c}: interp {} vs jit {}",
                    col[g], b.group_values[c][g]
                ));
            }
        }
        for m in weft_interp::batch::member_range(ir, chunk, plan, g) {
            for (c, col) in a.member_values.iter().enumerate() {
                if col[m] != b.member_values[c][m] {
                    return Err(format!(
                        "group {g} member {m} column {c}: interp {} vs jit {}",
                        col[m], b.member_values[c][m]
                    ));
                }
            }
        }
    }
    Ok(())
}

fn describe(ir: &Ir, pair: (InstId, usize)) -> String {
    format!(
        "`{}` (instance {}) row {}",
        ir.instances[pair.0 as usize].name, pair.0, pair.1
    )
}

/// What a case did, for the statistics.
#[derive(Default, Debug)]
struct Outcome {
    months_bound: usize,
    months_unbound: usize,
    values: usize,
    errors: std::collections::BTreeMap<String, usize>,
    /// Months whose program has operations proven not to overflow, and
    /// of those, the ones whose records let the proven code run.
    with_proofs: usize,
    proofs_ran: usize,
}

/// Run one case on both engines; `Err` describes a disagreement.
fn run_case(case: &Case) -> Result<Outcome, String> {
    let ir = compile(&case.policy)?;
    let chunk = pg::chunk(&ir, &case.records).ok_or("no hierarchy")?;
    let plan = Plan::outputs(&ir).ok_or("no outputs")?;
    let roots: Vec<InstId> = (0..ir.instances.len() as InstId).collect();
    let pairs = all_pairs(&ir, &chunk);
    let mut out = Outcome::default();
    for &month in &case.records.months {
        let when = weft_syntax::num::format_month(month);
        let bound = match bind(&ir, month, &roots) {
            Ok(b) => b,
            Err(_) => {
                out.months_unbound += 1;
                continue;
            }
        };
        out.months_bound += 1;
        let proven = JitProgram::compile(&ir, &bound)
            .map_err(|e| format!("as of {when}: the JIT does not compile: {e:?}"))?;
        // Every overflow checked: the checks themselves, on any values.
        let checked = JitProgram::compile_checked(&ir, &bound)
            .map_err(|e| format!("as of {when}: the JIT does not compile: {e:?}"))?;
        if proven.proven_operations() > 0 {
            out.with_proofs += 1;
            if proven.proofs_hold(&chunk) {
                out.proofs_ran += 1;
            }
        }
        let a = weft_interp::batch::eval_chunk(&ir, &bound, &chunk, &plan);
        for (what, jit) in [("proven", &proven), ("checked", &checked)] {
            let b = jit.eval_chunk(&ir, &bound, &chunk, &plan);
            same_chunk_result(&ir, &chunk, &plan, &a, &b)
                .map_err(|e| format!("as of {when}, {what} program: {e}"))?;
            for order in ["in order", "reversed"] {
                let ps: Vec<_> = if order == "reversed" {
                    pairs.iter().rev().copied().collect()
                } else {
                    pairs.clone()
                };
                let x = interp_insts(&ir, &bound, &chunk, &ps);
                let y = jit.eval_insts(&ir, &bound, &chunk, &ps);
                for (k, (u, v)) in x.iter().zip(&y).enumerate() {
                    if u != v {
                        return Err(format!(
                            "as of {when}, {what} program, {order}: {}:\n interp: {u:?}\n jit:    {v:?}",
                            describe(&ir, ps[k])
                        ));
                    }
                    if order == "in order" && what == "proven" {
                        match u {
                            Ok(_) => out.values += 1,
                            Err(e) => *out.errors.entry(format!("{:?}", e.kind)).or_default() += 1,
                        }
                    }
                }
            }
            for &p in &pairs {
                let u = interp_insts(&ir, &bound, &chunk, &[p]);
                let v = jit.eval_insts(&ir, &bound, &chunk, &[p]);
                if u != v {
                    return Err(format!(
                        "as of {when}, {what} program, alone: {}:\n interp: {:?}\n jit:    {:?}",
                        describe(&ir, p),
                        u,
                        v
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: std::env::var("PROPTEST_MAX_SHRINK_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4096),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Random policies and records: both engines agree.
    #[test]
    fn random_policies_agree_on_both_engines(case in case_strategy()) {
        run_case(&case).map_err(TestCaseError::fail)?;
    }
}

/// Substrings whose presence the statistics count.
const CONSTRUCTS: &[&str] = &[
    "\nparam ",
    "[Region]",
    "[Level except none]",
    "[Region, Level]",
    ": Bands of",
    "\n  from 2",
    "\nrule ",
    "\ntable ",
    "hit unique",
    "hit first",
    "hit sum",
    "hit max",
    "hit min",
    "\n  given ",
    "| otherwise",
    "| from ",
    "\nexception ",
    " over x",
    "\nscale ",
    "\n  marginal",
    "\n  flat",
    "round total",
    "adjust rate",
    "\n  bands k",
    "\ncascade ",
    "remains",
    "(match ",
    "absent =>",
    "(if ",
    "(let ",
    "sum(",
    "count(",
    "any(",
    "all(",
    "min(",
    "max(",
    "clamp(",
    "abs(",
    " iff ",
    " in {",
    "is_set(",
    "prior_year(",
    " at ",
    "per_month(",
    "per_year(",
    "round(",
    "places:",
    "add_months(",
    "add_days(",
    "add_years(",
    "years_between(",
    "months_between(",
    "days_between(",
    "decimal(",
    "int(",
    " / ",
    " * ",
    "9223372036854775807",
    ".pid ",
];

/// Statistics of the generator (run with `--ignored --nocapture`): how
/// often a generated policy is rejected (by diagnostic code), the warnings
/// it draws, and the kinds of evaluation error met.
#[test]
#[ignore]
fn generator_statistics() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(Config::default());
    let strat = case_strategy();
    let n = cases().max(100);
    let mut rejected = std::collections::BTreeMap::<String, usize>::new();
    let mut warnings = std::collections::BTreeMap::<String, usize>::new();
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let (mut ok, mut bad, mut values, mut bound, mut unbound, mut bytes) = (0, 0, 0, 0, 0, 0);
    let (mut with_proofs, mut proofs_ran) = (0, 0);
    let mut shown: Vec<&str> = Vec::new();
    let mut constructs = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..n {
        let case = strat.new_tree(&mut runner).unwrap().current();
        bytes += case.policy.len();
        for c in CONSTRUCTS {
            if case.policy.contains(c) {
                *constructs.entry(*c).or_default() += 1;
            }
        }
        let (_, _, diags) = compile_sources(&pack(&case.policy));
        for d in &diags {
            let m = if d.is_error() {
                &mut rejected
            } else {
                &mut warnings
            };
            *m.entry(d.code.to_string()).or_default() += 1;
        }
        if diags.iter().any(|d| d.is_error()) {
            bad += 1;
            let codes: Vec<&str> = diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code)
                .collect();
            if codes.iter().filter(|c| shown.contains(c)).count() < 3 {
                shown.extend(codes);
                eprintln!("{}", case.policy);
                for d in diags.iter().filter(|d| d.is_error()) {
                    eprintln!("{}: {}", d.code, d.message);
                }
            }
            continue;
        }
        match run_case(&case) {
            Ok(o) => {
                ok += 1;
                values += o.values;
                bound += o.months_bound;
                unbound += o.months_unbound;
                with_proofs += o.with_proofs;
                proofs_ran += o.proofs_ran;
                for (k, v) in o.errors {
                    *errors.entry(k).or_default() += v;
                }
            }
            Err(e) => panic!("{case:?}\n{e}"),
        }
    }
    eprintln!(
        "{n} policies (mean {} bytes): {ok} ran, {bad} rejected {rejected:?}",
        bytes / n as usize
    );
    eprintln!("warnings: {warnings:?}");
    eprintln!("policies with each construct: {constructs:?}");
    eprintln!("months bound {bound}, not bound {unbound}; {values} values, errors {errors:?}");
    eprintln!(
        "months with operations proven not to overflow: {with_proofs}, of which their proven code ran on {proofs_ran}"
    );
}

// Checker rejections of well-typed policies found by the generator (the
// generator now avoids these forms). They are bugs of weft-check, outside
// this crate: each test passes once the checker accepts the policy.

fn check_errors(text: &str) -> Vec<String> {
    let (_, _, diags) = compile_sources(&pack(text));
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

/// Found by the generator: `clamp` whose value is an integer literal and
/// whose bound is an `Int` value was rejected (E0330 "the lower bound
/// should be `Int`, but this is `Int`"); the three now take one type, as in
/// `min`.
#[test]
fn clamp_of_an_integer_literal_checks() {
    let errors = check_errors("rule a: Int = clamp(-1, month(2019-01-01), 7)\n");
    assert!(errors.is_empty(), "{errors:?}");
}

const N_RECORD: &str = "record Person input persons {\n  id: Text key\n  n: Int\n}\n";

/// Found by the generator: the table analysis took the domain of an `Int`
/// to be i64::MIN + 1 ..= i64::MAX - 1, so a row for exactly i64::MAX, which
/// an `Int` field can hold, was reported dead (E0412).
#[test]
fn table_row_at_i64_max_is_not_dead() {
    let errors = check_errors(&format!(
        "{N_RECORD}table f(p: Person): Int\n  hit first\n  given p.n\n  \
         | < 9223372036854775807 => 1\n  | >= 9223372036854775807 => 2\n"
    ));
    assert!(errors.is_empty(), "{errors:?}");
}

/// Found by the generator: `= MAX` and `!= MAX` cover every value, yet the
/// analysis reported a gap (E0410).
#[test]
fn table_cells_equal_and_not_equal_to_i64_max_have_no_gap() {
    let errors = check_errors(&format!(
        "{N_RECORD}table u(p: Person): Int\n  hit unique\n  given p.n\n  \
         | 9223372036854775807 => 1\n  | != 9223372036854775807 => 2\n"
    ));
    assert!(errors.is_empty(), "{errors:?}");
}

/// The other end: a rule's value can be i64::MIN, so a row below
/// -i64::MAX is live, and `< MIN` (which no value satisfies) is dead.
#[test]
fn table_rows_at_i64_min() {
    let errors = check_errors(&format!(
        "{N_RECORD}table f(p: Person): Int\n  hit first\n  given p.n\n  \
         | < -9223372036854775807 => 1\n  | >= -9223372036854775807 => 2\n"
    ));
    assert!(errors.is_empty(), "{errors:?}");
    let errors = check_errors(&format!(
        "{N_RECORD}table f(p: Person): Int\n  hit first\n  given p.n\n  \
         | > 9223372036854775807 => 1\n  | - => 2\n"
    ));
    assert!(errors.iter().any(|e| e.starts_with("E0412")), "{errors:?}");
}
