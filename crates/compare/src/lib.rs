//! Drift rules: one module's desired state against what its host runs, as a plan.
//!
//! This is the **compare** stage of platformctl (SPEC §6). It takes a [`Module`] from the
//! catalog and the [`HostEvidence`] observed on its host, and says whether the host runs what
//! the platform repo declares: [`plan_module`] returns a [`ModulePlan`] with a [`Status`], the
//! [`Change`]s that make it drift, [`Warning`]s that never do, and the [`Evidence`] the verdict
//! rests on. It is pure: no I/O, no clock, no async; the same inputs always give the same plan.
//!
//! Two promises shape every rule below: **no false red** (drift is reported only when the
//! evidence shows it) and **no false green** (in sync is reported only when the evidence proves
//! it). What the evidence can neither prove nor refute is a warning, or, when the verdict
//! itself depends on it, the status `error`.
//!
//! # The rules, as an operator reads them
//!
//! **Which container.** A module's container carries the labels
//! `com.docker.compose.project` = the platform's `compose_project` and
//! `com.docker.compose.service` = `spec.runtime.compose_service`; containers are never matched
//! by name alone, and `docker compose run` containers (`com.docker.compose.oneoff=True`) are
//! ignored.
//!
//! - No container carries those labels, but one (not a one-off) has the name the module expects
//!   (`container_name`, else `<project>-<service>-1` or compose v1's `<project>_<service>_1`):
//!   `COMPOSE_SERVICE_MISMATCH` on `container.service_label` (observed: its service label,
//!   with its project when that differs too, or `(no compose labels)`), and that container is
//!   judged on the other fields as well.
//! - No container at all: `CONTAINER_MISSING` on `container.exists`, **except** when
//!   `desired_state: stopped`: a stopped module with no container is in sync (nothing runs, as
//!   intended; `docker compose down` removes containers, and that is a legitimate way to stop).
//! - Several containers carry the labels (`scale` > 1, or a replica left behind): each is
//!   judged and the plan reports the **worst** one, the one with the most changes (then the
//!   most warnings); ties go to the lowest `container-number`, then the name. A module is in
//!   sync only if every replica is. [`Evidence::replicas`] says how many there were.
//!
//! **Running** (`container.running`). `desired_state: running` (the default) and the state is
//! not `running` (`exited`, `created`, `paused`, `restarting`, …): `CONTAINER_NOT_RUNNING`,
//! observed the state. `desired_state: stopped` and the state is `running`, `restarting` (a
//! restart loop is trying to run it) or `paused` (its processes still exist):
//! `CONTAINER_RUNNING_UNEXPECTEDLY`. `created`, `exited`, `dead` and `removing` are stopped.
//!
//! **Name** (`container.name`). With `container_name` set, the name must equal it. Without it,
//! either compose naming is in sync: v2 `<project>-<service>-<n>` or v1 `<project>_<service>_<n>`
//! for any replica number `n` (a compose v1 name is not drift). Anything else:
//! `CONTAINER_NAME_MISMATCH`.
//!
//! **Image** (`container.image`). The desired image is `spec.artifact.reference`; without it,
//! `spec.runtime.image_observed` with the warning `NO_DESIRED_ARTIFACT`; with neither, the
//! warning `NO_DESIRED_IMAGE` and no image verdict. References are normalised
//! (`redis:7` = `docker.io/library/redis:7`, no tag = `latest`). What the host says about the
//! image: the container's reference (`Config.Image`, which the list API replaces by the image
//! ID when the tag has since moved; an ID is not a reference and is then ignored) and the
//! `RepoTags` and `RepoDigests` of the image the container runs (looked up by its image ID).
//!
//! - A desired **digest** (`name@sha256:…` or `name:tag@sha256:…`; the digest decides, the tag
//!   is not compared) is in sync only if it is among the `RepoDigests` of that image, any entry
//!   of the same repository, not only the first. A manifest digest is **never** compared with
//!   an image ID (they are different digests of different things, equal only by accident of
//!   the containerd store). No entry matches: `IMAGE_DIGEST_MISMATCH`, observed the repo
//!   digests of that repository, or `no repo digests (locally built or loaded)`.
//! - A desired **tag** is in sync if the container's reference or its image's `RepoTags` carry
//!   that tag for that repository; the warning `IMAGE_DIGEST_NOT_VERIFIED` then says that
//!   nothing proves the exact image (pin the artifact by digest to prove it). The same
//!   repository with another tag, or with no tag left (the image is known only by a repo digest
//!   of the repository: its tag has moved on since the container started, so re-creating it
//!   would change what runs): `IMAGE_TAG_MISMATCH`, observed what the container references,
//!   e.g. `ghcr.io/plastic-labs/honcho:3.0.3`. An image with no name at all (an untagged local
//!   build): `IMAGE_TAG_MISMATCH`, observed `untagged image <id>`.
//! - Nothing the host says names the desired repository: `IMAGE_REPOSITORY_MISMATCH`.
//! - The image has no `RepoDigests`: the warning `IMAGE_LOCAL_BUILD` (never drift on its own).
//! - The image the container runs was not observed and the verdict needs it (a digest, or a tag
//!   the container's reference does not carry): status `error`, since neither drift nor sync
//!   can be proven.
//!
//! **Warnings** (never drift): `NO_DESIRED_ARTIFACT`, `NO_DESIRED_IMAGE`,
//! `CONTAINER_UNHEALTHY` (the health check says unhealthy), `IMAGE_DIGEST_NOT_VERIFIED`,
//! `IMAGE_LOCAL_BUILD`, `IMAGE_TAG_MOVED` (in sync by the container's own reference, but the
//! host's tag now names another image: the container runs an earlier pull, and `compose up`
//! would recreate it), and `SNAPSHOT_STALE`: the artifact is in sync but
//! `image_observed`, judged by the same image rules, is not what runs: the audit snapshot is
//! out of date, not the host.
//!
//! **Status.** `drift` if there is any change, else `in-sync`; `error` when the manifest cannot
//! be judged (no `compose_service`, an unparseable reference) or the evidence cannot decide
//! the image. `skipped` (`orchestrator: external`) and `unreachable` (the host did not answer)
//! come from [`ModulePlan::skipped`] and [`ModulePlan::unreachable`]. Changes come in a stable
//! order: exists, service label, running, name, image.
//!
//! ```
//! use platformctl_compare::{ModulePlan, Status};
//!
//! let plan = ModulePlan::error("minio", Some("rs2000"), "manifest invalid: 2 errors");
//! assert_eq!(plan.status, Status::Error);
//! let json = serde_json::to_value(&plan).unwrap();
//! assert_eq!(json["status"], "error");
//! assert!(json.get("evidence").is_none());
//! ```

