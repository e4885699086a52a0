//! Cross-checks: what no single file can tell (SPEC §4).
//!
//! The host exists, the compose file and service exist, the compose image agrees with the
//! artifact, the digest-pin flag agrees with the compose file, container names agree with
//! compose and are unique per host, each compose service has at most one module, and the
//! compose project is the platform's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use platformctl_diagnostics::did_you_mean;
use platformctl_imageref::ImageRef;

use crate::compose::{ComposeFile, Service};
use crate::finding::{Code, Finding};
use crate::module::{LoadedModule, Module};
use crate::platform::Platform;

/// What the cross-checks read: the parts of a catalog once every file is loaded, before its
/// findings are known. [`crate::Catalog::load`] builds it; the checks never see the catalog.
#[derive(Clone, Copy, Debug)]
pub struct Loaded<'a> {
    /// The platform root.
    pub root: &'a Path,
    /// The inventory.
    pub platform: &'a Platform,
    /// Every module folder.
    pub modules: &'a [LoadedModule],
    /// Compose files by path (relative to the root); `None` when missing or unparseable.
    pub compose: &'a BTreeMap<PathBuf, Option<ComposeFile>>,
}

impl<'a> Loaded<'a> {
    /// The modules whose manifests parsed.
    pub fn modules(&self) -> impl Iterator<Item = &'a Module> + use<'a> {
        self.modules.iter().filter_map(|m| m.module.as_ref())
    }
}

/// Runs every cross-check over the loaded parts of a catalog.
pub fn cross_check(cat: &Loaded<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let hosts: Vec<&str> = cat.platform.hosts.keys().map(String::as_str).collect();
    // (host, compose file, service): a service belongs to at most one module per host; the
    // same stack on several hosts (node-exporter everywhere) is normal.
    let mut claims: HashMap<(&str, &str, &str), &Module> = HashMap::new();
    let mut container_names: HashMap<(&str, String), &Module> = HashMap::new();
    let mut claimed_services: HashMap<&Path, HashSet<&str>> = HashMap::new();

    for m in cat.modules() {
        let start = out.len();
        let mut claimed_twice = false;
        check_host(m, &hosts, &cat.platform.rejected_hosts, &mut out);
        if m.is_observed() {
            check_compose(cat, m, &mut out);
        }
        if let Some(obs) = &m.runtime.image_observed
            && let Err(e) = ImageRef::parse(obs)
        {
            out.push(
                Finding::new(
                    Code::ImageInvalid,
                    &m.file,
                    obs.pos,
                    format!("`spec.runtime.image_observed` is not an image reference: {e}"),
                )
                .width(obs.width),
            );
        }
        // One module per compose service.
        if m.is_observed()
            && let (Some(cf), Some(svc)) = (&m.runtime.compose_file, &m.runtime.compose_service)
        {
            claimed_services
                .entry(Path::new(cf.value.as_str()))
                .or_default()
                .insert(svc.value.as_str());
            let host = m.runtime.host.as_ref().map_or("", |h| h.value.as_str());
            if let Some(first) = claims.insert((host, cf.value.as_str(), svc.value.as_str()), m) {
                claimed_twice = true;
                out.push(
                    Finding::new(
                        Code::ComposeServiceClaimed,
                        &m.file,
                        svc.pos,
                        format!(
                            "compose service `{}` of {} on host `{host}` is already the module `{}`",
                            svc.value, cf.value, first.name
                        ),
                    )
                    .width(svc.width)
                    .hint("a compose service belongs to at most one module per host"),
                );
            }
        }
        // Container names unique per host (a second claim of a service is reported once).
        if m.is_observed()
            && !claimed_twice
            && let Some(host) = &m.runtime.host
            && let Some(name) = m.expected_container_name(&cat.platform.compose_project)
            && let Some(first) = container_names.insert((host.value.as_str(), name.clone()), m)
        {
            let (pos, width) = m
                .runtime
                .container_name
                .as_ref()
                .or(m.runtime.compose_service.as_ref())
                .map_or((m.name_pos, 1), |s| (s.pos, s.width));
            out.push(
                Finding::new(
                    Code::ContainerNameDuplicate,
                    &m.file,
                    pos,
                    format!(
                        "container name `{name}` on host `{}` is also expected by module `{}`",
                        host.value, first.name
                    ),
                )
                .width(width),
            );
        }
        for f in &mut out[start..] {
            f.module.get_or_insert_with(|| m.name.clone());
        }
    }

    // Compose files: their project, and services no module claims.
    let unparsed_claims: HashSet<&str> = cat
        .modules
        .iter()
        .filter(|m| m.module.is_none())
        .flat_map(|m| m.may_claim.iter().map(String::as_str))
        .collect();
    let project = cat.platform.compose_project.as_str();
    for (path, file) in cat.compose {
        let Some(file) = file else { continue };
        if let Some(name) = &file.name
            && !project.is_empty()
            && name != project
        {
            out.push(
                Finding::new(
                    Code::ComposeProjectMismatch,
                    path,
                    file.name_pos,
                    format!(
                        "compose project `{name}` is not platform.toml's compose_project `{project}`; \
                         drift commands would not find these containers"
                    ),
                )
                .width(file.name_width())
                .hint(format!("set `name: {project}` in the compose file")),
            );
        }
        // COMPOSE_PROJECT_NAME in the `.env` wins over `name:` in compose: its containers
        // would carry another project label, and every module would read as missing.
        if let Some(dp) = &file.dotenv_project
            && !project.is_empty()
            && dp.value != project
        {
            out.push(
                Finding::new(
                    Code::ComposeProjectMismatch,
                    &dp.file,
                    dp.pos,
                    format!(
                        "COMPOSE_PROJECT_NAME `{}` (for {}) is not platform.toml's \
                         compose_project `{project}`; compose takes it over `name:`, so drift \
                         commands would not find these containers",
                        dp.value,
                        path.display()
                    ),
                )
                .width(sat_len("COMPOSE_PROJECT_NAME"))
                .hint(format!(
                    "set COMPOSE_PROJECT_NAME={project} or remove the line from the .env"
                )),
            );
        }
        let claimed = claimed_services.get(path.as_path());
        for svc in &file.services {
            // A manifest that does not parse may claim it: its own findings say what is
            // wrong, and "no module" would be a follow-on finding, and a false one.
            if unparsed_claims.contains(svc.name.as_str()) {
                continue;
            }
            if !claimed.is_some_and(|c| c.contains(&svc.name.as_str())) {
                out.push(
                    Finding::new(
                        Code::ComposeServiceUnclaimed,
                        path,
                        svc.pos,
                        format!("compose service `{}` has no module", svc.name),
                    )
                    .width(svc.width)
                    .hint(format!(
                        "add modules/{}/module.yaml with compose_service: {}",
                        svc.name, svc.name
                    )),
                );
            }
        }
    }
    out
}

