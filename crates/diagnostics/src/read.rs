//! The bounded file reader: text files platformctl reads from a repo, with a size cap and
//! errors that name the file.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::index::{LineIndex, Pos};

/// What to do with a leading UTF-8 byte-order mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bom {
    /// Drop it: the text starts at the first real character.
    Strip,
    /// Keep it, so byte offsets index the file as it is on disk (for edits written back).
    /// [`LineIndex`] does not count it as a column.
    Keep,
}

/// Why a file could not be read as text. [`fmt::Display`] names the file.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at that path.
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// A symbolic link to nothing.
    DanglingSymlink {
        /// The file.
        path: PathBuf,
    },
    /// A directory.
    Directory {
        /// The path.
        path: PathBuf,
    },
    /// A FIFO, socket or device.
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// Larger than the cap.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least `max + 1` when it grew while being read).
        len: u64,
        /// The cap.
        max: u64,
    },
    /// Not UTF-8 text, or binary (a NUL byte).
    NotText {
        /// The file.
        path: PathBuf,
        /// Where the first offending byte is, and what is wrong.
        error: DecodeError,
        /// The file's size in bytes.
        len: usize,
    },
    /// Any other I/O error (permissions, a symlink loop, …).
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl ReadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::NotFound { path }
            | ReadError::DanglingSymlink { path }
            | ReadError::Directory { path }
            | ReadError::NotRegular { path }
            | ReadError::TooLarge { path, .. }
            | ReadError::NotText { path, .. }
            | ReadError::Io { path, .. } => path,
        }
    }

    /// What is wrong, in words for an operator, without the file name.
    pub fn reason(&self) -> String {
        match self {
            ReadError::NotFound { .. } => "no such file".into(),
            ReadError::DanglingSymlink { .. } => {
                "a symbolic link to a file that does not exist".into()
            }
            ReadError::Directory { .. } => "a directory where a file is expected".into(),
            ReadError::NotRegular { .. } => "not a regular file (a FIFO, socket or device)".into(),
            ReadError::TooLarge { len, max, .. } => {
                format!("the file is {len} bytes; platformctl reads at most {max} bytes here")
            }
            ReadError::NotText { error, .. } => error.message.clone(),
            ReadError::Io { source, .. } => describe_io_error(source),
        }
    }

    /// The error as an [`std::io::Error`] (for callers whose error type holds one).
    pub fn into_io(self) -> std::io::Error {
        match self {
            ReadError::Io { source, .. } => source,
            ReadError::NotFound { .. } => {
                std::io::Error::new(std::io::ErrorKind::NotFound, self.reason())
            }
            ReadError::NotText { .. } | ReadError::TooLarge { .. } => {
                std::io::Error::new(std::io::ErrorKind::InvalidData, self.reason())
            }
            _ => std::io::Error::other(self.reason()),
        }
    }
}

/// What an I/O error met while reading means for an operator (without the file name).
pub fn describe_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "permission denied; platformctl needs read access".into()
        }
        _ if e.raw_os_error() == Some(40) => {
            "too many levels of symbolic links (a symlink loop)".into()
        }
        _ => format!("cannot read: {e}"),
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotText { path, error, .. } => {
                write!(f, "{}:{}: {}", path.display(), error.pos, error.message)
            }
            _ => write!(f, "{}: {}", self.path().display(), self.reason()),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads `path` as UTF-8 text of at most `max` bytes.
