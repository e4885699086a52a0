//! Helpers shared by the CLI tests: the binary, example paths, a small platform to break.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An example platform under `examples/`.
pub fn example(name: &str) -> PathBuf {
    workspace().join("examples").join(name)
}

/// The binary with a clean, deterministic environment (no colour, no PLATFORM_ROOT).
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("platformctl").expect("binary builds");
    c.env_remove("PLATFORM_ROOT")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    c
}

/// Runs the binary under a 2 GiB address-space limit, so that unbounded memory is a failure.
pub fn bin_bounded(args: &[&str]) -> Output {
    let exe = assert_cmd::cargo::cargo_bin("platformctl");
    let mut c = Command::new("prlimit");
    c.arg("--as=2147483648")
        .arg("--")
        .arg(exe)
        .args(args)
        .env_remove("PLATFORM_ROOT")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    c.output().expect("prlimit runs")
}

/// Asserts that a run ended on its own terms: no panic, no signal, no Rust backtrace.
pub fn assert_no_panic(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "panic: {stderr}"
    );
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}",
        out.status
    );
    assert_ne!(out.status.code(), Some(101), "exit 101 is a panic");
}

/// Parses stdout as the one JSON document it must be.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The codes of a validate document's findings.
pub fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub const PLATFORM_TOML: &str = r#"[platform]
name = "mini"
compose_project = "mini"

[hosts.box]
transport = "ssh"
ssh = "deploy@box"
"#;

pub const COMPOSE: &str = r#"name: mini
services:
  web:
    image: nginx:1.27.3
  cache:
    image: redis:7.4.1
"#;

pub fn manifest(name: &str, service: &str, image: &str) -> String {
    format!(
        r#"apiVersion: platform/v2
kind: Module
metadata:
  name: {name}
  description: a test module
  tier: app
spec:
  runtime:
    host: box
    orchestrator: docker-compose
    compose_file: compose/apps/compose.yaml
    compose_service: {service}
    image_observed: {image}
  artifact:
    type: oci-image
    reference: {image}
"#
    )
}

/// A small valid platform in a temporary folder: hosts `box`, modules `web` and `cache`.
pub fn mini_platform() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("platform.toml"), PLATFORM_TOML).unwrap();
    std::fs::create_dir_all(root.join("compose/apps")).unwrap();
    std::fs::write(root.join("compose/apps/compose.yaml"), COMPOSE).unwrap();
    for (name, image) in [("web", "nginx:1.27.3"), ("cache", "redis:7.4.1")] {
        std::fs::create_dir_all(root.join("modules").join(name)).unwrap();
        std::fs::write(
            root.join("modules").join(name).join("module.yaml"),
            manifest(name, name, image),
        )
        .unwrap();
    }
    dir
}

/// Writes `modules/<name>/module.yaml` with raw bytes.
pub fn write_manifest(root: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let dir = root.join("modules").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("module.yaml");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `validate all --json` on `root`: (exit code, document).
pub fn validate_json(root: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "--root",
        root.to_str().unwrap(),
        "validate",
        "all",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = bin_bounded(&args);
    assert_no_panic(&out);
    let doc = json(&out);
    let code = out.status.code().unwrap_or(-1);
    assert_eq!(
        doc["exitCode"].as_i64(),
        Some(i64::from(code)),
        "exitCode field = exit status"
    );
    (code, doc)
}

/// The first finding with `code`.
pub fn finding<'a>(doc: &'a Value, code: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == code))
        .unwrap_or_else(|| panic!("no {code} finding in {doc:#}"))
}
pub mod realparts;
pub mod server;
