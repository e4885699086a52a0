//! Reading files of the platform repo: the workspace's bounded reader
//! (`platformctl_diagnostics::read_text`), its errors turned into findings.

use std::path::Path;

use platformctl_diagnostics::{Bom, ReadError, describe_io_error};

use crate::finding::{Code, Finding};

/// The largest module.yaml platformctl reads.
pub const MANIFEST_MAX_BYTES: u64 = 1 << 20;
/// The largest compose file (or `.env`) platformctl reads.
pub const COMPOSE_MAX_BYTES: u64 = 16 << 20;
/// The largest platform.toml platformctl reads.
pub const PLATFORM_MAX_BYTES: u64 = 1 << 20;

/// Reads `root/rel` as UTF-8 text of at most `max` bytes (a byte-order mark dropped).
/// `Ok(None)` when it does not exist. Errors are findings in `rel`: `IO_ERROR` when it cannot
/// be read, `FILE_TOO_LARGE`, `FILE_NOT_TEXT`.
pub fn read_text(root: &Path, rel: &Path, max: u64) -> Result<Option<String>, Finding> {
    match platformctl_diagnostics::read_text(&root.join(rel), max, Bom::Strip) {
        Ok(text) => Ok(Some(text)),
        Err(ReadError::NotFound { .. }) => Ok(None),
        Err(e @ ReadError::TooLarge { .. }) => {
            Err(Finding::at_file(Code::FileTooLarge, rel, e.reason())
                .hint("is this the right file? manifests are a few hundred bytes"))
        }
        Err(ReadError::NotText { error, .. }) => Err(Finding::new(
            Code::FileNotText,
            rel,
            error.pos,
            error.message,
        )),
        Err(e) => Err(Finding::at_file(Code::IoError, rel, e.reason())),
    }
}

/// A finding for an I/O error, saying what it means for an operator.
pub fn io_finding(rel: &Path, e: &std::io::Error) -> Finding {
    Finding::at_file(Code::IoError, rel, describe_io_error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_none() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(read_text(d.path(), Path::new("nope"), 10).unwrap(), None);
    }

    #[test]
    fn a_directory_is_an_io_finding() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("module.yaml")).unwrap();
        let e = read_text(d.path(), Path::new("module.yaml"), 10).unwrap_err();
        assert_eq!(e.code, Code::IoError);
        assert!(e.message.contains("a directory"), "{}", e.message);
    }

    #[test]
    fn a_bom_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("f"), b"\xEF\xBB\xBFa: 1\n").unwrap();
        assert_eq!(
            read_text(d.path(), Path::new("f"), 100).unwrap().unwrap(),
            "a: 1\n"
        );
    }

    #[test]
    fn too_large_is_refused_without_reading() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("big"), vec![b'a'; 100]).unwrap();
        let e = read_text(d.path(), Path::new("big"), 10).unwrap_err();
        assert_eq!(e.code, Code::FileTooLarge);
    }
}
