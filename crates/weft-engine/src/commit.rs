//! Committing a result: the output directory of `weft run` always holds one
//! whole result — the earlier one or the new one — whatever happens to the
//! run (an error, a full disk, a signal, `kill -9`, a power cut after the
//! commit returned).
//!
//! [`Commit::begin`] (before any work) resolves `--out` (a symbolic link is
//! followed, so the result lands on the link's volume), refuses a file or
//! a non-empty directory without `--force`, takes the directory's lock
//! ([`crate::lock`]), removes what dead runs of this directory left
//! (staging directories, an old result moved aside), and makes an empty
//! owner-only staging directory **on the filesystem of `--out`**:
//!
//! - **Swap** (the usual case): the staging directory is a sibling,
//!   `.NAME.weft-stage-PID-XXXXXX`. [`Commit::finish`] writes
//!   `manifest.json` into it, fsyncs every file and the directory, gives it
//!   the mode of the directory it replaces (or the umask's), then
//!   exchanges it with `--out` in one `renameat2(RENAME_EXCHANGE)` (a plain
//!   rename when `--out` does not exist yet), fsyncs the parent and
//!   removes the old result, now at the staging path. A crash before the
//!   exchange leaves the earlier result; after it, the new one; the
//!   leftover staging directory is removed by the next run.
//! - **Two renames** (fallback where the filesystem cannot exchange:
//!   `EINVAL`, `ENOSYS`, `EOPNOTSUPP`, and on systems other than Linux):
//!   `--out` is renamed aside to `.NAME.weft-old-PID-N`, then the staging
//!   directory to `--out`. A crash between the two renames leaves no
//!   `--out` but the earlier result aside, complete; the next run moves
//!   it back before anything else.
//! - **In place** (when `--out` is a mount point — its device differs from
//!   its parent's — or a rename of it fails with `EXDEV`/`EBUSY`, or its
//!   parent is not writable): the staging directory is inside,
//!   `OUT/.weft-stage-PID-XXXXXX`. The old `manifest.json` is removed
//!   first (and the directory fsynced), each new file is renamed over its
//!   old namesake, the files of the earlier result the new one does not
//!   have are removed (another `--format`, another policy's outputs), and
//!   the new `manifest.json` is renamed in last. A crash in between leaves
//!   a directory **without** `manifest.json`: incomplete, and marked so;
//!   never a manifest over mixed files.
//!
//! `--force` replaces only a result: every entry of a non-empty `--out`
//! must be a regular file named `manifest.json`, listed in the old
//! manifest's outputs, or named like one of this run's outputs
//! (`persons.csv`, `errors.parquet`, …); anything else (a `notes.txt`, a
//! subdirectory) is refused, so a mistyped `--out` never loses a
//! directory of other files.
//!
//! While a replacement is in progress ([`crate::scratch::critical`]) a
//! signal waits for it to finish; every staging directory is registered
//! for removal on a signal and removed on drop. The staging directory is
//! `0700` until it becomes the result; the result's files have the
//! umask's modes (the writers create them so).

use crate::lock::OutputLock;
use crate::run::RunError;
use crate::scratch;
use crate::testhook;
use std::io;
use std::path::{Path, PathBuf};

/// What `weft run` writes besides its outputs.
pub const MANIFEST: &str = "manifest.json";
/// The extensions of result files (the output formats).
const RESULT_EXTENSIONS: [&str; 3] = ["csv", "jsonl", "parquet"];
/// The prefix of a staging directory inside `--out` (in place).
const STAGE_INSIDE: &str = ".weft-stage-";

/// Why a result could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(
        "the output directory {} is not empty; use --force to replace its results",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("--out {} is {}, not a directory", .0.display(), .1)]
    NotADirectory(PathBuf, &'static str),
    #[error(
        "{} holds {names}, which {} not part of a Weft result; --force replaces only the files of an earlier run: move {} away or choose another --out",
        .out.display(),
        if *.count == 1 { "is" } else { "are" },
        if *.count == 1 { "it" } else { "them" }
    )]
    Foreign {
        out: PathBuf,
        names: String,
        count: usize,
    },
    #[error(transparent)]
    Lock(crate::lock::LockError),
    /// `what` reads after "cannot write the output: ", `then` after the
    /// system's error (what became of `--out`).
    #[error("{what}: {source}{then}")]
    Io {
        what: String,
        source: io::Error,
        then: String,
    },
}

