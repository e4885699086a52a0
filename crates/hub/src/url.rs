//! Where the hub is: `sqlite:PATH` or `postgres://…`, shown without its password.
//!
//! A PostgreSQL URL is read by `postgres::Config` itself, once, when it is given: what the
//! client will connect with is what the hub checked, and the password it holds — decoded
//! (`p%40ss` is `p@ss`) or as written — is known, so that it can be kept out of every
//! message ([`HubUrl::scrub`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::HubError;

/// The hub's location.
#[derive(Clone, PartialEq, Eq)]
pub enum HubUrl {
    /// An SQLite database file (created with its folder on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`); only
    /// [`HubUrl::redacted`] is ever shown.
    Postgres(Box<PostgresUrl>),
}

/// A PostgreSQL URL: the text as given (never shown) and the client configuration read from
/// it. Two are equal when their text is.
#[derive(Clone)]
pub struct PostgresUrl {
    text: String,
    config: postgres::Config,
}

impl PartialEq for PostgresUrl {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for PostgresUrl {}

impl PostgresUrl {
    /// What the client connects with.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// Every form of the password this URL holds: as written in the user part or a
    /// `password=` parameter, and decoded. Longest first, so that scrubbing a longer form is
    /// not spoilt by a shorter one inside it.
    fn secrets(&self) -> Vec<String> {
        let mut out = written_passwords(&self.text);
        if let Some(p) = self.config.get_password() {
            out.push(String::from_utf8_lossy(p).into_owned());
        }
        out.retain(|p| !p.is_empty());
        out.sort_by_key(|p| std::cmp::Reverse(p.len()));
        out.dedup();
        out
    }
}

impl HubUrl {
    /// Reads `sqlite:PATH`, `sqlite://PATH` (both relative to the working folder unless
    /// absolute), `postgres://…` or `postgresql://…` (read by `postgres::Config`).
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
            return match postgres::Config::from_str(s) {
                Ok(config) => Ok(HubUrl::Postgres(Box::new(PostgresUrl {
                    text: s.to_string(),
                    config,
                }))),
                Err(e) => {
                    // No configuration, so no decoded password: scrub what is written.
                    let mut secrets = written_passwords(s);
                    secrets.extend(written_passwords(s).iter().map(|p| percent_decode(p)));
                    secrets.retain(|p| !p.is_empty());
                    secrets.sort_by_key(|p| std::cmp::Reverse(p.len()));
                    Err(HubError::Url(scrub_all(
                        format!("{}: {e}", redact(s)),
                        &secrets,
                    )))
                }
            };
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
    /// `password=` parameter, however its name is encoded) is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            HubUrl::Sqlite(p) => format!("sqlite:{}", p.display()),
            HubUrl::Postgres(u) => self.scrub(redact(&u.text)),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            HubUrl::Sqlite(_) => "sqlite",
            HubUrl::Postgres(_) => "postgres",
        }
    }

    /// `message` with every form of the URL's password (decoded or as written) replaced by
    /// `***`: for error messages that might quote it.
    pub fn scrub(&self, message: String) -> String {
        match self {
            HubUrl::Sqlite(_) => message,
            HubUrl::Postgres(u) => scrub_all(message, &u.secrets()),
        }
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

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HubUrl::Postgres(Box::new(self.clone())).redacted())
    }
}

fn scrub_all(mut message: String, secrets: &[String]) -> String {
    for s in secrets {
        if !s.is_empty() {
            message = message.replace(s.as_str(), "***");
        }
    }
    message
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The password of a URL as written: the user part's, and every `password=` parameter's
/// (the parameter name compared decoded, as the client reads it).
fn written_passwords(u: &str) -> Vec<String> {
    let Some((_, rest)) = u.split_once("://") else {
        return Vec::new();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let mut out: Vec<String> = authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p.to_string())
        .into_iter()
        .collect();
    if let Some((_, query)) = rest.split_once('?') {
        for kv in query.split('&') {
            if let Some((k, v)) = kv.split_once('=')
                && percent_decode(k) == "password"
            {
                out.push(v.to_string());
            }
        }
    }
    out.retain(|p| !p.is_empty());
    out
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
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if percent_decode(k) == "password" => format!("{k}=***"),
                    _ => kv.to_string(),
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
        assert_eq!(u.scrub("a s3cr%40t b s3cr@t".into()), "a *** b ***");
        assert!(!format!("{u:?}").contains("s3cr"));
        let u = HubUrl::parse("postgresql://db.local/hub?user=x&password=pw").unwrap();
        assert_eq!(
            u.redacted(),
            "postgresql://db.local/hub?user=x&password=***"
        );
        assert_eq!(u.scrub("pw".into()), "***");
        let u = HubUrl::parse("postgres://hub@db/hub").unwrap();
        assert_eq!(u.redacted(), "postgres://hub@db/hub");
        assert_eq!(u.scrub("hub".into()), "hub");
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

    /// The decoded password (`p%40ss` is `p@ss`) is a secret too: `postgres::Config`
    /// decodes it, and an error from the server or the client may quote either form.
    #[test]
    fn a_percent_encoded_password_is_scrubbed_in_both_forms() {
        let u = HubUrl::parse("postgres://hub:p%40ss@127.0.0.1:5433/hub").unwrap();
        let HubUrl::Postgres(pg) = &u else {
            panic!("postgres")
        };
        assert_eq!(pg.config().get_password(), Some(&b"p@ss"[..]));
        assert_eq!(u.redacted(), "postgres://hub:***@127.0.0.1:5433/hub");
        let m = u.scrub("password authentication failed (p@ss, p%40ss)".into());
        assert_eq!(m, "password authentication failed (***, ***)");
        for shown in [
            u.redacted(),
            format!("{u}"),
            format!("{u:?}"),
            format!("{pg:?}"),
        ] {
            assert!(
                !shown.contains("p@ss") && !shown.contains("p%40ss"),
                "{shown}"
            );
        }
    }

    /// A parameter name spelt with percent escapes is still the password.
    #[test]
    fn an_encoded_password_parameter_is_redacted() {
        let u = HubUrl::parse("postgresql://db.local/hub?user=x&pass%77ord=s%40cret").unwrap();
        let HubUrl::Postgres(pg) = &u else {
            panic!("postgres")
        };
        assert_eq!(pg.config().get_password(), Some(&b"s@cret"[..]));
        assert_eq!(
            u.redacted(),
            "postgresql://db.local/hub?user=x&pass%77ord=***"
        );
        assert_eq!(u.scrub("s@cret s%40cret".into()), "*** ***");
    }

    /// A URL the client cannot read is refused when given, without its password.
    #[test]
    fn an_unreadable_url_is_refused_without_its_password() {
        let e = HubUrl::parse("postgres://hub:p%40ss@127.0.0.1:notaport/hub").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("postgres://hub:***@127.0.0.1:notaport/hub"),
            "{m}"
        );
        assert!(!m.contains("p@ss") && !m.contains("p%40ss"), "{m}");
    }
}
