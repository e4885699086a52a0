//! Registry evidence (SPEC §7) never changes a verdict: it only removes
//! `IMAGE_DIGEST_NOT_VERIFIED` when proven, or adds its own warnings.

use platformctl_compare::{
    Evidence, ModulePlan, RegistryFinding, Status, Warning, WarningCode, apply_registry,
};

fn plan(status: Status) -> ModulePlan {
    let mut p = ModulePlan::error("web", Some("h"), "x");
    p.status = status;
    p.error = None;
    p.warnings = vec![Warning {
        code: WarningCode::ImageDigestNotVerified,
        message: "tag only".into(),
    }];
    p.evidence = Some(Evidence {
        container: "home-platform-web-1".into(),
        container_id: "0123456789ab".into(),
        state: "running".into(),
        health: None,
        image_ref: "127.0.0.1:5000/web:1.0".into(),
        image_id: format!("sha256:{}", "c".repeat(64)),
        repo_digest: None,
        replicas: 1,
        digest_verified_by: None,
    });
    p
}

fn codes(p: &ModulePlan) -> Vec<&'static str> {
    p.warnings.iter().map(|w| w.code.as_str()).collect()
}

#[test]
fn proven_moved_and_trouble() {
    for status in [Status::InSync, Status::Drift] {
        let mut p = plan(status);
        apply_registry(
            &mut p,
            &RegistryFinding::Current {
                matched: "sha256:aa".into(),
            },
        );
        assert_eq!(p.status, status);
        assert!(codes(&p).is_empty());
        let e = p.evidence.as_ref().unwrap();
        assert_eq!(e.digest_verified_by.as_deref(), Some("registry"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["evidence"]["digestVerifiedBy"], "registry");

        let mut p = plan(status);
        apply_registry(&mut p, &RegistryFinding::TagMoved("moved".into()));
        assert_eq!(p.status, status);
        assert_eq!(
            codes(&p),
            ["IMAGE_DIGEST_NOT_VERIFIED", "UPSTREAM_TAG_MOVED"]
        );

        for (f, code) in [
            (
                RegistryFinding::Unreachable("down".into()),
                "REGISTRY_UNREACHABLE",
            ),
            (
                RegistryFinding::Unauthorized("no".into()),
                "REGISTRY_UNAUTHORIZED",
            ),
            (
                RegistryFinding::NotFound("gone".into()),
                "REGISTRY_NOT_FOUND",
            ),
        ] {
            let mut p = plan(status);
            apply_registry(&mut p, &f);
            assert_eq!(p.status, status);
            assert_eq!(codes(&p), ["IMAGE_DIGEST_NOT_VERIFIED", code]);
        }
        let mut p = plan(status);
        apply_registry(&mut p, &RegistryFinding::Unverified);
        assert_eq!(codes(&p), ["IMAGE_DIGEST_NOT_VERIFIED"]);
    }
    // An unreachable host's plan is not proven by a registry.
    let mut p = plan(Status::Unreachable);
    apply_registry(
        &mut p,
        &RegistryFinding::Current {
            matched: "sha256:aa".into(),
        },
    );
    assert_eq!(codes(&p), ["IMAGE_DIGEST_NOT_VERIFIED"]);
}