impl From<CommitError> for RunError {
    fn from(e: CommitError) -> RunError {
        match e {
            CommitError::NotEmpty(_)
            | CommitError::NotADirectory(..)
            | CommitError::Foreign { .. } => RunError::Usage(e.to_string()),
            CommitError::Lock(l) => RunError::Output(l.to_string()),
            CommitError::Io { .. } => RunError::Output(e.to_string()),
        }
    }
}

/// An output path resolved: `out` absolute, symbolic links followed (for
/// a path that does not exist yet, its parent's), `parent` created.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `--out` as given, for messages.
    pub given: PathBuf,
    pub out: PathBuf,
    pub parent: PathBuf,
    pub name: String,
}

impl Target {
    pub(crate) fn resolve(out: &Path) -> io::Result<Target> {
        let mut t = Self::resolve_in(out, 0)?;
        t.given = out.to_path_buf();
        Ok(t)
    }

    /// `out` resolved; `links` symbolic links followed so far.
    fn resolve_in(out: &Path, links: u32) -> io::Result<Target> {
        let given = if out.as_os_str().is_empty() {
            Path::new(".")
        } else {
            out
        };
        let real = match std::fs::symlink_metadata(given) {
            Ok(m) => match std::fs::canonicalize(given) {
                Ok(p) => p,
                // A link to a directory that does not exist yet: made
                // where the link points.
                Err(e) if m.file_type().is_symlink() && e.kind() == io::ErrorKind::NotFound => {
                    if links >= 32 {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "too many symbolic links",
                        ));
                    }
                    let to = std::fs::read_link(given)?;
                    let to = match given.parent() {
                        Some(p) if to.is_relative() => p.join(to),
                        _ => to,
                    };
                    return Self::resolve_in(&to, links + 1);
                }
                Err(e) => return Err(e),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let name = given.file_name().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "it names no directory")
                })?;
                let parent = match given.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                std::fs::create_dir_all(parent)?;
                std::fs::canonicalize(parent)?.join(name)
            }
            Err(e) => return Err(e),
        };
        let (Some(parent), Some(name)) = (real.parent(), real.file_name()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a filesystem's root cannot be replaced",
            ));
        };
        Ok(Target {
            given: out.to_path_buf(),
            parent: parent.to_path_buf(),
            name: name.to_string_lossy().to_string(),
            out: real.clone(),
        })
    }

    fn stage_prefix(&self) -> String {
        format!(".{}.weft-stage-", self.name)
    }

    fn aside_prefix(&self) -> String {
        format!(".{}.weft-old-", self.name)
    }
}

/// A result being made: the lock of its output directory and the staging
/// directory its files are written to. Dropped without [`Commit::finish`],
/// it removes the staging directory and leaves `--out` as it was.
pub struct Commit {
    /// Dropped (removed) before the lock is released.
    staging: Option<tempfile::TempDir>,
    target: Target,
    _lock: OutputLock,
    in_place: bool,
    force: bool,
    /// The output names of this run (`persons`, …, `errors`).
    stems: Vec<String>,
    /// The files of the earlier result in `--out`.
    old: Vec<String>,
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> CommitError {
    io_then(what, "")
}

/// An I/O error, and what became of `--out` (`"; nothing in out was
/// changed"`).
fn io_then(
    what: impl Into<String>,
    then: impl Into<String>,
) -> impl FnOnce(io::Error) -> CommitError {
    let (what, then) = (what.into(), then.into());
    move |source| CommitError::Io { what, source, then }
}

impl Commit {
    /// Make ready to write a result to `out`: see the module's doc.
    /// `outputs` are the names of the run's output files without
    /// extension (`errors` is added). The lock is taken at once (or
    /// reused from an [`OutputLock::acquire`] of this thread).
    pub fn begin<'a>(
        out: &Path,
        force: bool,
        outputs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Commit, CommitError> {
        let target = Target::resolve(out).map_err(io_err(out.display().to_string()))?;
        if let Ok(m) = std::fs::metadata(&target.out) {
            if !m.is_dir() {
                return Err(CommitError::NotADirectory(out.to_path_buf(), kind_of(&m)));
            }
        }
        let lock =
            OutputLock::for_target(&target, false, &mut |_| {}).map_err(CommitError::Lock)?;
        testhook::pause("locked");
        recover(&target);
        let mut stems: Vec<String> = outputs.into_iter().map(str::to_string).collect();
        stems.push("errors".into());
        let exists = target.out.is_dir();
        let old = if exists {
            earlier_result(&target, &stems, force)?
        } else {
            Vec::new()
        };
        let mut in_place = exists && is_mount_point(&target);
        let staging = if in_place {
            None
        } else {
            match scratch::dir_in(&target.parent, &stage_prefix_pid(&target)) {
                Ok(d) => Some(d),
                Err(e)
                    if exists
                        && matches!(
                            e.kind(),
                            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                        ) =>
                {
                    in_place = true;
                    None
                }
                Err(e) => {
                    return Err(io_err(format!(
                        "cannot make a staging directory in {}",
                        target.parent.display()
                    ))(e));
                }
            }
        };
        let staging = match staging {
            Some(s) => s,
            None => scratch::dir_in(
                &target.out,
                &format!("{STAGE_INSIDE}{}-", std::process::id()),
            )
            .map_err(io_err(format!(
                "cannot make a staging directory in {}",
                target.given.display()
            )))?,
        };
        Ok(Commit {
            staging: Some(staging),
            target,
            _lock: lock,
            in_place,
            force,
            stems,
            old,
        })
    }

