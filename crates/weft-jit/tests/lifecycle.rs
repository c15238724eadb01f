//! Compiled programs: freed on drop, shared between threads, timed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use weft_ir::bind::bind;
use weft_jit::JitProgram;

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn compiling_and_dropping_200_times_does_not_grow_memory() {
    let ir = jilin();
    let plan = output_plan(&ir);
    let mut roots = plan.group.1.clone();
    roots.extend(plan.member.iter().flat_map(|(_, c)| c.iter().copied()));
    let bound = bind(&ir, date("2018-08-01") as i32, &roots).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let chunk = random_chunk(&ir, &mut rng, 20, false);
    // Two threads of `n` compilations each (two cores).
    let compile_and_drop = |n: usize| {
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..n {
                        let p = JitProgram::compile(&ir, &bound).unwrap();
                        p.eval_chunk(&ir, &bound, &chunk, &plan);
                    }
                });
            }
        })
    };
    // Warm up allocators (and their per-thread arenas) and caches.
    compile_and_drop(10);
    let before = resident_bytes();
    compile_and_drop(100);
    let after = resident_bytes();
    let grown = after.saturating_sub(before);
    eprintln!("resident: {before} → {after} bytes");
    assert!(
        grown < 4 << 20,
        "resident memory grew by {grown} bytes over 200 compilations"
    );
}

#[test]
fn one_program_serves_many_threads_at_once() {
    let ir = jilin();
    let plan = output_plan(&ir);
    let mut roots = plan.group.1.clone();
    roots.extend(plan.member.iter().flat_map(|(_, c)| c.iter().copied()));
    let bound = bind(&ir, date("2018-08-01") as i32, &roots).unwrap();
    let jit = JitProgram::compile(&ir, &bound).unwrap();
    // Another plan (columns reversed) goes through the trampoline and the
    // functions compiled on first use: two threads race to need them.
    let mut reversed = plan.clone();
    if let Some((_, cols)) = &mut reversed.member {
        cols.reverse();
    }
    reversed.group.1.reverse();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let plan = if t % 2 == 0 { &plan } else { &reversed };
            let (ir, bound, jit) = (&ir, &bound, &jit);
            s.spawn(move || {
                for k in 0..10 {
                    let mut rng = ChaCha8Rng::seed_from_u64(1000 + t * 100 + k);
                    let chunk = random_chunk(ir, &mut rng, 30, k % 3 == 0);
                    let a = weft_interp::batch::eval_chunk(ir, bound, &chunk, plan);
                    let b = jit.eval_chunk(ir, bound, &chunk, plan);
                    assert_same_chunk_result(
                        ir,
                        &chunk,
                        plan,
                        &a,
                        &b,
                        &format!("thread {t}, chunk {k}"),
                    );
                }
            });
        }
    });
}

/// Parameter values are compiled in: a program fits only the binding it
/// was compiled with, and a program compiled for an overlay (other
/// values) gives the interpreter's results for that overlay.
#[test]
fn parameter_values_are_compiled_in() {
    let ir = jilin();
    let plan = output_plan(&ir);
    let mut roots = plan.group.1.clone();
    roots.extend(plan.member.iter().flat_map(|(_, c)| c.iter().copied()));
    let bound = bind(&ir, date("2018-08-01") as i32, &roots).unwrap();
    let jit = JitProgram::compile(&ir, &bound).unwrap();
    assert!(jit.fits(&bound));
    let mut other = bound.clone();
    for p in other.params.iter_mut().flatten() {
        for v in &mut p.values {
            *v = v.saturating_mul(3) / 2;
        }
    }
    assert!(!jit.fits(&other), "other parameter values must not fit");
    let jit_other = JitProgram::compile(&ir, &other).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let chunk = random_chunk(&ir, &mut rng, 60, false);
    let a = weft_interp::batch::eval_chunk(&ir, &other, &chunk, &plan);
    let b = jit_other.eval_chunk(&ir, &other, &chunk, &plan);
    assert_same_chunk_result(&ir, &chunk, &plan, &a, &b, "scaled parameters");
    let c = jit.eval_chunk(&ir, &bound, &chunk, &plan);
    let d = weft_interp::batch::eval_chunk(&ir, &bound, &chunk, &plan);
    assert_same_chunk_result(&ir, &chunk, &plan, &d, &c, "shipped parameters");
    assert_ne!(
        b.group_values, c.group_values,
        "the parameters should matter"
    );
}