///
/// The file is opened once and asked (not the path twice); a FIFO is opened without waiting
/// for a writer and refused. The size is checked before reading and the read itself stops at
/// `max + 1` bytes, so a file that grows meanwhile is refused too. Text must be UTF-8 without
/// NUL bytes; the error for bad bytes gives their line and column.
pub fn read_text(path: &Path, max: u64, bom: Bom) -> Result<String, ReadError> {
    let owned = || path.to_path_buf();
    let file = match open_nonblocking(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(ReadError::DanglingSymlink { path: owned() });
            }
            return Err(ReadError::NotFound { path: owned() });
        }
        Err(source) => {
            return Err(ReadError::Io {
                path: owned(),
                source,
            });
        }
    };
    let meta = file.metadata().map_err(|source| ReadError::Io {
        path: owned(),
        source,
    })?;
    if meta.is_dir() {
        return Err(ReadError::Directory { path: owned() });
    }
    if !meta.is_file() {
        return Err(ReadError::NotRegular { path: owned() });
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge {
            path: owned(),
            len: meta.len(),
            max,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: owned(),
            source,
        })?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge {
            path: owned(),
            len: bytes.len() as u64,
            max,
        });
    }
    if let Err(error) = decode_utf8(&bytes) {
        return Err(ReadError::NotText {
            path: owned(),
            error,
            len: bytes.len(),
        });
    }
    if bom == Bom::Strip && bytes.starts_with(UTF8_BOM) {
        bytes.drain(..UTF8_BOM.len());
    }
    // Checked above; from_utf8 re-checks (cheaply) instead of copying the text.
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        path: owned(),
        error: DecodeError {
            pos: Pos::new(1, 1),
            message: "not UTF-8".into(),
        },
        len: 0,
    })
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[cfg(target_os = "linux")]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO does not wait for a writer (it is then refused as not a
    // regular file); it changes nothing for regular files.
    const O_NONBLOCK: i32 = 0o4000;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    // Elsewhere: refuse anything but a regular file or folder before opening it.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(std::io::Error::other(
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    std::fs::File::open(path)
}

/// Why bytes are not text platformctl reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Where the first offending byte is.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// Checks that `bytes` are UTF-8 without NUL bytes, strips a UTF-8 byte-order mark, and
/// returns the text. The error names the line and column of the first bad byte.
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let (valid, bad) = match std::str::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let upto = e.valid_up_to();
            // valid_up_to is a char boundary by construction.
            let s = std::str::from_utf8(&bytes[..upto]).unwrap_or_default();
            (s, Some(upto))
        }
    };
    if let Some(nul) = valid.find('\0') {
        return Err(DecodeError {
            pos: LineIndex::new(valid).pos(nul),
            message: "binary content: a NUL byte; this is not a text file".into(),
        });
    }
    match bad {
        None => Ok(valid),
        Some(at) => Err(DecodeError {
            pos: LineIndex::new(valid).pos(at),
            message: format!(
                "not UTF-8: byte 0x{:02X} at offset {at}; save the file as UTF-8",
                bytes[at]
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn reports_first_invalid_byte_position() {
        let e = decode_utf8(b"a: 1\nb: \xff\n").unwrap_err();
        assert_eq!(e.pos, Pos::new(2, 4));
        assert!(e.message.contains("0xFF"));
        let e = decode_utf8("é: \u{0}".as_bytes()).unwrap_err();
        assert_eq!(e.pos, Pos::new(1, 4));
    }

    #[test]
    fn bom_strip_or_keep() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "f", b"\xEF\xBB\xBFa: 1\n");
        assert_eq!(read_text(&p, 100, Bom::Strip).unwrap(), "a: 1\n");
        assert_eq!(read_text(&p, 100, Bom::Keep).unwrap(), "\u{FEFF}a: 1\n");
    }

    #[test]
    fn the_bound_is_kept_and_named() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "big.yaml", &[b'a'; 100]);
        let e = read_text(&p, 10, Bom::Strip).unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::TooLarge {
                    len: 100,
                    max: 10,
                    ..
                }
            ),
            "{e:?}"
        );
        let shown = e.to_string();
        assert!(shown.contains("big.yaml"), "{shown}");
        assert!(shown.contains("at most 10 bytes"), "{shown}");
        // Exactly at the bound is fine.
        assert_eq!(read_text(&p, 100, Bom::Strip).unwrap().len(), 100);
    }

    #[test]
    fn missing_dangling_directory_binary() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_text(&d.path().join("nope"), 10, Bom::Strip),
            Err(ReadError::NotFound { .. })
        ));
        std::os::unix::fs::symlink(d.path().join("nope"), d.path().join("link")).unwrap();
        assert!(matches!(
            read_text(&d.path().join("link"), 10, Bom::Strip),
            Err(ReadError::DanglingSymlink { .. })
        ));
        assert!(matches!(
            read_text(d.path(), 10, Bom::Strip),
            Err(ReadError::Directory { .. })
        ));
        let p = write(d.path(), "bin", b"ab\ncd\xff");
        let e = read_text(&p, 100, Bom::Strip).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:2:3: not UTF-8: byte 0xFF at offset 5; save the file as UTF-8",
                p.display()
            )
        );
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("module.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let e = read_text(&fifo, 10, Bom::Strip).unwrap_err();
        assert!(matches!(e, ReadError::NotRegular { .. }));
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
}
