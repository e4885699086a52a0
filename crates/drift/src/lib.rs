//! Drift orchestration: which hosts to observe for which modules, observing them, joining each
//! host's evidence to its modules, the verdicts' exit codes, and the typed `plan` and
//! `drift-check` JSON documents.
//!
//! This is the one place `platformctl plan`, `platformctl drift-check` (and later `serve`,
//! `mcp` and `apply`) get live drift from. It sits between the stages of platformctl
//! (load → observe → compare → render): the caller loads the [`Catalog`], this crate maps its
//! hosts to observe [`Target`]s ([`target`]), observes every needed host once and concurrently
//! ([`run_fleet`], through `platformctl-observe`, the only crate that talks to hosts), and
//! compares each module with its host's evidence (`platformctl-compare`, pure). What comes back
//! ([`DriftCheck`], [`PlanRun`]) carries the plans, the host reports, the exit code
//! ([`exit`], [`drift_exit_code`], [`plan_exit_code`]) and, on request, the JSON document
//! ([`DriftCheckDoc`], [`PlanDoc`]) whose JSON Schema [`doc::drift_check_schema`] publishes.
//! Rendering for humans is the caller's.
//!
//! Nothing here can change a host: observation is read-only by construction (see the observe
//! crate), and this crate writes no file.
//!
//! ```no_run
//! use platformctl_catalog::{Catalog, LoadOptions};
//! use platformctl_drift::{FleetOptions, drift_check};
//!
//! let catalog = Catalog::load("examples/home-platform".as_ref(), &LoadOptions::default())
//!     .map_err(|_| "cannot load")?;
//! let run = drift_check(&catalog, &[], None, &FleetOptions::default())?;
//! println!("{}", serde_json::to_string_pretty(&run.document()).unwrap());
//! std::process::exit(run.exit_code.into());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use platformctl_catalog::{Catalog, Finding, Module, Platform, Severity, Transport};
use platformctl_compare::{ModulePlan, ServiceIndex, Status, Summary, plan_module_indexed};
use platformctl_observe::{
    HostReport, ObserveError, ObserveErrorKind, Options, ProgressFn, Target, TargetKind, Via,
    observe_blocking,
};

pub mod binding;
pub mod doc;
#[cfg(any(test, feature = "fake-engine"))]
pub mod fake_engine;
pub mod registry;

pub use doc::{DriftCheckDoc, ErrorDoc, PlanDoc};

/// The defaults of drift orchestration, defined once (documented in docs/drift.md).
///
/// They are the observe crate's own defaults, so that a caller of either gets the same.
pub mod defaults {
    use std::time::Duration;

    /// The time one host may take in all (connect, ask, close): 30 s. `--timeout SECS`.
    pub const HOST_TIMEOUT: Duration = platformctl_observe::DEFAULT_HOST_TIMEOUT;
    /// ssh's `ConnectTimeout` when platform.toml sets no `connect_timeout_s`: 10 s.
    pub const CONNECT_TIMEOUT: Duration = platformctl_observe::DEFAULT_CONNECT_TIMEOUT;
    /// Hosts observed at the same time: 8. `--concurrency N`.
    pub const CONCURRENCY: usize = platformctl_observe::DEFAULT_CONCURRENCY;
}

/// drift-check exit codes (SPEC §4, docs/exit-codes.md).
pub mod exit {
    /// Every checked module is in sync.
    pub const IN_SYNC: u8 = 0;
    /// Usage or configuration error.
    pub const USAGE: u8 = 1;
    /// Drift, and every host answered.
    pub const DRIFT: u8 = 2;
    /// No host answered.
    pub const UNREACHABLE: u8 = 5;
    /// Some modules could not be checked, others were.
    pub const PARTIAL: u8 = 8;

    /// plan exit codes: in sync (or skipped) 0, drift 1, error/unreachable/usage 2.
    pub mod plan {
        /// In sync, or skipped (external).
        pub const IN_SYNC: u8 = 0;
        /// Drift.
        pub const DRIFT: u8 = 1;
        /// Error, unreachable host, or a usage/configuration error.
        pub const ERROR: u8 = 2;
    }
}

