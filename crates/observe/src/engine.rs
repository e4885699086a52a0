//! One batched observation over an Engine API socket: the API version from one `GET /_ping`,
//! then the project's containers and the images, asked concurrently.
//!
//! Two connections (over an ssh forward: two ssh channels), three requests. The first
//! connection carries the ping, then the containers list (keep-alive: no second channel
//! open); the second is opened meanwhile and carries the images list. The version spoken is
//! the engine's newest (the ping's `API-Version` header), capped at [`ApiVersion::NEWEST`]; an
//! engine older than [`ApiVersion::OLDEST`] is refused before any list is asked. No answer is
//! ever retried in another version, and no error text is matched.
//!
//! The same code serves the local socket and the ssh-forwarded one; only the wording of the
//! errors differs ([`Via`]).

use std::io;
use std::path::Path;

use platformctl_evidence::HostEvidence;

use crate::Via;
use crate::error::{ObserveError, clip, secs};
use crate::http::{ApiVersion, Conn, Deadline, Endpoint, HttpError, Response};

/// Where the socket is, for messages.
pub(crate) struct Place<'a> {
    pub(crate) host: &'a str,
    /// The Docker socket on the host (for a forward: the remote path, not the local one).
    pub(crate) docker_socket: &'a str,
    pub(crate) via: Via,
    /// Also ask the engine's platform (`GET /version`), for registry truth.
    pub(crate) platform: bool,
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

/// Fetches and decodes the containers of `project` and the images they run, by `deadline`.
pub(crate) async fn observe(
    socket: &Path,
    project: &str,
    deadline: Deadline,
    place: &Place<'_>,
) -> Result<HostEvidence, FetchError> {
    let first = async {
        let mut conn = Conn::open(socket, deadline).await?;
        let ping = conn.get(Endpoint::Ping).await?;
        Ok::<_, HttpError>((conn, ping))
    };
    let (first, second) = tokio::join!(first, Conn::open(socket, deadline));
    let (mut first, ping) = first.map_err(|e| transport_error(e, place))?;
    let api = negotiate(&ping, place)?;
    let mut second = second.map_err(|e| transport_error(e, place))?;
    let (c, i) = tokio::join!(
        async {
            let c = first.get(Endpoint::Containers { api, project }).await;
            // The platform rides the kept-alive first connection (one more round trip, no new
            // channel); an engine that cannot say it leaves it unknown, never the run failed.
            let v = match &c {
                Ok(_) if place.platform => first.get(Endpoint::Version { api }).await.ok(),
                _ => None,
            };
            c.map(|c| (c, v))
        },
        second.get(Endpoint::Images { api }),
    );
    let (c, version) = match c {
        Ok((c, v)) => (Ok(c), v),
        Err(e) => (Err(e), None),
    };
    let c = c.map_err(|e| transport_error(e, place))?;
    let i = i.map_err(|e| transport_error(e, place))?;
    check_status(&c, "containers list", Some(api), place)?;
    check_status(&i, "images list", Some(api), place)?;
    let decode_error = |e: platformctl_evidence::DecodeError| {
        FetchError::from(ObserveError::decode(format!(
            "host {}: the Engine API answer at {} could not be decoded: {e}",
            place.host, place.docker_socket
        )))
    };
    let mut evidence = HostEvidence::from_api(&c.body, &i.body).map_err(decode_error)?;
    evidence.platform = version
        .filter(|v| v.status == 200)
        .and_then(|v| platformctl_evidence::decode::api_version_platform(&v.body));
    // Every project container's full inspect (config drift, SPEC §9; and the reference a
    // container was created from, which the list replaces by the image ID once the tag has
    // moved), then the inspect of each image they run (its defaults), spread over a few
    // kept-alive connections: the first two, and more for a large project.
    let n = evidence.containers.len();
    let mut conns = vec![first, second];
    let extra = (n / INSPECTS_PER_CONNECTION).min(MAX_CONNECTIONS - 2);
    let more = futures::future::join_all((0..extra).map(|_| Conn::open(socket, deadline))).await;
    for c in more {
        conns.push(c.map_err(|e| transport_error(e, place))?);
    }
    let ids: Vec<String> = evidence.containers.iter().map(|c| c.id.clone()).collect();
    let answers = spread(
        &mut conns,
        &ids,
        |api_id| Endpoint::Container { api, id: api_id },
        place,
    )
    .await?;
    for (n, answer) in answers.into_iter().enumerate() {
        // Removed between the list and its inspect: keep what the list said (the compare
        // stage judges an image ID in place of a reference on its own, and a container
        // without config as not verifiable).
        if answer.status == 404 {
            continue;
        }
        check_status(&answer, "container inspect", Some(api), place)?;
        let inspected =
            platformctl_evidence::decode::api_container(&answer.body).map_err(decode_error)?;
        let c = &mut evidence.containers[n];
        if inspected.id != c.id {
            continue;
        }
        if !inspected.image_ref.is_empty() {
            c.image_ref = inspected.image_ref;
        }
        c.config = inspected.config;
    }
    let mut image_ids: Vec<String> = evidence
        .containers
        .iter()
        .map(|c| c.image_id.clone())
        .collect();
    image_ids.sort();
    image_ids.dedup();
    image_ids.retain(|id| !id.is_empty());
    let answers = spread(
        &mut conns,
        &image_ids,
        |id| Endpoint::Image { api, id },
        place,
    )
    .await?;
    for (id, answer) in image_ids.iter().zip(answers) {
        if answer.status != 200 {
            continue;
        }
        let inspected =
            platformctl_evidence::decode::api_image(&answer.body).map_err(decode_error)?;
        if let Some(img) = evidence.images.iter_mut().find(|i| &i.id == id) {
            img.config = inspected.config;
            if img.source_url.is_none() {
                img.source_url = inspected.source_url;
            }
        }
    }
    Ok(evidence)
}

