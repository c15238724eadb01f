//! Files for front ends (the `weft` command, services writing results):
//! input files a run can read, output directories locked against a second
//! writer, files written whole, and temporary files removed on a signal.

use crate::Error;
use std::path::{Path, PathBuf};

/// Refuse, before anything is read, what cannot be an input file of a run
/// (which reads each input twice): a directory, a named pipe, a device, a
/// socket. A regular file, a link to one, or a path that cannot be
/// inspected (reading it reports that error) pass.
pub fn check_input(path: &Path) -> Result<(), Error> {
    weft_engine::inputs::check_input(path).map_err(Error::Run)
}

/// A text file's contents; a file that is not UTF-8 is an error saying
/// where the first bad byte is.
pub fn read_text(path: &Path) -> Result<String, Error> {
    weft_engine::load::read_text(path).map_err(|message| Error::File {
        path: path.to_path_buf(),
        message,
    })
}

/// Write a whole file atomically: through a temporary file beside it
/// (removed on an error or a signal), renamed over it when complete.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    weft_engine::commit::write_file(path, bytes).map_err(|source| Error::Io {
        doing: "cannot write",
        path: path.to_path_buf(),
        source,
    })
}

/// Handle SIGINT, SIGTERM and SIGHUP: remove every temporary file and
/// directory of a run, then exit with 128 + the signal. For programs, not
/// libraries: an embedding program keeps its own handlers. Idempotent.
pub fn install_signal_handlers() -> std::io::Result<()> {
    weft_engine::scratch::install_signal_handlers()
}

/// A held lock of an output directory: one run at a time writes to it.
/// Released (and its file removed) when dropped.
#[must_use = "the lock is released when dropped"]
pub struct OutputLock {
    _held: weft_engine::lock::OutputLock,
}

impl std::fmt::Debug for OutputLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputLock")
            .field("path", &self._held.path())
            .finish()
    }
}

impl OutputLock {
    /// Lock the output directory `out` (created or not). Without `wait`,
    /// fail at once with [`Error::Busy`] when another run holds it; with
    /// `wait`, call `on_wait` with that run's pid (when known) and wait.
    pub fn acquire(
        out: &Path,
        wait: bool,
        on_wait: &mut dyn FnMut(Option<u32>),
    ) -> Result<OutputLock, Error> {
        use weft_engine::lock::LockError;
        match weft_engine::lock::OutputLock::acquire(out, wait, on_wait) {
            Ok(l) => Ok(OutputLock { _held: l }),
            Err(LockError::Busy { out, pid }) => Err(Error::Busy { out, pid }),
            Err(LockError::Io { path, source }) => Err(Error::Io {
                doing: "cannot lock",
                path,
                source,
            }),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> PathBuf {
        self._held.path().to_path_buf()
    }
}
