//! The orchestration against fake engines on unix sockets: every exit code, the documents
//! against their published schemas, and a snapshot of a drift-check document. No root, no
//! Docker.

use std::path::{Path, PathBuf};

use platformctl_catalog::{Catalog, LoadOptions};
use serde_json::{Value, json};

use crate::doc::{self, DriftCheckDoc};
use crate::fake_engine::{FakeEngine, TWO_HOST_FLEET, container, image, write_platform};
use crate::{FleetOptions, SelectError, drift_check, exit, plan};

const PROJECT: &str = "fixture";
const REDIS_ID: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const REDIS_DIGEST: &str =
    "redis@sha256:4444444444444444444444444444444444444444444444444444444444444444";
const NGINX_ID: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    _engines: Vec<FakeEngine>,
}

/// `web` (nginx:1.27) and `cache` (redis:7.2) on host `a`; `files` (redis:7.2) on host `b`;
/// `bucket` external. Host `a` is a fake engine running `running_nginx`; host `b` is a fake
/// engine when `b_answers`, else a socket nobody listens on.
fn world(running_nginx: &str, b_answers: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("platform");
    let sock_a = dir.path().join("a.sock");
    let sock_b = dir.path().join("b.sock");
    let repo = running_nginx.split(':').next().unwrap_or("nginx");
    let nginx_digest = format!("{repo}@sha256:{}", "3".repeat(64));
    let mut engines = vec![
        FakeEngine::start(
            &sock_a,
            json!([
                container(
                    PROJECT,
                    "web",
                    "fixture-web-1",
                    running_nginx,
                    NGINX_ID,
                    "running"
                ),
                container(
                    PROJECT,
                    "cache",
                    "fixture-cache-1",
                    "redis:7.2",
                    REDIS_ID,
                    "running"
                ),
            ]),
            json!([
                image(NGINX_ID, &[running_nginx], &[&nginx_digest]),
                image(REDIS_ID, &["redis:7.2"], &[REDIS_DIGEST]),
            ]),
        )
        .unwrap(),
    ];
    if b_answers {
        engines.push(
            FakeEngine::start(
                &sock_b,
                json!([container(
                    PROJECT,
                    "files",
                    "fixture-files-1",
                    "redis:7.2",
                    REDIS_ID,
                    "running"
                )]),
                json!([image(REDIS_ID, &["redis:7.2"], &[REDIS_DIGEST])]),
            )
            .unwrap(),
        );
    }
    write_platform(
        &root,
        PROJECT,
        &[("a", &sock_a), ("b", &sock_b)],
        &TWO_HOST_FLEET,
    )
    .unwrap();
    World {
        _dir: dir,
        root,
        _engines: engines,
    }
}

fn load(root: &Path) -> Catalog {
    let c = Catalog::load(root, &LoadOptions::default())
        .unwrap_or_else(|_| panic!("the fixture loads"));
    let errors: Vec<_> = c
        .findings
        .iter()
        .filter(|f| f.severity == platformctl_catalog::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "the fixture validates: {errors:#?}");
    c
}

fn opts() -> FleetOptions {
    FleetOptions::from_flags(Some(5), None)
}

fn validate(schema: &schemars::Schema, doc: &Value) {
    let v = jsonschema::validator_for(schema.as_value()).expect("the schema compiles");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

fn check(root: &Path, names: &[&str], host: Option<&str>) -> (u8, Value) {
    let catalog = load(root);
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let run = drift_check(&catalog, &names, host, &opts()).unwrap();
    let doc = serde_json::to_value(run.document()).unwrap();
    validate(&doc::drift_check_schema(), &doc);
    assert_eq!(doc["exitCode"], run.exit_code);
    // The typed document reads back as itself.
    let back: DriftCheckDoc = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(back, run.document());
    (run.exit_code, doc)
}

fn status<'a>(doc: &'a Value, module: &str) -> &'a str {
    doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == module)
        .unwrap_or_else(|| panic!("{module} in {doc:#}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn exit_0_when_every_module_is_in_sync() {
    let w = world("nginx:1.27", true);
    let (code, doc) = check(&w.root, &[], None);
    assert_eq!(code, exit::IN_SYNC, "{doc:#}");
    assert_eq!(status(&doc, "web"), "in-sync");
    assert_eq!(status(&doc, "files"), "in-sync");
    assert_eq!(status(&doc, "bucket"), "skipped");
    assert_eq!(
        doc["summary"],
        json!({"total": 4, "inSync": 3, "drift": 0, "unreachable": 0, "skipped": 1, "error": 0})
    );
    let hosts: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["a", "b"], "each host observed once");
}

