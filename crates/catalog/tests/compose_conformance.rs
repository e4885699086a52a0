//! Issue 9, items 2 and 3, in both directions: what must be a finding and what must not be.

use std::path::Path;

use platformctl_catalog::{Catalog, LoadOptions};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn module(root: &Path, name: &str, host: &str, compose: &str, service: &str, image: &str) {
    write(
        root,
        &format!("modules/{name}/module.yaml"),
        &format!(
            "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  \
             description: test module\n  owner: ops\n  tier: infra\nspec:\n  runtime:\n    \
             host: {host}\n    orchestrator: docker-compose\n    compose_file: {compose}\n    \
             compose_service: {service}\n    image_observed: {image}\n    \
             image_observed_at: 2026-05-22\n"
        ),
    );
}

fn platform(root: &Path) {
    write(
        root,
        "platform.toml",
        "[platform]\nname = \"p\"\ncompose_project = \"p\"\n\n\
         [hosts.a]\ntransport = \"local\"\n\n[hosts.b]\ntransport = \"local\"\n",
    );
}

fn codes(root: &Path, env: &[(&str, &str)]) -> Vec<String> {
    let opts = LoadOptions {
        strict: false,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let cat = Catalog::load(root, &opts).unwrap();
    cat.findings
        .iter()
        .map(|f| format!("{} {}:{}", f.code.as_str(), f.file.display(), f.line))
        .collect()
}

fn has(codes: &[String], code: &str) -> bool {
    codes.iter().any(|c| c.starts_with(&format!("{code} ")))
}

#[test]
fn one_stack_on_several_hosts_is_not_claimed_twice() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    platform(root);
    write(
        root,
        "compose/exporters/compose.yaml",
        "name: p\nservices:\n  node-exporter:\n    image: prom/node-exporter:v1.8.2\n",
    );
    module(
        root,
        "node-exporter-a",
        "a",
        "compose/exporters/compose.yaml",
        "node-exporter",
        "prom/node-exporter:v1.8.2",
    );
    module(
        root,
        "node-exporter-b",
        "b",
        "compose/exporters/compose.yaml",
        "node-exporter",
        "prom/node-exporter:v1.8.2",
    );
    let c = codes(root, &[]);
    assert!(!has(&c, "COMPOSE_SERVICE_CLAIMED"), "{c:?}");
    assert!(!has(&c, "COMPOSE_SERVICE_UNCLAIMED"), "{c:?}");
}

#[test]
fn one_service_twice_on_one_host_is_claimed_twice() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    platform(root);
    write(
        root,
        "compose/exporters/compose.yaml",
        "name: p\nservices:\n  node-exporter:\n    image: prom/node-exporter:v1.8.2\n",
    );
    module(
        root,
        "node-exporter-a",
        "a",
        "compose/exporters/compose.yaml",
        "node-exporter",
        "prom/node-exporter:v1.8.2",
    );
    module(
        root,
        "node-exporter-again",
        "a",
        "compose/exporters/compose.yaml",
        "node-exporter",
        "prom/node-exporter:v1.8.2",
    );
    let c = codes(root, &[]);
    assert_eq!(
        c.iter()
            .filter(|c| c.starts_with("COMPOSE_SERVICE_CLAIMED "))
            .count(),
        1,
        "{c:?}"
    );
}

fn web(root: &Path, image: &str, observed: &str, dotenv: &str) {
    platform(root);
    write(
        root,
        "compose/web/compose.yaml",
        &format!("name: p\nservices:\n  web:\n    image: {image}\n"),
    );
    write(root, "compose/web/.env", dotenv);
    module(
        root,
        "web",
        "a",
        "compose/web/compose.yaml",
        "web",
        observed,
    );
}

#[test]
fn compose_project_name_in_dotenv_that_differs_is_a_finding() {
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "nginx:1.27",
        "nginx:1.27",
        "# the stack\nCOMPOSE_PROJECT_NAME=other\n",
    );
    let c = codes(d.path(), &[]);
    assert!(
        c.contains(&"COMPOSE_PROJECT_MISMATCH compose/web/.env:2".to_string()),
        "{c:?}"
    );
}

#[test]
fn compose_project_name_in_dotenv_that_agrees_is_not() {
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "nginx:1.27",
        "nginx:1.27",
        "COMPOSE_PROJECT_NAME=p\n",
    );
    let c = codes(d.path(), &[]);
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn environment_wins_over_dotenv_self_references() {
    // `TAG=1.27`, `IMAGE=nginx:${TAG}` with TAG=1.28 exported is nginx:1.28 (compose-go).
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "${IMAGE}",
        "nginx:1.28",
        "TAG=1.27\nIMAGE=nginx:${TAG}\n",
    );
    let c = codes(d.path(), &[("TAG", "1.28")]);
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(image_of(d.path(), &[("TAG", "1.28")]), "nginx:1.28");
    // Without the export the file's own TAG counts.
    assert_eq!(image_of(d.path(), &[]), "nginx:1.27");
}

fn image_of(root: &Path, env: &[(&str, &str)]) -> String {
    let opts = LoadOptions {
        strict: false,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let cat = Catalog::load(root, &opts).unwrap();
    let file = cat.compose.values().flatten().next().unwrap();
    file.services[0].image.as_ref().unwrap().value.clone()
}

#[test]
fn one_odd_dotenv_line_is_one_finding_and_the_rest_still_counts() {
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "${REGISTRY}/nginx:${TAG}",
        "registry.example.com/nginx:1.27",
        "REGISTRY=registry.example.com\nlol$wut\nTAG=1.27\n",
    );
    let c = codes(d.path(), &[]);
    assert_eq!(c, ["DOTENV_INVALID compose/web/.env:2"], "{c:?}");
}

#[test]
fn dotenv_lines_compose_accepts_are_not_findings() {
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "nginx:${TAG}",
        "nginx:1.27",
        "=\"value\"\nNOTE=a\t#c\nQUOTED=\"a\" junk\nNUL=\"\\0\"\nTAG=1.27\n",
    );
    let c = codes(d.path(), &[]);
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn lazy_defaults_are_not_findings() {
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "nginx:${A:-${B:?set B}}",
        "nginx:1.27",
        "A=1.27\n",
    );
    let c = codes(d.path(), &[]);
    assert!(c.is_empty(), "{c:?}");
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "nginx:${A:+${A}-}1.27",
        "nginx:1.27",
        "# nothing\n",
    );
    let c = codes(d.path(), &[]);
    assert!(c.is_empty(), "{c:?}");
    // A used default that requires an unset variable is a finding.
    let d = tempfile::tempdir().unwrap();
    web(
        d.path(),
        "nginx:${A:-${B:?set B}}",
        "nginx:1.27",
        "# nothing\n",
    );
    let c = codes(d.path(), &[]);
    assert!(!c.is_empty(), "{c:?}");
}
