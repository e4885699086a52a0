//! Decoding real-shaped engine answers (fixtures written after Engine API v1.41–v1.47 and
//! `docker inspect` output), hostile input, and scale.

use platformctl_evidence::{
    Answer, Container, ContainerState, Health, HostEvidence, Image, decode, labels,
};

const API_CONTAINERS: &[u8] = include_bytes!("fixtures/api_containers.json");
const API_IMAGES: &[u8] = include_bytes!("fixtures/api_images.json");
const CLI_CONTAINERS: &[u8] = include_bytes!("fixtures/cli_containers.json");
const CLI_IMAGES: &[u8] = include_bytes!("fixtures/cli_images.json");

const MEERKAT_DIGEST: &str =
    "sha256:32f73297e128a917c5b2af3c755acaa02f48d1e483ce2a4cf83e6e98ee91ab25";

fn by_name<'a>(cs: &'a [Container], name: &str) -> &'a Container {
    cs.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn image<'a>(images: &'a [Image], tag: &str) -> &'a Image {
    images
        .iter()
        .find(|i| i.repo_tags.iter().any(|t| t == tag))
        .unwrap_or_else(|| panic!("no image tagged {tag}"))
}

#[test]
fn api_containers_fixture() {
    let cs = decode::api_containers(API_CONTAINERS).unwrap();
    assert_eq!(cs.len(), 12);

    let minio = by_name(&cs, "home-platform-minio-1");
    assert_eq!(minio.project(), Some("home-platform"));
    assert_eq!(minio.service(), Some("minio"));
    assert_eq!(minio.number(), Some(1));
    assert!(!minio.is_oneoff());
    assert_eq!(minio.state, ContainerState::Running);
    assert_eq!(minio.health, Some(Health::Healthy));
    assert_eq!(minio.image_ref, "minio/minio:RELEASE.2024-11-07T00-52-20Z");
    assert!(minio.image_id.starts_with("sha256:"));
    assert_eq!(minio.id.len(), 64);
    assert_eq!(minio.short_id().len(), 12);
    // Only compose labels are kept.
    assert!(minio.labels.keys().all(|k| k.starts_with(labels::PREFIX)));
    assert!(!minio.labels.contains_key("description"));
    assert_eq!(minio.labels.len(), 10);

    // Compose v1: underscores, and a legacy link alias among the names.
    let web = by_name(&cs, "home-platform_web_1");
    assert_eq!(web.service(), Some("web"));
    assert_eq!(web.label("com.docker.compose.version"), Some("1.29.2"));
    assert_eq!(web.health, None);

    let run = by_name(&cs, "home-platform-honcho-api-run-3f9a1c2b7e4d");
    assert!(run.is_oneoff());
    assert_eq!(run.service(), Some("honcho-api"));

    let backrest = by_name(&cs, "home-platform-backrest-1");
    assert_eq!(backrest.state, ContainerState::Exited);
    assert_eq!(backrest.state.as_str(), "exited");
    assert_eq!(backrest.health, None);

    let mailpit = by_name(&cs, "home-platform-mailpit-1");
    assert_eq!(mailpit.state, ContainerState::Created);

    let honcho = by_name(&cs, "home-platform-honcho-api-1");
    assert_eq!(honcho.health, Some(Health::Unhealthy));
    assert_eq!(honcho.image_ref, "ghcr.io/plastic-labs/honcho:3.0.3");

    let kuma = by_name(&cs, "home-platform-uptime-kuma-1");
    assert_eq!(kuma.health, Some(Health::Starting));

    // The tag moved after the container started: the list API shows the image ID.
    let redis = by_name(&cs, "home-platform-honcho-redis-1");
    assert_eq!(redis.image_ref, redis.image_id);

    // No compose labels at all, and `Labels: null`.
    let wt = by_name(&cs, "watchtower");
    assert!(wt.labels.is_empty());
    assert_eq!(wt.project(), None);
}

