//! End-to-end `apply` (issue 13) on real parts: a host is a private dockerd behind the
//! harness's sshd (`scripts/e2e/realparts.sh`), with a checkout of the platform repo and
//! Debian's `docker-compose` (v1) as its `compose_command`. Never the machine's own Docker.
//!
//! One test, in order: a plan drifted on its tag is refused unapproved, refused stale (compose
//! file changed; container recreated), refused when the host's checkout differs, refused while
//! another apply holds the host's lock, then applied with `--approve --wait` and verified in
//! sync, with `docker events` showing the pull and recreate of that one service only; a
//! hostile service name never reaches a shell; an apply killed mid-run leaves the lock free and
//! an audit line saying so; two concurrent applies of one plan never interleave.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;

use support::realparts::{Parts, is_root};

/// What this test asks of engine e1 beyond the shared parts.
trait ApplyHost {
    fn compose(&self, file: &Path, args: &[&str]);
    fn events(&self, since: &str, until: &str) -> Vec<Value>;
}

impl ApplyHost for Parts {
    /// docker-compose (v1) on engine e1, as the host would run it.
    fn compose(&self, file: &Path, args: &[&str]) {
        let out = Command::new("docker-compose")
            .args(["-p", PROJECT, "-f"])
            .arg(file)
            .args(args)
            .env("DOCKER_HOST", format!("unix://{}", self.get("E1_SOCK")))
            .env("DOCKER_CONFIG", self.get("DOCKER_CONFIG"))
            .output()
            .expect("docker-compose");
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The engine's events between two instants, one JSON object a line.
    fn events(&self, since: &str, until: &str) -> Vec<Value> {
        self.docker_ok(
            "e1",
            &[
                "events",
                "--since",
                since,
                "--until",
                until,
                "--format",
                "{{json .}}",
            ],
        )
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
    }
}

const PROJECT: &str = "applyproj";

fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{:.3}", d.as_secs_f64())
}

fn compose_text(api: &str, rest: &str, slow: &str) -> String {
    let svc = |name: &str, image: &str| {
        format!(
            "  {name}:\n    image: {image}\n    command: [\"sleep\", \"100000\"]\n    network_mode: none\n"
        )
    };
    format!(
        "services:\n{}{}{}",
        svc("api", api),
        svc("other", rest),
        svc("slowsvc", slow)
    )
}

fn manifest(name: &str, host: &str, service: &str, image: &str) -> String {
    format!(
        "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: apply e2e\n  owner: ops\n  tier: app\n  stateful: false\n\
         spec:\n  runtime:\n    host: {host}\n    orchestrator: docker-compose\n    compose_file: compose/apply.yaml\n    compose_service: {service}\n    \
         image_observed: {image}\n    image_digest_pinned_in_compose: false\n  artifact:\n    type: oci-image\n    reference: {image}\n"
    )
}

fn platformctl(root: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_platformctl"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("platformctl");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr,
    )
}

fn audit(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(root.join("state/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an audit line is JSON"))
        .collect()
}

