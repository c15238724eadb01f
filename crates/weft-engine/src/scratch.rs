//! Scratch space: the files and directories a run needs but does not keep
//! (the id index spilled to the temporary directory, the staging directory
//! of a result), and their removal however the run ends.
//!
//! - **Owner-only.** Scratch directories are created `0700` and scratch
//!   files `0600`, set explicitly after creation so that no umask (not
//!   even `000`) widens or narrows them: they hold record ids, which in
//!   real registers are identity numbers. A result keeps the usual
//!   umask-based modes (see [`crate::commit`]).
//! - **Registered.** Every scratch path is listed in a process-wide
//!   registry. Ordinary returns and panics (unwinding) remove scratch by
//!   `Drop`; on SIGINT, SIGTERM or SIGHUP, once the program has called
//!   [`install_signal_handlers`] (the `weft` command does, at start), a
//!   thread removes every registered path and exits with 128 + the signal
//!   (130, 143, 129). The handler itself only writes the signal's number
//!   to a pipe (the one async-signal-safe thing it needs); the thread does
//!   the rest. A replacement of a result in progress ([`critical`]) is
//!   finished before that thread removes anything, so a signal never
//!   leaves a result half replaced.
//! - **Recovered.** `kill -9` and power loss run no code. A scratch
//!   directory in the temporary directory ([`dir`]) is named
//!   `weft-…-PID-XXXXXX` and holds a lock file, [`LOCK_FILE`], locked
//!   (`flock`) for as long as the process that made it lives; the kernel
//!   releases that lock when the process dies, however it dies. The first
//!   [`dir`] of a process removes the `weft-…` directories of the same
//!   user whose lock it can take: those of dead processes, and nothing
//!   else. (Staging directories beside an output directory are recovered
//!   under the output directory's own lock instead: see
//!   [`crate::commit`].)

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

/// The lock file inside each scratch directory of the temporary
/// directory. Scratch files of other names in the same directory are
/// the owner's.
pub const LOCK_FILE: &str = ".weft-lock";

struct Entry {
    path: PathBuf,
    /// The liveness lock of a scratch directory, held while it exists.
    _lock: Option<File>,
}

static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static CRITICAL: Mutex<()> = Mutex::new(());
static SWEEP: Once = Once::new();

fn registry() -> MutexGuard<'static, Vec<Entry>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove `path` (a file or a whole directory) if the process is stopped
/// by a signal. Entries whose path no longer exists are dropped as new
/// ones come.
pub fn register(path: &Path) {
    register_with(path, None);
}

fn register_with(path: &Path, lock: Option<File>) {
    let mut r = registry();
    r.retain(|e| std::fs::symlink_metadata(&e.path).is_ok());
    r.push(Entry {
        path: path.to_path_buf(),
        _lock: lock,
    });
}

/// No longer remove `path` on a signal (it became a result, or is gone).
pub fn forget(path: &Path) {
    registry().retain(|e| e.path != path);
}

/// Hold this while a result is being replaced: a signal's cleanup waits
/// for it, so the replacement is finished (or not begun) when the
/// process exits.
pub fn critical() -> MutexGuard<'static, ()> {
    CRITICAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove a file, or a directory with everything in it, retrying a few
/// times when files are still being created in it. Symbolic links are
/// removed, never followed.
pub fn remove(path: &Path) -> io::Result<()> {
    let mut last = Ok(());
    for _ in 0..3 {
        last = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => Err(e),
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
        };
        match &last {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(_) => {}
        }
    }
    last
}

fn remove_registered() {
    let entries: Vec<Entry> = std::mem::take(&mut *registry());
    for e in &entries {
        let _ = remove(&e.path);
    }
}

/// Set a path's permission bits exactly (no umask applies to chmod).
#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// A new owner-only directory in `parent`, named `prefix` and six random
/// characters, registered for removal on a signal (and removed when the
/// returned value is dropped).
pub fn dir_in(parent: &Path, prefix: &str) -> io::Result<tempfile::TempDir> {
    let d = make_dir(parent, prefix)?;
    register(d.path());
    crate::testhook::pause("scratch-dir");
    Ok(d)
}

fn make_dir(parent: &Path, prefix: &str) -> io::Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let d = b.tempdir_in(parent)?;
    set_mode(d.path(), 0o700)?;
    Ok(d)
}

/// A new owner-only scratch directory in the temporary directory
/// (`$TMPDIR`), for files a run spills and does not keep: named
/// `PREFIX-PID-XXXXXX` (`weft-` is put in front of a prefix that does not
/// start with `weft`), created `0700` whatever the umask, holding the
/// liveness lock [`LOCK_FILE`], registered for removal on a signal and
/// removed when dropped. Create files in it with [`file`]. The first call
/// in a process removes the scratch directories of dead processes (see
/// the module's documentation).
pub fn dir(prefix: &str) -> io::Result<tempfile::TempDir> {
    let tmp = std::env::temp_dir();
    SWEEP.call_once(|| sweep_dead(&tmp));
    let prefix = if prefix.starts_with("weft") {
        prefix.to_string()
    } else {
        format!("weft-{prefix}")
    };
    let d = make_dir(&tmp, &format!("{prefix}-{}-", std::process::id()))?;
    let lock = create_file(&d.path().join(LOCK_FILE))?;
    lock.try_lock().map_err(|e| match e {
        std::fs::TryLockError::Error(e) => e,
        std::fs::TryLockError::WouldBlock => io::Error::other("its lock is taken"),
    })?;
    register_with(d.path(), Some(lock));
    crate::testhook::pause("scratch-dir");
    Ok(d)
}

