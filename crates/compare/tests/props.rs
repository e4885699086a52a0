//! Properties: `plan_module` never panics, never reports drift for a host built exactly from
//! the desired state (no false red), and never reports in sync for a desired digest the image's
//! repo digests do not carry (no false green).

mod support;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use platformctl_catalog::{DesiredState, Module, Spanned};
use platformctl_compare::{Status, plan_module};
use platformctl_evidence::{Container, ContainerState, Health, HostEvidence, Image, labels};
use platformctl_imageref::ImageRef;
use proptest::prelude::*;
use support::*;

/// A module with every optional field set, to mutate.
static BASE: LazyLock<Module> = LazyLock::new(|| {
    manifest("base")
        .container_name("base")
        .observed("redis:7")
        .artifact("redis:7")
        .load()
});

fn set(slot: &mut Option<Spanned<String>>, template: &Spanned<String>, value: Option<String>) {
    *slot = value.map(|v| Spanned {
        value: v,
        ..template.clone()
    });
}

fn hex64() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}"
}

/// Strings that are sometimes references, sometimes IDs, sometimes garbage.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,40}",
        3 => "(ghcr\\.io/|localhost:5000/|docker\\.io/)?(library/)?[a-z]{1,6}(:[a-z0-9.]{1,5})?",
        2 => hex64().prop_map(|h| format!("redis@sha256:{h}")),
        2 => hex64().prop_map(|h| format!("sha256:{h}")),
        1 => Just("redis:7".to_string()),
        1 => Just("<none>:<none>".to_string()),
        1 => Just(String::new()),
    ]
}

fn state() -> impl Strategy<Value = ContainerState> {
    prop_oneof![
        Just(ContainerState::Running),
        Just(ContainerState::Exited),
        Just(ContainerState::Created),
        Just(ContainerState::Paused),
        Just(ContainerState::Restarting),
        Just(ContainerState::Dead),
        ".{0,8}".prop_map(ContainerState::Other),
    ]
}

fn health() -> impl Strategy<Value = Option<Health>> {
    prop_oneof![
        Just(None),
        Just(Some(Health::Healthy)),
        Just(Some(Health::Unhealthy)),
        Just(Some(Health::Starting)),
    ]
}

fn arb_container(ids: Vec<String>) -> impl Strategy<Value = Container> {
    let label_value = prop_oneof![
        Just(PROJECT.to_string()),
        Just("base".to_string()),
        Just("True".to_string()),
        ".{0,10}"
    ];
    let label_key = prop_oneof![
        Just(labels::PROJECT.to_string()),
        Just(labels::SERVICE.to_string()),
        Just(labels::ONEOFF.to_string()),
        Just(labels::NUMBER.to_string()),
        "com\\.docker\\.compose\\.[a-z]{1,6}",
    ];
    (
        prop_oneof![
            Just("base".to_string()),
            Just(format!("{PROJECT}-base-1")),
            Just(format!("{PROJECT}_base_2")),
            ".{0,20}"
        ],
        proptest::collection::btree_map(label_key, label_value, 0..5),
        state(),
        health(),
        text(),
        proptest::sample::select(ids),
        ".{0,70}",
    )
        .prop_map(
            |(name, labels, state, health, image_ref, image_id, id)| Container {
                id,
                name,
                labels,
                state,
                health,
                image_ref,
                image_id,
                config: None,
            },
        )
}

fn arb_image(ids: Vec<String>) -> impl Strategy<Value = Image> {
    (
        proptest::sample::select(ids),
        proptest::collection::vec(text(), 0..4),
        proptest::collection::vec(text(), 0..4),
    )
        .prop_map(|(id, repo_tags, repo_digests)| Image {
            id,
            repo_tags,
            repo_digests,
            source_url: None,
            config: None,
        })
}

fn ids() -> Vec<String> {
    vec![sha('1'), sha('2'), sha('3'), String::new(), "x".to_string()]
}

/// A valid reference: registry, path, tag and/or digest.
#[derive(Clone, Debug)]
struct Ref {
    registry: &'static str,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Ref {
    fn written(&self) -> String {
        let mut s = format!("{}{}", self.registry, self.path);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push_str("@sha256:");
            s.push_str(d);
        }
        s
    }
}

fn arb_ref() -> impl Strategy<Value = Ref> {
    (
        prop_oneof![
            Just(""),
            Just("docker.io/"),
            Just("index.docker.io/"),
            Just("ghcr.io/"),
            Just("registry.internal:5000/"),
            Just("localhost/"),
        ],
        "[a-z0-9]{1,8}(/[a-z0-9]{1,8})?",
        proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}"),
        proptest::option::of(hex64()),
    )
        .prop_map(|(registry, path, tag, digest)| Ref {
            registry,
            path,
            tag,
            digest,
        })
}