#[test]
fn api_images_fixture() {
    let images = decode::api_images(API_IMAGES).unwrap();
    assert_eq!(images.len(), 14);

    // Several repo digests, the one a manifest would pin is the third.
    let meerkat = image(&images, "ghcr.io/fbuchner/meerkat-crm-frontend:latest");
    assert_eq!(meerkat.repo_digests.len(), 3);
    assert!(meerkat.repo_digests[2].ends_with(MEERKAT_DIGEST));
    assert!(!meerkat.id.ends_with(&MEERKAT_DIGEST["sha256:".len()..]));

    // Locally built: RepoDigests [] and null.
    assert!(
        image(&images, "home-platform-homepage-custom:latest")
            .repo_digests
            .is_empty()
    );
    assert!(
        image(&images, "localhost/ops-tools:dev")
            .repo_digests
            .is_empty()
    );

    // `<none>:<none>` / `<none>@<none>` are dropped; RepoTags null is empty.
    let dangling: Vec<_> = images
        .iter()
        .filter(|i| i.repo_tags.is_empty() && i.repo_digests.is_empty())
        .collect();
    assert_eq!(dangling.len(), 1);
    assert!(
        images
            .iter()
            .flat_map(|i| i.repo_tags.iter().chain(&i.repo_digests))
            .all(|s| !s.contains("<none>"))
    );
    let untagged = images
        .iter()
        .find(|i| i.repo_tags.is_empty() && !i.repo_digests.is_empty())
        .unwrap();
    assert!(untagged.repo_digests[0].starts_with("redis@sha256:"));
}

#[test]
fn host_evidence_keeps_the_images_in_use() {
    let host = HostEvidence::from_api(API_CONTAINERS, API_IMAGES).unwrap();
    // 14 images listed: the dangling one and the new redis:7 run no container.
    assert_eq!(host.images.len(), 12);
    for c in &host.containers {
        let img = host.image_of(c).unwrap();
        assert_eq!(img.id, c.image_id);
    }
    assert!(host.image("sha256:nope").is_none());
    assert!(
        host.images
            .iter()
            .all(|i| !i.repo_tags.contains(&"redis:7".to_string()))
    );

    // Duplicates (the same image listed twice) collapse to one.
    let mut images = decode::api_images(API_IMAGES).unwrap();
    images.extend(decode::api_images(API_IMAGES).unwrap());
    let host = HostEvidence::new(decode::api_containers(API_CONTAINERS).unwrap(), images);
    assert_eq!(host.images.len(), 12);
}

#[test]
fn cli_fixtures() {
    let cs = decode::cli_containers(CLI_CONTAINERS).unwrap();
    assert_eq!(cs.len(), 9);
    let minio = by_name(&cs, "home-platform-minio-1");
    assert_eq!(minio.state, ContainerState::Running);
    assert_eq!(minio.health, Some(Health::Healthy));
    assert_eq!(minio.service(), Some("minio"));
    assert!(!minio.labels.contains_key("description"));
    assert_eq!(
        by_name(&cs, "home-platform-honcho-api-1").health,
        Some(Health::Unhealthy)
    );
    assert_eq!(
        by_name(&cs, "home-platform-backrest-1").state,
        ContainerState::Exited
    );
    assert!(by_name(&cs, "home-platform-honcho-api-run-3f9a1c2b7e4d").is_oneoff());
    // Config.Image keeps the reference even after the tag moved.
    let redis = by_name(&cs, "home-platform-honcho-redis-1");
    assert_eq!(redis.image_ref, "redis:7");
    assert!(redis.image_id.starts_with("sha256:"));

    // The same containers as the API list, whichever way they were observed.
    let api = decode::api_containers(API_CONTAINERS).unwrap();
    for c in &cs {
        let a = by_name(&api, &c.name);
        assert_eq!(a.id, c.id);
        assert_eq!(a.labels, c.labels);
        assert_eq!(a.image_id, c.image_id);
        assert_eq!(a.state, c.state);
    }

    let images = decode::cli_images(CLI_IMAGES).unwrap();
    assert_eq!(images.len(), 11);
    let host = HostEvidence::from_cli(CLI_CONTAINERS, CLI_IMAGES).unwrap();
    for c in &host.containers {
        assert!(host.image_of(c).is_some(), "{}", c.name);
    }
}

