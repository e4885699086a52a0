//! `metadata derive`: `spec.source`, `spec.artifact` and `spec.update` from evidence, written
//! surgically, and never by guess (SPEC §8, docs/derive.md, ADR 0013).
//!
//! The operator's batch (fill the metadata an upgrade programme needs, from each module's image
//! evidence, in the ADR-0022 vocabulary, conservatively, touching nothing else) as a pure
//! function of the loaded [`Catalog`] and, with `--from live`, of what each module's container
//! runs ([`Live`], observed read-only by the caller):
//!
//! - [`map_module`] decides for one module: the blocks to add ([`Blocks`]) or a [`Refusal`]
//!   with a stable [`RefusalCode`] when the mapping is not clean (the escape hatch);
//! - [`derive`] does it for a selection, reads each manifest, inserts the blocks with
//!   `platformctl-yaml-edit` (every other byte kept; each edit re-parsed and verified), and
//!   returns the new texts, unified diffs and the coverage before → after ([`Report`]).
//!
//! Writing the files is the caller's (atomically, `platformctl-diagnostics::write_atomic`), so
//! a dry run can never write.

pub mod ack;
pub mod live;
mod map;

use std::collections::BTreeMap;
use std::path::PathBuf;

use platformctl_catalog::{Catalog, Module, Part};
use platformctl_yaml_edit::{Editor, Value};
use rayon::prelude::*;
use serde::Serialize;

pub use map::{Blocks, Evidence, map_module};

/// `--from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum From {
    /// The compose file's image, agreeing with `image_observed`.
    Compose,
    /// The running container (its tag and repo digest).
    Live,
}

/// `--policy`: the update policy of stateless, non-core modules (the others are always
/// `manual`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// `manual` (the default).
    #[default]
    Manual,
    /// `notify`.
    Notify,
}

/// How to derive.
#[derive(Clone, Debug)]
pub struct Options {
    /// The parts to fill where missing (default: all three).
    pub parts: Vec<Part>,
    /// The policy for stateless, non-core modules.
    pub policy: Policy,
    /// Where the evidence comes from.
    pub from: From,
    /// Today, for `image_observed_at` (`--from live`).
    pub today: jiff::civil::Date,
}

/// What a module's container runs, as observed read-only (`--from live`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Live {
    /// The container was found.
    Running {
        /// The image as the container was created with (its `Config.Image`, what compose
        /// declared then).
        image: String,
        /// The image's `RepoDigests` (`repo@sha256:…`): what was pulled, the index digest for
        /// a multi-platform image.
        repo_digests: Vec<String>,
        /// Where the image says its source lives (its `org.opencontainers.image.source` or
        /// `org.label-schema.vcs-url` label).
        source_url: Option<String>,
    },
    /// No container of the module on its host.
    Missing,
    /// The host could not be asked; the reason.
    Unobserved(String),
}

/// Why a module is refused: stable codes (docs/derive.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefusalCode {
    /// `orchestrator: external`: nothing runs under platformctl's eyes.
    External,
    /// The manifest or its cross-checks have errors (`validate` lists them).
    ModuleInvalid,
    /// Neither a compose image nor an observed image.
    NoImageEvidence,
    /// The compose image uses a variable that is not set.
    VariableUnresolved,
    /// The compose image and `image_observed` name different images.
    ImageDisagrees,
    /// The tag is `latest`.
    TagLatest,
    /// No tag (and no digest): the implied `latest`.
    TagMissing,
    /// A digest without a tag: nothing says which release it is.
    DigestWithoutTag,
    /// (live) The module's container is not on its host.
    LiveContainerMissing,
    /// (live) The container runs another image than compose declares.
    LiveImageDiffers,
    /// (live) The container's image has no repo digest for its repository.
    LiveNoRepoDigest,
    /// (live) The host could not be observed.
    LiveUnobserved,
    /// The manifest is written in a way that cannot be edited safely (anchors, aliases, flow
    /// style), or the edit did not verify.
    EditUnsafe,
    /// The manifest could not be read.
    ManifestUnreadable,
}

