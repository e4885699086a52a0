//! The audit log: one JSON line per apply attempt in `state/audit.jsonl`, appended and
//! fsynced before apply goes on.
//!
//! An attempt that reaches the host writes a `started` line before the first command and a
//! `finished` line at the end; one refused earlier writes only its `finished` line. An apply
//! killed in between leaves a `started` line alone: the next apply on that host (under the
//! host lock, so the killed one is surely gone) appends an `interrupted` line for it. No line
//! holds an environment value: the facts are IDs, states, references and file digests.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use platformctl_drift::binding::{BoundEvidence, SavedBinding};
use serde::{Deserialize, Serialize};

use crate::CommandRun;

/// The schema name of each line.
pub const AUDIT_SCHEMA: &str = "platformctl/audit/v1";

/// One attempt, as it goes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// `platformctl/audit/v1`.
    pub schema: String,
    /// `started`, `finished` or `interrupted`.
    pub phase: String,
    /// The attempt's ID (a UUID): a `started` and a `finished` line share it.
    pub attempt: String,
    /// Who applied (`user@machine`).
    pub who: String,
    /// When this line was written (RFC 3339, UTC).
    pub at: String,
    /// sha256 of the plan file.
    pub plan_sha256: String,
    /// The module.
    pub module: String,
    /// Its host.
    pub host: String,
    /// The commands the plan names.
    pub planned_commands: Vec<String>,
    /// The commands run, with their exit status.
    pub commands: Vec<CommandRun>,
    /// The evidence the plan was made against.
    pub before: Option<BoundEvidence>,
    /// The evidence after the commands (when observed).
    pub after: Option<BoundEvidence>,
    /// `applied`, `nothing-to-do`, `refused`, `not-verified`, `failed`, `error`,
    /// `interrupted` (empty in a `started` line).
    pub result: String,
    /// The refusal or failure code.
    pub code: Option<String>,
    /// The process's exit code.
    pub exit_code: u8,
}

impl Record {
    /// A new attempt of the plan `b` (sha256 `sha`) by `who`.
    pub fn new(who: &str, sha: &str, b: &SavedBinding) -> Record {
        Record {
            schema: AUDIT_SCHEMA.to_string(),
            phase: String::new(),
            attempt: uuid::Uuid::new_v4().to_string(),
            who: who.to_string(),
            at: String::new(),
            plan_sha256: sha.to_string(),
            module: b.facts.module.clone(),
            host: b.facts.host.clone(),
            planned_commands: b.command_lines.clone(),
            commands: Vec::new(),
            before: b.facts.evidence.clone(),
            after: None,
            result: String::new(),
            code: None,
            exit_code: 0,
        }
    }
}

/// `state/audit.jsonl` of a platform repo, and the State Hub's history when one is configured.
pub struct AuditLog {
    path: PathBuf,
    hub: Option<platformctl_hub::HubUrl>,
}

impl AuditLog {
    /// The log of the platform repo at `root`.
    pub fn new(root: &Path) -> AuditLog {
        AuditLog {
            path: root.join("state").join("audit.jsonl"),
            hub: None,
        }
    }

    /// Also records each finished attempt in the hub at `hub`.
    pub fn with_hub(mut self, hub: Option<platformctl_hub::HubUrl>) -> AuditLog {
        self.hub = hub;
        self
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, r: &Record) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_vec(r).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(&line)?;
        f.sync_all()
    }

    /// The `started` line: the host is about to change.
    pub fn started(&self, r: &Record) -> std::io::Result<()> {
        let mut r = r.clone();
        r.phase = "started".into();
        r.at = jiff::Timestamp::now().to_string();
        self.append(&r)
    }

    /// The attempt's last line; then the hub's history, when a hub is configured (a hub that
    /// cannot be written is an error after the file has the line).
    pub fn finished(&self, r: &Record) -> std::io::Result<()> {
        let mut r = r.clone();
        r.phase = "finished".into();
        r.at = jiff::Timestamp::now().to_string();
        self.append(&r)?;
        if let Some(url) = &self.hub {
            let row = platformctl_hub::ApplyRow {
                seq: 0,
                at: r.at.clone(),
                actor: r.who.clone(),
                module: r.module.clone(),
                host: r.host.clone(),
                result: r.result.clone(),
                record: serde_json::to_string(&r).map_err(std::io::Error::other)?,
            };
            platformctl_hub::open(url)
                .and_then(|mut h| h.append_apply(&row))
                .map_err(|e| {
                    std::io::Error::other(format!("the State Hub ({}): {e}", url.redacted()))
                })?;
        }
        Ok(())
    }

    /// All lines (unreadable lines are skipped).
    pub fn records(&self) -> std::io::Result<Vec<Record>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// Appends an `interrupted` line for every attempt on `host` that started and never
    /// finished. Call it while holding the host's lock.
    pub fn recover_interrupted(&self, host: &str) -> std::io::Result<usize> {
        let records = self.records()?;
        let closed: BTreeSet<&str> = records
            .iter()
            .filter(|r| r.phase != "started")
            .map(|r| r.attempt.as_str())
            .collect();
        let open: Vec<&Record> = records
            .iter()
            .filter(|r| {
                r.host == host && r.phase == "started" && !closed.contains(r.attempt.as_str())
            })
            .collect();
        for r in &open {
            let mut r = (*r).clone();
            r.phase = "interrupted".into();
            r.result = "interrupted".into();
            r.code = Some("APPLY_INTERRUPTED".into());
            r.at = jiff::Timestamp::now().to_string();
            self.append(&r)?;
        }
        Ok(open.len())
    }
}