/// How to observe a fleet.
#[derive(Clone)]
pub struct FleetOptions {
    /// The time one host may take in all. Default [`defaults::HOST_TIMEOUT`].
    pub host_timeout: Duration,
    /// Hosts observed at the same time (0 counts as 1). Default [`defaults::CONCURRENCY`].
    pub concurrency: usize,
    /// Called as hosts start, fall back and finish (for a progress display).
    pub progress: Option<ProgressFn>,
    /// Ask the modules' registries too (`drift-check --registry`, SPEC §7): registry evidence
    /// is added to the plans, never changing a verdict or the exit code.
    pub registry: Option<registry::RegistryOptions>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            host_timeout: defaults::HOST_TIMEOUT,
            concurrency: defaults::CONCURRENCY,
            progress: None,
            registry: None,
        }
    }
}

impl FleetOptions {
    /// Options from command-line values: `timeout_secs` (at least 1 s) and `concurrency` (at
    /// least 1), each falling back to its default when `None`.
    pub fn from_flags(timeout_secs: Option<u64>, concurrency: Option<usize>) -> Self {
        FleetOptions {
            host_timeout: timeout_secs
                .map_or(defaults::HOST_TIMEOUT, |s| Duration::from_secs(s.max(1))),
            concurrency: concurrency.unwrap_or(defaults::CONCURRENCY).max(1),
            progress: None,
            registry: None,
        }
    }
}

impl std::fmt::Debug for FleetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetOptions")
            .field("host_timeout", &self.host_timeout)
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress.as_ref().map(|_| "Fn"))
            .finish()
    }
}

/// What observing the selected modules' hosts gave.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// One plan per selected module, in selection order.
    pub plans: Vec<ModulePlan>,
    /// One report per observed host, in the order the modules first needed them.
    pub hosts: Vec<HostReport>,
    /// The error findings of modules reported as `error` because their manifest does not
    /// validate, by module.
    pub findings: BTreeMap<String, Vec<Finding>>,
}

/// A module or host named on the command line that the catalog does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// No such module.
    #[error("no module `{name}` in the catalog{}", did_you_mean(.suggestion))]
    UnknownModule {
        /// The name asked for.
        name: String,
        /// The closest module name, if one is close.
        suggestion: Option<String>,
    },
    /// No such host.
    #[error("no host `{name}` in platform.toml (hosts: {})", .known.join(", "))]
    UnknownHost {
        /// The name asked for.
        name: String,
        /// The hosts of platform.toml.
        known: Vec<String>,
    },
    /// platform.toml has error findings: nothing is observed until it validates (a dropped
    /// `[ssh] config` or host would otherwise fail later with a misleading reason).
    #[error("{}", platform_invalid(.errors))]
    PlatformInvalid {
        /// platform.toml's error findings.
        errors: Vec<Finding>,
    },
}

fn platform_invalid(errors: &[Finding]) -> String {
    let mut s = format!(
        "platform.toml does not validate ({} error{}); no host was contacted",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for f in errors {
        s.push_str(&format!(
            "\n  {}:{}:{}: {}: {}",
            f.file.display(),
            f.line,
            f.column,
            f.code,
            f.message
        ));
    }
    s
}

/// platform.toml's error findings as a [`SelectError::PlatformInvalid`], if it has any.
pub fn check_platform(catalog: &Catalog) -> Result<(), SelectError> {
    let errors: Vec<Finding> = Platform::errors_in(&catalog.findings)
        .into_iter()
        .cloned()
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SelectError::PlatformInvalid { errors })
    }
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// The observe target of platform.toml's `[hosts.NAME]`, if there is such a host.
pub fn target(catalog: &Catalog, name: &str) -> Option<Target> {
    let host = catalog.platform.hosts.get(name)?;
    let kind = match host.transport {
        Transport::Local => TargetKind::Local,
        Transport::Ssh => TargetKind::Ssh {
            destination: host.ssh.clone().unwrap_or_default(),
            config_file: catalog.platform.ssh_config_file(&catalog.root),
        },
    };
    Some(Target {
        host: name.to_string(),
        kind,
        docker_socket: host.docker_socket.clone(),
        connect_timeout: host
            .connect_timeout_s
            .map_or(defaults::CONNECT_TIMEOUT, Duration::from_secs),
    })
}

