//! Reading workplan files and folders: bounded, and classified so that only I/O is an error.

use std::fmt;
use std::path::{Path, PathBuf};

use platformctl_diagnostics::{Bom, ReadError, read_text};

use crate::finding::{Code, Finding};
use crate::model::repo_of;
use crate::model::{Loc, Workplan};
use crate::parse::parse;

/// The largest workplan read (4 MiB: a long progress log is a few hundred KiB). A larger
/// file is a C-01 finding, not read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// An I/O error: `workplan status|lint` exits 2.
#[derive(Debug)]
pub enum Error {
    /// A path given does not exist.
    NotFound(PathBuf),
    /// A path could not be read (permissions, a symlink loop, a FIFO …).
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound(p) => write!(f, "{}: no such file or folder", p.display()),
            Error::Io { path, source } => write!(f, "{}: cannot read: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::NotFound(_) => None,
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> Error {
    if source.kind() == std::io::ErrorKind::NotFound {
        Error::NotFound(path.to_path_buf())
    } else {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The workplan files a list of paths names, in order, each once:
///
/// - a file is taken as it is (whatever its name);
/// - a folder that has a `workplans/` folder (a repo root) stands for that folder;
/// - a folder stands for its `*.md` files, sorted by name, not recursively, without
///   `README.md` (any case), which explains a folder and is not a workplan.
pub fn workplan_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut add = |p: PathBuf, out: &mut Vec<PathBuf>| -> Result<(), Error> {
        let canon = p.canonicalize().map_err(|e| io(&p, e))?;
        if !seen.contains(&canon) {
            seen.push(canon);
            out.push(p);
        }
        Ok(())
    };
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        if !meta.is_dir() {
            add(path.clone(), &mut out)?;
            continue;
        }
        let nested = path.join("workplans");
        let dir = if nested.is_dir() {
            nested
        } else {
            path.clone()
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let p = entry.path();
            let is_md = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md"));
            let is_readme = p
                .file_stem()
                .is_some_and(|s| s.eq_ignore_ascii_case("readme"));
            if !is_md || is_readme {
                continue;
            }
            // Follow symlinks; skip folders named *.md.
            match std::fs::metadata(&p) {
                Ok(m) if m.is_dir() => continue,
                Ok(_) => files.push(p),
                Err(e) => return Err(io(&p, e)),
            }
        }
        files.sort();
        for f in files {
            add(f, &mut out)?;
        }
    }
    Ok(out)
}

/// Reads and parses one file. Content problems (not UTF-8, too large) are C-01 findings on
/// an empty workplan; only I/O is an error.
pub fn load_file(path: &Path) -> Result<(Workplan, Vec<Finding>), Error> {
    let mut wp = Workplan::empty(path.to_path_buf());
    // The BOM is kept so byte offsets index the file (hub sync writes ids back by offset).
    let text = match read_text(path, MAX_FILE_BYTES, Bom::Keep) {
        Ok(text) => text,
        Err(ReadError::TooLarge { len, .. }) => return Ok((wp, vec![too_large(path, len)])),
        Err(ReadError::NotText { error, len, .. }) => {
            let f = Finding::new(
                Code::C01,
                path,
                Loc::from(error.pos),
                format!("the file cannot be read as a workplan: {}", error.message),
            )
            .hint("save the workplan as UTF-8 text");
            wp.source_len = len;
            return Ok((wp, vec![f]));
        }
        Err(ReadError::NotFound { .. }) => return Err(Error::NotFound(path.to_path_buf())),
        Err(e) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: e.into_io(),
            });
        }
    };
    let (mut wp, findings) = parse(&text, path);
    if wp.repo.is_none() {
        wp.repo = path.canonicalize().ok().and_then(|c| repo_of(&c));
    }
    Ok((wp, findings))
}

fn too_large(path: &Path, len: u64) -> Finding {
    Finding::new(
        Code::C01,
        path,
        Loc::new(1, 1),
        format!("the file is {len} bytes; workplans are read up to {MAX_FILE_BYTES} bytes"),
    )
    .hint("is this a workplan? move long logs or attachments out of it")
}

/// Reads every workplan the paths name (see [`workplan_files`]) and parses each.
///
/// A missing or unreadable path is an [`Error`] (exit 2); everything about content is a
/// finding.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<(Workplan, Vec<Finding>)>, Error> {
    workplan_files(paths)?
        .iter()
        .map(|p| load_file(p))
        .collect()
}
