//! `plan` and `drift-check` end to end against fake engines on unix sockets (no root, no
//! Docker): every drift-check exit code through the binary, and the human drift table as an
//! insta snapshot. The real-engine suite is `e2e_drift.rs`.

mod support;

use std::path::{Path, PathBuf};

use platformctl_drift::fake_engine::{
    FakeEngine, TWO_HOST_FLEET, container, image, write_platform,
};
use serde_json::json;
use support::bin;

const P: &str = "fixture";
const NGINX: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const REDIS: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

struct World {
    dir: tempfile::TempDir,
    _engines: Vec<FakeEngine>,
}

impl World {
    fn root(&self) -> PathBuf {
        self.dir.path().join("platform")
    }
}

/// `web` (nginx:1.27) and `cache` (redis:7.2) on `a`, `files` (redis:7.2) on `b`, `bucket`
/// external. `a` runs nginx `web_tag`; `b` answers when `b_up`.
fn world(web_tag: &str, b_up: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let (sa, sb) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let web = format!("nginx:{web_tag}");
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    let mut engines = vec![
        FakeEngine::start(
            &sa,
            json!([
                container(P, "web", "fixture-web-1", &web, NGINX, "running"),
                container(P, "cache", "fixture-cache-1", "redis:7.2", REDIS, "running"),
            ]),
            json!([
                image(NGINX, &[&web], &[&format!("nginx@{}", digest('3'))]),
                image(REDIS, &["redis:7.2"], &[&format!("redis@{}", digest('4'))]),
            ]),
        )
        .unwrap(),
    ];
    if b_up {
        engines.push(
            FakeEngine::start(
                &sb,
                json!([container(
                    P,
                    "files",
                    "fixture-files-1",
                    "redis:7.2",
                    REDIS,
                    "running"
                )]),
                json!([image(
                    REDIS,
                    &["redis:7.2"],
                    &[&format!("redis@{}", digest('4'))]
                )]),
            )
            .unwrap(),
        );
    }
    write_platform(
        &dir.path().join("platform"),
        P,
        &[("a", &sa), ("b", &sb)],
        &TWO_HOST_FLEET,
    )
    .unwrap();
    World {
        dir,
        _engines: engines,
    }
}

