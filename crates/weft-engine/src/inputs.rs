//! What may be an input file of `weft run`, `weft diff` and `weft explain`.
//!
//! A run reads each input twice (a first pass finds duplicate ids and
//! unknown households before anything is written, then the data), and
//! hashes it for the manifest: it needs a regular file, or a link to one.
//! A named pipe (FIFO) would be read empty the second time, a character
//! device such as `/dev/zero` never ends, a directory is no data: they are
//! refused before anything is read, with a message that says what they
//! are.

use std::fs::FileType;
use std::path::Path;

/// `Ok` for a regular file (or a link to one) and for a path that cannot
/// be inspected (reading it reports that error, as before); an error
/// sentence for a directory, a FIFO, a device or a socket.
pub fn check_input(path: &Path) -> Result<(), String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    Err(format!(
        "{} is {}, not a regular file: Weft reads each input twice (a first pass finds duplicate and unknown ids), so save the data to a file and give that",
        path.display(),
        kind_of(&ft)
    ))
}

/// "a directory", "a named pipe (FIFO)", … for messages.
pub fn kind_of(ft: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a file"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn special_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("x.csv");
        std::fs::write(&f, "a\n").unwrap();
        assert!(check_input(&f).is_ok());
        assert!(check_input(&d.path().join("missing.csv")).is_ok());
        let e = check_input(d.path()).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        #[cfg(unix)]
        {
            let e = check_input(Path::new("/dev/zero")).unwrap_err();
            assert!(e.contains("a character device"), "{e}");
        }
    }
}
