//! module.yaml v2: the typed model of one module, read from a checked YAML tree.

use std::path::{Path, PathBuf};

use platformctl_yaml::{Limits, Node};

pub use platformctl_model::{
    AcceptEntry, Artifact, DesiredState, Module, Orchestrator, Runtime, Source, Spanned, Tier,
    Update,
};

use crate::finding::{Code, Finding};
use crate::schema;
use crate::source::{MANIFEST_MAX_BYTES, read_text};

/// The manifest's file name inside a module folder.
pub const MANIFEST_FILE: &str = "module.yaml";

/// `value`, where `node` was written.
fn at<T>(node: &Node, value: T) -> Spanned<T> {
    Spanned::new(value, node.pos, node.width)
}

/// The result of reading one module folder.
#[derive(Clone, Debug)]
pub struct LoadedModule {
    /// The folder name.
    pub dir: String,
    /// The manifest path, relative to the root.
    pub file: PathBuf,
    /// The model, when the manifest parsed to a mapping.
    pub module: Option<Module>,
    /// When there is no model (the manifest is missing or does not parse): the compose
    /// services it may claim — its folder name and any `compose_service:` line of its text —
    /// so that its service is not also reported unclaimed (a follow-on finding).
    pub may_claim: Vec<String>,
}

/// The compose services a manifest without a model may claim: its folder name, and the value
/// of every `compose_service:` line of its text (read line by line, not as YAML).
fn may_claim(dir: &str, text: Option<&str>) -> Vec<String> {
    let mut out = vec![dir.to_string()];
    for line in text.unwrap_or("").lines() {
        let Some(rest) = line.trim_start().strip_prefix("compose_service:") else {
            continue;
        };
        let rest = rest.split(" #").next().unwrap_or("").trim();
        let value = rest.trim_matches(|c| c == '"' || c == '\'');
        if !value.is_empty() && !out.iter().any(|v| v == value) {
            out.push(value.to_string());
        }
    }
    out
}

/// Reads, parses and checks `modules/<dir>/module.yaml`; findings go to `out`.
pub fn load_module(root: &Path, dir: &str, strict: bool, out: &mut Vec<Finding>) -> LoadedModule {
    let file = Path::new("modules").join(dir).join(MANIFEST_FILE);
    let mut loaded = LoadedModule {
        dir: dir.to_string(),
        file: file.clone(),
        module: None,
        may_claim: Vec::new(),
    };
    let start = out.len();
    let text = match read_text(root, &file, MANIFEST_MAX_BYTES) {
        Ok(Some(t)) => t,
        Ok(None) => {
            out.push(
                Finding::at_file(
                    Code::ManifestMissing,
                    Path::new("modules").join(dir),
                    format!("module folder `{dir}` has no {MANIFEST_FILE}"),
                )
                .hint("add modules/<name>/module.yaml, or remove the folder"),
            );
            tag(out, start, dir);
            loaded.may_claim = may_claim(dir, None);
            return loaded;
        }
        Err(f) => {
            out.push(f);
            tag(out, start, dir);
            loaded.may_claim = may_claim(dir, None);
            return loaded;
        }
    };
    loaded.module = check_manifest(&text, dir, strict, out);
    if loaded.module.is_none() {
        loaded.may_claim = may_claim(dir, Some(&text));
    }
    tag(out, start, dir);
    loaded
}

/// Parses and checks the text of `modules/<dir>/module.yaml` (no I/O): the schema, the
/// conditional rules, secrets and the folder name. Findings go to `out`; the model is `None`
/// when the text is not a YAML mapping at all.
pub fn check_manifest(
    text: &str,
    dir: &str,
    strict: bool,
    out: &mut Vec<Finding>,
) -> Option<Module> {
    let file = Path::new("modules").join(dir).join(MANIFEST_FILE);
    let start = out.len();
    let mut module = None;
    let tree = match platformctl_yaml::parse(text, &Limits::default()) {
        Ok(Some(t)) => Some(t),
        Ok(None) => {
            out.push(
                Finding::at_file(Code::FileEmpty, &file, "the manifest is empty")
                    .hint("a module.yaml starts with `apiVersion: platform/v2` and `kind: Module`"),
            );
            None
        }
        Err(e) => {
            out.push(yaml_finding(&file, &e));
            secrets_in_text(text, &file, out);
            None
        }
    };
    if let Some(tree) = tree {
        let mut schema_findings = schema::check_module(&tree, &file, strict);
        if let Some(v) = check_version(&tree, &file) {
            // One finding for an old apiVersion, not two.
            schema_findings.retain(|f| !(f.code == Code::InvalidValue && f.pos() == v.pos()));
            out.push(v);
        }
        out.extend(schema_findings);
        out.extend(schema::check_conditionals(&tree, &file));
        out.extend(schema::check_accept(&tree, &file, today()));
        let found = secrets(&tree, &file, out);
        scrub(&mut out[start..], &found);
        let m = extract(&tree, dir, &file);
        if m.name != dir {
            out.push(
                Finding::new(
                    Code::NameMismatch,
                    &file,
                    m.name_pos,
                    format!("metadata.name `{}` differs from its folder `{dir}`", m.name),
                )
                .hint(format!("rename the folder or set `name: {dir}`")),
            );
        }
        module = Some(m);
    }
    // A folder name that is not a module name is a finding of its own.
    if let Err(m) = crate::names::check_module_name(dir) {
        out.push(Finding::at_file(
            Code::NameInvalid,
            Path::new("modules").join(dir),
            format!("module folder `{}`: {m}", dir.escape_debug()),
        ));
    }
    tag(out, start, dir);
    module
}

