//! The evaluation phase alone, interpreter and JIT, on a population
//! directory, one thread and several: what `scripts/bench-eval.sh` runs
//! beside the hand-written yardstick.
//!
//! `cargo run --release -p weft-bench --example bench_eval -- DIR [--month 2019-08] [--runs 3] [--threads 1,2]`
//!
//! `DIR` holds `households.csv` and `persons.csv` (`weft synth --format
//! csv`). The population is read, validated and cut into chunks of 4,096
//! members, as `weft run` does; the JIT is compiled once (its compile time
//! printed). Then, for each thread count, `--runs` rounds each time one
//! pass of the interpreter and one of the JIT over every chunk (the
//! chunks on a rayon pool of that many threads), interleaved so both see
//! the same machine load. The first pass of each engine is compared cell
//! for cell (values and errors). Prints one line per engine and thread
//! count, `RESULT engine=… threads=… runs=… min_ms=… max_ms=…`, for the
//! script to read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rayon::prelude::*;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use weft_bench::{Prepared, jilin, prepare};
use weft_interp::batch::ChunkResult;
use weft_jit::JitProgram;

fn pass(engine: &str, p: &Prepared, jit: &JitProgram, pool: &rayon::ThreadPool) -> Duration {
    let t = Instant::now();
    pool.install(|| {
        p.chunks.par_iter().for_each(|chunk| {
            if engine == "interp" {
                black_box(weft_interp::batch::eval_chunk(
                    &p.ir, &p.bound, chunk, &p.plan,
                ));
            } else {
                black_box(jit.eval_chunk(&p.ir, &p.bound, chunk, &p.plan));
            }
        })
    });
    t.elapsed()
}

fn same(a: &ChunkResult, b: &ChunkResult) -> bool {
    a.member_values == b.member_values && a.group_values == b.group_values && {
        a.errors.len() == b.errors.len()
            && a.errors.iter().zip(&b.errors).all(|(x, y)| match (x, y) {
                (None, None) => true,
                (Some(x), Some(y)) => {
                    x.kind == y.kind && x.inst == y.inst && x.row == y.row && x.detail == y.detail
                }
                _ => false,
            })
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let mut month = "2019-08".to_string();
    let mut runs = 3usize;
    let mut threads = vec![1usize, 2];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--month" => month = args.next().expect("--month needs a value"),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--threads" => {
                threads = args
                    .next()
                    .expect("--threads needs a value")
                    .split(',')
                    .map(|t| t.parse().expect("--threads 1,2"))
                    .collect()
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.expect("usage: bench_eval DIR [--month YYYY-MM] [--runs N] [--threads 1,2]");
    let as_of = weft_syntax::num::parse_month(&month).expect("a month YYYY-MM");
    let t = Instant::now();
    let p = prepare(jilin(), &dir, as_of, 4096);
    eprintln!(
        "prepared {} persons in {} chunks in {:.1?}",
        p.members,
        p.chunks.len(),
        t.elapsed()
    );
    let jit = JitProgram::compile(&p.ir, &p.bound).unwrap();
    eprintln!("JIT compiled in {:.1?}", jit.compile_time());
    // Agreement, cell for cell, before anything is timed.
    let mut agree = 0usize;
    for chunk in &p.chunks {
        let a = weft_interp::batch::eval_chunk(&p.ir, &p.bound, chunk, &p.plan);
        let b = jit.eval_chunk(&p.ir, &p.bound, chunk, &p.plan);
        assert!(same(&a, &b), "the JIT and the interpreter disagree");
        agree += 1;
    }
    eprintln!("the engines agree on all {agree} chunks");
    println!("PERSONS {}", p.members);
    for t in &threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(*t)
            .build()
            .unwrap();
        let mut times: Vec<(&str, Vec<Duration>)> = vec![("interp", vec![]), ("jit", vec![])];
        for _ in 0..runs {
            for (engine, ts) in times.iter_mut() {
                ts.push(pass(engine, &p, &jit, &pool));
            }
        }
        for (engine, ts) in &times {
            let min = ts.iter().min().unwrap().as_secs_f64() * 1e3;
            let max = ts.iter().max().unwrap().as_secs_f64() * 1e3;
            println!(
                "RESULT engine={engine} threads={t} runs={runs} min_ms={min:.3} max_ms={max:.3}"
            );
        }
    }
}
