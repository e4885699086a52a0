//! One module's evidence to ADR-0022 metadata, or a refusal.

use platformctl_catalog::validate::image_disagreement;
use platformctl_catalog::{Catalog, Code, Module, Orchestrator, Severity, Tier};
use platformctl_imageref::ImageRef;
use platformctl_yaml_edit::Value;
use serde::Serialize;

use crate::{From, Live, Options, Policy, RefusalCode};

/// What the derived values rest on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The compose image after interpolation.
    pub compose_image: Option<String>,
    /// `spec.runtime.image_observed` as written.
    pub image_observed: Option<String>,
    /// (live) The image the container runs.
    pub live_image: Option<String>,
    /// (live) The repo digest it runs.
    pub live_repo_digest: Option<String>,
}

/// The blocks for one module (each inserted only where missing).
#[derive(Clone, Debug, PartialEq)]
pub struct Blocks {
    /// `spec.source`.
    pub source: Value,
    /// `spec.artifact`.
    pub artifact: Value,
    /// `spec.update`.
    pub update: Value,
    /// Audit snapshot fields of `spec.runtime` to set (`--from live`).
    pub refresh: Vec<(String, String)>,
    /// What they rest on.
    pub evidence: Evidence,
}

type Refused = (RefusalCode, String);

fn no(code: RefusalCode, reason: impl Into<String>) -> Refused {
    (code, reason.into())
}

/// The metadata `m` gets from its evidence, or why it gets none.
pub fn map_module(
    catalog: &Catalog,
    m: &Module,
    opts: &Options,
    live: Option<&Live>,
) -> Result<Blocks, Refused> {
    if m.runtime.orchestrator == Orchestrator::External {
        return Err(no(
            RefusalCode::External,
            "orchestrator is external: there is no image evidence to derive from; write the metadata by hand",
        ));
    }
    let mut ev = Evidence {
        image_observed: m.runtime.image_observed.as_ref().map(|o| o.value.clone()),
        ..Evidence::default()
    };
    let compose_file = m.runtime.compose_file.as_ref().map(|c| c.value.clone());
    let svc = catalog.compose_of(m).and_then(|cf| {
        m.runtime
            .compose_service
            .as_ref()
            .and_then(|s| cf.service(&s.value))
    });
    let Some(svc) = svc else {
        if let Some(f) = first_error(catalog, m) {
            return Err(f);
        }
        return Err(no(
            RefusalCode::NoImageEvidence,
            "the compose service cannot be read: no image to derive from",
        ));
    };
    let Some(img) = &svc.image else {
        if let Some(f) = first_error(catalog, m) {
            return Err(f);
        }
        return Err(no(
            RefusalCode::NoImageEvidence,
            if svc.build {
                "the compose service only has `build:` and no `image:`: no image name to record"
            } else {
                "the compose service has no `image:`"
            },
        ));
    };
    let cf = compose_file.unwrap_or_default();
    if img.raw.contains('$')
        && catalog.findings.iter().any(|f| {
            matches!(f.code, Code::VariableUnset | Code::Interpolation)
                && f.file.as_path() == std::path::Path::new(&cf)
                && f.line == img.pos.line
        })
    {
        return Err(no(
            RefusalCode::VariableUnresolved,
            format!(
                "{cf}:{}: `{}` uses a variable that is not set; set it in the .env beside the compose file",
                img.pos.line, img.raw
            ),
        ));
    }
    if let Some(f) = first_error(catalog, m) {
        return Err(f);
    }
    ev.compose_image = Some(img.value.clone());
    let compose_ref = ImageRef::parse(&img.value).map_err(|e| {
        no(
            RefusalCode::NoImageEvidence,
            format!("{cf}:{}: not an image reference: {e}", img.pos.line),
        )
    })?;
    check_tag(&compose_ref, &format!("{cf}:{}", img.pos.line))?;

    let observed = match &m.runtime.image_observed {
        Some(o) => Some(ImageRef::parse(&o.value).map_err(|e| {
            no(
                RefusalCode::ImageDisagrees,
                format!("`image_observed` is not an image reference: {e}"),
            )
        })?),
        None => None,
    };
    let mut digest = compose_ref.digest().map(ToString::to_string);
    let mut url = None;
    let mut refresh = Vec::new();
    if opts.from == From::Live {
        let l = live.ok_or_else(|| no(RefusalCode::LiveUnobserved, "not observed"))?;
        let (image, repo_digests, source_url) = match l {
            Live::Running {
                image,
                repo_digests,
                source_url,
            } => (image, repo_digests, source_url),
            Live::Missing => {
                return Err(no(
                    RefusalCode::LiveContainerMissing,
                    "no container of this module runs on its host",
                ));
            }
            Live::Unobserved(why) => return Err(no(RefusalCode::LiveUnobserved, why.clone())),
        };
        ev.live_image = Some(image.clone());
        let running = ImageRef::parse(image).map_err(|e| {
            no(
                RefusalCode::LiveImageDiffers,
                format!("the container's image `{image}` is not a reference: {e}"),
            )
        })?;
        if let Some(why) = image_disagreement(&running, &compose_ref) {
            return Err(no(
                RefusalCode::LiveImageDiffers,
                format!(
                    "the container runs `{}` but {cf}:{} declares `{}` ({why}); redeploy or fix compose first",
                    running.familiar(),
                    img.pos.line,
                    compose_ref.familiar()
                ),
            ));
        }
        if running.effective_tag().is_none() || running.tag_is_implied() {
            check_tag(&running, "the container's image")?;
        }
        let mut digests: Vec<String> = repo_digests
            .iter()
            .filter_map(|d| ImageRef::parse(d).ok())
            .filter(|d| d.same_repository(&compose_ref))
            .filter_map(|d| d.digest().map(ToString::to_string))
            .collect();
        digests.sort();
        digests.dedup();
        let d = match digests.as_slice() {
            [d] => d.clone(),
            [] => {
                return Err(no(
                    RefusalCode::LiveNoRepoDigest,
                    format!(
                        "the image has no repo digest for {} (built or loaded locally, never pulled): nothing to pin",
                        compose_ref.familiar_name()
                    ),
                ));
            }
            _ => {
                return Err(no(
                    RefusalCode::LiveNoRepoDigest,
                    format!(
                        "the image has several repo digests for {}: which one compose pulls is not clear",
                        compose_ref.familiar_name()
                    ),
                ));
            }
        };
        if let Some(c) = compose_ref.digest()
            && c.to_string() != d
        {
            return Err(no(
                RefusalCode::LiveImageDiffers,
                format!("compose pins {c} but the container runs {d}"),
            ));
        }
        ev.live_repo_digest = Some(d.clone());
        digest = Some(d);
        url = source_url
            .as_ref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .cloned();
    } else {
        match &observed {
            Some(o) => {
                if let Some(why) = image_disagreement(o, &compose_ref) {
                    return Err(no(
                        RefusalCode::ImageDisagrees,
                        format!(
                            "{cf}:{} declares `{}` but image_observed is `{}` ({why}); observe again (--from live) or fix the manifest",
                            img.pos.line,
                            compose_ref.familiar(),
                            o.familiar()
                        ),
                    ));
                }
                if digest.is_none() {
                    digest = o.digest().map(ToString::to_string);
                }
            }
            None if !svc.build => {
                // Compose alone is the declared intent; that is evidence enough.
            }
            None => {}
        }
    }

    let tag = compose_ref.effective_tag().unwrap_or_default();
    let name = compose_ref.name();
    let reference = match &digest {
        Some(d) => format!("{name}:{tag}@{d}"),
        None => format!("{name}:{tag}"),
    };
    let reference = ImageRef::parse(&reference)
        .map(|r| r.normalized())
        .map_err(|e| no(RefusalCode::NoImageEvidence, e.to_string()))?;
    if opts.from == From::Live {
        let familiar = ImageRef::parse(&reference)
            .map(|r| r.familiar())
            .unwrap_or_else(|_| reference.clone());
        refresh.push(("image_observed".to_string(), familiar));
        refresh.push(("image_observed_at".to_string(), opts.today.to_string()));
    }

    let mut source = vec![
        (
            "type",
            Value::str(if svc.build {
                "local-build"
            } else {
                "upstream-image"
            }),
        ),
        ("repository", Value::str(compose_ref.familiar_name())),
        ("registry", Value::str("upstream-registry")),
        (
            "release_tracking",
            Value::str(if digest.is_some() {
                "digest"
            } else {
                "upstream-tag"
            }),
        ),
    ];
    if let Some(u) = url {
        source.push(("url", Value::str(u)));
    }
    let artifact = Value::map([
        ("type", Value::str("oci-image")),
        ("reference", Value::str(reference)),
    ]);
    let (policy, reason) = update_policy(m, opts.policy);
    let update = Value::map([
        ("policy", Value::str(policy)),
        ("reason", Value::str(reason)),
    ]);
    Ok(Blocks {
        source: Value::map(source),
        artifact,
        update,
        refresh,
        evidence: ev,
    })
}

