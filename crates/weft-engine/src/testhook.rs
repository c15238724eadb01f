//! Test hooks: deterministic pauses and injected failures, for the tests of
//! crashes, signals and concurrent runs. Inert unless the environment names
//! a step (reading one variable at a handful of places costs nothing).
//!
//! - `WEFT_TEST_PAUSE=STEP[,STEP…]` and `WEFT_TEST_PAUSE_FILE=PATH`: on
//!   reaching a step named, the process writes `STEP PID` to PATH (whole,
//!   by a rename) and waits until PATH is removed — at most two minutes —
//!   then goes on. The test kills the process there, signals it, starts a
//!   second run, or lets it go by removing the file.
//! - `WEFT_TEST_FAIL=STEP:ERRNO` (e.g. `manifest:ENOSPC`,
//!   `exchange:EINVAL`): the step fails with that error, as if the system
//!   had returned it.
//!
//! The steps, in the order a run meets them: `scratch-dir`, `scratch-file`
//! (each scratch directory and file created, [`crate::scratch`]),
//! `locked` (the output directory's lock taken), `manifest` (failure
//! only: writing `manifest.json`), `staged` (the new result complete and
//! synced, nothing replaced yet), then `rename` (just before the rename of
//! a first result: `--out` did not exist), for a swap `exchange` (just
//! before it; failure too) and `swapped` (the new result in place, the old one not yet
//! removed); for the two-rename fallback `old-moved` (the old result moved
//! aside, the new one not yet in place); for a replacement in place
//! `manifest-removed`, `moved` (new files in place, old ones not yet
//! removed), `cleaned` (only the new manifest missing).

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn named(var: &str, step: &str) -> Option<String> {
    let v = std::env::var(var).ok()?;
    v.split(',')
        .map(str::trim)
        .find(|s| *s == step || s.split(':').next() == Some(step))
        .map(str::to_string)
}

/// Pause at `step` if the environment asks (see the module's doc).
pub fn pause(step: &str) {
    if named("WEFT_TEST_PAUSE", step).is_none() {
        return;
    }
    let Some(file) = std::env::var_os("WEFT_TEST_PAUSE_FILE").map(PathBuf::from) else {
        return;
    };
    let tmp = file.with_extension("writing");
    let text = format!("{step} {}\n", std::process::id());
    if std::fs::write(&tmp, text).is_err() || std::fs::rename(&tmp, &file).is_err() {
        return;
    }
    let t = Instant::now();
    while file.exists() && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The error injected at `step`, if the environment asks.
pub fn fail(step: &str) -> Option<std::io::Error> {
    let s = named("WEFT_TEST_FAIL", step)?;
    let errno = s.split(':').nth(1).unwrap_or("EIO");
    #[cfg(unix)]
    let code = match errno {
        "ENOSPC" => libc::ENOSPC,
        "EINVAL" => libc::EINVAL,
        "EXDEV" => libc::EXDEV,
        "EBUSY" => libc::EBUSY,
        "ENOSYS" => libc::ENOSYS,
        "EACCES" => libc::EACCES,
        _ => libc::EIO,
    };
    #[cfg(unix)]
    return Some(std::io::Error::from_raw_os_error(code));
    #[cfg(not(unix))]
    return Some(std::io::Error::other(format!("injected {errno}")));
}
