//! Property tests over the manifest loader: whatever the text, it ends in findings with
//! positions, never a panic; and a manifest generated valid is judged valid (no false red).

use platformctl_catalog::module::check_manifest;
use platformctl_catalog::{Code, Severity};
use proptest::prelude::*;

const VALID: &str = "apiVersion: platform/v2
kind: Module
metadata:
  name: minio
  description: S3-compatible object store
  owner: ops
  tier: core
  stateful: true
spec:
  runtime:
    host: rs2000
    orchestrator: docker-compose
    compose_file: compose/infra/compose.yaml
    compose_service: minio
    desired_state: running
    image_observed: minio/minio:RELEASE.2024-01-16T16-07-38Z
    image_observed_at: 2026-05-20
    image_digest_pinned_in_compose: false
  source:
    type: upstream-image
    repository: minio/minio
    registry: upstream-registry
    release_tracking: upstream-tag
    url: https://github.com/minio/minio
  artifact:
    type: oci-image
    reference: docker.io/minio/minio:RELEASE.2024-01-16T16-07-38Z
  update:
    policy: manual
    reason: stateful; upgrades need restore evidence
";

fn check(text: &str) -> Vec<platformctl_catalog::Finding> {
    let mut out = Vec::new();
    let _ = check_manifest(text, "minio", false, &mut out);
    for f in &out {
        assert!(f.line >= 1 && f.column >= 1, "{f:?}");
        assert!(!f.message.is_empty());
        assert_eq!(f.module.as_deref(), Some("minio"));
    }
    out
}

#[test]
fn the_reference_manifest_is_valid() {
    assert_eq!(check(VALID), vec![]);
}

fn tier() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["core", "infra", "edge", "app"])
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,20}[a-z0-9]"
}

fn tag() -> impl Strategy<Value = String> {
    "[0-9]{1,2}\\.[0-9]{1,2}(\\.[0-9]{1,3})?(-[a-z]{1,6})?"
}

prop_compose! {
    fn valid_manifest()(
        name in word(), tier in tier(), stateful in any::<Option<bool>>(),
        host in word(), service in word(), repo in word(), t in tag(),
        desc in "[A-Za-z][A-Za-z0-9 ,.()-]{0,60}",
        with_artifact in any::<bool>(), stopped in any::<bool>(),
        digest in proptest::option::of("[0-9a-f]{64}"),
        quote in any::<bool>(),
    ) -> (String, String) {
        let q = |s: &str| if quote { format!("\"{s}\"") } else { s.to_string() };
        let image = match &digest {
            Some(d) => format!("ghcr.io/example/{repo}:{t}@sha256:{d}"),
            None => format!("ghcr.io/example/{repo}:{t}"),
        };
        let mut m = format!(
            "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {}\n  description: {}\n  tier: {tier}\n",
            q(&name), q(desc.trim()),
        );
        if let Some(s) = stateful {
            m.push_str(&format!("  stateful: {s}\n"));
        }
        m.push_str(&format!(
            "spec:\n  runtime:\n    host: {}\n    orchestrator: docker-compose\n    compose_file: {}\n    compose_service: {}\n    image_observed: {}\n    image_digest_pinned_in_compose: {}\n",
            q(&host), q("compose/apps/compose.yaml"), q(&service), q(&image), digest.is_some(),
        ));
        if stopped {
            m.push_str("    desired_state: stopped\n");
        }
        if with_artifact {
            m.push_str(&format!("  artifact:\n    type: oci-image\n    reference: {}\n", q(&image)));
        }
        (name, m)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary text: findings, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text);
    }

    /// YAML-shaped noise built from the manifest's own vocabulary.
    #[test]
    fn yamlish_noise_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "apiVersion: ", "platform/v2", "kind: Module", "metadata:", "spec:", "runtime:", "  ", "    ",
        "\n", "- ", ": ", "&a ", "*a", "<<: *a", "[", "]", "{", "}", "'", "\"", "#", "|", ">",
        "true", "null", "1.5", "name", "host", "tier: core", "!!str ", "---", "...", "${X}", "\t",
    ]), 0..80)) {
        check(&parts.concat());
    }

    /// A valid manifest with bytes deleted, duplicated or replaced.
    #[test]
    fn mutated_manifest_never_panics(at in 0usize..VALID.len(), len in 0usize..40, with in "\\PC{0,8}") {
        let mut bytes = VALID.as_bytes().to_vec();
        let end = (at + len).min(bytes.len());
        bytes.splice(at..end, with.bytes());
        let text = String::from_utf8_lossy(&bytes);
        check(&text);
    }

    /// Generated valid manifests are valid: no false red from the schema checks.
    #[test]
    fn generated_valid_manifests_have_no_findings((name, text) in valid_manifest()) {
        let mut out = Vec::new();
        let m = check_manifest(&text, &name, true, &mut out).expect("a model");
        prop_assert!(out.is_empty(), "{text}\n{out:#?}");
        prop_assert_eq!(m.name, name);
    }

    /// Changing the tier to a word outside the set is always one INVALID_VALUE error on line 6.
    #[test]
    fn a_bad_tier_is_always_found(bad in "[a-z]{3,10}") {
        prop_assume!(!["core", "infra", "edge", "app"].contains(&bad.as_str()));
        let text = VALID.replace("tier: core", &format!("tier: {bad}"));
        let out = check(&text);
        let errors: Vec<_> = out.iter().filter(|f| f.severity == Severity::Error).collect();
        prop_assert_eq!(errors.len(), 1);
        prop_assert_eq!(errors[0].code, Code::InvalidValue);
        prop_assert_eq!(errors[0].line, 7);
    }
}