/// Everything a host built from a desired state may vary in.
#[derive(Clone, Debug)]
struct Case {
    desired: Ref,
    service: String,
    container_name: Option<String>,
    stopped: bool,
    from_artifact: bool,
    snapshot: u8,
    pinned: Option<bool>,
    number: u32,
    v1_name: bool,
    spelling: u8,
    health: Option<Health>,
    stopped_state: ContainerState,
    other_digests: Vec<String>,
    digest_at: prop::sample::Index,
    other_tags: Vec<String>,
    noise: Vec<(String, bool)>,
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        (
            arb_ref(),
            "[a-z0-9][a-z0-9._-]{0,12}",
            proptest::option::of("[A-Za-z0-9][A-Za-z0-9._-]{0,20}"),
            any::<bool>(),
            any::<bool>(),
            0u8..3,
            proptest::option::of(any::<bool>()),
            1u32..40,
        ),
        (
            any::<bool>(),
            0u8..4,
            health(),
            prop_oneof![Just(ContainerState::Exited), Just(ContainerState::Created)],
            proptest::collection::vec(hex64(), 0..4),
            any::<prop::sample::Index>(),
            proptest::collection::vec("[a-z]{1,6}:[a-z0-9]{1,4}", 0..3),
            proptest::collection::vec(("[a-z0-9]{1,8}", any::<bool>()), 0..4),
        ),
    )
        .prop_map(
            |(
                (
                    desired,
                    service,
                    container_name,
                    stopped,
                    from_artifact,
                    snapshot,
                    pinned,
                    number,
                ),
                (
                    v1_name,
                    spelling,
                    health,
                    stopped_state,
                    other_digests,
                    digest_at,
                    other_tags,
                    noise,
                ),
            )| Case {
                desired,
                service,
                container_name,
                stopped,
                from_artifact,
                snapshot,
                pinned,
                number,
                v1_name,
                spelling,
                health,
                stopped_state,
                other_digests,
                digest_at,
                other_tags,
                noise,
            },
        )
}

fn module_of(case: &Case) -> Module {
    let written = case.desired.written();
    let mut m = manifest("m").service(&case.service);
    if let Some(n) = &case.container_name {
        m = m.container_name(n);
    }
    if case.stopped {
        m = m.stopped();
    }
    if let Some(p) = case.pinned {
        m = m.pinned(p);
    }
    if case.from_artifact {
        m = m.artifact(&written);
        match case.snapshot {
            0 => {}
            1 => m = m.observed(&written),
            _ => m = m.observed("docker.io/library/redis:6.2"),
        }
    } else {
        m = m.observed(&written);
    }
    m.load()
}