fn run(root: &Path, args: &[&str]) -> (i32, String) {
    let out = bin().arg("--root").arg(root).args(args).output().unwrap();
    support::assert_no_panic(&out);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Timings and temp paths vary from run to run.
fn stable(text: &str, w: &World) -> String {
    let ms = regex::Regex::new(r"\d+ ms").unwrap();
    let text = text.replace(&w.dir.path().display().to_string(), "[TMP]");
    ms.replace_all(&text, "[N] ms").into_owned()
}

#[test]
fn drift_check_exit_codes() {
    let w = world("1.27", true);
    assert_eq!(run(&w.root(), &["drift-check"]).0, 0, "in sync");
    let w = world("1.25", true);
    assert_eq!(run(&w.root(), &["drift-check"]).0, 2, "drift");
    let w = world("1.25", false);
    assert_eq!(
        run(&w.root(), &["drift-check", "--host", "b"]).0,
        5,
        "no host answered"
    );
    assert_eq!(run(&w.root(), &["drift-check"]).0, 8, "partial");
    assert_eq!(
        run(&w.root(), &["drift-check", "wbe"]).0,
        1,
        "unknown module"
    );
    assert_eq!(
        run(&w.root(), &["drift-check", "--host", "c"]).0,
        1,
        "unknown host"
    );
    assert_eq!(run(&w.root(), &["drift-check", "--bogus"]).0, 1, "bad flag");
    let out = bin()
        .args(["drift-check", "--root", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "no platform");
}

#[test]
fn plan_exit_codes_and_out() {
    let w = world("1.25", false);
    assert_eq!(run(&w.root(), &["plan", "cache"]).0, 0);
    assert_eq!(run(&w.root(), &["plan", "bucket"]).0, 0);
    assert_eq!(run(&w.root(), &["plan", "web"]).0, 1);
    assert_eq!(run(&w.root(), &["plan", "files"]).0, 2);
    assert_eq!(run(&w.root(), &["plan", "nope"]).0, 2);
    let out = w.dir.path().join("plans/");
    let (code, _) = run(&w.root(), &["plan", "web", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("web.plan.json")).unwrap()).unwrap();
    assert_eq!(doc["schema"], "platformctl/plan/v2");
    assert_eq!(doc["changes"][0]["code"], "IMAGE_TAG_MISMATCH");
}

#[test]
fn drift_table() {
    let w = world("1.25", false);
    let (code, text) = run(&w.root(), &["drift-check"]);
    assert_eq!(code, 8);
    insta::assert_snapshot!("drift_table_partial", stable(&text, &w));
    let w = world("1.25", true);
    let (code, text) = run(&w.root(), &["drift-check"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("drift_table_drift", stable(&text, &w));
    let (code, text) = run(&w.root(), &["plan", "web"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("plan_table_drift", stable(&text, &w));
}

/// `[registry] check = true` in platform.toml makes `drift-check` ask the registries as
/// `--registry` does; `--no-registry` turns it off for one run; `--refresh` needs one of them.
/// The module's registry is a closed loopback port: unreachable, which changes no status and
/// no exit code.
#[test]
fn registry_check_in_platform_toml() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("a.sock");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let img = format!("127.0.0.1:{closed}/app:1.0");
    let _engine = FakeEngine::start(
        &sock,
        json!([container(P, "app", "fixture-app-1", &img, NGINX, "running")]),
        json!([image(
            NGINX,
            &[&img],
            &[&format!("127.0.0.1:{closed}/app@sha256:{}", "5".repeat(64))]
        )]),
    )
    .unwrap();
    let root = dir.path().join("platform");
    let modules = [platformctl_drift::fake_engine::FixtureModule {
        name: "app",
        host: Some("a"),
        image: &img,
    }];
    write_platform(&root, P, &[("a", &sock)], &modules).unwrap();
    let cache = dir.path().join("cache");
    let go = |args: &[&str]| {
        let out = bin()
            .arg("--root")
            .arg(&root)
            .args(args)
            .env("PLATFORMCTL_CACHE_DIR", &cache)
            .output()
            .unwrap();
        support::assert_no_panic(&out);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out.status.code().unwrap(), doc)
    };
    let status = |doc: &serde_json::Value| doc["modules"][0]["status"].clone();

    let (plain_code, plain) = go(&["drift-check", "--json"]);
    assert!(plain.get("registries").is_none(), "{plain:#}");
    let (code, flagged) = go(&["drift-check", "--json", "--registry"]);
    assert_eq!(code, plain_code);
    assert_eq!(
        flagged["registries"][0]["answered"],
        json!(false),
        "{flagged:#}"
    );

    let toml = std::fs::read_to_string(root.join("platform.toml")).unwrap();
    std::fs::write(
        root.join("platform.toml"),
        format!("{toml}\n[registry]\ncheck = true\n"),
    )
    .unwrap();
    let (code, checked) = go(&["drift-check", "--json"]);
    assert_eq!(code, plain_code);
    assert_eq!(status(&checked), status(&plain));
    assert_eq!(checked["registries"], flagged["registries"], "{checked:#}");
    assert_eq!(
        checked["modules"][0]["registry"]["status"],
        json!("unreachable"),
        "{checked:#}"
    );
    let (code, _) = go(&["drift-check", "--json", "--refresh"]);
    assert_eq!(code, plain_code);
    let (code, off) = go(&["drift-check", "--json", "--no-registry"]);
    assert_eq!(code, plain_code);
    assert!(off.get("registries").is_none(), "{off:#}");
    assert_eq!(status(&off), status(&plain));

    std::fs::write(root.join("platform.toml"), &toml).unwrap();
    let (code, _) = go(&["drift-check", "--json", "--refresh"]);
    assert_eq!(
        code, 1,
        "--refresh without a registry check is a usage error"
    );
}
