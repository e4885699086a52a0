//! The registry client against a real Debian `docker-registry` (distribution 2.8) on the
//! loopback: open mode; basic authentication (`htpasswd`) with credentials from a Docker
//! `config.json`; token authentication with a token issuer in the harness (anonymous pull
//! tokens, JWTs signed by a key made with the `openssl` CLI); plus a registry that is down, one
//! that answers 429 and one that never answers. Images are pushed by the harness through the registry API (with curl: the crate
//! itself can only GET and HEAD); the registry's access log then proves that only GET and HEAD
//! reached it from the client. Skipped (passing, with a note) where `docker-registry`, `curl`,
//! `htpasswd` (apache2-utils) or `openssl` is not installed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use platformctl_evidence::Platform;
use platformctl_imageref::ImageRef;
use platformctl_registry::{Lookup, Options, Status, check_blocking};

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Registry {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Registry {
    start_with(dir, "")
}

/// A registry on `dir`'s storage with `auth` (a YAML `auth:` section, or empty: open).
fn start_with(dir: &Path, auth: &str) -> Registry {
    let port = free_port();
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let log = dir.join("registry.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Registry { child, port, log }
}

fn sha(body: &[u8]) -> String {
    use sha2::Digest as _;
    let h: String = sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{h}")
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-f"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn put_blob(base: &str, repo: &str, body: &[u8]) -> String {
    let digest = sha(body);
    let headers = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-X",
        "POST",
        &format!("{base}/v2/{repo}/blobs/uploads/"),
    ]);
    let loc = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .unwrap()
        .trim()
        .to_owned();
    let loc = if loc.starts_with("http") {
        loc
    } else {
        format!("{base}{loc}")
    };
    let sep = if loc.contains('?') { '&' } else { '?' };
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), body).unwrap();
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &format!("@{}", f.path().display()),
        &format!("{loc}{sep}digest={digest}"),
    ]);
    digest
}

/// Pushes an image manifest (no layers) whose config names `arch`, `seed`; its digest.
fn put_image(base: &str, repo: &str, tag: &str, arch: &str, seed: &str) -> String {
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","config":{{"Labels":{{"seed":"{seed}"}}}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    );
    let cd = put_blob(base, repo, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{cd}"}},"layers":[]}}"#,
        config.len()
    );
    put_manifest(
        base,
        repo,
        tag,
        "application/vnd.docker.distribution.manifest.v2+json",
        &manifest,
    )
}

fn put_manifest(base: &str, repo: &str, tag: &str, media: &str, body: &str) -> String {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), body).unwrap();
    curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Content-Type: {media}"),
        "--data-binary",
        &format!("@{}", f.path().display()),
        &format!("{base}/v2/{repo}/manifests/{tag}"),
    ]);
    sha(body.as_bytes())
}

fn put_index(base: &str, repo: &str, tag: &str, entries: &[(&str, &str)], oci: bool) -> String {
    let media = if oci {
        "application/vnd.oci.image.index.v1+json"
    } else {
        "application/vnd.docker.distribution.manifest.list.v2+json"
    };
    let items: Vec<String> = entries
        .iter()
        .map(|(d, arch)| {
            format!(
                r#"{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":1,"digest":"{d}","platform":{{"architecture":"{arch}","os":"linux"}}}}"#
            )
        })
        .collect();
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{media}","manifests":[{}]}}"#,
        items.join(",")
    );
    put_manifest(base, repo, tag, media, &body)
}

fn lookup(r: &str, platform: Option<Platform>, local: &[&str], newer: bool) -> Lookup {
    Lookup {
        reference: ImageRef::parse(r).unwrap(),
        platform,
        local: local.iter().map(|s| s.to_string()).collect(),
        newer,
    }
}

fn opts(cache: &Path) -> Options {
    Options {
        cache_dir: Some(cache.to_owned()),
        refresh: false,
        ttl: Duration::from_secs(600),
        concurrency: 4,
        request_timeout: Duration::from_secs(2),
        registry_timeout: Duration::from_secs(3),
    }
}

