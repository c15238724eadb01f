//! Running the `test` blocks of a policy.
//!
//! Each test's records become a small chunk (members stored grouped by the
//! record they link to, as in a batch), the program is bound as of the
//! test's month for the instances its expectations need, and every
//! expectation is evaluated. A failed comparison reports both sides.

use crate::engines::EngineKind;
use weft_check::ty::Ty;
use weft_interp::{EvalError, Interp};
use weft_ir::bind::bind;
use weft_ir::data::test_chunk;
use weft_ir::value::display_value;
use weft_ir::{InstId, Ir};

/// What happened to one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 1-based index of the expectation in its test.
    pub expect: usize,
    pub span: weft_syntax::Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    pub test: usize,
    pub name: String,
    pub module: String,
    pub expectations: usize,
    pub failures: Vec<Failure>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

fn describe_error(ir: &Ir, e: &EvalError) -> String {
    let name = ir.inst(e.inst).map(|i| i.name.as_str()).unwrap_or("?");
    format!("{} in `{name}`: {}", e.kind.code(), e.detail)
}

/// Run every test of the program on one engine (bound for each test's
/// month; on the JIT, a binding compiled before comes from the cache of
/// compiled programs).
pub fn run_tests(ir: &Ir, kind: EngineKind) -> Vec<TestOutcome> {
    let prog = &ir.hir;
    let mut out = Vec::new();
    for (ti, t) in prog.tests.iter().enumerate() {
        let module = prog
            .modules
            .get(t.module)
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let insts = ir.tests.get(ti).cloned().unwrap_or_default();
        let sides = ir.test_sides.get(ti).cloned().unwrap_or_default();
        let mut failures = Vec::new();
        let mut roots = insts.clone();
        roots.extend(sides.iter().flatten().flat_map(|(a, b)| [*a, *b]));
        // The records' checks run first, as when a batch is read.
        let checks: Vec<(usize, usize, weft_ir::InstId)> = t
            .records
            .iter()
            .enumerate()
            .flat_map(|(ri, r)| {
                ir.checks
                    .get(r.record.index())
                    .map(|cs| {
                        cs.iter()
                            .enumerate()
                            .map(move |(ci, i)| (ri, ci, *i))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        roots.extend(checks.iter().map(|(_, _, i)| *i));
        let chunk = test_chunk(ir, t);
        match bind(ir, t.as_of, &roots) {
            Err(e) => failures.push(Failure {
                expect: 0,
                span: t.span,
                message: format!(
                    "cannot evaluate as of {}: {e}",
                    weft_syntax::num::format_month(t.as_of)
                ),
            }),
            Ok(bound) => {
                let engine = kind.engine(ir, &bound);
                // An engine that cannot be had fails every evaluation.
                let eval = |insts: &[(InstId, usize)]| match &engine {
                    Ok(e) => e.eval_insts(&chunk, insts),
                    Err(msg) => insts
                        .iter()
                        .map(|(i, r)| {
                            Err(EvalError {
                                kind: weft_ir::ErrKind::NoRow,
                                inst: *i,
                                row: Some(*r),
                                detail: msg.clone(),
                            })
                        })
                        .collect(),
                };
                // Declared ranges (`in 0..=4`), as a batch checks them.
                for rec in &t.records {
                    let Some(def) = prog.records.get(rec.record) else {
                        continue;
                    };
                    for (fd, v) in def.fields.iter().zip(&rec.values) {
                        // A value a data file could not hold (negative
                        // money, more than 1,000,000,000,000.00…): read
                        // back from its data-file text, as a batch would.
                        if let (
                            weft_check::hir::FieldKind::Column,
                            weft_check::hir::TestValue::Scalar(x),
                        ) = (&fd.kind, v)
                        {
                            let text = weft_ir::value::csv_value(prog, &fd.ty, *x);
                            if let Err(why) = weft_data::cell::parse_text(
                                prog,
                                &fd.ty,
                                weft_data::cell::CellKind::Text,
                                &text,
                            ) {
                                failures.push(Failure {
                                    expect: 0,
                                    span: rec.span,
                                    message: format!(
                                        "`{}` would be rejected in a batch: `{}` is {}: {why}",
                                        rec.id,
                                        fd.name,
                                        display_value(prog, &fd.ty, *x)
                                    ),
                                });
                                continue;
                            }
                        }
                        let (Some((lo, hi)), weft_check::hir::TestValue::Scalar(x)) = (fd.range, v)
                        else {
                            continue;
                        };
                        if lo.map(|l| *x < l).unwrap_or(false)
                            || hi.map(|h| *x > h).unwrap_or(false)
                        {
                            let shown = display_value(prog, &fd.ty, *x);
                            let range = weft_check::hir::range_text((lo, hi), |v| {
                                display_value(prog, &fd.ty, v)
                            });
                            failures.push(Failure {
                                expect: 0,
                                span: rec.span,
                                message: format!("`{}` would be rejected in a batch: `{}` is {shown}, outside {range}", rec.id, fd.name),
                            });
                        }
                    }
                }
                let rows = weft_ir::lower::test_rows(prog, t);
                let check_runs: Vec<(InstId, usize)> = checks
                    .iter()
                    .map(|(ri, _, i)| (*i, rows.get(*ri).copied().unwrap_or(0).max(0) as usize))
                    .collect();
                let check_results = eval(&check_runs);
                for ((ri, ci, _), r) in checks.iter().zip(check_results) {
                    let rec = &t.records[*ri];
                    let Some(def) = prog.records.get(rec.record).and_then(|d| d.checks.get(*ci))
                    else {
                        continue;
                    };
                    let column = prog
                        .records
                        .get(rec.record)
                        .map(|d| d.column(def.column).to_string())
                        .unwrap_or_default();
                    let problem = match r {
                        Ok(1) => None,
                        Ok(_) => {
                            let mut m = def.message.clone();
                            if let Some(d) = prog.records.get(rec.record) {
                                for (fd, v) in d.fields.iter().zip(&rec.values) {
                                    let text = match v {
                                        weft_check::hir::TestValue::Scalar(x) => {
                                            weft_ir::value::csv_value(prog, &fd.ty, *x)
                                        }
                                        weft_check::hir::TestValue::Text(t) => t.clone(),
                                        _ => String::new(),
                                    };
                                    m = m.replace(&format!("{{{}}}", fd.name), &text);
                                }
                            }
                            Some(m)
                        }
                        Err(e) => Some(format!("the check cannot be evaluated: {}", e.detail)),
                    };
                    if let Some(p) = problem {
                        let what = if def.exclude {
                            "would be left out of a batch"
                        } else {
                            "would be rejected in a batch"
                        };
                        failures.push(Failure {
                            expect: 0,
                            span: rec.span,
                            message: format!(
                                "`{}` {what}: its check on `{column}` fails: {p}",
                                rec.id
                            ),
                        });
                    }
                }
                let results = eval(&insts.iter().map(|i| (*i, 0)).collect::<Vec<_>>());
                for (ei, (x, r)) in t.expects.iter().zip(results).enumerate() {
                    let msg = match (&x.fails, r) {
                        (None, Ok(1)) => None,
                        (None, Ok(_)) => Some(match sides.get(ei).copied().flatten() {
                            Some((a, b)) => {
                                let vals = eval(&[(a, 0), (b, 0)]);
                                let show = |r: &Result<i64, EvalError>, inst: InstId| match r {
                                    Ok(v) => display_value(
                                        prog,
                                        &ir.inst(inst).map(|i| i.ty.clone()).unwrap_or(Ty::Int),
                                        *v,
                                    ),
                                    Err(e) => describe_error(ir, e),
                                };
                                format!("got {}, expected {}", show(&vals[0], a), show(&vals[1], b))
                            }
                            None => "the expectation is false".to_string(),
                        }),
                        (None, Err(e)) => {
                            Some(format!("evaluation failed: {}", describe_error(ir, &e)))
                        }
                        (Some(_), Ok(v)) => {
                            let ty = insts
                                .get(ei)
                                .and_then(|i| ir.inst(*i))
                                .map(|i| i.ty.clone())
                                .unwrap_or(Ty::Int);
                            Some(format!(
                                "expected a failure, got {}",
                                display_value(prog, &ty, v)
                            ))
                        }
                        (Some(None), Err(_)) => None,
                        (Some(Some(kind)), Err(e)) => {
                            if e.kind.code() == kind {
                                None
                            } else {
                                Some(format!(
                                    "expected a failure with {kind}, got {}",
                                    describe_error(ir, &e)
                                ))
                            }
                        }
                    };
                    if let Some(message) = msg {
                        failures.push(Failure {
                            expect: ei + 1,
                            span: x.span,
                            message,
                        });
                    }
                }
            }
        }
        out.push(TestOutcome {
            test: ti,
            name: t.name.clone(),
            module,
            expectations: t.expects.len(),
            failures,
        });
    }
    out
}

/// What the tests exercised (`weft test --coverage`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Rules no test evaluated.
    pub rules_missed: Vec<u32>,
    pub rules_total: usize,
    /// `(rule, row)` of table rows that never applied.
    pub rows_missed: Vec<(u32, usize)>,
    pub rows_total: usize,
    /// `(rule, exception)` of exceptions that never applied.
    pub exceptions_missed: Vec<(u32, usize)>,
    pub exceptions_total: usize,
}

#[derive(Default)]
struct CoverageTracer {
    rules: std::collections::HashSet<u32>,
    taken: std::collections::HashSet<weft_ir::NodeId>,
    rule_of: Vec<Option<u32>>,
}

impl weft_interp::trace::Tracer for CoverageTracer {
    fn enter(&mut self, inst: InstId, _row: Option<usize>) {
        if let Some(Some(r)) = self.rule_of.get(inst as usize) {
            self.rules.insert(*r);
        }
    }
    fn branch(&mut self, _inst: InstId, _row: Option<usize>, node: weft_ir::NodeId, taken: bool) {
        if taken {
            self.taken.insert(node);
        }
    }
}

/// Run every test with the interpreter, recording which rules, table rows
/// and exceptions they exercise.
pub fn coverage(ir: &Ir) -> Coverage {
    use weft_check::hir::RuleKind;
    let prog = &ir.hir;
    let mut tr = CoverageTracer {
        rule_of: ir.instances.iter().map(|i| i.rule).collect(),
        ..CoverageTracer::default()
    };
    for (ti, t) in prog.tests.iter().enumerate() {
        let insts = ir.tests.get(ti).cloned().unwrap_or_default();
        let Ok(bound) = bind(ir, t.as_of, &insts) else {
            continue;
        };
        let chunk = test_chunk(ir, t);
        let mut it = Interp::new(ir, &bound, &chunk).with_tracer(&mut tr);
        for i in &insts {
            let _ = it.eval_inst(*i, 0);
        }
    }
    let mut c = Coverage::default();
    for (ri, r) in prog.rules.iter().enumerate() {
        if matches!(r.kind, RuleKind::Scale(_)) {
            continue;
        }
        c.rules_total += 1;
        if !tr.rules.contains(&(ri as u32)) {
            c.rules_missed.push(ri as u32);
        }
        if let RuleKind::Table(t) = &r.kind {
            for row in 0..t.rows.len() {
                if t.rows[row].cond.is_none() {
                    continue;
                }
                c.rows_total += 1;
                let hit = ir.notes.iter().any(|(n, note)| {
                    *note
                        == weft_ir::Note::Row {
                            rule: ri as u32,
                            row,
                        }
                        && tr.taken.contains(n)
                });
                if !hit {
                    c.rows_missed.push((ri as u32, row));
                }
            }
        }
        for x in 0..r.exceptions.len() {
            c.exceptions_total += 1;
            let hit = ir.notes.iter().any(|(n, note)| {
                *note
                    == weft_ir::Note::Exception {
                        rule: ri as u32,
                        index: x,
                    }
                    && tr.taken.contains(n)
            });
            if !hit {
                c.exceptions_missed.push((ri as u32, x));
            }
        }
    }
    c.rows_missed.sort_unstable();
    c.exceptions_missed.sort_unstable();
    c
}
