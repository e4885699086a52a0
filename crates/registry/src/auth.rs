//! Registry authentication: the `WWW-Authenticate` challenge, the user's Docker credentials,
//! and bearer tokens (anonymous or with credentials), reused for their scope and lifetime.
//!
//! Credentials come from the user's Docker `config.json` (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`): `auths`, `credHelpers` and `credsStore` (the `docker-credential-*`
//! helpers), through the `docker_credential` crate. They live in memory for the run only;
//! nothing here prints, logs, caches or writes a credential or a token (their `Debug` is
//! redacted, and no error message repeats one).

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use http::Uri;

use crate::http::{Authorization, is_loopback};

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Basic realm="…"`.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`.
    Bearer { realm: Uri, service: Option<String> },
}

/// Parses a `WWW-Authenticate` value. A bearer realm must be HTTPS, or plain HTTP on the
/// loopback (a credential is never sent in clear over a network).
pub(crate) fn parse_challenge(value: &str) -> Result<Challenge, String> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Ok(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(format!("unsupported authentication scheme `{scheme}`"));
    }
    let params = params(rest);
    let realm = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("realm"))
        .map(|(_, v)| v.as_str())
        .ok_or("a bearer challenge without a realm")?;
    let realm: Uri = realm
        .parse()
        .map_err(|_| "the bearer realm is not a URL".to_owned())?;
    let secure = match (realm.scheme_str(), realm.authority()) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(a)) => is_loopback(a.as_str()),
        _ => false,
    };
    if !secure {
        return Err("the bearer realm is neither HTTPS nor on the loopback".to_owned());
    }
    let service = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("service"))
        .map(|(_, v)| v.clone());
    Ok(Challenge::Bearer { realm, service })
}

/// `k="v",k2=v2` parameters (quoted strings may hold commas).
fn params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i] == b' ') {
            i += 1;
        }
        let k0 = i;
        while i < b.len() && b[i] != b'=' {
            i += 1;
        }
        let key = s[k0..i].trim().to_owned();
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                val.push(char::from(b[i]));
                i += 1;
            }
            i += 1;
        } else {
            let v0 = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = s[v0.min(b.len())..i.min(b.len())].trim().to_owned();
        }
        if !key.is_empty() {
            out.push((key, val));
        }
    }
    out
}

/// The user's credentials for one registry. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// A user name and password (or personal access token).
    UserPassword { user: String, password: String },
    /// An identity token: usable only through the OAuth `POST` flow, which this read-only
    /// client never makes.
    IdentityToken,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::UserPassword { .. } => f.write_str("UserPassword(<redacted>)"),
            Credentials::IdentityToken => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

impl Credentials {
    /// `Authorization: Basic …` for these credentials, if they are a user and password.
    pub(crate) fn basic(&self) -> Option<Authorization> {
        match self {
            Credentials::UserPassword { user, password } => Some(Authorization::Basic(
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")),
            )),
            Credentials::IdentityToken => None,
        }
    }
}

/// The `config.json` key of a registry: Docker Hub's is `https://index.docker.io/v1/`.
pub(crate) fn config_key(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    }
}

/// The user's credentials for `registry` (blocking: a credential helper is a process), or
/// `None` when there are none (or they cannot be read: then the registry is asked
/// anonymously, and an answer that needs credentials says so).
pub(crate) fn credentials_for(registry: &str) -> Option<Credentials> {
    match docker_credential::get_credential(&config_key(registry)) {
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
            Some(Credentials::UserPassword { user, password })
        }
        Ok(docker_credential::DockerCredential::IdentityToken(_)) => {
            Some(Credentials::IdentityToken)
        }
        Err(_) => None,
    }
}

/// A bearer token and how long it may be used.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: String,
    pub(crate) lifetime: Duration,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<redacted>, {:?})", self.lifetime)
    }
}

/// The token service's answer (`token` or `access_token`, `expires_in` seconds, default 60).
pub(crate) fn parse_token(body: &[u8]) -> Option<Token> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
    }
    let a: Answer = serde_json::from_slice(body).ok()?;
    let value = a.token.or(a.access_token).filter(|t| !t.is_empty())?;
    let secs = a.expires_in.unwrap_or(60).max(10);
    // Renewed a little before it ends, so that it never expires in flight.
    Some(Token {
        value,
        lifetime: Duration::from_secs(secs.saturating_sub(5)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull""#
            ),
            Ok(Challenge::Bearer {
                realm: "https://auth.docker.io/token".parse().unwrap(),
                service: Some("registry.docker.io".into())
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Ok(Challenge::Basic)
        );
        assert!(parse_challenge(r#"Bearer realm="http://evil.example/token""#).is_err());
        assert!(parse_challenge(r#"Bearer realm="http://127.0.0.1:9/token",service=x"#).is_ok());
        assert!(parse_challenge("Negotiate").is_err());
    }

    #[test]
    fn tokens_and_credentials_never_show() {
        let t = parse_token(br#"{"token":"s3cr3t","expires_in":300}"#).unwrap();
        assert_eq!(t.lifetime, Duration::from_secs(295));
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let t = parse_token(br#"{"access_token":"a"}"#).unwrap();
        assert_eq!(t.lifetime, Duration::from_secs(55));
        assert!(parse_token(br#"{"token":""}"#).is_none());
        let c = Credentials::UserPassword {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.basic(), Some(Authorization::Basic("dTpodW50ZXIy".into())));
        assert_eq!(config_key("docker.io"), "https://index.docker.io/v1/");
    }
}
