//! A minimal HTTP/1.1 client for the Docker Engine API over a unix socket, that can only `GET`.
//!
//! There is one request function, [`get`], and it takes an [`Endpoint`]: the request line is
//! `"GET " + endpoint path`, built in [`request_bytes`] and nowhere else. No method, path or
//! header can be passed in from outside this module, so no caller can reach an Engine API call
//! that changes anything (`POST /containers/…/start`, `DELETE /images/…`, …).
//!
//! One request per connection (`Connection: close`), which is also what an ssh-forwarded socket
//! wants (one channel per request). Bodies come with `Content-Length`, chunked, or up to EOF,
//! and are bounded by [`MAX_BODY`]; the head is bounded by [`MAX_HEAD`].

use std::fmt;
use std::io;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// The largest response body accepted (a host with many images answers a few MiB at most).
pub(crate) const MAX_BODY: usize = 256 << 20;
/// The largest status line + headers accepted.
pub(crate) const MAX_HEAD: usize = 64 << 10;
/// The largest chunk-size or trailer line accepted.
const MAX_LINE: usize = 8 << 10;

/// An Engine API version, `1.41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ApiVersion {
    pub(crate) major: u16,
    pub(crate) minor: u16,
}

impl ApiVersion {
    /// The version platformctl asks for first: Docker 20.10's API. Every field the decoders
    /// read (labels, state, image id, RepoTags, RepoDigests) has been there since long before.
    pub(crate) const PREFERRED: ApiVersion = ApiVersion {
        major: 1,
        minor: 41,
    };

    pub(crate) fn parse(s: &str) -> Option<ApiVersion> {
        let (a, b) = s.trim().split_once('.')?;
        Some(ApiVersion {
            major: a.parse().ok()?,
            minor: b.parse().ok()?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The only things this crate ever asks an engine for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint<'a> {
    /// `GET /vX.Y/containers/json?all=1&filters={"label":["com.docker.compose.project=P"]}`.
    Containers { project: &'a str },
    /// `GET /vX.Y/images/json?digests=1`.
    Images,
    /// `GET /version` (unversioned: it answers whatever API version the engine speaks).
    Version,
}

impl Endpoint<'_> {
    /// The request target (path and query), percent-encoded.
    pub(crate) fn path(&self, api: ApiVersion) -> String {
        match self {
            Endpoint::Containers { project } => {
                let filters = serde_json::json!({
                    "label": [format!("com.docker.compose.project={project}")]
                });
                format!(
                    "/v{api}/containers/json?all=1&filters={}",
                    percent_encode(&filters.to_string())
                )
            }
            Endpoint::Images => format!("/v{api}/images/json?digests=1"),
            Endpoint::Version => "/version".to_owned(),
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The engine's `{"message": "…"}` on errors, else the start of the body.
    pub(crate) fn engine_message(&self) -> String {
        let msg = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        crate::error::clip(&msg, 300)
    }
}

/// What can go wrong talking HTTP to an engine.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// The socket could not be connected.
    Connect(io::Error),
    /// Connected, but the stream failed or closed before a complete response head arrived
    /// (what a refused ssh forward looks like: the channel open fails, the socket is closed).
    NoResponse(String),
    /// The whole exchange did not finish in time.
    Timeout(Duration),
    /// Something that is not HTTP/1.x, or a body cut short.
    Protocol(String),
    /// The body is larger than [`MAX_BODY`].
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Connect(e) => write!(f, "cannot connect: {e}"),
            HttpError::NoResponse(m) => write!(f, "no response: {m}"),
            HttpError::Timeout(d) => {
                write!(f, "no complete answer within {}", crate::error::secs(*d))
            }
            HttpError::Protocol(m) => write!(f, "not an HTTP answer: {m}"),
            HttpError::TooLarge => write!(f, "answer larger than {} MiB", MAX_BODY >> 20),
        }
    }
}

/// `GET endpoint` on the engine behind `socket`: the only request function of this crate.
pub(crate) async fn get(
    socket: &Path,
    endpoint: &Endpoint<'_>,
    api: ApiVersion,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let request = request_bytes(endpoint, api);
    let exchange = async {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(HttpError::Connect)?;
        exchange(stream, &request, MAX_BODY).await
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HttpError::Timeout(timeout))?
}

/// The request bytes. The method is a constant: this is the only request line of the crate.
fn request_bytes(endpoint: &Endpoint<'_>, api: ApiVersion) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: docker\r\nUser-Agent: platformctl-observe/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        endpoint.path(api),
        env!("CARGO_PKG_VERSION"),
    )
    .into_bytes()
}

/// Writes the request, reads one response.
async fn exchange<S>(mut stream: S, request: &[u8], max_body: usize) -> Result<Response, HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Err(e) = stream.write_all(request).await {
        return Err(HttpError::NoResponse(format!(
            "sending the request failed: {e}"
        )));
    }
    if let Err(e) = stream.flush().await {
        return Err(HttpError::NoResponse(format!(
            "sending the request failed: {e}"
        )));
    }
    let mut reader = BufReader::new(stream);
    // Skip informational (1xx) responses; there is no reason for an engine to send any.
    let head = loop {
        let head = read_head(&mut reader).await?;
        if !(100..200).contains(&head.status) {
            break head;
        }
    };
    let body = if head.status == 204 || head.status == 304 {
        Vec::new()
    } else if head.chunked {
        read_chunked(&mut reader, max_body).await?
    } else if let Some(len) = head.content_length {
        if len > max_body as u64 {
            return Err(HttpError::TooLarge);
        }
        let mut body = Vec::with_capacity(len as usize);
        (&mut reader)
            .take(len)
            .read_to_end(&mut body)
            .await
            .map_err(|e| HttpError::Protocol(format!("reading the body: {e}")))?;
        if body.len() as u64 != len {
            return Err(HttpError::Protocol(format!(
                "body cut short: {} of {len} bytes",
                body.len()
            )));
        }
        body
    } else {
        let mut body = Vec::new();
        (&mut reader)
            .take(max_body as u64 + 1)
            .read_to_end(&mut body)
            .await
            .map_err(|e| HttpError::Protocol(format!("reading the body: {e}")))?;
        if body.len() > max_body {
            return Err(HttpError::TooLarge);
        }
        body
    };
    Ok(Response {
        status: head.status,
        body,
    })
}