/// A host whose container is exactly what the case declares (and unrelated noise around it).
fn host_of(case: &Case, desired: &ImageRef) -> HostEvidence {
    let image_id = sha('c');
    let project = PROJECT;
    let service = &case.service;
    let name = match &case.container_name {
        Some(n) => n.clone(),
        None if case.v1_name => format!("{project}_{service}_{}", case.number),
        None => format!("{project}-{service}-{}", case.number),
    };
    let image_ref = match case.spelling {
        0 => desired.original().to_string(),
        1 => desired.normalized(),
        2 => desired.familiar(),
        _ => image_id.clone(),
    };
    let mut l = BTreeMap::new();
    l.insert(labels::PROJECT.to_string(), project.to_string());
    l.insert(labels::SERVICE.to_string(), service.clone());
    l.insert(labels::NUMBER.to_string(), case.number.to_string());
    l.insert(labels::ONEOFF.to_string(), "False".to_string());
    let c = Container {
        id: hex('d'),
        name,
        labels: l,
        state: if case.stopped {
            case.stopped_state.clone()
        } else {
            ContainerState::Running
        },
        health: case.health,
        image_ref,
        image_id: image_id.clone(),
        config: None,
    };

    // RepoTags: the tag the engine shows (familiar form) when the reference has one.
    let mut repo_tags: Vec<String> = case.other_tags.clone();
    if let Some(tag) = desired.effective_tag() {
        repo_tags.push(format!("{}:{tag}", desired.familiar_name()));
    }
    let mut repo_digests: Vec<String> = case
        .other_digests
        .iter()
        .map(|h| format!("{}@sha256:{h}", desired.familiar_name()))
        .collect();
    if let Some(d) = desired.digest() {
        let at = case.digest_at.index(repo_digests.len() + 1);
        repo_digests.insert(at, format!("{}@{d}", desired.familiar_name()));
    }
    let mut containers = vec![c];
    let mut images = vec![Image {
        id: image_id,
        repo_tags,
        repo_digests,
        source_url: None,
        config: None,
    }];
    for (i, (svc, oneoff)) in case.noise.iter().enumerate() {
        if svc == service {
            continue;
        }
        let mut n = containers[0].clone();
        n.labels.insert(labels::SERVICE.to_string(), svc.clone());
        n.name = format!("{project}-{svc}-{i}");
        n.image_id = sha('e');
        n.image_ref = "busybox:1".to_string();
        n.state = ContainerState::Exited;
        if *oneoff {
            // A one-off of the module's own service, on some other image.
            n.labels
                .insert(labels::SERVICE.to_string(), service.clone());
            n.labels
                .insert(labels::ONEOFF.to_string(), "True".to_string());
            n.name = format!("{project}-{service}-run-{i}");
        }
        containers.push(n);
    }
    images.push(Image {
        id: sha('e'),
        repo_tags: vec!["busybox:1".to_string()],
        repo_digests: vec![],
        source_url: None,
        config: None,
    });
    HostEvidence::new(containers, images)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics(
        service in prop_oneof![Just("base".to_string()), ".{0,12}"],
        container_name in proptest::option::of(prop_oneof![Just("base".to_string()), ".{0,12}"]),
        artifact in proptest::option::of(text()),
        observed in proptest::option::of(text()),
        stopped in any::<bool>(),
        project in prop_oneof![Just(PROJECT.to_string()), ".{0,8}"],
        containers in proptest::collection::vec(arb_container(ids()), 0..5),
        images in proptest::collection::vec(arb_image(ids()), 0..4),
    ) {
        let mut m = BASE.clone();
        let tpl = m.runtime.compose_service.clone().unwrap();
        m.runtime.compose_service.as_mut().unwrap().value = service;
        set(&mut m.runtime.container_name, &tpl, container_name);
        set(&mut m.runtime.image_observed, &tpl, observed);
        set(&mut m.artifact.as_mut().unwrap().reference, &tpl, artifact);
        if stopped {
            m.runtime.desired_state = DesiredState::Stopped;
        }
        let h = HostEvidence::new(containers, images);
        let p = plan_module(&m, &h, &project);
        // Whatever the input, the plan is coherent.
        prop_assert_eq!(p.module.as_str(), "base");
        match p.status {
            Status::InSync => prop_assert!(p.changes.is_empty()),
            Status::Drift => prop_assert!(!p.changes.is_empty()),
            Status::Error => prop_assert!(p.error.is_some()),
            Status::Unreachable | Status::Skipped => prop_assert!(false, "{:?}", p.status),
        }
        serde_json::to_string(&p).unwrap();
    }

    #[test]
    fn a_host_built_from_the_desired_state_is_in_sync(case in arb_case()) {
        let m = module_of(&case);
        let desired = ImageRef::parse(&case.desired.written()).unwrap();
        let h = host_of(&case, &desired);
        let p = plan_module(&m, &h, PROJECT);
        prop_assert_eq!(p.status, Status::InSync, "{:#?}\n{:#?}", p, h);
        prop_assert!(p.changes.is_empty());
        if desired.digest().is_some() {
            prop_assert!(p.evidence.unwrap().repo_digest.is_some());
        }
    }

    #[test]
    fn a_desired_digest_the_repo_digests_lack_is_never_in_sync(
        case in arb_case(),
        digest in hex64(),
    ) {
        let mut case = case;
        case.desired.digest = Some(digest.clone());
        let m = module_of(&case);
        let desired = ImageRef::parse(&case.desired.written()).unwrap();
        let mut h = host_of(&case, &desired);
        // Take the desired digest out of the repo digests, and give the image an ID that
        // equals it: still not proven.
        let wanted = format!("sha256:{digest}");
        for img in &mut h.images {
            img.repo_digests.retain(|d| !d.ends_with(&wanted));
        }
        let old_id = h.containers[0].image_id.clone();
        for img in &mut h.images {
            if img.id == old_id {
                img.id = wanted.clone();
            }
        }
        h.containers[0].image_id = wanted.clone();
        if h.containers[0].image_ref == old_id {
            h.containers[0].image_ref = wanted.clone();
        }
        let h = HostEvidence::new(h.containers, h.images);
        let p = plan_module(&m, &h, PROJECT);
        prop_assert_ne!(p.status, Status::InSync, "{:#?}", p);
    }

    #[test]
    fn another_tag_is_never_in_sync(case in arb_case(), other in "[a-z0-9]{1,5}x") {
        let mut case = case;
        case.desired.digest = None;
        case.desired.tag = Some(format!("{}{other}", case.desired.tag.clone().unwrap_or_else(|| "t".to_string())));
        let m = module_of(&case);
        let desired = ImageRef::parse(&case.desired.written()).unwrap();
        // The host runs the repository at a tag the module does not declare.
        let mut running = case.clone();
        running.desired.tag = Some(other);
        let live = ImageRef::parse(&running.desired.written()).unwrap();
        prop_assume!(live != desired);
        let h = host_of(&running, &live);
        let p = plan_module(&m, &h, PROJECT);
        prop_assert_ne!(p.status, Status::InSync, "{:#?}", p);
    }
}
