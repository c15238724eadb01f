//! `weft synth`.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use std::path::Path;
use weft::run::Format;
use weft::synth::SynthConfig;

pub fn synth(
    p: &PolicyArgs,
    groups: u64,
    seed: u64,
    as_of: &str,
    out: &Path,
    format: &str,
    sample: usize,
) -> CliResult {
    let as_of = super::parse_month(as_of)?;
    let Some(format) = Format::from_name(format) else {
        return Err(CliError::Usage(format!(
            "unknown format `{format}`; use csv, jsonl or parquet"
        )));
    };
    let policy = super::load(p)?;
    let config = SynthConfig::new(groups, as_of, out, format)
        .seed(seed)
        .sample(sample);
    let t = std::time::Instant::now();
    let r = policy.synth(&config)?;
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
            "programme hit rates on the first {} households (as of {as_of}):",
            sample.min(groups as usize),
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
    Ok(())
}
