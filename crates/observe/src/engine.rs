//! One batched observation over an Engine API socket: the project's containers and the images,
//! asked concurrently (two connections), with API version negotiation.
//!
//! The same code serves the local socket and the ssh-forwarded one; only the wording of the
//! errors differs ([`Via`]).

use std::io;
use std::path::Path;
use std::time::Duration;

use platformctl_evidence::HostEvidence;

use crate::Via;
use crate::error::{ObserveError, secs};
use crate::http::{self, ApiVersion, Endpoint, HttpError, Response};

/// Where the socket is, for messages.
pub(crate) struct Place<'a> {
    pub(crate) host: &'a str,
    /// The Docker socket on the host (for a forward: the remote path, not the local one).
    pub(crate) docker_socket: &'a str,
    pub(crate) via: Via,
}

/// A failed fetch. `no_answer` is set when the transport failed before any HTTP answer came
/// back: over an ssh forward that is what a refused forward looks like, and the caller falls
/// back to the remote command.
#[derive(Debug)]
pub(crate) struct FetchError {
    pub(crate) error: ObserveError,
    pub(crate) no_answer: bool,
}

impl From<ObserveError> for FetchError {
    fn from(error: ObserveError) -> Self {
        FetchError {
            error,
            no_answer: false,
        }
    }
}

/// Fetches and decodes the containers of `project` and the images they run.
pub(crate) async fn observe(
    socket: &Path,
    project: &str,
    timeout: Duration,
    place: &Place<'_>,
) -> Result<HostEvidence, FetchError> {
    let containers = Endpoint::Containers { project };
    let mut api = ApiVersion::PREFERRED;
    let mut negotiated = false;
    loop {
        let (c, i) = tokio::join!(
            http::get(socket, &containers, api, timeout),
            http::get(socket, &Endpoint::Images, api, timeout),
        );
        let c = c.map_err(|e| transport_error(e, place))?;
        let i = i.map_err(|e| transport_error(e, place))?;
        if !negotiated && (version_refused(&c) || version_refused(&i)) {
            let refused = if version_refused(&c) { &c } else { &i };
            api = negotiate(socket, timeout, place, refused).await?;
            negotiated = true;
            continue;
        }
        check_status(&c, "containers", api, place)?;
        check_status(&i, "images", api, place)?;
        return HostEvidence::from_api(&c.body, &i.body).map_err(|e| {
            FetchError::from(ObserveError::decode(format!(
                "host {}: the Engine API answer at {} could not be decoded: {e}",
                place.host, place.docker_socket
            )))
        });
    }
}

/// Docker answers 400 "client version 1.41 is too new. Maximum supported API version is 1.40"
/// (old engines) or "… is too old. Minimum supported API version is 1.44 …" (Docker 29+).
fn version_refused(r: &Response) -> bool {
    r.status == 400
        && r.engine_message()
            .to_ascii_lowercase()
            .contains("client version")
}

/// Picks the API version to speak after the engine refused 1.41: asks `GET /version`, uses its
/// minimum when the engine no longer speaks 1.41, and refuses clearly when it is too old.
async fn negotiate(
    socket: &Path,
    timeout: Duration,
    place: &Place<'_>,
    refused: &Response,
) -> Result<ApiVersion, FetchError> {
    let v = http::get(socket, &Endpoint::Version, ApiVersion::PREFERRED, timeout)
        .await
        .map_err(|e| transport_error(e, place))?;
    let parsed = (v.status == 200)
        .then(|| serde_json::from_slice::<serde_json::Value>(&v.body).ok())
        .flatten();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|j| j.get(name))
            .and_then(|x| x.as_str())
            .and_then(ApiVersion::parse)
    };
    let (Some(max), min) = (field("ApiVersion"), field("MinAPIVersion")) else {
        return Err(ObserveError::refused(format!(
            "host {}: the Docker engine at {} refused Engine API {} ({}) and its /version answer names no API version",
            place.host,
            place.docker_socket,
            ApiVersion::PREFERRED,
            refused.engine_message()
        ))
        .into());
    };
    if max < ApiVersion::PREFERRED {
        return Err(ObserveError::refused(format!(
            "host {}: the Docker engine at {} speaks Engine API up to {max} (older than Docker 20.10); platformctl needs API {} or newer: upgrade Docker on {}",
            place.host,
            place.docker_socket,
            ApiVersion::PREFERRED,
            place.host
        ))
        .into());
    }
    match min {
        Some(min) if min > ApiVersion::PREFERRED && min <= max => Ok(min),
        _ => Err(ObserveError::refused(format!(
            "host {}: the Docker engine at {} refused Engine API {} although it reports {}{}: {}",
            place.host,
            place.docker_socket,
            ApiVersion::PREFERRED,
            max,
            min.map(|m| format!(" (minimum {m})")).unwrap_or_default(),
            refused.engine_message()
        ))
        .into()),
    }
}

