//! What a saved plan is bound to (SPEC §10): the facts `plan MODULE --out FILE` records and
//! `apply` checks again before it changes anything.
//!
//! [`facts`] gathers them from a fresh [`PlanRun`] and the platform repo: the module's host,
//! project, service and desired state, what was observed (container id, image id, state,
//! image reference, the codes of the changes), the sha256 of the manifest, the compose file
//! and the `.env` beside it, and the repo's git commit. [`Facts::fingerprint`] is the one
//! function both sides use to compare them. [`commands`] spells out the host commands apply
//! would run, as argument vectors: this module only describes them; running them is the
//! `platformctl-apply` crate's alone.
//!
//! Nothing here touches a host. The only process started is `git` (`rev-parse`, `status`) on
//! the local platform repo, read-only.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use platformctl_catalog::{Catalog, DesiredState, Module};
use platformctl_compare::Status;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::PlanRun;

/// The facts a plan is bound to. Any difference between the plan's and a fresh observation's
/// makes the plan stale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Facts {
    /// The module.
    pub module: String,
    /// Its host.
    pub host: String,
    /// The compose project (platform.toml's `compose_project`).
    pub project: String,
    /// The compose service.
    pub service: String,
    /// The compose file, relative to the platform repo (and to the host's checkout).
    pub compose_file: String,
    /// `running` or `stopped`.
    pub desired_state: String,
    /// What was observed; `null` when no container exists.
    pub evidence: Option<BoundEvidence>,
    /// The verdict (`drift`, `in-sync`, …).
    pub status: String,
    /// The codes and fields of the changes, in the plan's order (`CODE field`).
    pub changes: Vec<String>,
    /// sha256 of each bound file, by path relative to the repo; `absent` for a `.env` that
    /// does not exist.
    pub files: BTreeMap<String, String>,
}

/// The container a plan was made against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoundEvidence {
    /// Its short ID (a recreated container has another).
    pub container_id: String,
    /// The image ID it runs.
    pub image_id: String,
    /// Its state.
    pub state: String,
    /// The reference it was created from.
    pub image_ref: String,
}

impl Facts {
    /// The fingerprint of the facts: sha256 of their canonical JSON, `sha256:<hex>`.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{}", hex(&Sha256::digest(&json)))
    }

    /// Each bound fact that differs from `now`'s, as (fact, planned, now).
    pub fn differences(&self, now: &Facts) -> Vec<(String, String, String)> {
        let a = serde_json::to_value(self).unwrap_or_default();
        let b = serde_json::to_value(now).unwrap_or_default();
        let mut out = Vec::new();
        diff_values("", &a, &b, &mut out);
        out
    }
}

fn diff_values(
    at: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<(String, String, String)>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                diff_values(
                    &path,
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => out.push((at.to_string(), short(a), short(b))),
        _ => {}
    }
}

