//! A real `platformctl serve` child process on 127.0.0.1 and a plain HTTP/1.1 client for it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `serve`; killed (by its pid) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `platformctl serve --listen 127.0.0.1:0 EXTRA…` in `root` (also its working folder)
/// and waits for the address it prints.
pub fn start(root: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let exe = assert_cmd::cargo::cargo_bin("platformctl");
    let mut child = Command::new(exe)
        .current_dir(root)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("PLATFORM_ROOT")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(rest) = line.split("http://").nth(1) {
                let addr = rest.split('/').next().unwrap_or("").to_string();
                let _ = tx.send(addr);
                sent = true;
            } else {
                eprintln!("serve: {line}");
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve prints its address");
    Server {
        child,
        addr: addr.parse().expect("an address"),
    }
}

/// A response: status, headers (lowercase names) and body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// `GET path` with an optional bearer token.
pub fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Copies a folder tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let t = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).expect("copy");
        }
    }
}

/// Whether the tests must run everything (CI) rather than skip what this machine lacks.
pub fn required() -> bool {
    std::env::var_os("PLATFORMCTL_E2E_REQUIRED").is_some()
}

/// The program, or None (skipping, loudly) when it is missing and not required.
pub fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    });
    if found.is_none() {
        assert!(
            !required(),
            "{name} is missing (scripts/e2e/install-deps.sh installs it)"
        );
        eprintln!("SKIPPED: {name} is not installed");
    }
    found
}

/// The CLI's `--json` output run in `root` (the server's working folder too), with extra
/// environment: (stdout text, document).
pub fn cli_json(root: &Path, args: &[&str], env: &[(&str, &Path)]) -> (String, serde_json::Value) {
    let mut cmd = super::bin();
    cmd.current_dir(root).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("platformctl runs");
    super::assert_no_panic(&out);
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (text, doc)
}

/// A document without what differs between two runs by nature: durations, the time a
/// checkpoint was made, and how a registry answer was obtained (asked, or read from the cache
/// an earlier run filled).
pub fn steady(mut v: serde_json::Value) -> serde_json::Value {
    for key in ["hosts", "registries"] {
        if let Some(list) = v.get_mut(key).and_then(serde_json::Value::as_array_mut) {
            for h in list {
                if let Some(o) = h.as_object_mut() {
                    for k in ["elapsedMs", "heads", "gets", "tokens", "cached"] {
                        o.remove(k);
                    }
                }
            }
        }
    }
    if let Some(o) = v.get_mut("plan").and_then(serde_json::Value::as_object_mut) {
        o.remove("elapsedMs");
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("generatedAt");
        o.remove("elapsedMs");
    }
    v
}
