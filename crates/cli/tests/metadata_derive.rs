//! `metadata derive` on a copy of examples/home-platform: the acceptance of issue 11.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{bin, example};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root.join("modules")).unwrap() {
        let p = e.unwrap().path().join("module.yaml");
        if let Ok(b) = std::fs::read(&p) {
            out.push((p.display().to_string(), b));
        }
    }
    out.sort();
    out
}

fn json(root: &Path, args: &[&str]) -> (i32, Value) {
    let out = bin()
        .arg("--root")
        .arg(root)
        .args(["metadata", "derive"])
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn coverage(root: &Path) -> (u64, u64, u64) {
    let out = bin()
        .arg("--root")
        .arg(root)
        .args(["coverage", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = |p: &str| v["parts"][p]["with"].as_u64().unwrap();
    (n("source"), n("artifact"), n("update"))
}

#[test]
fn dry_run_then_write_then_nothing_left() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("hp");
    copy_dir(&example("home-platform"), &root);
    let before = snapshot(&root);
    assert_eq!(coverage(&root), (12, 10, 13));

    // Dry run: lists proposals and refusals, changes no file.
    let (code, dry) = json(&root, &["--all"]);
    assert_eq!(code, 1, "proposals not written");
    assert_eq!(snapshot(&root), before);
    let proposals = dry["proposals"].as_array().unwrap();
    assert!(!proposals.is_empty());
    for r in dry["refusals"].as_array().unwrap() {
        assert_eq!(r["code"], "EXTERNAL", "{r}");
    }
    let after = &dry["coverageAfter"];

    // Write: coverage is what the dry run said, validate --strict-v2 passes.
    let (code, wrote) = json(&root, &["--all", "--write"]);
    assert_eq!(code, 1, "the external modules are still refused");
    assert_eq!(wrote["written"].as_array().unwrap().len(), proposals.len());
    let cov = coverage(&root);
    assert_eq!(
        (cov.0, cov.1, cov.2),
        (
            after["source"].as_u64().unwrap(),
            after["artifact"].as_u64().unwrap(),
            after["update"].as_u64().unwrap()
        )
    );
    let v = bin()
        .arg("--root")
        .arg(&root)
        .args(["validate", "--strict-v2"])
        .output()
        .unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );

    // Only added lines, and every original line still there in order.
    let now = snapshot(&root);
    for ((path, old), (_, new)) in before.iter().zip(&now) {
        let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
        let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
        for op in diff.ops() {
            assert!(
                matches!(op.tag(), similar::DiffTag::Equal | similar::DiffTag::Insert),
                "{path}: {op:?}"
            );
        }
    }

    // A second run proposes nothing.
    let (_, again) = json(&root, &["--all"]);
    assert_eq!(again["proposals"].as_array().unwrap().len(), 0);
    assert_eq!(again["coverageBefore"], again["coverageAfter"]);
}

#[test]
fn selection_filters_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("hp");
    copy_dir(&example("home-platform"), &root);
    let (_, v) = json(&root, &["--all", "--tier", "core", "--missing", "update"]);
    for p in v["proposals"].as_array().unwrap() {
        assert_eq!(p["adds"], serde_json::json!(["update"]));
    }
    let (code, v) = json(&root, &["jellyfin", "--policy", "notify"]);
    assert_eq!(code, 1);
    let diff = v["proposals"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains("+  source:\n") && !diff.contains("+  update:"),
        "{diff}"
    );
    // Neither modules nor --all: a usage error.
    let out = bin()
        .arg("--root")
        .arg(&root)
        .args(["metadata", "derive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (code, v) = json(&root, &["no-such"]);
    assert_eq!(code, 2);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no module")
    );
}