pub mod accept;
pub mod config;
use std::collections::HashMap;
use std::fmt;

use platformctl_evidence::{Container, ContainerState, Health, HostEvidence, Image, short};
use platformctl_imageref::ImageRef;
use platformctl_model::{DesiredState, Module};
use serde::Serialize;

/// What a [`Change`] is about. Serialised (and shown) as its dotted name, e.g.
/// `container.image`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Field {
    /// Whether the module's container exists: `container.exists`.
    #[serde(rename = "container.exists")]
    Exists,
    /// Whether it runs: `container.running`.
    #[serde(rename = "container.running")]
    Running,
    /// Its name: `container.name`.
    #[serde(rename = "container.name")]
    Name,
    /// Its compose service label: `container.service_label`.
    #[serde(rename = "container.service_label")]
    ServiceLabel,
    /// Its image: `container.image`.
    #[serde(rename = "container.image")]
    Image,
}

impl Field {
    /// Every field, in the order a plan lists changes.
    pub const ALL: [Field; 5] = [
        Field::Exists,
        Field::Running,
        Field::Name,
        Field::ServiceLabel,
        Field::Image,
    ];

    /// The dotted name (`container.image`), as in the JSON documents.
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Exists => "container.exists",
            Field::Running => "container.running",
            Field::Name => "container.name",
            Field::ServiceLabel => "container.service_label",
            Field::Image => "container.image",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The [`Field`]s of [`Change`]s, by their former constant names.
pub mod field {
    use super::Field;

    /// Whether the module's container exists.
    pub const EXISTS: Field = Field::Exists;
    /// Whether it runs.
    pub const RUNNING: Field = Field::Running;
    /// Its name.
    pub const NAME: Field = Field::Name;
    /// Its compose service label.
    pub const SERVICE_LABEL: Field = Field::ServiceLabel;
    /// Its image.
    pub const IMAGE: Field = Field::Image;
}

/// A module's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The host runs what the repo declares.
    InSync,
    /// It does not: see the changes.
    Drift,
    /// The host did not answer.
    Unreachable,
    /// Nothing to observe (`orchestrator: external`).
    Skipped,
    /// The module could not be judged (invalid manifest, undecidable evidence).
    Error,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 5] = [
        Status::InSync,
        Status::Drift,
        Status::Unreachable,
        Status::Skipped,
        Status::Error,
    ];

    /// The JSON word: `in-sync`, `drift`, `unreachable`, `skipped`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InSync => "in-sync",
            Status::Drift => "drift",
            Status::Unreachable => "unreachable",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a field drifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeCode {
    /// No container with the module's project and service labels.
    ContainerMissing,
    /// It should run and does not.
    ContainerNotRunning,
    /// It should be stopped and runs.
    ContainerRunningUnexpectedly,
    /// Its name is not the expected one.
    ContainerNameMismatch,
    /// The container with the expected name belongs to another service (or to none).
    ComposeServiceMismatch,
    /// It runs an image of another repository.
    ImageRepositoryMismatch,
    /// It runs another tag of the repository.
    ImageTagMismatch,
    /// Its image is not the desired digest.
    ImageDigestMismatch,
}

