//! The lock of an output directory: one run at a time writes to it.
//!
//! The lock is a file beside the output directory, `.NAME.weft-lock` in
//! its parent (inside the directory, `.weft-lock`, when the parent is not
//! writable), locked with `flock` (std's `File::lock`) for the whole run,
//! and holding the pid of the run that holds it, so that a second run can
//! name it. The kernel releases a `flock` when its process dies, however
//! it dies (`kill -9` included): a stale lock needs no recovery, and the
//! pid written in it is only a name for messages, never trusted.
//!
//! The holder removes the file before it unlocks, and whoever locks
//! checks that the file it locked is still the one at that path (same
//! device and inode) and starts again if not: so a run that was waiting on
//! a file removed meanwhile never believes it holds the lock of a file
//! another run has just created. After a run nothing is left of the lock;
//! after a `kill -9` the file stays (empty of meaning: the next run takes
//! it over, then removes it).
//!
//! A lock taken with [`OutputLock::acquire`] is used again by
//! [`crate::commit::Commit::begin`] for the same directory on the same
//! thread: so a program can lock before its long preparations (the `weft`
//! command does, with `--wait-lock`), and a run in another thread of the
//! same process still finds the directory busy.

use crate::commit::Target;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::thread::ThreadId;

/// The name of the lock file inside an output directory whose parent is
/// not writable.
pub const INSIDE: &str = ".weft-lock";

/// Why an output directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another weft run ({}) is writing to {}", who(*.pid), .out.display())]
    Busy { out: PathBuf, pid: Option<u32> },
    #[error("cannot lock {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn who(pid: Option<u32>) -> String {
    match pid {
        Some(p) if p == std::process::id() => format!("pid {p}, this process"),
        Some(p) => format!("pid {p}"),
        None => "pid unknown".into(),
    }
}

/// A held lock of an output directory; released (and its file removed)
/// when the last clone is dropped.
#[derive(Clone)]
pub struct OutputLock(Arc<Held>);

struct Held {
    path: PathBuf,
    thread: ThreadId,
    /// Closed (unlocking) after `drop` removed the path.
    _file: File,
}

static HELD: Mutex<Vec<Weak<Held>>> = Mutex::new(Vec::new());

impl Drop for Held {
    fn drop(&mut self) {
        // Remove, then unlock (when `file` is closed, after this).
        let _ = std::fs::remove_file(&self.path);
        crate::scratch::forget(&self.path);
    }
}

impl OutputLock {
    /// Lock the output directory `out` (created or not). Without `wait`,
    /// fail at once with [`LockError::Busy`] when another run holds it;
    /// with `wait`, call `on_wait` with that run's pid and wait for it.
    pub fn acquire(
        out: &Path,
        wait: bool,
        on_wait: &mut dyn FnMut(Option<u32>),
    ) -> Result<OutputLock, LockError> {
        let target = Target::resolve(out).map_err(|source| LockError::Io {
            path: out.to_path_buf(),
            source,
        })?;
        Self::for_target(&target, wait, on_wait)
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    pub(crate) fn for_target(
        target: &Target,
        wait: bool,
        on_wait: &mut dyn FnMut(Option<u32>),
    ) -> Result<OutputLock, LockError> {
        let beside = target.parent.join(format!(".{}.weft-lock", target.name));
        let inside = target.out.join(INSIDE);
        if let Some(l) = held_here(&beside).or_else(|| held_here(&inside)) {
            return Ok(l);
        }
        let path = match open(&beside) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                ) && target.out.is_dir() =>
            {
                inside
            }
            _ => beside,
        };
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = loop {
            let f = open(&path).map_err(io_err)?;
            match f.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let pid = read_pid(&path);
                    if !wait {
                        return Err(LockError::Busy {
                            out: target.out.clone(),
                            pid,
                        });
                    }
                    on_wait(pid);
                    f.lock().map_err(io_err)?;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err(e)),
            }
            if same_file(&f, &path) {
                break f;
            }
        };
        {
            use std::io::Write;
            let mut w = &file;
            file.set_len(0)
                .and_then(|_| w.write_all(format!("{}\n", std::process::id()).as_bytes()))
                .map_err(io_err)?;
        }
        crate::scratch::register(&path);
        let held = Arc::new(Held {
            path,
            thread: std::thread::current().id(),
            _file: file,
        });
        let mut list = HELD.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(&held));
        Ok(OutputLock(held))
    }
}

/// A lock of this path held by this thread.
fn held_here(path: &Path) -> Option<OutputLock> {
    let me = std::thread::current().id();
    let list = HELD.lock().unwrap_or_else(|e| e.into_inner());
    list.iter()
        .filter_map(Weak::upgrade)
        .find(|h| h.path == path && h.thread == me)
        .map(OutputLock)
}

fn open(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        // Owner-only whatever the umask (a lock file of another user is
        // left as it is).
        use std::os::unix::fs::PermissionsExt;
        let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
    }
    Ok(f)
}

/// The pid written by the holder (it may not have written it yet).
fn read_pid(path: &Path) -> Option<u32> {
    for _ in 0..20 {
        if let Ok(s) = std::fs::read_to_string(path) {
            if let Ok(p) = s.trim().parse() {
                return Some(p);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    None
}

#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_f: &File, path: &Path) -> bool {
    path.exists()
}