fn check_tag(r: &ImageRef, at: &str) -> Result<(), Refused> {
    match (r.tag(), r.digest()) {
        (None, Some(_)) => Err(no(
            RefusalCode::DigestWithoutTag,
            format!(
                "{at}: `{}` is pinned by digest without a tag: nothing says which release it is; add the tag (repo:tag@sha256:…)",
                r.original()
            ),
        )),
        (None, None) => Err(no(
            RefusalCode::TagMissing,
            format!(
                "{at}: `{}` has no tag (it means `latest`): pin a release tag first",
                r.original()
            ),
        )),
        (Some("latest"), _) => Err(no(
            RefusalCode::TagLatest,
            format!(
                "{at}: `{}` tracks `latest`: pin a release tag first",
                r.original()
            ),
        )),
        _ => Ok(()),
    }
}

/// `manual` with the reasons for stateful or core modules; otherwise the chosen policy.
fn update_policy(m: &Module, policy: Policy) -> (&'static str, String) {
    let core = m.tier == Some(Tier::Core);
    match (m.stateful, core) {
        (true, true) => (
            "manual",
            "stateful, core tier; upgrades need restore evidence".into(),
        ),
        (true, false) => ("manual", "stateful; upgrades need restore evidence".into()),
        (false, true) => (
            "manual",
            "core tier; the platform depends on it, upgrade by hand".into(),
        ),
        (false, false) => match policy {
            Policy::Manual => (
                "manual",
                "conservative default; no upgrade evidence yet".into(),
            ),
            Policy::Notify => (
                "notify",
                "stateless, not core tier; notify of new releases".into(),
            ),
        },
    }
}

/// The module's first error finding, as a refusal.
fn first_error(catalog: &Catalog, m: &Module) -> Option<Refused> {
    let f = catalog
        .findings_of(&m.name)
        .find(|f| f.severity == Severity::Error)?;
    Some(no(
        RefusalCode::ModuleInvalid,
        format!(
            "{}:{}: {} ({}); fix what `validate` reports first",
            f.file.display(),
            f.line,
            f.message,
            f.code.as_str()
        ),
    ))
}
