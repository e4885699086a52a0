//! The per-host lock: two applies never run on one host at the same time.
//!
//! The lock is an advisory lock on `state/locks/<host>.lock` in the platform repo (the
//! operating system's file lock, `flock`): the kernel releases it when the process ends,
//! however it ends, so a killed apply never leaves a stale lock. A second apply fails fast with
//! a message naming the lock, or waits for it with `--wait`. See ADR 0014 for why the lock is
//! on the operator's side.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// A held host lock; dropping it releases it.
pub struct HostLock {
    _file: File,
    /// The lock file.
    pub path: PathBuf,
}

impl HostLock {
    /// Takes the lock of `host` under `root`: at once, or waiting when `wait` is set.
    pub fn take(
        root: &Path,
        host: &str,
        wait: bool,
        progress: &mut dyn FnMut(&str),
    ) -> Result<HostLock, String> {
        let dir = root.join("state").join("locks");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{host}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) if wait => {
                progress(&format!(
                    "another apply holds the lock of host {host} ({}); waiting",
                    path.display()
                ));
                file.lock()
                    .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
            }
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "another apply is running on host {host} (it holds {}); nothing was run — try again when it ends, or pass --wait",
                    path.display()
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
        Ok(HostLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_fast_and_a_dropped_one_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let mut quiet = |_: &str| {};
        let a = HostLock::take(dir.path(), "h", false, &mut quiet).unwrap();
        let e = HostLock::take(dir.path(), "h", false, &mut quiet)
            .err()
            .unwrap();
        assert!(e.contains("another apply is running on host h"), "{e}");
        // Another host is not locked.
        let _b = HostLock::take(dir.path(), "other", false, &mut quiet).unwrap();
        drop(a);
        let _c = HostLock::take(dir.path(), "h", false, &mut quiet).unwrap();
    }
}