fn tag(out: &mut [Finding], start: usize, dir: &str) {
    for f in &mut out[start..] {
        if f.module.is_none() {
            f.module = Some(dir.to_string());
        }
    }
}

/// A YAML error as a finding.
pub fn yaml_finding(file: &Path, e: &platformctl_yaml::Error) -> Finding {
    use platformctl_yaml::ErrorKind as K;
    let code = match e.kind {
        K::Syntax | K::UnknownAnchor | K::InvalidMerge => Code::Syntax,
        K::DuplicateKey { .. } => Code::DuplicateKey,
        K::TooDeep => Code::TooDeep,
        K::AliasBudget => Code::AliasLimit,
        K::MultipleDocuments => Code::MultipleDocuments,
    };
    let f = Finding::new(code, file, e.pos, e.message.clone());
    match (&e.kind, e.opened_at) {
        (K::DuplicateKey { first }, _) => f.related(*first, "first written here"),
        (_, Some(open)) => f.related(open, "the flow collection opened here"),
        _ => f,
    }
}

fn check_version(tree: &Node, file: &Path) -> Option<Finding> {
    let v = tree.get("apiVersion")?;
    let text = v.as_str()?;
    if text != "platform/v2" && text.starts_with("platform/") {
        return Some(
            Finding::new(
                Code::SchemaVersion,
                file,
                v.pos,
                format!("apiVersion `{text}` is not supported"),
            )
            .width(v.width)
            .hint("migrate the manifest to `apiVersion: platform/v2` (see docs/module-schema.md)"),
        );
    }
    None
}

/// Reports credential-looking values; returns them so that other findings can be scrubbed of
/// them (the values are dropped when the caller returns, never stored).
fn secrets(tree: &Node, file: &Path, out: &mut Vec<Finding>) -> Vec<String> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    schema::walk_scalars(tree, &mut path, &mut |keys, node| {
        let Some(text) = node.scalar_text() else {
            return;
        };
        let key = keys.last().copied().unwrap_or("");
        if let Some(hit) = platformctl_secrets::scan_pair(key, text) {
            out.push(
                Finding::new(
                    Code::Secret,
                    file,
                    node.pos,
                    format!("`{}` holds {}", keys.join("."), hit.kind.describe()),
                )
                .hint("manifests hold no secrets: reference a secret store or an environment variable instead")
                .redacted(),
            );
            found.push(text.to_string());
        }
    });
    found
}

/// Removes secret values from every message and hint (a wrong-type hint would otherwise quote
/// the value back).
pub(crate) fn scrub(findings: &mut [Finding], secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    for f in findings {
        for s in secrets {
            if f.message.contains(s.as_str()) {
                f.message = f.message.replace(s.as_str(), "<redacted>");
            }
            if let Some(h) = &mut f.hint
                && h.contains(s.as_str())
            {
                *h = h.replace(s.as_str(), "<redacted>");
            }
            // A value too short to search for safely still must not be echoed.
            if s.len() < 4 && f.code != Code::Secret {
                f.hint = None;
            }
        }
    }
}

/// Secrets in a text that did not parse: found by scanning the raw text, so that a syntax
/// error never hides one (and the renderer then hides the file's lines).
pub(crate) fn secrets_in_text(text: &str, file: &Path, out: &mut Vec<Finding>) {
    let hits = platformctl_secrets::scan_text(text);
    if hits.is_empty() {
        return;
    }
    let lines = platformctl_diagnostics::LineIndex::new(text);
    for hit in hits {
        out.push(
            Finding::new(
                Code::Secret,
                file,
                lines.pos(hit.offset),
                format!("the file holds {}", hit.kind.describe()),
            )
            .hint("remove it: this repo holds no secrets")
            .redacted(),
        );
    }
}