/// The hosts `modules` need observed, in the order they first appear: each valid, observed
/// module's host, if platform.toml has it.
pub fn hosts_needed<'a>(catalog: &'a Catalog, modules: &[&'a Module]) -> Vec<&'a str> {
    let mut wanted: Vec<&str> = Vec::new();
    for m in modules {
        if catalog.module_has_errors(&m.name) || !m.is_observed() {
            continue;
        }
        if let Some(h) = &m.runtime.host
            && catalog.platform.hosts.contains_key(h.as_str())
            && !wanted.contains(&h.as_str())
        {
            wanted.push(h.as_str());
        }
    }
    wanted
}

/// Observes the hosts of `modules` (each once, concurrently) and compares every module with
/// its host's evidence. Modules whose manifest does not validate are `error` (with their
/// findings), external ones `skipped`, those whose host did not answer `unreachable`.
pub fn run_fleet(catalog: &Catalog, modules: &[&Module], opts: &FleetOptions) -> Fleet {
    let project = catalog.platform.compose_project.as_str();
    let wanted = hosts_needed(catalog, modules);
    let targets: Vec<Target> = wanted.iter().filter_map(|h| target(catalog, h)).collect();
    let observe_opts = Options {
        concurrency: opts.concurrency,
        host_timeout: opts.host_timeout,
        progress: opts.progress.clone(),
        platform: opts.registry.is_some(),
        ..Options::default()
    };
    let reports = if targets.is_empty() {
        Vec::new()
    } else {
        observe_blocking(targets, project, &observe_opts).unwrap_or_else(|e| {
            wanted
                .iter()
                .map(|h| HostReport {
                    host: (*h).to_string(),
                    outcome: Err(ObserveError {
                        kind: ObserveErrorKind::Protocol,
                        message: format!("cannot start the observation runtime: {e}"),
                    }),
                    elapsed: Duration::ZERO,
                    via: Via::Local,
                })
                .collect()
        })
    };
    let (plans, findings) = join(catalog, modules, &reports);
    Fleet {
        plans,
        hosts: reports,
        findings,
    }
}

/// Joins host reports to modules: one plan per module (pure; no I/O).
pub fn join(
    catalog: &Catalog,
    modules: &[&Module],
    reports: &[HostReport],
) -> (Vec<ModulePlan>, BTreeMap<String, Vec<Finding>>) {
    let project = catalog.platform.compose_project.as_str();
    let mut findings = BTreeMap::new();
    let by_host: HashMap<&str, &HostReport> =
        reports.iter().map(|r| (r.host.as_str(), r)).collect();
    let indexes: HashMap<&str, ServiceIndex<'_>> = reports
        .iter()
        .filter_map(|r| Some((r.host.as_str(), ServiceIndex::new(r.outcome.as_ref().ok()?))))
        .collect();
    let mut plans = Vec::with_capacity(modules.len());
    let today = platformctl_catalog::module::today();
    for m in modules {
        let host = m.runtime.host.as_ref().map(|h| h.value.as_str());
        if catalog.module_has_errors(&m.name) {
            let mine: Vec<Finding> = catalog
                .findings_of(&m.name)
                .filter(|f| f.severity == Severity::Error)
                .cloned()
                .collect();
            let first = mine.first().map_or(String::new(), |f| {
                format!(
                    ": {} at {}:{}:{}: {}",
                    f.code,
                    f.file.display(),
                    f.line,
                    f.column,
                    f.message
                )
            });
            plans.push(ModulePlan::error(
                &m.name,
                host,
                &format!(
                    "the manifest does not validate ({} error{}){first}",
                    mine.len(),
                    if mine.len() == 1 { "" } else { "s" }
                ),
            ));
            findings.insert(m.name.clone(), mine);
            continue;
        }
        if !m.is_observed() {
            plans.push(ModulePlan::skipped(m));
            continue;
        }
        match host.and_then(|h| by_host.get(h)) {
            Some(report) => match &report.outcome {
                Ok(evidence) => {
                    let index = &indexes[report.host.as_str()];
                    let mut plan = plan_module_indexed(m, evidence, index, project);
                    add_config_drift(catalog, m, evidence, &mut plan);
                    plan.apply_accepts(&m.accept, today);
                    plans.push(plan);
                }
                Err(e) if e.kind == ObserveErrorKind::Invalid => {
                    plans.push(ModulePlan::error(&m.name, host, &e.message))
                }
                Err(e) => plans.push(ModulePlan::unreachable(m, &e.message)),
            },
            None => plans.push(ModulePlan::error(
                &m.name,
                host,
                "its host is not usable (see the findings of platform.toml)",
            )),
        }
    }
    (plans, findings)
}

/// Config drift (SPEC §9) of the container a plan judged, against its compose service.
fn add_config_drift(
    catalog: &Catalog,
    m: &Module,
    evidence: &platformctl_evidence::HostEvidence,
    plan: &mut ModulePlan,
) {
    if !matches!(plan.status, Status::InSync | Status::Drift) {
        return;
    }
    let Some(ev) = &plan.evidence else { return };
    let Some(c) = evidence
        .containers
        .iter()
        .find(|c| c.id.starts_with(&ev.container_id))
    else {
        return;
    };
    let service = m.runtime.compose_service.as_ref().map(|s| s.value.as_str());
    let Some(desired) = catalog
        .compose_of(m)
        .and_then(|f| f.service(service?))
        .map(|s| &s.config)
    else {
        return;
    };
    let image = evidence.image_of(c);
    plan.add_config(desired, c, image);
}

/// The drift-check exit code for a set of plans and host reports: 5 when hosts were asked and
/// none answered, else 8 when a module is unreachable or in error, else 2 on drift, else 0.
pub fn drift_exit_code(summary: &Summary, hosts: &[HostReport]) -> u8 {
    let answered = hosts.iter().filter(|h| h.outcome.is_ok()).count();
    if !hosts.is_empty() && answered == 0 {
        return exit::UNREACHABLE;
    }
    if summary.unreachable + summary.error > 0 {
        return exit::PARTIAL;
    }
    if summary.drift > 0 {
        return exit::DRIFT;
    }
    exit::IN_SYNC
}

/// The plan exit code of one module's status.
pub fn plan_exit_code(status: Status) -> u8 {
    match status {
        Status::InSync | Status::Skipped => exit::plan::IN_SYNC,
        Status::Drift => exit::plan::DRIFT,
        Status::Unreachable | Status::Error => exit::plan::ERROR,
    }
}

/// The modules `names` selects (every module when empty), keeping those on `host` if given.
pub fn select<'a>(
    catalog: &'a Catalog,
    names: &[String],
    host: Option<&str>,
) -> Result<Vec<&'a Module>, SelectError> {
    let mut selected: Vec<&Module> = Vec::new();
    if names.is_empty() {
        selected.extend(catalog.modules());
    } else {
        for name in names {
            selected.push(module(catalog, name)?);
        }
    }
    if let Some(h) = host {
        if !catalog.platform.hosts.contains_key(h) {
            return Err(SelectError::UnknownHost {
                name: h.to_string(),
                known: catalog.platform.hosts.keys().cloned().collect(),
            });
        }
        selected.retain(|m| m.runtime.host.as_ref().is_some_and(|x| x.value == *h));
    }
    Ok(selected)
}