/// Containers inspected per kept-alive connection before another is opened: over a link with
/// a real round trip the inspects cost about (containers / connections) round trips, and a
/// connection (a channel of the host's one ssh connection) costs one, opened concurrently.
const INSPECTS_PER_CONNECTION: usize = 6;
/// The most connections one host's observation opens (sshd's default MaxSessions is 10 per
/// connection for sessions; forwarded channels are not sessions).
const MAX_CONNECTIONS: usize = 32;

/// GETs `endpoint(id)` for each of `ids`, shared round-robin over `conns` (each connection
/// asks its share in turn), answers in the order of `ids`.
async fn spread<'i>(
    conns: &mut [Conn],
    ids: &'i [String],
    endpoint: impl Fn(&'i str) -> Endpoint<'i> + Copy,
    place: &Place<'_>,
) -> Result<Vec<Response>, FetchError> {
    let k = conns.len().max(1);
    let shares = conns.iter_mut().enumerate().map(|(j, conn)| async move {
        let mut out = Vec::new();
        for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % k == j) {
            let r = conn
                .get(endpoint(id))
                .await
                .map_err(|e| transport_error(e, place))?;
            out.push((n, r));
        }
        Ok::<_, FetchError>(out)
    });
    let mut all: Vec<(usize, Response)> = Vec::with_capacity(ids.len());
    for share in futures::future::join_all(shares).await {
        all.extend(share?);
    }
    all.sort_by_key(|(n, _)| *n);
    Ok(all.into_iter().map(|(_, r)| r).collect())
}