impl ChangeCode {
    /// The code as written in reports, e.g. `IMAGE_TAG_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeCode::ContainerMissing => "CONTAINER_MISSING",
            ChangeCode::ContainerNotRunning => "CONTAINER_NOT_RUNNING",
            ChangeCode::ContainerRunningUnexpectedly => "CONTAINER_RUNNING_UNEXPECTEDLY",
            ChangeCode::ContainerNameMismatch => "CONTAINER_NAME_MISMATCH",
            ChangeCode::ComposeServiceMismatch => "COMPOSE_SERVICE_MISMATCH",
            ChangeCode::ImageRepositoryMismatch => "IMAGE_REPOSITORY_MISMATCH",
            ChangeCode::ImageTagMismatch => "IMAGE_TAG_MISMATCH",
            ChangeCode::ImageDigestMismatch => "IMAGE_DIGEST_MISMATCH",
        }
    }
}

impl fmt::Display for ChangeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the operator should know that is not drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarningCode {
    /// The tag matches, but nothing proves the exact image.
    ImageDigestNotVerified,
    /// The image has no repo digests: built or loaded on the host.
    ImageLocalBuild,
    /// The artifact is in sync, `image_observed` is not: the audit snapshot is out of date.
    SnapshotStale,
    /// No `spec.artifact.reference`: the desired image is the audit snapshot.
    NoDesiredArtifact,
    /// The health check says unhealthy.
    ContainerUnhealthy,
    /// Neither `spec.artifact.reference` nor `spec.runtime.image_observed`: no image verdict.
    NoDesiredImage,
    /// The container runs an earlier pull of the desired tag: the host's tag now names another
    /// image, so `compose up` would recreate the container.
    ImageTagMoved,
    /// The registry says the tag now names a newer build than the host runs: an update is
    /// waiting (in sync with the catalog; not drift).
    UpstreamTagMoved,
    /// The image's registry did not answer (down, timed out, rate limited).
    RegistryUnreachable,
    /// The image's registry refused access.
    RegistryUnauthorized,
    /// The registry has no such repository or tag.
    RegistryNotFound,
    /// A configuration field cannot be verified here (a host-only value, an `env_file` not
    /// in the repo, a relative bind without the project directory): never drift.
    ConfigNotVerified,
    /// A `spec.drift.accept` entry matched a change but its `until` has passed.
    AcceptExpired,
    /// An active `spec.drift.accept` entry matched no change.
    AcceptUnused,
}

impl WarningCode {
    /// The code as written in reports, e.g. `SNAPSHOT_STALE`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::ImageDigestNotVerified => "IMAGE_DIGEST_NOT_VERIFIED",
            WarningCode::ImageLocalBuild => "IMAGE_LOCAL_BUILD",
            WarningCode::SnapshotStale => "SNAPSHOT_STALE",
            WarningCode::NoDesiredArtifact => "NO_DESIRED_ARTIFACT",
            WarningCode::ContainerUnhealthy => "CONTAINER_UNHEALTHY",
            WarningCode::NoDesiredImage => "NO_DESIRED_IMAGE",
            WarningCode::ImageTagMoved => "IMAGE_TAG_MOVED",
            WarningCode::UpstreamTagMoved => "UPSTREAM_TAG_MOVED",
            WarningCode::RegistryUnreachable => "REGISTRY_UNREACHABLE",
            WarningCode::RegistryUnauthorized => "REGISTRY_UNAUTHORIZED",
            WarningCode::RegistryNotFound => "REGISTRY_NOT_FOUND",
            WarningCode::ConfigNotVerified => "CONFIG_NOT_VERIFIED",
            WarningCode::AcceptExpired => "ACCEPT_EXPIRED",
            WarningCode::AcceptUnused => "ACCEPT_UNUSED",
        }
    }
}

impl fmt::Display for WarningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field that drifts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What drifts (serialised as `container.exists`, `container.running`,
    /// `container.name`, `container.service_label` or `container.image`).
    pub field: Field,
    /// Why.
    pub code: ChangeCode,
    /// What the repo declares.
    pub desired: String,
    /// What the host shows.
    pub observed: String,
}

impl Change {
    fn new(
        field: Field,
        code: ChangeCode,
        desired: impl Into<String>,
        observed: impl Into<String>,
    ) -> Self {
        Change {
            field,
            code,
            desired: desired.into(),
            observed: observed.into(),
        }
    }
}

/// Something the operator should know that is not drift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// What kind.
    pub code: WarningCode,
    /// A sentence for the operator.
    pub message: String,
}

impl Warning {
    fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Warning {
            code,
            message: message.into(),
        }
    }
}

/// What the plan rests on, for the operator: the container judged and its image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The container's name.
    pub container: String,
    /// Its ID, 12 characters as `docker ps` prints it.
    pub container_id: String,
    /// Its state (`running`, `exited`, …).
    pub state: String,
    /// Its health, when it has a health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// The reference it was created from (may be an image ID when the tag has moved).
    pub image_ref: String,
    /// The ID of the image it runs.
    pub image_id: String,
    /// The repo digest that matched the desired digest, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_digest: Option<String>,
    /// How many containers carry the module's project and service labels (one-offs aside); 0
    /// when the container judged was found by name only.
    pub replicas: usize,
    /// What proved the exact image of a tag-only desired state: `registry` when the tag's
    /// current registry digest is among the image's repo digests ([`apply_registry`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest_verified_by: Option<String>,
}

