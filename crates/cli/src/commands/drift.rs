//! `platformctl plan MODULE` and `platformctl drift-check [MODULE…]`: read-only drift.
//!
//! The orchestration (which hosts, observing them, joining evidence to modules, exit codes, the
//! JSON documents) is `platformctl-drift`'s; this module parses nothing more than clap did,
//! shows progress on a terminal, and renders. Neither command can change anything: the observe
//! crate only offers reads (see its crate doc), and the only file written is the one
//! `plan --out` names.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use platformctl_compare::{ModulePlan, Status, Summary};
use platformctl_drift::binding;
use platformctl_drift::doc::{DRIFT_CHECK_SCHEMA, PLAN_SCHEMA};
use platformctl_drift::{Fleet, FleetOptions, PlanDoc};
use platformctl_observe::ProgressEvent;

use crate::cli::{Cli, DriftCheckArgs, PlanArgs, UpdatesArgs};
use crate::output::{self, Fatal};
use crate::style::Style;

pub use platformctl_drift::exit;

/// Options from the flags, with progress on stderr when it is a terminal (so it never mixes
/// with --json on stdout).
pub(crate) fn fleet_options(timeout: Option<u64>, concurrency: Option<usize>) -> FleetOptions {
    let mut opts = FleetOptions::from_flags(timeout, concurrency);
    if std::io::stderr().is_terminal() {
        opts.progress = Some(Arc::new(|e: ProgressEvent| match e {
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
        }));
    }
    opts
}

fn usage(schema: &str, json: bool, message: String, code: u8) -> u8 {
    output::fatal(
        schema,
        json,
        &Fatal {
            message,
            finding: None,
        },
        code,
    )
}

/// `drift-check`.
pub fn drift_check(cli: &Cli, args: &DriftCheckArgs) -> u8 {
    let catalog = match output::load_for_hosts(cli) {
        Ok(c) => c,
        Err(f) => return output::fatal(DRIFT_CHECK_SCHEMA, args.json, &f, exit::USAGE),
    };
    let mut opts = fleet_options(args.timeout, args.concurrency);
    // `--registry`, or `[registry] check = true` in platform.toml unless `--no-registry`.
    let registry = args.registry || (catalog.platform.registry.check && !args.no_registry);
    if args.refresh && !registry {
        return usage(
            DRIFT_CHECK_SCHEMA,
            args.json,
            "--refresh asks the registries again: it needs --registry (or `[registry] check = true` in platform.toml)".to_owned(),
            exit::USAGE,
        );
    }
    if registry {
        opts.registry = Some(platformctl_drift::registry::RegistryOptions {
            refresh: args.refresh,
            ..Default::default()
        });
    }
    let started = std::time::Instant::now();
    let run = match platformctl_drift::drift_check(
        &catalog,
        &args.modules,
        args.host.as_deref(),
        &opts,
    ) {
        Ok(r) => r,
        Err(e) => return usage(DRIFT_CHECK_SCHEMA, args.json, e.to_string(), exit::USAGE),
    };
    if let Some(path) = &args.metrics_file {
        let doc = run.document();
        let text = platformctl_report::metrics::render(&platformctl_report::metrics::Input {
            drift: Some(&doc),
            run_seconds: Some(started.elapsed().as_secs_f64()),
            finished_at: Some(platformctl_report::metrics::now_seconds()),
            ..Default::default()
        });
        if let Err(e) = platformctl_report::metrics::write_file(path, &text) {
            // The verdict stands; the metrics file is an extra the run could not leave.
            eprintln!("platformctl: --metrics-file {}: {e}", path.display());
        }
    }
    if args.json {
        output::print_json(&run.document());
    } else {
        output::print(&render_fleet(
            &run.plans,
            &run.fleet,
            &run.summary,
            run.exit_code,
            &Style::new(cli.color),
        ));
    }
    run.exit_code
}

/// `updates [MODULE…]`.
pub fn updates(cli: &Cli, args: &UpdatesArgs) -> u8 {
    use platformctl_drift::registry::{UPDATES_SCHEMA, exit as uexit};
    let catalog = match output::load_for_hosts(cli) {
        Ok(c) => c,
        Err(f) => return output::fatal(UPDATES_SCHEMA, args.json, &f, uexit::USAGE),
    };
    let reg = platformctl_drift::registry::RegistryOptions {
        refresh: args.refresh,
        ..Default::default()
    };
    let run = match platformctl_drift::registry::updates(
        &catalog,
        &args.modules,
        args.host.as_deref(),
        &fleet_options(args.timeout, None),
        &reg,
    ) {
        Ok(r) => r,
        Err(e) => return usage(UPDATES_SCHEMA, args.json, e.to_string(), uexit::USAGE),
    };
    if args.json {
        output::print_json(&run.doc);
    } else {
        output::print(&render_updates(&run.doc));
    }
    run.doc.exit_code
}

