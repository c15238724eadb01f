//! The commit module on its own: a panic removes the staging directory and
//! the lock, a second run (another thread) finds the directory busy, a lock
//! taken first is used again by the run of the same thread, `--force`
//! replaces exactly a result, and `write_file` is whole or nothing. (The
//! command end to end, crashes and signals: `weft-cli/tests/run_commit.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use weft_engine::commit::{Commit, CommitError, write_file};
use weft_engine::lock::{LockError, OutputLock};

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

fn stage(c: &Commit, files: &[&str]) {
    for f in files {
        std::fs::write(c.staging().join(f), format!("{f}\n")).unwrap();
    }
}

#[test]
fn a_panic_removes_the_staging_directory_and_the_lock() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let r = std::panic::catch_unwind(|| {
        let c = Commit::begin(&out, false, ["persons"]).unwrap();
        stage(&c, &["persons.csv"]);
        assert_eq!(entries(d.path()).len(), 2, "{:?}", entries(d.path()));
        panic!("boom");
    });
    assert!(r.is_err());
    assert!(entries(d.path()).is_empty(), "{:?}", entries(d.path()));
}

#[test]
fn a_commit_puts_exactly_the_new_result_in_place() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let c = Commit::begin(&out, false, ["persons"]).unwrap();
    stage(&c, &["persons.parquet", "errors.parquet"]);
    c.finish("{\"outputs\": [{\"file\": \"persons.parquet\"}, {\"file\": \"errors.parquet\"}]}\n")
        .unwrap();
    assert_eq!(
        entries(&out),
        ["errors.parquet", "manifest.json", "persons.parquet"]
    );
    // Not empty: refused without --force, replaced whole with it.
    let e = Commit::begin(&out, false, ["persons"]).err().unwrap();
    assert!(matches!(e, CommitError::NotEmpty(_)), "{e}");
    let c = Commit::begin(&out, true, ["persons"]).unwrap();
    stage(&c, &["persons.csv", "errors.csv"]);
    c.finish("{}\n").unwrap();
    assert_eq!(
        entries(&out),
        ["errors.csv", "manifest.json", "persons.csv"]
    );
    assert_eq!(entries(d.path()), ["out"]);
    // Anything that is not a result's is refused, and kept.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let e = Commit::begin(&out, true, ["persons"]).err().unwrap();
    assert!(
        e.to_string()
            .contains("holds `notes.txt`, which is not part of a Weft result"),
        "{e}"
    );
    assert!(out.join("notes.txt").exists());
}

#[test]
fn another_thread_finds_the_directory_busy_and_the_same_thread_reuses_its_lock() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let lock = OutputLock::acquire(&out, false, &mut |_| {}).unwrap();
    assert!(lock.path().ends_with(".out.weft-lock"));
    let other = std::thread::scope(|s| {
        s.spawn(|| Commit::begin(&out, false, ["persons"]).err())
            .join()
            .unwrap()
    });
    match other {
        Some(CommitError::Lock(LockError::Busy { pid, .. })) => {
            assert_eq!(pid, Some(std::process::id()));
        }
        e => panic!("{e:?}"),
    }
    // This thread's run uses the lock it took.
    let c = Commit::begin(&out, false, ["persons"]).unwrap();
    stage(&c, &["persons.csv"]);
    c.finish("{}\n").unwrap();
    assert!(lock.path().exists());
    drop(lock);
    assert_eq!(entries(d.path()), ["out"]);
}

#[test]
fn a_waiting_lock_is_taken_when_the_holder_lets_go() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let lock = OutputLock::acquire(&out, false, &mut |_| {}).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let mut told = None;
            let l = OutputLock::acquire(&out, true, &mut |pid| told = pid).unwrap();
            tx.send(()).unwrap();
            (l.path().to_path_buf(), told)
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(rx.try_recv().is_err(), "took a held lock");
        drop(lock);
        let (path, told) = waiter.join().unwrap();
        assert_eq!(told, Some(std::process::id()));
        assert!(!path.exists(), "the waiter's lock file outlived it");
    });
    assert!(entries(d.path()).is_empty());
}

#[test]
fn write_file_is_whole_or_nothing_and_refuses_a_directory() {
    let d = tempfile::tempdir().unwrap();
    let page = d.path().join("report.html");
    write_file(&page, b"<html>one</html>").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&page, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    write_file(&page, b"<html>two</html>").unwrap();
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "<html>two</html>");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(&page).unwrap().permissions().mode();
        assert_eq!(m & 0o777, 0o640, "the mode of the file replaced is kept");
    }
    let e = write_file(d.path(), b"x").unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
    assert_eq!(entries(d.path()), ["report.html"]);
}