    /// Where the run writes its files (not `manifest.json`: [`finish`]
    /// does). An owner-only directory on the filesystem of `--out`.
    ///
    /// [`finish`]: Commit::finish
    pub fn staging(&self) -> &Path {
        self.staging
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new(""))
    }

    /// The output directory, resolved.
    pub fn out(&self) -> &Path {
        &self.target.out
    }

    /// Write `manifest` as `manifest.json`, make every staged file
    /// durable, and put the new result in place of the old one: see the
    /// module's doc. On an error `--out` holds the earlier result (or, in
    /// place, at worst a directory without `manifest.json`, which the
    /// message says).
    pub fn finish(mut self, manifest: &str) -> Result<(), CommitError> {
        let Some(staging) = self.staging.take() else {
            return Err(CommitError::Io {
                what: "internal error".into(),
                source: io::Error::other("the result was already committed"),
                then: String::new(),
            });
        };
        let out = self.target.given.clone();
        let unchanged = |e: io::Error, file: &str| CommitError::Io {
            what: format!("{file} for {}", out.display()),
            source: e,
            then: format!("; nothing in {} was changed", out.display()),
        };
        write_synced(
            &staging.path().join(MANIFEST),
            manifest.as_bytes(),
            "manifest",
        )
        .map_err(|e| unchanged(e, MANIFEST))?;
        let new = sync_tree(staging.path()).map_err(|e| unchanged(e, "syncing the result"))?;
        testhook::pause("staged");
        if self.in_place {
            self.replace_in_place(staging, &new)
        } else {
            self.swap(staging, &new)
        }
    }

    fn swap(&self, staging: tempfile::TempDir, new: &[String]) -> Result<(), CommitError> {
        let t = &self.target;
        let exists = std::fs::symlink_metadata(&t.out).is_ok();
        if exists {
            // The directory may have changed during the run.
            earlier_result(t, &self.stems, self.force)?;
        }
        let mode = match std::fs::metadata(&t.out) {
            Ok(m) => mode_of(&m),
            Err(_) => 0o777 & !umask(),
        };
        scratch::set_mode(staging.path(), mode).map_err(io_err(format!(
            "cannot set the mode of {}",
            staging.path().display()
        )))?;
        if !exists {
            let r = {
                let _g = scratch::critical();
                testhook::pause("rename");
                std::fs::rename(staging.path(), &t.out)
            };
            r.map_err(io_err(format!(
                "cannot move the result into place at {}",
                t.given.display()
            )))?;
            keep(staging);
            let _ = sync_dir(&t.parent);
            return Ok(());
        }
        let r = {
            let _g = scratch::critical();
            exchange(staging.path(), &t.out)
        };
        match r {
            Ok(()) => {
                let _ = sync_dir(&t.parent);
                testhook::pause("swapped");
                // The staging path now holds the earlier result.
                let old = staging.path().to_path_buf();
                let _ = staging.close();
                scratch::forget(&old);
                let _ = sync_dir(&t.parent);
                Ok(())
            }
            Err(e) if cannot_exchange(&e) => self.two_renames(staging),
            Err(e) if cross_device(&e) => {
                // A mount point after all (a bind mount has its parent's
                // device): stage inside and replace in place.
                let inside =
                    scratch::dir_in(&t.out, &format!("{STAGE_INSIDE}{}-", std::process::id()))
                        .map_err(io_err(format!(
                            "cannot make a staging directory in {}",
                            t.given.display()
                        )))?;
                for f in new {
                    copy_synced(&staging.path().join(f), &inside.path().join(f)).map_err(
                        io_then(
                            format!("cannot copy {f} to {}", t.given.display()),
                            "; nothing in it was changed",
                        ),
                    )?;
                }
                let _ = sync_dir(inside.path());
                drop(staging);
                self.replace_in_place(inside, new)
            }
            Err(e) => Err(io_then(
                format!("cannot swap the new result into {}", t.given.display()),
                "; nothing in it was changed",
            )(e)),
        }
    }