fn check_host(
    m: &Module,
    hosts: &[&str],
    rejected: &std::collections::BTreeSet<String>,
    out: &mut Vec<Finding>,
) {
    let Some(host) = &m.runtime.host else { return };
    // A host platform.toml declares but rejected has its own findings there.
    if hosts.contains(&host.value.as_str()) || rejected.contains(&host.value) {
        return;
    }
    let hint = match did_you_mean(&host.value, hosts) {
        Some(c) => format!("did you mean `{c}`? hosts: {}", hosts.join(", ")),
        None => format!("hosts in platform.toml: {}", hosts.join(", ")),
    };
    out.push(
        Finding::new(
            Code::HostUnknown,
            &m.file,
            host.pos,
            format!("host `{}` is not in platform.toml", host.value),
        )
        .width(host.width)
        .hint(hint),
    );
}

fn check_compose(cat: &Loaded<'_>, m: &Module, out: &mut Vec<Finding>) {
    let Some(cf) = &m.runtime.compose_file else {
        return;
    };
    if crate::names::check_rel_path(cf).is_err() {
        return; // the schema check reported it
    }
    let file = match cat.compose.get(Path::new(&cf.value)) {
        None => return,
        Some(None) => {
            if !cat.root.join(&cf.value).exists() {
                out.push(
                    Finding::new(
                        Code::ComposeFileMissing,
                        &m.file,
                        cf.pos,
                        format!("compose file `{}` does not exist", cf.value),
                    )
                    .width(cf.width),
                );
            }
            return; // unparseable: the compose file has its own findings
        }
        Some(Some(f)) => f,
    };
    let Some(svc_name) = &m.runtime.compose_service else {
        return;
    };
    let Some(svc) = file.service(svc_name) else {
        let names: Vec<&str> = file.services.iter().map(|s| s.name.as_str()).collect();
        let mut f = Finding::new(
            Code::ComposeServiceMissing,
            &m.file,
            svc_name.pos,
            format!("`{}` has no service `{}`", cf.value, svc_name.value),
        )
        .width(svc_name.width);
        if let Some(c) = did_you_mean(svc_name, &names) {
            f = f.hint(format!("did you mean `{c}`?"));
        }
        out.push(f);
        return;
    };
    check_container_name(m, svc, &cf.value, out);
    check_image(m, svc, &cf.value, out);
}

fn check_container_name(m: &Module, svc: &Service, compose_file: &str, out: &mut Vec<Finding>) {
    match (&m.runtime.container_name, &svc.container_name) {
        (Some(mine), Some(theirs)) if mine.value != theirs.value => out.push(
            Finding::new(
                Code::ContainerNameMismatch,
                &m.file,
                mine.pos,
                format!(
                    "container_name `{}` but {compose_file}:{} names it `{}`",
                    mine.value, theirs.pos.line, theirs.value
                ),
            )
            .width(mine.width),
        ),
        (None, Some(theirs)) => out.push(
            Finding::new(
                Code::ContainerNameMismatch,
                &m.file,
                m.runtime
                    .compose_service
                    .as_ref()
                    .map_or(m.name_pos, |s| s.pos),
                format!(
                    "{compose_file}:{} sets container_name `{}` but the module does not",
                    theirs.pos.line, theirs.value
                ),
            )
            .hint(format!("add `container_name: {}` under spec.runtime", theirs.value)),
        ),
        (Some(mine), None) => out.push(
            Finding::new(
                Code::ContainerNameMismatch,
                &m.file,
                mine.pos,
                format!(
                    "container_name `{}` but compose does not set one (compose names it <project>-{}-1)",
                    mine.value, svc.name
                ),
            )
            .width(mine.width)
            .hint("remove container_name, or set the same container_name in compose"),
        ),
        _ => {}
    }
}