#[test]
fn against_a_real_registry() {
    if !have("docker-registry") || !have("curl") {
        eprintln!("note: docker-registry or curl not installed; real-registry test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reg = start(dir.path());
    let base = format!("http://127.0.0.1:{}", reg.port);
    let host = format!("127.0.0.1:{}", reg.port);
    let amd = Platform::new("linux", "amd64", None);
    let arm = Platform::new("linux", "arm64", None);

    // Single-manifest tags on a track, and `latest`.
    let v10 = put_image(&base, "app", "1.0", "amd64", "a");
    put_image(&base, "app", "1.1", "amd64", "b");
    put_image(&base, "app", "2.0", "amd64", "c");
    put_image(&base, "app", "1.0-alpine", "amd64", "d");
    put_image(&base, "app", "latest", "amd64", "c");
    // A multi-platform tag: an OCI index and a Docker manifest list.
    let m_amd = put_image(&base, "multi", "amd-1", "amd64", "m1");
    let m_arm = put_image(&base, "multi", "arm-1", "arm64", "m2");
    let idx1 = put_index(
        &base,
        "multi",
        "3",
        &[(&m_amd, "amd64"), (&m_arm, "arm64")],
        true,
    );
    let list1 = put_index(
        &base,
        "multi",
        "3-list",
        &[(&m_amd, "amd64"), (&m_arm, "arm64")],
        false,
    );

    let log_start = std::fs::read_to_string(&reg.log).unwrap().len();
    let cache = dir.path().join("cache");
    let run = check_blocking(
        &[
            lookup(&format!("{host}/app:1.0"), Some(amd.clone()), &[&v10], true),
            lookup(
                &format!("{host}/multi:3"),
                Some(amd.clone()),
                &[&idx1],
                false,
            ),
            lookup(
                &format!("{host}/multi:3"),
                Some(arm.clone()),
                &[&m_arm],
                false,
            ),
            lookup(
                &format!("{host}/multi:3-list"),
                Some(amd.clone()),
                &[&list1],
                false,
            ),
            lookup(
                &format!("{host}/app:gone"),
                Some(amd.clone()),
                &[&v10],
                false,
            ),
        ],
        &opts(&cache),
    )
    .unwrap();
    let st: Vec<Status> = run.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(
        st,
        [
            Status::Current,
            Status::Current,
            Status::Current,
            Status::Current,
            Status::NotFound
        ],
        "{:#?}",
        run.outcomes
    );
    let newer: Vec<(String, &str)> = run.outcomes[0]
        .newer
        .iter()
        .map(|n| (n.tag.clone(), n.kind.as_str()))
        .collect();
    assert_eq!(
        newer,
        [("2.0".to_owned(), "major"), ("1.1".to_owned(), "minor")]
    );
    assert_eq!(run.registries.len(), 1);
    // One HEAD per distinct repo:tag (app:1.0, multi:3, multi:3-list, app:gone).
    assert_eq!(run.registries[0].heads, 4, "{:?}", run.registries);

    // The tag moves after the host pulled it; the index is re-pushed with another arm64 build.
    put_image(&base, "app", "1.0", "amd64", "a2");
    let m_arm2 = put_image(&base, "multi", "arm-2", "arm64", "m3");
    put_index(
        &base,
        "multi",
        "3",
        &[(&m_amd, "amd64"), (&m_arm2, "arm64")],
        true,
    );
    let run = check_blocking(
        &[
            lookup(
                &format!("{host}/app:1.0"),
                Some(amd.clone()),
                &[&v10],
                false,
            ),
            // The amd64 host pulled the old index: its build did not change.
            lookup(
                &format!("{host}/multi:3"),
                Some(amd.clone()),
                &[&idx1],
                false,
            ),
            lookup(
                &format!("{host}/multi:3"),
                Some(arm.clone()),
                &[&idx1],
                false,
            ),
        ],
        &Options {
            refresh: true,
            ..opts(&cache)
        },
    )
    .unwrap();
    let st: Vec<Status> = run.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(
        st,
        [Status::TagMoved, Status::Current, Status::TagMoved],
        "{:#?}",
        run.outcomes
    );

    // A warm cache makes no request.
    let run = check_blocking(
        &[lookup(
            &format!("{host}/app:1.0"),
            Some(amd.clone()),
            &[&v10],
            true,
        )],
        &opts(&cache),
    )
    .unwrap();
    assert_eq!((run.registries[0].heads, run.registries[0].gets), (0, 0));
    assert_eq!(run.outcomes[0].status, Status::TagMoved);

    // Only GET and HEAD reached the registry from the client.
    let log = std::fs::read_to_string(&reg.log).unwrap();
    let methods: std::collections::BTreeSet<String> = log[log_start..]
        .lines()
        .filter(|l| l.contains("platformctl-registry/"))
        .filter_map(|l| {
            // The access log's request line: `"METHOD /v2/… HTTP/1.1"`.
            let at = l.find(" /v2/")?;
            let q = l[..at].rfind('"')?;
            Some(l[q + 1..at].to_owned())
        })
        .collect();
    assert!(!methods.is_empty(), "the access log shows the client");
    assert!(
        methods.iter().all(|m| m == "GET" || m == "HEAD"),
        "{methods:?}"
    );
}

/// A loopback server that answers every connection with `answer` (or never, when `None`).
fn fake(answer: Option<&'static str>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            match answer {
                Some(a) => {
                    let _ = s.write_all(a.as_bytes());
                }
                None => held.push(s),
            }
        }
    });
    port
}