/// The version to speak, from the ping's `API-Version` header (the engine's newest version):
/// that one, capped at [`ApiVersion::NEWEST`]; an engine older than [`ApiVersion::OLDEST`] is
/// refused. An answer without the header (no Docker engine of the last decade) is asked in
/// [`ApiVersion::OLDEST`], and its own refusal, if any, is reported as it comes.
fn negotiate(ping: &Response, place: &Place<'_>) -> Result<ApiVersion, FetchError> {
    check_status(ping, "ping (/_ping)", None, place)?;
    let Some(raw) = &ping.api_version else {
        return Ok(ApiVersion::OLDEST);
    };
    let Some(newest) = ApiVersion::parse(raw) else {
        return Err(ObserveError::protocol(format!(
            "host {}: the engine at {} names no Engine API version in its ping answer (API-Version: {:?})",
            place.host,
            place.docker_socket,
            clip(raw, 40)
        ))
        .into());
    };
    if newest < ApiVersion::OLDEST {
        return Err(ObserveError::refused(format!(
            "host {}: the Docker engine at {} speaks Engine API up to {newest} (older than Docker 20.10); platformctl needs API {} or newer: upgrade Docker on {}",
            place.host,
            place.docker_socket,
            ApiVersion::OLDEST,
            place.host
        ))
        .into());
    }
    Ok(newest.min(ApiVersion::NEWEST))
}

