//! `platformctl plan MODULE` and `platformctl drift-check [MODULE…]`: read-only drift.
//!
//! Both load the catalog, observe the hosts of the selected modules (one connection per host,
//! hosts concurrently), compare each module with its host's evidence, and render. Neither can
//! change anything: the observe crate only offers reads (see its crate doc), and the only file
//! written is the one `plan --out` names.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use platformctl_catalog::{Catalog, Finding, Module, Severity, Transport};
use platformctl_compare::{ModulePlan, ServiceIndex, Status, Summary, plan_module_indexed};
use platformctl_observe::{
    HostReport, ObserveErrorKind, Options, ProgressEvent, Target, TargetKind, observe_blocking,
};
use serde_json::{Value, json};

use crate::cli::{Cli, DriftCheckArgs, PlanArgs};
use crate::output::{self, Fatal};
use crate::style::Style;

const PLAN_SCHEMA: &str = "platformctl/plan/v1";
const DRIFT_SCHEMA: &str = "platformctl/drift-check/v1";

/// drift-check exit codes (SPEC §4).
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
}

/// What observing the selected modules' hosts gave.
struct Fleet {
    plans: Vec<ModulePlan>,
    /// Per observed host: the report.
    hosts: Vec<HostReport>,
    /// Findings of modules reported as `error`, by module.
    findings: BTreeMap<String, Vec<Finding>>,
}

struct FleetOptions {
    host_timeout: Duration,
    concurrency: usize,
    progress: bool,
}

/// Observes and compares `modules` (all observable ones of `catalog` when empty).
fn run_fleet(catalog: &Catalog, modules: &[&Module], opts: &FleetOptions) -> Fleet {
    let project = catalog.platform.compose_project.as_str();
    let mut findings = BTreeMap::new();
    // Which modules need which host.
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
    let targets: Vec<Target> = wanted.iter().filter_map(|h| target(catalog, h)).collect();
    let progress = opts.progress.then(|| {
        let p: platformctl_observe::ProgressFn = Arc::new(|e: ProgressEvent| match e {
            ProgressEvent::Started { host } => eprintln!("  observing {host}…"),
            ProgressEvent::Fallback { host, reason } => {
                eprintln!("  {host}: {reason}; asking with docker over ssh instead")
            }
            ProgressEvent::Finished {
                host,
                via,
                elapsed,
                ok,
            } => eprintln!(
                "  {host}: {} via {via} in {} ms",
                if ok { "answered" } else { "no answer" },
                elapsed.as_millis()
            ),
            _ => {}
        });
        p
    });
    let observe_opts = Options {
        concurrency: opts.concurrency,
        host_timeout: opts.host_timeout,
        progress,
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
                    outcome: Err(platformctl_observe::ObserveError {
                        kind: ObserveErrorKind::Protocol,
                        message: format!("cannot start the observation runtime: {e}"),
                    }),
                    elapsed: Duration::ZERO,
                    via: platformctl_observe::Via::Local,
                })
                .collect()
        })
    };
    let by_host: HashMap<&str, &HostReport> =
        reports.iter().map(|r| (r.host.as_str(), r)).collect();
    let indexes: HashMap<&str, ServiceIndex<'_>> = reports
        .iter()
        .filter_map(|r| Some((r.host.as_str(), ServiceIndex::new(r.outcome.as_ref().ok()?))))
        .collect();

    let mut plans = Vec::with_capacity(modules.len());
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
                    plans.push(plan_module_indexed(m, evidence, index, project));
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
    Fleet {
        plans,
        hosts: reports,
        findings,
    }
}

fn target(catalog: &Catalog, name: &str) -> Option<Target> {
    let host = catalog.platform.hosts.get(name)?;
    let kind = match host.transport {
        Transport::Local => TargetKind::Local,
        Transport::Ssh => TargetKind::Ssh {
            destination: host.ssh.clone().unwrap_or_default(),
            config_file: catalog
                .platform
                .ssh_config
                .as_ref()
                .map(|p| catalog.root.join(p)),
        },
    };
    Some(Target {
        host: name.to_string(),
        kind,
        docker_socket: host.docker_socket.clone(),
        connect_timeout: Duration::from_secs(host.connect_timeout_s.unwrap_or(10)),
    })
}

fn plan_json(plan: &ModulePlan, fleet: &Fleet) -> Value {
    let mut v = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Some(f) = fleet.findings.get(&plan.module)
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert("findings".into(), json!(f));
    }
    v
}

fn hosts_json(fleet: &Fleet) -> Value {
    Value::Array(
        fleet
            .hosts
            .iter()
            .map(|r| {
                json!({
                    "name": r.host,
                    "reachable": r.outcome.is_ok(),
                    "error": r.outcome.as_ref().err().map(|e| e.message.clone()),
                    "errorKind": r.outcome.as_ref().err().map(|e| e.kind.as_str()),
                    "elapsed_ms": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
                    "via": r.via.as_str(),
                    "containers": r.outcome.as_ref().ok().map(|e| e.containers.len()),
                })
            })
            .collect(),
    )
}

