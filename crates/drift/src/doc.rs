//! The `plan` and `drift-check` JSON documents, as types: what `--json` prints and `plan --out`
//! writes, and (through schemars) their published JSON Schemas.
//!
//! Keys are camelCase throughout. These types are the wire contract: they are built from the
//! compare crate's plans, not serialized from them, so an internal change of a plan cannot
//! change a document by accident. A change of a key is a new schema version (CHANGELOG.md).

use schemars::{JsonSchema, Schema, schema_for};
use serde::{Deserialize, Serialize};

use platformctl_catalog::Finding;
use platformctl_compare::{ModulePlan, Summary};
use platformctl_observe::HostReport;

use crate::{DriftCheck, Fleet, PlanRun};

/// The schema name and version of `drift-check --json`.
pub const DRIFT_CHECK_SCHEMA: &str = "platformctl/drift-check/v2";
/// The schema name and version of `plan --json` and `plan --out`.
pub const PLAN_SCHEMA: &str = "platformctl/plan/v2";

/// `drift-check --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "platformctl drift-check --json (platformctl/drift-check/v2)")]
pub struct DriftCheckDoc {
    /// `platformctl/drift-check/v2`.
    #[schemars(extend("const" = "platformctl/drift-check/v2"))]
    pub schema: String,
    /// The process's exit code: 0 in sync, 2 drift, 5 no host answered, 8 partial.
    #[schemars(extend("enum" = [0, 2, 5, 8]))]
    pub exit_code: u8,
    /// Modules per status.
    pub summary: SummaryDoc,
    /// One entry per host observed.
    pub hosts: Vec<HostDoc>,
    /// One entry per module checked.
    pub modules: Vec<ModuleDoc>,
    /// With `--registry`: one entry per registry asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registries: Option<Vec<crate::registry::RegistryReportDoc>>,
}

/// `plan MODULE --json`: the module's entry of a drift-check document, at the top level, with
/// the time its host took and the path that answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "platformctl plan --json (platformctl/plan/v2)")]
pub struct PlanDoc {
    /// `platformctl/plan/v2`.
    #[schemars(extend("const" = "platformctl/plan/v2"))]
    pub schema: String,
    /// The process's exit code: 0 in sync or skipped, 1 drift, 2 error or unreachable.
    #[schemars(extend("enum" = [0, 1, 2]))]
    pub exit_code: u8,
    /// The module's plan.
    #[serde(flatten)]
    pub plan: ModuleDoc,
    /// Milliseconds its host took (absent when no host was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    /// The path that answered or was being tried (absent when no host was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["local", "ssh-forward", "ssh-command"]))]
    pub via: Option<String>,
    /// In a saved plan (`plan --out`) only: what the plan is bound to, for `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<crate::binding::SavedBinding>,
}

/// The document of a command that could not even start (usage or configuration error).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorDoc {
    /// The command's schema name and version.
    pub schema: String,
    /// The process's exit code.
    pub exit_code: u8,
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for [`ErrorDoc`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorDetail {
    /// For a person (no colour).
    pub message: String,
    /// The finding behind it, when loading the catalog failed on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<FindingDoc>,
}

/// Modules per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummaryDoc {
    /// Modules checked.
    pub total: usize,
    /// Status `in-sync`.
    pub in_sync: usize,
    /// Status `drift`.
    pub drift: usize,
    /// Status `unreachable`.
    pub unreachable: usize,
    /// Status `skipped`.
    pub skipped: usize,
    /// Status `error`.
    pub error: usize,
}

impl From<&Summary> for SummaryDoc {
    fn from(s: &Summary) -> Self {
        SummaryDoc {
            total: s.total,
            in_sync: s.in_sync,
            drift: s.drift,
            unreachable: s.unreachable,
            skipped: s.skipped,
            error: s.error,
        }
    }
}

/// One observed host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostDoc {
    /// The host's name in platform.toml.
    pub name: String,
    /// Whether it answered.
    pub reachable: bool,
    /// Why it did not answer.
    pub error: Option<String>,
    /// The kind of failure (`unreachable`, `timeout`, `auth`, `permission`, `protocol`,
    /// `decode`, `invalid`, …).
    pub error_kind: Option<String>,
    /// Milliseconds it took.
    pub elapsed_ms: u64,
    /// The path that answered, or was being tried when it failed.
    #[schemars(extend("enum" = ["local", "ssh-forward", "ssh-command"]))]
    pub via: String,
    /// Containers of the compose project it runs (when it answered).
    pub containers: Option<usize>,
}