#[test]
fn down_rate_limited_and_silent_registries_are_unreachable_never_updates() {
    let cache = tempfile::tempdir().unwrap();
    let down = free_port();
    let limited = fake(Some(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nRateLimit-Remaining: 0;w=21600\r\nContent-Length: 0\r\n\r\n",
    ));
    let silent = fake(None);
    let amd = Platform::new("linux", "amd64", None);
    let d = format!("sha256:{}", "a".repeat(64));
    let started = std::time::Instant::now();
    let run = check_blocking(
        &[
            lookup(
                &format!("127.0.0.1:{down}/app:1.0"),
                Some(amd.clone()),
                &[&d],
                true,
            ),
            lookup(
                &format!("127.0.0.1:{limited}/app:1.0"),
                Some(amd.clone()),
                &[&d],
                true,
            ),
            lookup(
                &format!("127.0.0.1:{silent}/app:1.0"),
                Some(amd.clone()),
                &[&d],
                true,
            ),
        ],
        &opts(cache.path()),
    )
    .unwrap();
    for o in &run.outcomes {
        assert_eq!(o.status, Status::Unreachable, "{o:#?}");
        assert!(o.newer.is_empty());
    }
    assert!(run.outcomes[1].message.as_deref().unwrap().contains("429"));
    let limited_report = run
        .registries
        .iter()
        .find(|r| r.registry.ends_with(&format!(":{limited}")))
        .unwrap();
    assert_eq!(
        limited_report.rate_limit_remaining.as_deref(),
        Some("0;w=21600")
    );
    assert!(run.registries.iter().all(|r| !r.answered));
    // The silent one costs its own budget (3 s), not more.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

// --- Authenticated registries -------------------------------------------------------------
//
// The client reads credentials from `$DOCKER_CONFIG/config.json`, an environment variable of
// the process; the lookups therefore run in a child process (this test binary again, running
// only `child_lookups`) with its own `DOCKER_CONFIG`, and the parent reads what it printed.

const CHILD: &str = "PLATFORMCTL_REGISTRY_TEST_CHILD";

/// Runs in a child process only (see above): one lookup per line of `$CHILD` (`ref digest`),
/// no cache; prints each outcome's status and message, then each registry's counts.
#[test]
fn child_lookups() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let amd = Platform::new("linux", "amd64", None);
    let lookups: Vec<Lookup> = spec
        .lines()
        .map(|l| {
            let (r, d) = l.split_once(' ').unwrap();
            lookup(r, Some(amd.clone()), &[d], false)
        })
        .collect();
    let run = check_blocking(
        &lookups,
        &Options {
            cache_dir: None,
            ..opts(Path::new("/nonexistent"))
        },
    )
    .unwrap();
    for o in &run.outcomes {
        println!(
            "outcome {} {}",
            o.status.as_str(),
            o.message.as_deref().unwrap_or("-")
        );
    }
    for r in &run.registries {
        println!("registry heads={} tokens={}", r.heads, r.tokens);
    }
}