fn check_image(m: &Module, svc: &Service, compose_file: &str, out: &mut Vec<Finding>) {
    let compose_ref = match &svc.image {
        Some(img) => match ImageRef::parse(&img.value) {
            Ok(r) => Some(r),
            Err(e) => {
                out.push(
                    Finding::new(
                        Code::ImageInvalid,
                        compose_file,
                        img.pos,
                        format!(
                            "image of service `{}` is not an image reference: {e}",
                            svc.name
                        ),
                    )
                    .width(img.width),
                );
                return;
            }
        },
        None => None,
    };
    // The digest-pin flag.
    let pinned = compose_ref.as_ref().is_some_and(|r| r.digest().is_some());
    let flag = m.runtime.image_digest_pinned_in_compose.as_ref();
    if flag.is_some_and(|f| f.value) != pinned {
        let (pos, width) = flag.map_or(
            (
                m.runtime
                    .compose_service
                    .as_ref()
                    .map_or(m.name_pos, |s| s.pos),
                1,
            ),
            |f| (f.pos, f.width),
        );
        let msg = if pinned {
            format!(
                "{compose_file} pins `{}` by digest, but image_digest_pinned_in_compose is not true",
                svc.name
            )
        } else {
            format!(
                "image_digest_pinned_in_compose is true, but {compose_file} does not pin `{}` by digest",
                svc.name
            )
        };
        out.push(
            Finding::new(Code::DigestPinMismatch, &m.file, pos, msg)
                .width(width)
                .hint(format!("set `image_digest_pinned_in_compose: {pinned}`")),
        );
    }
    // The artifact.
    let Some(reference) = m.artifact.as_ref().and_then(|a| a.reference.as_ref()) else {
        return;
    };
    let desired = match ImageRef::parse(reference) {
        Ok(r) => r,
        Err(e) => {
            out.push(
                Finding::new(
                    Code::ImageInvalid,
                    &m.file,
                    reference.pos,
                    format!("`spec.artifact.reference` is not an image reference: {e}"),
                )
                .width(reference.width),
            );
            return;
        }
    };
    let Some(actual) = compose_ref else {
        return; // a build-only service: nothing to compare
    };
    if let Some(why) = image_disagreement(&desired, &actual) {
        let line = svc.image.as_ref().map_or(0, |i| i.pos.line);
        out.push(
            Finding::new(
                Code::ArtifactMismatch,
                &m.file,
                reference.pos,
                format!(
                    "artifact `{}` but {compose_file}:{line} runs `{}` ({why})",
                    desired.familiar(),
                    actual.familiar()
                ),
            )
            .width(reference.width)
            .hint("the artifact says what the platform intends to run: make compose and the manifest agree"),
        );
    }
}

/// Why two references do not name the same image, comparing what both say.
pub fn image_disagreement(a: &ImageRef, b: &ImageRef) -> Option<&'static str> {
    if !a.same_repository(b) {
        return Some("different repository");
    }
    if let (Some(x), Some(y)) = (a.effective_tag(), b.effective_tag())
        && x != y
    {
        return Some("different tag");
    }
    if let (Some(x), Some(y)) = (a.digest(), b.digest())
        && x != y
    {
        return Some("different digest");
    }
    None
}

/// Counts of findings by severity.
pub fn counts(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    m.insert("errors", 0);
    m.insert("warnings", 0);
    for f in findings {
        let key = match f.severity {
            crate::Severity::Error => "errors",
            crate::Severity::Warning => "warnings",
        };
        *m.entry(key).or_insert(0) += 1;
    }
    m
}

fn sat_len(s: &str) -> u32 {
    u32::try_from(s.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    #[test]
    fn agreement_after_normalisation() {
        assert_eq!(
            image_disagreement(&r("redis:7"), &r("docker.io/library/redis:7")),
            None
        );
        assert_eq!(image_disagreement(&r("redis"), &r("redis:latest")), None);
        assert_eq!(
            image_disagreement(&r("redis:7"), &r("redis:7.4")),
            Some("different tag")
        );
        assert_eq!(
            image_disagreement(&r("redis:7"), &r("valkey/valkey:7")),
            Some("different repository")
        );
        let d1 = format!("redis:7@sha256:{}", "a".repeat(64));
        let d2 = format!("redis:7@sha256:{}", "b".repeat(64));
        assert_eq!(
            image_disagreement(&r(&d1), &r(&d2)),
            Some("different digest")
        );
        assert_eq!(image_disagreement(&r(&d1), &r("redis:7")), None);
    }
}
