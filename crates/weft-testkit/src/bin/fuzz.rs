//! A mutation fuzzer for parse + check (+ lowering and the interpreter on
//! the policy's own tests when a mutant still checks cleanly).
//!
//! cargo-fuzz needs a nightly toolchain; this loop needs nothing but the
//! workspace. It starts from the Jilin pack and every `tests/lang` policy,
//! mutates one or more files of a pack (bit flips, dictionary tokens, token
//! deletions and duplications, splices from other files, line swaps,
//! truncation, deep nesting), and compiles the mutant through
//! `weft_check::pack::compile_sources`. A panic anywhere (caught by the
//! compile thread and reported as `E0002`, or by the panic hook) is a crash;
//! an abort (stack overflow) kills the process, so the input being tried is
//! written to `OUT/current/` before each run. Mutants that produce a new
//! diagnostic code or message shape join the pool, a crude stand-in for
//! coverage feedback.
//!
//! `cargo run --release -p weft-testkit --bin fuzz -- --seconds 600 [--seed N] [--out DIR]`

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use weft_check::pack::{PackSources, compile_sources};
use weft_testkit::Rng;

static PANICKED: AtomicBool = AtomicBool::new(false);

const DICT: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    "=>",
    "=",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "≤",
    "≥",
    "≠",
    "+",
    "-",
    "*",
    "/",
    "×",
    "÷",
    ",",
    ".",
    ":",
    "?",
    "\"",
    "\\",
    "%",
    "¥",
    "￥",
    "..",
    "..=",
    "，",
    "（",
    "）",
    "：",
    "；",
    "“",
    "”",
    "　",
    "\n",
    " ",
    "\t",
    "///",
    "//",
    "if ",
    " then ",
    " else ",
    "match ",
    "let ",
    " in ",
    " and ",
    " or ",
    "not ",
    " iff ",
    "true",
    "false",
    " for ",
    " where ",
    "source ",
    "from ",
    " at ",
    "expect ",
    "otherwise",
    " when ",
    " per month",
    " per year",
    "as_of",
    "remains",
    " given ",
    "hit ",
    "unique",
    "first",
    "sum",
    "max",
    "min",
    "count",
    "any",
    "all",
    " fails with ",
    "overflow",
    "rule ",
    "table ",
    "scale ",
    "cascade ",
    "exception ",
    "assert ",
    "test ",
    "param ",
    "series ",
    "enum ",
    "record ",
    "import ",
    "output ",
    "programme ",
    "defaults ",
    "Money",
    "Int",
    "Decimal",
    "Bool",
    "Text",
    "Date",
    "Days",
    "Months",
    "Years",
    "Bands of ",
    "marginal",
    "flat",
    "round each band",
    "round total",
    "adjust rate + ",
    "bands ",
    " pays ",
    "remainder ",
    " over ",
    " except ",
    "every ",
    "in force ",
    "warning",
    "error",
    "2019-07-01",
    "2016-02-29",
    "9999-12-31",
    "0000-00-00",
    "2018-13",
    "¥1,234.50",
    "¥9,223,372,036,854,775.807",
    "¥0.005",
    "99999999999999999999",
    "9223372036854775807",
    "0.1234567",
    "12.3456%",
    "3 months",
    "1 year",
    "29 days",
    "absent",
    "is_set(",
    "round(",
    ", to: yuan)",
    "per_month(",
    "per_year(",
    "prior_year(",
    "add_months(",
    "years_between(",
    "months_between(",
    "clamp(",
    "Person",
    "Household",
    "p.household",
    "h.members",
    "特困供养标准",
    "e\u{301}",
    "\u{FEFF}",
    "\u{0}",
    "\u{FFFD}",
    "[Region]",
    "[HospitalLevel except none]",
    "effective = ",
    "[[x.version]]",
    "value = ",
    "replace = true",
];

struct Stats {
    inputs: u64,
    clean: u64,
    evaluated: u64,
    crashes: u64,
    slow: u64,
}

fn pack_of_dir(dir: &Path) -> Option<PackSources> {
    let p = weft_testkit::read_pack(dir).ok()?;
    if p.modules.is_empty() { None } else { Some(p) }
}

fn tokens(s: &[u8]) -> Vec<(usize, usize)> {
    // Runs of word bytes, runs of spaces, and single other bytes.
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let class = |b: u8| {
            if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 {
                0
            } else if b == b' ' || b == b'\t' || b == b'\n' {
                1
            } else {
                2
            }
        };
        let c = class(s[i]);
        let mut j = i + 1;
        if c != 2 {
            while j < s.len() && class(s[j]) == c {
                j += 1;
            }
        }
        out.push((i, j));
        i = j;
    }
    out
}

