//! The catalog's model of a module: what a `module.yaml` (schema `platform/v2`) says, each
//! value with where it was written.
//!
//! These are the types the compare stage reads. They live apart from the loader
//! (`platformctl-catalog`, which re-exports them) so that comparing desired state with
//! evidence does not depend on reading files, TOML, interpolation or secret detection.

use std::path::PathBuf;

pub mod config;

use platformctl_yaml::Pos;
use serde::{Serialize, Serializer};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it starts.
    pub pos: Pos,
    /// Its width on its line, for the caret underline.
    pub width: u32,
}

impl<T> Spanned<T> {
    /// `value`, written at `pos` over `width` characters.
    pub fn new(value: T, pos: Pos, width: u32) -> Self {
        Spanned { value, pos, width }
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// `metadata.tier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// core
    Core,
    /// infra
    Infra,
    /// edge
    Edge,
    /// app
    App,
}

impl Tier {
    /// Every tier, in report order.
    pub const ALL: [Tier; 4] = [Tier::Core, Tier::Infra, Tier::Edge, Tier::App];

    /// The manifest word.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Core => "core",
            Tier::Infra => "infra",
            Tier::Edge => "edge",
            Tier::App => "app",
        }
    }

    /// The tier a manifest word names.
    pub fn parse(s: &str) -> Option<Self> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// `spec.runtime.orchestrator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Orchestrator {
    /// A Docker Compose service platformctl observes.
    DockerCompose,
    /// Runs elsewhere; nothing to observe.
    External,
}

/// `spec.runtime.desired_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DesiredState {
    /// The container should run.
    Running,
    /// The container should exist but not run.
    Stopped,
}

/// `spec.runtime`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Runtime {
    /// The host it runs on.
    pub host: Option<Spanned<String>>,
    /// How it is run.
    pub orchestrator: Orchestrator,
    /// The compose file, relative to the root.
    pub compose_file: Option<Spanned<String>>,
    /// The compose service.
    pub compose_service: Option<Spanned<String>>,
    /// An explicit container name (compose `container_name`).
    pub container_name: Option<Spanned<String>>,
    /// Running or stopped.
    pub desired_state: DesiredState,
    /// The audit snapshot of the image production ran.
    pub image_observed: Option<Spanned<String>>,
    /// When that snapshot was taken.
    /// (A calendar date; a value that is not one is a finding and leaves this `None`.)
    pub image_observed_at: Option<Spanned<jiff::civil::Date>>,
    /// Whether compose pins the image by digest.
    pub image_digest_pinned_in_compose: Option<Spanned<bool>>,
}

/// `spec.source`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// upstream-image | local-build | fork
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The upstream image family.
    pub repository: Option<String>,
    /// upstream-registry or a mirror.
    pub registry: Option<String>,
    /// upstream-tag | digest | branch
    pub release_tracking: Option<String>,
    /// Where the source lives.
    pub url: Option<String>,
}

/// `spec.artifact`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// oci-image
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// What the platform intends to run.
    pub reference: Option<Spanned<String>>,
}

/// `spec.update`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    /// manual | notify | auto
    pub policy: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// One `spec.drift.accept` entry: a known difference, acknowledged until a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptEntry {
    /// The change code (`CONFIG_ENV`, `IMAGE_TAG_MISMATCH`, …).
    pub code: String,
    /// The change's field (`env.LOG_LEVEL`); any field of that code when absent.
    pub field: Option<String>,
    /// Why it is accepted.
    pub reason: String,
    /// The last day it is accepted (`None` when the date does not parse; validate says so).
    pub until: Option<jiff::civil::Date>,
    /// The digest of the observed value it accepted (written by `ack`).
    pub observed: Option<String>,
    /// Where the entry is written.
    #[serde(skip)]
    pub pos: Pos,
}

/// One module of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Module {
    /// `metadata.name` (the folder name when the manifest has none).
    pub name: String,
    /// The manifest, relative to the root.
    pub file: PathBuf,
    /// `metadata.description`.
    pub description: Option<String>,
    /// `metadata.owner`.
    pub owner: Option<String>,
    /// `metadata.tier`.
    pub tier: Option<Tier>,
    /// `metadata.stateful` (default false).
    pub stateful: bool,
    /// Whether `metadata.stateful` was written at all.
    #[serde(skip)]
    pub stateful_declared: bool,
    /// `spec.runtime`.
    pub runtime: Runtime,
    /// `spec.source`.
    pub source: Option<Source>,
    /// `spec.artifact`.
    pub artifact: Option<Artifact>,
    /// `spec.update`.
    pub update: Option<Update>,
    /// `spec.drift.accept`: acknowledged differences (SPEC §9).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<AcceptEntry>,
    /// Where `metadata.name` is written.
    #[serde(skip)]
    pub name_pos: Pos,
}

impl Module {
    /// Whether drift commands observe this module.
    pub fn is_observed(&self) -> bool {
        self.runtime.orchestrator == Orchestrator::DockerCompose
    }

    /// The container name this module expects on its host: `container_name`, or compose v2's
    /// `<project>-<service>-1`.
    pub fn expected_container_name(&self, compose_project: &str) -> Option<String> {
        if let Some(n) = &self.runtime.container_name {
            return Some(n.value.clone());
        }
        let svc = self.runtime.compose_service.as_ref()?;
        Some(format!("{compose_project}-{}-1", svc.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spanned_value_serialises_as_the_value_alone() {
        let s = Spanned::new("redis:7".to_string(), Pos::new(3, 12), 7);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"redis:7\"");
        assert_eq!(s.len(), 7);
        assert_eq!(Tier::parse("edge"), Some(Tier::Edge));
        assert_eq!(Tier::parse("Edge"), None);
    }
}
