//! Every refusal code, and the mapping of clean evidence, on a small platform repo.

use std::collections::BTreeMap;
use std::path::Path;

use platformctl_catalog::{Catalog, LoadOptions, Part};
use platformctl_derive::{From, Live, Options, Policy, RefusalCode, Report, derive};

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// (module, compose image line, image_observed, extra manifest text)
fn fixture(root: &Path, modules: &[(&str, &str, Option<&str>)]) {
    std::fs::write(
        root.join("platform.toml"),
        "[platform]\nname = \"t\"\ncompose_project = \"p\"\n\n[hosts.h]\ntransport = \"local\"\ndocker_socket = \"/nonexistent.sock\"\n",
    )
    .unwrap();
    let mut compose = "name: p\nservices:\n".to_string();
    for (name, image, _) in modules {
        compose.push_str(&format!("  {name}:\n{image}\n"));
    }
    std::fs::create_dir_all(root.join("compose")).unwrap();
    std::fs::write(root.join("compose/compose.yaml"), compose).unwrap();
    for (name, image, observed) in modules {
        let dir = root.join("modules").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let pinned = image.contains("@sha256:");
        let obs = observed.map_or(String::new(), |o| format!("    image_observed: {o}\n"));
        std::fs::write(
            dir.join("module.yaml"),
            format!(
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: d\n  owner: ops\n  tier: app\n  stateful: false\nspec:\n  runtime:\n    host: h\n    orchestrator: docker-compose\n    compose_file: compose/compose.yaml\n    compose_service: {name}\n{obs}    image_digest_pinned_in_compose: {pinned}\n"
            ),
        )
        .unwrap();
    }
}

fn opts(from: From) -> Options {
    Options {
        parts: Part::ALL.to_vec(),
        policy: Policy::Manual,
        from,
        today: jiff::civil::date(2026, 6, 1),
    }
}

fn run(root: &Path, from: From, live: &BTreeMap<String, Live>) -> Report {
    let cat = Catalog::load(root, &LoadOptions::default()).unwrap();
    let ms: Vec<_> = cat.modules().collect();
    derive(&cat, &ms, &opts(from), live)
}

fn code_of(r: &Report, m: &str) -> Option<RefusalCode> {
    r.refusals.iter().find(|x| x.module == m).map(|x| x.code)
}

#[test]
fn each_compose_refusal_has_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let pinned_no_tag = format!("    image: redis@{D1}");
    fixture(
        root,
        &[
            (
                "clean",
                "    image: minio/minio:RELEASE.2024",
                Some("minio/minio:RELEASE.2024"),
            ),
            ("latest", "    image: redis:latest", Some("redis:latest")),
            ("notag", "    image: redis", None),
            ("digestonly", &pinned_no_tag, None),
            ("unset", "    image: redis:${REDIS_TAG}", None),
            ("disagree", "    image: redis:7.4", Some("redis:7.2")),
            ("buildonly", "    build: .", None),
        ],
    );
    // An external module and an invalid one.
    std::fs::create_dir_all(root.join("modules/ext")).unwrap();
    std::fs::write(
        root.join("modules/ext/module.yaml"),
        "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: ext\n  description: d\n  owner: ops\n  tier: edge\nspec:\n  runtime:\n    orchestrator: external\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("modules/broken")).unwrap();
    std::fs::write(
        root.join("modules/broken/module.yaml"),
        "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: broken\n  description: d\n  owner: ops\n  tier: app\nspec:\n  runtime:\n    host: nowhere\n    orchestrator: docker-compose\n    compose_file: compose/compose.yaml\n    compose_service: clean\n",
    )
    .unwrap();
    let r = run(root, From::Compose, &BTreeMap::new());
    assert_eq!(code_of(&r, "latest"), Some(RefusalCode::TagLatest));
    assert_eq!(code_of(&r, "notag"), Some(RefusalCode::TagMissing));
    assert_eq!(
        code_of(&r, "digestonly"),
        Some(RefusalCode::DigestWithoutTag)
    );
    assert_eq!(code_of(&r, "unset"), Some(RefusalCode::VariableUnresolved));
    assert_eq!(code_of(&r, "disagree"), Some(RefusalCode::ImageDisagrees));
    assert_eq!(code_of(&r, "buildonly"), Some(RefusalCode::NoImageEvidence));
    assert_eq!(code_of(&r, "ext"), Some(RefusalCode::External));
    assert_eq!(code_of(&r, "broken"), Some(RefusalCode::ModuleInvalid));
    assert_eq!(code_of(&r, "clean"), None);
    let p = &r.proposals[0];
    assert_eq!(p.module, "clean");
    assert_eq!(p.adds, vec![Part::Source, Part::Artifact, Part::Update]);
    assert!(p.after.contains(
        "  source:\n    type: upstream-image\n    repository: minio/minio\n    registry: upstream-registry\n    release_tracking: upstream-tag\n  artifact:\n    type: oci-image\n    reference: docker.io/minio/minio:RELEASE.2024\n  update:\n    policy: manual\n    reason: conservative default; no upgrade evidence yet\n"
    ), "{}", p.after);
    assert_eq!(r.coverage_before.source, 0);
    assert_eq!(r.coverage_after.source, 1);
    // Nothing was written.
    assert!(
        !std::fs::read_to_string(root.join("modules/clean/module.yaml"))
            .unwrap()
            .contains("source:")
    );
}