fn mutate(rng: &mut Rng, text: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = text.to_vec();
    let n = 1 + rng.below(4);
    for _ in 0..n {
        let len = b.len();
        match rng.below(14) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = rng.below(256) as u8;
            }
            2 | 3 => {
                let i = rng.below(len + 1);
                let t = DICT[rng.below(DICT.len())].as_bytes();
                b.splice(i..i, t.iter().copied());
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                b.drain(i..j);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(64)).min(len);
                let piece: Vec<u8> = b[i..j].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, piece);
            }
            6 | 7 => {
                let toks = tokens(&b);
                if !toks.is_empty() {
                    let (s, e) = toks[rng.below(toks.len())];
                    b.drain(s..e);
                }
            }
            8 => {
                let toks = tokens(&b);
                if !toks.is_empty() {
                    let (s, e) = toks[rng.below(toks.len())];
                    let piece: Vec<u8> = b[s..e].to_vec();
                    let (at, _) = toks[rng.below(toks.len())];
                    b.splice(at..at, piece);
                }
            }
            9 if !other.is_empty() => {
                let i = rng.below(other.len());
                let j = (i + 1 + rng.below(400)).min(other.len());
                let at = rng.below(len + 1);
                let cut = (at + rng.below(200)).min(len);
                b.splice(at..cut, other[i..j].iter().copied());
            }
            10 => {
                let lines: Vec<&[u8]> = b.split(|c| *c == b'\n').collect();
                if lines.len() > 1 {
                    let mut lines: Vec<Vec<u8>> = lines.into_iter().map(|l| l.to_vec()).collect();
                    let i = rng.below(lines.len());
                    let j = rng.below(lines.len());
                    lines.swap(i, j);
                    b = lines.join(&b'\n');
                }
            }
            11 if len > 0 && rng.chance(4) => {
                b.truncate(rng.below(len));
            }
            12 if rng.chance(8) => {
                let depth = 1 + rng.below(200);
                let at = rng.below(len + 1);
                let (open, close) = [
                    ("(", ")"),
                    ("[", "]"),
                    ("{", "}"),
                    ("if true then ", " else 1"),
                ][rng.below(4)];
                let mut piece = open.repeat(depth).into_bytes();
                piece.extend_from_slice(b"1");
                piece.extend(close.repeat(depth).into_bytes());
                b.splice(at..at, piece);
            }
            13 => {
                // A whole line of another file.
                let lines: Vec<&[u8]> = other.split(|c| *c == b'\n').collect();
                if !lines.is_empty() {
                    let line = lines[rng.below(lines.len())].to_vec();
                    let at = b
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| **c == b'\n')
                        .map(|(i, _)| i + 1)
                        .nth(rng.below(64))
                        .unwrap_or(0);
                    let mut piece = line;
                    piece.push(b'\n');
                    b.splice(at.min(b.len())..at.min(b.len()), piece);
                }
            }
            _ => {}
        }
    }
    b
}

fn save(dir: &Path, pack: &PackSources) {
    let _ = std::fs::remove_dir_all(dir);
    for (name, text) in pack.modules.iter().chain(&pack.params) {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(p, text);
    }
    for (name, text) in &pack.overlays {
        let p = dir
            .join("overlay")
            .join(Path::new(name).file_name().unwrap_or_default());
        let _ = std::fs::create_dir_all(dir.join("overlay"));
        let _ = std::fs::write(p, text);
    }
}

