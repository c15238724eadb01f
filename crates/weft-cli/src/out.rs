//! Printing diagnostics and tables, and the crate's printing macros.

use std::io::IsTerminal;

// The crate's `println!`, `print!`, `eprintln!` and `eprint!` (see
// `main.rs`): like std's, but a write error (a closed pipe: `EPIPE`) is
// ignored instead of panicking; there is nowhere left to report it.
macro_rules! println {
    () => {
        $crate::out::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!($($arg)*))
    };
}
macro_rules! eprintln {
    () => {
        $crate::out::stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::out::stderr(format_args!($($arg)*))
    };
}

/// Write to stdout; a closed pipe (or any write error) is not an error.
pub fn stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stdout().write_fmt(args);
}

/// Write to stderr; a closed pipe (or any write error) is not an error.
pub fn stderr(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stderr().write_fmt(args);
}
/// Render diagnostics for stderr: colours on a terminal (unless NO_COLOR),
/// plain text otherwise.
pub fn diagnostics(diags: &weft::Diagnostics) -> String {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        diags.render_color()
    } else {
        diags.render()
    }
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
