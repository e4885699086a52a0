//! `metadata derive --from live` against fake engines (platformctl-drift's `fake-engine`: no
//! root, no Docker): the repo digest is pinned, the snapshot refreshed, and a container that
//! runs another image or has no repo digest is refused. The same on real engines behind sshd and a
//! real registry: crates/cli/tests/e2e_drift.rs, `derive_from_live_pins_what_runs_and_refuses_the_rest`.

mod support;

use platformctl_drift::fake_engine::{FakeEngine, FixtureModule, container, image, write_platform};
use serde_json::{Value, json};
use support::bin;

const P: &str = "fixture";
const ID1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const ID2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const INDEX: &str = "sha256:abababababababababababababababababababababababababababababababab";

#[test]
fn live_pins_the_repo_digest_and_refuses_what_is_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("a.sock");
    let _engine = FakeEngine::start(
        &sock,
        json!([
            container(P, "web", "fixture-web-1", "nginx:1.27", ID1, "running"),
            container(P, "cache", "fixture-cache-1", "redis:7.0", ID2, "running"),
            container(P, "local", "fixture-local-1", "redis:7.2", ID2, "running"),
        ]),
        json!([
            image(ID1, &["nginx:1.27"], &[&format!("nginx@{INDEX}")]),
            image(ID2, &["redis:7.0", "redis:7.2"], &[]),
        ]),
    )
    .unwrap();
    let root = dir.path().join("platform");
    let m = |name, image| FixtureModule {
        name,
        host: Some("a"),
        image,
    };
    write_platform(
        &root,
        P,
        &[("a", &sock)],
        &[
            m("web", "nginx:1.27"),
            m("cache", "redis:7.2"),
            m("local", "redis:7.2"),
            m("gone", "redis:7.2"),
        ],
    )
    .unwrap();
    let out = bin()
        .arg("--root")
        .arg(&root)
        .args(["metadata", "derive", "--all", "--from", "live", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1));
    let code = |m: &str| {
        v["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["module"] == m)
            .map(|r| r["code"].as_str().unwrap().to_string())
    };
    assert_eq!(code("cache").as_deref(), Some("LIVE_IMAGE_DIFFERS"));
    assert_eq!(code("local").as_deref(), Some("LIVE_NO_REPO_DIGEST"));
    assert_eq!(code("gone").as_deref(), Some("LIVE_CONTAINER_MISSING"));
    let web = &v["proposals"][0];
    assert_eq!(web["module"], "web");
    let diff = web["diff"].as_str().unwrap();
    assert!(
        diff.contains(&format!("+    image_observed: nginx:1.27@{INDEX}\n")),
        "{diff}"
    );
    assert!(diff.contains("-    image_observed: nginx:1.27\n"), "{diff}");
    assert!(diff.contains("+    release_tracking: digest\n"), "{diff}");
    assert!(
        diff.contains(&format!(
            "+    reference: docker.io/library/nginx:1.27@{INDEX}\n"
        )),
        "{diff}"
    );
    assert_eq!(web["evidence"]["liveRepoDigest"], INDEX);
}
