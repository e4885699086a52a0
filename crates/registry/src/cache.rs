//! The disk cache of registry answers: what a tag resolved to and a repository's tags (for a
//! TTL), and index entries by digest (content-addressed: for good).
//!
//! One small JSON file per answer under the cache folder (`$PLATFORMCTL_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/platformctl/registry`, else `~/.cache/platformctl/registry`), named by the
//! sha256 of its key, written atomically (a temporary file renamed). Only registry answers
//! are kept: never a credential, a token or a header. A file that cannot be read or parsed is
//! a miss; a cache that cannot be written is no error (the run just asks again next time).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

/// The default cache folder, if a home or cache folder is known.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PLATFORMCTL_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("platformctl").join("registry"))
}

#[derive(serde::Deserialize, Serialize)]
struct Stored<T> {
    key: String,
    /// Unix seconds.
    stored: i64,
    value: T,
}

/// The cache (a folder), or none.
#[derive(Clone, Debug)]
pub(crate) struct Cache {
    dir: Option<PathBuf>,
    /// Skip reading (`--refresh`); answers are still written.
    refresh: bool,
}

impl Cache {
    pub(crate) fn new(dir: Option<PathBuf>, refresh: bool) -> Cache {
        Cache { dir, refresh }
    }

    fn path(dir: &Path, kind: &str, key: &str) -> PathBuf {
        let hex: String = Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        dir.join(kind).join(format!("{hex}.json"))
    }

    /// The value stored under `key`, if younger than `ttl` (`None`: for good).
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        key: &str,
        ttl: Option<Duration>,
    ) -> Option<(T, jiff::Timestamp)> {
        if self.refresh {
            return None;
        }
        let dir = self.dir.as_ref()?;
        let text = std::fs::read(Cache::path(dir, kind, key)).ok()?;
        let s: Stored<T> = serde_json::from_slice(&text).ok()?;
        if s.key != key {
            return None;
        }
        let at = jiff::Timestamp::from_second(s.stored).ok()?;
        if let Some(ttl) = ttl {
            let age = jiff::Timestamp::now().as_second() - s.stored;
            if age < 0 || age as u64 >= ttl.as_secs() {
                return None;
            }
        }
        Some((s.value, at))
    }

    /// Stores `value` under `key` (errors ignored: a cache is an optimisation).
    pub(crate) fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T, at: jiff::Timestamp) {
        let Some(dir) = &self.dir else { return };
        let path = Cache::path(dir, kind, key);
        let Some(parent) = path.parent() else { return };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let stored = Stored {
            key: key.to_owned(),
            stored: at.as_second(),
            value,
        };
        let Ok(text) = serde_json::to_vec(&stored) else {
            return;
        };
        let tmp = parent.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
            std::process::id()
        ));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_ttl_and_refresh() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::new(Some(d.path().to_owned()), false);
        let now = jiff::Timestamp::now();
        c.put("tags", "127.0.0.1:5000/app", &vec!["1.0".to_owned()], now);
        let got: Option<(Vec<String>, _)> =
            c.get("tags", "127.0.0.1:5000/app", Some(Duration::from_secs(60)));
        assert_eq!(got.unwrap().0, ["1.0"]);
        let old = now - jiff::SignedDuration::from_secs(120);
        c.put("tags", "k2", &1u8, old);
        assert!(
            c.get::<u8>("tags", "k2", Some(Duration::from_secs(60)))
                .is_none()
        );
        assert!(c.get::<u8>("tags", "k2", None).is_some());
        let r = Cache::new(Some(d.path().to_owned()), true);
        assert!(
            r.get::<Vec<String>>("tags", "127.0.0.1:5000/app", None)
                .is_none()
        );
    }
}
