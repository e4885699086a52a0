//! The registry HTTP API over hyper's pooled client and rustls, that can only `GET` and
//! `HEAD`.
//!
//! There is one request function, [`Http::send`], and it takes a [`Call`] from a closed enum:
//! the request is built in [`request`] with `Request::head` (manifest existence and digest) or
//! `Request::get` (everything else), and nowhere else. No method, path or body can be passed
//! in from outside this module (the body type is [`Empty`]), so no caller can reach a registry
//! call that changes anything (`PUT` a manifest, `DELETE` a tag, a blob upload, an OAuth
//! `POST`).
//!
//! Answers are bounded ([`MAX_BODY`]); an `Authorization` header is marked sensitive and its
//! value never leaves this module in a message.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};
use http::{Request, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::manifest::ACCEPT as MANIFEST_ACCEPT;

/// The largest answer accepted (a tags list of a busy repository is a few hundred KiB).
pub(crate) const MAX_BODY: usize = 8 << 20;

/// A registry's base: scheme and authority (`https://registry-1.docker.io`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Base {
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// `host[:port]`.
    pub(crate) authority: String,
}

/// The only things this crate ever asks a registry (or its token service) for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Call<'a> {
    /// `HEAD /v2/<name>/manifests/<reference>`: the digest and media type of a tag.
    ManifestHead { name: &'a str, reference: &'a str },
    /// `GET /v2/<name>/manifests/<reference>`: an index body (or a manifest body to hash when
    /// the registry sends no `Docker-Content-Digest`).
    ManifestGet { name: &'a str, reference: &'a str },
    /// `GET /v2/<name>/tags/list?n=1000[&last=…]`: one page of tags.
    Tags {
        name: &'a str,
        last: Option<&'a str>,
    },
    /// `GET <realm>?service=…&scope=…`: a bearer token from the registry's token service.
    Token {
        realm: &'a Uri,
        service: Option<&'a str>,
        scope: &'a str,
    },
}