/// What a child run printed: the statuses, the `registry …` lines, and everything (stdout and
/// stderr) to search for secrets.
struct ChildRun {
    statuses: Vec<String>,
    registries: Vec<String>,
    all: String,
}

fn child(docker_config: &Path, lookups: &[(String, String)]) -> ChildRun {
    let spec: Vec<String> = lookups.iter().map(|(r, d)| format!("{r} {d}")).collect();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_lookups",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, spec.join("\n"))
        .env("DOCKER_CONFIG", docker_config)
        .env("HOME", docker_config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    ChildRun {
        statuses: stdout
            .lines()
            .filter_map(|l| l.split_once("outcome ").map(|(_, o)| o))
            .map(|l| l.split(' ').next().unwrap().to_owned())
            .collect(),
        registries: stdout
            .lines()
            .filter_map(|l| l.split_once("registry heads=").map(|(_, r)| r))
            .map(str::to_owned)
            .collect(),
        all,
    }
}

fn docker_config(dir: &Path, auths: &[(&str, &str)]) -> std::path::PathBuf {
    use base64::Engine as _;
    std::fs::create_dir_all(dir).unwrap();
    let entries: Vec<String> = auths
        .iter()
        .map(|(host, user_pass)| {
            format!(
                r#""{host}":{{"auth":"{}"}}"#,
                base64::engine::general_purpose::STANDARD.encode(user_pass)
            )
        })
        .collect();
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"auths":{{{}}}}}"#, entries.join(",")),
    )
    .unwrap();
    dir.to_owned()
}

fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn basic_auth_with_docker_config_credentials() {
    if !have("docker-registry") || !have("curl") || !have("htpasswd") {
        eprintln!("note: docker-registry, curl or htpasswd not installed; basic-auth test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Images are pushed while the registry is open, then it restarts on the same storage with
    // basic authentication.
    let v10 = {
        let open = start(dir.path());
        put_image(
            &format!("http://127.0.0.1:{}", open.port),
            "app",
            "1.0",
            "amd64",
            "a",
        )
    };
    let password = "pw-7c1f9e2b-secret";
    let htpasswd = run_ok(Command::new("htpasswd").args(["-Bbn", "operator", password]));
    let file = dir.path().join("htpasswd");
    std::fs::write(&file, htpasswd).unwrap();
    let reg = start_with(
        dir.path(),
        &format!(
            "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
            file.display()
        ),
    );
    let host = format!("127.0.0.1:{}", reg.port);
    let user_pass = format!("operator:{password}");
    let with = docker_config(&dir.path().join("with"), &[(&host, &user_pass)]);
    let without = docker_config(&dir.path().join("without"), &[]);
    let wrong = docker_config(&dir.path().join("wrong"), &[(&host, "operator:nope")]);
    let lookups = [
        (format!("{host}/app:1.0"), v10.clone()),
        (format!("{host}/app:latest"), v10.clone()),
    ];

    let ok = child(&with, &lookups);
    assert_eq!(ok.statuses, ["current", "not-found"], "{}", ok.all);
    let refused = child(&without, &lookups);
    assert_eq!(
        refused.statuses,
        ["unauthorized", "unauthorized"],
        "{}",
        refused.all
    );
    assert!(refused.all.contains("docker login"), "{}", refused.all);
    let bad = child(&wrong, &lookups);
    assert_eq!(
        bad.statuses,
        ["unauthorized", "unauthorized"],
        "{}",
        bad.all
    );
    let encoded = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&user_pass)
    };
    for run in [&ok, &refused, &bad] {
        assert!(!run.all.contains(password), "{}", run.all);
        assert!(!run.all.contains(&encoded), "{}", run.all);
    }
    // The registry saw the user, and only GET and HEAD.
    let log = std::fs::read_to_string(&reg.log).unwrap();
    assert!(log.contains("operator"), "{log}");
    assert!(!log.contains(password));
}

