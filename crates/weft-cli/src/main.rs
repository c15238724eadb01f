use std::path::PathBuf;
fn main() {
    let dir = PathBuf::from(std::env::args().nth(2).unwrap_or_default());
    let src = match weft::load::PackSources::from_dir(&dir) {
        Ok(s) => s,
        Err(e) => { eprintln!("error: {e}"); std::process::exit(2) }
    };
    let (sm, prog, diags) = weft::load::compile_sources(&src);
    eprint!("{}", weft_syntax::diag::render_plain(&diags, &sm));
    eprintln!("{} rules, {} errors", prog.rules.len(), diags.iter().filter(|d| d.is_error()).count());
}
