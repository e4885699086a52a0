//! Every `--json` document of every command validates against the JSON Schema that
//! `platformctl schema <document>` publishes: on the examples (home-platform, broken, the
//! broken workplans, a hub built from home-platform's workplans) and on drift documents from
//! fake engines (platformctl-drift's `fake-engine`, no root, no Docker).

mod support;

use std::path::Path;

use platformctl_drift::fake_engine::{FakeEngine, FixtureModule, container, image, write_platform};
use serde_json::{Value, json};
use support::{bin, example};

fn schema(name: &str) -> Value {
    let out = bin().args(["schema", name]).output().unwrap();
    assert!(out.status.success(), "schema {name}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `args`, validates stdout against `schema <doc>`, returns the document and exit code.
fn check(doc: &str, args: &[&str]) -> (i32, Value) {
    let out = bin().args(args).output().unwrap();
    let value: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON document: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let s = schema(doc);
    let v = jsonschema::validator_for(&s).unwrap_or_else(|e| panic!("schema {doc} compiles: {e}"));
    let errors: Vec<String> = v
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "{args:?} against schema {doc}: {errors:#?}"
    );
    let code = out.status.code().unwrap();
    assert_eq!(value["exitCode"], code, "{args:?}");
    assert_camel_case(&value, "");
    (code, value)
}

/// Object keys are camelCase, except in maps keyed by data (codes, orchestrators, statuses).
fn assert_camel_case(v: &Value, path: &str) {
    let camel = regex::Regex::new("^[a-z][a-zA-Z0-9]*$").unwrap();
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let data_keys = ["byCode", "byOrchestrator", "byStatus"]
                    .iter()
                    .any(|d| path.ends_with(d));
                assert!(
                    data_keys || camel.is_match(k),
                    "key `{k}` at {path} is not camelCase"
                );
                assert_camel_case(x, &format!("{path}/{k}"));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_camel_case(x, path)),
        _ => {}
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn every_published_schema_is_a_valid_json_schema() {
    for name in [
        "module",
        "validate",
        "coverage",
        "modules-list",
        "modules-show",
        "plan",
        "drift-check",
        "workplan-status",
        "workplan-lint",
        "workplan-show",
        "hub-sync",
        "hub-check",
        "hub-human",
        "hub-checkpoint",
        "hub-workstreams",
        "hub-tasks",
        "metadata-derive",
    ] {
        let s = schema(name);
        jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("schema {name}: {e}"));
    }
}

#[test]
fn catalog_commands_on_the_examples() {
    let home = example("home-platform");
    let broken = example("broken");
    let (h, b) = (home.to_str().unwrap(), broken.to_str().unwrap());
    assert_eq!(check("validate", &["--root", h, "validate", "--json"]).0, 0);
    assert_eq!(check("validate", &["--root", b, "validate", "--json"]).0, 1);
    check("coverage", &["--root", h, "coverage", "--json"]);
    check("coverage", &["--root", b, "coverage", "--json"]);
    check(
        "metadata-derive",
        &["--root", h, "metadata", "derive", "--all", "--json"],
    );
    check(
        "metadata-derive",
        &["--root", b, "metadata", "derive", "--all", "--json"],
    );
    check(
        "metadata-derive",
        &[
            "--root",
            h,
            "metadata",
            "derive",
            "no-such-module",
            "--json",
        ],
    );
    check("modules-list", &["--root", h, "modules", "list", "--json"]);
    check("modules-list", &["--root", b, "modules", "list", "--json"]);
    for m in [
        "honcho-api",
        "immich-server",
        "backblaze-b2",
        "act-runner",
        "alloy",
    ] {
        check(
            "modules-show",
            &["--root", h, "modules", "show", m, "--json"],
        );
    }
    // Error documents are published too.
    assert_eq!(
        check(
            "modules-show",
            &["--root", h, "modules", "show", "nope", "--json"]
        )
        .0,
        2
    );
    assert_eq!(
        check(
            "validate",
            &["--root", "/nonexistent", "validate", "--json"]
        )
        .0,
        2
    );
}

