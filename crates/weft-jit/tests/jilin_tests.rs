//! (a) For every `test` block of the Jilin pack and every instance its
//! expectations reach (for every row of the test's records), the JIT and
//! the interpreter agree exactly, values and errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use weft_ir::InstId;
use weft_ir::data::test_chunk;

#[test]
fn every_reachable_instance_of_every_jilin_test_agrees() {
    let ir = jilin();
    assert!(!ir.hir.tests.is_empty());
    let mut total = 0;
    let (mut held, mut expectations) = (0, 0);
    for (ti, t) in ir.hir.tests.iter().enumerate() {
        let mut roots: Vec<InstId> = ir.tests[ti].clone();
        roots.extend(
            ir.test_sides[ti]
                .iter()
                .flatten()
                .flat_map(|(a, b)| [*a, *b]),
        );
        let bound = bind_roots(&ir, t.as_of, &roots);
        let chunk = test_chunk(&ir, t);
        let pairs = reachable_pairs(&ir, &chunk, &roots);
        let jit = jit_engine(&ir, &bound);
        total += assert_agree(&jit, &ir, &bound, &chunk, &pairs, &t.name);
        // Reverse order: a different memo history.
        let rev: Vec<_> = pairs.iter().rev().copied().collect();
        assert_agree(&jit, &ir, &bound, &chunk, &rev, &t.name);
        assert_agree_each(&jit, &ir, &bound, &chunk, &pairs, &t.name);
        // The expectations exactly as the test runner evaluates them.
        let exp: Vec<_> = ir.tests[ti].iter().map(|i| (*i, 0)).collect();
        assert_agree(&jit, &ir, &bound, &chunk, &exp, &t.name);
        let results = jit.eval_insts(&chunk, &exp);
        for (x, r) in t.expects.iter().zip(&results) {
            expectations += 1;
            if matches!((&x.fails, r), (None, Ok(1)) | (Some(_), Err(_))) {
                held += 1;
            }
        }
    }
    assert!(total > 0);
    // Whether the pack's own tests pass is the pack's business (the
    // interpreter agrees with every result above); report it.
    eprintln!(
        "{} tests, {total} instance rows compared; {held} of {expectations} expectations hold",
        ir.hir.tests.len()
    );
}

/// The pack's assertions (their `every` keys unset, 0, on both engines) as
/// of a few dates, and the record checks on random records.
#[test]
fn jilin_assertions_and_record_checks_agree() {
    use rand::SeedableRng;
    let ir = jilin();
    let mut roots: Vec<InstId> = ir.asserts.clone();
    roots.extend(ir.checks.iter().flatten().copied());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let chunk = random_chunk(&ir, &mut rng, 30, true);
    let mut n = 0;
    for month in ["2016-01-01", "2017-07-01", "2018-08-01", "2019-07-01"] {
        let Ok(bound) = weft_ir::bind::bind(&ir, date(month) as i32, &roots) else {
            continue;
        };
        let pairs = reachable_pairs(&ir, &chunk, &roots);
        let jit = jit_engine(&ir, &bound);
        n += assert_agree(&jit, &ir, &bound, &chunk, &pairs, month);
    }
    assert!(n > 0);
}
