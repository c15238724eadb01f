//! `weft synth`.

use crate::PolicyArgs;
use std::path::Path;
use weft_data::Format;
use weft_engine::synth::{SynthOptions, synth as generate};

pub fn synth(
    p: &PolicyArgs,
    groups: u64,
    seed: u64,
    as_of: &str,
    out: &Path,
    format: &str,
    sample: usize,
) -> i32 {
    let as_of = match super::parse_month(as_of) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let Some(format) = Format::from_name(format) else {
        eprintln!("error: unknown format `{format}`; use csv, jsonl or parquet");
        return 2;
    };
    let loaded = match super::load(p) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let opts = SynthOptions {
        groups,
        seed,
        as_of,
        out_dir: out.to_path_buf(),
        format,
        sample,
    };
    let t = std::time::Instant::now();
    match generate(&loaded.ir, &opts) {
        Ok(r) => {
            for (f, n) in &r.files {
                eprintln!("wrote {n} rows to {}", out.join(f).display());
            }
            eprintln!(
                "generated in {:.1} s (seed {seed}, ChaCha8; {} records drawn again to pass their checks)",
                t.elapsed().as_secs_f64(),
                r.redraws
            );
            if !r.hit_rates.is_empty() {
                eprintln!(
                    "programme hit rates on the first {} households (as of {}):",
                    sample.min(groups as usize),
                    weft_syntax::num::format_month(as_of)
                );
                for (name, rec, rows) in &r.hit_rates {
                    let pct = if *rows > 0 {
                        100.0 * *rec as f64 / *rows as f64
                    } else {
                        0.0
                    };
                    eprintln!("  {name:<24} {rec:>7} of {rows:>7}  ({pct:.1}%)");
                }
            }
            0
        }
        Err(e) => {
            weft_engine::synth::clean(out);
            eprintln!("error: {e}");
            1
        }
    }
}
