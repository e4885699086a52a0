//! One registry's session for a run: its concurrency bound, its deadline, its authentication
//! state (challenge, credentials, tokens per scope) and what it answered (request counts,
//! Docker Hub's `RateLimit-*` headers).

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::auth::{Challenge, Credentials, Token, credentials_for, parse_challenge, parse_token};
use crate::http::{Authorization, Base, Call, Http, Response, base_for};

/// Why a registry could not answer a question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// No answer: refused, timed out, rate limited, a server error.
    Unreachable(String),
    /// The registry wants credentials it was not given, or refused them.
    Unauthorized(String),
    /// No such repository or tag.
    NotFound(String),
}

impl Trouble {
    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Trouble::Unreachable(m) | Trouble::Unauthorized(m) | Trouble::NotFound(m) => m,
        }
    }
}

#[derive(Default)]
struct AuthState {
    challenge: Option<Challenge>,
    /// `None`: not looked up yet.
    credentials: Option<Option<Credentials>>,
    tokens: HashMap<String, (Token, Instant)>,
}

/// What a registry answered during the run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    pub(crate) heads: usize,
    pub(crate) gets: usize,
    pub(crate) tokens: usize,
    pub(crate) rate_limit_remaining: Option<String>,
    pub(crate) rate_limit_limit: Option<String>,
}

pub(crate) struct Session {
    http: Http,
    pub(crate) registry: String,
    base: Base,
    bound: Semaphore,
    deadline: Instant,
    budget: Duration,
    request_timeout: Duration,
    auth: Mutex<AuthState>,
    pub(crate) tally: StdMutex<Tally>,
}

/// The longest `Retry-After` waited for (and at most twice per request).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

impl Session {
    pub(crate) fn new(
        http: Http,
        registry: &str,
        concurrency: usize,
        request_timeout: Duration,
        budget: Duration,
    ) -> Session {
        Session {
            http,
            registry: registry.to_owned(),
            base: base_for(registry),
            bound: Semaphore::new(concurrency.max(1)),
            deadline: Instant::now() + budget,
            budget,
            request_timeout,
            auth: Mutex::new(AuthState::default()),
            tally: StdMutex::new(Tally::default()),
        }
    }