/// The drift-check exit code for a set of plans and host reports.
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

fn fleet_options(timeout: Option<u64>, concurrency: Option<usize>) -> FleetOptions {
    FleetOptions {
        host_timeout: Duration::from_secs(timeout.unwrap_or(30).max(1)),
        concurrency: concurrency.unwrap_or(8).max(1),
        // Progress on a terminal only (stderr, so it never mixes with --json on stdout).
        progress: std::io::stderr().is_terminal(),
    }
}

/// `drift-check`.
pub fn drift_check(cli: &Cli, args: &DriftCheckArgs) -> u8 {
    let catalog = match output::load(cli, false) {
        Ok(c) => c,
        Err(f) => return output::fatal(DRIFT_SCHEMA, args.json, &f, exit::USAGE),
    };
    // Select modules.
    let mut selected: Vec<&Module> = Vec::new();
    if args.modules.is_empty() {
        selected.extend(catalog.modules());
        // Module folders whose manifest does not even parse are reported as errors too.
    } else {
        for name in &args.modules {
            match catalog.module(name) {
                Some(m) => selected.push(m),
                None => {
                    return usage(
                        DRIFT_SCHEMA,
                        args.json,
                        format!(
                            "no module `{name}` in the catalog{}",
                            did_you_mean(&catalog, name)
                        ),
                    );
                }
            }
        }
    }
    if let Some(h) = &args.host {
        if !catalog.platform.hosts.contains_key(h) {
            let hosts: Vec<&str> = catalog.platform.hosts.keys().map(String::as_str).collect();
            return usage(
                DRIFT_SCHEMA,
                args.json,
                format!(
                    "no host `{h}` in platform.toml (hosts: {})",
                    hosts.join(", ")
                ),
            );
        }
        selected.retain(|m| m.runtime.host.as_ref().is_some_and(|x| x.value == *h));
    }
    let fleet = run_fleet(
        &catalog,
        &selected,
        &fleet_options(args.timeout, args.concurrency),
    );
    let mut plans = fleet.plans.clone();
    // Manifests that did not parse at all (no model) are errors of the fleet too.
    if args.modules.is_empty() && args.host.is_none() {
        for lm in catalog.modules.iter().filter(|m| m.module.is_none()) {
            plans.push(ModulePlan::error(
                &lm.dir,
                None,
                "the manifest does not parse; run `platformctl validate`",
            ));
        }
    }
    let summary = Summary::of(&plans);
    let code = drift_exit_code(&summary, &fleet.hosts);
    if args.json {
        let modules: Vec<Value> = plans.iter().map(|p| plan_json(p, &fleet)).collect();
        output::print_json(&json!({
            "schema": DRIFT_SCHEMA,
            "exitCode": code,
            "summary": summary,
            "hosts": hosts_json(&fleet),
            "modules": modules,
        }));
    } else {
        output::print(&render_fleet(
            &plans,
            &fleet,
            &summary,
            code,
            &Style::new(cli.color),
        ));
    }
    code
}

fn usage(schema: &str, json: bool, message: String) -> u8 {
    output::fatal(
        schema,
        json,
        &Fatal {
            message,
            finding: None,
        },
        if schema == DRIFT_SCHEMA {
            exit::USAGE
        } else {
            2
        },
    )
}

fn did_you_mean(catalog: &Catalog, name: &str) -> String {
    let known: Vec<&str> = catalog.modules.iter().map(|m| m.dir.as_str()).collect();
    platformctl_diagnostics::did_you_mean(name, &known)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// `plan MODULE`.
pub fn plan(cli: &Cli, args: &PlanArgs) -> u8 {
    let catalog = match output::load(cli, false) {
        Ok(c) => c,
        Err(f) => return output::fatal(PLAN_SCHEMA, args.json, &f, 2),
    };
    let Some(m) = catalog.module(&args.module) else {
        let msg = format!(
            "no module `{}` in the catalog{}",
            args.module,
            did_you_mean(&catalog, &args.module)
        );
        return usage(PLAN_SCHEMA, args.json, msg);
    };
    let fleet = run_fleet(&catalog, &[m], &fleet_options(args.timeout, None));
    let Some(plan) = fleet.plans.first() else {
        return 2;
    };
    let code = match plan.status {
        Status::InSync | Status::Skipped => 0,
        Status::Drift => 1,
        Status::Unreachable | Status::Error => 2,
    };
    let mut doc = plan_json(plan, &fleet);
    if let Some(obj) = doc.as_object_mut() {
        let mut head = serde_json::Map::new();
        head.insert("schema".into(), json!(PLAN_SCHEMA));
        head.insert("exitCode".into(), json!(code));
        head.append(obj);
        if let Some(r) = fleet.hosts.first() {
            head.insert(
                "elapsed_ms".into(),
                json!(u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX)),
            );
            head.insert("via".into(), json!(r.via.as_str()));
        }
        *obj = head;
    }
    if let Some(out) = &args.out
        && let Err(e) = write_plan(out, &plan.module, &doc)
    {
        eprintln!("platformctl: {e}");
        return 2;
    }
    if args.json {
        output::print_json(&doc);
    } else {
        let st = Style::new(cli.color);
        let summary = Summary::of(std::slice::from_ref(plan));
        output::print(&render_fleet(
            std::slice::from_ref(plan),
            &fleet,
            &summary,
            code,
            &st,
        ));
    }
    code
}