fn short(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// sha256 of a file, `sha256:<hex>`, or `absent` when it does not exist.
pub fn file_digest(path: &Path) -> std::io::Result<String> {
    match std::fs::read(path) {
        Ok(b) => Ok(format!("sha256:{}", hex(&Sha256::digest(&b)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("absent".to_string()),
        Err(e) => Err(e),
    }
}

/// Why facts could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The module is not something apply can change (external, no host, no compose service).
    #[error("{0}")]
    NotBindable(String),
    /// A bound file could not be read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
}

/// The facts of `run` (a fresh plan of `m`) and the repo's files.
pub fn facts(catalog: &Catalog, m: &Module, run: &PlanRun) -> Result<Facts, BindError> {
    let not = |why: &str| BindError::NotBindable(format!("{}: {why}", m.name));
    let host = m
        .runtime
        .host
        .as_ref()
        .map(|h| h.value.clone())
        .ok_or_else(|| not("no spec.runtime.host"))?;
    let service = m
        .runtime
        .compose_service
        .as_ref()
        .map(|s| s.value.clone())
        .ok_or_else(|| not("no spec.runtime.compose_service"))?;
    let compose_file = m
        .runtime
        .compose_file
        .as_ref()
        .map(|s| s.value.clone())
        .ok_or_else(|| not("no spec.runtime.compose_file"))?;
    let dotenv = Path::new(&compose_file)
        .parent()
        .unwrap_or(Path::new(""))
        .join(".env");
    let mut files = BTreeMap::new();
    for rel in [
        m.file.to_string_lossy().into_owned(),
        compose_file.clone(),
        dotenv.to_string_lossy().into_owned(),
    ] {
        let d = file_digest(&catalog.root.join(&rel)).map_err(|error| BindError::Io {
            path: rel.clone(),
            error,
        })?;
        files.insert(rel, d);
    }
    let plan = &run.plan;
    Ok(Facts {
        module: m.name.clone(),
        host,
        project: catalog.platform.compose_project.clone(),
        service,
        compose_file,
        desired_state: match m.runtime.desired_state {
            DesiredState::Stopped => "stopped",
            _ => "running",
        }
        .to_string(),
        evidence: plan.evidence.as_ref().map(|e| BoundEvidence {
            container_id: e.container_id.clone(),
            image_id: e.image_id.clone(),
            state: e.state.clone(),
            image_ref: e.image_ref.clone(),
        }),
        status: plan.status.as_str().to_string(),
        changes: plan
            .changes
            .iter()
            .map(|c| format!("{} {}", c.code, c.field))
            .chain(
                plan.config
                    .iter()
                    .map(|c| format!("{} {} {}", c.code.as_str(), c.field, c.observed)),
            )
            .collect(),
        files,
    })
}

/// Whether every change of a plan is one compose can fix (SPEC §10): image, running or not,
/// missing, config. A name or service-label mismatch is not.
pub fn applicable(run: &PlanRun) -> Result<(), String> {
    if run.plan.status != Status::Drift && run.plan.status != Status::InSync {
        return Err(format!(
            "the module is `{}`: {}",
            run.plan.status.as_str(),
            run.plan.error.as_deref().unwrap_or("nothing was judged")
        ));
    }
    let bad: Vec<String> = run
        .plan
        .changes
        .iter()
        .filter(|c| {
            let code = c.code.to_string();
            code == "CONTAINER_NAME_MISMATCH" || code == "COMPOSE_SERVICE_MISMATCH"
        })
        .map(|c| c.code.to_string())
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} cannot be fixed by compose up: rename or relabel by hand",
            bad.join(", ")
        ))
    }
}

/// The git state of the platform repo: (commit, dirty), or `None` outside a git work tree.
pub fn git_state(root: &Path) -> Option<(String, bool)> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let status = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()?;
    Some((commit, !status.stdout.is_empty()))
}

/// The host commands apply would run for `facts` on a host whose checkout is `platform_dir`,
/// with `compose` as the compose command and `docker_socket` as its engine: argument vectors,
/// never a shell line. `pull` then `up -d --no-deps` for a running module, `stop` for a
/// stopped one.
pub fn commands(
    facts: &Facts,
    compose: &[String],
    platform_dir: &str,
    docker_socket: &str,
) -> Vec<Vec<String>> {
    let file = format!(
        "{}/{}",
        platform_dir.trim_end_matches('/'),
        facts.compose_file.trim_start_matches("./")
    );
    let base = || {
        let mut v: Vec<String> = Vec::new();
        if docker_socket != "/var/run/docker.sock" {
            v.push("env".into());
            v.push(format!("DOCKER_HOST=unix://{docker_socket}"));
        }
        v.extend(compose.iter().cloned());
        v.extend([
            "-p".to_string(),
            facts.project.clone(),
            "-f".to_string(),
            file.clone(),
        ]);
        v
    };
    let verb = |words: &[&str]| {
        let mut v = base();
        v.extend(words.iter().map(|w| (*w).to_string()));
        v.push(facts.service.clone());
        v
    };
    if facts.desired_state == "stopped" {
        vec![verb(&["stop"])]
    } else {
        vec![verb(&["pull"]), verb(&["up", "-d", "--no-deps"])]
    }
}