struct Head {
    status: u16,
    content_length: Option<u64>,
    chunked: bool,
}

async fn read_head<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Result<Head, HttpError> {
    let mut used = 0usize;
    let status_line = match read_line(reader, MAX_HEAD).await {
        Ok(Some(l)) => l,
        Ok(None) => {
            return Err(HttpError::NoResponse(
                "the connection was closed before any answer".into(),
            ));
        }
        Err(LineError::Io(e)) => return Err(HttpError::NoResponse(e.to_string())),
        Err(LineError::TooLong) => return Err(HttpError::Protocol("status line too long".into())),
    };
    used += status_line.len();
    let status = parse_status_line(&status_line)?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
    };
    loop {
        let line = match read_line(reader, MAX_HEAD - used.min(MAX_HEAD)).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                return Err(HttpError::NoResponse(
                    "the connection was closed in the middle of the headers".into(),
                ));
            }
            Err(LineError::Io(e)) => return Err(HttpError::NoResponse(e.to_string())),
            Err(LineError::TooLong) => {
                return Err(HttpError::Protocol(format!(
                    "headers larger than {} KiB",
                    MAX_HEAD >> 10
                )));
            }
        };
        used += line.len() + 2;
        if line.is_empty() {
            return Ok(head);
        }
        let text = String::from_utf8_lossy(&line);
        let Some((name, value)) = text.split_once(':') else {
            return Err(HttpError::Protocol(format!(
                "malformed header line {:?}",
                crate::error::clip(&text, 80)
            )));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = value.parse().map_err(|_| {
                HttpError::Protocol(format!(
                    "bad Content-Length {:?}",
                    crate::error::clip(value, 40)
                ))
            })?;
            if head.content_length.is_some_and(|m| m != n) {
                return Err(HttpError::Protocol(
                    "conflicting Content-Length headers".into(),
                ));
            }
            head.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or("").trim();
            if last.eq_ignore_ascii_case("chunked") {
                head.chunked = true;
            } else if !last.eq_ignore_ascii_case("identity") {
                return Err(HttpError::Protocol(format!(
                    "unsupported Transfer-Encoding {:?}",
                    crate::error::clip(value, 40)
                )));
            }
        }
    }
}

