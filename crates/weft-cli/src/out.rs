//! Printing diagnostics and tables.

use std::io::IsTerminal;
use weft_syntax::{Diagnostic, SourceMap};

/// Render diagnostics for stderr: colours on a terminal (unless NO_COLOR),
/// plain text otherwise.
pub fn diagnostics(diags: &[Diagnostic], sources: &SourceMap) -> String {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        weft_syntax::diag::render_color(diags, sources)
    } else {
        weft_syntax::diag::render_plain(diags, sources)
    }
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
