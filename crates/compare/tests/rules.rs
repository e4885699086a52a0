//! Every change code and every warning code: a case that must produce it and a closely related
//! case that must not. The seeds' cases are named after them.

mod support;

use platformctl_compare::{
    ChangeCode, ModulePlan, Status, Summary, WarningCode, field, name_in_sync, plan_module,
};
use platformctl_evidence::{ContainerState, Health, HostEvidence};
use support::*;

fn plan(m: &platformctl_catalog::Module, h: &HostEvidence) -> ModulePlan {
    plan_module(m, h, PROJECT)
}

fn codes(p: &ModulePlan) -> Vec<ChangeCode> {
    p.changes.iter().map(|c| c.code).collect()
}

fn warns(p: &ModulePlan) -> Vec<WarningCode> {
    p.warnings.iter().map(|w| w.code).collect()
}

fn has(p: &ModulePlan, code: ChangeCode) -> bool {
    codes(p).contains(&code)
}

fn warned(p: &ModulePlan, code: WarningCode) -> bool {
    warns(p).contains(&code)
}

#[track_caller]
fn assert_in_sync(p: &ModulePlan) {
    assert_eq!(p.status, Status::InSync, "{p:#?}");
    assert!(p.changes.is_empty(), "{p:#?}");
}

#[track_caller]
fn assert_only_change(p: &ModulePlan, code: ChangeCode) {
    assert_eq!(p.status, Status::Drift, "{p:#?}");
    assert_eq!(codes(p), vec![code], "{p:#?}");
}

/// A redis module at `redis:7` with a matching, pulled image: in sync.
fn redis() -> (platformctl_catalog::Module, HostEvidence) {
    let m = manifest("redis").artifact("redis:7").load();
    let h = host(
        vec![container("redis", "redis:7", &sha('1'))],
        vec![image(
            &sha('1'),
            &["redis:7"],
            &[&format!("redis@{}", sha('a'))],
        )],
    );
    (m, h)
}

// ---------------------------------------------------------------------------------------------
// container.exists: CONTAINER_MISSING

#[test]
fn missing_container_is_drift() {
    let m = manifest("redis").artifact("redis:7").load();
    let p = plan(&m, &host(vec![], vec![]));
    assert_only_change(&p, ChangeCode::ContainerMissing);
    assert_eq!(p.changes[0].field, field::EXISTS);
    assert_eq!(p.changes[0].observed, "none");
    assert!(p.evidence.is_none());
}

#[test]
fn missing_container_of_a_stopped_module_is_in_sync() {
    let m = manifest("redis").artifact("redis:7").stopped().load();
    let p = plan(&m, &host(vec![], vec![]));
    assert_in_sync(&p);
    assert!(p.evidence.is_none());
}

#[test]
fn containers_of_other_projects_and_one_offs_do_not_count() {
    let m = manifest("redis").artifact("redis:7").load();
    let other_project = container("redis", "redis:7", &sha('1'))
        .label("com.docker.compose.project", "other")
        .named("other-redis-1");
    let oneoff = container("redis", "redis:7", &sha('1'))
        .label("com.docker.compose.oneoff", "True")
        .named("home-platform-redis-run-0a1b2c3d4e5f");
    let h = host(
        vec![other_project, oneoff],
        vec![image(&sha('1'), &["redis:7"], &[])],
    );
    assert_only_change(&plan(&m, &h), ChangeCode::ContainerMissing);
}