fn parse_status_line(line: &[u8]) -> Result<u16, HttpError> {
    let text = String::from_utf8_lossy(line);
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Protocol(format!(
            "expected an HTTP/1.x status line, got {:?}",
            crate::error::clip(&text, 80)
        )));
    }
    match code.parse::<u16>() {
        Ok(c) if (100..=999).contains(&c) && code.len() == 3 => Ok(c),
        _ => Err(HttpError::Protocol(format!(
            "bad status line {:?}",
            crate::error::clip(&text, 80)
        ))),
    }
}

async fn read_chunked<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max_body: usize,
) -> Result<Vec<u8>, HttpError> {
    let cut = |what: &str| HttpError::Protocol(format!("chunked body cut short ({what})"));
    let mut body = Vec::new();
    loop {
        let line = match read_line(reader, MAX_LINE).await {
            Ok(Some(l)) => l,
            Ok(None) => return Err(cut("no chunk size")),
            Err(LineError::Io(e)) => {
                return Err(HttpError::Protocol(format!("reading a chunk: {e}")));
            }
            Err(LineError::TooLong) => {
                return Err(HttpError::Protocol("chunk-size line too long".into()));
            }
        };
        let text = String::from_utf8_lossy(&line);
        let hex = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(hex, 16).map_err(|_| {
            HttpError::Protocol(format!("bad chunk size {:?}", crate::error::clip(hex, 20)))
        })?;
        if size == 0 {
            // Trailers, up to the empty line (or EOF, which some servers allow themselves).
            loop {
                match read_line(reader, MAX_LINE).await {
                    Ok(Some(l)) if l.is_empty() => return Ok(body),
                    Ok(Some(_)) => continue,
                    Ok(None) => return Ok(body),
                    Err(LineError::Io(e)) => {
                        return Err(HttpError::Protocol(format!("reading trailers: {e}")));
                    }
                    Err(LineError::TooLong) => {
                        return Err(HttpError::Protocol("trailer line too long".into()));
                    }
                }
            }
        }
        if body.len().saturating_add(size) > max_body {
            return Err(HttpError::TooLarge);
        }
        let before = body.len();
        (&mut *reader)
            .take(size as u64)
            .read_to_end(&mut body)
            .await
            .map_err(|e| HttpError::Protocol(format!("reading a chunk: {e}")))?;
        if body.len() - before != size {
            return Err(cut("chunk data"));
        }
        match read_line(reader, 2).await {
            Ok(Some(l)) if l.is_empty() => {}
            _ => return Err(HttpError::Protocol("missing CRLF after a chunk".into())),
        }
    }
}

enum LineError {
    Io(io::Error),
    TooLong,
}

