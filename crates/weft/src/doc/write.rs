//! Writing a site to a directory whole: the files go to a staging
//! directory beside `out` (owner-only, removed on an error or a signal),
//! which is then renamed to `out`; an earlier site is renamed aside first
//! and removed once the new one is in place. A crash leaves `out` with the
//! earlier site or the new one (or, between the two renames, no `out` and
//! the earlier site in `.NAME.weft-doc-old-PID`), never a mixture.

use super::SiteFile;
use crate::Error;
use std::path::{Path, PathBuf};

/// What marks a directory as a site `weft doc` wrote.
const MARK: &str = "<meta name=\"generator\" content=\"weft doc\">";

fn io(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        doing,
        path,
        source,
    }
}

/// Whether `out` is free to be replaced: missing, empty, or an earlier
/// site.
fn replaceable(out: &Path) -> Result<bool, Error> {
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io("cannot read", out)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Usage(format!(
            "--out {} is a symbolic link; give the directory it points to",
            out.display()
        )));
    }
    if !meta.is_dir() {
        return Err(Error::Usage(format!(
            "--out {} is not a directory",
            out.display()
        )));
    }
    let mut entries = std::fs::read_dir(out).map_err(io("cannot read", out))?;
    if entries.next().is_none() {
        return Ok(true);
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    if index.contains(MARK) {
        return Ok(true);
    }
    Err(Error::Usage(format!(
        "{} holds files that are not a site written by `weft doc`; choose another --out or move them away",
        out.display()
    )))
}

pub(crate) fn write(files: &[SiteFile], out: &Path) -> Result<(), Error> {
    let out = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(io("cannot read the current directory", out))?
            .join(out)
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Usage(format!("--out {} names no directory", out.display())))?;
    let parent = out.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
    let _lock = crate::files::OutputLock::acquire(&out, false, &mut |_| {})?;
    let exists = replaceable(&out)?;
    let pid = std::process::id();
    let staging = weft_engine::scratch::dir_in(&parent, &format!(".{name}.weft-doc-{pid}-"))
        .map_err(io("cannot make a staging directory in", &parent))?;
    for f in files {
        let path = staging.path().join(&f.path);
        std::fs::write(&path, f.text.as_bytes()).map_err(io("cannot write", &path))?;
    }
    set_public(staging.path()).map_err(io("cannot set the mode of", staging.path()))?;
    let staged: PathBuf = staging.path().to_path_buf();
    let old = parent.join(format!(".{name}.weft-doc-old-{pid}"));
    {
        let _critical = weft_engine::scratch::critical();
        if exists {
            std::fs::rename(&out, &old).map_err(io("cannot move aside", &out))?;
        }
        if let Err(e) = std::fs::rename(&staged, &out) {
            if exists {
                let _ = std::fs::rename(&old, &out);
            }
            return Err(io("cannot put the site in place at", &out)(e));
        }
        weft_engine::scratch::forget(&staged);
        // The staging directory is now the site: keep it.
        let _ = staging.keep();
    }
    if exists {
        weft_engine::scratch::remove(&old).map_err(io("cannot remove the earlier site", &old))?;
    }
    Ok(())
}

/// A site is for reading: `rwxr-xr-x` for its directory (the staging
/// directory was owner-only); its files already have the umask's modes.
#[cfg(unix)]
fn set_public(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_public(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