impl From<&HostReport> for HostDoc {
    fn from(r: &HostReport) -> Self {
        HostDoc {
            name: r.host.clone(),
            reachable: r.outcome.is_ok(),
            error: r.outcome.as_ref().err().map(|e| e.message.clone()),
            error_kind: r
                .outcome
                .as_ref()
                .err()
                .map(|e| e.kind.as_str().to_string()),
            elapsed_ms: millis(r.elapsed),
            via: r.via.as_str().to_string(),
            containers: r.outcome.as_ref().ok().map(|e| e.containers.len()),
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One module's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleDoc {
    /// The module's name.
    pub module: String,
    /// Its host (`null` for external modules and unparsable manifests).
    pub host: Option<String>,
    /// The verdict.
    #[schemars(extend("enum" = ["in-sync", "drift", "unreachable", "skipped", "error"]))]
    pub status: String,
    /// What drifts, in a stable order (exists, service label, running, name, image).
    pub changes: Vec<ChangeDoc>,
    /// What is not drift but should be known.
    pub warnings: Vec<WarningDoc>,
    /// Changes acknowledged by `spec.drift.accept` (SPEC §9); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<AcceptedDoc>,
    /// The container and image the verdict rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceDoc>,
    /// Why the module could not be judged (status `unreachable` or `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error findings of a manifest that does not validate, as `validate --json` prints
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingDoc>>,
    /// With `--registry`: what the registry said about the desired tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<crate::registry::RegistryDoc>,
}

/// One field that drifts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeDoc {
    /// `container.exists`, `container.running`, `container.name`, `container.service_label`,
    /// `container.image`, or a configuration field (SPEC §9): `ports`, `env.NAME`,
    /// `mounts.TARGET`, `command`, `entrypoint`, `restart`, `labels.KEY`, `networks`.
    pub field: String,
    /// Why (`IMAGE_TAG_MISMATCH`, …; docs/drift.md).
    pub code: String,
    /// What the repo declares.
    pub desired: String,
    /// What the host shows.
    pub observed: String,
}

/// A change acknowledged by `spec.drift.accept` (SPEC §9): not drift while accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptedDoc {
    /// The change's field.
    pub field: String,
    /// Its code.
    pub code: String,
    /// What the repo declares.
    pub desired: String,
    /// What the host shows.
    pub observed: String,
    /// Why it is accepted.
    pub reason: String,
    /// The last day it is accepted (YYYY-MM-DD).
    pub until: String,
    /// Days left (0 on the last day).
    pub days_left: i64,
}

/// Something the operator should know that is not drift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WarningDoc {
    /// What kind (`IMAGE_DIGEST_NOT_VERIFIED`, …; docs/drift.md).
    pub code: String,
    /// A sentence for the operator.
    pub message: String,
}

/// The container and image a verdict rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvidenceDoc {
    /// The container's name.
    pub container: String,
    /// Its ID, 12 characters as `docker ps` prints it.
    pub container_id: String,
    /// Its state (`running`, `exited`, …).
    pub state: String,
    /// Its health, when it has a health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["starting", "healthy", "unhealthy"]))]
    pub health: Option<String>,
    /// The reference it was created from (may be an image ID when the tag has moved).
    pub image_ref: String,
    /// The ID of the image it runs.
    pub image_id: String,
    /// The repo digest that matched the desired digest, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_digest: Option<String>,
    /// Containers with the module's project and service labels (0: found by name only).
    pub replicas: usize,
    /// `registry` when a registry answer proved the exact image of a tag-only desired state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["registry"]))]
    pub digest_verified_by: Option<String>,
}

/// A finding of `validate`, as every `--json` document prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FindingDoc {
    /// The stable code (`E-…`/`W-…`; docs/findings.md).
    pub code: String,
    /// `error` or `warning`.
    #[schemars(extend("enum" = ["error", "warning"]))]
    pub severity: String,
    /// The file, relative to the platform root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The module it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

impl From<&Finding> for FindingDoc {
    fn from(f: &Finding) -> Self {
        FindingDoc {
            code: f.code.to_string(),
            severity: word(&f.severity),
            file: f.file.to_string_lossy().into_owned(),
            line: f.line,
            column: f.column,
            message: f.message.clone(),
            hint: f.hint.clone(),
            module: f.module.clone(),
        }
    }
}