/// One line without its `\r\n` (or bare `\n`); `None` at EOF before any byte.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> Result<Option<Vec<u8>>, LineError> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await.map_err(LineError::Io)?;
        if buf.is_empty() {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(LineError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection was closed in the middle of a line",
            )));
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..i]);
            reader.consume(i + 1);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.len() > max {
                return Err(LineError::TooLong);
            }
            return Ok(Some(line));
        }
        let n = buf.len();
        line.extend_from_slice(buf);
        reader.consume(n);
        if line.len() > max + 1 {
            return Err(LineError::TooLong);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn serve(
        answer: &'static [u8],
        max_body: usize,
    ) -> (Result<Response, HttpError>, Vec<u8>) {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let server_task = tokio::spawn(async move {
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = server.read(&mut buf).await.unwrap();
                req.extend_from_slice(&buf[..n]);
                if n == 0 || req.ends_with(b"\r\n\r\n") {
                    break;
                }
            }
            server.write_all(answer).await.unwrap();
            server.shutdown().await.unwrap();
            req
        });
        let request = request_bytes(&Endpoint::Images, ApiVersion::PREFERRED);
        let r = exchange(client, &request, max_body).await;
        (r, server_task.await.unwrap())
    }

    #[test]
    fn containers_path_is_percent_encoded() {
        let p = Endpoint::Containers {
            project: "home-platform",
        }
        .path(ApiVersion::PREFERRED);
        assert_eq!(
            p,
            "/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dhome-platform%22%5D%7D"
        );
        assert_eq!(
            Endpoint::Images.path(ApiVersion {
                major: 1,
                minor: 44
            }),
            "/v1.44/images/json?digests=1"
        );
        assert_eq!(Endpoint::Version.path(ApiVersion::PREFERRED), "/version");
    }

    #[test]
    fn the_request_is_a_get_with_host_docker() {
        let r =
            String::from_utf8(request_bytes(&Endpoint::Version, ApiVersion::PREFERRED)).unwrap();
        assert!(
            r.starts_with("GET /version HTTP/1.1\r\nHost: docker\r\n"),
            "{r}"
        );
        assert!(r.ends_with("\r\n\r\n"));
        assert!(r.contains("Connection: close\r\n"));
    }

    #[test]
    fn api_versions() {
        assert_eq!(ApiVersion::parse("1.41"), Some(ApiVersion::PREFERRED));
        assert!(ApiVersion::parse("1.40").unwrap() < ApiVersion::PREFERRED);
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.10").unwrap());
        assert_eq!(ApiVersion::parse("x"), None);
    }

    #[tokio::test]
    async fn content_length_body() {
        let (r, req) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
            MAX_BODY,
        )
        .await;
        let r = r.unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"[]"[..]));
        assert!(req.starts_with(b"GET /v1.41/images/json?digests=1 HTTP/1.1\r\n"));
    }

    #[tokio::test]
    async fn chunked_body_with_extensions_and_trailers() {
        let (r, _) = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n[{\"\r\nE\r\na\":1},{\"b\":2}]\r\n0\r\nX-Trailer: 1\r\n\r\n",
            MAX_BODY,
        )
        .await;
        assert_eq!(r.unwrap().body, b"[{\"a\":1},{\"b\":2}]");
    }

    #[tokio::test]
    async fn body_until_eof() {
        let (r, _) = serve(b"HTTP/1.0 200 OK\r\n\r\n{\"x\":1}", MAX_BODY).await;
        assert_eq!(r.unwrap().body, b"{\"x\":1}");
    }

    #[tokio::test]
    async fn informational_responses_are_skipped() {
        let (r, _) = serve(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            MAX_BODY,
        )
        .await;
        assert_eq!(r.unwrap().status, 200);
    }

    #[tokio::test]
    async fn bounded_bodies() {
        let (r, _) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789a",
            10,
        )
        .await;
        assert!(matches!(r, Err(HttpError::TooLarge)));
        let (r, _) = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n",
            10,
        )
        .await;
        assert!(matches!(r, Err(HttpError::TooLarge)));
        let (r, _) = serve(b"HTTP/1.1 200 OK\r\n\r\n0123456789a", 10).await;
        assert!(matches!(r, Err(HttpError::TooLarge)));
    }

    #[tokio::test]
    async fn broken_answers() {
        let (r, _) = serve(b"", MAX_BODY).await;
        assert!(matches!(r, Err(HttpError::NoResponse(_))), "{r:?}");
        let (r, _) = serve(b"HTTP/1.1 200 OK\r\nContent-Len", MAX_BODY).await;
        assert!(matches!(r, Err(HttpError::NoResponse(_))), "{r:?}");
        let (r, _) = serve(b"SSH-2.0-OpenSSH_9.2\r\n", MAX_BODY).await;
        assert!(matches!(r, Err(HttpError::Protocol(_))), "{r:?}");
        let (r, _) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]", MAX_BODY).await;
        assert!(matches!(r, Err(HttpError::Protocol(_))), "{r:?}");
        let (r, _) = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
            MAX_BODY,
        )
        .await;
        assert!(matches!(r, Err(HttpError::Protocol(_))), "{r:?}");
        let (r, _) = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
            MAX_BODY,
        )
        .await;
        assert!(matches!(r, Err(HttpError::Protocol(_))), "{r:?}");
    }

    #[tokio::test]
    async fn engine_error_message() {
        let (r, _) = serve(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 84\r\n\r\n{\"message\":\"client version 1.41 is too new. Maximum supported API version is 1.40\"}\n",
            MAX_BODY,
        )
        .await;
        let r = r.unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(
            r.engine_message(),
            "client version 1.41 is too new. Maximum supported API version is 1.40"
        );
    }

    #[tokio::test]
    async fn unix_socket_timeout_and_connect_errors() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let e = get(
            &sock,
            &Endpoint::Version,
            ApiVersion::PREFERRED,
            Duration::from_secs(1),
        )
        .await;
        assert!(matches!(e, Err(HttpError::Connect(_))), "{e:?}");
        // A listener that accepts and never answers.
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let hold = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(s);
        });
        let t = std::time::Instant::now();
        let e = get(
            &sock,
            &Endpoint::Version,
            ApiVersion::PREFERRED,
            Duration::from_millis(200),
        )
        .await;
        assert!(matches!(e, Err(HttpError::Timeout(_))), "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(2));
        hold.abort();
    }
}