/// The cache of compiled programs: binding the same program with the same
/// parameters again reuses the compiled program; an overlay (another
/// value) and another month are compiled.
#[test]
fn a_second_binding_is_a_cache_hit_and_an_overlay_is_not() {
    let ir = jilin();
    let plan = output_plan(&ir);
    let mut roots = plan.group.1.clone();
    roots.extend(plan.member.iter().flat_map(|(_, c)| c.iter().copied()));
    // A month no other test of this binary uses (the cache is shared by
    // the process).
    let first = bind(&ir, date("2018-03-01") as i32, &roots).unwrap();
    let (p1, reused1) = JitProgram::compile_cached(&ir, &first).unwrap();
    assert!(!reused1, "the first binding is compiled");
    let again = bind(&ir, date("2018-03-01") as i32, &roots).unwrap();
    let (p2, reused2) = JitProgram::compile_cached(&ir, &again).unwrap();
    assert!(
        reused2,
        "the same program and parameters bound again is a hit"
    );
    assert!(std::sync::Arc::ptr_eq(&p1, &p2));
    let mut overlay = again.clone();
    let changed = overlay
        .params
        .iter_mut()
        .flatten()
        .find_map(|p| p.values.first_mut())
        .map(|v| *v += 1);
    assert!(changed.is_some(), "the pack has parameter values");
    let (p3, reused3) = JitProgram::compile_cached(&ir, &overlay).unwrap();
    assert!(!reused3, "an overlay is compiled");
    assert!(!std::sync::Arc::ptr_eq(&p1, &p3));
    assert!(p3.fits(&overlay) && !p3.fits(&first));
    let month = bind(&ir, date("2018-04-01") as i32, &roots).unwrap();
    let (_, reused4) = JitProgram::compile_cached(&ir, &month).unwrap();
    assert!(!reused4, "another month is compiled");
    // The overlay's program computes the overlay.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let chunk = random_chunk(&ir, &mut rng, 40, false);
    let a = weft_interp::batch::eval_chunk(&ir, &overlay, &chunk, &plan);
    let b = p3.eval_chunk(&ir, &overlay, &chunk, &plan);
    assert_same_chunk_result(&ir, &chunk, &plan, &a, &b, "overlay from the cache");
}

/// A rough speed comparison, printed (run with `--release --nocapture`;
/// `WEFT_TIMING_HOUSEHOLDS` sets the size, default 2,000). Asserts nothing
/// about speed, only agreement.
#[test]
fn timing_eval_chunk_against_the_interpreter() {
    let n: usize = std::env::var("WEFT_TIMING_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let ir = jilin();
    let plan = output_plan(&ir);
    let mut roots = plan.group.1.clone();
    roots.extend(plan.member.iter().flat_map(|(_, c)| c.iter().copied()));
    let bound = bind(&ir, date("2018-08-01") as i32, &roots).unwrap();
    let t = std::time::Instant::now();
    let jit = JitProgram::compile(&ir, &bound).unwrap();
    let compile = t.elapsed();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let chunk = random_chunk(&ir, &mut rng, n, false);
    let persons = chunk.rows(plan.member.as_ref().unwrap().0);
    let best = |f: &dyn Fn() -> weft_interp::batch::ChunkResult| {
        let mut best = std::time::Duration::MAX;
        let mut out = None;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let r = f();
            best = best.min(t.elapsed());
            out = Some(r);
        }
        (best, out.unwrap())
    };
    let (ti, a) = best(&|| weft_interp::batch::eval_chunk(&ir, &bound, &chunk, &plan));
    let (tj, b) = best(&|| jit.eval_chunk(&ir, &bound, &chunk, &plan));
    assert_same_chunk_result(&ir, &chunk, &plan, &a, &b, "timing");
    eprintln!(
        "TIMING jilin: compile {:.1} ms; {n} households / {persons} persons: interpreter {:.2} ms, jit {:.2} ms ({:.1}× faster)",
        compile.as_secs_f64() * 1e3,
        ti.as_secs_f64() * 1e3,
        tj.as_secs_f64() * 1e3,
        ti.as_secs_f64() / tj.as_secs_f64()
    );
}
