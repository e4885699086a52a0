//! End-to-end drift on real parts (issue 3, item 5): two private Docker engines, a registry
//! (so images have real RepoDigests), an sshd on 127.0.0.1, a closed port and a silent host,
//! all started by `scripts/e2e/realparts.sh` for this test binary alone and stopped at the end.
//! The machine's own Docker daemon is never touched. `drift-check --registry` runs once with the
//! registry up and once after the registry is stopped (the last use of the registry), before
//! the scenarios run.
//!
//! One `up` serves every scenario (libtest-mimic, `harness = false`); `down` runs even when a
//! scenario fails. Without root (dockerd needs it) every scenario is reported as ignored, with
//! the reason on stderr — never as passed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

mod support;

use support::realparts::Parts;

/// A compose-labelled container: `docker run -d` (or `create` when `start` is false).
fn container(
    p: &Parts,
    engine: &str,
    name: &str,
    service: &str,
    image: &str,
    start: bool,
    extra: &[&str],
) {
    let project = "com.docker.compose.project=home-platform".to_string();
    let svc = format!("com.docker.compose.service={service}");
    let mut args = vec![
        if start { "run" } else { "create" },
        "--network",
        "none",
        "--name",
        name,
        "--label",
        &project,
        "--label",
        &svc,
        "--label",
        "com.docker.compose.container-number=1",
    ];
    if start {
        args.insert(1, "-d");
    }
    args.extend_from_slice(extra);
    args.extend_from_slice(&[image, "sleep", "100000"]);
    p.docker_ok(engine, &args);
}

/// A second sshd (on the harness's keys) that refuses stream-local forwarding, so that host
/// `nofwd` is observed through the ssh command fallback. Stopped by its pid when dropped,
/// before the parts (`down` would also find it: its command line names DIR).
struct NoFwdSshd(std::process::Child);

impl Drop for NoFwdSshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct World {
    _nofwd: NoFwdSshd,
    parts: Parts,
    root: PathBuf,
    /// The digest the moved tag now points to (the desired digest of `web-moved`).
    new_web_digest: String,
    marker: PathBuf,
}

/// One module of the generated platform: its compose service has the module's name.
struct Spec {
    name: &'static str,
    host: &'static str,
    image: String,
    stopped: bool,
}

