//! A fake Docker Engine on a unix socket, for tests that need a `local` host without root and
//! without Docker (feature `fake-engine`; never in a release build).
//!
//! It answers `GET /_ping` (`OK`, with the `API-Version: 1.47` header a real engine sends),
//! `GET /version`, `GET /containers/json`, `GET /images/json` with canned Engine API JSON, and
//! the inspects of those containers and images (made from the list entries),
//! under any API version prefix (`/v1.47/…`, `/v1.41/…`) or none, keeping connections alive
//! until the client closes them. Anything else is a 404. It records every request line, so a
//! test can count requests or prove that only `GET`s were sent. It stands in for the engine in
//! tests of the orchestration; the real engine is what the e2e suites run against.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::{Value, json};

/// The API version the fake engine announces.
pub const API_VERSION: &str = "1.47";

/// A running fake engine; stops (and removes its socket) when dropped.
#[derive(Debug)]
pub struct FakeEngine {
    socket: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

struct Answers {
    containers: String,
    images: String,
}

impl FakeEngine {
    /// Listens on `socket` and answers with these containers and images (Engine API list
    /// shapes: see [`container`] and [`image`]).
    pub fn start(socket: &Path, containers: Value, images: Value) -> std::io::Result<Self> {
        let listener = UnixListener::bind(socket)?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Answers {
            containers: containers.to_string(),
            images: images.to_string(),
        });
        let (r, s) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, a) = (r.clone(), answers.clone());
                thread::spawn(move || serve(conn, &r, &a));
            }
        });
        Ok(FakeEngine {
            socket: socket.to_path_buf(),
            requests,
            stop,
        })
    }

    /// The socket's path (a `docker_socket` for platform.toml).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Every request line received so far (`GET /v1.47/images/json?digests=1 HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn serve(conn: UnixStream, requests: &Mutex<Vec<String>>, answers: &Answers) {
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let request_line = request_line.trim_end().to_string();
        if request_line.is_empty() {
            continue;
        }
        // Headers, up to the empty line (GETs carry no body).
        let mut close = false;
        loop {
            let mut h = String::new();
            match reader.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if h.starts_with("connection:") && h.contains("close") {
                close = true;
            }
        }
        if let Ok(mut r) = requests.lock() {
            r.push(request_line.clone());
        }
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        let path = unversioned(target.split('?').next().unwrap_or(""));
        let (status, content_type, body) = match (method, path) {
            ("GET" | "HEAD", "/_ping") => ("200 OK", "text/plain; charset=utf-8", "OK".to_string()),
            ("GET", "/version") => ("200 OK", "application/json", version()),
            ("GET", "/containers/json") => {
                ("200 OK", "application/json", answers.containers.clone())
            }
            ("GET", "/images/json") => ("200 OK", "application/json", answers.images.clone()),
            ("GET", p) if p.starts_with("/containers/") && p.ends_with("/json") => {
                let id = &p["/containers/".len()..p.len() - "/json".len()];
                match inspect_container(&answers.containers, id) {
                    Some(body) => ("200 OK", "application/json", body),
                    None => (
                        "404 Not Found",
                        "application/json",
                        json!({"message": format!("No such container: {id}")}).to_string(),
                    ),
                }
            }
            ("GET", p) if p.starts_with("/images/") && p.ends_with("/json") => {
                let id = percent_decode(&p["/images/".len()..p.len() - "/json".len()]);
                match inspect_image(&answers.images, &id) {
                    Some(body) => ("200 OK", "application/json", body),
                    None => (
                        "404 Not Found",
                        "application/json",
                        json!({"message": format!("No such image: {id}")}).to_string(),
                    ),
                }
            }
            _ => (
                "404 Not Found",
                "application/json",
                json!({"message": format!("page not found: {method} {target}")}).to_string(),
            ),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nApi-Version: {API_VERSION}\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: Docker/27.5.1 (linux)\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        let body = if method == "HEAD" { "" } else { body.as_str() };
        if writer
            .write_all(format!("{head}{body}").as_bytes())
            .is_err()
            || close
        {
            return;
        }
    }
}

