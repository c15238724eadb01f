//! `weft diff`: two situations over one population.

use crate::PolicyArgs;
use std::path::PathBuf;
use std::sync::Arc;
use weft_data::Format;
use weft_engine::diff::{DiffObserver, DiffReport, render_text};
use weft_engine::run::{
    ChunkEval, EvalSide, InputFile, InterpEval, NoProgress, RunOptions, plan_for, roots, run_sides,
};

#[derive(clap::Args, Clone)]
pub struct DiffArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated before, YYYY-MM.
    #[arg(long = "as-of")]
    pub as_of: String,
    /// The month evaluated after (default: the same month).
    #[arg(long = "as-of-after")]
    pub as_of_after: Option<String>,
    /// Parameter files (or directories) that overlay the parameters after.
    #[arg(long = "params-after", value_name = "FILE_OR_DIR")]
    pub params_after: Vec<PathBuf>,
    /// Another version of the policy pack, evaluated after.
    #[arg(long = "policy-after", value_name = "DIR")]
    pub policy_after: Option<PathBuf>,
    /// An input file: `NAME=FILE` (`--persons FILE` means the same).
    #[arg(long = "input", value_name = "NAME=FILE")]
    pub input: Vec<String>,
    /// The enum field to break results down by (default: `region` if the
    /// records have it).
    #[arg(long)]
    pub by: Option<String>,
    /// Write every changed cell (output, record_id, column, before, after)
    /// to this CSV file.
    #[arg(long)]
    pub changes: Option<PathBuf>,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Write a self-contained HTML report with charts.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// `jit` (default when available) or `interp`.
    #[arg(long)]
    pub engine: Option<String>,
}