/// A POSIX shell word for `s`: as is when it is plain, else single-quoted.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '=' | ':' | '@' | ',')
        })
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// An argument vector as one shell line (each word quoted).
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: &str) -> Facts {
        Facts {
            module: "m".into(),
            host: "h".into(),
            project: "home-platform".into(),
            service: "api".into(),
            compose_file: "compose/core.yaml".into(),
            desired_state: state.into(),
            evidence: None,
            status: "drift".into(),
            changes: vec!["CONTAINER_MISSING container.exists".into()],
            files: BTreeMap::new(),
        }
    }

    #[test]
    fn commands_are_pull_then_up_or_stop() {
        let c = commands(
            &facts("running"),
            &["docker".into(), "compose".into()],
            "/srv/platform/",
            "/var/run/docker.sock",
        );
        assert_eq!(
            shell_line(&c[0]),
            "docker compose -p home-platform -f /srv/platform/compose/core.yaml pull api"
        );
        assert_eq!(
            shell_line(&c[1]),
            "docker compose -p home-platform -f /srv/platform/compose/core.yaml up -d --no-deps api"
        );
        let c = commands(
            &facts("stopped"),
            &["docker-compose".into()],
            "/p",
            "/run/d.sock",
        );
        assert_eq!(
            shell_line(&c[0]),
            "env DOCKER_HOST=unix:///run/d.sock docker-compose -p home-platform -f /p/compose/core.yaml stop api"
        );
    }

    #[test]
    fn hostile_words_are_quoted() {
        assert_eq!(shell_quote("a;touch /x"), "'a;touch /x'");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("plain-1.2"), "plain-1.2");
    }

    #[test]
    fn fingerprint_and_differences() {
        let a = facts("running");
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert!(a.differences(&b).is_empty());
        b.files
            .insert("compose/core.yaml".into(), "sha256:1".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
        let d = a.differences(&b);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, "files.compose/core.yaml");
    }
}

/// How long a saved plan stays valid by default: one hour.
pub const PLAN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// This build's version: a plan is applied only by the version that made it.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The binding section of a saved plan (`plan --out`): the facts, their fingerprint, the repo
/// state, the tool version, the expiry and the exact host commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedBinding {
    /// What the plan is bound to.
    pub facts: Facts,
    /// [`Facts::fingerprint`] of `facts`.
    pub fingerprint: String,
    /// The platform repo's git commit, and whether its tracked files had changes.
    pub git: Option<GitDoc>,
    /// The platformctl version that made the plan.
    pub tool_version: String,
    /// When the plan was made (RFC 3339, UTC).
    pub created_at: String,
    /// When it stops being applicable (RFC 3339, UTC).
    pub expires_at: String,
    /// The host's checkout and compose command (`[hosts.NAME.apply]`); `null` when the host
    /// declares none (then apply refuses).
    pub apply: Option<HostApply>,
    /// The commands apply would run on the host, as argument vectors.
    pub commands: Vec<Vec<String>>,
    /// The same, each as the quoted line a person would type.
    pub command_lines: Vec<String>,
    /// Why this plan cannot be applied, when it cannot (a name mismatch, no host settings…).
    pub not_applicable: Option<String>,
}

/// The git state of the platform repo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitDoc {
    /// `HEAD`'s commit.
    pub commit: String,
    /// Whether tracked files differ from it.
    pub dirty: bool,
}

/// `[hosts.NAME.apply]` as the plan used it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostApply {
    /// The checkout of the platform repo on the host.
    pub platform_dir: String,
    /// The compose command's words.
    pub compose_command: Vec<String>,
    /// The host's Docker socket.
    pub docker_socket: String,
}

/// The binding of a fresh plan of `m`, made at `now`, valid for `ttl`.
pub fn bind(
    catalog: &Catalog,
    m: &Module,
    run: &PlanRun,
    now: jiff::Timestamp,
    ttl: std::time::Duration,
) -> Result<SavedBinding, BindError> {
    let facts = facts(catalog, m, run)?;
    let host = catalog.platform.hosts.get(&facts.host);
    let apply = host.and_then(|h| {
        h.apply.as_ref().map(|a| HostApply {
            platform_dir: a.platform_dir.clone(),
            compose_command: a.compose_command.clone(),
            docker_socket: h.docker_socket.clone(),
        })
    });
    let commands = apply.as_ref().map_or_else(Vec::new, |a| {
        commands(
            &facts,
            &a.compose_command,
            &a.platform_dir,
            &a.docker_socket,
        )
    });
    let mut not_applicable = applicable(run).err();
    if not_applicable.is_none() && apply.is_none() {
        not_applicable = Some(format!(
            "host {} has no [hosts.{}.apply] in platform.toml (platform_dir, compose_command)",
            facts.host, facts.host
        ));
    }
    let expires = now
        .checked_add(jiff::SignedDuration::try_from(ttl).unwrap_or(jiff::SignedDuration::ZERO))
        .unwrap_or(now);
    Ok(SavedBinding {
        fingerprint: facts.fingerprint(),
        git: git_state(&catalog.root).map(|(commit, dirty)| GitDoc { commit, dirty }),
        tool_version: TOOL_VERSION.to_string(),
        created_at: now.to_string(),
        expires_at: expires.to_string(),
        command_lines: commands.iter().map(|c| shell_line(c)).collect(),
        commands,
        apply,
        not_applicable,
        facts,
    })
}