/// What a registry said about a module's desired tag (SPEC §7), for [`apply_registry`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryFinding {
    /// The running image is the tag's current build (`matched`: the digest that proved it).
    Current {
        /// The repo digest that proved it.
        matched: String,
    },
    /// The tag now names another build for the host's platform.
    TagMoved(String),
    /// The registry answered but could not prove either: nothing changes.
    Unverified,
    /// The registry did not answer.
    Unreachable(String),
    /// The registry refused access.
    Unauthorized(String),
    /// No such repository or tag.
    NotFound(String),
}

/// Adds registry evidence to a plan. It never changes the status, a change, or the exit code:
/// a proven tag loses `IMAGE_DIGEST_NOT_VERIFIED` and says `digestVerifiedBy: "registry"`; a
/// moved tag gets `UPSTREAM_TAG_MOVED`; registry trouble gets `REGISTRY_UNREACHABLE`,
/// `REGISTRY_UNAUTHORIZED` or `REGISTRY_NOT_FOUND`. A plan without image evidence (error,
/// unreachable, skipped, missing container) only takes the trouble warnings.
pub fn apply_registry(plan: &mut ModulePlan, finding: &RegistryFinding) {
    let judged = matches!(plan.status, Status::InSync | Status::Drift) && plan.evidence.is_some();
    match finding {
        RegistryFinding::Current { matched } if judged => {
            let had = plan.warnings.len();
            plan.warnings
                .retain(|w| w.code != WarningCode::ImageDigestNotVerified);
            if plan.warnings.len() != had
                && let Some(e) = plan.evidence.as_mut()
            {
                e.digest_verified_by = Some("registry".to_owned());
                e.repo_digest.get_or_insert_with(|| matched.clone());
            }
        }
        RegistryFinding::TagMoved(msg) if judged => plan
            .warnings
            .push(Warning::new(WarningCode::UpstreamTagMoved, msg.clone())),
        RegistryFinding::Unreachable(msg) => plan
            .warnings
            .push(Warning::new(WarningCode::RegistryUnreachable, msg.clone())),
        RegistryFinding::Unauthorized(msg) => plan
            .warnings
            .push(Warning::new(WarningCode::RegistryUnauthorized, msg.clone())),
        RegistryFinding::NotFound(msg) => plan
            .warnings
            .push(Warning::new(WarningCode::RegistryNotFound, msg.clone())),
        _ => {}
    }
}

/// One module's plan: the `modules[]` entry of a drift-check document, the top level of a plan
/// document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModulePlan {
    /// The module's name.
    pub module: String,
    /// Its host (`null` for external modules).
    pub host: Option<String>,
    /// The verdict.
    pub status: Status,
    /// What drifts, in a stable order (exists, service label, running, name, image).
    pub changes: Vec<Change>,
    /// What drifts in the container's configuration (SPEC §9), after `changes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<config::ConfigChange>,
    /// Changes acknowledged by `spec.drift.accept` (not drift while accepted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<accept::Accepted>,
    /// What is not drift but should be known.
    pub warnings: Vec<Warning>,
    /// The container and image the verdict rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Why the module could not be judged (status `unreachable` or `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ModulePlan {
    fn empty(module: &str, host: Option<&str>, status: Status) -> Self {
        ModulePlan {
            module: module.to_string(),
            host: host.map(str::to_string),
            status,
            changes: Vec::new(),
            config: Vec::new(),
            accepted: Vec::new(),
            warnings: Vec::new(),
            evidence: None,
            error: None,
        }
    }

    /// An `orchestrator: external` module: nothing to observe.
    pub fn skipped(m: &Module) -> Self {
        ModulePlan::empty(&m.name, host_of(m), Status::Skipped)
    }

    /// The module's host did not answer; `why` says how (timeout, refused, …).
    pub fn unreachable(m: &Module, why: &str) -> Self {
        let mut p = ModulePlan::empty(&m.name, host_of(m), Status::Unreachable);
        p.error = Some(why.to_string());
        p
    }

    /// The module could not be judged (its manifest does not validate, say); `why` says so.
    pub fn error(name: &str, host: Option<&str>, why: &str) -> Self {
        let mut p = ModulePlan::empty(name, host, Status::Error);
        p.error = Some(why.to_string());
        p
    }

    /// Whether any change was found.
    pub fn has_drift(&self) -> bool {
        !self.changes.is_empty() || !self.config.is_empty()
    }

    /// Adds the config drift of the judged container `c` against `desired` (SPEC §9): its
    /// changes, and its warnings; an in-sync plan with config changes drifts.
    pub fn add_config(
        &mut self,
        desired: &platformctl_model::config::ServiceConfig,
        c: &Container,
        image: Option<&platformctl_evidence::Image>,
    ) {
        let (changes, warnings) = config::compare_config(desired, c, image);
        self.config.extend(changes);
        self.warnings.extend(warnings);
        if self.status == Status::InSync && !self.config.is_empty() {
            self.status = Status::Drift;
        }
    }
}