pub fn diff(a: &DiffArgs) -> i32 {
    let as_of = match super::parse_month(&a.as_of) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let as_of_after = match &a.as_of_after {
        Some(m) => match super::parse_month(m) {
            Ok(d) => d,
            Err(c) => return c,
        },
        None => as_of,
    };
    if a.format != "text" && a.format != "json" {
        eprintln!("error: unknown format `{}`; use text or json", a.format);
        return 2;
    }
    if a.as_of_after.is_none() && a.params_after.is_empty() && a.policy_after.is_none() {
        eprintln!("error: say what changes after: --as-of-after, --params-after or --policy-after");
        return 2;
    }
    if let Some(h) = a.html.as_ref().filter(|h| h.is_dir()) {
        eprintln!(
            "error: --html {} is a directory; give the report's file name (e.g. {})",
            h.display(),
            h.join("diff.html").display()
        );
        return 2;
    }
    let specs = match super::input_specs(&a.input) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Err(c) = super::init_threads(None) {
        return c;
    }
    let before = match super::load(&a.policy) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let after_args = PolicyArgs {
        policy: a
            .policy_after
            .clone()
            .unwrap_or_else(|| a.policy.policy.clone()),
        params: a
            .policy
            .params
            .iter()
            .chain(a.params_after.iter())
            .cloned()
            .collect(),
    };
    let after = if a.params_after.is_empty() && a.policy_after.is_none() {
        None
    } else {
        match super::load(&after_args) {
            Ok(l) => Some(l),
            Err(c) => return c,
        }
    };
    let ir_b = &before.ir;
    let ir_a = after.as_ref().map(|l| &l.ir).unwrap_or(ir_b);
    let bind = |ir: &weft_ir::Ir, d: i32| match weft_ir::bind::bind(ir, d, &roots(ir)) {
        Ok(b) => Ok(b),
        Err(e) => {
            eprintln!(
                "error: cannot evaluate {}: {e}",
                weft_syntax::num::format_month(d)
            );
            Err(1)
        }
    };
    let bound_b = match bind(ir_b, as_of) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let bound_a = match bind(ir_a, as_of_after) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let (plan_b, plan_a) = match (plan_for(ir_b), plan_for(ir_a)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let use_jit = match a.engine.as_deref() {
        Some("interp") => false,
        Some("jit") => true,
        None => weft_engine::engines::jit_available(),
        Some(other) => {
            eprintln!("error: unknown engine `{other}`; use jit or interp");
            return 2;
        }
    };
    let ib = InterpEval {
        ir: ir_b,
        bound: &bound_b,
        plan: &plan_b,
    };
    let ia = InterpEval {
        ir: ir_a,
        bound: &bound_a,
        plan: &plan_a,
    };
    let mut holders: Vec<Box<dyn ChunkEval + '_>> = Vec::new();
    if use_jit {
        for (ir, bound, plan) in [(ir_b, &bound_b, &plan_b), (ir_a, &bound_a, &plan_a)] {
            match weft_engine::engines::jit_chunk_eval(ir, bound, plan) {
                Some(Ok(j)) => holders.push(j),
                Some(Err(e)) => {
                    eprintln!("error: {e}");
                    return 1;
                }
                None => {
                    eprintln!("error: the JIT engine is not available in this build");
                    return 1;
                }
            }
        }
    }
    let (eb, ea): (&dyn ChunkEval, &dyn ChunkEval) = if use_jit {
        (holders[0].as_ref(), holders[1].as_ref())
    } else {
        (&ib, &ia)
    };
    let mut inputs = Vec::new();
    for (name, path) in specs {
        let Some(format) = Format::from_path(&path) else {
            eprintln!(
                "error: cannot tell the format of {} from its extension",
                path.display()
            );
            return 2;
        };
        inputs.push(InputFile {
            input: name,
            path,
            format,
        });
    }
    // The breakdown field: `--by`, else `region` when the records have it.
    let by = a.by.clone().or_else(|| {
        ir_b.hir.records.iter().find_map(|r| {
            r.field("region")
                .filter(|(_, f)| matches!(f.ty, weft_check::ty::Ty::Enum(..)))
                .map(|_| "region".to_string())
        })
    });
    let by_names: Vec<String> =
        by.as_ref()
            .and_then(|name| {
                ir_b.hir.records.iter().find_map(|r| {
                    match r.field(name).map(|(_, f)| f.ty.clone()) {
                        Some(weft_check::ty::Ty::Enum(e, _)) => ir_b
                            .hir
                            .enums
                            .get(e as usize)
                            .map(|en| en.variants.iter().map(|v| v.code.clone()).collect()),
                        _ => None,
                    }
                })
            })
            .unwrap_or_default();
    let changes: Option<Box<dyn weft_engine::diff::ChangeSink>> = match &a.changes {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", p.display());
                return 1;
            }
        },
        None => None,
    };
    let describe = |p: &PolicyArgs, d: i32, extra: &[PathBuf]| {
        let mut s = format!(
            "{} as of {}",
            p.policy.display(),
            weft_syntax::num::format_month(d)
        );
        for x in extra {
            s.push_str(&format!(" with {}", x.display()));
        }
        s
    };
    let mut obs = DiffObserver::new(ir_b, by_names, changes);
    obs.report.before = describe(&a.policy, as_of, &[]);
    obs.report.after = describe(&after_args, as_of_after, &a.params_after);
    obs.report.by = by.clone();
    let opts = RunOptions {
        as_of,
        inputs,
        out_dir: PathBuf::new(),
        out_format: Format::Csv,
        force: true,
        max_errors: None,
        chunk_rows: 4096,
        policy_files: Vec::new(),
        engine_name: eb.name().to_string(),
        write: false,
        by: by.clone(),
        index_partitions: None,
    };
    let sides = [
        EvalSide {
            ir: ir_b,
            bound: &bound_b,
            eval: eb,
        },
        EvalSide {
            ir: ir_a,
            bound: &bound_a,
            eval: ea,
        },
    ];
    let t = std::time::Instant::now();
    let result = run_sides(&sides, &opts, &NoProgress, Some(&mut obs));
    obs.finish();
    if let Err(e) = result {
        eprintln!("error: {e}");
        return match e {
            weft_engine::run::RunError::Usage(_)
            | weft_engine::run::RunError::MissingInput { .. } => 2,
            _ => 1,
        };
    }
    if let Some(e) = obs.error() {
        eprintln!("error: cannot write the changes file: {e}");
        return 1;
    }
    let mut report: DiffReport = obs.report.clone();
    report.changes_file = a.changes.as_ref().map(|p| p.display().to_string());
    let _ = Arc::new(());
    if a.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", render_text(&report));
        eprintln!(
            "(both sides evaluated in one pass in {:.1} s)",
            t.elapsed().as_secs_f64()
        );
    }
    if let Some(h) = &a.html {
        let page = super::diff_html::page(&report);
        // Whole or not at all: a temporary file beside it, renamed.
        if let Err(e) = weft_engine::commit::write_file(h, page.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", h.display());
            return 1;
        }
        eprintln!("report written to {}", h.display());
    }
    0
}