#[test]
fn exit_2_on_drift_when_every_host_answered() {
    let w = world("nginx:1.25", true);
    let (code, doc) = check(&w.root, &[], None);
    assert_eq!(code, exit::DRIFT, "{doc:#}");
    assert_eq!(status(&doc, "web"), "drift");
    let web = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "web")
        .unwrap();
    assert_eq!(web["changes"][0]["code"], "IMAGE_TAG_MISMATCH");
    assert_eq!(web["changes"][0]["field"], "container.image");
    assert_eq!(web["evidence"]["containerId"].as_str().unwrap().len(), 12);
}

#[test]
fn exit_5_when_no_host_answered() {
    let w = world("nginx:1.27", false);
    let (code, doc) = check(&w.root, &[], Some("b"));
    assert_eq!(code, exit::UNREACHABLE, "{doc:#}");
    assert_eq!(status(&doc, "files"), "unreachable");
    assert_eq!(doc["hosts"][0]["reachable"], false);
    assert_eq!(doc["hosts"][0]["errorKind"], "unreachable");
}

#[test]
fn exit_8_when_some_modules_could_not_be_checked() {
    let w = world("nginx:1.25", false);
    let (code, doc) = check(&w.root, &[], None);
    assert_eq!(code, exit::PARTIAL, "{doc:#}");
    // The drift found is still reported.
    assert_eq!(status(&doc, "web"), "drift");
    assert_eq!(status(&doc, "files"), "unreachable");
}

#[test]
fn exit_1_for_an_unknown_module_or_host() {
    let w = world("nginx:1.27", true);
    let catalog = load(&w.root);
    let e = drift_check(&catalog, &["wbe".into()], None, &opts()).unwrap_err();
    assert_eq!(
        e,
        SelectError::UnknownModule {
            name: "wbe".into(),
            suggestion: Some("web".into())
        }
    );
    assert_eq!(
        e.to_string(),
        "no module `wbe` in the catalog; did you mean `web`?"
    );
    let e = drift_check(&catalog, &[], Some("c"), &opts()).unwrap_err();
    assert_eq!(e.to_string(), "no host `c` in platform.toml (hosts: a, b)");
    assert_eq!(exit::USAGE, 1);
    // Nothing was observed for a refused selection.
    assert!(w._engines.iter().all(|e| e.requests().is_empty()));
    let e = plan(&catalog, "nope", &opts()).unwrap_err();
    assert!(matches!(e, SelectError::UnknownModule { .. }));
}

#[test]
fn selected_modules_only_ask_their_hosts_and_only_with_get() {
    let w = world("nginx:1.27", true);
    let (code, doc) = check(&w.root, &["cache", "web"], None);
    assert_eq!(code, exit::IN_SYNC);
    assert_eq!(doc["hosts"].as_array().unwrap().len(), 1);
    assert!(w._engines[1].requests().is_empty(), "host b was not asked");
    let asked = w._engines[0].requests();
    assert!(!asked.is_empty());
    assert!(asked.iter().all(|r| r.starts_with("GET ")), "{asked:?}");
}

#[test]
fn plan_exit_codes_and_document() {
    let w = world("nginx:1.25", false);
    let catalog = load(&w.root);
    for (module, code, st) in [
        ("cache", 0, "in-sync"),
        ("web", 1, "drift"),
        ("files", 2, "unreachable"),
        ("bucket", 0, "skipped"),
    ] {
        let run = plan(&catalog, module, &opts()).unwrap();
        assert_eq!(run.exit_code, code, "{module}");
        let doc = serde_json::to_value(run.document()).unwrap();
        validate(&doc::plan_schema(), &doc);
        assert_eq!(doc["schema"], "platformctl/plan/v2");
        assert_eq!(doc["status"], st);
        assert_eq!(doc["exitCode"], code);
        assert_eq!(
            doc.get("elapsedMs").is_some(),
            module != "bucket",
            "{doc:#}"
        );
    }
}

#[test]
fn error_documents_validate_against_the_published_schemas() {
    let e = json!({"schema": "platformctl/drift-check/v2", "exitCode": 1, "error": {"message": "no module `x` in the catalog"}});
    validate(&doc::drift_check_schema(), &e);
    validate(
        &doc::plan_schema(),
        &json!({"schema": "platformctl/plan/v2", "exitCode": 2, "error": {"message": "m"}}),
    );
    // And a snake_case key is refused: the schemas hold the camelCase contract.
    let v = jsonschema::validator_for(doc::drift_check_schema().as_value()).unwrap();
    assert!(!v.is_valid(&json!({"schema": "platformctl/drift-check/v2", "exitCode": 0, "summary": {"total": 0, "in_sync": 0, "drift": 0, "unreachable": 0, "skipped": 0, "error": 0}, "hosts": [], "modules": []})));
}

#[test]
fn drift_check_document_snapshot() {
    let w = world("nginx:1.25", true);
    let catalog = load(&w.root);
    let run = drift_check(&catalog, &[], None, &opts()).unwrap();
    let mut doc = run.document();
    for h in &mut doc.hosts {
        h.elapsed_ms = 0;
    }
    insta::assert_json_snapshot!("drift_check_document", doc);
}