fn host_of(m: &Module) -> Option<&str> {
    m.runtime.host.as_ref().map(|h| h.value.as_str())
}

/// Counts of plans per status: the `summary` of a drift-check document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Modules checked (every plan).
    pub total: usize,
    /// `in-sync`.
    pub in_sync: usize,
    /// `drift`.
    pub drift: usize,
    /// `unreachable`.
    pub unreachable: usize,
    /// `skipped`.
    pub skipped: usize,
    /// `error`.
    pub error: usize,
}

impl Summary {
    /// Counts `plans` by status.
    pub fn of<'a>(plans: impl IntoIterator<Item = &'a ModulePlan>) -> Self {
        let mut s = Summary::default();
        for p in plans {
            s.total += 1;
            match p.status {
                Status::InSync => s.in_sync += 1,
                Status::Drift => s.drift += 1,
                Status::Unreachable => s.unreachable += 1,
                Status::Skipped => s.skipped += 1,
                Status::Error => s.error += 1,
            }
        }
        s
    }

    /// The count of one status.
    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::InSync => self.in_sync,
            Status::Drift => self.drift,
            Status::Unreachable => self.unreachable,
            Status::Skipped => self.skipped,
            Status::Error => self.error,
        }
    }
}

/// A host's compose containers by (project, service), one-offs left out: built once per host
/// so that planning every module of a host is linear, not quadratic, in its containers.
#[derive(Debug, Default)]
pub struct ServiceIndex<'a> {
    by_service: HashMap<&'a str, HashMap<&'a str, Vec<&'a Container>>>,
}

impl<'a> ServiceIndex<'a> {
    /// Indexes `evidence`'s containers.
    pub fn new(evidence: &'a HostEvidence) -> Self {
        let mut by_service: HashMap<&str, HashMap<&str, Vec<&Container>>> = HashMap::new();
        for c in &evidence.containers {
            if c.is_oneoff() {
                continue;
            }
            if let (Some(p), Some(s)) = (c.project(), c.service()) {
                by_service
                    .entry(p)
                    .or_default()
                    .entry(s)
                    .or_default()
                    .push(c);
            }
        }
        ServiceIndex { by_service }
    }

    /// The containers of one compose service.
    pub fn of(&self, project: &str, service: &str) -> &[&'a Container] {
        self.by_service
            .get(project)
            .and_then(|m| m.get(service))
            .map_or(&[], Vec::as_slice)
    }
}

/// The pure heart: one module against its host's evidence.
///
/// `compose_project` is the platform's `compose_project` (platform.toml). External modules give
/// [`ModulePlan::skipped`]; see the crate documentation for every rule. To plan many modules of
/// one host, build a [`ServiceIndex`] once and call [`plan_module_indexed`].
pub fn plan_module(module: &Module, evidence: &HostEvidence, compose_project: &str) -> ModulePlan {
    plan_module_indexed(
        module,
        evidence,
        &ServiceIndex::new(evidence),
        compose_project,
    )
}

/// [`plan_module`] with the host's containers already indexed.
pub fn plan_module_indexed(
    module: &Module,
    evidence: &HostEvidence,
    index: &ServiceIndex<'_>,
    compose_project: &str,
) -> ModulePlan {
    if !module.is_observed() {
        return ModulePlan::skipped(module);
    }
    let host = host_of(module);
    let Some(service) = module
        .runtime
        .compose_service
        .as_ref()
        .map(|s| s.value.as_str())
    else {
        return ModulePlan::error(
            &module.name,
            host,
            "spec.runtime.compose_service is not set: no container can be matched to the module",
        );
    };
    let (desired, mut warnings) = match desired_image(module) {
        Ok(d) => d,
        Err(why) => return ModulePlan::error(&module.name, host, &why),
    };
    let want = Want {
        module,
        project: compose_project,
        service,
        desired: desired.as_ref(),
    };

    let mut matched: Vec<&Container> = index.of(compose_project, service).to_vec();
    matched.sort_by(|a, b| {
        let n = |c: &Container| c.number().unwrap_or(u32::MAX);
        n(a).cmp(&n(b)).then_with(|| a.name.cmp(&b.name))
    });

    let mut plan = ModulePlan::empty(&module.name, host, Status::InSync);
    let verdict = if matched.is_empty() {
        match by_expected_name(&want, evidence) {
            Some(c) => {
                let label = match (c.project(), c.service()) {
                    (None, None) => "(no compose labels)".to_string(),
                    (p, s) if p == Some(compose_project) => {
                        s.unwrap_or("(no service label)").to_string()
                    }
                    (p, s) => format!(
                        "{} (project {})",
                        s.unwrap_or("(no service label)"),
                        p.unwrap_or("(none)")
                    ),
                };
                let change = Change::new(
                    field::SERVICE_LABEL,
                    ChangeCode::ComposeServiceMismatch,
                    service,
                    label,
                );
                Some(judge(&want, c, evidence.image_of(c), Some(change), 0))
            }
            None => {
                if module.runtime.desired_state == DesiredState::Running {
                    plan.changes.push(Change::new(
                        field::EXISTS,
                        ChangeCode::ContainerMissing,
                        format!(
                            "a container of service `{service}` in project `{compose_project}`"
                        ),
                        "none",
                    ));
                }
                None
            }
        }
    } else {
        let replicas = matched.len();
        let mut worst: Option<Verdict> = None;
        for c in matched {
            let v = judge(&want, c, evidence.image_of(c), None, replicas);
            if worst.as_ref().is_none_or(|w| v.weight() > w.weight()) {
                worst = Some(v);
            }
        }
        worst
    };

    if let Some(v) = verdict {
        plan.changes.extend(v.changes);
        warnings.extend(v.warnings);
        plan.evidence = Some(v.evidence);
        plan.error = v.undecided;
    }
    plan.warnings = warnings;
    plan.status = if plan.error.is_some() {
        Status::Error
    } else if plan.changes.is_empty() {
        Status::InSync
    } else {
        Status::Drift
    };
    plan
}