#[test]
fn workplan_and_hub_commands_on_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home-platform");
    copy_dir(&example("home-platform"), &root);
    let r = root.to_str().unwrap();
    let broken = example("workplans-broken");
    let hub = format!("sqlite:{}", dir.path().join("hub.sqlite3").display());
    check(
        "workplan-status",
        &["--root", r, "workplan", "status", "--json"],
    );
    check(
        "workplan-lint",
        &["--root", r, "workplan", "lint", "--json"],
    );
    assert_eq!(
        check(
            "workplan-lint",
            &[
                "--root",
                r,
                "workplan",
                "lint",
                broken.to_str().unwrap(),
                "--json"
            ]
        )
        .0,
        1
    );
    for id in ["OPS-WP-0007", "OPS-WP-0011", "OPS-WP-0018", "OPS-WP-0009"] {
        check(
            "workplan-show",
            &["--root", r, "workplan", "show", id, "--json"],
        );
    }
    for file in ["C-01.md", "C-03.md", "C-07.md", "C-13.md"] {
        let path = broken.join(file);
        check(
            "workplan-show",
            &["workplan", "show", path.to_str().unwrap(), "--json"],
        );
    }
    assert_eq!(
        check(
            "workplan-show",
            &["--root", r, "workplan", "show", "OPS-WP-0777", "--json"]
        )
        .0,
        2
    );
    check(
        "hub-sync",
        &[
            "--root", r, "hub", "--hub", &hub, "sync", "--plan", "--json",
        ],
    );
    check(
        "hub-sync",
        &["--root", r, "hub", "--hub", &hub, "sync", "--json"],
    );
    check(
        "hub-sync",
        &["--root", r, "hub", "--hub", &hub, "sync", "--json"],
    );
    check(
        "hub-check",
        &["--root", r, "hub", "--hub", &hub, "check", "--json"],
    );
    check(
        "hub-human",
        &["--root", r, "hub", "--hub", &hub, "human", "--json"],
    );
    check(
        "hub-checkpoint",
        &["--root", r, "hub", "--hub", &hub, "checkpoint", "--json"],
    );
    check(
        "hub-workstreams",
        &["--root", r, "hub", "--hub", &hub, "workstreams", "--json"],
    );
    for extra in [&[][..], &["--open"][..], &["--workplan", "OPS-WP-0007"][..]] {
        let mut args = vec!["--root", r, "hub", "--hub", &hub, "tasks", "--json"];
        args.extend_from_slice(extra);
        let (_, doc) = check("hub-tasks", &args);
        assert!(!doc["tasks"].as_array().unwrap().is_empty(), "{args:?}");
    }
}

const P: &str = "fixture";
const ID: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

#[test]
fn drift_documents_from_fake_engines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("platform");
    let (sa, sb) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let _a = FakeEngine::start(
        &sa,
        json!([container(
            P,
            "web",
            "fixture-web-1",
            "nginx:1.25",
            ID,
            "running"
        )]),
        json!([image(ID, &["nginx:1.25"], &[])]),
    )
    .unwrap();
    write_platform(
        &root,
        P,
        &[("a", &sa), ("b", &sb)],
        &[
            FixtureModule {
                name: "web",
                host: Some("a"),
                image: "nginx:1.27",
            },
            FixtureModule {
                name: "files",
                host: Some("b"),
                image: "redis:7.2",
            },
        ],
    )
    .unwrap();
    let r = root.to_str().unwrap();
    assert_eq!(
        check("drift-check", &["--root", r, "drift-check", "--json"]).0,
        8
    );
    assert_eq!(
        check(
            "drift-check",
            &["--root", r, "drift-check", "web", "--json"]
        )
        .0,
        2
    );
    assert_eq!(
        check(
            "drift-check",
            &["--root", r, "drift-check", "--host", "b", "--json"]
        )
        .0,
        5
    );
    assert_eq!(
        check(
            "drift-check",
            &["--root", r, "drift-check", "nope", "--json"]
        )
        .0,
        1
    );
    assert_eq!(check("plan", &["--root", r, "plan", "web", "--json"]).0, 1);
    assert_eq!(
        check("plan", &["--root", r, "plan", "files", "--json"]).0,
        2
    );
    assert_eq!(check("plan", &["--root", r, "plan", "nope", "--json"]).0, 2);
}