/// Lower a clean program and evaluate its tests' expectations with the
/// interpreter; any outcome is fine, only a panic is not.
fn evaluate(program: weft_check::Program) {
    let Ok(ir) = weft_ir::lower::lower(Arc::new(program)) else {
        return;
    };
    let prog = ir.hir.clone();
    for (ti, t) in prog.tests.iter().enumerate() {
        let insts = ir.tests.get(ti).cloned().unwrap_or_default();
        let chunk = weft_ir::data::test_chunk(&ir, t);
        if let Ok(bound) = weft_ir::bind::bind(&ir, t.as_of, &insts) {
            let mut it = weft_interp::Interp::new(&ir, &bound, &chunk);
            for i in &insts {
                let _ = it.eval_inst(*i, 0);
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = arg("--seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let out = arg("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| weft_testkit::root().join("target/fuzz-out"));
    let _ = std::fs::create_dir_all(&out);

    let mut seeds: Vec<PackSources> = Vec::new();
    if let Some(p) = pack_of_dir(&weft_testkit::root().join("policies/jilin")) {
        seeds.push(p);
    }
    if let Ok(rd) = std::fs::read_dir(weft_testkit::lang_dir()) {
        let mut dirs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        seeds.extend(dirs.iter().filter_map(|d| pack_of_dir(d)));
    }
    if seeds.is_empty() {
        eprintln!("no seed policies found");
        std::process::exit(2);
    }
    let all_files: Vec<Vec<u8>> = seeds
        .iter()
        .flat_map(|p| {
            p.modules
                .iter()
                .chain(&p.params)
                .map(|(_, t)| t.clone().into_bytes())
        })
        .collect();

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, Ordering::SeqCst);
        default_hook(info);
    }));

    println!(
        "fuzzing {} seed policies for {seconds} s, seed {seed}, crashes in {}",
        seeds.len(),
        out.display()
    );
    let mut rng = Rng::new(seed);
    let mut pool: Vec<PackSources> = seeds.clone();
    let mut seen: HashSet<String> = HashSet::new();
    let mut stats = Stats {
        inputs: 0,
        clean: 0,
        evaluated: 0,
        crashes: 0,
        slow: 0,
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut last_report = Instant::now();
    let current = out.join("current");
    while Instant::now() < deadline {
        let base = if rng.chance(3) {
            &seeds[rng.below(seeds.len())]
        } else {
            &pool[rng.below(pool.len())]
        };
        let mut pack = base.clone();
        let nfiles = pack.modules.len() + pack.params.len();
        let rounds = 1 + usize::from(rng.chance(4));
        for _ in 0..rounds {
            let fi = rng.below(nfiles.max(1));
            let other = &all_files[rng.below(all_files.len())];
            let slot = if fi < pack.modules.len() {
                pack.modules.get_mut(fi)
            } else {
                pack.params.get_mut(fi - pack.modules.len())
            };
            if let Some((_, text)) = slot {
                let m = mutate(&mut rng, text.as_bytes(), other);
                *text = String::from_utf8_lossy(&m).into_owned();
            }
        }
        if rng.chance(50) && pack.modules.len() > 1 {
            let i = rng.below(pack.modules.len());
            pack.modules.remove(i);
        }
        if rng.chance(40) && !pack.params.is_empty() {
            // Give one parameter file as an overlay instead.
            let i = rng.below(pack.params.len());
            let f = pack.params.remove(i);
            pack.overlays.push(f);
        }
        save(&current, &pack);
        PANICKED.store(false, Ordering::SeqCst);
        let t0 = Instant::now();
        let (_, program, diags) = compile_sources(&pack);
        let errors = diags.iter().filter(|d| d.is_error()).count();
        if errors == 0 && !PANICKED.load(Ordering::SeqCst) {
            stats.clean += 1;
            if !program.tests.is_empty() {
                stats.evaluated += 1;
                let r =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| evaluate(program)));
                if r.is_err() {
                    PANICKED.store(true, Ordering::SeqCst);
                }
            }
        }
        let took = t0.elapsed();
        stats.inputs += 1;
        let crashed = PANICKED.load(Ordering::SeqCst)
            || diags.iter().any(|d| d.code == "E0002" || d.code == "E0199");
        if crashed {
            stats.crashes += 1;
            let dir = out.join(format!("crash-{}", stats.crashes));
            save(&dir, &pack);
            println!("CRASH saved in {}", dir.display());
        } else if took > Duration::from_secs(2) {
            stats.slow += 1;
            let dir = out.join(format!("slow-{}", stats.slow));
            save(&dir, &pack);
            println!(
                "SLOW ({:.1} s) saved in {}",
                took.as_secs_f64(),
                dir.display()
            );
        }
        let mut new = false;
        for d in &diags {
            let shape: String = d
                .message
                .chars()
                .filter(|c| !c.is_alphanumeric() || c.is_ascii_alphabetic())
                .take(40)
                .collect();
            if seen.insert(format!("{} {shape}", d.code)) {
                new = true;
            }
        }
        if new && !crashed && pack.modules.iter().map(|(_, t)| t.len()).sum::<usize>() < 400_000 {
            if pool.len() < 2000 {
                pool.push(pack);
            } else {
                let i = rng.below(pool.len());
                pool[i] = pack;
            }
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            println!(
                "{:>5} s: {} inputs ({:.0}/s), {} checked clean, {} evaluated, {} shapes, pool {}, {} crashes, {} slow",
                start.elapsed().as_secs(),
                stats.inputs,
                stats.inputs as f64 / start.elapsed().as_secs_f64(),
                stats.clean,
                stats.evaluated,
                seen.len(),
                pool.len(),
                stats.crashes,
                stats.slow
            );
        }
    }
    let _ = std::fs::remove_dir_all(&current);
    println!(
        "done: {} inputs in {} s, {} checked clean, {} evaluated, {} diagnostic shapes, {} crashes, {} slow",
        stats.inputs,
        start.elapsed().as_secs(),
        stats.clean,
        stats.evaluated,
        seen.len(),
        stats.crashes,
        stats.slow
    );
    if stats.crashes > 0 {
        std::process::exit(1);
    }
}