/// What the module wants, for judging containers.
struct Want<'a> {
    module: &'a Module,
    project: &'a str,
    service: &'a str,
    desired: Option<&'a Desired>,
}

/// The desired image and where it was written.
struct Desired {
    reference: ImageRef,
    from_artifact: bool,
}

/// The desired image (artifact, else image_observed) and the warnings that go with the choice.
fn desired_image(m: &Module) -> Result<(Option<Desired>, Vec<Warning>), String> {
    let artifact = m
        .artifact
        .as_ref()
        .and_then(|a| a.reference.as_ref())
        .map(|r| r.value.as_str());
    if let Some(text) = artifact {
        let reference = ImageRef::parse(text)
            .map_err(|e| format!("spec.artifact.reference is not an image reference: {e}"))?;
        return Ok((
            Some(Desired {
                reference,
                from_artifact: true,
            }),
            Vec::new(),
        ));
    }
    match m.runtime.image_observed.as_ref().map(|r| r.value.as_str()) {
        Some(text) => {
            let reference = ImageRef::parse(text).map_err(|e| {
                format!("spec.runtime.image_observed is not an image reference: {e}")
            })?;
            let w = Warning::new(
                WarningCode::NoDesiredArtifact,
                format!(
                    "no spec.artifact.reference: the desired image falls back to the audit \
                     snapshot spec.runtime.image_observed `{text}`; declare the artifact to say \
                     what the platform intends to run"
                ),
            );
            Ok((
                Some(Desired {
                    reference,
                    from_artifact: false,
                }),
                vec![w],
            ))
        }
        None => Ok((
            None,
            vec![Warning::new(
                WarningCode::NoDesiredImage,
                "neither spec.artifact.reference nor spec.runtime.image_observed: the image is \
                 not judged",
            )],
        )),
    }
}

/// With no labelled container: one (not a one-off) with the name the module expects.
fn by_expected_name<'e>(want: &Want<'_>, evidence: &'e HostEvidence) -> Option<&'e Container> {
    let mut names = Vec::with_capacity(2);
    match &want.module.runtime.container_name {
        Some(n) => names.push(n.value.clone()),
        None => {
            names.push(format!("{}-{}-1", want.project, want.service));
            names.push(format!("{}_{}_1", want.project, want.service));
        }
    }
    evidence
        .containers
        .iter()
        .find(|c| !c.is_oneoff() && names.contains(&c.name))
}

/// One container judged.
struct Verdict {
    changes: Vec<Change>,
    warnings: Vec<Warning>,
    evidence: Evidence,
    /// Why the image could not be judged, when it could not.
    undecided: Option<String>,
}

impl Verdict {
    fn weight(&self) -> (bool, usize, usize) {
        (
            self.undecided.is_some(),
            self.changes.len(),
            self.warnings.len(),
        )
    }
}

