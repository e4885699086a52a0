//! Reading files of the platform repo: bounded, classified errors, positions from offsets.

use std::io::Read;
use std::path::Path;

use platformctl_yaml::{Pos, decode_utf8};

use crate::finding::{Code, Finding};

/// The largest module.yaml platformctl reads.
pub const MANIFEST_MAX_BYTES: u64 = 1 << 20;
/// The largest compose file (or `.env`) platformctl reads.
pub const COMPOSE_MAX_BYTES: u64 = 16 << 20;
/// The largest platform.toml platformctl reads.
pub const PLATFORM_MAX_BYTES: u64 = 1 << 20;

/// Reads `root/rel` as UTF-8 text of at most `max` bytes. `Ok(None)` when it does not exist.
/// Errors are findings in `rel`: `IO_ERROR` when it cannot be read, `FILE_TOO_LARGE`,
/// `FILE_NOT_TEXT`.
pub fn read_text(root: &Path, rel: &Path, max: u64) -> Result<Option<String>, Finding> {
    let path = root.join(rel);
    // Open first and ask the open file: one path lookup, not two. O_NONBLOCK so that opening
    // a FIFO does not wait for a writer (it is then refused as not a regular file); it changes
    // nothing for regular files.
    let file = match open_nonblocking(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink is "not found" too; say which.
            if std::fs::symlink_metadata(&path).is_ok() {
                return Err(Finding::at_file(
                    Code::IoError,
                    rel,
                    "a symbolic link to a file that does not exist",
                ));
            }
            return Ok(None);
        }
        Err(e) => return Err(io_finding(rel, &e)),
    };
    let meta = file.metadata().map_err(|e| io_finding(rel, &e))?;
    if !meta.is_file() {
        return Err(Finding::at_file(
            Code::IoError,
            rel,
            if meta.is_dir() {
                "a directory where a file is expected"
            } else {
                "not a regular file (a FIFO, socket or device)"
            },
        ));
    }
    if meta.len() > max {
        return Err(too_large(rel, meta.len(), max));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_finding(rel, &e))?;
    if bytes.len() as u64 > max {
        return Err(too_large(rel, bytes.len() as u64, max));
    }
    if let Err(e) = decode_utf8(&bytes) {
        return Err(Finding::new(Code::FileNotText, rel, e.pos, e.message));
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    // Checked above; from_utf8 re-checks (cheaply) instead of copying the text.
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Finding::at_file(Code::FileNotText, rel, "not UTF-8"))
}

#[cfg(target_os = "linux")]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    // Elsewhere: refuse anything but a regular file before opening it.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(std::io::Error::other(
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    std::fs::File::open(path)
}

fn too_large(rel: &Path, len: u64, max: u64) -> Finding {
    Finding::at_file(
        Code::FileTooLarge,
        rel,
        format!(
            "the file is {} bytes; platformctl reads at most {max} bytes here",
            len
        ),
    )
    .hint("is this the right file? manifests are a few hundred bytes")
}

/// A finding for an I/O error, saying what it means for an operator.
pub fn io_finding(rel: &Path, e: &std::io::Error) -> Finding {
    let what = match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "permission denied; platformctl needs read access".to_string()
        }
        _ if e.raw_os_error() == Some(40) => {
            "too many levels of symbolic links (a symlink loop)".to_string()
        }
        _ => format!("cannot read: {e}"),
    };
    Finding::at_file(Code::IoError, rel, what)
}

/// Maps byte offsets of a text to 1-based line and column (in characters).
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// The position of a byte offset.
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        Pos::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let t = "ab\ncdé\nf";
        let ix = LineIndex::new(t);
        assert_eq!(ix.pos(0), Pos::new(1, 1));
        assert_eq!(ix.pos(3), Pos::new(2, 1));
        assert_eq!(ix.pos(5), Pos::new(2, 3));
        assert_eq!(ix.pos(8), Pos::new(3, 1));
        assert_eq!(ix.pos(100), Pos::new(3, 2));
    }

    #[test]
    fn missing_file_is_none() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(read_text(d.path(), Path::new("nope"), 10).unwrap(), None);
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("module.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let e = read_text(d.path(), Path::new("module.yaml"), 10).unwrap_err();
        assert_eq!(e.code, Code::IoError);
        assert!(e.message.contains("FIFO"), "{}", e.message);
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