impl RefusalCode {
    /// The code as written in output.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::External => "EXTERNAL",
            RefusalCode::ModuleInvalid => "MODULE_INVALID",
            RefusalCode::NoImageEvidence => "NO_IMAGE_EVIDENCE",
            RefusalCode::VariableUnresolved => "VARIABLE_UNRESOLVED",
            RefusalCode::ImageDisagrees => "IMAGE_DISAGREES",
            RefusalCode::TagLatest => "TAG_LATEST",
            RefusalCode::TagMissing => "TAG_MISSING",
            RefusalCode::DigestWithoutTag => "DIGEST_WITHOUT_TAG",
            RefusalCode::LiveContainerMissing => "LIVE_CONTAINER_MISSING",
            RefusalCode::LiveImageDiffers => "LIVE_IMAGE_DIFFERS",
            RefusalCode::LiveNoRepoDigest => "LIVE_NO_REPO_DIGEST",
            RefusalCode::LiveUnobserved => "LIVE_UNOBSERVED",
            RefusalCode::EditUnsafe => "EDIT_UNSAFE",
            RefusalCode::ManifestUnreadable => "MANIFEST_UNREADABLE",
        }
    }
}

/// A module left alone, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// The module.
    pub module: String,
    /// Its manifest, relative to the root.
    pub file: PathBuf,
    /// The stable code.
    pub code: RefusalCode,
    /// For a person: what is not clean, and what to do.
    pub reason: String,
}

/// The blocks added to one manifest.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// The module.
    pub module: String,
    /// Its manifest, relative to the root.
    pub file: PathBuf,
    /// The parts added (`source`, `artifact`, `update`).
    pub adds: Vec<Part>,
    /// The audit snapshot fields refreshed (`--from live`).
    pub refreshes: Vec<String>,
    /// What the values come from.
    pub evidence: Evidence,
    /// The unified diff of the manifest.
    pub diff: String,
    /// The manifest as it is.
    #[serde(skip)]
    pub before: String,
    /// The manifest as it would be.
    #[serde(skip)]
    pub after: String,
}

/// Coverage counts (modules declaring each part).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoverageCounts {
    /// Modules counted.
    pub total: usize,
    /// With `spec.source`.
    pub source: usize,
    /// With `spec.artifact`.
    pub artifact: usize,
    /// With `spec.update`.
    pub update: usize,
}

/// The outcome of a derive run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Modules with blocks to add.
    pub proposals: Vec<Proposal>,
    /// Modules refused.
    pub refusals: Vec<Refusal>,
    /// Selected modules that already declare every requested part.
    pub complete: Vec<String>,
    /// Coverage of the whole catalog now.
    pub coverage_before: CoverageCounts,
    /// Coverage once the proposals are written.
    pub coverage_after: CoverageCounts,
}

/// The order a person keeps `spec`'s keys in (SPEC §3).
pub const SPEC_ORDER: &[&str] = &["runtime", "source", "artifact", "update", "drift"];

/// The order of `spec.runtime`'s keys (SPEC §3).
pub const RUNTIME_ORDER: &[&str] = &[
    "host",
    "orchestrator",
    "compose_file",
    "compose_service",
    "container_name",
    "desired_state",
    "image_observed",
    "image_observed_at",
    "image_digest_pinned_in_compose",
];