fn judge(
    want: &Want<'_>,
    c: &Container,
    image: Option<&Image>,
    service_change: Option<Change>,
    replicas: usize,
) -> Verdict {
    let mut changes: Vec<Change> = service_change.into_iter().collect();
    let mut warnings = Vec::new();
    let mut undecided = None;
    let mut repo_digest = None;

    match want.module.runtime.desired_state {
        DesiredState::Running => {
            if c.state != ContainerState::Running {
                changes.push(Change::new(
                    field::RUNNING,
                    ChangeCode::ContainerNotRunning,
                    "running",
                    c.state.as_str(),
                ));
            }
        }
        DesiredState::Stopped => {
            if matches!(
                c.state,
                ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
            ) {
                changes.push(Change::new(
                    field::RUNNING,
                    ChangeCode::ContainerRunningUnexpectedly,
                    "stopped",
                    c.state.as_str(),
                ));
            }
        }
    }

    let container_name = want
        .module
        .runtime
        .container_name
        .as_ref()
        .map(|n| n.value.as_str());
    if !name_in_sync(&c.name, container_name, want.project, want.service) {
        let desired = match container_name {
            Some(n) => n.to_string(),
            None => format!(
                "{p}-{s}-<n> (or compose v1 {p}_{s}_<n>)",
                p = want.project,
                s = want.service
            ),
        };
        changes.push(Change::new(
            field::NAME,
            ChangeCode::ContainerNameMismatch,
            desired,
            c.name.as_str(),
        ));
    }

    if c.health == Some(Health::Unhealthy) {
        warnings.push(Warning::new(
            WarningCode::ContainerUnhealthy,
            format!(
                "container `{}` reports unhealthy (its health check fails)",
                c.name
            ),
        ));
    }

    if let Some(desired) = want.desired {
        let host = HostNames::of(c, image);
        match judge_image(&desired.reference, c, image, &host) {
            ImageVerdict::InSync {
                repo_digest: matched,
                tag_only,
                tag_moved,
            } => {
                repo_digest = matched;
                if let Some(note) = tag_only {
                    warnings.push(Warning::new(WarningCode::ImageDigestNotVerified, note));
                }
                if let Some(note) = tag_moved {
                    warnings.push(Warning::new(WarningCode::ImageTagMoved, note));
                }
                if desired.from_artifact
                    && let Some(stale) = stale_snapshot(want.module, c, image, &host)
                {
                    warnings.push(stale);
                }
            }
            ImageVerdict::Changed(code, observed) => changes.push(Change::new(
                field::IMAGE,
                code,
                desired.reference.original(),
                observed,
            )),
            ImageVerdict::Undecided(why) => undecided = Some(why),
        }
    }

    if let Some(img) = image
        && img.repo_digests.is_empty()
    {
        warnings.push(Warning::new(
            WarningCode::ImageLocalBuild,
            format!(
                "image {} of container `{}` has no repo digests: it was built or loaded on the \
                 host, so no registry digest identifies it",
                short(&img.id),
                c.name
            ),
        ));
    }
    // Stable order of warnings within a container: unhealthy, digest not verified, snapshot,
    // local build (the order they were pushed in).

    Verdict {
        changes,
        warnings,
        evidence: Evidence {
            container: c.name.clone(),
            container_id: c.short_id().to_string(),
            state: c.state.as_str().to_string(),
            health: c.health,
            image_ref: c.image_ref.clone(),
            image_id: c.image_id.clone(),
            repo_digest,
            replicas,
            digest_verified_by: None,
        },
        undecided,
    }
}