fn check_status(
    r: &Response,
    what: &str,
    api: ApiVersion,
    place: &Place<'_>,
) -> Result<(), FetchError> {
    if r.status == 200 {
        return Ok(());
    }
    let msg = format!(
        "host {}: the Docker engine at {} answered {} to the {what} list (API {api}): {}",
        place.host,
        place.docker_socket,
        r.status,
        r.engine_message()
    );
    Err(match r.status {
        401 | 403 => ObserveError::refused(msg),
        _ => ObserveError::protocol(msg),
    }
    .into())
}

fn transport_error(e: HttpError, place: &Place<'_>) -> FetchError {
    let (host, sock) = (place.host, place.docker_socket);
    let forwarded = place.via == Via::SshForward;
    let error = match &e {
        // Over a forward, the local end is ours: failing to connect to it means the master
        // went away, and an early close means the channel could not be opened remotely.
        HttpError::Connect(_) | HttpError::NoResponse(_) if forwarded => {
            return FetchError {
                error: ObserveError::unreachable(format!(
                    "the ssh forward to {sock} gave no answer ({e})"
                )),
                no_answer: true,
            };
        }
        HttpError::Connect(io) => match io.kind() {
            io::ErrorKind::NotFound => ObserveError::unreachable(format!(
                "host {host}: no Docker socket at {sock}: is Docker running there? (docker_socket in platform.toml)"
            )),
            io::ErrorKind::PermissionDenied => ObserveError::refused(format!(
                "host {host}: permission denied on {sock}: run platformctl as a user allowed to use the Docker socket (e.g. in the docker group)"
            )),
            io::ErrorKind::ConnectionRefused => ObserveError::unreachable(format!(
                "host {host}: nothing listens on {sock}: is Docker running there?"
            )),
            _ => ObserveError::unreachable(format!("host {host}: cannot connect to {sock}: {io}")),
        },
        HttpError::NoResponse(m) => ObserveError::unreachable(format!(
            "host {host}: the Docker engine at {sock} closed the connection without answering ({m})"
        )),
        HttpError::Timeout(d) => ObserveError::timeout(format!(
            "host {host}: the Docker engine at {sock} did not answer within {}",
            secs(*d)
        )),
        HttpError::Protocol(_) | HttpError::TooLarge => ObserveError::protocol(format!(
            "host {host}: the answer from {sock} is not a usable Engine API answer: {e}"
        )),
    };
    FetchError {
        error,
        no_answer: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    /// A fake engine: answers each request by its path, records the request lines.
    async fn fake_engine(
        answer: fn(&str) -> String,
    ) -> (
        tempfile::TempDir,
        std::path::PathBuf,
        tokio::task::JoinHandle<()>,
        std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let mut req = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !req.ends_with(b"\r\n\r\n") {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        req.extend_from_slice(&buf[..n]);
                    }
                    let text = String::from_utf8_lossy(&req).into_owned();
                    let line = text.lines().next().unwrap_or("").to_owned();
                    seen.lock().unwrap().push(line.clone());
                    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                    let _ = s.write_all(answer(&path).as_bytes()).await;
                });
            }
        });
        (dir, sock, task, seen)
    }

    fn reply(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    const CONTAINERS: &str = r#"[{"Id":"c1","Names":["/p-web-1"],"Image":"web:1","ImageID":"sha256:aa","State":"running","Status":"Up","Labels":{"com.docker.compose.project":"p","com.docker.compose.service":"web"}}]"#;
    const IMAGES: &str = r#"[{"Id":"sha256:aa","RepoTags":["web:1"],"RepoDigests":[]},{"Id":"sha256:bb","RepoTags":["other:1"],"RepoDigests":[]}]"#;

    fn place() -> Place<'static> {
        Place {
            host: "h1",
            docker_socket: "/var/run/docker.sock",
            via: Via::Local,
        }
    }

    #[tokio::test]
    async fn observes_with_the_preferred_version() {
        let (_d, sock, task, seen) = fake_engine(|p| {
            if p.starts_with("/v1.41/containers/json?all=1&filters=") {
                reply("200 OK", CONTAINERS)
            } else if p == "/v1.41/images/json?digests=1" {
                reply("200 OK", IMAGES)
            } else {
                reply("404 Not Found", r#"{"message":"page not found"}"#)
            }
        })
        .await;
        let ev = observe(&sock, "p", Duration::from_secs(5), &place())
            .await
            .unwrap();
        assert_eq!(ev.containers.len(), 1);
        assert_eq!(
            ev.images.len(),
            1,
            "only the images the containers run are kept"
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert!(
            seen.iter().all(|l| l.starts_with("GET /v1.41/")),
            "{seen:?}"
        );
        task.abort();
    }

    #[tokio::test]
    async fn negotiates_up_when_the_engine_dropped_1_41() {
        let (_d, sock, task, seen) = fake_engine(|p| {
            if p.starts_with("/v1.41/") {
                reply(
                    "400 Bad Request",
                    r#"{"message":"client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version"}"#,
                )
            } else if p == "/version" {
                reply("200 OK", r#"{"ApiVersion":"1.52","MinAPIVersion":"1.44"}"#)
            } else if p.starts_with("/v1.44/containers/json") {
                reply("200 OK", CONTAINERS)
            } else if p == "/v1.44/images/json?digests=1" {
                reply("200 OK", IMAGES)
            } else {
                reply("404 Not Found", "{}")
            }
        })
        .await;
        let ev = observe(&sock, "p", Duration::from_secs(5), &place())
            .await
            .unwrap();
        assert_eq!(ev.containers[0].name, "p-web-1");
        let seen = seen.lock().unwrap().clone();
        assert!(seen.iter().all(|l| l.starts_with("GET ")), "{seen:?}");
        assert!(
            seen.contains(&"GET /version HTTP/1.1".to_owned()),
            "{seen:?}"
        );
        task.abort();
    }

    #[tokio::test]
    async fn refuses_clearly_when_the_engine_is_too_old() {
        let (_d, sock, task, _) = fake_engine(|p| {
            if p == "/version" {
                reply("200 OK", r#"{"ApiVersion":"1.40","MinAPIVersion":"1.12"}"#)
            } else {
                reply(
                    "400 Bad Request",
                    r#"{"message":"client version 1.41 is too new. Maximum supported API version is 1.40"}"#,
                )
            }
        })
        .await;
        let e = observe(&sock, "p", Duration::from_secs(5), &place())
            .await
            .unwrap_err();
        assert_eq!(e.error.kind, crate::ObserveErrorKind::Refused);
        assert!(
            e.error.message.contains("up to 1.40"),
            "{}",
            e.error.message
        );
        assert!(
            e.error.message.contains("upgrade Docker on h1"),
            "{}",
            e.error.message
        );
        task.abort();
    }

    #[tokio::test]
    async fn engine_errors_and_garbage() {
        let (_d, sock, task, _) =
            fake_engine(|_| reply("500 Internal Server Error", r#"{"message":"boom"}"#)).await;
        let e = observe(&sock, "p", Duration::from_secs(5), &place())
            .await
            .unwrap_err();
        assert_eq!(e.error.kind, crate::ObserveErrorKind::Protocol);
        assert!(
            e.error.message.contains("answered 500"),
            "{}",
            e.error.message
        );
        task.abort();

        let (_d, sock, task, _) = fake_engine(|_| reply("200 OK", r#"{"not":"a list"}"#)).await;
        let e = observe(&sock, "p", Duration::from_secs(5), &place())
            .await
            .unwrap_err();
        assert_eq!(e.error.kind, crate::ObserveErrorKind::Decode);
        task.abort();
    }

    #[tokio::test]
    async fn missing_socket_is_unreachable_locally_and_no_answer_over_a_forward() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("absent.sock");
        let e = observe(&sock, "p", Duration::from_secs(1), &place())
            .await
            .unwrap_err();
        assert_eq!(e.error.kind, crate::ObserveErrorKind::Unreachable);
        assert!(
            e.error.message.contains("is Docker running"),
            "{}",
            e.error.message
        );
        assert!(!e.no_answer);
        let fwd = Place {
            via: Via::SshForward,
            ..place()
        };
        let e = observe(&sock, "p", Duration::from_secs(1), &fwd)
            .await
            .unwrap_err();
        assert!(e.no_answer);
    }
}
