//! (d) Operations the JIT proves cannot overflow (`ranges.rs`), at the
//! edge of the proofs: declared ranges that make an overflow impossible
//! and, one above, possible; money sums over a household; chunks whose
//! values are outside the fields' domains (validation never gives the
//! engines such a chunk; they are evaluated by the interpreter).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use weft_ir::ErrKind;

const RECORDS: &str = r#"
record Household input households {
  household_id: Text key
  members: [Person]
}

record Person input persons {
  person_id: Text key
  household: Household by household_id
  small: Int in 0..=3037000499
  big: Int in 0..=3037000500
  income: Money per month
  n: Int
}
"#;

const RULES: &str = r#"
import records
rule sq_small(p: Person): Int = p.small * p.small
rule sq_big(p: Person): Int = p.big * p.big
rule neg_income(p: Person): Money per month = -p.income
rule times_n(p: Person): Money per month = p.income * p.n
rule total(h: Household): Money per month = sum(m.income for m in h.members)
rule total_sq(h: Household): Int = sum(sq_small(m) for m in h.members)
"#;

const OUTPUTS: &str = r#"
import records
import m
output persons(p: Person) {
  sq_small
  sq_big
  neg_income
  times_n
}
output households(h: Household) {
  total
  total_sq
}
"#;

const EDGE: i64 = 3_037_000_499;
const MAX_MONEY: i64 = 100_000_000_000_000;

fn ir() -> weft_ir::Ir {
    policy(&[
        ("records.weft", RECORDS),
        ("m.weft", RULES),
        ("outputs.weft", OUTPUTS),
    ])
}

fn person(small: i64, big: i64, income: i64, n: i64) -> Row<'static> {
    vec![
        ("small", V::I(small)),
        ("big", V::I(big)),
        ("income", V::I(income)),
        ("n", V::I(n)),
    ]
}

fn result(ir: &weft_ir::Ir, res: &Results, rule: &str, row: usize) -> Result<i64, ErrKind> {
    let i = rule_inst(ir, rule);
    res.iter()
        .find(|((x, r), _)| *x == i && *r == row)
        .map(|(_, v)| v.clone().map_err(|e| e.kind))
        .unwrap_or_else(|| panic!("no result for {rule} row {row}"))
}

#[test]
fn proofs_at_the_edge_of_declared_ranges() {
    let ir = ir();
    let groups: Vec<Group<'_>> = vec![
        (
            vec![],
            vec![
                person(EDGE, EDGE + 1, MAX_MONEY, 92_234),
                person(EDGE, 0, MAX_MONEY, 92_233),
                person(0, 3, 0, 1),
            ],
        ),
        (vec![], vec![person(2, 2, -5, -1)]),
        (vec![], vec![]),
    ];
    let chunk = grouped_chunk(&ir, "Household", "Person", &groups);
    let (roots, _) = all_pairs(&ir, &chunk);
    let bound = bind_roots(&ir, date("2019-08-01") as i32, &roots);
    let jit = jit_engine(&ir, &bound);
    // `small × small`, `−income` and the sum of incomes: proven;
    // `big × big`, `income × n` and the sum of squares can overflow.
    assert!(
        jit.program().proven_operations() >= 3,
        "{} operations proven",
        jit.program().proven_operations()
    );
    // Money of −¥0.05 is outside what a batch accepts, in a column the
    // proofs rely on: only the chunk without that person runs the proven
    // code. (`n = −1` alone would not matter: no proof relies on `n`.)
    assert!(!jit.program().proofs_hold(&chunk));
    let tame = grouped_chunk(&ir, "Household", "Person", &groups[..1]);
    assert!(jit.program().proofs_hold(&tame));
    for chunk in [&tame, &chunk] {
        let res = check_policy(&ir, date("2019-08-01") as i32, chunk);
        assert_eq!(result(&ir, &res, "sq_small", 0), Ok(EDGE * EDGE));
        assert_eq!(result(&ir, &res, "sq_big", 0), Err(ErrKind::Overflow));
        assert_eq!(result(&ir, &res, "sq_big", 1), Ok(0));
        assert_eq!(result(&ir, &res, "neg_income", 0), Ok(-MAX_MONEY));
        assert_eq!(result(&ir, &res, "times_n", 0), Err(ErrKind::Overflow));
        assert_eq!(result(&ir, &res, "times_n", 1), Ok(MAX_MONEY * 92_233));
        assert_eq!(result(&ir, &res, "total", 0), Ok(2 * MAX_MONEY));
        assert_eq!(result(&ir, &res, "total_sq", 0), Err(ErrKind::Overflow));
    }
    // Whole chunks through the group driver, proven and checked.
    let plan = output_plan(&ir);
    for chunk in [&tame, &chunk] {
        let a = weft_interp::batch::eval_chunk(&ir, &bound, chunk, &plan);
        for p in [
            jit.program().clone(),
            jit_checked_engine(&ir, &bound).program().clone(),
        ] {
            let b = p.eval_chunk(&ir, &bound, chunk, &plan);
            assert_same_chunk_result(&ir, chunk, &plan, &a, &b, "edge");
        }
    }
}