    /// Where the filesystem cannot exchange: the old result aside, then the
    /// new one in place (a crash in between is recovered by [`recover`]).
    fn two_renames(&self, staging: tempfile::TempDir) -> Result<(), CommitError> {
        let t = &self.target;
        let aside = t.parent.join(format!(
            "{}{}-{}",
            t.aside_prefix(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        {
            let _g = scratch::critical();
            std::fs::rename(&t.out, &aside).map_err(io_then(
                format!(
                    "cannot move the earlier result in {} aside",
                    t.given.display()
                ),
                "; nothing in it was changed",
            ))?;
            let _ = sync_dir(&t.parent);
            testhook::pause("old-moved");
            if let Err(e) = std::fs::rename(staging.path(), &t.out) {
                let _ = std::fs::rename(&aside, &t.out);
                let _ = sync_dir(&t.parent);
                return Err(io_then(
                    format!("cannot move the new result into {}", t.given.display()),
                    "; the earlier result was put back",
                )(e));
            }
            scratch::register(&aside);
        }
        keep(staging);
        let _ = sync_dir(&t.parent);
        let _ = scratch::remove(&aside);
        scratch::forget(&aside);
        let _ = sync_dir(&t.parent);
        Ok(())
    }

    /// `--out` cannot be renamed: replace its files one by one, the old
    /// manifest removed first and the new one put last.
    fn replace_in_place(
        &self,
        staging: tempfile::TempDir,
        new: &[String],
    ) -> Result<(), CommitError> {
        let out = &self.target.out;
        let shown = &self.target.given;
        if std::fs::symlink_metadata(out).is_ok() {
            earlier_result(&self.target, &self.stems, self.force)?;
        }
        let incomplete = |what: String| {
            io_then(
                what,
                format!(
                    "; {} is left without {MANIFEST} (an incomplete result): run again with --force to replace it",
                    shown.display()
                ),
            )
        };
        let _g = scratch::critical();
        match std::fs::remove_file(out.join(MANIFEST)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_then(
                    format!(
                        "cannot remove the earlier {MANIFEST} from {}",
                        shown.display()
                    ),
                    "; nothing in it was changed",
                )(e));
            }
            _ => {}
        }
        sync_dir(out).map_err(incomplete(format!("cannot sync {}", shown.display())))?;
        testhook::pause("manifest-removed");
        for f in new.iter().filter(|f| *f != MANIFEST) {
            std::fs::rename(staging.path().join(f), out.join(f))
                .map_err(incomplete(format!("cannot move {f} into place")))?;
        }
        testhook::pause("moved");
        for f in &self.old {
            if f != MANIFEST && !new.contains(f) {
                match std::fs::remove_file(out.join(f)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(incomplete(format!("cannot remove the earlier {f}"))(e));
                    }
                    _ => {}
                }
            }
        }
        sync_dir(out).map_err(incomplete(format!("cannot sync {}", shown.display())))?;
        testhook::pause("cleaned");
        std::fs::rename(staging.path().join(MANIFEST), out.join(MANIFEST))
            .map_err(incomplete(format!("cannot move {MANIFEST} into place")))?;
        sync_dir(out).map_err(incomplete(format!("cannot sync {}", shown.display())))?;
        let p = staging.path().to_path_buf();
        let _ = staging.close();
        scratch::forget(&p);
        let _ = sync_dir(out);
        Ok(())
    }
}