/// Whether a container name follows the module's naming: `container_name` exactly, else
/// compose v2 `<project>-<service>-<n>` or v1 `<project>_<service>_<n>`.
pub fn name_in_sync(
    name: &str,
    container_name: Option<&str>,
    project: &str,
    service: &str,
) -> bool {
    if let Some(expected) = container_name {
        return name == expected;
    }
    ['-', '_'].into_iter().any(|sep| {
        name.strip_prefix(project)
            .and_then(|r| r.strip_prefix(sep))
            .and_then(|r| r.strip_prefix(service))
            .and_then(|r| r.strip_prefix(sep))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// What the host says about a container's image, parsed (what does not parse is left out: an
/// image ID in `image_ref`, say).
struct HostNames {
    /// The container's reference, when it is one.
    reference: Option<ImageRef>,
    /// The image's `RepoTags`.
    tags: Vec<ImageRef>,
    /// The image's `RepoDigests`.
    digests: Vec<ImageRef>,
}

impl HostNames {
    fn of(c: &Container, image: Option<&Image>) -> Self {
        let parse_all = |v: Option<&Vec<String>>| -> Vec<ImageRef> {
            v.into_iter()
                .flatten()
                .filter_map(|s| ImageRef::parse(s).ok())
                .collect()
        };
        HostNames {
            reference: ImageRef::parse(&c.image_ref).ok(),
            tags: parse_all(image.map(|i| &i.repo_tags)),
            digests: parse_all(image.map(|i| &i.repo_digests))
                .into_iter()
                .filter(|d| d.digest().is_some())
                .collect(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &ImageRef> {
        self.reference.iter().chain(&self.tags).chain(&self.digests)
    }

    /// What the container references, for an `observed` value: its reference, else its image's
    /// tags, else its repo digests.
    fn describe(&self, c: &Container) -> String {
        if let Some(r) = &self.reference {
            return r.original().to_string();
        }
        if !self.tags.is_empty() {
            return join(&self.tags);
        }
        if !self.digests.is_empty() {
            return format!("{} (untagged)", join(&self.digests));
        }
        untagged(c)
    }

    /// The same, restricted to the desired repository.
    fn describe_in(&self, repo: &ImageRef, c: &Container) -> String {
        let same = |v: &[ImageRef]| -> Vec<ImageRef> {
            v.iter()
                .filter(|r| r.same_repository(repo))
                .cloned()
                .collect()
        };
        if let Some(r) = self.reference.as_ref().filter(|r| r.same_repository(repo)) {
            return r.original().to_string();
        }
        let tags = same(&self.tags);
        if !tags.is_empty() {
            return join(&tags);
        }
        let digests = same(&self.digests);
        if !digests.is_empty() {
            return format!(
                "{} (no tag of this repository left: it has moved on since the container started)",
                join(&digests)
            );
        }
        self.describe(c)
    }
}

fn join(refs: &[ImageRef]) -> String {
    refs.iter()
        .map(ImageRef::original)
        .collect::<Vec<_>>()
        .join(", ")
}

fn untagged(c: &Container) -> String {
    format!("untagged image {}", short(&c.image_id))
}

enum ImageVerdict {
    /// In sync; the repo digest that proved it, or the note that nothing proves the image.
    InSync {
        repo_digest: Option<String>,
        tag_only: Option<String>,
        /// In sync by the container's reference while the host's tag names another image.
        tag_moved: Option<String>,
    },
    /// Drift.
    Changed(ChangeCode, String),
    /// The evidence cannot decide.
    Undecided(String),
}

fn judge_image(
    desired: &ImageRef,
    c: &Container,
    image: Option<&Image>,
    host: &HostNames,
) -> ImageVerdict {
    let same_repo = host.all().any(|r| r.same_repository(desired));
    if let Some(digest) = desired.digest() {
        // The digest decides, and only a repo digest of the same repository can prove it.
        let Some(image) = image else {
            return ImageVerdict::Undecided(not_observed(c));
        };
        if let Some(hit) = host
            .digests
            .iter()
            .find(|d| d.same_repository(desired) && d.digest() == Some(digest))
        {
            return ImageVerdict::InSync {
                repo_digest: Some(hit.original().to_string()),
                tag_only: None,
                tag_moved: None,
            };
        }
        if !same_repo && host.all().next().is_some() {
            return ImageVerdict::Changed(ChangeCode::ImageRepositoryMismatch, host.describe(c));
        }
        let of_repo: Vec<ImageRef> = host
            .digests
            .iter()
            .filter(|d| d.same_repository(desired))
            .cloned()
            .collect();
        let observed = if !of_repo.is_empty() {
            join(&of_repo)
        } else if image.repo_digests.is_empty() {
            "no repo digests (locally built or loaded)".to_string()
        } else {
            format!(
                "no repo digest of {} (the image has {})",
                desired.familiar_name(),
                image.repo_digests.join(", ")
            )
        };
        return ImageVerdict::Changed(ChangeCode::ImageDigestMismatch, observed);
    }

    // A tag (`latest` when none is written).
    let tag = desired
        .effective_tag()
        .unwrap_or(platformctl_imageref::DEFAULT_TAG);
    let carries = |r: &ImageRef| r.same_repository(desired) && r.effective_tag() == Some(tag);
    let by_reference = host.reference.as_ref().is_some_and(carries);
    let by_tags = host.tags.iter().any(carries);
    if by_reference || by_tags {
        let mut note = format!(
            "`{}` runs tag `{tag}` of {}, but nothing proves which image that tag named when it \
             was pulled: pin spec.artifact.reference by digest to verify it",
            c.name,
            desired.familiar_name()
        );
        let mut tag_moved = None;
        match image {
            None => note.push_str(&format!(
                " (the image {} was not observed)",
                short(&c.image_id)
            )),
            Some(_) if !by_tags => {
                tag_moved = Some(format!(
                    "`{}` runs an earlier pull of `{}`: on this host the tag now names another \
                     image, so `compose up` would recreate the container with it",
                    c.name,
                    desired.original()
                ));
            }
            Some(_) => {}
        }
        return ImageVerdict::InSync {
            repo_digest: None,
            tag_only: Some(note),
            tag_moved,
        };
    }
    if image.is_none() {
        return ImageVerdict::Undecided(not_observed(c));
    }
    if same_repo {
        return ImageVerdict::Changed(ChangeCode::ImageTagMismatch, host.describe_in(desired, c));
    }
    if host.all().next().is_some() {
        return ImageVerdict::Changed(ChangeCode::ImageRepositoryMismatch, host.describe(c));
    }
    ImageVerdict::Changed(ChangeCode::ImageTagMismatch, untagged(c))
}

fn not_observed(c: &Container) -> String {
    format!(
        "the image {} of container `{}` was not in the observation: its repo tags and digests \
         are unknown, so the image can be proven neither in sync nor drifted",
        short(&c.image_id),
        c.name
    )
}

/// `SNAPSHOT_STALE` when the artifact is in sync but `image_observed` is not what runs.
fn stale_snapshot(
    m: &Module,
    c: &Container,
    image: Option<&Image>,
    host: &HostNames,
) -> Option<Warning> {
    let snap = m.runtime.image_observed.as_ref()?;
    let at = m
        .runtime
        .image_observed_at
        .as_ref()
        .map(|d| format!(" (audited {})", d.value))
        .unwrap_or_default();
    let live = match ImageRef::parse(&snap.value) {
        Err(_) => "it is not an image reference".to_string(),
        Ok(r) => match judge_image(&r, c, image, host) {
            ImageVerdict::Changed(_, observed) => format!("the host runs {observed}"),
            ImageVerdict::InSync { .. } | ImageVerdict::Undecided(_) => return None,
        },
    };
    Some(Warning::new(
        WarningCode::SnapshotStale,
        format!(
            "spec.runtime.image_observed `{}`{at} is not what runs ({live}), while the artifact \
             is: the audit snapshot is out of date, not the host",
            snap.value
        ),
    ))
}