/// The container events of an interval, as (action, container name).
fn container_events(ev: &[Value]) -> Vec<(String, String)> {
    ev.iter()
        .filter(|e| e["Type"] == "container")
        .map(|e| {
            (
                e["Action"].as_str().unwrap_or("").to_string(),
                e["Actor"]["Attributes"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn gated_apply_on_a_real_host() {
    if !is_root() {
        assert!(
            std::env::var_os("PLATFORMCTL_E2E_REQUIRED").is_none(),
            "e2e_apply: not root, and PLATFORMCTL_E2E_REQUIRED is set"
        );
        eprintln!("e2e_apply: not root: dockerd cannot start here; skipped");
        return;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = Parts::up(&workspace).unwrap_or_else(|e| panic!("realparts up: {e}"));
    let old = p.get("IMG_API_303");
    let new = p.get("IMG_API_306");
    let e1 = p.get("E1_SOCK");

    // The platform repo, and the host's checkout of it.
    let root = p.dir.join("platform");
    let checkout = p.dir.join("checkout");
    let marker = p.dir.join("pwned");
    for d in [&root, &checkout] {
        std::fs::create_dir_all(d.join("compose")).unwrap();
    }
    std::fs::create_dir_all(root.join("ops")).unwrap();
    std::fs::copy(p.get("SSH_CONFIG"), root.join("ops/ssh_config")).unwrap();
    let slow = p.dir.join("slowcompose");
    std::fs::write(&slow, "#!/bin/sh\nsleep 60\nexec docker-compose \"$@\"\n").unwrap();
    Command::new("chmod").arg("+x").arg(&slow).status().unwrap();
    std::fs::write(
        root.join("platform.toml"),
        format!(
            "[platform]\nname = \"apply-e2e\"\ncompose_project = \"{PROJECT}\"\n\n[ssh]\nconfig = \"ops/ssh_config\"\n\n\
             [hosts.e1]\ntransport = \"ssh\"\nssh = \"e2e-host\"\ndocker_socket = \"{e1}\"\nconnect_timeout_s = 5\n\n\
             [hosts.e1.apply]\nplatform_dir = \"{c}\"\ncompose_command = \"docker-compose\"\n\n\
             [hosts.slow]\ntransport = \"ssh\"\nssh = \"e2e-host\"\ndocker_socket = \"{e1}\"\nconnect_timeout_s = 5\n\n\
             [hosts.slow.apply]\nplatform_dir = \"{c}\"\ncompose_command = \"{s}\"\n",
            c = checkout.display(),
            s = slow.display()
        ),
    )
    .unwrap();
    let desired = compose_text(new, new, new);
    let evil_svc = format!("evil;touch {}", marker.display());
    // compose itself refuses such a name, so it lives in a file of its own.
    std::fs::write(
        root.join("compose/evil.yaml"),
        format!("services:\n  \"{evil_svc}\":\n    image: {new}\n"),
    )
    .unwrap();
    let desired_with_evil = desired.clone();
    for d in [&root, &checkout] {
        std::fs::write(d.join("compose/apply.yaml"), &desired_with_evil).unwrap();
    }
    for (name, host, svc) in [
        ("api", "e1", "api"),
        ("other", "e1", "other"),
        ("slowsvc", "slow", "slowsvc"),
    ] {
        std::fs::create_dir_all(root.join("modules").join(name)).unwrap();
        std::fs::write(
            root.join("modules").join(name).join("module.yaml"),
            manifest(name, host, svc, new),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("modules/evil")).unwrap();
    std::fs::write(
        root.join("modules/evil/module.yaml"),
        manifest("evil", "e1", &format!("\"{evil_svc}\""), new)
            .replace("compose/apply.yaml", "compose/evil.yaml"),
    )
    .unwrap();

    // A State Hub at its default place: apply records every attempt in its history too.
    let hub_url = platformctl_hub::HubUrl::default_for_root(&root);
    drop(platformctl_hub::open(&hub_url).expect("the hub opens"));

    // What runs: api and slowsvc on the old tag, other as declared (compose v1, as on a host).
    let old_file = p.dir.join("old.yaml");
    std::fs::write(&old_file, compose_text(old, new, old)).unwrap();
    p.compose(&old_file, &["up", "-d"]);
    let (code, doc, err) = platformctl(&root, &["plan", "api", "--json"]);
    assert_eq!(code, 1, "{err}\n{doc:#}");
    assert_eq!(doc["changes"][0]["code"], "IMAGE_TAG_MISMATCH", "{doc:#}");
    let (code, _, err) = platformctl(&root, &["plan", "other", "--json"]);
    assert_eq!(code, 0, "other is in sync: {err}");

    // A saved plan: bound facts and the exact commands.
    let p1 = p.dir.join("p1.json");
    let (code, _, err) = platformctl(&root, &["plan", "api", "--out", p1.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let saved: Value = serde_json::from_slice(&std::fs::read(&p1).unwrap()).unwrap();
    let b = &saved["binding"];
    let file = format!("{}/compose/apply.yaml", checkout.display());
    assert_eq!(
        b["commandLines"],
        serde_json::json!([
            format!("env DOCKER_HOST=unix://{e1} docker-compose -p {PROJECT} -f {file} pull api"),
            format!(
                "env DOCKER_HOST=unix://{e1} docker-compose -p {PROJECT} -f {file} up -d --no-deps api"
            ),
        ]),
        "{b:#}"
    );
    assert!(
        b["facts"]["files"]["compose/apply.yaml"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(b["expiresAt"].as_str().is_some() && b["toolVersion"].as_str().is_some());
    let apply = |plan: &Path, extra: &[&str]| {
        let mut args = vec!["apply", plan.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        let t0 = now();
        let r = platformctl(&root, &args);
        std::thread::sleep(Duration::from_millis(1100));
        (r, t0, now())
    };
    let quiet = |t0: &str, t1: &str, what: &str| {
        let ev = p.events(t0, t1);
        assert!(ev.is_empty(), "{what}: the engine saw {ev:#?}");
    };

    // Unapproved, in a run without a terminal: refused, nothing happens.
    let ((code, doc, err), t0, t1) = apply(&p1, &[]);
    assert_eq!(
        (code, doc["code"].as_str()),
        (3, Some("NOT_APPROVED")),
        "{err}\n{doc:#}"
    );
    quiet(&t0, &t1, "unapproved");

    // The compose file changed after the plan: stale, naming the file and both digests.
    let compose_path = root.join("compose/apply.yaml");
    std::fs::write(&compose_path, format!("{desired_with_evil}# edited\n")).unwrap();
    let ((code, doc, err), t0, t1) = apply(&p1, &["--approve"]);
    assert_eq!(
        (code, doc["code"].as_str()),
        (3, Some("STALE_PLAN")),
        "{err}\n{doc:#}"
    );
    assert!(
        doc["stale"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["fact"] == "files.compose/apply.yaml"),
        "{doc:#}"
    );
    quiet(&t0, &t1, "stale compose file");
    std::fs::write(&compose_path, &desired_with_evil).unwrap();

    // The host's checkout is not what the plan was made from: refused before any command.
    std::fs::write(
        checkout.join("compose/apply.yaml"),
        format!("{desired_with_evil}# host edit\n"),
    )
    .unwrap();
    let ((code, doc, err), t0, t1) = apply(&p1, &["--approve"]);
    assert_eq!(
        (code, doc["code"].as_str()),
        (3, Some("REMOTE_CHECKOUT_DIFFERS")),
        "{err}\n{doc:#}"
    );
    quiet(&t0, &t1, "checkout differs");
    std::fs::write(checkout.join("compose/apply.yaml"), &desired_with_evil).unwrap();

    // The container was recreated after the plan: stale, naming the container id.
    p.compose(&old_file, &["up", "-d", "--force-recreate", "api"]);
    let ((code, doc, err), t0, t1) = apply(&p1, &["--approve"]);
    assert_eq!(
        (code, doc["code"].as_str()),
        (3, Some("STALE_PLAN")),
        "{err}\n{doc:#}"
    );
    assert!(
        doc["stale"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["fact"] == "evidence.containerId"),
        "{doc:#}"
    );
    quiet(&t0, &t1, "recreated container");

    // Another apply holds e1's lock: fail fast; with --wait, wait and then apply.
    let p2 = p.dir.join("p2.json");
    let (code, _, err) = platformctl(&root, &["plan", "api", "--out", p2.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let lock = root.join("state/locks/e1.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "4"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let ((code, doc, err), _, _) = apply(&p2, &["--approve"]);
    assert_eq!(
        (code, doc["code"].as_str()),
        (3, Some("HOST_LOCKED")),
        "{err}\n{doc:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "fails fast");
    assert!(
        doc["message"].as_str().unwrap().contains("--wait"),
        "{doc:#}"
    );
    let ((code, doc, err), t0, t1) = apply(&p2, &["--approve", "--wait"]);
    let _ = holder.wait();
    assert_eq!(
        (code, doc["result"].as_str()),
        (0, Some("applied")),
        "{err}\n{doc:#}"
    );
    assert_eq!(doc["commands"].as_array().unwrap().len(), 2, "{doc:#}");
    let ev = p.events(&t0, &t1);
    assert!(
        ev.iter()
            .any(|e| e["Type"] == "image" && e["Action"] == "pull"),
        "a pull: {ev:#?}"
    );
    let touched: Vec<(String, String)> = container_events(&ev);
    assert!(
        touched.iter().any(|(a, _)| a == "create") && touched.iter().any(|(a, _)| a == "start"),
        "a recreate: {touched:?}"
    );
    for (action, name) in &touched {
        assert!(
            name.contains("_api_") || name.ends_with("_api"),
            "only api's container is touched, not {name} ({action}): {touched:?}"
        );
    }
    let (code, doc, _) = platformctl(&root, &["plan", "api", "--json"]);
    assert_eq!(code, 0, "verified in sync: {doc:#}");
    let (code, _, _) = platformctl(&root, &["plan", "other", "--json"]);
    assert_eq!(code, 0, "other untouched and in sync");
    let lines = audit(&root);
    let last = lines.last().unwrap();
    assert_eq!(
        (last["phase"].as_str(), last["result"].as_str()),
        (Some("finished"), Some("applied"))
    );
    assert!(
        last["who"].as_str().unwrap().starts_with("root@"),
        "{last:#}"
    );
    let applies = platformctl_hub::open(&hub_url).unwrap().applies().unwrap();
    assert_eq!(
        applies.len(),
        lines.iter().filter(|l| l["phase"] == "finished").count()
    );
    let hub_last = applies.last().unwrap();
    assert_eq!(
        (hub_last.module.as_str(), hub_last.result.as_str()),
        ("api", "applied")
    );
    assert!(
        hub_last
            .record
            .contains(last["planSha256"].as_str().unwrap())
    );

    // A hostile service name: the module does not validate, the plan cannot be applied, and
    // nothing reaches a shell.
    let p3 = p.dir.join("p3.json");
    let _ = platformctl(&root, &["plan", "evil", "--out", p3.to_str().unwrap()]);
    if p3.exists() {
        let ((code, doc, err), t0, t1) = apply(&p3, &["--approve"]);
        assert!(code == 3 || code == 2, "{err}\n{doc:#}");
        quiet(&t0, &t1, "hostile module");
    }
    assert!(!marker.exists(), "a service name reached a shell");

    // Killed mid-run (its compose command sleeps first): the lock is free at once, and the
    // next apply on that host writes the audit line that says so.
    let p4 = p.dir.join("p4.json");
    let (code, _, err) = platformctl(&root, &["plan", "slowsvc", "--out", p4.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_platformctl"))
        .arg("--root")
        .arg(&root)
        .args(["apply", p4.to_str().unwrap(), "--approve", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !audit(&root)
        .iter()
        .any(|l| l["module"] == "slowsvc" && l["phase"] == "started")
    {
        assert!(Instant::now() < deadline, "the slow apply never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pgid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(killed.success(), "kill the apply's process group");
    let _ = child.wait();
    let free = Command::new("flock")
        .args(["-n"])
        .arg(root.join("state/locks/slow.lock"))
        .arg("true")
        .status()
        .unwrap();
    assert!(free.success(), "the killed apply's lock is released");
    let ((code, doc, err), _, _) = apply(&p4, &[]);
    assert_eq!(code, 3, "{err}\n{doc:#}");
    let lines = audit(&root);
    let started = lines
        .iter()
        .find(|l| l["module"] == "slowsvc" && l["phase"] == "started")
        .unwrap();
    assert!(
        lines.iter().any(|l| l["phase"] == "interrupted"
            && l["attempt"] == started["attempt"]
            && l["code"] == "APPLY_INTERRUPTED"),
        "{lines:#?}"
    );

    // Two applies of one plan at once: one applies, the other waits and then finds the plan
    // stale; their audit lines never interleave.
    p.compose(&old_file, &["up", "-d", "api"]);
    let p5 = p.dir.join("p5.json");
    let (code, _, err) = platformctl(&root, &["plan", "api", "--out", p5.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let before = audit(&root).len();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_platformctl"))
            .arg("--root")
            .arg(&root)
            .args([
                "apply",
                p5.to_str().unwrap(),
                "--approve",
                "--wait",
                "--json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let mut codes = [
        a.wait_with_output().unwrap().status.code(),
        b.wait_with_output().unwrap().status.code(),
    ];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(3)]);
    let new_lines: Vec<Value> = audit(&root).into_iter().skip(before).collect();
    let phases: Vec<(String, String)> = new_lines
        .iter()
        .map(|l| {
            (
                l["attempt"].as_str().unwrap().to_string(),
                l["phase"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // started(A) finished(A) finished(B): A's two lines are adjacent.
    assert_eq!(phases.len(), 3, "{phases:?}");
    assert_eq!(phases[0].0, phases[1].0, "interleaved: {phases:?}");
    assert_eq!(
        (
            phases[0].1.as_str(),
            phases[1].1.as_str(),
            phases[2].1.as_str()
        ),
        ("started", "finished", "finished")
    );
    // No environment value in the audit log: compose's sleep command is the only argument.
    drop(p);
}
