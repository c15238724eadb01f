//! `weft fmt` on the command line: in-place formatting, `--check` (exit
//! codes and the list of files), `--stdin`, and files that do not parse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const MESSY: &str = "rule  x : Int=1+2\n\n\n\nrule y: Int = x*2";
const TIDY: &str = "rule x: Int = 1 + 2\n\nrule y: Int = x * 2\n";
const BROKEN: &str = "rule x: Int = (1 +\n";

fn weft(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"))
}

fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    fn walk(d: &Path, base: &Path, v: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, v);
            } else {
                v.push(
                    p.strip_prefix(base)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    walk(dir, dir, &mut v);
    v.sort();
    v
}

#[test]
fn check_lists_unformatted_files_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = tmp.path();
    write(&d.join("pol/tidy.weft"), TIDY);
    write(&d.join("pol/messy.weft"), MESSY);
    write(&d.join("pol/sub/deeper.weft"), MESSY);
    write(&d.join("pol/notes.txt"), MESSY);
    write(&d.join("other/tidy.weft"), TIDY);

    // Everything formatted: exit 0, nothing listed.
    let o = weft(&["fmt", "--check", "other"], d);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "");

    // Two files would change: exit 1, both listed, in order, nothing written.
    let o = weft(&["fmt", "--check", "pol", "other/tidy.weft"], d);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let listed: Vec<String> = stdout(&o).lines().map(|l| l.replace('\\', "/")).collect();
    assert_eq!(listed, vec!["pol/messy.weft", "pol/sub/deeper.weft"]);
    assert_eq!(read(&d.join("pol/messy.weft")), MESSY);
    assert_eq!(read(&d.join("pol/sub/deeper.weft")), MESSY);

    // A file named on the command line is checked whatever its name.
    let o = weft(&["fmt", "--check", "pol/notes.txt"], d);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(stdout(&o).trim(), "pol/notes.txt");

    // Formatting in place, then the check passes; no temporary file is left.
    let before = listing(d);
    let o = weft(&["fmt", "pol"], d);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(read(&d.join("pol/messy.weft")), TIDY);
    assert_eq!(read(&d.join("pol/sub/deeper.weft")), TIDY);
    assert_eq!(
        read(&d.join("pol/notes.txt")),
        MESSY,
        "only .weft files below a directory"
    );
    assert_eq!(listing(d), before);
    let o = weft(&["fmt", "--check", "pol", "other"], d);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "");
}

#[test]
fn files_that_do_not_parse_are_left_unchanged_and_reported() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = tmp.path();
    write(&d.join("broken.weft"), BROKEN);
    write(&d.join("messy.weft"), MESSY);
    for args in [&["fmt", "--check", "."][..], &["fmt", "."][..]] {
        let o = weft(args, d);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("broken.weft does not parse; left unchanged"),
            "{err}"
        );
        assert_eq!(read(&d.join("broken.weft")), BROKEN);
    }
    // The other file was still formatted by the run without --check.
    assert_eq!(read(&d.join("messy.weft")), TIDY);
    // A missing path is an error.
    let o = weft(&["fmt", "--check", "nowhere"], d);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
}

fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"));
    if let Some(mut i) = child.stdin.take() {
        i.write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn stdin_is_formatted_to_stdout() {
    let o = with_stdin(&["fmt", "--stdin"], MESSY);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), TIDY);
    // Text that does not parse comes back unchanged, with exit 1.
    let o = with_stdin(&["fmt", "--stdin"], BROKEN);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(stdout(&o), BROKEN);
    // --check with --stdin: exit 1 if it would change.
    let o = with_stdin(&["fmt", "--stdin", "--check"], MESSY);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let o = with_stdin(&["fmt", "--stdin", "--check"], TIDY);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "");
}
