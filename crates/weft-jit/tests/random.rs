//! (c) Random households and persons through the Jilin outputs: the JIT's
//! `eval_chunk` and the interpreter's agree (errors of every group, values
//! of accepted groups), and so does every instance evaluated one by one.
//!
//! `WEFT_PROPTEST_CASES` sets the number of chunks (default 12).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use weft_ir::bind::bind;

fn cases() -> u64 {
    std::env::var("WEFT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

#[test]
fn random_jilin_chunks_agree() {
    let ir = jilin();
    let plan = output_plan(&ir);
    let mut roots = plan.group.1.clone();
    roots.extend(plan.member.iter().flat_map(|(_, c)| c.iter().copied()));
    let months = [
        "2018-08-01",
        "2017-03-01",
        "2019-07-01",
        "2016-01-01",
        "2018-12-01",
    ];
    let mut compared = 0;
    let mut errors = 0;
    let mut proven = 0;
    for (mi, month) in months.iter().enumerate() {
        let Ok(bound) = bind(&ir, date(month) as i32, &roots) else {
            continue;
        };
        let engine = jit_engine(&ir, &bound);
        let jit = engine.program();
        let checked = jit_checked_engine(&ir, &bound);
        assert!(jit.proven_operations() > 0, "{month}: nothing proven");
        for case in 0..cases() {
            let seed = case * 31 + mi as u64;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let chunk = random_chunk(&ir, &mut rng, 40, case % 2 == 1);
            let a = weft_interp::batch::eval_chunk(&ir, &bound, &chunk, &plan);
            let b = jit.eval_chunk(&ir, &bound, &chunk, &plan);
            assert_same_chunk_result(&ir, &chunk, &plan, &a, &b, &format!("{month}, seed {seed}"));
            let c = checked.program().eval_chunk(&ir, &bound, &chunk, &plan);
            assert_same_chunk_result(
                &ir,
                &chunk,
                &plan,
                &a,
                &c,
                &format!("{month}, seed {seed}, every overflow checked"),
            );
            if jit.proofs_hold(&chunk) {
                proven += 1;
            }
            errors += a.errors.iter().filter(|e| e.is_some()).count();
            compared += a.errors.len();
            if case < 2 {
                // Every reachable instance on its own memo history.
                let pairs = reachable_pairs(&ir, &chunk, &roots);
                assert_agree(
                    &engine,
                    &ir,
                    &bound,
                    &chunk,
                    &pairs,
                    &format!("{month}, seed {seed}, all instances"),
                );
            }
        }
    }
    assert!(compared > 0);
    // The tame chunks (every other one) hold validated values only: the
    // proven code ran on them.
    assert!(proven > 0, "the proven code never ran");
    eprintln!("{compared} households compared, {errors} rejected; {proven} chunks on proven code");
}
