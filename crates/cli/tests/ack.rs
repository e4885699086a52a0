//! Acknowledged drift (issue 12, SPEC §9) end to end through the CLI, against fake engines (no
//! root): `ack` writes a `spec.drift.accept` entry surgically; while it runs the module is in
//! sync with the change listed as accepted; once it has passed (`PLATFORMCTL_TODAY`) it is
//! drift again and `validate` warns `ACCEPT_EXPIRED`; a different observed value is drift
//! again; an entry that matches nothing is `ACCEPT_UNUSED`; bad requests exit 2 and write
//! nothing.

mod support;

use std::path::Path;

use platformctl_drift::fake_engine::{FakeEngine, FixtureModule, container, image, write_platform};
use serde_json::{Value, json};
use support::bin;

const P: &str = "fixture";
const ID1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn engine(sock: &Path, running: &str) -> FakeEngine {
    FakeEngine::start(
        sock,
        json!([container(
            P,
            "web",
            "fixture-web-1",
            running,
            ID1,
            "running"
        )]),
        json!([image(ID1, &[running], &[])]),
    )
    .unwrap()
}

fn run(root: &Path, today: &str, args: &[&str]) -> (i32, Value, String) {
    let out = bin()
        .arg("--root")
        .arg(root)
        .args(args)
        .env("PLATFORMCTL_TODAY", today)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr,
    )
}

fn warning_codes(m: &Value) -> Vec<String> {
    m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ack_accepts_until_the_date_and_then_it_is_drift_again() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("a.sock");
    let root = dir.path().join("platform");
    write_platform(
        &root,
        P,
        &[("a", &sock)],
        &[FixtureModule {
            name: "web",
            host: Some("a"),
            image: "nginx:1.27",
        }],
    )
    .unwrap();
    let manifest = root.join("modules/web/module.yaml");
    let before = std::fs::read_to_string(&manifest).unwrap();
    let eng = engine(&sock, "nginx:1.25");

    // Bad requests: exit 2, nothing written.
    for args in [
        vec!["ack", "web", "CONFIG_PORTS", "--reason", "x", "--json"],
        vec![
            "ack",
            "web",
            "IMAGE_TAG_MISMATCH",
            "--reason",
            " ",
            "--json",
        ],
        vec![
            "ack",
            "web",
            "IMAGE_TAG_MISMATCH",
            "--reason",
            "x",
            "--until",
            "2027-12-31",
            "--json",
        ],
        vec![
            "ack",
            "web",
            "IMAGE_TAG_MISMATCH",
            "--reason",
            "x",
            "--until",
            "2026-01-01",
            "--json",
        ],
    ] {
        let (code, doc, err) = run(&root, "2026-12-03", &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(doc["exitCode"], 2, "{doc}");
        assert_eq!(std::fs::read_to_string(&manifest).unwrap(), before);
    }

    // Drift, then acknowledged for ten days.
    let (code, _, _) = run(&root, "2026-12-03", &["drift-check", "--json"]);
    assert_eq!(code, 2);
    let (code, doc, err) = run(
        &root,
        "2026-12-03",
        &[
            "ack",
            "web",
            "IMAGE_TAG_MISMATCH",
            "--reason",
            "canary of 1.25",
            "--until",
            "2026-12-13",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(doc["accepted"]["field"], "container.image");
    let after = std::fs::read_to_string(&manifest).unwrap();
    assert!(after.starts_with(&before), "only lines appended:\n{after}");
    let added = &after[before.len()..];
    assert!(
        added.starts_with("  drift:\n    accept:\n      - code: IMAGE_TAG_MISMATCH\n"),
        "{added}"
    );
    assert!(added.contains("        observed: sha256:"), "{added}");
    assert!(
        !added.contains("nginx"),
        "the observed value is a digest: {added}"
    );

    let (code, doc, _) = run(&root, "2026-12-03", &["drift-check", "--json"]);
    assert_eq!(code, 0, "{doc:#}");
    let m = &doc["modules"][0];
    assert_eq!(m["status"], "in-sync");
    assert_eq!(m["changes"], json!([]));
    assert_eq!(m["accepted"][0]["reason"], "canary of 1.25");
    assert_eq!(m["accepted"][0]["daysLeft"], 10);
    let (code, _, _) = run(&root, "2026-12-03", &["validate", "--json"]);
    assert_eq!(code, 0);
    // The human table says so too.
    let out = bin()
        .arg("--root")
        .arg(&root)
        .arg("drift-check")
        .env("PLATFORMCTL_TODAY", "2026-12-03")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .contains("accepted IMAGE_TAG_MISMATCH container.image (canary of 1.25, 10 days left)"),
        "{table}"
    );

    // Past the date: drift again, and validate warns.
    let (code, doc, _) = run(&root, "2026-12-14", &["drift-check", "--json"]);
    assert_eq!(code, 2);
    let m = &doc["modules"][0];
    assert_eq!(m["status"], "drift");
    assert!(
        warning_codes(m).contains(&"ACCEPT_EXPIRED".to_string()),
        "{m:#}"
    );
    let (code, doc, _) = run(&root, "2026-12-14", &["validate", "--json"]);
    assert_eq!(code, 0, "a warning: {doc:#}");
    assert!(
        doc["findings"].to_string().contains("ACCEPT_EXPIRED"),
        "{doc:#}"
    );

    // The difference changed (another image runs): the entry no longer matches.
    drop(eng);
    let eng = engine(&sock, "nginx:1.24");
    let (code, doc, _) = run(&root, "2026-12-03", &["drift-check", "--json"]);
    assert_eq!(code, 2, "{doc:#}");
    let m = &doc["modules"][0];
    assert!(
        warning_codes(m).contains(&"ACCEPT_UNUSED".to_string()),
        "{m:#}"
    );

    // In sync: the entry is unused.
    drop(eng);
    let _eng = engine(&sock, "nginx:1.27");
    let (code, doc, _) = run(&root, "2026-12-03", &["drift-check", "--json"]);
    assert_eq!(code, 0);
    assert!(warning_codes(&doc["modules"][0]).contains(&"ACCEPT_UNUSED".to_string()));
}