/// `/v1.47/containers/json` → `/containers/json`; an unversioned path stays as it is.
fn unversioned(path: &str) -> &str {
    if let Some(rest) = path.strip_prefix("/v")
        && let Some(slash) = rest.find('/')
        && rest[..slash]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && !rest[..slash].is_empty()
    {
        return &rest[slash..];
    }
    path
}

fn version() -> String {
    json!({
        "Version": "27.5.1",
        "ApiVersion": API_VERSION,
        "MinAPIVersion": "1.24",
        "Os": "linux",
        "Arch": "amd64",
    })
    .to_string()
}

/// `%3A` → `:` (image IDs in a path).
fn percent_decode(s: &str) -> String {
    s.replace("%3A", ":").replace("%3a", ":")
}

/// A container's inspect, made from its list entry as compose would have created it for a
/// service that declares only its image: no ports, no environment, the image's command,
/// restart `no`, the project's default network.
fn inspect_container(list: &str, id: &str) -> Option<String> {
    let list: Value = serde_json::from_str(list).ok()?;
    let c = list.as_array()?.iter().find(|c| c["Id"] == id)?;
    let project = c["Labels"]["com.docker.compose.project"]
        .as_str()
        .unwrap_or("");
    let name = c["Names"][0].as_str().unwrap_or("");
    let running = c["State"] == "running";
    Some(
        json!({
            "Id": c["Id"],
            "Name": name,
            "Image": c["ImageID"],
            "Config": {
                "Image": c["Image"],
                "Labels": c["Labels"],
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": null,
                "Entrypoint": null,
            },
            "State": {"Status": c["State"], "Running": running},
            "HostConfig": {"RestartPolicy": {"Name": "no"}, "NetworkMode": format!("{project}_default"), "PortBindings": {}},
            "Mounts": [],
            "NetworkSettings": {"Networks": {format!("{project}_default"): {}}},
        })
        .to_string(),
    )
}

/// An image's inspect, made from its list entry: no environment, command or labels of its own.
fn inspect_image(list: &str, id: &str) -> Option<String> {
    let list: Value = serde_json::from_str(list).ok()?;
    let i = list.as_array()?.iter().find(|i| i["Id"] == id)?;
    let mut i = i.clone();
    i["Config"] = json!({"Env": null, "Cmd": null, "Entrypoint": null, "Labels": null});
    Some(i.to_string())
}

/// A container of compose `project`'s `service`, as `GET /containers/json` lists it.
pub fn container(
    project: &str,
    service: &str,
    name: &str,
    image: &str,
    image_id: &str,
    state: &str,
) -> Value {
    let reversed: String = name.chars().rev().collect();
    let mut id = format!("{:0<64}", hex(&reversed));
    id.truncate(64);
    json!({
        "Id": id,
        "Names": [format!("/{name}")],
        "Image": image,
        "ImageID": image_id,
        "Labels": {
            "com.docker.compose.project": project,
            "com.docker.compose.service": service,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.oneoff": "False",
        },
        "State": state,
        "Status": if state == "running" { "Up 2 hours" } else { "Exited (0) 1 hour ago" },
    })
}

/// An image, as `GET /images/json?digests=1` lists it.
pub fn image(id: &str, tags: &[&str], digests: &[&str]) -> Value {
    json!({
        "Id": id,
        "RepoTags": tags,
        "RepoDigests": digests,
        "Size": 1024,
    })
}

/// One module of a [`write_platform`] fixture: `name` runs `image` as compose service `name`
/// on `host` (`None`: an external module).
#[derive(Clone, Copy, Debug)]
pub struct FixtureModule<'a> {
    /// The module's (and its compose service's) name.
    pub name: &'a str,
    /// Its host, or `None` for `orchestrator: external`.
    pub host: Option<&'a str>,
    /// The image its compose service declares.
    pub image: &'a str,
}

