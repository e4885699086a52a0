//! Gated apply (SPEC §10): the one crate of platformctl that changes a host.
//!
//! [`apply`] takes a saved plan (`plan MODULE --out FILE`, whose `binding` records what the
//! plan was made against), and changes the module's host only when all of this holds, in
//! this order:
//!
//! 1. the plan file parses and carries a binding made by this very version, not expired;
//! 2. the per-host lock is taken ([`lock`]; `--wait` waits for another apply, else it fails
//!    fast);
//! 3. a fresh observation gives the same bound facts ([`platformctl_drift::binding::facts`],
//!    the function `plan --out` used): evidence, manifest, compose file and `.env` bytes, the
//!    module's host — else `STALE_PLAN`, naming each fact with both values;
//! 4. every change is one compose can fix, and the host declares `[hosts.NAME.apply]`;
//! 5. the operator approved (`--approve`, or a typed yes that the caller asked for);
//! 6. the host's checkout holds the plan's compose file bytes (`REMOTE_CHECKOUT_DIFFERS`).
//!
//! Then it runs exactly the plan's commands (`pull` then `up -d --no-deps`, or `stop`),
//! as argument vectors quoted word by word, through one ssh master ([`remote`]), stops at the
//! first failure (never a retry), observes again to verify, and appends the attempt to the
//! audit log ([`audit`]). `plan`, `drift-check`, `updates`, `serve` and `mcp` never depend on
//! this crate (a test in `tests/` checks the workspace's dependency graph).

use std::path::Path;

use platformctl_catalog::Catalog;
use platformctl_drift::binding::{self, Facts, SavedBinding};
use platformctl_drift::{FleetOptions, PlanDoc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod audit;
pub mod lock;
pub mod remote;

/// The schema name of the `apply --json` document.
pub const APPLY_SCHEMA: &str = "platformctl/apply/v1";

/// Exit codes of `apply` (docs/exit-codes.md).
pub mod exit {
    /// Applied and verified in sync (or nothing to change).
    pub const APPLIED: u8 = 0;
    /// An error: unreadable plan file, a failed observation, an I/O error.
    pub const ERROR: u8 = 2;
    /// Refused, nothing run: stale plan, not applicable, not approved, checkout differs,
    /// host locked.
    pub const REFUSED: u8 = 3;
    /// Commands ran but the module is not verified in sync (or a command failed).
    pub const NOT_VERIFIED: u8 = 4;
}

/// How apply runs.
pub struct Options {
    /// `--approve`: no question asked.
    pub approved: bool,
    /// `--wait`: wait for another apply's lock instead of failing.
    pub wait: bool,
    /// Observation timeouts and concurrency.
    pub fleet: FleetOptions,
    /// Who applies (for the audit log).
    pub who: String,
    /// The State Hub whose history also records each attempt, when one is configured.
    pub hub: Option<platformctl_hub::HubUrl>,
}

/// The `apply --json` document.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyDoc {
    /// `platformctl/apply/v1`.
    pub schema: String,
    /// The process's exit code.
    pub exit_code: u8,
    /// `applied`, `nothing-to-do`, `refused`, `not-verified`, `failed` or `error`.
    pub result: String,
    /// Why it was refused or failed: `STALE_PLAN`, `NOT_APPLICABLE`, `NOT_APPROVED`,
    /// `REMOTE_CHECKOUT_DIFFERS`, `HOST_LOCKED`, `PLAN_INVALID`, `COMMAND_FAILED`, …
    pub code: Option<String>,
    /// For a person.
    pub message: String,
    /// The module (when the plan could be read).
    pub module: Option<String>,
    /// Its host.
    pub host: Option<String>,
    /// sha256 of the plan file.
    pub plan_sha256: Option<String>,
    /// For `STALE_PLAN`: each bound fact that changed.
    pub stale: Vec<StaleFact>,
    /// The commands run, in order, with their exit status.
    pub commands: Vec<CommandRun>,
    /// What the module looked like after the commands (`changes` still differing).
    pub remaining: Vec<String>,
}

/// A bound fact that no longer holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaleFact {
    /// Which fact (`evidence.containerId`, `files.compose/core.yaml`, `expiresAt`, …).
    pub fact: String,
    /// Its value in the plan.
    pub planned: String,
    /// Its value now.
    pub now: String,
}

/// One host command and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandRun {
    /// The command line (quoted as it reached the host).
    pub line: String,
    /// Its exit status (`null` when it was killed by a signal).
    pub exit_status: Option<i32>,
    /// The end of its stderr when it failed.
    pub stderr: Option<String>,
}

