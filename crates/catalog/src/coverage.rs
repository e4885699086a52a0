//! Metadata coverage: how far the catalog is in declaring source, artifact and update intent.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::module::{Module, Tier};
use crate::repo::Catalog;

/// One metadata part (`spec.source`, `spec.artifact`, `spec.update`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// `spec.source`
    Source,
    /// `spec.artifact`
    Artifact,
    /// `spec.update`
    Update,
}

impl Part {
    /// Every part, in report order.
    pub const ALL: [Part; 3] = [Part::Source, Part::Artifact, Part::Update];

    /// The manifest word.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Source => "source",
            Part::Artifact => "artifact",
            Part::Update => "update",
        }
    }

    /// Whether `m` declares this part.
    pub fn present(self, m: &Module) -> bool {
        match self {
            Part::Source => m.source.is_some(),
            Part::Artifact => m.artifact.is_some(),
            Part::Update => m.update.is_some(),
        }
    }
}

/// Counts for a group of modules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Modules in the group.
    pub total: usize,
    /// With `spec.source`.
    pub source: usize,
    /// With `spec.artifact`.
    pub artifact: usize,
    /// With `spec.update`.
    pub update: usize,
    /// With all three.
    pub complete: usize,
}

impl Counts {
    fn add(&mut self, m: &Module) {
        self.total += 1;
        self.source += usize::from(Part::Source.present(m));
        self.artifact += usize::from(Part::Artifact.present(m));
        self.update += usize::from(Part::Update.present(m));
        self.complete += usize::from(Part::ALL.iter().all(|p| p.present(m)));
    }
}

/// A part's coverage with the modules that lack it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartCoverage {
    /// Modules that declare it.
    pub with: usize,
    /// Modules that do not.
    pub missing: usize,
    /// Their names, sorted.
    pub missing_modules: Vec<String>,
    /// The same names by tier (`unset` for manifests without a valid tier).
    pub missing_by_tier: BTreeMap<String, Vec<String>>,
    /// The stateful ones among them: the ones an upgrade can lose data of.
    pub missing_stateful: Vec<String>,
}

/// The readiness snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Modules whose manifests parsed.
    pub total_modules: usize,
    /// Module folders whose manifests did not parse (not counted above).
    pub unreadable_modules: Vec<String>,
    /// Per part.
    pub parts: BTreeMap<Part, PartCoverage>,
    /// Per tier (`unset` for manifests without a valid tier).
    pub by_tier: BTreeMap<String, Counts>,
    /// `stateful` / `stateless`.
    pub by_statefulness: BTreeMap<String, Counts>,
    /// `docker-compose` / `external`.
    pub by_orchestrator: BTreeMap<String, Counts>,
}

/// Computes coverage over the catalog.
pub fn coverage(cat: &Catalog) -> Coverage {
    let modules: Vec<&Module> = cat.modules().collect();
    let mut parts = BTreeMap::new();
    for part in Part::ALL {
        let missing: Vec<&&Module> = modules.iter().filter(|m| !part.present(m)).collect();
        let mut missing_by_tier: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in &missing {
            missing_by_tier
                .entry(m.tier.map_or("unset", Tier::as_str).to_string())
                .or_default()
                .push(m.name.clone());
        }
        parts.insert(
            part,
            PartCoverage {
                with: modules.len() - missing.len(),
                missing: missing.len(),
                missing_modules: missing.iter().map(|m| m.name.clone()).collect(),
                missing_by_tier,
                missing_stateful: missing
                    .iter()
                    .filter(|m| m.stateful)
                    .map(|m| m.name.clone())
                    .collect(),
            },
        );
    }
    let mut by_tier: BTreeMap<String, Counts> = Tier::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), Counts::default()))
        .collect();
    let mut by_statefulness: BTreeMap<String, Counts> = ["stateful", "stateless"]
        .iter()
        .map(|s| (s.to_string(), Counts::default()))
        .collect();
    let mut by_orchestrator: BTreeMap<String, Counts> = BTreeMap::new();
    for m in &modules {
        let tier = m.tier.map_or("unset", Tier::as_str);
        by_tier.entry(tier.to_string()).or_default().add(m);
        let st = if m.stateful { "stateful" } else { "stateless" };
        by_statefulness.entry(st.to_string()).or_default().add(m);
        let orch = if m.is_observed() {
            "docker-compose"
        } else {
            "external"
        };
        by_orchestrator.entry(orch.to_string()).or_default().add(m);
    }
    Coverage {
        total_modules: modules.len(),
        unreadable_modules: cat
            .modules
            .iter()
            .filter(|m| m.module.is_none())
            .map(|m| m.dir.clone())
            .collect(),
        parts,
        by_tier,
        by_statefulness,
        by_orchestrator,
    }
}
