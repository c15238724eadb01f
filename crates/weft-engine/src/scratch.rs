//! Scratch files: owner-only, whatever the umask.
//!
//! Anything Weft writes that does not become a result (the spilled id
//! index, staging directories) may hold personal data (record ids are
//! identity numbers in real registers), so it is created readable by its
//! owner only: directories 0700, files 0600.

use std::path::Path;

/// A new owner-only temporary directory in `$TMPDIR`, removed when dropped.
pub fn dir(prefix: &str) -> std::io::Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o700));
    }
    b.tempdir()
}

/// Create (or truncate) an owner-only file.
pub fn file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}
