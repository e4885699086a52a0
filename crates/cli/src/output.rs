//! Shared plumbing of the commands: finding the root, loading the catalog, writing JSON.

use std::io::Write;
use std::path::{Path, PathBuf};

use platformctl_catalog::{Catalog, discover_root};
use serde::Serialize;

use crate::cli::Cli;
use crate::style::Style;

/// Exit code: success.
pub const OK: u8 = 0;
/// Exit code: usage, configuration or I/O error (most commands).
pub const ERROR: u8 = 2;

/// A failure to even start: what to tell a human, and the finding behind it if any (the
/// report crate's, shared with `serve` and `mcp`).
pub use platformctl_report::Failure as Fatal;

/// The platform root from `--root`/`PLATFORM_ROOT`, or by walking up from the working folder.
pub fn root(cli: &Cli) -> Result<PathBuf, Fatal> {
    match &cli.root {
        Some(dir) => {
            if dir.join("platform.toml").is_file() {
                Ok(dir.clone())
            } else if dir.is_dir() {
                Err(Fatal::new(format!(
                    "{} holds no platform.toml; --root (or PLATFORM_ROOT) must name the platform repo",
                    dir.display()
                )))
            } else {
                Err(Fatal::new(format!(
                    "--root {}: no such directory",
                    dir.display()
                )))
            }
        }
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| Fatal::new(format!("cannot read the working directory: {e}")))?;
            discover_root(&cwd).ok_or_else(|| {
                Fatal::new(
                    "no platform.toml here or in any parent folder; \
                     run inside a platform repo or pass --root DIR",
                )
            })
        }
    }
}

/// The process environment as UTF-8 pairs (non-UTF-8 variables are skipped).
pub fn env_pairs() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Finds the root and loads the catalog.
pub fn load(cli: &Cli, strict: bool) -> Result<Catalog, Fatal> {
    let root = root(cli)?;
    platformctl_report::catalog::load(&root, strict, env_pairs(), Style::stderr(cli.color).on())
}

/// Finds the root and loads the catalog for a command that contacts hosts (`plan`,
/// `drift-check`): a platform.toml with error findings stops it here, before any connection,
/// with every one of those findings shown at its file:line:col.
pub fn load_for_hosts(cli: &Cli) -> Result<Catalog, Fatal> {
    platformctl_report::catalog::ready_for_hosts(load(cli, false)?, Style::stderr(cli.color).on())
}

/// Reports a fatal error: a JSON document on stdout when `json`, the message on stderr always.
pub fn fatal(schema: &str, json: bool, f: &Fatal, code: u8) -> u8 {
    eprintln!("platformctl: {}", f.message.trim_end());
    if json {
        print_json(&f.document(schema, code));
    }
    code
}

/// Writes one JSON document and a newline to stdout, in one write.
pub fn print_json<T: Serialize + ?Sized>(doc: &T) {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    print(&text);
}

/// Writes text to stdout, ignoring a closed pipe.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

/// `path` (as given on the command line) relative to `root`, if it is inside it and exists.
pub fn relative_to_root(root: &Path, path: &Path) -> Result<PathBuf, String> {
    let abs_root = root
        .canonicalize()
        .map_err(|e| format!("{}: {e}", root.display()))?;
    // Try the path as given (relative to the working folder), then relative to the root.
    let candidates = [path.to_path_buf(), root.join(path)];
    for c in candidates {
        if let Ok(abs) = c.canonicalize() {
            return abs
                .strip_prefix(&abs_root)
                .map(Path::to_path_buf)
                .map_err(|_| {
                    format!(
                        "{} is outside the platform repo {}",
                        path.display(),
                        root.display()
                    )
                });
        }
    }
    Err(format!("{}: no such file or directory", path.display()))
}
