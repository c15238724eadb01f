//! `weft run` keeps its output directory whole (issue 12): one run at a
//! time (a lock naming the other run, or `--wait-lock`), a replacement
//! that a `kill -9` at any step leaves old or new, `--out` as a mount
//! point, leftovers of dead runs removed, SIGINT and SIGTERM, owner-only
//! scratch under `umask 000`, a full disk, odd inputs, `--threads`
//! extremes, and a closed pipe on every printing command.
//!
//! Crashes and races are deterministic: the test hook `WEFT_TEST_PAUSE`
//! (`crates/weft-engine/src/testhook.rs`) makes a run write a marker file
//! and wait at a named step, where the test kills it, signals it, starts a
//! second run, or lets it go. Every run's `$TMPDIR` is a directory of the
//! test, so "nothing is left in `$TMPDIR`" is checked too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy() -> PathBuf {
    root().join("policies/jilin")
}

fn spec() -> PathBuf {
    root().join("tests/jilin/spec-examples")
}

fn weft() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.env("NO_COLOR", "1")
        .env_remove("WEFT_TEST_PAUSE")
        .env_remove("WEFT_TEST_FAIL");
    c
}

/// A directory per test: `work/out` is the output directory (`work` must
/// hold nothing else after a run), `tmp` the runs' `$TMPDIR`, `marker` the
/// pause file.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        Sandbox { dir }
    }
    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
    fn out(&self) -> PathBuf {
        self.work().join("out")
    }
    fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }
    fn marker(&self) -> PathBuf {
        self.dir.path().join("marker")
    }

    /// `weft run` of the spec's examples as of `month`, writing `format`.
    fn run(&self, month: &str, format: &str, extra: &[&str]) -> Command {
        self.run_on(&spec(), month, format, extra)
    }

    fn run_on(&self, pop: &Path, month: &str, format: &str, extra: &[&str]) -> Command {
        self.run_to(&self.out(), pop, month, format, extra)
    }

    fn run_to(&self, out: &Path, pop: &Path, month: &str, format: &str, extra: &[&str]) -> Command {
        let mut c = weft();
        c.arg("run")
            .arg(policy())
            .arg("--persons")
            .arg(pop.join("persons.csv"))
            .arg("--households")
            .arg(pop.join("households.csv"))
            .args([
                "--as-of", month, "--format", format, "--quiet", "--engine", "interp",
            ])
            // The id index spills to $TMPDIR (as it does past 2^20 ids), so
            // the scratch files' steps are met.
            .args(["--index-partitions", "2"])
            .args(extra)
            .arg("--out")
            .arg(out)
            .env("TMPDIR", self.tmp());
        c
    }

    /// Everything a run may have left: entries of `work` but `out`, of
    /// `tmp`, and hidden entries of `out`.
    fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        for (dir, keep) in [(self.work(), Some("out")), (self.tmp(), None)] {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if Some(n.as_str()) != keep {
                    left.push(e.path().display().to_string());
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(self.out()) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with('.') {
                    left.push(e.path().display().to_string());
                }
            }
        }
        left
    }

    fn assert_clean(&self) {
        let left = self.leftovers();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    /// Start `cmd` paused at `step`; returns it with its pid once paused.
    fn pause(&self, cmd: &mut Command, step: &str) -> (Child, u32) {
        let _ = std::fs::remove_file(self.marker());
        let mut child = cmd
            .env("WEFT_TEST_PAUSE", step)
            .env("WEFT_TEST_PAUSE_FILE", self.marker())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = self.wait_marker(&mut child, step);
        (child, pid)
    }

    fn wait_marker(&self, child: &mut Child, step: &str) -> u32 {
        let t = Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(self.marker()) {
                let mut w = s.split_whitespace();
                if w.next() == Some(step) {
                    if let Some(pid) = w.next().and_then(|p| p.parse().ok()) {
                        return pid;
                    }
                }
            }
            if let Some(st) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(e) = child.stderr.as_mut() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the run ended ({st}) before pausing at `{step}`: {err}");
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "never paused at `{step}`"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn resume(&self) {
        std::fs::remove_file(self.marker()).unwrap();
    }

    /// Let a paused run go past every later pause, to its end.
    fn let_go(&self, child: &mut Child) -> std::process::ExitStatus {
        let t = Instant::now();
        loop {
            let _ = std::fs::remove_file(self.marker());
            if let Some(st) = child.try_wait().unwrap() {
                return st;
            }
            assert!(t.elapsed() < Duration::from_secs(120));
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The complete result in `out`: `(as_of, extension of its outputs)`;
/// `None` when there is no manifest. Panics on a manifest over files it
/// does not list (a mix), or listing files that are missing or short.
fn result_of(out: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(out.join("manifest.json")).ok()?;
    let m: serde_json::Value = serde_json::from_str(&text).expect("a whole manifest");
    let mut listed: Vec<String> = vec!["manifest.json".into()];
    let mut ext = String::new();
    for o in m["outputs"].as_array().unwrap() {
        let f = o["file"].as_str().unwrap().to_string();
        let rows = o["rows"].as_u64().unwrap();
        let path = out.join(&f);
        assert!(path.is_file(), "{f} is listed but missing");
        if f.ends_with(".csv") {
            let lines = std::fs::read_to_string(&path).unwrap().lines().count() as u64;
            assert_eq!(
                lines,
                rows + 1,
                "{f} is not the file the manifest describes"
            );
        }
        ext = f.rsplit_once('.').unwrap().1.to_string();
        listed.push(f);
    }
    let mut found: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    listed.sort();
    found.sort();
    assert_eq!(found, listed, "the manifest is not over exactly its files");
    Some((m["as_of"].as_str().unwrap().to_string(), ext))
}

fn result(sb: &Sandbox) -> (String, String) {
    result_of(&sb.out()).expect("a complete result")
}

fn send(sig: &str, pid: u32) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A tmpfs mounted at a path for a test, unmounted on drop; `None` (and a
/// message) where this process may not mount.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status();
        match st {
            Ok(s) if s.success() => Some(Mount(at.to_path_buf())),
            _ => {
                eprintln!("skipped: cannot mount a tmpfs at {} here", at.display());
                None
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

// ---------------------------------------------------------------- locking

#[test]
fn a_second_run_fails_at_once_naming_the_first_or_waits_for_it() {
    let sb = Sandbox::new();
    let (mut first, pid) = sb.pause(&mut sb.run("2018-08", "csv", &[]), "staged");
    // At once, naming the run that holds the directory.
    let t = Instant::now();
    let second = sb.run("2019-08", "csv", &["--force"]).output().unwrap();
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let msg = stderr(&second);
    assert!(
        msg.contains(&format!("another weft run (pid {pid}) is writing to")),
        "{msg}"
    );
    assert!(msg.contains("--wait-lock"), "{msg}");
    assert!(t.elapsed() < Duration::from_secs(20));
    // With --wait-lock it waits, then replaces the first run's result.
    let mut waiting = sb
        .run("2019-08", "csv", &["--force", "--wait-lock"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(waiting.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    assert!(
        line.contains(&format!("waiting for the weft run (pid {pid})")),
        "{line}"
    );
    assert!(waiting.try_wait().unwrap().is_none());
    assert!(sb.let_go(&mut first).success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(waiting.wait().unwrap().success(), "{rest:?}");
    assert_eq!(result(&sb).0, "2019-08");
    sb.assert_clean();
}

#[test]
fn the_lock_of_a_killed_run_is_taken_over() {
    let sb = Sandbox::new();
    let (mut first, _) = sb.pause(&mut sb.run("2018-08", "csv", &[]), "locked");
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(sb.work().join(".out.weft-lock").exists());
    ok(sb.run("2019-08", "csv", &[]).output().unwrap());
    assert_eq!(result(&sb).0, "2019-08");
    sb.assert_clean();
}

// ---------------------------------------------------------------- crashes

/// `kill -9` at each step of a swap: `--out` holds the earlier result up to
/// the exchange and the new one after it, complete either way; the next
/// run removes what the dead one left.
#[test]
fn a_crash_at_any_step_of_a_replacement_leaves_the_old_or_the_new_result() {
    for (step, new) in [
        ("locked", false),
        ("scratch-dir", false),
        ("scratch-file", false),
        ("staged", false),
        ("exchange", false),
        ("swapped", true),
    ] {
        let sb = Sandbox::new();
        ok(sb.run("2018-08", "csv", &[]).output().unwrap());
        let (mut child, _) = sb.pause(&mut sb.run("2019-08", "parquet", &["--force"]), step);
        child.kill().unwrap();
        child.wait().unwrap();
        let want = if new {
            ("2019-08".to_string(), "parquet".to_string())
        } else {
            ("2018-08".to_string(), "csv".to_string())
        };
        assert_eq!(result(&sb), want, "killed at `{step}`");
        ok(sb.run("2019-09", "jsonl", &["--force"]).output().unwrap());
        assert_eq!(result(&sb), ("2019-09".into(), "jsonl".into()));
        sb.assert_clean();
    }
}

#[test]
fn a_crash_of_a_first_run_leaves_no_output_directory() {
    for step in ["staged", "rename"] {
        let sb = Sandbox::new();
        let (mut child, _) = sb.pause(&mut sb.run("2018-08", "csv", &[]), step);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!sb.out().exists(), "killed at `{step}`");
        ok(sb.run("2018-08", "csv", &[]).output().unwrap());
        result(&sb);
        sb.assert_clean();
    }
}

/// Where the filesystem cannot exchange two directories (`EINVAL` from
/// renameat2), the old result is moved aside, then the new one in place;
/// a crash between the two is undone by the next run.
#[test]
fn the_two_rename_fallback_is_recovered_after_a_crash() {
    let sb = Sandbox::new();
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    let fallback = |c: &mut Command| {
        c.env("WEFT_TEST_FAIL", "exchange:EINVAL");
    };
    let mut c = sb.run("2019-08", "parquet", &["--force"]);
    fallback(&mut c);
    ok(c.output().unwrap());
    assert_eq!(result(&sb), ("2019-08".into(), "parquet".into()));
    sb.assert_clean();

    let mut c = sb.run("2019-09", "csv", &["--force"]);
    fallback(&mut c);
    let (mut child, _) = sb.pause(&mut c, "old-moved");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!sb.out().exists());
    // The next run puts the earlier result back first (then, without
    // --force, refuses to replace it).
    let refused = sb.run("2019-10", "csv", &[]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(result(&sb), ("2019-08".into(), "parquet".into()));
    sb.assert_clean();
}

/// `--out` as a mount point: the result is replaced in place, the old
/// manifest first and the new one last; killed in between, the directory
/// has no manifest (incomplete), never a manifest over mixed files.
#[test]
fn a_mount_point_is_replaced_in_place_and_a_crash_never_leaves_a_mix() {
    let sb = Sandbox::new();
    let Some(_m) = Mount::tmpfs(&sb.out(), "16m") else {
        return;
    };
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    assert_eq!(result(&sb), ("2018-08".into(), "csv".into()));
    // Another format: the old files go.
    ok(sb.run("2019-08", "parquet", &["--force"]).output().unwrap());
    assert_eq!(result(&sb), ("2019-08".into(), "parquet".into()));
    sb.assert_clean();
    for (step, complete) in [
        ("staged", true),
        ("manifest-removed", false),
        ("moved", false),
        ("cleaned", false),
    ] {
        let (mut child, _) = sb.pause(&mut sb.run("2019-09", "csv", &["--force"]), step);
        child.kill().unwrap();
        child.wait().unwrap();
        let r = result_of(&sb.out());
        if complete {
            assert_eq!(r, Some(("2019-08".into(), "parquet".into())), "at `{step}`");
        } else {
            assert_eq!(r, None, "killed at `{step}`: a manifest");
        }
        ok(sb.run("2019-08", "parquet", &["--force"]).output().unwrap());
        assert_eq!(result(&sb), ("2019-08".into(), "parquet".into()));
        sb.assert_clean();
    }
}

/// A rename of `--out` refused with `EXDEV` (a bind mount looks like its
/// parent's filesystem): the staged files are copied inside and replaced
/// in place.
#[test]
fn a_cross_device_refusal_falls_back_to_replacing_in_place() {
    let sb = Sandbox::new();
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    let mut c = sb.run("2019-08", "parquet", &["--force"]);
    c.env("WEFT_TEST_FAIL", "exchange:EXDEV");
    ok(c.output().unwrap());
    assert_eq!(result(&sb), ("2019-08".into(), "parquet".into()));
    sb.assert_clean();
}

// ------------------------------------------------------ cleanup, signals

#[test]
fn the_next_run_removes_what_dead_runs_left_and_nothing_of_live_ones() {
    let sb = Sandbox::new();
    // A run killed while spilling its id index leaves its scratch in
    // $TMPDIR and its staging directory beside --out.
    let (mut dead, _) = sb.pause(&mut sb.run("2018-08", "csv", &[]), "scratch-file");
    dead.kill().unwrap();
    dead.wait().unwrap();
    assert!(!sb.leftovers().is_empty());
    // A live run (paused) with the same $TMPDIR and another --out.
    let other = sb.work().join("other");
    let mut live_cmd = sb.run_to(&other, &spec(), "2018-08", "csv", &[]);
    let (mut live, live_pid) = sb.pause(&mut live_cmd, "scratch-file");
    let live_scratch: Vec<PathBuf> = std::fs::read_dir(sb.tmp())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(&format!("-{live_pid}-")))
        .collect();
    assert_eq!(live_scratch.len(), 1);
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    assert!(live_scratch[0].exists(), "a live run's scratch was removed");
    assert!(sb.let_go(&mut live).success());
    std::fs::remove_dir_all(&other).unwrap();
    result(&sb);
    sb.assert_clean();
}

#[test]
fn sigint_and_sigterm_remove_temporary_files_and_exit_130_and_143() {
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        for step in ["scratch-file", "staged"] {
            let sb = Sandbox::new();
            ok(sb.run("2018-08", "csv", &[]).output().unwrap());
            let (mut child, pid) = sb.pause(&mut sb.run("2019-08", "parquet", &["--force"]), step);
            send(sig, pid);
            let st = child.wait().unwrap();
            assert_eq!(st.code(), Some(code), "SIG{sig} at `{step}`");
            assert_eq!(result(&sb), ("2018-08".into(), "csv".into()));
            sb.assert_clean();
        }
    }
}

#[cfg(unix)]
#[test]
fn scratch_is_owner_only_under_umask_000_and_the_result_keeps_the_umask() {
    let sb = Sandbox::new();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(r#"umask 000; exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_weft"))
        .args(sb.run("2018-08", "csv", &[]).get_args())
        .env("TMPDIR", sb.tmp())
        .env("NO_COLOR", "1")
        .env("WEFT_TEST_PAUSE", "locked,scratch-dir,scratch-file,staged")
        .env("WEFT_TEST_PAUSE_FILE", sb.marker())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut pauses = 0;
    let mut checked = 0;
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(120));
        if !sb.marker().exists() {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        pauses += 1;
        // Everything the run made so far: owner-only, but the staged
        // result's own files (inside a 0700 directory), which become the
        // result with the umask's modes.
        let mut stack = vec![sb.work(), sb.tmp()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let staged_result = d.to_string_lossy().contains(".weft-stage-");
                if p.is_dir() {
                    assert_eq!(mode(&p), 0o700, "{}", p.display());
                    stack.push(p);
                } else if !staged_result {
                    assert_eq!(mode(&p), 0o600, "{}", p.display());
                }
                checked += 1;
            }
        }
        sb.resume();
    }
    assert!(child.wait().unwrap().success());
    assert!(
        pauses >= 4 && checked > 5,
        "{pauses} pauses, {checked} paths"
    );
    assert_eq!(mode(&sb.out()), 0o777);
    for f in [
        "persons.csv",
        "households.csv",
        "errors.csv",
        "manifest.json",
    ] {
        assert_eq!(mode(&sb.out().join(f)), 0o666, "{f}");
    }
    sb.assert_clean();
}

// ------------------------------------------------- disks, inputs, threads

/// A full disk while the new result is written: the earlier result stays,
/// the message names the output being written, nothing is left.
#[test]
fn a_full_disk_leaves_the_earlier_result() {
    let sb = Sandbox::new();
    let Some(_m) = Mount::tmpfs(&sb.work(), "256k") else {
        return;
    };
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    let big = root().join("examples/population");
    let out = sb
        .run_on(&big, "2019-08", "csv", &["--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let msg = stderr(&out);
    assert!(msg.contains("cannot write the output: "), "{msg}");
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(msg.contains(".csv for "), "{msg}");
    assert!(msg.contains("was changed"), "{msg}");
    assert_eq!(result(&sb), ("2018-08".into(), "csv".into()));
    sb.assert_clean();
}

#[test]
fn an_injected_write_error_of_the_manifest_leaves_the_earlier_result() {
    let sb = Sandbox::new();
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    let mut c = sb.run("2019-08", "parquet", &["--force"]);
    c.env("WEFT_TEST_FAIL", "manifest:ENOSPC");
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let msg = stderr(&out);
    assert!(
        msg.contains("cannot write the output: manifest.json for ")
            && msg.contains("No space left on device")
            && msg.contains("was changed"),
        "{msg}"
    );
    assert_eq!(result(&sb), ("2018-08".into(), "csv".into()));
    sb.assert_clean();
}

#[cfg(unix)]
#[test]
fn special_files_are_refused_as_inputs() {
    let sb = Sandbox::new();
    let fifo = sb.dir.path().join("persons.csv");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let tmp = sb.tmp();
    let cases: [(&Path, &str); 3] = [
        (Path::new("/dev/zero"), "is a character device"),
        (&fifo, "is a named pipe (FIFO)"),
        (tmp.as_path(), "is a directory"),
    ];
    for (file, what) in cases {
        let t = Instant::now();
        let out = weft()
            .arg("run")
            .arg(policy())
            .arg("--households")
            .arg(spec().join("households.csv"))
            .arg("--input")
            .arg(format!("persons={}", file.display()))
            .args(["--as-of", "2018-08", "--quiet", "--out"])
            .arg(sb.out())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(what), "{}", stderr(&out));
        assert!(t.elapsed() < Duration::from_secs(30));
        assert!(!sb.out().exists());
    }
}

#[test]
fn threads_out_of_range_are_refused_at_once() {
    let sb = Sandbox::new();
    for n in ["0", "100000", "1000000000000"] {
        let t = Instant::now();
        let out = sb
            .run("2018-08", "csv", &["--threads", n])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{n}: {}", stderr(&out));
        assert!(stderr(&out).contains("--threads"), "{}", stderr(&out));
        assert!(t.elapsed() < Duration::from_secs(20));
    }
    ok(sb
        .run("2018-08", "csv", &["--threads", "1"])
        .output()
        .unwrap());
    sb.assert_clean();
}

/// Threads the system will not create (an address space too small for
/// their stacks) are an error, not a panic.
#[cfg(unix)]
#[test]
fn threads_that_cannot_be_created_are_an_error_not_a_panic() {
    let sb = Sandbox::new();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(r#"ulimit -v 4000000 && exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_weft"))
        .args(sb.run("2018-08", "csv", &["--threads", "4"]).get_args())
        .env("TMPDIR", sb.tmp())
        .env("RUST_MIN_STACK", "2000000000");
    let out = c.output().unwrap();
    let msg = stderr(&out);
    if out.status.success() {
        eprintln!("skipped: the threads could be created here");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("cannot start 4 evaluation threads"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    sb.assert_clean();
}

// --------------------------------------------------------------- messages

#[test]
fn a_file_as_out_an_input_named_twice_and_foreign_files_are_refused_clearly() {
    let sb = Sandbox::new();
    std::fs::write(sb.out(), "not a directory").unwrap();
    for force in [false, true] {
        let extra: &[&str] = if force { &["--force"] } else { &[] };
        let out = sb.run("2018-08", "csv", extra).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("is a file, not a directory"),
            "{}",
            stderr(&out)
        );
    }
    std::fs::remove_file(sb.out()).unwrap();
    sb.assert_clean();

    let out = sb
        .run("2018-08", "csv", &["--input", "persons=/elsewhere.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the input `persons` is given twice"),
        "{}",
        stderr(&out)
    );

    std::fs::create_dir(sb.out()).unwrap();
    std::fs::write(sb.out().join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(sb.out().join("sub")).unwrap();
    let out = sb.run("2018-08", "csv", &["--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("holds `notes.txt`, `sub/`, which are not part of a Weft result"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sb.out().join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn diff_html_refuses_a_directory_and_leaves_no_temporary_file() {
    let sb = Sandbox::new();
    let diff = |html: &Path| {
        weft()
            .arg("diff")
            .arg(policy())
            .arg("--persons")
            .arg(spec().join("persons.csv"))
            .arg("--households")
            .arg(spec().join("households.csv"))
            .args(["--as-of", "2018-08", "--as-of-after", "2019-08", "--html"])
            .arg(html)
            .env("TMPDIR", sb.tmp())
            .output()
            .unwrap()
    };
    let dir = sb.work().join("report");
    std::fs::create_dir(&dir).unwrap();
    let out = diff(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    std::fs::remove_dir(&dir).unwrap();
    let page = sb.work().join("out");
    ok(diff(&page));
    assert!(std::fs::read_to_string(&page).unwrap().contains("<html"));
    sb.assert_clean();
}

// ------------------------------------------------------------ closed pipes

/// Every printing command, with stdout or stderr a pipe whose reader is
/// gone: the usual exit code, no panic.
#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    let sb = Sandbox::new();
    let input = sb.dir.path().join("household.json");
    std::fs::write(
        &input,
        serde_json::json!({
            "households": {"household_id": "H", "region": "baicheng", "residence": "urban",
                "financial_assets": "0", "owns_vehicle": false, "registered_poor": false},
            "persons": [{"person_id": "P1", "household_id": "H", "birth_date": "1978-01-01",
                "disability_grade": 0, "disability_kind": "none", "self_care": "full",
                "serious_illness": false, "monthly_income": "0", "rigid_expense": "0",
                "capable_supporter": true, "father_status": "present", "mother_status": "present",
                "in_institution": false, "education_stage": "none", "boarding": false,
                "hospital_level": "none", "medical_expense": "0", "employment_type": "none",
                "employment_start": "", "unemployed_months_before": 0, "dibao_at_employment": false}]
        })
        .to_string(),
    )
    .unwrap();
    let p = policy();
    let p = p.to_str().unwrap();
    let persons = spec().join("persons.csv");
    let households = spec().join("households.csv");
    let (persons, households) = (persons.to_str().unwrap(), households.to_str().unwrap());
    let input = input.to_str().unwrap();
    let out = sb.out();
    let out = out.to_str().unwrap();
    let synth_out = sb.work().join("synth");
    let synth_out = synth_out.to_str().unwrap();
    let pop = ["--persons", persons, "--households", households];
    let cmds: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["check", p],
        vec!["test", p, "--engine", "interp"],
        vec!["eval", p, "--as-of", "2018-08", "--input", input],
        vec![
            "eval", p, "--as-of", "2018-08", "--input", input, "--format", "json",
        ],
        [
            &["run", p][..],
            &pop,
            &[
                "--as-of",
                "2018-08",
                "--quiet",
                "--force",
                "--out",
                out,
                "--summary",
                "json",
            ],
        ]
        .concat(),
        [
            &["run", p][..],
            &pop,
            &[
                "--as-of",
                "2018-08",
                "--quiet",
                "--force",
                "--out",
                out,
                "--timings",
            ],
        ]
        .concat(),
        [
            &["explain", p][..],
            &pop,
            &["--as-of", "2018-08", "--household", "A"],
        ]
        .concat(),
        [
            &["explain", p][..],
            &pop,
            &["--as-of", "2018-08", "--household", "A", "--format", "json"],
        ]
        .concat(),
        [
            &["diff", p][..],
            &pop,
            &["--as-of", "2018-08", "--as-of-after", "2019-08"],
        ]
        .concat(),
        [
            &["diff", p][..],
            &pop,
            &[
                "--as-of",
                "2018-08",
                "--as-of-after",
                "2019-08",
                "--format",
                "json",
            ],
        ]
        .concat(),
        vec![
            "synth",
            p,
            "--households",
            "20",
            "--sample",
            "20",
            "--out",
            synth_out,
        ],
        vec!["fmt", "--check", p],
    ];
    for args in &cmds {
        let usual = weft().args(args).env("TMPDIR", sb.tmp()).output().unwrap();
        let code = usual.status.code();
        assert!(
            code == Some(0),
            "{args:?} fails even with open pipes: {}",
            stderr(&usual)
        );
        for closed in ["stdout", "stderr"] {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            let mut c = weft();
            c.args(args).env("TMPDIR", sb.tmp());
            let got = if closed == "stdout" {
                c.stdout(writer).output().unwrap()
            } else {
                c.stderr(writer).output().unwrap()
            };
            let other = String::from_utf8_lossy(if closed == "stdout" {
                &got.stderr
            } else {
                &got.stdout
            })
            .to_string();
            assert_eq!(
                got.status.code(),
                code,
                "{args:?} with a closed {closed}: {other}"
            );
            assert!(!other.contains("panicked"), "{args:?}: {other}");
        }
    }
    let _ = std::fs::remove_dir_all(sb.work().join("synth"));
    let _ = std::fs::remove_dir_all(sb.out());
    sb.assert_clean();
}

/// `--out` a symbolic link to another filesystem: the result is made and
/// replaced where the link points (staged there, locked there), and the
/// link stays a link.
#[cfg(unix)]
#[test]
fn a_link_to_another_filesystem_is_followed() {
    let sb = Sandbox::new();
    let vol = sb.dir.path().join("vol");
    let Some(_m) = Mount::tmpfs(&vol, "16m") else {
        return;
    };
    std::os::unix::fs::symlink(vol.join("res"), sb.out()).unwrap();
    ok(sb.run("2018-08", "csv", &[]).output().unwrap());
    ok(sb.run("2019-08", "parquet", &["--force"]).output().unwrap());
    assert!(
        std::fs::symlink_metadata(sb.out())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(result(&sb), ("2019-08".into(), "parquet".into()));
    let on_vol: Vec<String> = std::fs::read_dir(&vol)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(on_vol, ["res"]);
    sb.assert_clean();
}