#[test]
fn digest_pinned_tracks_the_digest_and_policy_follows_state_and_tier() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let img = format!("    image: postgres:16.4@{D1}");
    fixture(root, &[("pg", &img, Some("postgres:16.4"))]);
    let f = root.join("modules/pg/module.yaml");
    let t = std::fs::read_to_string(&f).unwrap().replace(
        "tier: app\n  stateful: false",
        "tier: core\n  stateful: true",
    );
    std::fs::write(&f, t).unwrap();
    let r = run(root, From::Compose, &BTreeMap::new());
    let p = &r.proposals[0];
    assert!(
        p.after.contains("    release_tracking: digest\n"),
        "{}",
        p.after
    );
    assert!(p.after.contains(&format!(
        "    reference: docker.io/library/postgres:16.4@{D1}\n"
    )));
    assert!(p.after.contains(
        "    policy: manual\n    reason: stateful, core tier; upgrades need restore evidence\n"
    ));
}

fn running(image: &str, digests: &[&str]) -> Live {
    Live::Running {
        image: image.into(),
        repo_digests: digests.iter().map(|d| d.to_string()).collect(),
        source_url: Some("https://github.com/minio/minio".to_string()),
    }
}

#[test]
fn live_pins_the_repo_digest_and_each_live_refusal_has_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let m = |n| {
        (
            n,
            "    image: minio/minio:RELEASE.2024",
            Some("minio/minio:RELEASE.2023"),
        )
    };
    fixture(
        root,
        &[
            m("ok"),
            m("gone"),
            m("other"),
            m("nodigest"),
            m("down"),
            m("twice"),
        ],
    );
    let live = BTreeMap::from([
        (
            "ok".to_string(),
            running(
                "minio/minio:RELEASE.2024",
                &[
                    &format!("minio/minio@{D1}"),
                    &format!("mirror.io/minio/minio@{D2}"),
                ],
            ),
        ),
        ("gone".to_string(), Live::Missing),
        (
            "other".to_string(),
            running("minio/minio:RELEASE.2022", &[&format!("minio/minio@{D1}")]),
        ),
        (
            "nodigest".to_string(),
            running("minio/minio:RELEASE.2024", &[]),
        ),
        (
            "down".to_string(),
            Live::Unobserved("host h: connection refused".into()),
        ),
        (
            "twice".to_string(),
            running(
                "minio/minio:RELEASE.2024",
                &[&format!("minio/minio@{D1}"), &format!("minio/minio@{D2}")],
            ),
        ),
    ]);
    let r = run(root, From::Live, &live);
    assert_eq!(code_of(&r, "gone"), Some(RefusalCode::LiveContainerMissing));
    assert_eq!(code_of(&r, "other"), Some(RefusalCode::LiveImageDiffers));
    assert_eq!(code_of(&r, "nodigest"), Some(RefusalCode::LiveNoRepoDigest));
    assert_eq!(code_of(&r, "twice"), Some(RefusalCode::LiveNoRepoDigest));
    assert_eq!(code_of(&r, "down"), Some(RefusalCode::LiveUnobserved));
    assert_eq!(code_of(&r, "ok"), None);
    let p = r.proposals.iter().find(|p| p.module == "ok").unwrap();
    // The stale snapshot (RELEASE.2023) is superseded by what runs, and refreshed.
    assert!(
        p.after.contains(&format!(
            "    image_observed: minio/minio:RELEASE.2024@{D1}\n    image_observed_at: 2026-06-01\n"
        )),
        "{}",
        p.after
    );
    assert!(
        p.after
            .contains("    release_tracking: digest\n    url: https://github.com/minio/minio\n")
    );
    assert!(p.after.contains(&format!(
        "    reference: docker.io/minio/minio:RELEASE.2024@{D1}\n"
    )));
    assert_eq!(p.refreshes, ["image_observed", "image_observed_at"]);
}