impl Call<'_> {
    /// Whether this call is a `HEAD`.
    fn is_head(&self) -> bool {
        matches!(self, Call::ManifestHead { .. })
    }

    /// The absolute URI of the call.
    pub(crate) fn uri(&self, base: &Base) -> Result<Uri, HttpError> {
        let on_base = |path: String| format!("{}://{}{}", base.scheme, base.authority, path);
        let text = match self {
            Call::ManifestHead { name, reference } | Call::ManifestGet { name, reference } => {
                on_base(format!("/v2/{}/manifests/{}", path(name), enc(reference)))
            }
            Call::Tags { name, last } => on_base(match last {
                Some(l) => format!("/v2/{}/tags/list?n=1000&last={}", path(name), enc(l)),
                None => format!("/v2/{}/tags/list?n=1000", path(name)),
            }),
            Call::Token {
                realm,
                service,
                scope,
            } => {
                let mut q = format!("scope={}", enc(scope));
                if let Some(s) = service {
                    q = format!("service={}&{q}", enc(s));
                }
                let sep = if realm.query().is_some() { '&' } else { '?' };
                format!("{realm}{sep}{q}")
            }
        };
        text.parse()
            .map_err(|e| HttpError::Protocol(format!("cannot build the request URI: {e}")))
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// A repository path (`library/redis`): each component encoded, the slashes kept.
fn path(name: &str) -> String {
    name.split('/').map(enc).collect::<Vec<_>>().join("/")
}

const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Credentials for one request. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Authorization {
    /// `Basic base64(user:password)`.
    Basic(String),
    /// `Bearer <token>`.
    Bearer(String),
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authorization::Basic(_) => f.write_str("Basic(<redacted>)"),
            Authorization::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

impl Authorization {
    fn header(&self) -> Result<HeaderValue, HttpError> {
        let text = match self {
            Authorization::Basic(v) => format!("Basic {v}"),
            Authorization::Bearer(v) => format!("Bearer {v}"),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            HttpError::Protocol("a credential holds characters a header cannot carry".into())
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// The request for `call` on `base`. `HEAD` for [`Call::ManifestHead`], `GET` for every other
/// call, here and nowhere else: these are the only requests this crate builds.
fn request(
    base: &Base,
    call: &Call<'_>,
    auth: Option<&Authorization>,
) -> Result<Request<Empty<Bytes>>, HttpError> {
    let uri = call.uri(base)?;
    let builder = if call.is_head() {
        Request::head(uri)
    } else {
        Request::get(uri)
    };
    let accept = match call {
        Call::ManifestHead { .. } | Call::ManifestGet { .. } => MANIFEST_ACCEPT,
        Call::Tags { .. } | Call::Token { .. } => "application/json",
    };
    let mut builder = builder
        .header(
            USER_AGENT,
            concat!("platformctl-registry/", env!("CARGO_PKG_VERSION")),
        )
        .header(ACCEPT, accept);
    if let Some(a) = auth {
        builder = builder.header(AUTHORIZATION, a.header()?);
    }
    builder
        .body(Empty::new())
        .map_err(|e| HttpError::Protocol(format!("cannot build the request: {e}")))
}

/// A complete answer: its status, the headers this crate reads, and the body.
#[derive(Clone, Debug, Default)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What can go wrong on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HttpError {
    /// Could not connect, or the connection failed.
    Connect(String),
    /// No complete answer in time.
    Timeout(Duration),
    /// Not a usable HTTP answer.
    Protocol(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Connect(m) => write!(f, "cannot connect: {m}"),
            HttpError::Timeout(d) => write!(f, "no answer within {:.1} s", d.as_secs_f64()),
            HttpError::Protocol(m) => write!(f, "not a usable answer: {m}"),
        }
    }
}

/// The pooled client (kept-alive connections per registry, TLS by rustls with the webpki
/// roots; plain HTTP only for loopback registries, see [`base_for`]).
#[derive(Clone)]
pub(crate) struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Http {
    pub(crate) fn new() -> Http {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Http {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(https),
        }
    }

    /// Sends `call` and reads its answer, all within `timeout`.
    pub(crate) async fn send(
        &self,
        base: &Base,
        call: Call<'_>,
        auth: Option<&Authorization>,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        let req = request(base, &call, auth)?;
        let head = call.is_head();
        let work = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| HttpError::Connect(chain(&e)))?;
            let (parts, body) = resp.into_parts();
            let body = if head {
                Bytes::new()
            } else {
                Limited::new(body, MAX_BODY)
                    .collect()
                    .await
                    .map_err(|e| HttpError::Protocol(e.to_string()))?
                    .to_bytes()
            };
            Ok(Response {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout(timeout)),
        }
    }
}

/// An error and its sources, one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// Whether a host (`127.0.0.1:5000`, `localhost`, `[::1]:5000`) is on the loopback.
pub(crate) fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The base URL of a registry as image references name it: Docker Hub (`docker.io`) is
/// `https://registry-1.docker.io`; loopback registries are plain HTTP (as the Docker engine
/// trusts them); every other registry is HTTPS.
pub(crate) fn base_for(registry: &str) -> Base {
    if registry == "docker.io" {
        return Base {
            scheme: "https",
            authority: "registry-1.docker.io".to_owned(),
        };
    }
    Base {
        scheme: if is_loopback(registry) {
            "http"
        } else {
            "https"
        },
        authority: registry.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_have_fixed_methods_and_encoded_paths() {
        let base = base_for("127.0.0.1:5000");
        let r = request(
            &base,
            &Call::ManifestHead {
                name: "team/app",
                reference: "1.0",
            },
            None,
        )
        .unwrap();
        assert_eq!(r.method(), http::Method::HEAD);
        assert_eq!(r.uri(), "http://127.0.0.1:5000/v2/team/app/manifests/1.0");
        let r = request(
            &base,
            &Call::Tags {
                name: "app",
                last: Some("a b"),
            },
            Some(&Authorization::Bearer("t0k3n".into())),
        )
        .unwrap();
        assert_eq!(r.method(), http::Method::GET);
        assert_eq!(
            r.uri(),
            "http://127.0.0.1:5000/v2/app/tags/list?n=1000&last=a%20b"
        );
        assert!(r.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(
            format!("{:?}", Authorization::Bearer("t0k3n".into())),
            "Bearer(<redacted>)"
        );
        let realm: Uri = "https://auth.docker.io/token".parse().unwrap();
        let r = request(
            &base,
            &Call::Token {
                realm: &realm,
                service: Some("registry.docker.io"),
                scope: "repository:library/redis:pull",
            },
            None,
        )
        .unwrap();
        assert_eq!(
            r.uri(),
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fredis%3Apull"
        );
        assert_eq!(base_for("docker.io").authority, "registry-1.docker.io");
        assert_eq!(base_for("ghcr.io").scheme, "https");
        assert!(is_loopback("[::1]:5000") && is_loopback("localhost") && !is_loopback("ghcr.io"));
    }
}