/// The word a value serializes to (its serde name), for enums whose JSON is one string.
fn word<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl ModuleDoc {
    /// The entry of `plan`, with the findings `fleet` holds for it.
    pub fn new(plan: &ModulePlan, fleet: &Fleet) -> Self {
        ModuleDoc {
            module: plan.module.clone(),
            host: plan.host.clone(),
            status: plan.status.as_str().to_string(),
            changes: plan
                .changes
                .iter()
                .map(|c| ChangeDoc {
                    field: word(&c.field),
                    code: c.code.as_str().to_string(),
                    desired: c.desired.clone(),
                    observed: c.observed.clone(),
                })
                .chain(plan.config.iter().map(|c| ChangeDoc {
                    field: c.field.clone(),
                    code: c.code.as_str().to_string(),
                    desired: c.desired.clone(),
                    observed: c.observed.clone(),
                }))
                .collect(),
            warnings: plan
                .warnings
                .iter()
                .map(|w| WarningDoc {
                    code: w.code.as_str().to_string(),
                    message: w.message.clone(),
                })
                .collect(),
            accepted: plan
                .accepted
                .iter()
                .map(|a| AcceptedDoc {
                    field: a.field.clone(),
                    code: a.code.clone(),
                    desired: a.desired.clone(),
                    observed: a.observed.clone(),
                    reason: a.reason.clone(),
                    until: a.until.clone(),
                    days_left: a.days_left,
                })
                .collect(),
            evidence: plan.evidence.as_ref().map(|e| EvidenceDoc {
                container: e.container.clone(),
                container_id: e.container_id.clone(),
                state: e.state.clone(),
                health: e.health.map(|h| h.as_str().to_string()),
                image_ref: e.image_ref.clone(),
                image_id: e.image_id.clone(),
                repo_digest: e.repo_digest.clone(),
                replicas: e.replicas,
                digest_verified_by: e.digest_verified_by.clone(),
            }),
            error: plan.error.clone(),
            findings: fleet
                .findings
                .get(&plan.module)
                .map(|f| f.iter().map(FindingDoc::from).collect()),
            registry: None,
        }
    }
}

impl DriftCheckDoc {
    /// The document of a drift-check.
    pub fn new(run: &DriftCheck) -> Self {
        DriftCheckDoc {
            schema: DRIFT_CHECK_SCHEMA.to_string(),
            exit_code: run.exit_code,
            summary: SummaryDoc::from(&run.summary),
            hosts: run.fleet.hosts.iter().map(HostDoc::from).collect(),
            modules: run
                .plans
                .iter()
                .map(|p| {
                    let mut m = ModuleDoc::new(p, &run.fleet);
                    m.registry = run
                        .registry
                        .get(&p.module)
                        .map(crate::registry::RegistryDoc::from);
                    m
                })
                .collect(),
            registries: run.registries.as_ref().map(|r| {
                r.iter()
                    .map(crate::registry::RegistryReportDoc::from)
                    .collect()
            }),
        }
    }
}

impl PlanDoc {
    /// The document of a plan.
    pub fn new(run: &PlanRun) -> Self {
        let host = run.fleet.hosts.first();
        PlanDoc {
            schema: PLAN_SCHEMA.to_string(),
            exit_code: run.exit_code,
            plan: ModuleDoc::new(&run.plan, &run.fleet),
            elapsed_ms: host.map(|r| millis(r.elapsed)),
            via: host.map(|r| r.via.as_str().to_string()),
            binding: None,
        }
    }
}

/// What `drift-check --json` prints: the report, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "platformctl drift-check --json (platformctl/drift-check/v2)")]
pub enum DriftCheckOutput {
    /// The report.
    Report(DriftCheckDoc),
    /// A usage or configuration error (exit 1).
    Error(ErrorDoc),
}

/// What `plan --json` prints: the plan, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "platformctl plan --json (platformctl/plan/v2)")]
pub enum PlanOutput {
    /// The plan.
    Plan(Box<PlanDoc>),
    /// A usage or configuration error (exit 2).
    Error(ErrorDoc),
}

fn with_id(mut s: Schema, id: &str) -> Schema {
    s.insert(
        "$id".into(),
        format!("https://platformctl.invalid/schema/{id}.json").into(),
    );
    s
}

/// The JSON Schema of `drift-check --json` (draft 2020-12).
pub fn drift_check_schema() -> Schema {
    with_id(schema_for!(DriftCheckOutput), "drift-check.v2")
}

/// The JSON Schema of `plan --json` (draft 2020-12).
pub fn plan_schema() -> Schema {
    with_id(schema_for!(PlanOutput), "plan.v2")
}

/// The JSON Schema of the document a command prints when it cannot start.
pub fn error_schema() -> Schema {
    schema_for!(ErrorDoc)
}