impl ApplyDoc {
    fn new(result: &str, exit_code: u8, code: Option<&str>, message: String) -> ApplyDoc {
        ApplyDoc {
            schema: APPLY_SCHEMA.to_string(),
            exit_code,
            result: result.to_string(),
            code: code.map(str::to_string),
            message,
            module: None,
            host: None,
            plan_sha256: None,
            stale: Vec::new(),
            commands: Vec::new(),
            remaining: Vec::new(),
        }
    }

    fn refused(code: &str, message: String) -> ApplyDoc {
        ApplyDoc::new("refused", exit::REFUSED, Some(code), message)
    }

    fn error(code: &str, message: String) -> ApplyDoc {
        ApplyDoc::new("error", exit::ERROR, Some(code), message)
    }
}

/// The JSON Schema of `apply --json` (draft 2020-12).
pub fn apply_schema() -> serde_json::Value {
    let mut v = serde_json::to_value(schemars::schema_for!(ApplyDoc)).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "$id".into(),
            "https://platformctl.invalid/schema/apply.v1.json".into(),
        );
    }
    v
}

/// Reads a saved plan: its sha256 and its document, which must carry a binding.
pub fn read_plan(path: &Path) -> Result<(String, PlanDoc, SavedBinding), Box<ApplyDoc>> {
    let bytes = std::fs::read(path).map_err(|e| {
        Box::new(ApplyDoc::error(
            "PLAN_UNREADABLE",
            format!("cannot read the plan {}: {e}", path.display()),
        ))
    })?;
    let sha = format!("sha256:{}", binding::hex(&Sha256::digest(&bytes)));
    let doc: PlanDoc = serde_json::from_slice(&bytes).map_err(|e| {
        Box::new(ApplyDoc::error(
            "PLAN_INVALID",
            format!(
                "{}: not a platformctl plan document ({e}); make one with `platformctl plan MODULE --out FILE`",
                path.display()
            ),
        ))
    })?;
    let Some(b) = doc.binding.clone() else {
        return Err(Box::new(ApplyDoc::error(
            "PLAN_INVALID",
            format!(
                "{}: the plan has no binding; only `platformctl plan MODULE --out FILE` saves one",
                path.display()
            ),
        )));
    };
    Ok((sha, doc, b))
}

/// What the caller shows a person before asking for approval.
pub fn preview(b: &SavedBinding) -> String {
    let mut s = format!(
        "apply {} on host {} (plan made {}, expires {}):\n",
        b.facts.module, b.facts.host, b.created_at, b.expires_at
    );
    for c in &b.facts.changes {
        s.push_str(&format!("  change  {c}\n"));
    }
    for l in &b.command_lines {
        s.push_str(&format!("  run     {l}\n"));
    }
    s
}

/// The facts of the plan that are not bound through observation: version and expiry.
fn static_staleness(b: &SavedBinding, now: jiff::Timestamp) -> Vec<StaleFact> {
    let mut out = Vec::new();
    if b.tool_version != binding::TOOL_VERSION {
        out.push(StaleFact {
            fact: "toolVersion".into(),
            planned: b.tool_version.clone(),
            now: binding::TOOL_VERSION.into(),
        });
    }
    match b.expires_at.parse::<jiff::Timestamp>() {
        Ok(t) if t > now => {}
        _ => out.push(StaleFact {
            fact: "expiresAt".into(),
            planned: b.expires_at.clone(),
            now: now.to_string(),
        }),
    }
    if b.fingerprint != b.facts.fingerprint() {
        out.push(StaleFact {
            fact: "fingerprint".into(),
            planned: b.fingerprint.clone(),
            now: b.facts.fingerprint(),
        });
    }
    out
}

fn stale_doc(stale: Vec<StaleFact>) -> ApplyDoc {
    let list: Vec<String> = stale
        .iter()
        .map(|s| format!("{}: planned {} but now {}", s.fact, s.planned, s.now))
        .collect();
    let mut d = ApplyDoc::refused(
        "STALE_PLAN",
        format!(
            "the plan no longer holds ({}); nothing was run — make a new plan",
            list.join("; ")
        ),
    );
    d.stale = stale;
    d
}

fn facts_stale(planned: &Facts, now: &Facts) -> Vec<StaleFact> {
    planned
        .differences(now)
        .into_iter()
        .map(|(fact, planned, now)| StaleFact { fact, planned, now })
        .collect()
}

