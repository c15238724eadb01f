//! The evaluation phase of `weft run` on the jilin pack, two ways, in one
//! run: the reference interpreter and the JIT. Same chunks, same thread,
//! same machine; criterion reports time per pass and persons per second.
//! The comparison with the hand-written yardstick (a separate program) is
//! `scripts/bench-eval.sh`.
//!
//! `cargo bench -p weft-bench --bench eval`
//!
//! Populations: the shipped example (7,380 persons) and a synthetic one of
//! 20,000 households (about 49,000 persons), both evaluated for 2019-08.
//! Compilation is excluded (it is measured once, and printed).
//!
//! `jit, 2 threads` and `interpreter, 2 threads` evaluate the same chunks
//! on a rayon pool of two threads, as `weft run --threads 2` does: the
//! scaling of the evaluation phase alone, without reading and writing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;
use weft_bench::{Prepared, jilin, prepare, synth};
use weft_jit::JitProgram;

fn group(c: &mut Criterion, name: &str, p: &Prepared) {
    let t = Instant::now();
    let jit = JitProgram::compile(&p.ir, &p.bound).unwrap();
    eprintln!(
        "{name}: JIT compiled in {:.1?} (wall {:.1?})",
        jit.compile_time(),
        t.elapsed()
    );
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(p.members as u64));
    g.sample_size(10);
    g.bench_function("interpreter", |b| {
        b.iter(|| {
            for chunk in &p.chunks {
                black_box(weft_interp::batch::eval_chunk(
                    &p.ir, &p.bound, chunk, &p.plan,
                ));
            }
        })
    });
    g.bench_function("jit", |b| {
        b.iter(|| {
            for chunk in &p.chunks {
                black_box(jit.eval_chunk(&p.ir, &p.bound, chunk, &p.plan));
            }
        })
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("interpreter, 2 threads", |b| {
        b.iter(|| {
            pool.install(|| {
                p.chunks.par_iter().for_each(|chunk| {
                    black_box(weft_interp::batch::eval_chunk(
                        &p.ir, &p.bound, chunk, &p.plan,
                    ));
                })
            })
        })
    });
    g.bench_function("jit, 2 threads", |b| {
        b.iter(|| {
            pool.install(|| {
                p.chunks.par_iter().for_each(|chunk| {
                    black_box(jit.eval_chunk(&p.ir, &p.bound, chunk, &p.plan));
                })
            })
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let month = weft_syntax::num::parse_month("2019-08").unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/population");
    group(c, "example", &prepare(jilin(), &example, month, 4096));
    let dir = synth(&jilin(), 20_000, 7);
    group(
        c,
        "synthetic-20k",
        &prepare(jilin(), dir.path(), month, 4096),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