fn check_status(
    r: &Response,
    what: &str,
    api: Option<ApiVersion>,
    place: &Place<'_>,
) -> Result<(), FetchError> {
    if r.status == 200 {
        return Ok(());
    }
    let msg = format!(
        "host {}: the Docker engine at {} answered {} to the {what}{}: {}",
        place.host,
        place.docker_socket,
        r.status,
        api.map(|a| format!(" (API {a})")).unwrap_or_default(),
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
            "host {host}: the Docker engine at {sock} did not answer within {} (host timeout)",
            secs(*d)
        )),
        HttpError::Protocol(_) | HttpError::TooLarge(_) => ObserveError::protocol(format!(
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    /// A fake engine on a unix socket that speaks Engine API versions `min..=max` as Docker
    /// does: every answer carries `API-Version: max`, a versioned path outside the range gets
    /// Docker's 400, connections are kept alive. It counts connections and records requests.
    struct Engine {
        _dir: tempfile::TempDir,
        sock: std::path::PathBuf,
        connections: Arc<AtomicUsize>,
        requests: Arc<Mutex<Vec<String>>>,
        refused: Arc<AtomicUsize>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Engine {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl Engine {
        fn requests(&self) -> Vec<String> {
            self.requests.lock().unwrap().clone()
        }
    }

    /// What the fake answers: the status line and body for a path, given the version asked.
    type Answer = fn(&str) -> (&'static str, String);

    async fn engine(min: &str, max: Option<&'static str>, answer: Answer) -> Engine {
        let min = ApiVersion::parse(min).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicUsize::new(0));
        let (c, r, f) = (connections.clone(), requests.clone(), refused.clone());
        let task = tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let (requests, refused) = (r.clone(), f.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        let line = head.lines().next().unwrap_or("").to_owned();
                        requests.lock().unwrap().push(line.clone());
                        let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                        let asked = path
                            .strip_prefix("/v")
                            .and_then(|p| p.split_once('/'))
                            .and_then(|(v, _)| ApiVersion::parse(v));
                        let max_v = max.and_then(ApiVersion::parse);
                        let (status, body) = match (asked, max_v) {
                            (Some(v), _) if v < min => {
                                refused.fetch_add(1, Ordering::SeqCst);
                                (
                                    "400 Bad Request",
                                    format!(
                                        r#"{{"message":"client version {v} is too old. Minimum supported API version is {min}, please upgrade your client to a newer version"}}"#
                                    ),
                                )
                            }
                            (Some(v), Some(m)) if v > m => {
                                refused.fetch_add(1, Ordering::SeqCst);
                                (
                                    "400 Bad Request",
                                    format!(
                                        r#"{{"message":"client version {v} is too new. Maximum supported API version is {m}"}}"#
                                    ),
                                )
                            }
                            _ => answer(&path),
                        };
                        let header = max
                            .map(|m| format!("Api-Version: {m}\r\n"))
                            .unwrap_or_default();
                        let reply = format!(
                            "HTTP/1.1 {status}\r\n{header}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if s.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Engine {
            _dir: dir,
            sock,
            connections,
            requests,
            refused,
            task,
        }
    }

    const CONTAINERS: &str = r#"[{"Id":"c1","Names":["/p-web-1"],"Image":"web:1","ImageID":"sha256:aa","State":"running","Status":"Up","Labels":{"com.docker.compose.project":"p","com.docker.compose.service":"web"}}]"#;
    const IMAGES: &str = r#"[{"Id":"sha256:aa","RepoTags":["web:1"],"RepoDigests":[]},{"Id":"sha256:bb","RepoTags":["other:1"],"RepoDigests":[]}]"#;

    /// A well-behaved engine's answers.
    fn docker(path: &str) -> (&'static str, String) {
        let list = path
            .strip_prefix("/v")
            .and_then(|p| p.split_once('/'))
            .map_or("", |(_, rest)| rest);
        if path == "/_ping" {
            ("200 OK", "OK".into())
        } else if list.starts_with("containers/json?all=1&filters=") {
            ("200 OK", CONTAINERS.into())
        } else if list == "images/json?digests=1" {
            ("200 OK", IMAGES.into())
        } else {
            ("404 Not Found", r#"{"message":"page not found"}"#.into())
        }
    }

    fn place() -> Place<'static> {
        Place {
            host: "h1",
            docker_socket: "/var/run/docker.sock",
            via: Via::Local,
            platform: false,
        }
    }

    fn soon() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    /// The acceptance figure: against an engine that only speaks API 1.44 and newer (Docker
    /// 29), one ping, the two lists, then one inspect per project container and one per image
    /// they run (config drift, SPEC §9), over two connections (two ssh channels over a
    /// forward) for a small project, and none refused.
    #[tokio::test]
    async fn a_docker_29_engine_costs_one_ping_two_lists_and_the_inspects_on_two_connections() {
        let e = engine("1.44", Some("1.52"), docker).await;
        let ev = observe(&e.sock, "p", soon(), &place()).await.unwrap();
        assert_eq!(ev.containers.len(), 1);
        assert_eq!(
            ev.images.len(),
            1,
            "only the images the containers run are kept"
        );
        let mut seen = e.requests();
        assert_eq!(seen[0], "GET /_ping HTTP/1.1", "the ping comes first");
        seen.sort();
        assert_eq!(seen.len(), 5, "{seen:?}");
        assert!(seen[0].starts_with("GET /_ping "), "{seen:?}");
        assert_eq!(seen[1], "GET /v1.52/containers/c1/json HTTP/1.1");
        assert!(
            seen[2].starts_with("GET /v1.52/containers/json?all=1&filters="),
            "{seen:?}"
        );
        assert_eq!(seen[3], "GET /v1.52/images/json?digests=1 HTTP/1.1");
        assert_eq!(seen[4], "GET /v1.52/images/sha256%3Aaa/json HTTP/1.1");
        let api_requests = seen.iter().filter(|l| l.starts_with("GET /v")).count();
        assert_eq!(
            api_requests, 4,
            "two lists, one container and one image inspect"
        );
        assert_eq!(e.connections.load(Ordering::SeqCst), 2, "two connections");
        assert_eq!(e.refused.load(Ordering::SeqCst), 0, "nothing refused");
    }

    const MOVED_ID: &str =
        "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    /// An engine where the tag `web:1` moved after `c1` started: the list shows the image ID.
    fn moved_engine(path: &str) -> (&'static str, String) {
        let rest = path
            .strip_prefix("/v")
            .and_then(|p| p.split_once('/'))
            .map_or("", |(_, rest)| rest);
        if rest.starts_with("containers/json?all=1&filters=") {
            let list = format!(
                r#"[{{"Id":"c1","Names":["/p-web-1"],"Image":"{MOVED_ID}","ImageID":"{MOVED_ID}","State":"running","Labels":{{"com.docker.compose.project":"p","com.docker.compose.service":"web"}}}},{{"Id":"c2","Names":["/p-db-1"],"Image":"db:2","ImageID":"sha256:aa","State":"running","Labels":{{"com.docker.compose.project":"p","com.docker.compose.service":"db"}}}}]"#
            );
            ("200 OK", list)
        } else if rest == "containers/c1/json" {
            let one = format!(
                r#"{{"Id":"c1","Name":"/p-web-1","Image":"{MOVED_ID}","Config":{{"Image":"web:1","Labels":{{"com.docker.compose.project":"p","com.docker.compose.service":"web"}}}},"State":{{"Status":"running","Running":true}}}}"#
            );
            ("200 OK", one)
        } else {
            docker(path)
        }
    }

    /// A container removed between the list and its inspect keeps the list's answer; the host
    /// is still observed.
    #[tokio::test]
    async fn a_container_gone_before_its_inspect_keeps_the_lists_answer() {
        fn gone(path: &str) -> (&'static str, String) {
            if path.ends_with("/containers/c1/json") {
                (
                    "404 Not Found",
                    r#"{"message":"No such container: c1"}"#.into(),
                )
            } else {
                moved_engine(path)
            }
        }
        let e = engine("1.44", Some("1.52"), gone).await;
        let ev = observe(&e.sock, "p", soon(), &place()).await.unwrap();
        let web = ev.containers.iter().find(|c| c.id == "c1").unwrap();
        assert_eq!(web.image_ref, MOVED_ID, "the list's image ID, not an error");
        assert_eq!(ev.containers.len(), 2);
    }

    /// Issue 9 item 6: the list names the image by ID once the tag moved; the container's own
    /// inspect (asked of every container since config drift) has its `Config.Image`, so the
    /// API path yields the reference the command path (`docker inspect`) yields.
    #[tokio::test]
    async fn a_moved_tag_is_read_from_the_containers_inspect() {
        let e = engine("1.44", Some("1.52"), moved_engine).await;
        let ev = observe(&e.sock, "p", soon(), &place()).await.unwrap();
        let web = ev.containers.iter().find(|c| c.id == "c1").unwrap();
        assert_eq!(web.image_ref, "web:1", "Config.Image, not the image ID");
        assert_eq!(web.image_id, MOVED_ID);
        let db = ev.containers.iter().find(|c| c.id == "c2").unwrap();
        assert_eq!(db.image_ref, "db:2");
        let inspects: Vec<String> = e
            .requests()
            .into_iter()
            .filter(|l| l.contains("/containers/c"))
            .collect();
        assert_eq!(
            inspects,
            [
                "GET /v1.52/containers/c1/json HTTP/1.1",
                "GET /v1.52/containers/c2/json HTTP/1.1"
            ]
        );
        assert_eq!(e.connections.load(Ordering::SeqCst), 2, "no new connection");
    }

    #[tokio::test]
    async fn the_version_is_the_engines_newest_capped_at_ours() {
        for (max, want) in [
            ("1.41", "1.41"),
            ("1.45", "1.45"),
            ("1.52", "1.52"),
            ("1.99", "1.52"),
        ] {
            let e = engine("1.24", Some(max), docker).await;
            observe(&e.sock, "p", soon(), &place()).await.unwrap();
            let asked: Vec<String> = e
                .requests()
                .into_iter()
                .filter(|l| l.starts_with("GET /v"))
                .collect();
            assert_eq!(asked.len(), 4, "{asked:?}");
            assert!(
                asked
                    .iter()
                    .all(|l| l.starts_with(&format!("GET /v{want}/"))),
                "engine up to {max}: {asked:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_engine_without_the_header_is_asked_in_the_oldest_version() {
        let e = engine("1.24", None, docker).await;
        observe(&e.sock, "p", soon(), &place()).await.unwrap();
        let asked: Vec<String> = e
            .requests()
            .into_iter()
            .filter(|l| l.starts_with("GET /v"))
            .collect();
        assert!(
            asked.iter().all(|l| l.starts_with("GET /v1.41/")),
            "{asked:?}"
        );
    }

    #[tokio::test]
    async fn refuses_clearly_when_the_engine_is_too_old() {
        let e = engine("1.12", Some("1.40"), docker).await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Refused);
        assert!(
            err.error.message.contains("up to 1.40"),
            "{}",
            err.error.message
        );
        assert!(
            err.error.message.contains("upgrade Docker on h1"),
            "{}",
            err.error.message
        );
        assert_eq!(
            e.requests(),
            ["GET /_ping HTTP/1.1"],
            "nothing but the ping"
        );
    }

    #[tokio::test]
    async fn a_refusal_is_reported_as_the_engine_words_it_never_retried() {
        // An engine whose minimum is above ours (a future Docker): one try, its message shown.
        let e = engine("1.60", Some("1.61"), docker).await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert!(
            err.error.message.contains("answered 400")
                && err.error.message.contains("API 1.52")
                && err
                    .error
                    .message
                    .contains("Minimum supported API version is 1.60"),
            "{}",
            err.error.message
        );
        assert_eq!(e.requests().len(), 3, "{:?}", e.requests());
    }

    #[tokio::test]
    async fn a_bad_ping_is_reported() {
        let e = engine("1.24", Some("x.y"), docker).await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Protocol);
        assert!(
            err.error.message.contains("API-Version"),
            "{}",
            err.error.message
        );
        let e = engine("1.24", Some("1.52"), |_| ("404 Not Found", "nope".into())).await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Protocol);
        assert!(
            err.error.message.contains("answered 404 to the ping"),
            "{}",
            err.error.message
        );
        let e = engine("1.24", Some("1.52"), |_| {
            ("403 Forbidden", r#"{"message":"authz"}"#.into())
        })
        .await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Refused);
    }

    #[tokio::test]
    async fn engine_errors_and_garbage() {
        let e = engine("1.24", Some("1.52"), |p| {
            if p == "/_ping" {
                ("200 OK", "OK".into())
            } else {
                ("500 Internal Server Error", r#"{"message":"boom"}"#.into())
            }
        })
        .await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Protocol);
        assert!(
            err.error.message.contains("answered 500"),
            "{}",
            err.error.message
        );

        let e = engine("1.24", Some("1.52"), |_| {
            ("200 OK", r#"{"not":"a list"}"#.into())
        })
        .await;
        let err = observe(&e.sock, "p", soon(), &place()).await.unwrap_err();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Decode);
    }

    #[tokio::test]
    async fn a_silent_engine_costs_the_deadline_once() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (s, _) = listener.accept().await.unwrap();
                held.push(s);
            }
        });
        let t = std::time::Instant::now();
        let err = observe(
            &sock,
            "p",
            Deadline::after(Duration::from_millis(300)),
            &place(),
        )
        .await
        .unwrap_err();
        let took = t.elapsed();
        assert_eq!(err.error.kind, crate::ObserveErrorKind::Timeout);
        assert!(
            err.error
                .message
                .contains("did not answer within 300 ms (host timeout)"),
            "{}",
            err.error.message
        );
        assert!(took < Duration::from_millis(800), "{took:?}");
        hold.abort();
    }

    #[tokio::test]
    async fn missing_socket_is_unreachable_locally_and_no_answer_over_a_forward() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("absent.sock");
        let e = observe(&sock, "p", soon(), &place()).await.unwrap_err();
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
        let e = observe(&sock, "p", soon(), &fwd).await.unwrap_err();
        assert!(e.no_answer);
    }

    #[tokio::test]
    async fn a_forward_closed_without_answer_is_no_answer() {
        // What ssh does when the server refuses the channel: accept locally, then close.
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("fwd.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let task = tokio::spawn(async move {
            loop {
                let (s, _) = listener.accept().await.unwrap();
                drop(s);
            }
        });
        let fwd = Place {
            via: Via::SshForward,
            ..place()
        };
        let e = observe(&sock, "p", soon(), &fwd).await.unwrap_err();
        assert!(e.no_answer, "{:?}", e.error);
        assert_eq!(e.error.kind, crate::ObserveErrorKind::Unreachable);
        task.abort();
    }
}
