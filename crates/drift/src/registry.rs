//! Registry truth in a drift run and the `updates` command (SPEC §7): which registry question
//! each module asks (its desired `repo:tag`, the host's platform, the repo digests of the image
//! it runs), asking them through `platformctl-registry` (read-only, GET/HEAD only), and adding
//! the answers to the plans with [`platformctl_compare::apply_registry`] — which never changes
//! a status, a change or an exit code.

use std::collections::HashMap;

use platformctl_catalog::{Catalog, Module};
use platformctl_compare::{ModulePlan, RegistryFinding, Status, apply_registry};
use platformctl_imageref::ImageRef;
use platformctl_observe::HostReport;
use platformctl_registry::{Lookup, Outcome, RegistryReport, Status as RegStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{FleetOptions, SelectError, check_platform, run_fleet, select};

pub use platformctl_registry::Options as RegistryOptions;

/// The schema name and version of `updates --json`.
pub const UPDATES_SCHEMA: &str = "platformctl/updates/v1";

/// `updates` exit codes (SPEC §4).
pub mod exit {
    /// Every module runs its tag's current build, with no newer release on its track.
    pub const CURRENT: u8 = 0;
    /// Usage or configuration error.
    pub const USAGE: u8 = 1;
    /// Updates are available (a moved tag, or a newer release).
    pub const UPDATES: u8 = 2;
    /// Some registries (or hosts) did not answer.
    pub const PARTIAL: u8 = 8;
}

/// The desired reference of a module: `spec.artifact.reference`, else `image_observed`.
pub fn desired_reference(m: &Module) -> Option<ImageRef> {
    let text = m
        .artifact
        .as_ref()
        .and_then(|a| a.reference.as_ref())
        .map(|r| r.value.as_str())
        .or_else(|| m.runtime.image_observed.as_ref().map(|r| r.value.as_str()))?;
    ImageRef::parse(text).ok()
}

/// The lookup of one module's plan, when it has a desired tag (an implied `latest` counts;
/// a digest-only reference has nothing to ask).
fn lookup(m: &Module, plan: &ModulePlan, reports: &[HostReport], newer: bool) -> Option<Lookup> {
    let desired = desired_reference(m)?;
    desired.effective_tag()?;
    let report = plan
        .host
        .as_deref()
        .and_then(|h| reports.iter().find(|r| r.host == h));
    let evidence = report.and_then(|r| r.outcome.as_ref().ok());
    let local: Vec<String> = match (evidence, &plan.evidence) {
        (Some(ev), Some(pe)) => ev
            .image(&pe.image_id)
            .map(|img| {
                img.repo_digests
                    .iter()
                    .filter_map(|d| ImageRef::parse(d).ok())
                    .filter(|d| d.same_repository(&desired))
                    .filter_map(|d| d.digest().map(ToString::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Some(Lookup {
        reference: desired,
        platform: evidence.and_then(|e| e.platform.clone()),
        local,
        newer,
    })
}

/// What the registry said, as compare takes it.
pub fn finding(o: &Outcome) -> RegistryFinding {
    let msg = || o.message.clone().unwrap_or_default();
    match o.status {
        RegStatus::Current => RegistryFinding::Current {
            matched: o.matched.clone().unwrap_or_default(),
        },
        RegStatus::TagMoved => RegistryFinding::TagMoved(format!(
            "{}: {} (an update is waiting; not drift)",
            o.reference,
            msg()
        )),
        RegStatus::Unverified => RegistryFinding::Unverified,
        RegStatus::Unreachable => RegistryFinding::Unreachable(msg()),
        RegStatus::Unauthorized => RegistryFinding::Unauthorized(msg()),
        RegStatus::NotFound => RegistryFinding::NotFound(msg()),
    }
}

/// Asks the registries about `plans` (of `modules`, in order) and adds their answers to the
/// plans. Returns each plan's outcome (by plan index) and the registry reports.
pub fn add_registry_evidence(
    modules: &[&Module],
    plans: &mut [ModulePlan],
    reports: &[HostReport],
    opts: &RegistryOptions,
    newer: bool,
) -> (HashMap<usize, Outcome>, Vec<RegistryReport>) {
    let (at, lookups) = lookups(modules, plans, reports, newer);
    if lookups.is_empty() {
        return (HashMap::new(), Vec::new());
    }
    let run = platformctl_registry::check_blocking(&lookups, opts)
        .unwrap_or_else(|e| runtime_failed(&lookups, &e));
    apply(plans, at, run)
}

/// The lookups of `plans` (of `modules`), with the index of the plan each belongs to.
fn lookups(
    modules: &[&Module],
    plans: &[ModulePlan],
    reports: &[HostReport],
    newer: bool,
) -> (Vec<usize>, Vec<Lookup>) {
    let mut at = Vec::new();
    let mut lookups = Vec::new();
    for (i, (m, p)) in modules.iter().zip(plans.iter()).enumerate() {
        if matches!(p.status, Status::Skipped | Status::Error) && p.evidence.is_none() {
            continue;
        }
        if let Some(l) = lookup(m, p, reports, newer) {
            at.push(i);
            lookups.push(l);
        }
    }
    (at, lookups)
}

/// Adds the registry's outcomes to the plans at `at`.
fn apply(
    plans: &mut [ModulePlan],
    at: Vec<usize>,
    run: platformctl_registry::Run,
) -> (HashMap<usize, Outcome>, Vec<RegistryReport>) {
    let mut out = HashMap::new();
    for (i, o) in at.into_iter().zip(run.outcomes) {
        apply_registry(&mut plans[i], &finding(&o));
        out.insert(i, o);
    }
    (out, run.registries)
}

/// Observes the hosts of `modules` ([`run_fleet`]) and asks their registries, resolving the
/// desired tags while the hosts are observed (a tag's digest does not depend on a host), then
/// judging each module with its host's evidence ([`add_registry_evidence`] after `run_fleet`
/// gives the same plans, one after the other).
pub fn fleet_with_registry(
    catalog: &Catalog,
    modules: &[&Module],
    opts: &FleetOptions,
    registry: &RegistryOptions,
    newer: bool,
) -> (crate::Fleet, HashMap<usize, Outcome>, Vec<RegistryReport>) {
    let prefetch: Vec<ImageRef> = modules
        .iter()
        .filter(|m| m.runtime.host.is_some())
        .filter_map(|m| desired_reference(m))
        .filter(|r| r.effective_tag().is_some())
        .collect();
    let mut observed = None;
    let mut at = Vec::new();
    let run = platformctl_registry::check_overlapped(&prefetch, registry, || {
        let fleet = run_fleet(catalog, modules, opts);
        let (a, l) = lookups(modules, &fleet.plans, &fleet.hosts, newer);
        observed = Some(fleet);
        at = a;
        l
    });
    let Some(mut fleet) = observed else {
        // The registry runtime could not start: observe, and say so for each lookup.
        let mut fleet = run_fleet(catalog, modules, opts);
        let (at, lookups) = lookups(modules, &fleet.plans, &fleet.hosts, newer);
        if lookups.is_empty() {
            return (fleet, HashMap::new(), Vec::new());
        }
        let e = run
            .err()
            .unwrap_or_else(|| std::io::Error::other("the registry runtime did not run"));
        let run = runtime_failed(&lookups, &e);
        let (o, r) = apply(&mut fleet.plans, at, run);
        return (fleet, o, r);
    };
    let run = run.unwrap_or_default();
    if at.is_empty() {
        return (fleet, HashMap::new(), Vec::new());
    }
    let (o, r) = apply(&mut fleet.plans, at, run);
    (fleet, o, r)
}

/// Every lookup unreachable: the registry runtime could not start.
fn runtime_failed(lookups: &[Lookup], e: &std::io::Error) -> platformctl_registry::Run {
    {
        platformctl_registry::Run {
            outcomes: lookups
                .iter()
                .map(|l| Outcome {
                    reference: l.reference.normalized(),
                    platform: None,
                    status: RegStatus::Unreachable,
                    digest: None,
                    platform_digest: None,
                    matched: None,
                    checked_at: None,
                    message: Some(format!("cannot start the registry runtime: {e}")),
                    newer: Vec::new(),
                    newer_error: None,
                })
                .collect(),
            registries: Vec::new(),
        }
    }
}

/// One module of an `updates` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDoc {
    /// The module.
    pub module: String,
    /// Its host.
    pub host: Option<String>,
    /// The desired reference (artifact, else image_observed), as written.
    pub desired: Option<String>,
    /// What its container references, when one was observed.
    pub running: Option<String>,
    /// The drift verdict of the same run (`in-sync`, `drift`, …).
    pub drift: String,
    /// `update.policy` (`manual`, `notify`, `auto`), when declared.
    pub policy: Option<String>,
    /// What the registry said (absent: nothing to ask, e.g. a digest-only reference or an
    /// unreachable host).
    pub registry: Option<RegistryDoc>,
}

/// The registry's answer for one module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryDoc {
    /// The reference asked about, normalised.
    pub reference: String,
    /// The host's platform (`linux/amd64`), when its engine said.
    pub platform: Option<String>,
    /// What the tag names now.
    pub digest: Option<String>,
    /// The index entry for the host's platform.
    pub platform_digest: Option<String>,
    /// When the registry answered (RFC 3339).
    pub checked_at: Option<String>,
    /// `current`, `tag-moved`, `unverified`, `unreachable`, `unauthorized` or `not-found`.
    #[schemars(extend("enum" = ["current", "tag-moved", "unverified", "unreachable", "unauthorized", "not-found"]))]
    pub status: String,
    /// Why the status is not `current`.
    pub message: Option<String>,
    /// Newer releases on the tag's track, newest first.
    pub newer: Vec<NewerDoc>,
    /// Why newer releases could not be listed.
    pub newer_error: Option<String>,
}

/// A newer release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewerDoc {
    /// The tag.
    pub tag: String,
    /// `major`, `minor`, `patch`, `prerelease` or `date`.
    #[schemars(extend("enum" = ["major", "minor", "patch", "prerelease", "date"]))]
    pub kind: String,
}

/// One registry of an `updates` or `drift-check --registry` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryReportDoc {
    /// The registry.
    pub registry: String,
    /// Whether it answered every question.
    pub answered: bool,
    /// Manifest HEAD requests made.
    pub heads: usize,
    /// GET requests made (index bodies, tags pages).
    pub gets: usize,
    /// Token requests made.
    pub tokens: usize,
    /// Answers taken from the disk cache.
    pub cached: usize,
    /// Docker Hub's `RateLimit-Remaining`, as sent.
    pub rate_limit_remaining: Option<String>,
    /// Docker Hub's `RateLimit-Limit`, as sent.
    pub rate_limit_limit: Option<String>,
}

impl From<&RegistryReport> for RegistryReportDoc {
    fn from(r: &RegistryReport) -> Self {
        RegistryReportDoc {
            registry: r.registry.clone(),
            answered: r.answered,
            heads: r.heads,
            gets: r.gets,
            tokens: r.tokens,
            cached: r.cached,
            rate_limit_remaining: r.rate_limit_remaining.clone(),
            rate_limit_limit: r.rate_limit_limit.clone(),
        }
    }
}

impl From<&Outcome> for RegistryDoc {
    fn from(o: &Outcome) -> Self {
        RegistryDoc {
            reference: o.reference.clone(),
            platform: o.platform.clone(),
            digest: o.digest.clone(),
            platform_digest: o.platform_digest.clone(),
            checked_at: o.checked_at.clone(),
            status: o.status.as_str().to_owned(),
            message: o.message.clone(),
            newer: o
                .newer
                .iter()
                .map(|n| NewerDoc {
                    tag: n.tag.clone(),
                    kind: n.kind.as_str().to_owned(),
                })
                .collect(),
            newer_error: o.newer_error.clone(),
        }
    }
}

/// `updates --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "platformctl updates --json (platformctl/updates/v1)")]
pub struct UpdatesDoc {
    /// `platformctl/updates/v1`.
    #[schemars(extend("const" = "platformctl/updates/v1"))]
    pub schema: String,
    /// 0 all current, 2 updates available, 8 some registries (or hosts) did not answer.
    #[schemars(extend("enum" = [0, 2, 8]))]
    pub exit_code: u8,
    /// One entry per module.
    pub modules: Vec<UpdateDoc>,
    /// One entry per registry asked.
    pub registries: Vec<RegistryReportDoc>,
}

/// The JSON Schema of `updates --json`.
pub fn updates_schema() -> schemars::Schema {
    schemars::schema_for!(UpdatesDoc)
}

/// The outcome of `updates`.
#[derive(Debug, Clone)]
pub struct UpdatesRun {
    /// The document.
    pub doc: UpdatesDoc,
}

/// `updates [MODULE…] [--host H]`: observes the modules' hosts (read-only), asks their
/// registries, and lists per module the registry status and newer releases on its track.
pub fn updates(
    catalog: &Catalog,
    names: &[String],
    host: Option<&str>,
    opts: &FleetOptions,
    registry: &RegistryOptions,
) -> Result<UpdatesRun, SelectError> {
    check_platform(catalog)?;
    let selected = select(catalog, names, host)?;
    let opts = FleetOptions {
        registry: Some(registry.clone()),
        ..opts.clone()
    };
    let (fleet, outcomes, registries) =
        fleet_with_registry(catalog, &selected, &opts, registry, true);
    let mut modules = Vec::new();
    let mut partial = registries.iter().any(|r| !r.answered);
    let mut updates = false;
    for (i, (m, p)) in selected.iter().zip(&fleet.plans).enumerate() {
        let o = outcomes.get(&i);
        if p.status == Status::Unreachable {
            partial = true;
        }
        if let Some(o) = o {
            if o.status == RegStatus::TagMoved || !o.newer.is_empty() {
                updates = true;
            }
            if o.newer_error.is_some() {
                partial = true;
            }
        }
        modules.push(UpdateDoc {
            module: m.name.clone(),
            host: p.host.clone(),
            desired: m
                .artifact
                .as_ref()
                .and_then(|a| a.reference.as_ref())
                .or(m.runtime.image_observed.as_ref())
                .map(|r| r.value.clone()),
            running: p.evidence.as_ref().map(|e| e.image_ref.clone()),
            drift: p.status.as_str().to_owned(),
            policy: m.update.as_ref().and_then(|u| u.policy.clone()),
            registry: o.map(RegistryDoc::from),
        });
    }
    let exit_code = if partial {
        exit::PARTIAL
    } else if updates {
        exit::UPDATES
    } else {
        exit::CURRENT
    };
    Ok(UpdatesRun {
        doc: UpdatesDoc {
            schema: UPDATES_SCHEMA.to_owned(),
            exit_code,
            modules,
            registries: registries.iter().map(RegistryReportDoc::from).collect(),
        },
    })
}
