//! Where the hub is: `sqlite:PATH` or `postgres://…`, shown without its password.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::HubError;

/// The hub's location.
#[derive(Clone, PartialEq, Eq)]
pub enum HubUrl {
    /// An SQLite database file (created with its folder on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`), kept as given; only
    /// [`HubUrl::redacted`] is ever shown.
    Postgres(String),
}

impl HubUrl {
    /// Reads `sqlite:PATH`, `sqlite://PATH` (both relative to the working folder unless
    /// absolute), `postgres://…` or `postgresql://…`.
    pub fn parse(s: &str) -> Result<HubUrl, HubError> {
        let s = s.trim();
        if let Some(rest) = s
            .strip_prefix("postgres://")
            .or_else(|| s.strip_prefix("postgresql://"))
        {
            if rest.is_empty() {
                return Err(HubError::Url(
                    "postgres:// needs a host or a database".into(),
                ));
            }
            return Ok(HubUrl::Postgres(s.to_string()));
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path == ":memory:" {
                return Err(HubError::Url(
                    "sqlite: needs a file path (sqlite:state/hub.sqlite3)".into(),
                ));
            }
            return Ok(HubUrl::Sqlite(PathBuf::from(path)));
        }
        Err(HubError::Url(format!(
            "`{}`: the hub is `sqlite:PATH` or `postgres://USER@HOST/DB`",
            redact(s)
        )))
    }

    /// The default hub of a platform repo: `sqlite:<root>/state/hub.sqlite3`.
    pub fn default_for_root(root: &Path) -> HubUrl {
        HubUrl::Sqlite(root.join("state").join("hub.sqlite3"))
    }

    /// The URL for people and logs: a PostgreSQL password (in the user part or a
    /// `password=` parameter) is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            HubUrl::Sqlite(p) => format!("sqlite:{}", p.display()),
            HubUrl::Postgres(u) => redact(u),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            HubUrl::Sqlite(_) => "sqlite",
            HubUrl::Postgres(_) => "postgres",
        }
    }

    /// The password of a PostgreSQL URL, if it has one (to scrub it from error messages).
    pub(crate) fn secret(&self) -> Option<String> {
        let HubUrl::Postgres(u) = self else {
            return None;
        };
        let (_, rest) = u.split_once("://")?;
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let password = authority
            .rsplit_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .map(|(_, p)| p.to_string())
            .filter(|p| !p.is_empty());
        password.or_else(|| {
            let query = rest.split_once('?')?.1;
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("password="))
                .map(str::to_string)
                .filter(|p| !p.is_empty())
        })
    }
}

impl fmt::Debug for HubUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for HubUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the password of a URL-looking string with `***`.
fn redact(u: &str) -> String {
    let Some((scheme, rest)) = u.split_once("://") else {
        return u.to_string();
    };
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|kv| {
                    if kv.starts_with("password=") {
                        "password=***".to_string()
                    } else {
                        kv.to_string()
                    }
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_redacts() {
        let u =
            HubUrl::parse("postgres://hub:s3cr%40t@127.0.0.1:5433/hub?sslmode=disable").unwrap();
        assert_eq!(
            u.redacted(),
            "postgres://hub:***@127.0.0.1:5433/hub?sslmode=disable"
        );
        assert_eq!(u.secret().as_deref(), Some("s3cr%40t"));
        assert!(!format!("{u:?}").contains("s3cr"));
        let u = HubUrl::parse("postgresql://db.local/hub?user=x&password=pw").unwrap();
        assert_eq!(
            u.redacted(),
            "postgresql://db.local/hub?user=x&password=***"
        );
        assert_eq!(u.secret().as_deref(), Some("pw"));
        let u = HubUrl::parse("postgres://hub@db/hub").unwrap();
        assert_eq!(u.redacted(), "postgres://hub@db/hub");
        assert_eq!(u.secret(), None);
        assert_eq!(
            HubUrl::parse("sqlite:state/hub.sqlite3").unwrap(),
            HubUrl::Sqlite("state/hub.sqlite3".into())
        );
        assert_eq!(
            HubUrl::parse("sqlite:///tmp/h.db").unwrap(),
            HubUrl::Sqlite("/tmp/h.db".into())
        );
        assert!(HubUrl::parse("mysql://x:pw@y/z").is_err_and(|e| !e.to_string().contains("pw")));
        assert!(HubUrl::parse("sqlite:").is_err());
    }
}