fn s<'a>(node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    path.iter().try_fold(node, |n, k| n.get(k))
}

fn string(node: &Node, path: &[&str]) -> Option<String> {
    s(node, path).and_then(Node::as_str).map(str::to_string)
}

fn spanned(node: &Node, path: &[&str]) -> Option<Spanned<String>> {
    let n = s(node, path)?;
    n.as_str().map(|v| at(n, v.to_string()))
}

/// Builds the model from a tree, tolerating anything the schema check already reported.
/// Today (UTC), for the dates of `spec.drift.accept`; `PLATFORMCTL_TODAY=YYYY-MM-DD` pins it
/// (tests, and reproducing a report from another day).
pub fn today() -> jiff::civil::Date {
    std::env::var("PLATFORMCTL_TODAY")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| {
            jiff::tz::TimeZone::UTC
                .to_datetime(jiff::Timestamp::now())
                .date()
        })
}

fn extract(tree: &Node, dir: &str, file: &Path) -> Module {
    let name_node = s(tree, &["metadata", "name"]);
    let name = name_node.and_then(Node::as_str).unwrap_or(dir).to_string();
    let name_pos = name_node
        .or_else(|| tree.get("metadata"))
        .map_or(tree.pos, |n| n.pos);
    let stateful_node = s(tree, &["metadata", "stateful"]);
    let rt = |k: &str| spanned(tree, &["spec", "runtime", k]);
    let runtime = Runtime {
        host: rt("host"),
        orchestrator: match string(tree, &["spec", "runtime", "orchestrator"]).as_deref() {
            Some("external") => Orchestrator::External,
            _ => Orchestrator::DockerCompose,
        },
        compose_file: rt("compose_file"),
        compose_service: rt("compose_service"),
        container_name: rt("container_name"),
        desired_state: match string(tree, &["spec", "runtime", "desired_state"]).as_deref() {
            Some("stopped") => DesiredState::Stopped,
            _ => DesiredState::Running,
        },
        image_observed: rt("image_observed"),
        image_observed_at: rt("image_observed_at").and_then(|s| {
            let date = platformctl_yaml::words::parse_date(&s.value)?;
            Some(Spanned::new(date, s.pos, s.width))
        }),
        image_digest_pinned_in_compose: s(
            tree,
            &["spec", "runtime", "image_digest_pinned_in_compose"],
        )
        .and_then(|n| n.as_bool().map(|b| at(n, b))),
    };
    let source = s(tree, &["spec", "source"])
        .filter(|n| n.as_map().is_some())
        .map(|n| Source {
            kind: string(n, &["type"]),
            repository: string(n, &["repository"]),
            registry: string(n, &["registry"]),
            release_tracking: string(n, &["release_tracking"]),
            url: string(n, &["url"]),
        });
    let artifact = s(tree, &["spec", "artifact"])
        .filter(|n| n.as_map().is_some())
        .map(|n| Artifact {
            kind: string(n, &["type"]),
            reference: spanned(n, &["reference"]),
        });
    let update = s(tree, &["spec", "update"])
        .filter(|n| n.as_map().is_some())
        .map(|n| Update {
            policy: string(n, &["policy"]),
            reason: string(n, &["reason"]),
        });
    let accept = s(tree, &["spec", "drift", "accept"])
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .filter(|n| n.as_map().is_some())
                .map(|n| AcceptEntry {
                    code: string(n, &["code"]).unwrap_or_default(),
                    field: string(n, &["field"]),
                    reason: string(n, &["reason"]).unwrap_or_default(),
                    until: string(n, &["until"])
                        .and_then(|u| platformctl_yaml::words::parse_date(&u)),
                    observed: string(n, &["observed"]),
                    pos: n.pos,
                })
                .collect()
        })
        .unwrap_or_default();
    Module {
        name,
        file: file.to_path_buf(),
        description: string(tree, &["metadata", "description"]),
        owner: string(tree, &["metadata", "owner"]),
        tier: string(tree, &["metadata", "tier"])
            .as_deref()
            .and_then(Tier::parse),
        stateful: stateful_node.and_then(Node::as_bool).unwrap_or(false),
        stateful_declared: stateful_node.is_some(),
        runtime,
        source,
        artifact,
        update,
        accept,
        name_pos,
    }
}