#[test]
fn a_compose_v1_named_container_is_found_by_its_labels() {
    let (m, _) = redis();
    let h = host(
        vec![container("redis", "redis:7", &sha('1')).named("home-platform_redis_1")],
        vec![image(
            &sha('1'),
            &["redis:7"],
            &[&format!("redis@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert!(!has(&p, ChangeCode::ContainerMissing));
    assert_in_sync(&p);
}

// ---------------------------------------------------------------------------------------------
// container.running

#[test]
fn exited_container_is_not_running() {
    let (m, mut h) = redis();
    h.containers[0].state = ContainerState::Exited;
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ContainerNotRunning);
    assert_eq!(p.changes[0].field, field::RUNNING);
    assert_eq!(p.changes[0].desired, "running");
    assert_eq!(p.changes[0].observed, "exited");
}

#[test]
fn created_paused_restarting_are_not_running() {
    for s in [
        ContainerState::Created,
        ContainerState::Paused,
        ContainerState::Restarting,
        ContainerState::Dead,
        ContainerState::Other("hibernating".into()),
    ] {
        let (m, mut h) = redis();
        h.containers[0].state = s.clone();
        let p = plan(&m, &h);
        assert_only_change(&p, ChangeCode::ContainerNotRunning);
        assert_eq!(p.changes[0].observed, s.as_str());
    }
}

#[test]
fn running_container_is_running() {
    let (m, h) = redis();
    let p = plan(&m, &h);
    assert!(!has(&p, ChangeCode::ContainerNotRunning));
    assert_in_sync(&p);
}

#[test]
fn running_container_of_a_stopped_module_runs_unexpectedly() {
    let m = manifest("redis").artifact("redis:7").stopped().load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ContainerRunningUnexpectedly);
    assert_eq!(p.changes[0].desired, "stopped");
    assert_eq!(p.changes[0].observed, "running");

    let mut h = h;
    h.containers[0].state = ContainerState::Restarting;
    assert_only_change(&plan(&m, &h), ChangeCode::ContainerRunningUnexpectedly);
}

#[test]
fn exited_or_created_container_of_a_stopped_module_is_in_sync() {
    let m = manifest("redis").artifact("redis:7").stopped().load();
    for s in [ContainerState::Exited, ContainerState::Created] {
        let (_, mut h) = redis();
        h.containers[0].state = s;
        let p = plan(&m, &h);
        assert!(!has(&p, ChangeCode::ContainerRunningUnexpectedly));
        assert!(!has(&p, ChangeCode::ContainerNotRunning));
        assert_in_sync(&p);
    }
}

// ---------------------------------------------------------------------------------------------
// container.name

#[test]
fn an_odd_name_is_a_name_mismatch() {
    let (m, mut h) = redis();
    h.containers[0].name = "redis-old".to_string();
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ContainerNameMismatch);
    assert_eq!(p.changes[0].field, field::NAME);
    assert_eq!(p.changes[0].observed, "redis-old");
    assert!(p.changes[0].desired.starts_with("home-platform-redis-<n>"));
}

#[test]
fn compose_v1_and_v2_names_of_any_replica_are_in_sync() {
    for name in [
        "home-platform-redis-1",
        "home-platform_redis_1",
        "home-platform-redis-3",
        "home-platform_redis_12",
    ] {
        let (m, mut h) = redis();
        h.containers[0].name = name.to_string();
        let p = plan(&m, &h);
        assert!(!has(&p, ChangeCode::ContainerNameMismatch), "{name}");
        assert_in_sync(&p);
    }
    assert!(!name_in_sync(
        "home-platform-redis-",
        None,
        PROJECT,
        "redis"
    ));
    assert!(!name_in_sync(
        "home-platform-redis_1",
        None,
        PROJECT,
        "redis"
    ));
    assert!(!name_in_sync(
        "home-platform-redis-x1",
        None,
        PROJECT,
        "redis"
    ));
    assert!(!name_in_sync(
        "homeplatform_redis_1",
        None,
        PROJECT,
        "redis"
    ));
}

#[test]
fn container_name_must_be_exact() {
    let m = manifest("minio")
        .container_name("minio")
        .artifact("minio/minio:RELEASE.2024-11-07T00-52-20Z")
        .load();
    let c = container(
        "minio",
        "minio/minio:RELEASE.2024-11-07T00-52-20Z",
        &sha('1'),
    );
    let img = image(
        &sha('1'),
        &["minio/minio:RELEASE.2024-11-07T00-52-20Z"],
        &[&format!("minio/minio@{}", sha('b'))],
    );
    // The compose default name is not the declared container_name.
    let p = plan(&m, &host(vec![c.clone()], vec![img.clone()]));
    assert_only_change(&p, ChangeCode::ContainerNameMismatch);
    assert_eq!(p.changes[0].desired, "minio");
    assert_eq!(p.changes[0].observed, "home-platform-minio-1");

    let p = plan(&m, &host(vec![c.named("minio")], vec![img]));
    assert_in_sync(&p);
}

// ---------------------------------------------------------------------------------------------
// container.service_label: COMPOSE_SERVICE_MISMATCH

#[test]
fn the_expected_name_with_another_service_label_is_a_service_mismatch() {
    let (m, _) = redis();
    let h = host(
        vec![container("cache", "redis:7", &sha('1')).named("home-platform-redis-1")],
        vec![image(
            &sha('1'),
            &["redis:7"],
            &[&format!("redis@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ComposeServiceMismatch);
    assert_eq!(p.changes[0].field, field::SERVICE_LABEL);
    assert_eq!(p.changes[0].desired, "redis");
    assert_eq!(p.changes[0].observed, "cache");
    let ev = p.evidence.unwrap();
    assert_eq!(ev.container, "home-platform-redis-1");
    assert_eq!(ev.replicas, 0);
}

#[test]
fn the_expected_name_without_labels_is_a_service_mismatch() {
    let (m, _) = redis();
    // Started by hand with `docker run --name home-platform-redis-1`, and it is stopped too.
    let c = container("redis", "redis:6", &sha('2'))
        .no_labels()
        .state(ContainerState::Exited);
    let h = host(
        vec![c],
        vec![image(
            &sha('2'),
            &["redis:6"],
            &[&format!("redis@{}", sha('c'))],
        )],
    );
    let p = plan(&m, &h);
    assert_eq!(
        codes(&p),
        vec![
            ChangeCode::ComposeServiceMismatch,
            ChangeCode::ContainerNotRunning,
            ChangeCode::ImageTagMismatch
        ]
    );
    assert_eq!(p.changes[0].observed, "(no compose labels)");
}

#[test]
fn the_expected_name_in_another_project_says_so() {
    let (m, _) = redis();
    let c = container("redis", "redis:7", &sha('1')).label("com.docker.compose.project", "lab");
    let h = host(
        vec![c],
        vec![image(
            &sha('1'),
            &["redis:7"],
            &[&format!("redis@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ComposeServiceMismatch);
    assert_eq!(p.changes[0].observed, "redis (project lab)");
}

#[test]
fn a_labelled_container_with_an_odd_name_is_no_service_mismatch() {
    let (m, mut h) = redis();
    h.containers[0].name = "cache".to_string();
    let p = plan(&m, &h);
    assert!(!has(&p, ChangeCode::ComposeServiceMismatch));
    assert_only_change(&p, ChangeCode::ContainerNameMismatch);
}

#[test]
fn a_one_off_with_the_expected_name_is_ignored() {
    let (m, _) = redis();
    let c = container("redis-cli", "redis:7", &sha('1')).label("com.docker.compose.oneoff", "True");
    let h = host(
        vec![c.named("home-platform-redis-1")],
        vec![image(&sha('1'), &["redis:7"], &[])],
    );
    assert_only_change(&plan(&m, &h), ChangeCode::ContainerMissing);
}

// ---------------------------------------------------------------------------------------------
// container.image: IMAGE_REPOSITORY_MISMATCH

#[test]
fn another_registry_is_another_repository() {
    let m = manifest("honcho-api")
        .artifact("ghcr.io/plastic-labs/honcho:3.0.6")
        .load();
    let h = host(
        vec![container(
            "honcho-api",
            "plasticlabs/honcho:3.0.6",
            &sha('1'),
        )],
        vec![image(
            &sha('1'),
            &["plasticlabs/honcho:3.0.6"],
            &[&format!("plasticlabs/honcho@{}", sha('d'))],
        )],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageRepositoryMismatch);
    assert_eq!(p.changes[0].field, field::IMAGE);
    assert_eq!(p.changes[0].desired, "ghcr.io/plastic-labs/honcho:3.0.6");
    assert_eq!(p.changes[0].observed, "plasticlabs/honcho:3.0.6");
}

#[test]
fn short_and_long_spellings_are_the_same_repository() {
    // `redis:7` declared, the engine reports `docker.io/library/redis:7`.
    let m = manifest("redis").artifact("redis:7").load();
    let h = host(
        vec![container("redis", "docker.io/library/redis:7", &sha('1'))],
        vec![image(
            &sha('1'),
            &["docker.io/library/redis:7"],
            &[&format!("docker.io/library/redis@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert!(!has(&p, ChangeCode::ImageRepositoryMismatch));
    assert_in_sync(&p);

    // And the other way round.
    let m = manifest("redis")
        .artifact("docker.io/library/redis:7")
        .load();
    let (_, h) = redis();
    assert_in_sync(&plan(&m, &h));
}

#[test]
fn a_desired_digest_of_another_repository_is_a_repository_mismatch() {
    let m = manifest("redis")
        .artifact(&format!("valkey/valkey:8@{}", sha('e')))
        .load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageRepositoryMismatch);
    assert_eq!(p.changes[0].observed, "redis:7");
}

// ---------------------------------------------------------------------------------------------
// IMAGE_TAG_MISMATCH

#[test]
fn seed_honcho_api_declared_3_0_6_live_3_0_3_is_a_tag_mismatch() {
    let m = load(include_str!(
        "../../../examples/home-platform/modules/honcho-api/module.yaml"
    ));
    let live = "ghcr.io/plastic-labs/honcho:3.0.3";
    let h = host(
        vec![container("honcho-api", live, &sha('3'))],
        vec![image(
            &sha('3'),
            &[live],
            &[&format!("ghcr.io/plastic-labs/honcho@{}", sha('f'))],
        )],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageTagMismatch);
    assert_eq!(p.changes[0].desired, "ghcr.io/plastic-labs/honcho:3.0.6");
    assert_eq!(p.changes[0].observed, "ghcr.io/plastic-labs/honcho:3.0.3");
    // The snapshot (3.0.3) matches the host; only the artifact drifts: nothing stale.
    assert!(!warned(&p, WarningCode::SnapshotStale));
}

#[test]
fn a_missing_tag_is_latest() {
    let m = manifest("it-tools").artifact("corentinth/it-tools").load();
    let h = host(
        vec![container(
            "it-tools",
            "corentinth/it-tools:latest",
            &sha('1'),
        )],
        vec![image(
            &sha('1'),
            &["corentinth/it-tools:latest"],
            &[&format!("corentinth/it-tools@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert!(!has(&p, ChangeCode::ImageTagMismatch));
    assert_in_sync(&p);

    let m = manifest("it-tools")
        .artifact("corentinth/it-tools:2024.10.22")
        .load();
    assert_only_change(&plan(&m, &h), ChangeCode::ImageTagMismatch);
}

#[test]
fn a_tag_carried_by_repo_tags_only_is_in_sync() {
    // The container was created from `nginx:stable`; the same image is also tagged 1.27.
    let m = manifest("web").artifact("nginx:1.27").load();
    let h = host(
        vec![container("web", "nginx:stable", &sha('1'))],
        vec![image(
            &sha('1'),
            &["nginx:stable", "nginx:1.27"],
            &[&format!("nginx@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(warned(&p, WarningCode::ImageDigestNotVerified));
}

#[test]
fn a_moved_tag_seen_through_the_list_api_is_a_tag_mismatch() {
    // `redis:7` was pulled again after the container started: the list API shows the image ID,
    // the old image lost its tag and keeps only its repo digest.
    let m = manifest("redis").artifact("redis:7").load();
    let h = host(
        vec![container("redis", &sha('1'), &sha('1'))],
        vec![image(&sha('1'), &[], &[&format!("redis@{}", sha('a'))])],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageTagMismatch);
    assert!(
        p.changes[0]
            .observed
            .contains("no tag of this repository left"),
        "{p:#?}"
    );

    // Seen with the container's own reference (Config.Image: `docker inspect`, and the API
    // path, which reads the container's inspect for exactly this case): in sync by the tag
    // rule, with the warning IMAGE_TAG_MOVED.
    let h = host(
        vec![container("redis", "redis:7", &sha('1'))],
        vec![image(&sha('1'), &[], &[&format!("redis@{}", sha('a'))])],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(warned(&p, WarningCode::ImageDigestNotVerified));
    let w = p
        .warnings
        .iter()
        .find(|w| w.code == WarningCode::ImageTagMoved)
        .expect("IMAGE_TAG_MOVED");
    assert!(w.message.contains("earlier pull"), "{}", w.message);
    assert_eq!(WarningCode::ImageTagMoved.as_str(), "IMAGE_TAG_MOVED");
}

#[test]
fn a_tag_the_image_still_carries_has_not_moved() {
    // The other direction: the running image still carries the tag on the host.
    let m = manifest("redis").artifact("redis:7").load();
    let h = host(
        vec![container("redis", "redis:7", &sha('1'))],
        vec![image(
            &sha('1'),
            &["redis:7"],
            &[&format!("redis@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(!warned(&p, WarningCode::ImageTagMoved), "{p:#?}");
}

#[test]
fn an_image_with_no_name_at_all_is_a_tag_mismatch() {
    let m = manifest("homepage")
        .artifact("home-platform-homepage:latest")
        .load();
    let h = host(
        vec![container("homepage", &sha('1'), &sha('1'))],
        vec![image(&sha('1'), &[], &[])],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageTagMismatch);
    assert_eq!(p.changes[0].observed, "untagged image 111111111111");
    assert!(warned(&p, WarningCode::ImageLocalBuild));
}

// ---------------------------------------------------------------------------------------------
// IMAGE_DIGEST_MISMATCH

const MEERKAT: &str = "ghcr.io/fbuchner/meerkat-crm-frontend";

fn meerkat_image(id: &str, wanted: &str) -> platformctl_evidence::Image {
    image(
        id,
        &[&format!("{MEERKAT}:latest")],
        &[
            &format!("registry.internal:5000/fbuchner/meerkat-crm-frontend@{wanted}"),
            &format!("{MEERKAT}@{}", sha('9')),
            &format!("{MEERKAT}@{wanted}"),
        ],
    )
}

#[test]
fn seed_meerkat_repo_digest_third_in_the_list_is_in_sync() {
    // The image ID differs from the repo digest, and the matching entry is not the first.
    let wanted = format!("sha256:32f73297{}", &hex('e')[8..]);
    let m = manifest("np-meerkat-frontend")
        .artifact(&format!("{MEERKAT}@{wanted}"))
        .load();
    let h = host(
        vec![container(
            "np-meerkat-frontend",
            &format!("{MEERKAT}:latest"),
            &sha('7'),
        )],
        vec![meerkat_image(&sha('7'), &wanted)],
    );
    let p = plan(&m, &h);
    assert!(!has(&p, ChangeCode::ImageDigestMismatch));
    assert_in_sync(&p);
    assert!(!warned(&p, WarningCode::ImageDigestNotVerified));
    let ev = p.evidence.unwrap();
    assert_eq!(ev.repo_digest, Some(format!("{MEERKAT}@{wanted}")));
    assert_eq!(ev.image_id, sha('7'));
}

#[test]
fn an_image_id_equal_to_the_desired_digest_is_still_a_digest_mismatch() {
    // The manifest digest is never compared with an image ID.
    let m = manifest("np-meerkat-frontend")
        .artifact(&format!("{MEERKAT}@{}", sha('7')))
        .load();
    let h = host(
        vec![container(
            "np-meerkat-frontend",
            &format!("{MEERKAT}:latest"),
            &sha('7'),
        )],
        vec![image(
            &sha('7'),
            &[&format!("{MEERKAT}:latest")],
            &[&format!("{MEERKAT}@{}", sha('8'))],
        )],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageDigestMismatch);
    assert_eq!(p.changes[0].observed, format!("{MEERKAT}@{}", sha('8')));
}

#[test]
fn a_digest_of_a_mirror_does_not_prove_the_repository() {
    // The same digest under another repository is not an entry of that repository.
    let wanted = sha('e');
    let m = manifest("np-meerkat-frontend")
        .artifact(&format!("{MEERKAT}@{wanted}"))
        .load();
    let h = host(
        vec![container(
            "np-meerkat-frontend",
            &format!("{MEERKAT}:latest"),
            &sha('7'),
        )],
        vec![image(
            &sha('7'),
            &[&format!("{MEERKAT}:latest")],
            &[&format!(
                "registry.internal:5000/fbuchner/meerkat-crm-frontend@{wanted}"
            )],
        )],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageDigestMismatch);
    assert!(
        p.changes[0]
            .observed
            .starts_with("no repo digest of ghcr.io/fbuchner/meerkat-crm-frontend")
    );
}

#[test]
fn seed_tag_moved_after_start_with_a_pinned_digest_is_a_digest_mismatch() {
    // compose pins redis:7@sha256:new; the container still runs the image pulled as `old`, and
    // the list API shows its image ID because `redis:7` now names the new image.
    let m = manifest("redis")
        .artifact(&format!("redis:7@{}", sha('b')))
        .pinned(true)
        .load();
    let h = host(
        vec![container("redis", &sha('1'), &sha('1'))],
        vec![
            image(&sha('1'), &[], &[&format!("redis@{}", sha('a'))]),
            image(&sha('2'), &["redis:7"], &[&format!("redis@{}", sha('b'))]),
        ],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageDigestMismatch);
    assert_eq!(p.changes[0].desired, format!("redis:7@{}", sha('b')));
    assert_eq!(p.changes[0].observed, format!("redis@{}", sha('a')));

    // Once re-created on the new image: in sync, proven by the digest.
    let h = host(
        vec![container(
            "redis",
            &format!("redis:7@{}", sha('b')),
            &sha('2'),
        )],
        vec![image(
            &sha('2'),
            &["redis:7"],
            &[&format!("redis@{}", sha('b'))],
        )],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert_eq!(
        p.evidence.unwrap().repo_digest,
        Some(format!("redis@{}", sha('b')))
    );
}

#[test]
fn a_desired_digest_on_a_local_build_is_a_digest_mismatch() {
    let m = manifest("redis")
        .artifact(&format!("redis:7@{}", sha('b')))
        .load();
    let h = host(
        vec![container("redis", "redis:7", &sha('1'))],
        vec![image(&sha('1'), &["redis:7"], &[])],
    );
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageDigestMismatch);
    assert_eq!(
        p.changes[0].observed,
        "no repo digests (locally built or loaded)"
    );
    assert!(warned(&p, WarningCode::ImageLocalBuild));
}

// ---------------------------------------------------------------------------------------------
// Warnings: IMAGE_DIGEST_NOT_VERIFIED

#[test]
fn seed_tag_matches_compose_not_digest_pinned_is_in_sync_but_not_verified() {
    let m = manifest("redis").artifact("redis:7").pinned(false).load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert_eq!(warns(&p), vec![WarningCode::ImageDigestNotVerified]);
    assert!(p.evidence.unwrap().repo_digest.is_none());
}

#[test]
fn a_matched_digest_is_verified() {
    let m = manifest("redis")
        .artifact(&format!("redis:7@{}", sha('a')))
        .pinned(true)
        .load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(!warned(&p, WarningCode::ImageDigestNotVerified));
    assert!(p.warnings.is_empty(), "{p:#?}");
}

// IMAGE_LOCAL_BUILD

#[test]
fn seed_locally_built_image_warns_and_is_not_drift() {
    let m = manifest("homepage-custom")
        .artifact("home-platform-homepage-custom:latest")
        .load();
    // RepoDigests [] (and null, which the evidence decoder turns into []).
    let h = host(
        vec![container(
            "homepage-custom",
            "home-platform-homepage-custom:latest",
            &sha('4'),
        )],
        vec![image(
            &sha('4'),
            &["home-platform-homepage-custom:latest"],
            &[],
        )],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(warned(&p, WarningCode::ImageLocalBuild));
    assert!(warned(&p, WarningCode::ImageDigestNotVerified));
}

#[test]
fn a_pulled_image_is_no_local_build() {
    let (m, h) = redis();
    assert!(!warned(&plan(&m, &h), WarningCode::ImageLocalBuild));
}

// SNAPSHOT_STALE

#[test]
fn artifact_in_sync_but_snapshot_behind_is_stale() {
    let m = load(include_str!(
        "../../../examples/home-platform/modules/honcho-api/module.yaml"
    ));
    let live = "ghcr.io/plastic-labs/honcho:3.0.6";
    let h = host(
        vec![container("honcho-api", live, &sha('6'))],
        vec![image(
            &sha('6'),
            &[live],
            &[&format!("ghcr.io/plastic-labs/honcho@{}", sha('6'))],
        )],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(warned(&p, WarningCode::SnapshotStale), "{p:#?}");
    let w = p
        .warnings
        .iter()
        .find(|w| w.code == WarningCode::SnapshotStale)
        .unwrap();
    assert!(w.message.contains("ghcr.io/plastic-labs/honcho:3.0.3"));
    assert!(w.message.contains("2026-05-04"));
}

#[test]
fn a_snapshot_that_matches_the_host_is_not_stale() {
    let m = manifest("redis")
        .artifact("redis:7")
        .observed("docker.io/library/redis:7")
        .load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert!(!warned(&p, WarningCode::SnapshotStale));

    // A snapshot with the digest that runs is not stale either.
    let m = manifest("redis")
        .artifact("redis:7")
        .observed(&format!("redis:7@{}", sha('a')))
        .load();
    assert!(!warned(&plan(&m, &h), WarningCode::SnapshotStale));
    // With another digest it is.
    let m = manifest("redis")
        .artifact("redis:7")
        .observed(&format!("redis:7@{}", sha('0')))
        .load();
    assert!(warned(&plan(&m, &h), WarningCode::SnapshotStale));
}

#[test]
fn a_drifting_artifact_makes_no_stale_snapshot() {
    // The artifact is not in sync: the host is out of date, not the snapshot.
    let m = manifest("redis")
        .artifact("redis:8")
        .observed("redis:6")
        .load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageTagMismatch);
    assert!(!warned(&p, WarningCode::SnapshotStale));
}

// NO_DESIRED_ARTIFACT and NO_DESIRED_IMAGE

#[test]
fn without_artifact_the_snapshot_is_the_desired_image() {
    let m = manifest("redis").observed("redis:7").load();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert_eq!(warns(&p)[0], WarningCode::NoDesiredArtifact);
    assert!(!warned(&p, WarningCode::NoDesiredImage));
    assert!(!warned(&p, WarningCode::SnapshotStale));

    // …and judged like an artifact.
    let m = manifest("redis").observed("redis:6").load();
    let p = plan(&m, &h);
    assert_only_change(&p, ChangeCode::ImageTagMismatch);
    assert!(warned(&p, WarningCode::NoDesiredArtifact));
}

#[test]
fn with_an_artifact_there_is_no_no_desired_artifact() {
    let (m, h) = redis();
    let p = plan(&m, &h);
    assert!(!warned(&p, WarningCode::NoDesiredArtifact));
    assert!(!warned(&p, WarningCode::NoDesiredImage));
}

#[test]
fn without_any_desired_image_there_is_no_image_verdict() {
    let m = manifest("redis").load();
    let h = host(
        vec![container("redis", "valkey/valkey:8", &sha('1'))],
        vec![image(
            &sha('1'),
            &["valkey/valkey:8"],
            &[&format!("valkey/valkey@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert_eq!(warns(&p), vec![WarningCode::NoDesiredImage]);
    // Even missing, the warning stands.
    let p = plan(&m, &host(vec![], vec![]));
    assert_eq!(warns(&p), vec![WarningCode::NoDesiredImage]);
    assert_only_change(&p, ChangeCode::ContainerMissing);
}

// CONTAINER_UNHEALTHY

#[test]
fn unhealthy_is_a_warning_not_drift() {
    let (m, mut h) = redis();
    h.containers[0].health = Some(Health::Unhealthy);
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(warned(&p, WarningCode::ContainerUnhealthy));
    assert_eq!(p.evidence.unwrap().health, Some(Health::Unhealthy));
}

#[test]
fn healthy_or_starting_is_no_warning() {
    for health in [Health::Healthy, Health::Starting] {
        let (m, mut h) = redis();
        h.containers[0].health = Some(health);
        assert!(!warned(&plan(&m, &h), WarningCode::ContainerUnhealthy));
    }
}

// ---------------------------------------------------------------------------------------------
// Replicas, order, undecidable evidence, constructors, JSON

#[test]
fn the_worst_replica_is_reported() {
    let (m, _) = redis();
    let img = image(&sha('1'), &["redis:7"], &[&format!("redis@{}", sha('a'))]);
    let old = image(&sha('2'), &["redis:6"], &[&format!("redis@{}", sha('b'))]);
    let one = container("redis", "redis:7", &sha('1')).number(1);
    let two = container("redis", "redis:6", &sha('2'))
        .number(2)
        .state(ContainerState::Exited);
    let three = container("redis", "redis:7", &sha('1')).number(3);
    let h = host(
        vec![three.clone(), two, one.clone()],
        vec![img.clone(), old],
    );
    let p = plan(&m, &h);
    assert_eq!(
        codes(&p),
        vec![
            ChangeCode::ContainerNotRunning,
            ChangeCode::ImageTagMismatch
        ]
    );
    let ev = p.evidence.unwrap();
    assert_eq!(ev.container, "home-platform-redis-2");
    assert_eq!(ev.replicas, 3);

    // All replicas in sync: replica 1 is the evidence.
    let p = plan(&m, &host(vec![three, one], vec![img]));
    assert_in_sync(&p);
    assert_eq!(p.evidence.unwrap().container, "home-platform-redis-1");
}

#[test]
fn changes_come_in_a_stable_order() {
    let m = manifest("redis")
        .artifact("redis:7")
        .container_name("redis")
        .load();
    let c = container("cache", "valkey/valkey:8", &sha('1'))
        .named("redis")
        .state(ContainerState::Exited);
    let h = host(
        vec![c],
        vec![image(
            &sha('1'),
            &["valkey/valkey:8"],
            &[&format!("valkey/valkey@{}", sha('a'))],
        )],
    );
    let p = plan(&m, &h);
    let fields: Vec<_> = p.changes.iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        vec![field::SERVICE_LABEL, field::RUNNING, field::IMAGE]
    );

    let m = manifest("redis").artifact("redis:7").load();
    let c = container("redis", "valkey/valkey:8", &sha('1'))
        .named("cache")
        .state(ContainerState::Exited);
    let h = host(vec![c], vec![image(&sha('1'), &["valkey/valkey:8"], &[])]);
    let p = plan(&m, &h);
    assert_eq!(
        codes(&p),
        vec![
            ChangeCode::ContainerNotRunning,
            ChangeCode::ContainerNameMismatch,
            ChangeCode::ImageRepositoryMismatch
        ]
    );
    assert_eq!(
        warns(&p),
        vec![WarningCode::ImageLocalBuild],
        "{:#?}",
        p.warnings
    );
}

#[test]
fn an_unobserved_image_cannot_decide_a_digest() {
    let m = manifest("redis")
        .artifact(&format!("redis:7@{}", sha('a')))
        .load();
    let h = host(vec![container("redis", "redis:7", &sha('1'))], vec![]);
    let p = plan(&m, &h);
    assert_eq!(p.status, Status::Error);
    assert!(
        p.error
            .as_deref()
            .unwrap()
            .contains("not in the observation")
    );
    assert!(p.changes.is_empty());

    // A tag the reference carries needs no image.
    let m = manifest("redis").artifact("redis:7").load();
    let p = plan(&m, &h);
    assert_in_sync(&p);
    assert!(p.warnings[0].message.contains("was not observed"));

    // A tag it does not carry might be among the image's RepoTags: undecided.
    let m = manifest("redis").artifact("redis:7.4").load();
    assert_eq!(plan(&m, &h).status, Status::Error);
}

#[test]
fn an_unparseable_reference_is_an_error() {
    let mut m = manifest("redis").artifact("redis:7").load();
    m.artifact
        .as_mut()
        .unwrap()
        .reference
        .as_mut()
        .unwrap()
        .value = "Redis:7".to_string();
    let (_, h) = redis();
    let p = plan(&m, &h);
    assert_eq!(p.status, Status::Error);
    assert!(
        p.error
            .as_deref()
            .unwrap()
            .starts_with("spec.artifact.reference")
    );
}

#[test]
fn external_modules_are_skipped() {
    let m = manifest("home-assistant-os").external().load();
    let p = plan(&m, &host(vec![], vec![]));
    assert_eq!(p.status, Status::Skipped);
    assert_eq!(p, ModulePlan::skipped(&m));
    assert_eq!(p.host, None);
}

#[test]
fn constructors() {
    let (m, _) = redis();
    let p = ModulePlan::unreachable(&m, "ssh: connect to host rs2000 port 22: timed out");
    assert_eq!(p.status, Status::Unreachable);
    assert_eq!(p.host.as_deref(), Some("rs2000"));
    assert!(p.error.unwrap().contains("timed out"));
    let p = ModulePlan::error("broken", None, "manifest invalid");
    assert_eq!(p.status, Status::Error);
    assert_eq!(p.module, "broken");

    let plans = [
        ModulePlan::skipped(&m),
        ModulePlan::error("x", None, "y"),
        plan(&m, &redis().1),
        plan(&m, &host(vec![], vec![])),
    ];
    let s = Summary::of(&plans);
    assert_eq!(
        (
            s.total,
            s.in_sync,
            s.drift,
            s.skipped,
            s.error,
            s.unreachable
        ),
        (4, 1, 1, 1, 1, 0)
    );
    assert_eq!(s.count(Status::Drift), 1);
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"total":4,"inSync":1,"drift":1,"unreachable":0,"skipped":1,"error":1}"#
    );
}

#[test]
fn json_shape_is_the_spec_s() {
    let m = load(include_str!(
        "../../../examples/home-platform/modules/honcho-api/module.yaml"
    ));
    let live = "ghcr.io/plastic-labs/honcho:3.0.3";
    let c = container("honcho-api", live, &sha('3')).health(Health::Unhealthy);
    let h = host(vec![c], vec![image(&sha('3'), &[live], &[])]);
    let json = serde_json::to_value(plan(&m, &h)).unwrap();
    let expected = serde_json::json!({
        "module": "honcho-api",
        "host": "rs2000",
        "status": "drift",
        "changes": [{
            "field": "container.image",
            "code": "IMAGE_TAG_MISMATCH",
            "desired": "ghcr.io/plastic-labs/honcho:3.0.6",
            "observed": "ghcr.io/plastic-labs/honcho:3.0.3"
        }],
        "warnings": [
            {"code": "CONTAINER_UNHEALTHY", "message": json["warnings"][0]["message"]},
            {"code": "IMAGE_LOCAL_BUILD", "message": json["warnings"][1]["message"]}
        ],
        "evidence": {
            "container": "home-platform-honcho-api-1",
            "containerId": "000000000000",
            "state": "running",
            "health": "unhealthy",
            "imageRef": "ghcr.io/plastic-labs/honcho:3.0.3",
            "imageId": sha('3'),
            "replicas": 1
        }
    });
    assert_eq!(json, expected);
    let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "module", "host", "status", "changes", "warnings", "evidence"
        ]
    );

    let json = serde_json::to_value(ModulePlan::unreachable(&m, "timeout")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"module": "honcho-api", "host": "rs2000", "status": "unreachable",
            "changes": [], "warnings": [], "error": "timeout"})
    );
    for (s, word) in Status::ALL
        .iter()
        .zip(["in-sync", "drift", "unreachable", "skipped", "error"])
    {
        assert_eq!(serde_json::to_value(s).unwrap(), word);
        assert_eq!(s.as_str(), word);
    }
    assert_eq!(
        serde_json::to_value(ChangeCode::ContainerRunningUnexpectedly).unwrap(),
        "CONTAINER_RUNNING_UNEXPECTEDLY"
    );
    assert_eq!(
        serde_json::to_value(WarningCode::NoDesiredImage).unwrap(),
        "NO_DESIRED_IMAGE"
    );
}

#[test]
fn the_fixtures_of_the_evidence_crate_judge_as_expected() {
    let h = HostEvidence::from_api(
        include_bytes!("../../evidence/tests/fixtures/api_containers.json"),
        include_bytes!("../../evidence/tests/fixtures/api_images.json"),
    )
    .unwrap();
    let meerkat = manifest("np-meerkat-frontend")
        .artifact(
            "ghcr.io/fbuchner/meerkat-crm-frontend@sha256:32f73297e128a917c5b2af3c755acaa02f48d1e483ce2a4cf83e6e98ee91ab25",
        )
        .load();
    assert_in_sync(&plan(&meerkat, &h));

    let honcho = load(include_str!(
        "../../../examples/home-platform/modules/honcho-api/module.yaml"
    ));
    let p = plan(&honcho, &h);
    // The one-off run container on 3.0.6 is ignored; the service container runs 3.0.3.
    assert_only_change(&p, ChangeCode::ImageTagMismatch);
    assert!(warned(&p, WarningCode::ContainerUnhealthy));

    let web = manifest("web").artifact("nginx:1.27").load();
    assert_in_sync(&plan(&web, &h));

    let backrest = manifest("backrest")
        .artifact("garethgeorge/backrest:v1.6.1")
        .load();
    assert_only_change(&plan(&backrest, &h), ChangeCode::ContainerNotRunning);

    let redis = manifest("honcho-redis").artifact("redis:7").load();
    assert_only_change(&plan(&redis, &h), ChangeCode::ImageTagMismatch);

    let ops = manifest("ops-tools")
        .container_name("ops-tools")
        .artifact("localhost/ops-tools:dev")
        .stopped()
        .load();
    let p = plan(&ops, &h);
    assert_in_sync(&p);
    assert!(warned(&p, WarningCode::ImageLocalBuild));
}

/// `Change.field` is an enum, serialised as the dotted names the JSON documents have always
/// carried.
#[test]
fn change_fields_serialise_as_their_dotted_names() {
    use platformctl_compare::Field;
    let names: Vec<String> = Field::ALL
        .iter()
        .map(|f| {
            serde_json::to_value(f)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "container.exists",
            "container.running",
            "container.name",
            "container.service_label",
            "container.image"
        ]
    );
    for f in Field::ALL {
        assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        assert_eq!(f.to_string(), f.as_str());
    }
}