#[test]
fn nulls_and_absent_fields_are_empty() {
    let cs = decode::api_containers(
        br#"[{"Id":"a","Names":null,"Image":null,"ImageID":null,"Labels":null,"State":null,"Status":null}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].name, "");
    assert!(cs[0].labels.is_empty());
    assert_eq!(cs[0].state, ContainerState::Other("unknown".into()));
    let cs = decode::api_containers(br#"[{"Id":"a"}]"#).unwrap();
    assert_eq!(cs[0].image_id, "");
    assert_eq!(decode::api_containers(b"null").unwrap(), vec![]);
    assert_eq!(decode::api_containers(b" [ ] ").unwrap(), vec![]);

    let images =
        decode::api_images(br#"[{"Id":"sha256:1","RepoTags":null,"RepoDigests":null}]"#).unwrap();
    assert!(images[0].repo_tags.is_empty() && images[0].repo_digests.is_empty());
    let images = decode::cli_images(br#"[{"Id":"sha256:1","RepoTags":[null,"a:1"]}]"#).unwrap();
    assert_eq!(images[0].repo_tags, ["a:1"]);

    let cs = decode::cli_containers(
        br#"[{"Id":"a","Name":"/x","Config":null,"State":{"Running":true,"Health":null}}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].name, "x");
    assert_eq!(cs[0].state, ContainerState::Running);
    let cs = decode::cli_containers(
        br#"[{"Id":"a","State":{"Status":"running","Health":{"Status":"none"}}}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].health, None);
}

#[test]
fn state_and_health_fallbacks() {
    // No State (very old engines): read from Status.
    let cs = decode::api_containers(
        br#"[{"Id":"a","Status":"Up 2 hours (Paused)"},{"Id":"b","Status":"Exited (1) 5 seconds ago"},
             {"Id":"c","State":"RUNNING"},{"Id":"d","State":"hibernating"}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].state, ContainerState::Paused);
    assert_eq!(cs[1].state, ContainerState::Exited);
    assert_eq!(cs[2].state, ContainerState::Running);
    assert_eq!(cs[3].state, ContainerState::Other("hibernating".into()));
    assert_eq!(cs[3].state.as_str(), "hibernating");

    // API ≥ 1.52 carries a Health object; it wins over the Status text.
    let cs = decode::api_containers(
        br#"[{"Id":"a","State":"running","Status":"Up 1 minute","Health":{"Status":"unhealthy","FailingStreak":3}}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].health, Some(Health::Unhealthy));

    // A single name string, and link aliases before the own name.
    let cs = decode::api_containers(
        br#"[{"Id":"a","Names":"/solo"},{"Id":"b","Names":["/app/db","/db"]},{"Id":"c","Names":["/x/y"]}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].name, "solo");
    assert_eq!(cs[1].name, "db");
    assert_eq!(cs[2].name, "x/y");

    // Escaped strings decode (owned rather than borrowed).
    let cs = decode::api_containers(
        br#"[{"Id":"a","Labels":{"com.docker.compose.service":"w\u0065b"}}]"#,
    )
    .unwrap();
    assert_eq!(cs[0].service(), Some("web"));
}

#[test]
fn errors_say_where_and_never_echo_values() {
    let secret = "hunter2-SECRET-VALUE";
    let cases: Vec<(Answer, Vec<u8>)> = vec![
        (
            Answer::ApiContainers,
            format!(r#"[{{"Id":"a"}},{{"Id":"b","Labels":"TOKEN={secret}"}}]"#).into_bytes(),
        ),
        (
            Answer::ApiContainers,
            format!(r#"[{{"Id":"a","Labels":{{"com.docker.compose.project":["{secret}"]}}}}]"#)
                .into_bytes(),
        ),
        (
            Answer::CliContainers,
            format!(r#"[{{"Id":"a","Config":{{"Env":"{secret}","Image":7}}}}]"#).into_bytes(),
        ),
        (
            Answer::CliContainers,
            format!(r#"[{{"Id":"a","Config":{{"Labels":{{"x":"{secret}"}},"Image":{{"{secret}":1}}}}}}]"#).into_bytes(),
        ),
        (
            Answer::ApiImages,
            format!(r#"[{{"Id":"{secret}","RepoTags":"{secret}"}}]"#).into_bytes(),
        ),
        (Answer::CliImages, format!(r#"[{{"Id":["{secret}"]}}]"#).into_bytes()),
        (
            Answer::ApiContainer,
            format!(r#"{{"Id":"a","Config":{{"Env":"{secret}","Image":7}}}}"#).into_bytes(),
        ),
        (
            Answer::ApiContainer,
            format!(r#"{{"Id":"a"}} {secret}"#).into_bytes(),
        ),
        (Answer::ApiImages, format!(r#"{{"{secret}":1}}"#).into_bytes()),
        (Answer::ApiImages, format!(r#"["{secret}"]"#).into_bytes()),
        (Answer::ApiImages, format!(r#"[{{"Id":"a"}}] {secret}"#).into_bytes()),
        (Answer::ApiImages, format!(r#"[{{"Id":"{secret}"#).into_bytes()),
        (
            Answer::ApiImage,
            format!(r#"{{"Id":"a","Config":{{"Env":["X={secret}"],"Cmd":7}}}}"#).into_bytes(),
        ),
        (
            Answer::ApiContainer,
            format!(r#"{{"Id":"a","Config":{{"Env":["X={secret}"]}},"HostConfig":{{"RestartPolicy":"{secret}"}}}}"#).into_bytes(),
        ),
    ];
    for (answer, json) in cases {
        let err = match answer {
            Answer::ApiContainers => decode::api_containers(&json).map(drop),
            Answer::ApiImages => decode::api_images(&json).map(drop),
            Answer::CliContainers => decode::cli_containers(&json).map(drop),
            Answer::CliImages => decode::cli_images(&json).map(drop),
            Answer::ApiContainer => decode::api_container(&json).map(drop),
            Answer::ApiImage => decode::api_image(&json).map(drop),
        }
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.answer(), answer);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains(answer.as_str()), "{text}");
        assert!(err.line() >= 1, "{text}");
    }

    let err = decode::api_containers(br#"[{"Id":"a"},{"Id":"b","Labels":"x"}]"#).unwrap_err();
    assert_eq!(err.item(), Some(1));
    assert_eq!(
        err.message(),
        "invalid type: string, expected a map of labels"
    );
    assert_eq!(
        err.to_string(),
        "cannot decode the answer to `GET /containers/json` (item 1) at line 1 column 34: \
         invalid type: string, expected a map of labels"
    );

    let err = decode::api_images(br#"[{"RepoTags":[]}]"#).unwrap_err();
    assert_eq!(err.message(), "missing field `Id`");
    let err = decode::api_images(b"[]x").unwrap_err();
    assert_eq!(err.item(), None);
    assert_eq!(err.message(), "trailing characters");
    let err = decode::api_images(b"").unwrap_err();
    assert!(err.message().contains("EOF"), "{err}");
    let deep = "[".repeat(10_000);
    assert!(decode::api_images(deep.as_bytes()).is_err());
    let deep = format!(r#"[{{"Id":"a","Mounts":{}}}]"#, "[".repeat(10_000));
    assert!(decode::api_containers(deep.as_bytes()).is_err());
}

#[test]
fn thousands_of_containers_decode_quickly() {
    // 2,000 containers of the fixture's shape (about 2 KB each, like a real list answer).
    let one: Vec<serde_json::Value> = serde_json::from_slice(API_CONTAINERS).unwrap();
    let mut many = Vec::with_capacity(2000);
    for i in 0..2000 {
        let mut c = one[i % one.len()].clone();
        c["Id"] = format!("{i:064x}").into();
        c["Names"] = serde_json::json!([format!("/home-platform-svc{i}-1")]);
        many.push(c);
    }
    let json = serde_json::to_vec(&many).unwrap();
    assert!(json.len() > 2_000_000);
    let start = std::time::Instant::now();
    let cs = decode::api_containers(&json).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(cs.len(), 2000);
    assert_eq!(cs[1999].name, "home-platform-svc1999-1");
    // Generous even for an unoptimised build on a busy machine; release takes milliseconds.
    assert!(elapsed.as_secs() < 5, "{elapsed:?}");
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    fn all(json: &[u8]) {
        let _ = decode::api_containers(json);
        let _ = decode::api_images(json);
        let _ = decode::cli_containers(json);
        let _ = decode::cli_images(json);
    }

    fn fixture() -> impl Strategy<Value = &'static [u8]> {
        prop_oneof![
            Just(API_CONTAINERS),
            Just(API_IMAGES),
            Just(CLI_CONTAINERS),
            Just(CLI_IMAGES),
        ]
    }

    /// JSON-ish fragments to splice in: structure, nulls, wrong types, escapes.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"null".to_vec()),
            Just(b"[".to_vec()),
            Just(b"]".to_vec()),
            Just(b"{".to_vec()),
            Just(b"}".to_vec()),
            Just(b",".to_vec()),
            Just(b":".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"\\u0000".to_vec()),
            Just(b"\\ud800".to_vec()),
            Just(b"1e999".to_vec()),
            Just(b"-0".to_vec()),
            Just(b"{\"Id\":null}".to_vec()),
            Just(b"\xff\xfe".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            all(&bytes);
        }

        #[test]
        fn mutated_answers_never_panic(
            json in fixture(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..16, fragment()), 1..6),
        ) {
            let mut bytes = json.to_vec();
            for (at, cut, insert) in edits {
                let start = at.index(bytes.len() + 1);
                let end = (start + cut).min(bytes.len());
                bytes.splice(start..end, insert);
            }
            all(&bytes);
        }

        #[test]
        fn truncated_answers_fail_cleanly(json in fixture(), at in any::<prop::sample::Index>()) {
            let cut = at.index(json.len());
            let text = &json[..cut];
            // A truncated array never decodes (unless nothing is left of it but whitespace).
            if !text.iter().all(u8::is_ascii_whitespace) {
                prop_assert!(decode::api_containers(text).is_err());
                prop_assert!(decode::cli_images(text).is_err());
            }
        }
    }
}

#[test]
fn a_containers_inspect_decodes_like_an_item_of_docker_inspect() {
    let one = br#"{"Id":"c1","Name":"/p-web-1","Image":"sha256:aa","Config":{"Image":"web:1","Env":["A=b"],"Labels":{"com.docker.compose.project":"p","other":"x"}},"State":{"Status":"running","Running":true,"Health":{"Status":"healthy"}}}"#;
    let c = decode::api_container(one).unwrap();
    let mut list = b"[".to_vec();
    list.extend_from_slice(one);
    list.push(b']');
    assert_eq!(c, decode::cli_containers(&list).unwrap().remove(0));
    assert_eq!(c.image_ref, "web:1");
    assert_eq!(c.image_id, "sha256:aa");
    assert_eq!(c.name, "p-web-1");
    assert!(decode::api_container(b"[]").is_err());
}

#[test]
fn an_images_source_label_is_kept_from_either_answer() {
    let api = br#"[
      {"Id":"sha256:a","RepoTags":["a:1"],"Labels":{"org.opencontainers.image.source":"https://github.com/o/a","maintainer":"x"}},
      {"Id":"sha256:b","RepoTags":["b:1"],"Labels":{"org.label-schema.vcs-url":"https://github.com/o/b"}},
      {"Id":"sha256:c","RepoTags":["c:1"],"Labels":{"org.label-schema.vcs-url":"https://old","org.opencontainers.image.source":"https://new"}},
      {"Id":"sha256:d","RepoTags":["d:1"],"Labels":null},
      {"Id":"sha256:e","RepoTags":["e:1"],"Labels":{"org.opencontainers.image.source":"  ","org.label-schema.vcs-url":"https://github.com/o/e"}},
      {"Id":"sha256:f","RepoTags":["f:1"],"Labels":{"org.opencontainers.image.source":null}}
    ]"#;
    let images = decode::api_images(api).unwrap();
    let url = |tag| image(&images, tag).source_url.as_deref();
    assert_eq!(url("a:1"), Some("https://github.com/o/a"));
    assert_eq!(url("b:1"), Some("https://github.com/o/b"));
    assert_eq!(url("c:1"), Some("https://new"), "the OCI label wins");
    assert_eq!(url("d:1"), None);
    assert_eq!(
        url("e:1"),
        Some("https://github.com/o/e"),
        "a blank label is no answer"
    );
    assert_eq!(url("f:1"), None);

    let cli = br#"[{"Id":"sha256:a","RepoTags":["a:1"],"RepoDigests":[],
      "Config":{"Env":["PATH=/bin"],"Labels":{"org.opencontainers.image.source":"https://github.com/o/a"}}},
      {"Id":"sha256:b","RepoTags":["b:1"],"Config":{"Labels":null}},
      {"Id":"sha256:c","RepoTags":["c:1"],"Config":null}]"#;
    let images = decode::cli_images(cli).unwrap();
    assert_eq!(
        image(&images, "a:1").source_url.as_deref(),
        Some("https://github.com/o/a")
    );
    assert_eq!(image(&images, "b:1").source_url, None);
    assert_eq!(image(&images, "c:1").source_url, None);
    // The fixtures carry no source label.
    for i in decode::api_images(API_IMAGES).unwrap() {
        assert_eq!(i.source_url, None);
    }
}
