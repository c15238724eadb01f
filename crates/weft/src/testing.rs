//! A policy's own `test` blocks (`weft test`), on one engine or both, and
//! what they exercise.

use crate::{Engine, Error, Policy};

/// An expectation of a test that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestFailure {
    /// 1-based index of the expectation in its test (0: the test as a
    /// whole).
    pub expectation: usize,
    /// `file:line:column` of the expectation.
    pub location: String,
    /// What went wrong.
    pub message: String,
}

/// The outcome of one test on one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// The module declaring it.
    pub module: String,
    /// How many expectations it checks.
    pub expectations: usize,
    /// The expectations that did not hold.
    pub failures: Vec<TestFailure>,
}

impl TestOutcome {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Something no test exercised: a rule, a table row or an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unexercised {
    /// The rule.
    pub rule: String,
    /// The table row (1-based) or the exception's label, when not the
    /// whole rule.
    pub part: Option<String>,
    /// The row's text (for a table row).
    pub text: Option<String>,
    /// `file:line:column`.
    pub location: String,
}

/// What the tests exercised (`weft test --coverage`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Coverage {
    /// Rules in the policy.
    pub rules_total: usize,
    /// Rules no test evaluated.
    pub rules_missed: Vec<Unexercised>,
    /// Table rows in the policy.
    pub rows_total: usize,
    /// Table rows no test applied.
    pub rows_missed: Vec<Unexercised>,
    /// Exceptions in the policy.
    pub exceptions_total: usize,
    /// Exceptions no test applied.
    pub exceptions_missed: Vec<Unexercised>,
}

impl Policy {
    /// Run the policy's `test` blocks on an engine.
    pub fn run_tests(&self, engine: Engine) -> Result<Vec<TestOutcome>, Error> {
        let ir = self.ir();
        let sources = self.sources();
        Ok(weft_engine::testing::run_tests(ir, engine.kind())
            .into_iter()
            .map(|t| TestOutcome {
                failures: t
                    .failures
                    .iter()
                    .map(|f| {
                        let (l, c) = sources.line_col(f.span.file, f.span.start);
                        TestFailure {
                            expectation: f.expect,
                            location: format!("{}:{l}:{c}", sources.name(f.span.file)),
                            message: f.message.clone(),
                        }
                    })
                    .collect(),
                name: t.name,
                module: t.module,
                expectations: t.expectations,
            })
            .collect())
    }

    /// Run the tests with the interpreter, recording which rules, table
    /// rows and exceptions they exercise.
    pub fn test_coverage(&self) -> Coverage {
        let ir = self.ir();
        let c = weft_engine::testing::coverage(ir);
        let prog = &ir.hir;
        let sources = self.sources();
        let at = |span: weft_syntax::Span| {
            let (l, col) = sources.line_col(span.file, span.start);
            format!("{}:{l}:{col}", sources.name(span.file))
        };
        let rules_missed = c
            .rules_missed
            .iter()
            .filter_map(|r| prog.rules.get(*r as usize))
            .map(|rd| Unexercised {
                rule: rd.name.clone(),
                part: None,
                text: None,
                location: at(rd.span),
            })
            .collect();
        let rows_missed = c
            .rows_missed
            .iter()
            .filter_map(|(r, row)| {
                let rd = prog.rules.get(*r as usize)?;
                let weft_check::hir::RuleKind::Table(t) = &rd.kind else {
                    return None;
                };
                let x = t.rows.get(*row)?;
                let text = sources
                    .slice(x.span)
                    .trim()
                    .trim_start_matches('|')
                    .trim()
                    .to_string();
                Some(Unexercised {
                    rule: rd.name.clone(),
                    part: Some((row + 1).to_string()),
                    text: Some(text),
                    location: at(x.span),
                })
            })
            .collect();
        let exceptions_missed = c
            .exceptions_missed
            .iter()
            .filter_map(|(r, x)| {
                let rd = prog.rules.get(*r as usize)?;
                let e = rd.exceptions.get(*x)?;
                Some(Unexercised {
                    rule: rd.name.clone(),
                    part: Some(e.label.clone()),
                    text: None,
                    location: at(e.span),
                })
            })
            .collect();
        Coverage {
            rules_total: c.rules_total,
            rules_missed,
            rows_total: c.rows_total,
            rows_missed,
            exceptions_total: c.exceptions_total,
            exceptions_missed,
        }
    }
}
