//! A quick measurement and profiling helper for the evaluation phase (not
//! a benchmark: criterion's `benches/eval.rs` is the reference).
//!
//! `cargo run --release -p weft-bench --example evalprof -- [ROUNDS] [jit|interp|all] [example|synth]`
//!
//! Prints, per engine, the best time of ROUNDS passes over the population
//! (interleaved, so the engines see the same machine load) and persons/s;
//! with one engine it just loops (for `perf record`, which names the
//! JIT's functions `instN`; `evalprof names` prints each instance's name).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};
use weft_bench::{Prepared, jilin, prepare, synth};
use weft_jit::JitProgram;

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// CPU time of this thread (Linux x86-64/aarch64: `CLOCK_THREAD_CPUTIME_ID`),
/// so that time waiting for a core shared with other processes is not
/// counted.
fn cpu() -> Option<Duration> {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `clock_gettime` writes one `timespec` (two 64-bit fields on
    // these targets) to the pointer it is given.
    let r = unsafe { clock_gettime(3, &mut ts) };
    (r == 0).then(|| Duration::new(ts.sec as u64, ts.nsec as u32))
}

fn pass(which: &str, p: &Prepared, jit: &JitProgram) -> (Duration, Duration) {
    let c = cpu();
    let t = Instant::now();
    for chunk in &p.chunks {
        match which {
            "interp" => {
                black_box(weft_interp::batch::eval_chunk(
                    &p.ir, &p.bound, chunk, &p.plan,
                ));
            }
            _ => {
                black_box(jit.eval_chunk(&p.ir, &p.bound, chunk, &p.plan));
            }
        }
    }
    let wall = t.elapsed();
    let on_cpu = match (c, cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall,
    };
    (wall, on_cpu)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("names") {
        for (i, inst) in jilin().instances.iter().enumerate() {
            println!("inst{i}\t{}", inst.name);
        }
        return;
    }
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let which = args.get(2).cloned().unwrap_or_else(|| "all".into());
    let pop = args.get(3).cloned().unwrap_or_else(|| "synth".into());
    let month = weft_syntax::num::parse_month("2019-08").unwrap();
    let _dir;
    let p = if pop == "example" {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/population");
        prepare(jilin(), &example, month, 4096)
    } else {
        _dir = synth(&jilin(), 20_000, 7);
        prepare(jilin(), _dir.path(), month, 4096)
    };
    let mut jit = JitProgram::compile(&p.ir, &p.bound).unwrap();
    let mut compile = jit.compile_time();
    for _ in 0..4 {
        jit = JitProgram::compile(&p.ir, &p.bound).unwrap();
        compile = compile.min(jit.compile_time());
    }
    eprintln!("JIT compiled in {compile:.1?} (best of 5)");
    let engines: Vec<&str> = if which == "all" {
        vec!["interp", "jit"]
    } else {
        vec![which.as_str()]
    };
    let mut best = vec![Duration::MAX; engines.len()];
    let mut best_cpu = vec![Duration::MAX; engines.len()];
    for _ in 0..rounds {
        for (i, e) in engines.iter().enumerate() {
            let (w, c) = pass(e, &p, &jit);
            best[i] = best[i].min(w);
            best_cpu[i] = best_cpu[i].min(c);
        }
    }
    let rate = |d: Duration| p.members as f64 / d.as_secs_f64();
    for ((e, d), c) in engines.iter().zip(&best).zip(&best_cpu) {
        println!(
            "{e:>9}: wall {d:>10.2?} {:>8.0}k persons/s   cpu {c:>10.2?} {:>8.0}k persons/s",
            rate(*d) / 1e3,
            rate(*c) / 1e3
        );
    }
    if engines.len() == 2 {
        let r = |b: &[Duration]| b[0].as_secs_f64() / b[1].as_secs_f64();
        println!("wall: jit/interp {:.2}x", r(&best));
        println!("cpu:  jit/interp {:.2}x", r(&best_cpu));
    }
}