/// The module called `name`, or an error with the closest name.
pub fn module<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a Module, SelectError> {
    catalog.module(name).ok_or_else(|| {
        let known: Vec<&str> = catalog.modules.iter().map(|m| m.dir.as_str()).collect();
        SelectError::UnknownModule {
            name: name.to_string(),
            suggestion: platformctl_diagnostics::did_you_mean(name, &known).map(str::to_string),
        }
    })
}

/// The outcome of a drift-check.
#[derive(Debug, Clone)]
pub struct DriftCheck {
    /// What observing gave (its `plans` are those of the selected modules only).
    pub fleet: Fleet,
    /// Every plan reported: the selected modules', then, for a whole-fleet check, one `error`
    /// per module folder whose manifest does not even parse.
    pub plans: Vec<ModulePlan>,
    /// Counts of `plans` by status.
    pub summary: Summary,
    /// The exit code ([`exit`]).
    pub exit_code: u8,
    /// With `--registry`: what the registry said, by module.
    pub registry: BTreeMap<String, platformctl_registry::Outcome>,
    /// With `--registry`: one report per registry asked.
    pub registries: Option<Vec<platformctl_registry::RegistryReport>>,
}

impl DriftCheck {
    /// The `platformctl/drift-check` JSON document.
    pub fn document(&self) -> DriftCheckDoc {
        DriftCheckDoc::new(self)
    }
}

