//! `weft doc POLICY --out DIR`: the site of the Jilin pack and of the
//! tutorial's, written whole; a directory of other files refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn weft(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_weft"))
        .env("NO_COLOR", "1")
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

fn doc(policy: &str, out: &Path) -> (i32, String, String) {
    weft(&[
        "doc".as_ref(),
        policy.as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

#[test]
fn the_jilin_site_is_written_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jilin-site");
    let (code, stdout, stderr) = doc("policies/jilin", &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("wrote "), "{stdout}");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("<title>Policy — jilin</title>"), "{index}");
    for f in [
        "tests.html",
        "style.css",
        "search.js",
        "rule.dibao_benefit.html",
        "param.major_bands.html",
        "programme.dibao.html",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // An earlier site is replaced.
    let (code, stdout, stderr) = doc("policies/jilin", &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// What `docs/tutorial.md` shows.
#[test]
fn the_tutorial_site() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("heating-site");
    let (code, stdout, stderr) = doc("docs/tutorial/heating", &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let shown = format!(
        "wrote 17 files to {} (open {})\n",
        out.display(),
        out.join("index.html").display()
    );
    assert_eq!(stdout, shown);
    let tutorial = std::fs::read_to_string(root().join("docs/tutorial.md")).unwrap();
    assert!(
        tutorial
            .contains("wrote 17 files to /tmp/heating-site (open /tmp/heating-site/index.html)")
    );
}

#[test]
fn a_directory_of_other_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let (code, stdout, stderr) = doc("docs/tutorial/heating", dir.path());
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("not a site written by `weft doc`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_policy_with_errors_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("bad");
    std::fs::create_dir(&policy).unwrap();
    std::fs::write(policy.join("a.weft"), "rule x: Int = y\n").unwrap();
    let out = dir.path().join("site");
    let (code, _, stderr) = weft(&[
        "doc".as_ref(),
        policy.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("E0203"), "{stderr}");
    assert!(!out.exists());
}