/// Writes the plan document to FILE, or to DIR/<module>.plan.json, atomically.
fn write_plan(out: &Path, module: &str, doc: &Value) -> Result<PathBuf, String> {
    let path = if out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/') {
        std::fs::create_dir_all(out).map_err(|e| format!("--out {}: {e}", out.display()))?;
        out.join(format!("{module}.plan.json"))
    } else {
        out.to_path_buf()
    };
    let text = serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    platformctl_diagnostics::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("--out {}: {e}", path.display()))?;
    Ok(path)
}

fn status_cell(s: Status, st: &Style) -> String {
    let text = format!("{:<11}", s.as_str());
    match s {
        Status::InSync => st.green(&text),
        Status::Drift => st.red(&text),
        Status::Unreachable | Status::Error => st.yellow(&text),
        Status::Skipped => st.dim(&text),
    }
}

/// The human table: grouped by host, one line per module.
fn render_fleet(
    plans: &[ModulePlan],
    fleet: &Fleet,
    summary: &Summary,
    code: u8,
    st: &Style,
) -> String {
    let mut out = String::new();
    let mut groups: BTreeMap<String, Vec<&ModulePlan>> = BTreeMap::new();
    for p in plans {
        let key = match p.status {
            Status::Skipped => "~external".to_string(),
            _ => p.host.clone().unwrap_or_else(|| "~no host".into()),
        };
        groups.entry(key).or_default().push(p);
    }
    let width = plans
        .iter()
        .map(|p| p.module.len())
        .max()
        .unwrap_or(6)
        .max(6);
    for (host, plans) in &groups {
        let header = match host.as_str() {
            "~external" => st.bold("external modules (nothing to observe)"),
            "~no host" => st.bold("modules without a usable host"),
            h => match fleet.hosts.iter().find(|r| r.host == *h) {
                Some(r) => match &r.outcome {
                    Ok(e) => format!(
                        "{}  {}",
                        st.bold(h),
                        st.dim(&format!(
                            "{} containers via {} in {} ms",
                            e.containers.len(),
                            r.via,
                            r.elapsed.as_millis()
                        ))
                    ),
                    Err(e) => format!(
                        "{}  {}",
                        st.bold(h),
                        st.yellow(&format!(
                            "{} after {} ms: {}",
                            e.kind,
                            r.elapsed.as_millis(),
                            e.message
                        ))
                    ),
                },
                None => st.bold(h),
            },
        };
        let _ = writeln!(out, "{header}");
        // A host that did not answer: one line for all its modules, not one each.
        if plans.len() > 3 && plans.iter().all(|p| p.status == Status::Unreachable) {
            let names: Vec<&str> = plans.iter().map(|p| p.module.as_str()).collect();
            let _ = writeln!(
                out,
                "  {} {} not observed: {}",
                status_cell(Status::Unreachable, st),
                plans.len(),
                names.join(", ")
            );
            out.push('\n');
            continue;
        }
        let rows: Vec<(String, Vec<&str>, String)> = plans
            .iter()
            .map(|p| {
                let what = if !p.changes.is_empty() {
                    p.changes
                        .iter()
                        .map(|c| format!("{}: {} → {}", c.code.as_str(), c.desired, c.observed))
                        .collect::<Vec<_>>()
                        .join("; ")
                } else if let Some(e) = &p.error {
                    if p.status == Status::Unreachable {
                        "not observed".to_string()
                    } else {
                        e.clone()
                    }
                } else {
                    "-".to_string()
                };
                let notes = p.warnings.iter().map(|w| w.code.as_str()).collect();
                let evidence = p.evidence.as_ref().map_or(String::new(), |e| {
                    format!(
                        "{} ({}) {}",
                        e.container,
                        e.state,
                        platformctl_evidence::short(&e.image_id)
                    )
                });
                (what, notes, evidence)
            })
            .collect();
        let what_width = rows
            .iter()
            .map(|(w, _, _)| w.chars().count())
            .max()
            .unwrap_or(1)
            .min(72);
        for (p, (what, notes, evidence)) in plans.iter().zip(rows) {
            let mut line = format!(
                "  {:<width$}  {}  {what:<what_width$}",
                p.module,
                status_cell(p.status, st)
            );
            if !evidence.is_empty() {
                let _ = write!(line, "  {}", st.dim(&evidence));
            }
            if !notes.is_empty() {
                let _ = write!(line, "  {}", st.yellow(&format!("[{}]", notes.join(", "))));
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} in sync, {} drift, {} unreachable, {} skipped, {} error (exit {code})",
        summary.in_sync, summary.drift, summary.unreachable, summary.skipped, summary.error
    );
    out
}
