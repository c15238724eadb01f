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
        let jit = JitBackend::new(&ir, &bound);
        total += assert_agree(&jit, &ir, &bound, &chunk, &pairs, &t.name);
        // Reverse order: a different memo history.
        let rev: Vec<_> = pairs.iter().rev().copied().collect();
        assert_agree(&jit, &ir, &bound, &chunk, &rev, &t.name);
        assert_agree_each(&jit, &ir, &bound, &chunk, &pairs, &t.name);
        // The expectations exactly as the test runner evaluates them.
        let exp: Vec<_> = ir.tests[ti].iter().map(|i| (*i, 0)).collect();
        assert_agree(&jit, &ir, &bound, &chunk, &exp, &t.name);
    }
    assert!(total > 0);
}

#[test]
fn jilin_expectations_hold_on_the_jit() {
    let ir = jilin();
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
        let jit = weft_jit::JitProgram::compile(&ir, &bound).unwrap();
        let insts: Vec<_> = ir.tests[ti].iter().map(|i| (*i, 0)).collect();
        let results = jit.eval_insts(&ir, &bound, &chunk, &insts);
        for (x, r) in t.expects.iter().zip(&results) {
            match (&x.fails, r) {
                (None, Ok(v)) => assert_eq!(*v, 1, "test `{}`: an expectation is false", t.name),
                (Some(_), Err(_)) => {}
                other => panic!("test `{}`: unexpected {other:?}", t.name),
            }
        }
    }
}