/// A token service on the loopback, like Docker Hub's: it grants anonymous `pull` tokens
/// signed (RS256, `x5c`) with the key whose certificate is the registry's `rootcertbundle`.
struct Issuer {
    port: u16,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokens: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    with_authorization: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

fn b64url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A JWT for `access` (`[(repo, actions)]`), signed with `key` by the `openssl` CLI.
fn jwt(key: &Path, cert_der: &[u8], service: &str, access: &[(&str, &[&str])]) -> String {
    use base64::Engine as _;
    let header = serde_json::json!({
        "alg": "RS256",
        "typ": "JWT",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(cert_der)],
    });
    let now = jiff::Timestamp::now().as_second();
    let access: Vec<serde_json::Value> = access
        .iter()
        .map(|(name, actions)| {
            serde_json::json!({"type": "repository", "name": name, "actions": actions})
        })
        .collect();
    let claims = serde_json::json!({
        "iss": "platformctl-test-issuer",
        "sub": "",
        "aud": service,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", rand_suffix()),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut signer = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    signer
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let sig = signer.wait_with_output().unwrap();
    assert!(sig.status.success());
    format!("{input}.{}", b64url(&sig.stdout))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn issuer(key: std::path::PathBuf, cert_der: Vec<u8>, service: &'static str) -> Issuer {
    use std::sync::atomic::Ordering;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let with_authorization = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (h, a, t) = (hits.clone(), with_authorization.clone(), tokens.clone());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            h.fetch_add(1, Ordering::SeqCst);
            if req
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("authorization:"))
            {
                a.fetch_add(1, Ordering::SeqCst);
            }
            // `GET /token?service=…&scope=repository:app:pull HTTP/1.1`: pull only, anonymous.
            let target = req.split(' ').nth(1).unwrap_or("");
            let scope = target
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("scope="))
                .map(|s| s.replace("%3A", ":").replace("%3a", ":"))
                .unwrap_or_default();
            let repo = scope
                .strip_prefix("repository:")
                .and_then(|r| r.rsplit_once(':'))
                .map(|(r, _)| r.to_owned())
                .unwrap_or_default();
            let token = jwt(&key, &cert_der, service, &[(&repo, &["pull"])]);
            t.lock().unwrap().push(token.clone());
            let body = format!(r#"{{"token":"{token}","expires_in":300}}"#);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    Issuer {
        port,
        hits,
        tokens,
        with_authorization,
    }
}

#[test]
fn token_auth_with_an_anonymous_pull_token_reused_per_scope() {
    use std::sync::atomic::Ordering;
    if !have("docker-registry") || !have("curl") || !have("openssl") {
        eprintln!("note: docker-registry, curl or openssl not installed; token-auth test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (v10, v11, other) = {
        let open = start(dir.path());
        let base = format!("http://127.0.0.1:{}", open.port);
        (
            put_image(&base, "app", "1.0", "amd64", "a"),
            put_image(&base, "app", "1.1", "amd64", "b"),
            put_image(&base, "other", "1", "amd64", "c"),
        )
    };
    let key = dir.path().join("issuer.key");
    let cert = dir.path().join("issuer.pem");
    run_ok(
        Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=platformctl-test-issuer", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null()),
    );
    let der = run_ok(
        Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert),
    );
    let service = "platformctl-test-registry";
    let iss = issuer(key.clone(), der, service);
    let reg = start_with(
        dir.path(),
        &format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {service}\n    issuer: platformctl-test-issuer\n    rootcertbundle: {}\n",
            iss.port,
            cert.display()
        ),
    );
    let host = format!("127.0.0.1:{}", reg.port);
    let empty = docker_config(&dir.path().join("anonymous"), &[]);
    // Four questions in the scope `repository:app:pull`, one in `repository:other:pull`.
    let lookups = [
        (format!("{host}/app:1.0"), v10.clone()),
        (format!("{host}/app:1.1"), v11.clone()),
        (format!("{host}/app:1.1"), v10.clone()),
        (format!("{host}/app:nope"), v10.clone()),
        (format!("{host}/app:1.0"), v10.clone()),
        (format!("{host}/other:1"), other.clone()),
    ];
    let run = child(&empty, &lookups);
    assert_eq!(
        run.statuses,
        [
            "current",
            "current",
            "tag-moved",
            "not-found",
            "current",
            "current"
        ],
        "{}",
        run.all
    );
    // One token per scope, used for every request in it.
    assert_eq!(iss.hits.load(Ordering::SeqCst), 2, "{}", run.all);
    assert!(
        run.registries.len() == 1 && run.registries[0].ends_with(" tokens=2"),
        "{}",
        run.all
    );
    assert_eq!(iss.with_authorization.load(Ordering::SeqCst), 0);
    // No token appears in what the client printed.
    for t in iss.tokens.lock().unwrap().iter() {
        let signature = t.rsplit('.').next().unwrap();
        assert!(!run.all.contains(signature), "{}", run.all);
    }
    // Every token the issuer signed was accepted.
    let log = std::fs::read_to_string(&reg.log).unwrap();
    assert!(!log.contains("invalid token"), "{log}");
}