/// Create (or truncate) a scratch file, `0600` whatever the umask.
pub fn file(path: &Path) -> io::Result<File> {
    let f = create_file(path)?;
    crate::testhook::pause("scratch-file");
    Ok(f)
}

fn create_file(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// `weft-…-PID-XXXXXX` → PID.
fn pid_of(name: &str) -> Option<u32> {
    if !name.starts_with("weft") {
        return None;
    }
    let mut parts = name.rsplitn(3, '-');
    let random = parts.next()?;
    let pid = parts.next()?;
    parts.next()?;
    if random.is_empty() || !random.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    pid.parse().ok()
}

/// Remove the scratch directories of dead processes in `tmp`: directories
/// (not links) of this user, named like [`dir`]'s, whose lock is free —
/// or, for the rare one without a lock file (its process died between
/// making it and locking it), whose process is gone and which has not
/// changed for a minute.
fn sweep_dead(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let pid = match pid_of(&name) {
            Some(pid) if pid != me => pid,
            _ => continue,
        };
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || !mine(&meta) {
            continue;
        }
        let dead = match File::open(path.join(LOCK_FILE)) {
            Ok(lock) => lock.try_lock().is_ok(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let old = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|d| d.as_secs() > 60);
                old && !alive(pid)
            }
            Err(_) => false,
        };
        if dead {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(unix)]
pub(crate) fn mine(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    meta.uid() == unsafe { libc::geteuid() }
}

/// Whether a process of this pid exists (as far as this process can
/// see: true when unsure).
#[cfg(unix)]
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
pub(crate) fn alive(_pid: u32) -> bool {
    true
}

#[cfg(not(unix))]
pub(crate) fn mine(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
mod signals {
    use std::io::Read;
    use std::os::fd::IntoRawFd;
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

    static PIPE: AtomicI32 = AtomicI32::new(-1);
    static INSTALLED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(sig: libc::c_int) {
        let fd = PIPE.load(Ordering::Relaxed);
        if fd < 0 {
            return;
        }
        let b = sig as u8;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: __errno_location returns this thread's errno; write(2) is
        // async-signal-safe and `b` outlives the call.
        unsafe {
            let saved = *libc::__errno_location();
            libc::write(fd, (&b as *const u8).cast(), 1);
            *libc::__errno_location() = saved;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        // SAFETY: write(2) is async-signal-safe and `b` outlives the call.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }

    fn name(sig: i32) -> &'static str {
        match sig {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            libc::SIGHUP => "SIGHUP",
            _ => "a signal",
        }
    }

    fn cleanup_and_exit(sig: i32) -> ! {
        // A replacement in progress is finished first.
        let _g = super::critical();
        super::remove_registered();
        let msg = format!("weft: stopped by {}\n", name(sig));
        // SAFETY: plain write(2) of a live buffer to stderr; _exit ends the
        // process without running destructors or atexit handlers, which
        // other threads may still be using.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(128 + sig)
        }
    }

    pub fn install() -> std::io::Result<()> {
        if INSTALLED.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let (mut reader, writer) = std::io::pipe()?;
        std::thread::Builder::new()
            .name("weft-signals".into())
            .spawn(move || {
                let mut b = [0u8; 1];
                loop {
                    match reader.read(&mut b) {
                        Ok(1) => cleanup_and_exit(i32::from(b[0])),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        _ => return,
                    }
                }
            })?;
        PIPE.store(writer.into_raw_fd(), Ordering::SeqCst);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: sigaction with zeroed (then filled) structs; the
            // handler only writes to a pipe.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // A signal ignored when we started (`nohup`, a background
                // job) stays ignored.
                if old.sa_sigaction == libc::SIG_IGN {
                    continue;
                }
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
        Ok(())
    }
}

/// Handle SIGINT, SIGTERM and SIGHUP: remove every registered scratch
/// path and exit with 128 + the signal. For programs (the `weft`
/// command), not libraries: an embedding program keeps its own handlers.
/// Signals ignored at start stay ignored. Idempotent.
pub fn install_signal_handlers() -> io::Result<()> {
    #[cfg(unix)]
    {
        signals::install()
    }
    #[cfg(not(unix))]
    {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_of_scratch_directories() {
        assert_eq!(pid_of("weft-index-123-aB3xYz"), Some(123));
        assert_eq!(pid_of("weft-a-b-77-zzzzzz"), Some(77));
        assert_eq!(pid_of("weft-index"), None);
        assert_eq!(pid_of("other-12-abcdef"), None);
        assert_eq!(pid_of("weft-x-12-ab.cd"), None);
    }

    #[cfg(unix)]
    #[test]
    fn scratch_is_owner_only_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("weft-unit").unwrap();
        let mode = std::fs::metadata(d.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let f = d.path().join("x");
        drop(file(&f).unwrap());
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(d.path().join(LOCK_FILE).exists());
        let p = d.path().to_path_buf();
        drop(d);
        assert!(!p.exists());
    }
}