    fn remaining(&self) -> Result<Duration, Trouble> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Trouble::Unreachable(format!(
                "registry {} did not finish answering within {} s",
                self.registry,
                self.budget.as_secs()
            )));
        }
        Ok(left.min(self.request_timeout))
    }

    fn count(&self, call: &Call<'_>, resp: Option<&Response>) {
        let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        match call {
            Call::ManifestHead { .. } => t.heads += 1,
            Call::Token { .. } => t.tokens += 1,
            _ => t.gets += 1,
        }
        if let Some(r) = resp {
            if let Some(v) = r.header("ratelimit-remaining") {
                t.rate_limit_remaining = Some(clip(v));
            }
            if let Some(v) = r.header("ratelimit-limit") {
                t.rate_limit_limit = Some(clip(v));
            }
        }
    }

    /// The manifest digest of `reference` in `repo` and its media type: `HEAD`, and a `GET`
    /// hashed when the registry sends no `Docker-Content-Digest`.
    pub(crate) async fn resolve(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<(String, String), Trouble> {
        let head = self
            .call(
                repo,
                Call::ManifestHead {
                    name: repo,
                    reference,
                },
            )
            .await?;
        let media = head.header("content-type").unwrap_or("").to_owned();
        if let Some(d) = head
            .header("docker-content-digest")
            .filter(|d| valid_digest(d))
        {
            return Ok((d.to_owned(), media));
        }
        let body = self.manifest(repo, reference).await?;
        Ok((
            sha256(&body.body),
            body.header("content-type").unwrap_or(&media).to_owned(),
        ))
    }

    /// `GET` a manifest (an index body, or a manifest by digest).
    pub(crate) async fn manifest(&self, repo: &str, reference: &str) -> Result<Response, Trouble> {
        self.call(
            repo,
            Call::ManifestGet {
                name: repo,
                reference,
            },
        )
        .await
    }

    /// Every tag of `repo`, following `Link` pagination (at most 100 pages).
    pub(crate) async fn tags(&self, repo: &str) -> Result<Vec<String>, Trouble> {
        #[derive(serde::Deserialize)]
        struct Page {
            tags: Option<Vec<String>>,
        }
        let mut all = Vec::new();
        let mut last: Option<String> = None;
        for _ in 0..100 {
            let r = self
                .call(
                    repo,
                    Call::Tags {
                        name: repo,
                        last: last.as_deref(),
                    },
                )
                .await?;
            let page: Page = serde_json::from_slice(&r.body).map_err(|_| {
                Trouble::Unreachable(format!(
                    "registry {}: the tags list of {repo} is not JSON",
                    self.registry
                ))
            })?;
            let tags = page.tags.unwrap_or_default();
            let next = r.header("link").and_then(link_last);
            let progress = tags.last().cloned();
            all.extend(tags);
            match (next, progress) {
                (Some(n), _) if Some(&n) != last.as_ref() => last = Some(n),
                _ => break,
            }
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// One call with authentication, retries on `401` (after a challenge) and `429`.
    async fn call(&self, repo: &str, call: Call<'_>) -> Result<Response, Trouble> {
        let _permit = self
            .bound
            .acquire()
            .await
            .map_err(|_| Trouble::Unreachable("the run was cancelled".into()))?;
        let scope = format!("repository:{repo}:pull");
        let mut auth = self.authorization(&scope, None).await?;
        let mut challenged = false;
        let mut waits = 0;
        loop {
            let timeout = self.remaining()?;
            let sent = self
                .http
                .send(&self.base, call, auth.as_ref(), timeout)
                .await;
            self.count(&call, sent.as_ref().ok());
            let resp =
                sent.map_err(|e| Trouble::Unreachable(format!("registry {}: {e}", self.registry)))?;
            match resp.status {
                200..=299 => return Ok(resp),
                401 if !challenged => {
                    challenged = true;
                    let Some(value) = resp.header("www-authenticate") else {
                        return Err(self.unauthorized(repo, "401 without a challenge"));
                    };
                    let challenge =
                        parse_challenge(value).map_err(|m| self.unauthorized(repo, &m))?;
                    self.auth.lock().await.challenge = Some(challenge);
                    auth = self.authorization(&scope, auth.as_ref()).await?;
                    if auth.is_none() {
                        return Err(self.unauthorized(repo, "no credentials for it"));
                    }
                }
                401 | 403 => {
                    return Err(self.unauthorized(repo, &format!("HTTP {}", resp.status)));
                }
                404 => {
                    return Err(Trouble::NotFound(format!(
                        "registry {}: {} not found",
                        self.registry,
                        what(&call, repo)
                    )));
                }
                429 => {
                    let wait = retry_after(&resp);
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    match wait {
                        Some(w) if waits < 2 && w <= MAX_RETRY_AFTER && w < left => {
                            waits += 1;
                            tokio::time::sleep(w).await;
                        }
                        _ => {
                            return Err(Trouble::Unreachable(format!(
                                "registry {} is rate limiting (429{})",
                                self.registry,
                                wait.map_or(String::new(), |w| format!(
                                    ", Retry-After {} s",
                                    w.as_secs()
                                ))
                            )));
                        }
                    }
                }
                s => {
                    return Err(Trouble::Unreachable(format!(
                        "registry {} answered HTTP {s} for {}",
                        self.registry,
                        what(&call, repo)
                    )));
                }
            }
        }
    }

    fn unauthorized(&self, repo: &str, why: &str) -> Trouble {
        Trouble::Unauthorized(format!(
            "registry {} refused access to {repo} ({why}); log in with `docker login {}`",
            self.registry, self.registry
        ))
    }

    /// The `Authorization` for `scope` under the registry's challenge (none before one was
    /// met). `refused`: what the registry just refused; a held token is reused unless it is
    /// that one (requests in flight before the challenge was known share the first token).
    async fn authorization(
        &self,
        scope: &str,
        refused: Option<&Authorization>,
    ) -> Result<Option<Authorization>, Trouble> {
        let mut st = self.auth.lock().await;
        let Some(challenge) = st.challenge.clone() else {
            return Ok(None);
        };
        if st.credentials.is_none() {
            let registry = self.registry.clone();
            let found = tokio::task::spawn_blocking(move || credentials_for(&registry))
                .await
                .ok()
                .flatten();
            st.credentials = Some(found);
        }
        let creds = st.credentials.clone().flatten();
        match challenge {
            Challenge::Basic => match creds.as_ref().and_then(Credentials::basic) {
                Some(a) => Ok(Some(a)),
                None => Err(Trouble::Unauthorized(format!(
                    "registry {} wants a user name and password, and the Docker config has \
                     none for it; log in with `docker login {}`",
                    self.registry, self.registry
                ))),
            },
            Challenge::Bearer { realm, service } => {
                if let Some((t, until)) = st.tokens.get(scope)
                    && Instant::now() < *until
                {
                    let held = Authorization::Bearer(t.value.clone());
                    if refused != Some(&held) {
                        return Ok(Some(held));
                    }
                }
                let basic = creds.as_ref().and_then(Credentials::basic);
                let call = Call::Token {
                    realm: &realm,
                    service: service.as_deref(),
                    scope,
                };
                let timeout = self.remaining()?;
                let sent = self
                    .http
                    .send(&self.base, call, basic.as_ref(), timeout)
                    .await;
                self.count(&call, None);
                let resp = sent.map_err(|e| {
                    Trouble::Unreachable(format!(
                        "the token service of registry {}: {e}",
                        self.registry
                    ))
                })?;
                if resp.status == 401 || resp.status == 403 {
                    return Err(Trouble::Unauthorized(format!(
                        "the token service of registry {} refused a token for {scope} (HTTP {}); \
                         log in with `docker login {}`",
                        self.registry, resp.status, self.registry
                    )));
                }
                if !(200..300).contains(&resp.status) {
                    return Err(Trouble::Unreachable(format!(
                        "the token service of registry {} answered HTTP {}",
                        self.registry, resp.status
                    )));
                }
                let token = parse_token(&resp.body).ok_or_else(|| {
                    Trouble::Unreachable(format!(
                        "the token service of registry {} sent no token",
                        self.registry
                    ))
                })?;
                let value = token.value.clone();
                let until = Instant::now() + token.lifetime;
                st.tokens.insert(scope.to_owned(), (token, until));
                Ok(Some(Authorization::Bearer(value)))
            }
        }
    }
}

fn what(call: &Call<'_>, repo: &str) -> String {
    match call {
        Call::ManifestHead { reference, .. } | Call::ManifestGet { reference, .. } => {
            if reference.starts_with("sha256:") {
                format!("{repo}@{reference}")
            } else {
                format!("{repo}:{reference}")
            }
        }
        Call::Tags { .. } => format!("the tags of {repo}"),
        Call::Token { .. } => "a token".to_owned(),
    }
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(r: &Response) -> Option<Duration> {
    let v = r.header("retry-after")?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let secs = at.duration_since(jiff::Timestamp::now()).as_secs().max(0);
    Some(Duration::from_secs(secs as u64))
}

/// The `last` of a `Link: </v2/x/tags/list?last=1.2&n=1000>; rel="next"` header.
fn link_last(link: &str) -> Option<String> {
    let (target, rel) = link.split_once(';')?;
    if !rel.contains("next") {
        return None;
    }
    let target = target.trim().trim_start_matches('<').trim_end_matches('>');
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "last").then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

pub(crate) fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn sha256(body: &[u8]) -> String {
    let hex: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_retry_after() {
        assert_eq!(
            link_last(r#"</v2/app/tags/list?last=1.2%2Bx&n=1000>; rel="next""#),
            Some("1.2+x".into())
        );
        assert_eq!(link_last(r#"</v2/app/tags/list?n=1000>; rel="next""#), None);
        let mut r = Response::default();
        r.headers.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&r), Some(Duration::from_secs(3)));
        assert!(valid_digest(&sha256(b"x")));
    }
}