/// The fleet most tests use, on hosts `a` and `b`: `web` (nginx:1.27) and `cache` (redis:7.2)
/// on `a`, `files` (redis:7.2) on `b`, and `bucket`, an external module.
pub const TWO_HOST_FLEET: [FixtureModule<'static>; 4] = [
    FixtureModule {
        name: "web",
        host: Some("a"),
        image: "nginx:1.27",
    },
    FixtureModule {
        name: "cache",
        host: Some("a"),
        image: "redis:7.2",
    },
    FixtureModule {
        name: "files",
        host: Some("b"),
        image: "redis:7.2",
    },
    FixtureModule {
        name: "bucket",
        host: None,
        image: "",
    },
];

/// Writes a platform repo at `root`: platform.toml with compose project `project` and one
/// `local` host per `(name, docker_socket)`, one compose file per host, and the modules.
pub fn write_platform(
    root: &Path,
    project: &str,
    hosts: &[(&str, &Path)],
    modules: &[FixtureModule<'_>],
) -> std::io::Result<()> {
    let mut toml = format!("[platform]\nname = \"fixture\"\ncompose_project = \"{project}\"\n");
    for (name, socket) in hosts {
        toml.push_str(&format!(
            "\n[hosts.{name}]\ntransport = \"local\"\ndocker_socket = \"{}\"\n",
            socket.display()
        ));
        let mut compose = format!("name: {project}\n\nservices:\n");
        for m in modules.iter().filter(|m| m.host == Some(name)) {
            compose.push_str(&format!("  {}:\n    image: {}\n", m.name, m.image));
        }
        std::fs::create_dir_all(root.join("compose").join(name))?;
        std::fs::write(
            root.join("compose").join(name).join("compose.yaml"),
            compose,
        )?;
    }
    std::fs::write(root.join("platform.toml"), toml)?;
    for m in modules {
        let dir = root.join("modules").join(m.name);
        std::fs::create_dir_all(&dir)?;
        let runtime = match m.host {
            Some(h) => format!(
                "    host: {h}\n    orchestrator: docker-compose\n    compose_file: compose/{h}/compose.yaml\n    compose_service: {}\n    image_observed: {}\n",
                m.name, m.image
            ),
            None => "    orchestrator: external\n".to_string(),
        };
        std::fs::write(
            dir.join("module.yaml"),
            format!(
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {}\n  description: the {} fixture module\n  owner: ops\n  tier: app\nspec:\n  runtime:\n{runtime}",
                m.name, m.name
            ),
        )?;
    }
    Ok(())
}

/// A stable hex rendering of a name, for fake container IDs.
fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes_are_stripped() {
        assert_eq!(unversioned("/v1.47/containers/json"), "/containers/json");
        assert_eq!(unversioned("/v1.41/images/json"), "/images/json");
        assert_eq!(unversioned("/_ping"), "/_ping");
        assert_eq!(unversioned("/version"), "/version");
        assert_eq!(unversioned("/vx/_ping"), "/vx/_ping");
    }

    #[test]
    fn answers_ping_with_the_api_version_and_keeps_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("d.sock");
        let e = FakeEngine::start(&sock, json!([]), json!([])).unwrap();
        let mut s = UnixStream::connect(&sock).unwrap();
        s.write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\nGET /v1.47/images/json?digests=1 HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n").unwrap();
        let mut all = String::new();
        std::io::Read::read_to_string(&mut s, &mut all).unwrap();
        assert!(
            all.starts_with("HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\n"),
            "{all}"
        );
        assert!(all.contains("\r\n\r\nOK"), "{all}");
        assert!(all.ends_with("\r\n\r\n[]"), "{all}");
        assert_eq!(e.requests().len(), 2);
    }
}