/// Derives for `modules` (of `catalog`). `live` holds what `--from live` observed, by module
/// name. Reads each selected manifest; writes nothing.
pub fn derive(
    catalog: &Catalog,
    modules: &[&Module],
    opts: &Options,
    live: &BTreeMap<String, Live>,
) -> Report {
    let outcomes: Vec<Outcome> = modules
        .par_iter()
        .map(|m| one(catalog, m, opts, live.get(&m.name)))
        .collect();
    let mut report = Report {
        proposals: Vec::new(),
        refusals: Vec::new(),
        complete: Vec::new(),
        coverage_before: counts(catalog),
        coverage_after: CoverageCounts::default(),
    };
    for o in outcomes {
        match o {
            Outcome::Proposal(p) => report.proposals.push(*p),
            Outcome::Refusal(r) => report.refusals.push(r),
            Outcome::Complete(n) => report.complete.push(n),
        }
    }
    let mut after = report.coverage_before;
    for p in &report.proposals {
        for part in &p.adds {
            match part {
                Part::Source => after.source += 1,
                Part::Artifact => after.artifact += 1,
                Part::Update => after.update += 1,
            }
        }
    }
    report.coverage_after = after;
    report
}

enum Outcome {
    Proposal(Box<Proposal>),
    Refusal(Refusal),
    Complete(String),
}

fn one(catalog: &Catalog, m: &Module, opts: &Options, live: Option<&Live>) -> Outcome {
    let missing: Vec<Part> = Part::ALL
        .into_iter()
        .filter(|p| opts.parts.contains(p) && !p.present(m))
        .collect();
    if missing.is_empty() {
        return Outcome::Complete(m.name.clone());
    }
    let refuse = |code: RefusalCode, reason: String| {
        Outcome::Refusal(Refusal {
            module: m.name.clone(),
            file: m.file.clone(),
            code,
            reason,
        })
    };
    let blocks = match map_module(catalog, m, opts, live) {
        Ok(b) => b,
        Err((code, reason)) => return refuse(code, reason),
    };
    let path = catalog.root.join(&m.file);
    let before = match std::fs::read(&path).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            return refuse(
                RefusalCode::ManifestUnreadable,
                "the manifest is not UTF-8 text".into(),
            );
        }
        Err(e) => return refuse(RefusalCode::ManifestUnreadable, e.to_string()),
    };
    let mut ed = match Editor::new(&before) {
        Ok(e) => e,
        Err(e) => return refuse(RefusalCode::EditUnsafe, e.to_string()),
    };
    let entries: Vec<(&str, &Value)> = missing
        .iter()
        .map(|part| {
            let value = match part {
                Part::Source => &blocks.source,
                Part::Artifact => &blocks.artifact,
                Part::Update => &blocks.update,
            };
            (part.as_str(), value)
        })
        .collect();
    if let Err(e) = ed.insert_all(&["spec"], &entries, SPEC_ORDER) {
        return refuse(RefusalCode::EditUnsafe, e.to_string());
    }
    let adds = missing;
    let mut refreshes = Vec::new();
    for (key, value) in &blocks.refresh {
        let path = ["spec", "runtime", key.as_str()];
        let res = if ed.has(&["spec", "runtime"], key) {
            ed.set_scalar(&path, value)
        } else {
            ed.insert(
                &["spec", "runtime"],
                key,
                &Value::str(value.clone()),
                RUNTIME_ORDER,
            )
        };
        if let Err(e) = res {
            return refuse(RefusalCode::EditUnsafe, e.to_string());
        }
        refreshes.push(key.clone());
    }
    let after = ed.text();
    let name = m.file.display().to_string();
    let diff = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    Outcome::Proposal(Box::new(Proposal {
        module: m.name.clone(),
        file: m.file.clone(),
        adds,
        refreshes,
        evidence: blocks.evidence,
        diff,
        before,
        after,
    }))
}

/// Coverage of the modules whose manifests parsed.
pub fn counts(catalog: &Catalog) -> CoverageCounts {
    let mut c = CoverageCounts::default();
    for m in catalog.modules() {
        c.total += 1;
        c.source += usize::from(Part::Source.present(m));
        c.artifact += usize::from(Part::Artifact.present(m));
        c.update += usize::from(Part::Update.present(m));
    }
    c
}
