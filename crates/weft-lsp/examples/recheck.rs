//! How long `weft lsp` takes to re-check a pack after a keystroke: the
//! whole pack (default `policies/jilin`) is parsed and checked with the
//! semantic model, as the server does after a change, alternately with a
//! clean text and with an error typed into one file.
//!
//!     cargo run --release -p weft-lsp --example recheck [-- DIR [RUNS]]

use std::time::Instant;
use weft::editor::{Pack, analyse};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin").to_string()
    });
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(30);
    let mut pack = Pack::read_dir(std::path::Path::new(&dir))?;
    let files = pack.files();
    let file = files
        .iter()
        .find(|f| f.ends_with(".weft"))
        .ok_or("no .weft file")?
        .clone();
    let clean = pack.text(&file).unwrap_or_default().to_string();
    let broken = format!("{clean}\nrule typed_now: Int = no_such_name\n");
    let bytes: usize = files
        .iter()
        .filter_map(|f| pack.text(f))
        .map(str::len)
        .sum();
    let mut times = Vec::new();
    for i in 0..runs {
        pack.set_file(&file, if i % 2 == 0 { &broken } else { &clean });
        let t = Instant::now();
        let a = analyse(&pack);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let errors = a.diagnostics().iter().filter(|d| d.is_error).count();
        if errors != usize::from(i % 2 == 0) {
            return Err(format!("run {i}: {errors} errors").into());
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    println!(
        "re-check of {dir} ({} files, {bytes} bytes), {runs} runs: median {median:.1} ms, min {:.1} ms, max {:.1} ms",
        files.len(),
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}