fn build_world(parts: Parts) -> World {
    let p = &parts;
    let api303 = p.get("IMG_API_303").to_string();
    let api306 = p.get("IMG_API_306").to_string();
    let worker = p.get("IMG_WORKER").to_string();
    let web = p.get("IMG_WEB").to_string();
    let local = p.get("IMG_LOCAL").to_string();
    let d306 = p.get("DIGEST_API_306").to_string();
    let dworker_index = p.get("DIGEST_WORKER_INDEX").to_string();

    // Containers on e1.
    container(
        p,
        "e1",
        "home-platform-api-tag-drift-1",
        "api-tag-drift",
        &api303,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-api-digest-ok-1",
        "api-digest-ok",
        &api306,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-api-tag-ok-1",
        "api-tag-ok",
        &api306,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-worker-multi-1",
        "worker-multi",
        &worker,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-web-moved-1",
        "web-moved",
        &web,
        true,
        &[],
    );
    // Desired by tag (not pinned): after the tag moves it is in sync by the tag rule, with
    // IMAGE_TAG_MOVED, through every observation path (issue 9, item 6).
    container(
        p,
        "e1",
        "home-platform-web-tag-moved-1",
        "web-tag-moved",
        &web,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-local-tool-1",
        "local-tool",
        &local,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-stopped-svc-1",
        "stopped-svc",
        &api306,
        false,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-dormant-svc-1",
        "dormant-svc",
        &api306,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-unhealthy-svc-1",
        "unhealthy-svc",
        &api306,
        true,
        &[
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
    );
    container(
        p,
        "e1",
        "someone-renamed-this",
        "renamed-svc",
        &api306,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform_v1-named_1",
        "v1-named",
        &api306,
        true,
        &[],
    );
    // A container with the name the module expects but another service's label (the compose
    // service was renamed and the old container is still there).
    container(
        p,
        "e1",
        "home-platform-relabelled-1",
        "old-name",
        &api306,
        true,
        &[],
    );
    // On e2, and through the local transport on e1.
    container(
        p,
        "e2",
        "home-platform-e2-svc-1",
        "e2-svc",
        &api306,
        true,
        &[],
    );
    container(
        p,
        "e1",
        "home-platform-local-svc-1",
        "local-svc",
        &api306,
        true,
        &[],
    );

    // Config drift (issue 12): one service created exactly as compose says, and one for each
    // field that differs. Values marked SECRET must never appear in any output.
    let data = p.dir.join("cfgdata");
    let other = p.dir.join("cfgother");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    let bind = |dir: &Path| format!("{}:/data:ro", dir.display());
    let faithful = |port: &str, env: &str, mount: &str| -> Vec<String> {
        vec![
            "-p".into(),
            port.into(),
            "-e".into(),
            env.into(),
            "-e".into(),
            "MODE=prod".into(),
            "-v".into(),
            mount.into(),
            "--restart".into(),
            "unless-stopped".into(),
            "--label".into(),
            "team=ops".into(),
        ]
    };
    let ok_bind = bind(&data);
    let cfg_containers: Vec<(&str, Vec<String>)> = vec![
        (
            "cfg-ok",
            faithful("127.0.0.1:18080:80", "LOG_LEVEL=info", &ok_bind),
        ),
        (
            "cfg-port",
            faithful("127.0.0.1:18081:80", "LOG_LEVEL=info", &ok_bind),
        ),
        (
            "cfg-env",
            [
                faithful(
                    "127.0.0.1:18080:80",
                    "LOG_LEVEL=SECRET-changed-value",
                    &ok_bind,
                ),
                vec!["-e".into(), "EXTRA=SECRET-extra-value".into()],
            ]
            .concat(),
        ),
        (
            "cfg-bind",
            faithful("127.0.0.1:18080:80", "LOG_LEVEL=info", &bind(&other)),
        ),
        (
            "cfg-restart",
            faithful("127.0.0.1:18080:80", "LOG_LEVEL=info", &ok_bind)
                .into_iter()
                .filter(|a| a != "--restart" && a != "unless-stopped")
                .collect(),
        ),
        (
            "cfg-net",
            faithful("127.0.0.1:18080:80", "LOG_LEVEL=info", &ok_bind),
        ),
        (
            "cfg-hostonly",
            [
                faithful("127.0.0.1:18080:80", "LOG_LEVEL=info", &ok_bind),
                vec!["-e".into(), "TOKEN=SECRET-host-only".into()],
            ]
            .concat(),
        ),
    ];
    for (svc, extra) in &cfg_containers {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        container(
            p,
            "e1",
            &format!("home-platform-{svc}-1"),
            svc,
            &api306,
            true,
            &extra,
        );
    }

    // The tag moves after web-moved started: a new image under the same tag, pushed, so the
    // tag's digest is new while the container still runs the old image.
    let new_web_digest = {
        let rootfs = tempfile::tempdir().expect("tempdir");
        std::fs::write(rootfs.path().join("marker"), "new web build\n").unwrap();
        let tar = Command::new("tar")
            .arg("-C")
            .arg(rootfs.path())
            .args(["-cf", "-", "."])
            .output()
            .expect("tar");
        let sock = p.get("E1_SOCK");
        let mut import = Command::new("docker")
            .args(["-H", &format!("unix://{sock}"), "import", "-", &web])
            .env("DOCKER_CONFIG", p.get("DOCKER_CONFIG"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("docker import");
        use std::io::Write;
        import.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
        assert!(import.wait().unwrap().success());
        p.docker_ok("e1", &["push", &web]);
        let digests = p.docker_ok(
            "e1",
            &[
                "image",
                "inspect",
                "--format",
                "{{json .RepoDigests}}",
                &web,
            ],
        );
        let list: Vec<String> = serde_json::from_str(&digests).unwrap();
        list.iter()
            .find_map(|d| d.split_once('@').map(|(_, h)| h.to_string()))
            .expect("the pushed image has a repo digest")
    };

    // Wait for the health check to say unhealthy (bounded).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = p.docker_ok(
            "e1",
            &[
                "inspect",
                "--format",
                "{{.State.Health.Status}}",
                "home-platform-unhealthy-svc-1",
            ],
        );
        if h == "unhealthy" || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }

    // The platform repo the tests check.
    let root = p.dir.join("platform");
    std::fs::create_dir_all(root.join("ops")).unwrap();
    let (nofwd, nofwd_alias) = start_nofwd_sshd(p);
    let ssh_config = std::fs::read_to_string(p.get("SSH_CONFIG")).unwrap() + &nofwd_alias;
    std::fs::write(root.join("ops/ssh_config"), ssh_config).unwrap();
    let e1 = p.get("E1_SOCK");
    let e2 = p.get("E2_SOCK");
    std::fs::write(
        root.join("platform.toml"),
        format!(
            "[platform]\nname = \"e2e\"\ncompose_project = \"home-platform\"\n\n\
             [ssh]\nconfig = \"ops/ssh_config\"\n\n\
             [hosts.e1]\ntransport = \"ssh\"\nssh = \"e2e-host\"\ndocker_socket = \"{e1}\"\nconnect_timeout_s = 5\n\n\
             [hosts.e2]\ntransport = \"ssh\"\nssh = \"e2e-host\"\ndocker_socket = \"{e2}\"\nconnect_timeout_s = 5\n\n\
             [hosts.local1]\ntransport = \"local\"\ndocker_socket = \"{e1}\"\n\n\
             [hosts.nofwd]\ntransport = \"ssh\"\nssh = \"e2e-nofwd\"\ndocker_socket = \"{e1}\"\nconnect_timeout_s = 5\n\n\
             [hosts.closed]\ntransport = \"ssh\"\nssh = \"e2e-closed\"\nconnect_timeout_s = 2\n\n\
             [hosts.silent]\ntransport = \"ssh\"\nssh = \"e2e-silent\"\nconnect_timeout_s = 2\n"
        ),
    )
    .unwrap();
    let pinned = |img: &str, digest: &str| format!("{img}@{digest}");
    let specs = vec![
        Spec {
            name: "api-tag-drift",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "api-digest-ok",
            host: "e1",
            image: pinned(&api306, &d306),
            stopped: false,
        },
        Spec {
            name: "api-tag-ok",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "worker-multi",
            host: "e1",
            image: pinned(&worker, &dworker_index),
            stopped: false,
        },
        Spec {
            name: "web-moved",
            host: "e1",
            image: pinned(&web, &new_web_digest),
            stopped: false,
        },
        Spec {
            name: "local-tool",
            host: "e1",
            image: local.clone(),
            stopped: false,
        },
        Spec {
            name: "missing-svc",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "stopped-svc",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "dormant-svc",
            host: "e1",
            image: api306.clone(),
            stopped: true,
        },
        Spec {
            name: "unhealthy-svc",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "renamed-svc",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "v1-named",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "relabelled",
            host: "e1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "e2-svc",
            host: "e2",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "local-svc",
            host: "local1",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "closed-svc",
            host: "closed",
            image: api306.clone(),
            stopped: false,
        },
        Spec {
            name: "silent-svc",
            host: "silent",
            image: api306.clone(),
            stopped: false,
        },
    ];
    let mut compose = String::from("name: home-platform\nservices:\n");
    for s in &specs {
        let svc = s.name;
        compose.push_str(&format!("  {svc}:\n    image: {}\n{AS_RUN}", s.image));
        let dir = root.join("modules").join(s.name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("module.yaml"),
            format!(
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: e2e module\n  tier: app\n\
                 spec:\n  runtime:\n    host: {host}\n    orchestrator: docker-compose\n    compose_file: compose/e2e/compose.yaml\n    \
                 compose_service: {svc}\n    desired_state: {state}\n    image_observed: {image}\n    image_digest_pinned_in_compose: {pin}\n  \
                 artifact:\n    type: oci-image\n    reference: {image}\n",
                name = s.name,
                host = s.host,
                state = if s.stopped { "stopped" } else { "running" },
                image = s.image,
                pin = s.image.contains('@'),
            ),
        )
        .unwrap();
    }
    // The config services: what compose declares for each (cfg-ok is what runs).
    for (svc, _) in &cfg_containers {
        let port = if *svc == "cfg-port" { "18082" } else { "18080" };
        let restart = if *svc == "cfg-restart" {
            "always"
        } else {
            "unless-stopped"
        };
        let net = if *svc == "cfg-net" {
            "    networks: [backend]\n".to_string()
        } else {
            "    network_mode: none\n".to_string()
        };
        let token = if *svc == "cfg-hostonly" {
            "      TOKEN: ${HOST_ONLY_TOKEN}\n"
        } else {
            ""
        };
        compose.push_str(&format!(
            "  {svc}:\n    image: {api306}\n    command: [\"sleep\", \"100000\"]\n{net}    ports:\n      - \"127.0.0.1:{port}:80\"\n    environment:\n      LOG_LEVEL: info\n      MODE: prod\n{token}    volumes:\n      - {}:/data:ro\n    restart: {restart}\n    labels:\n      team: ops\n",
            data.display()
        ));
        for (suffix, host) in [("", "e1"), ("-cmd", "nofwd")] {
            let name = format!("{svc}{suffix}");
            let dir = root.join("modules").join(&name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("module.yaml"),
                format!(
                    "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: e2e config\n  tier: app\n\
                     spec:\n  runtime:\n    host: {host}\n    orchestrator: docker-compose\n    compose_file: compose/e2e/compose.yaml\n    \
                     compose_service: {svc}\n    image_observed: {api306}\n    image_digest_pinned_in_compose: false\n  \
                     artifact:\n    type: oci-image\n    reference: {api306}\n"
                ),
            )
            .unwrap();
        }
    }
    // One compose service, desired by tag, checked through each path: `local1` (the socket),
    // `e1` (ssh, socket forwarded) and `nofwd` (ssh, forwarding refused: docker commands).
    compose.push_str(&format!("  web-tag-moved:\n    image: {web}\n{AS_RUN}"));
    for (name, host) in TAG_MOVED_PATHS {
        let dir = root.join("modules").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("module.yaml"),
            format!(
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: e2e module\n  tier: app\n\
                 spec:\n  runtime:\n    host: {host}\n    orchestrator: docker-compose\n    compose_file: compose/e2e/compose.yaml\n    \
                 compose_service: web-tag-moved\n    image_observed: {web}\n    image_digest_pinned_in_compose: false\n  \
                 artifact:\n    type: oci-image\n    reference: {web}\n"
            ),
        )
        .unwrap();
    }
    // A service whose name carries shell metacharacters, and a module that points at it.
    let marker = p.dir.join("pwned");
    compose.push_str(&format!(
        "  \"evil;touch {}\":\n    image: {api306}\n",
        marker.display()
    ));
    std::fs::create_dir_all(root.join("modules/evil-svc")).unwrap();
    std::fs::write(
        root.join("modules/evil-svc/module.yaml"),
        format!(
            "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: evil-svc\n  description: hostile\n  tier: app\n\
             spec:\n  runtime:\n    host: e1\n    orchestrator: docker-compose\n    compose_file: compose/e2e/compose.yaml\n    \
             compose_service: \"evil;touch {}\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("modules/external-thing")).unwrap();
    std::fs::write(
        root.join("modules/external-thing/module.yaml"),
        "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: external-thing\n  description: a router\n  tier: edge\n\
         spec:\n  runtime:\n    orchestrator: external\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("compose/e2e")).unwrap();
    // cfg-net's network, as the file declares it (compose would create it).
    compose.push_str("networks:\n  backend: {}\n");
    std::fs::write(root.join("compose/e2e/compose.yaml"), compose).unwrap();
    World {
        _nofwd: nofwd,
        parts,
        root,
        new_web_digest,
        marker,
    }
}

/// How the harness runs every container (`container()`: `--network none`, `sleep 100000`),
/// as compose says it: without it each service would be config drift (SPEC §9).
const AS_RUN: &str = "    command: [\"sleep\", \"100000\"]\n    network_mode: none\n";

/// The modules of the tag-moved scenario and their hosts: one per observation path.
const TAG_MOVED_PATHS: [(&str, &str); 3] = [
    ("web-tag-moved-local", "local1"),
    ("web-tag-moved-forward", "e1"),
    ("web-tag-moved-command", "nofwd"),
];

/// Starts a second sshd on the harness's host key and authorized keys that refuses
/// stream-local forwarding (as crates/observe/tests/realparts.rs does), and returns it with
/// the ssh_config block of its alias `e2e-nofwd`.
fn start_nofwd_sshd(p: &Parts) -> (NoFwdSshd, String) {
    use std::net::{TcpListener, TcpStream};
    let dir = p.dir.join("nofwd");
    std::fs::create_dir_all(&dir).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = std::fs::read_to_string(p.dir.join("ssh/sshd_config")).unwrap();
    let mut cfg = String::new();
    for line in base.lines() {
        let key = line.split_whitespace().next().unwrap_or("");
        cfg.push_str(&match key {
            "Port" => format!("Port {port}"),
            "PidFile" => format!("PidFile {}", dir.join("sshd.pid").display()),
            "AllowStreamLocalForwarding" => "AllowStreamLocalForwarding no".into(),
            _ => line.to_owned(),
        });
        cfg.push('\n');
    }
    assert!(
        cfg.contains("AllowStreamLocalForwarding no"),
        "the harness's sshd_config has no AllowStreamLocalForwarding line"
    );
    let cfg_path = dir.join("sshd_config");
    std::fs::write(&cfg_path, cfg).unwrap();
    let sshd = ["/usr/sbin/sshd", "/sbin/sshd"]
        .into_iter()
        .find(|x| Path::new(x).exists())
        .expect("sshd");
    let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
    let child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&cfg_path)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("the second sshd starts");
    let guard = NoFwdSshd(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the second sshd did not listen within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let host_key = std::fs::read_to_string(p.dir.join("ssh/host_ed25519.pub")).unwrap();
    let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    let known = dir.join("known_hosts");
    std::fs::write(
        &known,
        format!("[127.0.0.1]:{port} {}\n", host_key.join(" ")),
    )
    .unwrap();
    let alias = format!(
        "Host e2e-nofwd\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {}\n  \
         IdentitiesOnly yes\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  \
         StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n\n",
        p.get("SSH_KEY"),
        known.display()
    );
    (guard, alias)
}

fn platformctl(world: &World, args: &[&str]) -> (i32, Value, String) {
    platformctl_env(world, args, &[])
}

fn platformctl_env(world: &World, args: &[&str], env: &[(&str, &Path)]) -> (i32, Value, String) {
    platformctl_at(&world.root, args, env)
}

/// platformctl on the platform repo at `root`: (exit code, the JSON on stdout, stderr).
fn platformctl_at(root: &Path, args: &[&str], env: &[(&str, &Path)]) -> (i32, Value, String) {
    let exe = env!("CARGO_BIN_EXE_platformctl");
    let out = Command::new(exe)
        .arg("--root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("PLATFORM_ROOT")
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .expect("platformctl runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn module<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["modules"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["module"] == name))
        .unwrap_or_else(|| panic!("no module {name} in {doc:#}"))
}

fn codes(m: &Value, key: &str) -> Vec<String> {
    m[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn check(cond: bool, what: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// Asserts a module's status and exact change/warning codes in a drift-check document.
fn expect(
    doc: &Value,
    name: &str,
    status: &str,
    changes: &[&str],
    warnings: &[&str],
) -> Result<(), Failed> {
    let m = module(doc, name);
    check(
        m["status"] == status,
        format!("{name}: status {} != {status}: {m:#}", m["status"]),
    )?;
    let got = codes(m, "changes");
    check(
        got == changes,
        format!("{name}: changes {got:?} != {changes:?}: {m:#}"),
    )?;
    let got = codes(m, "warnings");
    for w in warnings {
        check(
            got.iter().any(|g| g == w),
            format!("{name}: warning {w} missing in {got:?}"),
        )?;
    }
    Ok(())
}

const OK_SET: &[&str] = &[
    "api-digest-ok",
    "api-tag-ok",
    "worker-multi",
    "local-tool",
    "v1-named",
    "e2-svc",
    "local-svc",
    "external-thing",
    "unhealthy-svc",
];

fn main() {
    let args = Arguments::from_args();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let names = [
        "seed_tag_mismatch_3_0_6_vs_3_0_3",
        "repo_digest_in_sync_although_image_id_differs",
        "tag_in_sync_digest_not_verified",
        "matching_repo_digest_not_first",
        "tag_moved_after_start_is_digest_mismatch",
        "local_build_is_a_warning_not_drift",
        "missing_stopped_running_unhealthy_renamed_v1",
        "external_modules_skipped",
        "exit_0_all_in_sync",
        "exit_2_drift_every_host_answered",
        "exit_5_no_host_answered",
        "exit_8_partial",
        "silent_host_costs_its_timeout_only",
        "shell_metacharacters_refused_nothing_executed",
        "no_engine_events_during_drift_checks",
        "plan_exit_codes_and_out_file",
        "human_table_grouped_by_host",
        "tag_moved_one_verdict_on_every_path",
        "registry_verifies_a_tag_only_module",
        "registry_tag_moved_upstream_changes_no_status",
        "registry_down_changes_no_status_and_no_exit_code",
        "derive_from_live_pins_what_runs_and_refuses_the_rest",
        "config_as_declared_is_in_sync_on_both_paths",
        "config_each_field_drifts_with_its_code_on_both_paths",
        "config_host_only_value_is_not_verified_not_drift",
        "config_environment_values_never_shown",
    ];
    if !is_root {
        if std::env::var_os("PLATFORMCTL_E2E_REQUIRED").is_some() {
            eprintln!("e2e_drift: not root, and PLATFORMCTL_E2E_REQUIRED is set");
            std::process::exit(1);
        }
        eprintln!("e2e_drift: not root: dockerd cannot start here; every scenario is ignored");
        let trials = names
            .iter()
            .map(|n| Trial::test(*n, || Ok(())).with_ignored_flag(true))
            .collect();
        libtest_mimic::run(&args, trials).exit();
    }
    let parts = match Parts::up(&workspace) {
        Ok(p) => p,
        Err(why) => {
            let trials = vec![Trial::test("realparts_up", move || Err(why.clone().into()))];
            libtest_mimic::run(&args, trials).exit();
        }
    };
    let world = Arc::new(build_world(parts));
    let started = world
        .parts
        .docker_ok("e1", &["version", "--format", "{{.Server.Version}}"]);
    let _ = started;
    // The full run, once, shared by the scenarios that only read it.
    let t0 = unix_now();
    let (code_all, all, _) = platformctl(&world, &["drift-check", "--json"]);
    let all = Arc::new(all);
    // The same run asking the registry (its own empty cache), then with the registry stopped
    // (another empty cache, so nothing is answered from disk). Nothing after this needs the
    // registry: the images are on the engines.
    let (code_reg, reg, reg_err) = platformctl_env(
        &world,
        &["drift-check", "--json", "--registry"],
        &[(
            "PLATFORMCTL_CACHE_DIR",
            &world.parts.dir.join("registry-cache-up"),
        )],
    );
    stop_registry(&world.parts);
    let t_down = Instant::now();
    let (code_down, down, down_err) = platformctl_env(
        &world,
        &["drift-check", "--json", "--registry"],
        &[(
            "PLATFORMCTL_CACHE_DIR",
            &world.parts.dir.join("registry-cache-down"),
        )],
    );
    let down_wall = t_down.elapsed();
    let reg = Arc::new((code_reg, reg, reg_err));
    let down = Arc::new((code_down, down, down_err, down_wall));

    let mut trials: Vec<Trial> = Vec::new();
    macro_rules! trial {
        ($name:expr, |$w:ident, $d:ident| $body:block) => {{
            let $w = world.clone();
            let $d = all.clone();
            trials.push(Trial::test($name, move || {
                let _ = (&$w, &$d);
                $body
            }));
        }};
    }
    trial!(names[0], |_w, d| {
        expect(&d, "api-tag-drift", "drift", &["IMAGE_TAG_MISMATCH"], &[])
    });
    trial!(names[1], |_w, d| {
        expect(&d, "api-digest-ok", "in-sync", &[], &[])?;
        let ev = &module(&d, "api-digest-ok")["evidence"];
        let id = ev["imageId"].as_str().unwrap_or("");
        let digest = ev["repoDigest"].as_str().unwrap_or("");
        check(
            !digest.is_empty() && !digest.ends_with(id.trim_start_matches("sha256:")),
            format!("{ev:#}"),
        )
    });
    trial!(names[2], |_w, d| {
        expect(
            &d,
            "api-tag-ok",
            "in-sync",
            &[],
            &["IMAGE_DIGEST_NOT_VERIFIED"],
        )
    });
    trial!(names[3], |_w, d| {
        expect(&d, "worker-multi", "in-sync", &[], &[])
    });
    trial!(names[4], |w, d| {
        check(!w.new_web_digest.is_empty(), "new digest")?;
        expect(&d, "web-moved", "drift", &["IMAGE_DIGEST_MISMATCH"], &[])
    });
    trial!(names[5], |_w, d| {
        expect(&d, "local-tool", "in-sync", &[], &["IMAGE_LOCAL_BUILD"])
    });
    trial!(names[6], |_w, d| {
        expect(&d, "missing-svc", "drift", &["CONTAINER_MISSING"], &[])?;
        expect(&d, "stopped-svc", "drift", &["CONTAINER_NOT_RUNNING"], &[])?;
        expect(
            &d,
            "dormant-svc",
            "drift",
            &["CONTAINER_RUNNING_UNEXPECTEDLY"],
            &[],
        )?;
        expect(
            &d,
            "unhealthy-svc",
            "in-sync",
            &[],
            &["CONTAINER_UNHEALTHY"],
        )?;
        expect(
            &d,
            "renamed-svc",
            "drift",
            &["CONTAINER_NAME_MISMATCH"],
            &[],
        )?;
        expect(&d, "v1-named", "in-sync", &[], &[])?;
        expect(
            &d,
            "relabelled",
            "drift",
            &["COMPOSE_SERVICE_MISMATCH"],
            &[],
        )?;
        expect(&d, "e2-svc", "in-sync", &[], &[])?;
        expect(&d, "local-svc", "in-sync", &[], &[])
    });
    trial!(names[7], |_w, d| {
        expect(&d, "external-thing", "skipped", &[], &[])
    });
    trial!(names[8], |w, _d| {
        let mut args = vec!["drift-check", "--json"];
        args.extend_from_slice(OK_SET);
        let (code, doc, _) = platformctl(&w, &args);
        check(
            code == 0 && doc["exitCode"] == 0,
            format!("exit {code}: {doc:#}"),
        )
    });
    trial!(names[9], |w, _d| {
        let (code, doc, _) = platformctl(
            &w,
            &[
                "drift-check",
                "--json",
                "api-tag-ok",
                "api-tag-drift",
                "e2-svc",
            ],
        );
        check(
            code == 2 && doc["exitCode"] == 2,
            format!("exit {code}: {doc:#}"),
        )?;
        check(
            doc["hosts"]
                .as_array()
                .is_some_and(|h| h.iter().all(|h| h["reachable"] == true)),
            "all reachable",
        )
    });
    trial!(names[10], |w, _d| {
        let (code, doc, _) =
            platformctl(&w, &["drift-check", "--json", "closed-svc", "silent-svc"]);
        check(
            code == 5 && doc["exitCode"] == 5,
            format!("exit {code}: {doc:#}"),
        )?;
        expect(&doc, "closed-svc", "unreachable", &[], &[])
    });
    let code_all_copy = code_all;
    trial!(names[11], |_w, d| {
        check(
            code_all_copy == 8 && d["exitCode"] == 8,
            format!("exit {code_all_copy}"),
        )?;
        expect(&d, "closed-svc", "unreachable", &[], &[])?;
        expect(&d, "silent-svc", "unreachable", &[], &[])?;
        // The JSON still lists the drift found on the hosts that answered.
        expect(&d, "api-tag-drift", "drift", &["IMAGE_TAG_MISMATCH"], &[])
    });
    trial!(names[12], |w, _d| {
        let t = Instant::now();
        let (code, doc, _) = platformctl(
            &w,
            &[
                "drift-check",
                "--json",
                "silent-svc",
                "api-tag-ok",
                "e2-svc",
                "local-svc",
            ],
        );
        let wall = t.elapsed();
        check(code == 8, format!("exit {code}"))?;
        let hosts = doc["hosts"].as_array().cloned().unwrap_or_default();
        let ms = |h: &str| {
            hosts
                .iter()
                .find(|x| x["name"] == h)
                .and_then(|x| x["elapsedMs"].as_u64())
                .unwrap_or(0)
        };
        check(
            ms("silent") >= 1500 && ms("silent") < 15_000,
            format!("silent took {} ms", ms("silent")),
        )?;
        for h in ["e1", "e2", "local1"] {
            check(
                ms(h) < ms("silent"),
                format!("{h} waited for the silent host: {hosts:#?}"),
            )?;
        }
        expect(&doc, "api-tag-ok", "in-sync", &[], &[])?;
        expect(&doc, "e2-svc", "in-sync", &[], &[])?;
        check(
            wall < Duration::from_millis(ms("silent") + 5000),
            format!("wall {wall:?}: hosts did not run concurrently"),
        )
    });
    trial!(names[13], |w, d| {
        let m = module(&d, "evil-svc");
        check(m["status"] == "error", format!("{m:#}"))?;
        check(!w.marker.exists(), "a shell ran the service name")?;
        let (code, _, _) = platformctl(&w, &["validate", "--json"]);
        check(code == 1, "validate reports the name")
    });
    trial!(names[14], |w, _d| {
        let t1 = unix_now();
        for engine in ["e1", "e2"] {
            let events = w.parts.docker_ok(
                engine,
                &[
                    "events",
                    "--since",
                    &t0,
                    "--until",
                    &t1,
                    "--format",
                    "{{json .}}",
                ],
            );
            for line in events.lines() {
                let e: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                let ty = e["Type"].as_str().unwrap_or("");
                let action = e["Action"].as_str().unwrap_or("");
                // The unhealthy container's own health check runs on the engine's schedule.
                let health = action.starts_with("exec_") || action.starts_with("health_status");
                if matches!(ty, "container" | "image" | "network" | "volume") && !health {
                    return Err(format!("{engine}: an event during drift-check: {line}").into());
                }
            }
        }
        Ok(())
    });
    trial!(names[15], |w, _d| {
        let out = w.parts.dir.join("plans");
        let dir_arg = format!("{}/", out.display());
        let (c, doc, _) = platformctl(&w, &["plan", "api-tag-drift", "--json", "--out", &dir_arg]);
        check(
            c == 1 && doc["exitCode"] == 1 && doc["schema"] == "platformctl/plan/v2",
            format!("{doc:#}"),
        )?;
        check(doc["status"] == "drift", "drift")?;
        let mut written: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("api-tag-drift.plan.json"))
                .map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        // The saved plan is the document plus what apply needs (issue 13).
        let binding = written
            .as_object_mut()
            .and_then(|o| o.remove("binding"))
            .unwrap_or(Value::Null);
        check(
            binding["facts"]["module"] == "api-tag-drift" && binding["fingerprint"].is_string(),
            format!("{binding:#}"),
        )?;
        check(written == doc, "the --out file is the document")?;
        let (c, _, _) = platformctl(&w, &["plan", "api-tag-ok", "--json"]);
        check(c == 0, format!("in sync: {c}"))?;
        let (c, doc, _) = platformctl(&w, &["plan", "closed-svc", "--json"]);
        check(
            c == 2 && doc["status"] == "unreachable",
            format!("unreachable: {c}"),
        )?;
        let (c, _, _) = platformctl(&w, &["plan", "evil-svc", "--json"]);
        check(c == 2, format!("invalid manifest: {c}"))
    });
    trial!(names[16], |w, _d| {
        let exe = env!("CARGO_BIN_EXE_platformctl");
        let out = Command::new(exe)
            .arg("--root")
            .arg(&w.root)
            .args(["drift-check", "api-tag-drift", "e2-svc", "external-thing"])
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        check(
            out.status.code() == Some(2),
            format!("exit {:?}", out.status.code()),
        )?;
        check(
            text.contains("e1  ") && text.contains("e2  "),
            format!("grouped by host:\n{text}"),
        )?;
        check(text.contains("IMAGE_TAG_MISMATCH"), text.to_string())?;
        check(
            text.contains("1 in sync, 1 drift, 0 unreachable, 1 skipped, 0 error (exit 2)"),
            text.to_string(),
        )
    });

    trial!(names[17], |w, _d| {
        let mut args = vec!["drift-check", "--json"];
        args.extend(TAG_MOVED_PATHS.iter().map(|(m, _)| *m));
        let (code, doc, stderr) = platformctl(&w, &args);
        check(code == 0, format!("exit {code}: {stderr}\n{doc:#}"))?;
        // Each host through its own path.
        for (host, via) in [
            ("local1", "local"),
            ("e1", "ssh-forward"),
            ("nofwd", "ssh-command"),
        ] {
            let h = doc["hosts"]
                .as_array()
                .and_then(|a| a.iter().find(|h| h["name"] == host))
                .ok_or_else(|| format!("no host {host} in {doc:#}"))?;
            check(h["via"] == via, format!("{host} via {}: {h:#}", h["via"]))?;
        }
        // One verdict: in sync by the tag rule, IMAGE_TAG_MOVED, the same evidence.
        let mut verdicts = Vec::new();
        for (name, _) in TAG_MOVED_PATHS {
            expect(&doc, name, "in-sync", &[], &["IMAGE_TAG_MOVED"])?;
            let m = module(&doc, name);
            verdicts.push((
                m["status"].clone(),
                codes(m, "changes"),
                codes(m, "warnings"),
                m["evidence"].clone(),
            ));
        }
        for (i, v) in verdicts.iter().enumerate().skip(1) {
            check(
                *v == verdicts[0],
                format!(
                    "{} and {} disagree:\n{:#?}\n{:#?}",
                    TAG_MOVED_PATHS[0].0, TAG_MOVED_PATHS[i].0, verdicts[0], v
                ),
            )?;
        }
        // The image it runs is not the one the tag names now.
        let ev = &module(&doc, TAG_MOVED_PATHS[0].0)["evidence"];
        let now = w.parts.docker_ok(
            "e1",
            &[
                "image",
                "inspect",
                "--format",
                "{{.Id}}",
                w.parts.get("IMG_WEB"),
            ],
        );
        check(
            ev["imageId"].as_str() != Some(now.as_str()),
            format!("the container runs the moved tag's image: {ev:#}"),
        )
    });

    let r = reg.clone();
    trial!(names[18], |_w, d| {
        let (code, doc, stderr) = &*r;
        check(*code == code_all_copy, format!("exit {code}: {stderr}"))?;
        check(
            doc["registries"][0]["answered"] == true,
            format!("{:#}", doc["registries"]),
        )?;
        // Without --registry: in sync, the digest not verified; with it: verified by the
        // registry, the warning gone, the status the same.
        expect(
            &d,
            "api-tag-ok",
            "in-sync",
            &[],
            &["IMAGE_DIGEST_NOT_VERIFIED"],
        )?;
        check(
            module(&d, "api-tag-ok").get("registry").is_none() && d.get("registries").is_none(),
            "registry keys appear only with --registry",
        )?;
        expect(doc, "api-tag-ok", "in-sync", &[], &[])?;
        let m = module(doc, "api-tag-ok");
        check(
            !codes(m, "warnings").contains(&"IMAGE_DIGEST_NOT_VERIFIED".to_string()),
            format!("{m:#}"),
        )?;
        check(m["registry"]["status"] == "current", format!("{m:#}"))?;
        check(
            m["evidence"]["digestVerifiedBy"] == "registry",
            format!("{m:#}"),
        )
    });
    let r = reg.clone();
    trial!(names[19], |_w, d| {
        let (_, doc, _) = &*r;
        // The tag was pushed again after the hosts pulled it: an update, not drift.
        for (name, _) in TAG_MOVED_PATHS {
            expect(
                doc,
                name,
                "in-sync",
                &[],
                &["IMAGE_TAG_MOVED", "UPSTREAM_TAG_MOVED"],
            )?;
            let m = module(doc, name);
            check(m["registry"]["status"] == "tag-moved", format!("{m:#}"))?;
            check(
                module(&d, name)["status"] == m["status"]
                    && codes(module(&d, name), "changes") == codes(m, "changes"),
                format!("{name}: the registry changed the verdict"),
            )?;
        }
        // A digest-pinned module whose tag moved keeps its drift verdict.
        expect(doc, "web-moved", "drift", &["IMAGE_DIGEST_MISMATCH"], &[])
    });
    let (r, dn) = (reg.clone(), down.clone());
    trial!(names[20], |_w, d| {
        let (code_up, up, _) = &*r;
        let (code, doc, stderr, wall) = &*dn;
        check(
            *code == code_all_copy && *code_up == code_all_copy,
            format!("exit without --registry {code_all_copy}, up {code_up}, down {code}: {stderr}"),
        )?;
        check(doc["exitCode"] == d["exitCode"], "exitCode")?;
        check(
            doc["registries"][0]["answered"] == false,
            format!("{:#}", doc["registries"]),
        )?;
        check(*wall < Duration::from_secs(25), format!("took {wall:?}"))?;
        // Every module keeps its status and its changes, in both directions: a registry
        // neither adds drift nor takes it away, whether it answers or not.
        let plain = d["modules"].as_array().cloned().unwrap_or_default();
        check(!plain.is_empty(), "modules")?;
        for m in &plain {
            let name = m["module"].as_str().unwrap_or("");
            for other in [up, doc] {
                let o = module(other, name);
                check(
                    o["status"] == m["status"] && codes(o, "changes") == codes(m, "changes"),
                    format!("{name}: {m:#} vs {o:#}"),
                )?;
            }
        }
        check(
            d["summary"] == doc["summary"] && d["summary"] == up["summary"],
            "summary",
        )?;
        let m = module(doc, "api-tag-ok");
        check(
            m["registry"]["status"] == "unreachable"
                && codes(m, "warnings").contains(&"REGISTRY_UNREACHABLE".to_string())
                && codes(m, "warnings").contains(&"IMAGE_DIGEST_NOT_VERIFIED".to_string())
                && m["evidence"].get("digestVerifiedBy").is_none(),
            format!("{m:#}"),
        )
    });

    trial!(names[21], |w, _d| { derive_from_live(&w) });
    trial!(names[22], |_w, d| {
        for m in ["cfg-ok", "cfg-ok-cmd"] {
            expect(&d, m, "in-sync", &[], &[])?;
            let warnings = codes(module(&d, m), "warnings");
            check(
                !warnings.contains(&"CONFIG_NOT_VERIFIED".to_string()),
                format!("{m}: {warnings:?}"),
            )?;
        }
        Ok(())
    });
    trial!(names[23], |_w, d| {
        for suffix in ["", "-cmd"] {
            for (svc, field, code) in [
                ("cfg-port", "ports", "CONFIG_PORTS"),
                ("cfg-bind", "mounts./data", "CONFIG_MOUNTS"),
                ("cfg-restart", "restart", "CONFIG_RESTART"),
                ("cfg-net", "networks", "CONFIG_NETWORKS"),
            ] {
                let name = format!("{svc}{suffix}");
                expect(&d, &name, "drift", &[code], &[])?;
                let m = module(&d, &name);
                check(m["changes"][0]["field"] == field, format!("{m:#}"))?;
            }
            let name = format!("cfg-env{suffix}");
            expect(&d, &name, "drift", &["CONFIG_ENV", "CONFIG_ENV"], &[])?;
            let fields: Vec<String> = module(&d, &name)["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["field"].as_str().unwrap_or("").to_string())
                .collect();
            check(
                fields == ["env.LOG_LEVEL", "env.EXTRA"],
                format!("{name}: {fields:?}"),
            )?;
        }
        Ok(())
    });
    trial!(names[24], |_w, d| {
        for m in ["cfg-hostonly", "cfg-hostonly-cmd"] {
            expect(&d, m, "in-sync", &[], &["CONFIG_NOT_VERIFIED"])?;
            let text = module(&d, m)["warnings"].to_string();
            check(text.contains("env.TOKEN"), text)?;
        }
        Ok(())
    });
    trial!(names[25], |w, d| {
        // Not in the JSON, nor the human table, nor a plan, nor stderr.
        let json = d.to_string();
        let (_, _, table_err) = platformctl(
            &w,
            &["drift-check", "cfg-env", "cfg-env-cmd", "cfg-hostonly"],
        );
        let (_, plan, plan_err) = platformctl(&w, &["plan", "cfg-env", "--json"]);
        let exe = env!("CARGO_BIN_EXE_platformctl");
        let table = Command::new(exe)
            .arg("--root")
            .arg(&w.root)
            .args(["drift-check", "cfg-env", "cfg-env-cmd", "cfg-hostonly"])
            .env("NO_COLOR", "1")
            .output()
            .expect("platformctl");
        let all = format!(
            "{json}{table_err}{plan}{plan_err}{}{}",
            String::from_utf8_lossy(&table.stdout),
            String::from_utf8_lossy(&table.stderr)
        );
        check(all.contains("env.EXTRA"), "the variable is named")?;
        check(!all.contains("SECRET"), format!("a value was shown: {all}"))
    });

    let conclusion = libtest_mimic::run(&args, trials);
    drop(all);
    match Arc::try_unwrap(world) {
        Ok(w) => drop(w),
        Err(_) => eprintln!("e2e_drift: world still shared; parts are stopped at exit"),
    }
    conclusion.exit();
}

/// Stops the harness's registry by its pid (`realparts.sh down` skips a part already gone)
/// and waits until its port refuses connections.
fn stop_registry(p: &Parts) {
    let pid = p.get("REGISTRY_PID");
    assert!(!pid.is_empty(), "REGISTRY_PID in the harness env");
    let _ = Command::new("kill").args(["-TERM", pid]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(p.get("REGISTRY")).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Now, as `docker events --since` wants it (the engines run on this machine's clock).
fn unix_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    format!("{secs:.3}")
}

/// `metadata derive --from live` (issue 11) on a platform of its own that points at the
/// world's containers: what runs is pinned by the repo digest it was pulled by, through each
/// observation path (forwarded socket, ssh command fallback, local socket), with `source.url`
/// from the image's label; what is not clean is refused with its code; the written manifests
/// validate strictly, a second run proposes nothing, and drift-check then proves each pin.
fn derive_from_live(w: &World) -> Result<(), Failed> {
    let p = &w.parts;
    let api306 = p.get("IMG_API_306");
    let d306 = p.get("DIGEST_API_306");
    let local = p.get("IMG_LOCAL");
    check(!api306.is_empty() && !d306.is_empty(), "harness env")?;
    let root = p.dir.join("derive-platform");
    std::fs::create_dir_all(root.join("ops")).map_err(|e| e.to_string())?;
    for f in ["platform.toml", "ops/ssh_config"] {
        std::fs::copy(w.root.join(f), root.join(f)).map_err(|e| e.to_string())?;
    }
    // (module, host, compose service its container belongs to, compose image)
    let pinned = ["d-api-forward", "d-api-command", "d-api-local"];
    let modules: [(&str, &str, &str, &str); 7] = [
        (pinned[0], "e1", "api-tag-ok", api306),
        (pinned[1], "nofwd", "api-tag-ok", api306),
        (pinned[2], "local1", "api-tag-ok", api306),
        // The container of api-tag-drift runs 3.0.3 while compose says 3.0.6.
        ("d-other-image", "e1", "api-tag-drift", api306),
        ("d-missing", "e1", "missing-svc", api306),
        ("d-local-build", "e1", "local-tool", local),
        ("d-closed", "closed", "api-tag-ok", api306),
    ];
    let mut compose = String::from("name: home-platform\nservices:\n");
    let mut services = std::collections::BTreeSet::new();
    for (name, host, svc, image) in modules {
        if services.insert(svc) {
            compose.push_str(&format!("  {svc}:\n    image: {image}\n{AS_RUN}"));
        }
        let dir = root.join("modules").join(name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("module.yaml"),
            format!(
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: derive e2e\n  owner: ops\n  tier: app\n  stateful: false\n\
                 spec:\n  runtime:\n    host: {host}\n    orchestrator: docker-compose\n    compose_file: compose/compose.yaml\n    \
                 compose_service: {svc}\n    image_observed: {image}\n    image_digest_pinned_in_compose: false\n"
            ),
        )
        .map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(root.join("compose")).map_err(|e| e.to_string())?;
    std::fs::write(root.join("compose/compose.yaml"), compose).map_err(|e| e.to_string())?;
    let read_all = || -> Vec<Vec<u8>> {
        modules
            .iter()
            .map(|(n, ..)| std::fs::read(root.join("modules").join(n).join("module.yaml")).unwrap())
            .collect()
    };
    let before = read_all();
    let derive = |extra: &[&str]| {
        let mut args = vec!["metadata", "derive", "--all", "--from", "live", "--json"];
        args.extend_from_slice(extra);
        platformctl_at(&root, &args, &[])
    };

    // Dry run: proposals and refusals, no file touched.
    let (code, doc, err) = derive(&[]);
    check(code == 1, format!("dry run exit {code}: {err}\n{doc:#}"))?;
    check(read_all() == before, "a dry run changed a manifest")?;
    let refused = |doc: &Value, m: &str| {
        doc["refusals"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["module"] == m))
            .map(|r| r["code"].as_str().unwrap_or("").to_string())
    };
    for (m, want) in [
        ("d-other-image", "LIVE_IMAGE_DIFFERS"),
        ("d-missing", "LIVE_CONTAINER_MISSING"),
        ("d-local-build", "LIVE_NO_REPO_DIGEST"),
        ("d-closed", "LIVE_UNOBSERVED"),
    ] {
        check(
            refused(&doc, m).as_deref() == Some(want),
            format!("{m}: want {want}: {doc:#}"),
        )?;
    }
    let proposals = doc["proposals"].as_array().cloned().unwrap_or_default();
    check(proposals.len() == pinned.len(), format!("{doc:#}"))?;
    let pin = format!("{api306}@{d306}");
    for name in pinned {
        let prop = proposals
            .iter()
            .find(|x| x["module"] == name)
            .ok_or_else(|| format!("no proposal for {name}: {doc:#}"))?;
        let diff = prop["diff"].as_str().unwrap_or("");
        for line in [
            format!("+    reference: {pin}\n"),
            format!("+    image_observed: {pin}\n"),
            format!("-    image_observed: {api306}\n"),
            "+    release_tracking: digest\n".to_string(),
            "+    url: https://github.com/example/honcho-api\n".to_string(),
        ] {
            check(
                diff.contains(&line),
                format!("{name}: {line:?} not in\n{diff}"),
            )?;
        }
        check(
            prop["evidence"]["liveRepoDigest"] == d306,
            format!("{name}: {prop:#}"),
        )?;
    }
    // The refused container's image is no secret: the reason says what runs.
    check(
        doc["refusals"].to_string().contains("3.0.3"),
        format!("{doc:#}"),
    )?;

    // Write: exactly the proposed files; they validate strictly; a second run proposes nothing.
    let (code, doc, err) = derive(&["--write"]);
    check(
        code == 1,
        format!("write exit {code} (refusals remain): {err}\n{doc:#}"),
    )?;
    let written = doc["written"].as_array().map_or(0, Vec::len);
    check(written == pinned.len(), format!("{doc:#}"))?;
    let after = read_all();
    for (i, (name, ..)) in modules.iter().enumerate() {
        check(
            (after[i] != before[i]) == pinned.contains(name),
            format!("{name}: written iff proposed"),
        )?;
    }
    let (code, doc, err) =
        platformctl_at(&root, &["validate", "all", "--strict-v2", "--json"], &[]);
    check(
        code == 0,
        format!("validate --strict-v2 exit {code}: {err}\n{doc:#}"),
    )?;
    let (_, doc, _) = derive(&[]);
    check(
        doc["proposals"].as_array().is_some_and(Vec::is_empty),
        format!("second run: {doc:#}"),
    )?;

    // The pins are what runs: drift-check proves each one by its repo digest.
    let mut args = vec!["drift-check", "--json"];
    args.extend_from_slice(&pinned);
    let (code, doc, err) = platformctl_at(&root, &args, &[]);
    check(
        code == 0,
        format!("drift-check exit {code}: {err}\n{doc:#}"),
    )?;
    for name in pinned {
        expect(&doc, name, "in-sync", &[], &[])?;
        let m = module(&doc, name);
        check(
            !codes(m, "warnings").contains(&"IMAGE_DIGEST_NOT_VERIFIED".to_string()),
            format!("{name}: {m:#}"),
        )?;
    }
    Ok(())
}