/// `check_overlapped` resolves the prefetched tags while `produce` runs (the registry's access
/// log shows the `HEAD` before `produce` returns), resolves afterwards a tag it did not
/// prefetch, and judges as `check_blocking` does.
#[test]
fn tags_resolved_while_the_hosts_are_observed() {
    if !have("docker-registry") || !have("curl") {
        eprintln!("note: docker-registry or curl not installed; overlap test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reg = start(dir.path());
    let base = format!("http://127.0.0.1:{}", reg.port);
    let host = format!("127.0.0.1:{}", reg.port);
    let amd = Platform::new("linux", "amd64", None);
    let v1 = put_image(&base, "early", "1", "amd64", "e1");
    let v2 = put_image(&base, "late", "2", "amd64", "l2");
    let lookups = vec![
        lookup(&format!("{host}/early:1"), Some(amd.clone()), &[&v1], false),
        lookup(&format!("{host}/late:2"), Some(amd.clone()), &[&v1], false),
    ];
    let prefetch = [ImageRef::parse(&format!("{host}/early:1")).unwrap()];
    let log = reg.log.clone();
    let mut seen_during = false;
    let run = platformctl_registry::check_overlapped(
        &prefetch,
        &Options {
            cache_dir: None,
            ..opts(dir.path())
        },
        || {
            let until = std::time::Instant::now() + Duration::from_secs(5);
            while std::time::Instant::now() < until {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("HEAD /v2/early/manifests/1") {
                    seen_during = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            lookups.clone()
        },
    )
    .unwrap();
    assert!(
        seen_during,
        "the prefetched tag was not asked while produce ran"
    );
    let st: Vec<Status> = run.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(st, [Status::Current, Status::TagMoved], "{run:#?}");
    assert_eq!(run.outcomes[1].digest.as_deref(), Some(v2.as_str()));
    assert_eq!(run.registries[0].heads, 2, "{:?}", run.registries);
    let plain = check_blocking(
        &lookups,
        &Options {
            cache_dir: None,
            ..opts(dir.path())
        },
    )
    .unwrap();
    let plain_st: Vec<Status> = plain.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(st, plain_st);
}