/// Checks the modules `names` (every module when empty), only those on `host` if given.
/// Nothing is observed when platform.toml does not validate ([`check_platform`]).
pub fn drift_check(
    catalog: &Catalog,
    names: &[String],
    host: Option<&str>,
    opts: &FleetOptions,
) -> Result<DriftCheck, SelectError> {
    check_platform(catalog)?;
    let selected = select(catalog, names, host)?;
    let mut registries = None;
    let mut outcomes = HashMap::new();
    let fleet = match &opts.registry {
        Some(reg) => {
            let (fleet, o, r) = registry::fleet_with_registry(catalog, &selected, opts, reg, false);
            outcomes = o;
            registries = Some(r);
            fleet
        }
        None => run_fleet(catalog, &selected, opts),
    };
    let mut plans = fleet.plans.clone();
    // Manifests that did not parse at all (no model) are errors of the fleet too.
    if names.is_empty() && host.is_none() {
        for lm in catalog.modules.iter().filter(|m| m.module.is_none()) {
            plans.push(ModulePlan::error(
                &lm.dir,
                None,
                "the manifest does not parse; run `platformctl validate`",
            ));
        }
    }
    let summary = Summary::of(&plans);
    let exit_code = drift_exit_code(&summary, &fleet.hosts);
    Ok(DriftCheck {
        fleet,
        plans,
        summary,
        exit_code,
        registry: outcomes
            .into_iter()
            .map(|(i, o)| (selected[i].name.clone(), o))
            .collect(),
        registries,
    })
}

/// The outcome of a plan of one module.
#[derive(Debug, Clone)]
pub struct PlanRun {
    /// What observing gave (one plan, at most one host).
    pub fleet: Fleet,
    /// The module's plan.
    pub plan: ModulePlan,
    /// The exit code ([`exit::plan`]).
    pub exit_code: u8,
}

impl PlanRun {
    /// The `platformctl/plan` JSON document.
    pub fn document(&self) -> PlanDoc {
        PlanDoc::new(self)
    }
}

/// Plans the module `name` against its host. Nothing is observed when platform.toml does not
/// validate ([`check_platform`]).
pub fn plan(catalog: &Catalog, name: &str, opts: &FleetOptions) -> Result<PlanRun, SelectError> {
    check_platform(catalog)?;
    let m = module(catalog, name)?;
    let mut fleet = run_fleet(catalog, &[m], opts);
    let plan = fleet.plans.pop().unwrap_or_else(|| {
        ModulePlan::error(
            name,
            None,
            "no plan was made (this is a bug of platformctl)",
        )
    });
    fleet.plans.push(plan.clone());
    let exit_code = plan_exit_code(plan.status);
    Ok(PlanRun {
        fleet,
        plan,
        exit_code,
    })
}

#[cfg(test)]
mod tests;

/// The current change of a planned module that `ack MODULE CODE [--field F]` acknowledges:
/// its field and the digest of its observed value. An error says why none can be chosen (no
/// such change, several without `--field`, the module not judged).
pub fn ack_target(
    run: &PlanRun,
    code: &str,
    field: Option<&str>,
) -> Result<(String, String), String> {
    let plan = &run.plan;
    if !matches!(plan.status, Status::InSync | Status::Drift) {
        return Err(format!(
            "{} is `{}`: {}",
            plan.module,
            plan.status.as_str(),
            plan.error.as_deref().unwrap_or("nothing was judged")
        ));
    }
    let current: Vec<(String, String, String)> = plan
        .changes
        .iter()
        .map(|c| {
            (
                c.code.as_str().to_string(),
                c.field.as_str().to_string(),
                platformctl_evidence::env_digest(&c.observed),
            )
        })
        .chain(plan.config.iter().map(|c| {
            (
                c.code.as_str().to_string(),
                c.field.clone(),
                c.observed_digest.clone(),
            )
        }))
        .collect();
    let found: Vec<&(String, String, String)> = current
        .iter()
        .filter(|(c, f, _)| c == code && field.is_none_or(|want| want == f))
        .collect();
    match found.as_slice() {
        [one] => Ok((one.1.clone(), one.2.clone())),
        [] => {
            let now: Vec<String> = current.iter().map(|(c, f, _)| format!("{c} {f}")).collect();
            Err(format!(
                "{} has no current change {code}{}; its changes now: {}",
                plan.module,
                field.map_or(String::new(), |f| format!(" on {f}")),
                if now.is_empty() {
                    "none (in sync)".to_string()
                } else {
                    now.join(", ")
                }
            ))
        }
        many => Err(format!(
            "{} has {} changes {code}: name one with --field ({})",
            plan.module,
            many.len(),
            many.iter()
                .map(|m| m.1.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