/// Describe an error of a run for what it is: an output file that could
/// not be written (a full disk, say) is named as the output it is, with
/// the assurance that `--out` was not touched. Other errors pass.
pub fn output_error(e: RunError, out: &Path) -> RunError {
    match e {
        RunError::File(f)
            if f.message.starts_with("cannot write") || f.message.starts_with("cannot create") =>
        {
            let detail = f
                .message
                .strip_prefix("cannot write: ")
                .unwrap_or(&f.message);
            RunError::Output(format!(
                "{} for {}: {detail}; nothing in {} was changed",
                f.file,
                out.display(),
                out.display()
            ))
        }
        e => e,
    }
}

fn stage_prefix_pid(t: &Target) -> String {
    format!("{}{}-", t.stage_prefix(), std::process::id())
}

fn kind_of(m: &std::fs::Metadata) -> &'static str {
    crate::inputs::kind_of(&m.file_type())
}

/// What dead runs of this directory left: restore an earlier result moved
/// aside by [`Commit::two_renames`] when `--out` is missing, then remove
/// staging directories and results moved aside (we hold the lock: none of
/// them is a live run's). Best effort.
fn recover(t: &Target) {
    let Ok(entries) = std::fs::read_dir(&t.parent) else {
        return;
    };
    let mut stale = Vec::new();
    let mut aside = Vec::new();
    let legacy = format!(".{}.weft-tmp-", t.name);
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let is_dir = e.file_type().map(|f| f.is_dir()).unwrap_or(false);
        if !is_dir {
            continue;
        }
        if name.starts_with(&t.aside_prefix()) {
            aside.push(e.path());
        } else if name.starts_with(&t.stage_prefix()) || name.starts_with(&legacy) {
            stale.push(e.path());
        }
    }
    if std::fs::symlink_metadata(&t.out).is_err() {
        if let Some(i) = aside.iter().position(|p| p.join(MANIFEST).is_file()) {
            let p = aside.swap_remove(i);
            if std::fs::rename(&p, &t.out).is_ok() {
                let _ = sync_dir(&t.parent);
            }
        }
    }
    for p in stale.iter().chain(&aside) {
        let _ = scratch::remove(p);
    }
    if let Ok(entries) = std::fs::read_dir(&t.out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(STAGE_INSIDE) && e.file_type().map(|f| f.is_dir()).unwrap_or(false)
            {
                let _ = scratch::remove(&e.path());
            }
        }
    }
}

/// The files of the earlier result in `--out`; refuses a non-empty
/// directory without `force`, and entries that are not a result's.
fn earlier_result(t: &Target, stems: &[String], force: bool) -> Result<Vec<String>, CommitError> {
    let entries = std::fs::read_dir(&t.out).map_err(io_err(format!(
        "cannot read the output directory {}",
        t.given.display()
    )))?;
    let mut names = Vec::new();
    for e in entries {
        let e = e.map_err(io_err(format!(
            "cannot read the output directory {}",
            t.given.display()
        )))?;
        let name = e.file_name().to_string_lossy().to_string();
        let ours = name == crate::lock::INSIDE
            || (name.starts_with(STAGE_INSIDE) && e.file_type().is_ok_and(|f| f.is_dir()));
        if !ours {
            names.push((name, e.file_type().is_ok_and(|f| f.is_file())));
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    if !force {
        return Err(CommitError::NotEmpty(t.given.clone()));
    }
    let listed = listed_outputs(&t.out.join(MANIFEST));
    let is_result = |name: &str| {
        name == MANIFEST
            || listed.iter().any(|l| l == name)
            || name.rsplit_once('.').is_some_and(|(stem, ext)| {
                RESULT_EXTENSIONS.contains(&ext) && stems.iter().any(|s| s == stem)
            })
    };
    let mut foreign: Vec<String> = names
        .iter()
        .filter(|(n, file)| !*file || !is_result(n))
        .map(|(n, file)| if *file { n.clone() } else { format!("{n}/") })
        .collect();
    if !foreign.is_empty() {
        foreign.sort();
        let count = foreign.len();
        let mut shown: Vec<String> = foreign.iter().take(3).map(|n| format!("`{n}`")).collect();
        if count > 3 {
            shown.push(format!("{} more", count - 3));
        }
        return Err(CommitError::Foreign {
            out: t.given.clone(),
            names: shown.join(", "),
            count,
        });
    }
    Ok(names.into_iter().map(|(n, _)| n).collect())
}

/// The files a manifest lists as outputs.
fn listed_outputs(manifest: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    v.get("outputs")
        .and_then(|o| o.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("file").and_then(|f| f.as_str()))
                .filter(|f| !f.contains('/') && !f.contains('\\'))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(unix)]
fn is_mount_point(t: &Target) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(&t.out), std::fs::metadata(&t.parent)) {
        (Ok(a), Ok(b)) => a.dev() != b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_mount_point(_t: &Target) -> bool {
    false
}

#[cfg(unix)]
fn mode_of(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_m: &std::fs::Metadata) -> u32 {
    0o755
}

/// The process's umask, read without changing it (`umask(2)` would change
/// it for every thread for a moment): `/proc/self/status` on Linux, else
/// the common `022`.
pub(crate) fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Swap two paths atomically.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    testhook::pause("exchange");
    if let Some(e) = testhook::fail("exchange") {
        return Err(e);
    }
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that outlive the call; renameat2
    // only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    if let Some(e) = testhook::fail("exchange") {
        return Err(e);
    }
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange here",
    ))
}

