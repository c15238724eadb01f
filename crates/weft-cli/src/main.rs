use std::path::PathBuf;
use weft::load::PackFiles;
use std::sync::Arc;
fn main() {
    let dir = PathBuf::from(std::env::args().nth(2).unwrap_or_default());
    let src = match weft::load::PackSources::from_dir(&dir) {
        Ok(s) => s,
        Err(e) => { eprintln!("error: {e}"); std::process::exit(2) }
    };
    let (sm, prog, diags) = weft::load::compile_sources(&src);
    eprint!("{}", weft_syntax::diag::render_plain(&diags, &sm));
    eprintln!("{} rules, {} errors", prog.rules.len(), diags.iter().filter(|d| d.is_error()).count());
    if diags.iter().any(|d| d.is_error()) { std::process::exit(1) }
    let ir = weft_ir::lower::lower(Arc::new(prog)).expect("lower");
    eprintln!("{} instances, {} nodes", ir.instances.len(), ir.nodes.len());
    let outs = weft_engine::testing::run_tests(&ir, &weft_engine::testing::Interpreter);
    for o in outs { println!("{} {:?}", o.name, o.failures); }
}