/// Values a batch would reject break the proofs' assumptions: the chunk
/// is evaluated by the interpreter, with its results and errors.
#[test]
fn chunks_outside_the_domains_agree() {
    let ir = ir();
    let plan = output_plan(&ir);
    let cases: Vec<(&str, Vec<Group<'static>>)> = vec![
        ("negative money", vec![(vec![], vec![person(1, 1, -1, 1)])]),
        (
            "money beyond the largest amount",
            vec![(vec![], vec![person(1, 1, i64::MAX, 1)])],
        ),
        (
            "an Int above its declared range",
            vec![(vec![], vec![person(EDGE + 1, 1, 1, 1)])],
        ),
        (
            "the most negative Int",
            vec![(vec![], vec![person(i64::MIN, 1, 1, 1)])],
        ),
        (
            "a sum that overflows",
            vec![(vec![], vec![person(1, 1, i64::MAX, 1), person(1, 1, 1, 1)])],
        ),
    ];
    for (what, groups) in &cases {
        let chunk = grouped_chunk(&ir, "Household", "Person", groups);
        let (roots, _) = all_pairs(&ir, &chunk);
        let bound = bind_roots(&ir, date("2019-08-01") as i32, &roots);
        let jit = jit_engine(&ir, &bound);
        assert!(!jit.program().proofs_hold(&chunk), "{what}");
        check_policy(&ir, date("2019-08-01") as i32, &chunk);
        let a = weft_interp::batch::eval_chunk(&ir, &bound, &chunk, &plan);
        let b = jit.program().eval_chunk(&ir, &bound, &chunk, &plan);
        assert_same_chunk_result(&ir, &chunk, &plan, &a, &b, what);
    }
}

/// A household larger than the proofs of sums assume (2¹⁶ members) is
/// evaluated by the interpreter; one at the limit by the proven code.
#[test]
fn households_beyond_the_assumed_size() {
    let ir = ir();
    let plan = output_plan(&ir);
    for (n, holds) in [(1usize << 16, true), ((1 << 16) + 1, false)] {
        let groups: Vec<Group<'static>> = vec![(vec![], vec![person(0, 0, MAX_MONEY, 0); n])];
        let chunk = grouped_chunk(&ir, "Household", "Person", &groups);
        let plan_roots: Vec<_> = plan
            .group
            .1
            .iter()
            .chain(plan.member.iter().flat_map(|(_, c)| c.iter()))
            .copied()
            .collect();
        let bound = bind_roots(&ir, date("2019-08-01") as i32, &plan_roots);
        let jit = jit_engine(&ir, &bound);
        assert_eq!(jit.program().proofs_hold(&chunk), holds, "{n} members");
        let a = weft_interp::batch::eval_chunk(&ir, &bound, &chunk, &plan);
        let b = jit.program().eval_chunk(&ir, &bound, &chunk, &plan);
        assert_same_chunk_result(&ir, &chunk, &plan, &a, &b, &format!("{n} members"));
        assert_eq!(
            a.group_values[0][0],
            n as i64 * MAX_MONEY,
            "the sum of {n} largest amounts"
        );
    }
}