#[test]
fn anchored_spec_is_refused_as_unsafe_and_a_second_run_proposes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fixture(
        root,
        &[
            ("a", "    image: redis:7.4", Some("redis:7.4")),
            ("b", "    image: redis:7.4", Some("redis:7.4")),
        ],
    );
    let f = root.join("modules/a/module.yaml");
    let t = std::fs::read_to_string(&f)
        .unwrap()
        .replace("spec:\n", "spec: &s\n")
        + "x-copy: *s\n";
    std::fs::write(&f, t).unwrap();
    let r = run(root, From::Compose, &BTreeMap::new());
    assert_eq!(code_of(&r, "a"), Some(RefusalCode::EditUnsafe));
    for p in &r.proposals {
        std::fs::write(root.join(&p.file), &p.after).unwrap();
    }
    let again = run(root, From::Compose, &BTreeMap::new());
    assert!(again.proposals.is_empty());
    assert_eq!(again.complete, ["b"]);
    assert_eq!(again.coverage_before, r.coverage_after);
}

#[test]
fn a_manifest_that_changed_under_the_run_is_refused_as_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fixture(
        root,
        &[
            ("binary", "    image: redis:7.2", Some("redis:7.2")),
            ("gone", "    image: redis:7.2", Some("redis:7.2")),
            ("kept", "    image: redis:7.2", Some("redis:7.2")),
        ],
    );
    // Loaded while the files were good; then one turns into Latin-1 and one disappears
    // before derive reads them again to edit.
    let cat = Catalog::load(root, &LoadOptions::default()).unwrap();
    let ms: Vec<_> = cat.modules().collect();
    let binary = root.join("modules/binary/module.yaml");
    let mut bytes = std::fs::read(&binary).unwrap();
    bytes.extend_from_slice(b"# caf\xe9\n");
    std::fs::write(&binary, bytes).unwrap();
    std::fs::remove_file(root.join("modules/gone/module.yaml")).unwrap();
    let r = derive(&cat, &ms, &opts(From::Compose), &BTreeMap::new());
    assert_eq!(code_of(&r, "binary"), Some(RefusalCode::ManifestUnreadable));
    assert_eq!(code_of(&r, "gone"), Some(RefusalCode::ManifestUnreadable));
    assert_eq!(code_of(&r, "kept"), None, "the others are still proposed");
    assert!(r.proposals.iter().any(|p| p.module == "kept"));
    assert_eq!(
        RefusalCode::ManifestUnreadable.as_str(),
        "MANIFEST_UNREADABLE"
    );
}