/// The filesystem (or the system) cannot exchange two paths.
fn cannot_exchange(e: &io::Error) -> bool {
    #[cfg(unix)]
    if let Some(c) = e.raw_os_error() {
        return c == libc::EINVAL || c == libc::ENOSYS || c == libc::EOPNOTSUPP;
    }
    e.kind() == io::ErrorKind::Unsupported
}

/// `--out` is on another filesystem, or is a mount point.
fn cross_device(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::CrossesDevices | io::ErrorKind::ResourceBusy
    )
}

fn keep(d: tempfile::TempDir) {
    let p = d.keep();
    scratch::forget(&p);
}

/// Write a file and fsync it; `step` names the test hook's failure.
fn write_synced(path: &Path, bytes: &[u8], step: &str) -> io::Result<()> {
    use std::io::Write;
    if let Some(e) = testhook::fail(step) {
        return Err(e);
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn copy_synced(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::copy(from, to)?;
    std::fs::File::open(to)?.sync_all()
}

/// fsync every file of a directory (not recursive: a result is flat) and
/// the directory; the files' names, sorted.
fn sync_tree(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::File::open(e.path())?.sync_all()?;
            names.push(e.file_name().to_string_lossy().to_string());
        }
    }
    sync_dir(dir)?;
    names.sort();
    Ok(names)
}

/// fsync a directory (its entries: names created, renamed, removed).
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Write a whole file atomically (for reports such as `weft diff
/// --html`): a temporary file beside it (`.NAME.weft-tmp-PID-XXXXXX`,
/// registered for removal on a signal), fsynced, given the mode of the
/// file it replaces (or the umask's), then renamed over it. A directory
/// is refused before anything is written. Temporary files of dead
/// processes for the same name are removed.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let existing = std::fs::metadata(&path).ok();
    if let Some(m) = &existing {
        if !m.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("it is {}, not a file", kind_of(m)),
            ));
        }
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "it names no file"))?;
    let prefix = format!(".{name}.weft-tmp-");
    remove_dead_temporaries(&parent, &prefix);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempfile_in(&parent)?;
    scratch::register(tmp.path());
    let written = tmp
        .write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .and_then(|_| {
            let mode = existing.as_ref().map(mode_of).unwrap_or(0o666 & !umask());
            scratch::set_mode(tmp.path(), mode)
        });
    let tmp_path = tmp.path().to_path_buf();
    let r = written.and_then(|_| tmp.persist(&path).map(|_| ()).map_err(|e| e.error));
    scratch::forget(&tmp_path);
    r?;
    let _ = sync_dir(&parent);
    Ok(())
}

/// Remove `PREFIX-PID-XXXXXX` files of this user whose process is gone.
fn remove_dead_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if pid != std::process::id()
            && meta.is_file()
            && scratch::mine(&meta)
            && !scratch::alive(pid)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