/// Applies the saved plan at `plan_path`. `confirm` is asked (with [`preview`]'s text) when
/// `--approve` was not given; it returns false when no person can answer.
pub fn apply(
    catalog: &Catalog,
    plan_path: &Path,
    opts: &Options,
    confirm: &mut dyn FnMut(&SavedBinding) -> bool,
    progress: &mut dyn FnMut(&str),
) -> ApplyDoc {
    let (sha, _doc, b) = match read_plan(plan_path) {
        Ok(x) => x,
        Err(d) => return *d,
    };
    let mut doc = run(catalog, &sha, &b, opts, confirm, progress);
    doc.module = Some(b.facts.module.clone());
    doc.host = Some(b.facts.host.clone());
    doc.plan_sha256 = Some(sha);
    doc
}

fn run(
    catalog: &Catalog,
    sha: &str,
    b: &SavedBinding,
    opts: &Options,
    confirm: &mut dyn FnMut(&SavedBinding) -> bool,
    progress: &mut dyn FnMut(&str),
) -> ApplyDoc {
    let host = b.facts.host.clone();
    let log = audit::AuditLog::new(&catalog.root).with_hub(opts.hub.clone());
    let mut record = audit::Record::new(&opts.who, sha, b);
    // The lock first: nothing below may interleave with another apply on this host.
    let _lock = match lock::HostLock::take(&catalog.root, &host, opts.wait, progress) {
        Ok(l) => l,
        Err(e) => {
            let d = ApplyDoc::refused("HOST_LOCKED", e);
            return finish(&log, &mut record, d);
        }
    };
    if let Err(e) = log.recover_interrupted(&host) {
        progress(&format!("audit log: {e}"));
    }
    let now = jiff::Timestamp::now();
    let stale = static_staleness(b, now);
    if !stale.is_empty() {
        return finish(&log, &mut record, stale_doc(stale));
    }
    if let Some(why) = &b.not_applicable {
        return finish(
            &log,
            &mut record,
            ApplyDoc::refused("NOT_APPLICABLE", why.clone()),
        );
    }
    // Observe again, with the same function that bound the plan.
    let Ok(m) = platformctl_drift::module(catalog, &b.facts.module) else {
        return finish(
            &log,
            &mut record,
            stale_doc(vec![StaleFact {
                fact: "module".into(),
                planned: b.facts.module.clone(),
                now: "not in the catalog".into(),
            }]),
        );
    };
    progress(&format!("observing {} on {host} again", m.name));
    let fresh = match platformctl_drift::plan(catalog, &m.name, &opts.fleet) {
        Ok(r) => r,
        Err(e) => {
            return finish(
                &log,
                &mut record,
                ApplyDoc::error("OBSERVE_FAILED", e.to_string()),
            );
        }
    };
    let now_facts = match binding::facts(catalog, m, &fresh) {
        Ok(f) => f,
        Err(e) => {
            return finish(
                &log,
                &mut record,
                ApplyDoc::refused("NOT_APPLICABLE", e.to_string()),
            );
        }
    };
    let stale = facts_stale(&b.facts, &now_facts);
    if !stale.is_empty() {
        return finish(&log, &mut record, stale_doc(stale));
    }
    // The host's apply settings must still be those the commands were made from.
    let now_binding = match binding::bind(catalog, m, &fresh, now, binding::PLAN_TTL) {
        Ok(nb) => nb,
        Err(e) => {
            return finish(
                &log,
                &mut record,
                ApplyDoc::refused("NOT_APPLICABLE", e.to_string()),
            );
        }
    };
    if now_binding.commands != b.commands {
        return finish(
            &log,
            &mut record,
            stale_doc(vec![StaleFact {
                fact: "commands".into(),
                planned: b.command_lines.join(" && "),
                now: now_binding.command_lines.join(" && "),
            }]),
        );
    }
    if let Some(why) = &now_binding.not_applicable {
        return finish(
            &log,
            &mut record,
            ApplyDoc::refused("NOT_APPLICABLE", why.clone()),
        );
    }
    if b.facts.status == "in-sync" {
        let d = ApplyDoc::new(
            "nothing-to-do",
            exit::APPLIED,
            None,
            format!("{} is in sync on {host}: nothing to run", b.facts.module),
        );
        return finish(&log, &mut record, d);
    }
    if !opts.approved && !confirm(b) {
        return finish(
            &log,
            &mut record,
            ApplyDoc::refused(
                "NOT_APPROVED",
                "not approved: pass --approve, or answer yes on a terminal; nothing was run".into(),
            ),
        );
    }
    let (Some(settings), Some(h)) = (&b.apply, catalog.platform.hosts.get(&host)) else {
        return finish(
            &log,
            &mut record,
            ApplyDoc::refused(
                "NOT_APPLICABLE",
                format!("host {host} has no apply settings"),
            ),
        );
    };
    progress(&format!("connecting to {host}"));
    let runner = match remote::Runner::open(catalog, h) {
        Ok(r) => r,
        Err(e) => return finish(&log, &mut record, ApplyDoc::error("HOST_UNREACHABLE", e)),
    };
    // The host's checkout must hold the compose file the plan was made from.
    let remote_file = format!(
        "{}/{}",
        settings.platform_dir.trim_end_matches('/'),
        b.facts.compose_file.trim_start_matches("./")
    );
    let planned = b
        .facts
        .files
        .get(&b.facts.compose_file)
        .cloned()
        .unwrap_or_default();
    match runner.read_file(&remote_file) {
        Ok(bytes) => {
            let got = format!("sha256:{}", binding::hex(&Sha256::digest(&bytes)));
            if got != planned {
                let mut d = ApplyDoc::refused(
                    "REMOTE_CHECKOUT_DIFFERS",
                    format!(
                        "{host}:{remote_file} is not the compose file the plan was made from (planned {planned}, host has {got}); update the host's checkout, nothing was run"
                    ),
                );
                d.stale.push(StaleFact {
                    fact: format!("remote:{remote_file}"),
                    planned,
                    now: got,
                });
                return finish(&log, &mut record, d);
            }
        }
        Err(e) => {
            return finish(
                &log,
                &mut record,
                ApplyDoc::refused(
                    "REMOTE_CHECKOUT_DIFFERS",
                    format!("cannot read {host}:{remote_file}: {e}; nothing was run"),
                ),
            );
        }
    }
    // From here on the host changes: say so in the audit log first.
    if let Err(e) = log.started(&record) {
        return finish(
            &log,
            &mut record,
            ApplyDoc::error(
                "AUDIT_FAILED",
                format!("cannot write the audit log: {e}; nothing was run"),
            ),
        );
    }
    let mut runs = Vec::new();
    let mut failed = false;
    for argv in &b.commands {
        let line = binding::shell_line(argv);
        progress(&format!("{host}$ {line}"));
        let out = runner.run(argv);
        let ok = out.as_ref().is_ok_and(|o| o.status == Some(0));
        runs.push(CommandRun {
            line,
            exit_status: out.as_ref().ok().and_then(|o| o.status),
            stderr: match &out {
                Ok(o) if !ok => Some(tail(&o.stderr)),
                Err(e) => Some(e.clone()),
                _ => None,
            },
        });
        if !ok {
            failed = true;
            break;
        }
    }
    drop(runner);
    record.commands = runs.clone();
    // Verify.
    progress(&format!("verifying {} on {host}", b.facts.module));
    let after = platformctl_drift::plan(catalog, &b.facts.module, &opts.fleet);
    let (verified, remaining, after_evidence) = match &after {
        Ok(r) => (
            r.plan.status == platformctl_compare::Status::InSync,
            r.plan
                .changes
                .iter()
                .map(|c| format!("{} {}: {} → {}", c.code, c.field, c.desired, c.observed))
                .collect(),
            binding::facts(catalog, m, r).ok().and_then(|f| f.evidence),
        ),
        Err(e) => (false, vec![format!("not observed: {e}")], None),
    };
    record.after = after_evidence;
    let mut d = if failed {
        ApplyDoc::new(
            "failed",
            exit::NOT_VERIFIED,
            Some("COMMAND_FAILED"),
            format!("a command failed on {host}; nothing was retried"),
        )
    } else if verified {
        ApplyDoc::new(
            "applied",
            exit::APPLIED,
            None,
            format!("{} applied on {host} and verified in sync", b.facts.module),
        )
    } else {
        ApplyDoc::new(
            "not-verified",
            exit::NOT_VERIFIED,
            Some("NOT_VERIFIED"),
            format!("{} was applied on {host} but still differs", b.facts.module),
        )
    };
    d.commands = runs;
    d.remaining = remaining;
    finish(&log, &mut record, d)
}

/// The last 2 KiB of a command's stderr, as text.
fn tail(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let n = s.len();
    let mut start = n.saturating_sub(2048);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].trim().to_string()
}

/// Writes the attempt's last audit line; a failure to write it is said in the document.
fn finish(log: &audit::AuditLog, record: &mut audit::Record, mut d: ApplyDoc) -> ApplyDoc {
    record.result = d.result.clone();
    record.code = d.code.clone();
    record.exit_code = d.exit_code;
    if let Err(e) = log.finished(record) {
        d.message
            .push_str(&format!(" (the audit log could not be written: {e})"));
        if d.exit_code == exit::APPLIED {
            d.exit_code = exit::ERROR;
        }
    }
    d
}
