//! `--from live`: what each module's container runs, observed read-only through
//! `platformctl-drift` (the one place live evidence comes from).

use std::collections::BTreeMap;

use platformctl_catalog::{Catalog, Module};
use platformctl_compare::ServiceIndex;
use platformctl_drift::{FleetOptions, run_fleet};
use platformctl_evidence::HostEvidence;

use crate::Live;

/// Observes the hosts of `modules` (each once) and says, per module, what its container runs.
pub fn observe(
    catalog: &Catalog,
    modules: &[&Module],
    opts: &FleetOptions,
) -> BTreeMap<String, Live> {
    let observed: Vec<&Module> = modules
        .iter()
        .copied()
        .filter(|m| m.is_observed())
        .collect();
    let fleet = run_fleet(catalog, &observed, opts);
    let project = catalog.platform.compose_project.as_str();
    let mut out = BTreeMap::new();
    for m in observed {
        let host = m.runtime.host.as_ref().map(|h| h.value.as_str());
        let report = fleet.hosts.iter().find(|r| Some(r.host.as_str()) == host);
        let live = match report.map(|r| &r.outcome) {
            None => Live::Unobserved("its host was not observed (see platform.toml)".into()),
            Some(Err(e)) => {
                Live::Unobserved(format!("host {}: {}", host.unwrap_or("?"), e.message))
            }
            Some(Ok(evidence)) => of_module(m, evidence, project),
        };
        out.insert(m.name.clone(), live);
    }
    out
}

/// What `m`'s container runs on a host with `evidence` (pure).
pub fn of_module(m: &Module, evidence: &HostEvidence, project: &str) -> Live {
    let Some(service) = m.runtime.compose_service.as_ref().map(|s| s.value.as_str()) else {
        return Live::Missing;
    };
    let index = ServiceIndex::new(evidence);
    let mut matched: Vec<_> = index
        .of(project, service)
        .iter()
        .copied()
        .filter(|c| !c.is_oneoff())
        .collect();
    if matched.is_empty() {
        // A container_name outside the compose labels (as drift matches it).
        let name = m.expected_container_name(project);
        matched.extend(
            evidence
                .containers
                .iter()
                .filter(|c| Some(&c.name) == name.as_ref()),
        );
    }
    matched.sort_by_key(|c| c.number().unwrap_or(u32::MAX));
    let Some(c) = matched.first() else {
        return Live::Missing;
    };
    let image = evidence.image_of(c);
    let image_ref = if c.image_ref_is_id() {
        // The tag it was created from has moved on: the reference is not known here.
        return Live::Running {
            image: c.image_ref.clone(),
            repo_digests: Vec::new(),
            source_url: None,
        };
    } else {
        c.image_ref.clone()
    };
    Live::Running {
        image: image_ref,
        repo_digests: image.map(|i| i.repo_digests.clone()).unwrap_or_default(),
        source_url: image.and_then(|i| i.source_url.clone()),
    }
}