fn render_updates(doc: &platformctl_drift::registry::UpdatesDoc) -> String {
    let mut out = String::new();
    for m in &doc.modules {
        let _ = write!(
            out,
            "{:<24} {:<10}",
            m.module,
            m.host.as_deref().unwrap_or("-")
        );
        match &m.registry {
            None => {
                let _ = write!(out, " (nothing to ask: drift {})", m.drift);
            }
            Some(r) => {
                let _ = write!(out, " {:<12} {}", r.status, r.reference);
                if !r.newer.is_empty() {
                    let list: Vec<String> = r
                        .newer
                        .iter()
                        .map(|n| format!("{} ({})", n.tag, n.kind))
                        .collect();
                    let _ = write!(out, "\n    newer: {}", list.join(", "));
                }
                if let Some(msg) = &r.message {
                    let _ = write!(out, "\n    {msg}");
                }
                if let Some(e) = &r.newer_error {
                    let _ = write!(out, "\n    newer releases unknown: {e}");
                }
            }
        }
        if let Some(p) = &m.policy {
            let _ = write!(out, "\n    update.policy: {p}");
        }
        out.push('\n');
    }
    for r in &doc.registries {
        let _ = writeln!(
            out,
            "registry {}: {} ({} HEAD, {} GET, {} cached{})",
            r.registry,
            if r.answered {
                "answered"
            } else {
                "did not answer"
            },
            r.heads,
            r.gets,
            r.cached,
            r.rate_limit_remaining
                .as_ref()
                .map(|x| format!(", rate limit remaining {x}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "exit {}", doc.exit_code);
    out
}

/// `plan MODULE`.
pub fn plan(cli: &Cli, args: &PlanArgs) -> u8 {
    let catalog = match output::load_for_hosts(cli) {
        Ok(c) => c,
        Err(f) => return output::fatal(PLAN_SCHEMA, args.json, &f, exit::plan::ERROR),
    };
    let run =
        match platformctl_drift::plan(&catalog, &args.module, &fleet_options(args.timeout, None)) {
            Ok(r) => r,
            Err(e) => return usage(PLAN_SCHEMA, args.json, e.to_string(), exit::plan::ERROR),
        };
    let doc = run.document();
    if let Some(out) = &args.out {
        let mut saved = doc.clone();
        if let Ok(m) = platformctl_drift::module(&catalog, &args.module) {
            match binding::bind(&catalog, m, &run, jiff::Timestamp::now(), binding::PLAN_TTL) {
                Ok(b) => saved.binding = Some(b),
                Err(e) => eprintln!("platformctl: the saved plan cannot be applied: {e}"),
            }
        }
        if let Err(e) = write_plan(out, &run.plan.module, &saved) {
            eprintln!("platformctl: {e}");
            return exit::plan::ERROR;
        }
    }
    if args.json {
        output::print_json(&doc);
    } else {
        let summary = Summary::of(std::slice::from_ref(&run.plan));
        output::print(&render_fleet(
            std::slice::from_ref(&run.plan),
            &run.fleet,
            &summary,
            run.exit_code,
            &Style::new(cli.color),
        ));
    }
    run.exit_code
}

/// Writes the plan document to FILE, or to DIR/<module>.plan.json, atomically.
fn write_plan(out: &Path, module: &str, doc: &PlanDoc) -> Result<PathBuf, String> {
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

/// A module's config changes for the table: each with its values when `detail` (one module,
/// as `plan` shows it), else their fields by code (`CONFIG_ENV env.A, env.B`).
fn config_summary(p: &ModulePlan, detail: bool) -> Vec<String> {
    if detail {
        return p
            .config
            .iter()
            .map(|c| {
                format!(
                    "{} {}: {} → {}",
                    c.code.as_str(),
                    c.field,
                    c.desired,
                    c.observed
                )
            })
            .collect();
    }
    let mut by_code: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &p.config {
        by_code.entry(c.code.as_str()).or_default().push(&c.field);
    }
    by_code
        .into_iter()
        .map(|(code, fields)| format!("{code} {}", fields.join(", ")))
        .collect()
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
    // One module (a plan): every config change with its values.
    let detail = plans.len() == 1;
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
                let what = if p.has_drift() {
                    p.changes
                        .iter()
                        .map(|c| format!("{}: {} → {}", c.code.as_str(), c.desired, c.observed))
                        .chain(config_summary(p, detail))
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
                let mut what = what;
                for a in &p.accepted {
                    let item = format!(
                        "accepted {} {} ({}, {} days left)",
                        a.code, a.field, a.reason, a.days_left
                    );
                    what = if what == "-" {
                        item
                    } else {
                        format!("{what}; {item}")
                    };
                }
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
