//! The module.yaml v2 schema, written once as data.
//!
//! The same table drives the loader's checks (required fields, types, allowed values, unknown
//! fields) and the JSON Schema that `platformctl schema module` prints for editors, so the two
//! cannot disagree.

use platformctl_diagnostics::did_you_mean;
use platformctl_yaml::{Node, Pos, ScalarKind, Value};
use serde_json::{Map as JsonMap, Value as Json, json};

use crate::finding::{Code, Finding, Severity};
use crate::names;

/// What a string field must look like, beyond being a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Str {
    /// Any text.
    Text,
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
    /// A module name: lowercase, digits, `.`, `_`, `-`.
    ModuleName,
    /// A host, compose service or container name: the safe character set.
    Ident,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// A path relative to the platform root.
    RelPath,
    /// An image reference (checked by the image reference parser).
    Image,
    /// An `http(s)://` URL.
    Url,
}

/// A field's type.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A string of some shape.
    Str(Str),
    /// `true` / `false`.
    Bool,
    /// A mapping with known fields.
    Obj(&'static [Field]),
    /// A list of mappings with known fields.
    List(&'static [Field]),
}

/// One field of a mapping.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The key.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether it must be present.
    pub required: bool,
    /// One line for editors' hover text.
    pub doc: &'static str,
}

const fn f(name: &'static str, ty: Ty, required: bool, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        required,
        doc,
    }
}

/// Allowed `metadata.tier` values.
pub const TIERS: &[&str] = &["core", "infra", "edge", "app"];
/// Allowed `spec.runtime.orchestrator` values.
pub const ORCHESTRATORS: &[&str] = &["docker-compose", "external"];
/// Allowed `spec.runtime.desired_state` values.
pub const DESIRED_STATES: &[&str] = &["running", "stopped"];
/// Allowed `spec.source.type` values.
pub const SOURCE_TYPES: &[&str] = &["upstream-image", "local-build", "fork"];
/// Allowed `spec.source.release_tracking` values.
pub const RELEASE_TRACKING: &[&str] = &["upstream-tag", "digest", "branch"];
/// Allowed `spec.artifact.type` values.
pub const ARTIFACT_TYPES: &[&str] = &["oci-image"];
/// Allowed `spec.update.policy` values.
pub const UPDATE_POLICIES: &[&str] = &["manual", "notify", "auto"];

const METADATA: &[Field] = &[
    f(
        "name",
        Ty::Str(Str::ModuleName),
        true,
        "The module's name; equals its folder name.",
    ),
    f(
        "description",
        Ty::Str(Str::Text),
        true,
        "What the module is, in one line.",
    ),
    f("owner", Ty::Str(Str::Text), false, "Who answers for it."),
    f(
        "tier",
        Ty::Str(Str::OneOf(TIERS)),
        true,
        "core | infra | edge | app",
    ),
    f(
        "stateful",
        Ty::Bool,
        false,
        "Whether it keeps data that needs backups (default false).",
    ),
];

const RUNTIME: &[Field] = &[
    f(
        "host",
        Ty::Str(Str::Ident),
        false,
        "A host of platform.toml (absent for external modules).",
    ),
    f(
        "orchestrator",
        Ty::Str(Str::OneOf(ORCHESTRATORS)),
        true,
        "docker-compose | external",
    ),
    f(
        "compose_file",
        Ty::Str(Str::RelPath),
        false,
        "The compose file, relative to the platform root.",
    ),
    f(
        "compose_service",
        Ty::Str(Str::Ident),
        false,
        "The service in that compose file.",
    ),
    f(
        "container_name",
        Ty::Str(Str::Ident),
        false,
        "Only when compose sets container_name; default <project>-<service>-1.",
    ),
    f(
        "desired_state",
        Ty::Str(Str::OneOf(DESIRED_STATES)),
        false,
        "running | stopped (default running).",
    ),
    f(
        "image_observed",
        Ty::Str(Str::Image),
        false,
        "Audit snapshot: the image production ran when last audited.",
    ),
    f(
        "image_observed_at",
        Ty::Str(Str::Date),
        false,
        "Date of that snapshot (YYYY-MM-DD).",
    ),
    f(
        "image_digest_pinned_in_compose",
        Ty::Bool,
        false,
        "Whether the compose image carries @sha256:…",
    ),
];

const SOURCE: &[Field] = &[
    f(
        "type",
        Ty::Str(Str::OneOf(SOURCE_TYPES)),
        true,
        "upstream-image | local-build | fork",
    ),
    f(
        "repository",
        Ty::Str(Str::Text),
        true,
        "The upstream image family, e.g. minio/minio.",
    ),
    f(
        "registry",
        Ty::Str(Str::Ident),
        false,
        "upstream-registry, or the name of a mirror.",
    ),
    f(
        "release_tracking",
        Ty::Str(Str::OneOf(RELEASE_TRACKING)),
        false,
        "upstream-tag | digest | branch",
    ),
    f("url", Ty::Str(Str::Url), false, "Where the source lives."),
];

const ARTIFACT: &[Field] = &[
    f(
        "type",
        Ty::Str(Str::OneOf(ARTIFACT_TYPES)),
        true,
        "oci-image",
    ),
    f(
        "reference",
        Ty::Str(Str::Image),
        true,
        "What the platform intends to run; may carry @sha256:…",
    ),
];

const UPDATE: &[Field] = &[
    f(
        "policy",
        Ty::Str(Str::OneOf(UPDATE_POLICIES)),
        true,
        "manual | notify | auto",
    ),
    f("reason", Ty::Str(Str::Text), false, "Why this policy."),
];

const ACCEPT: &[Field] = &[
    f(
        "code",
        Ty::Str(Str::Text),
        true,
        "The change code acknowledged, e.g. CONFIG_ENV (docs/drift.md).",
    ),
    f(
        "field",
        Ty::Str(Str::Text),
        false,
        "The change's field, e.g. env.LOG_LEVEL; any field of that code when absent.",
    ),
    f(
        "reason",
        Ty::Str(Str::Text),
        true,
        "Why the difference is accepted.",
    ),
    f(
        "until",
        Ty::Str(Str::Date),
        true,
        "The last day it is accepted (YYYY-MM-DD, at most 180 days ahead).",
    ),
    f(
        "observed",
        Ty::Str(Str::Text),
        false,
        "sha256 digest of the accepted observed value (written by `platformctl ack`).",
    ),
];

const DRIFT: &[Field] = &[f(
    "accept",
    Ty::List(ACCEPT),
    false,
    "Acknowledged differences (SPEC §9).",
)];

const SPEC: &[Field] = &[
    f(
        "runtime",
        Ty::Obj(RUNTIME),
        true,
        "How and where the module runs.",
    ),
    f(
        "source",
        Ty::Obj(SOURCE),
        false,
        "Where the software comes from (ADR-0022).",
    ),
    f(
        "artifact",
        Ty::Obj(ARTIFACT),
        false,
        "What the platform intends to run.",
    ),
    f("update", Ty::Obj(UPDATE), false, "How updates are handled."),
    f(
        "drift",
        Ty::Obj(DRIFT),
        false,
        "Drift settings: acknowledged differences.",
    ),
];

/// The top level of module.yaml v2.
pub const MODULE: &[Field] = &[
    f(
        "apiVersion",
        Ty::Str(Str::OneOf(&["platform/v2"])),
        true,
        "platform/v2",
    ),
    f("kind", Ty::Str(Str::OneOf(&["Module"])), true, "Module"),
    f("metadata", Ty::Obj(METADATA), true, "Who the module is."),
    f(
        "spec",
        Ty::Obj(SPEC),
        true,
        "What the module runs and intends to run.",
    ),
];

/// Checks a manifest tree against [`MODULE`]; findings are in `file`.
pub fn check_module(root: &Node, file: &std::path::Path, strict: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    check_obj(root, MODULE, "", root.pos, file, strict, &mut out);
    out
}

/// The change codes a `spec.drift.accept` entry may name (SPEC §6, §9).
pub const CHANGE_CODES: &[&str] = &[
    "CONTAINER_MISSING",
    "CONTAINER_NOT_RUNNING",
    "CONTAINER_RUNNING_UNEXPECTEDLY",
    "CONTAINER_NAME_MISMATCH",
    "COMPOSE_SERVICE_MISMATCH",
    "IMAGE_REPOSITORY_MISMATCH",
    "IMAGE_TAG_MISMATCH",
    "IMAGE_DIGEST_MISMATCH",
    "CONFIG_PORTS",
    "CONFIG_ENV",
    "CONFIG_MOUNTS",
    "CONFIG_COMMAND",
    "CONFIG_RESTART",
    "CONFIG_LABELS",
    "CONFIG_NETWORKS",
];

/// The most days ahead a `spec.drift.accept` entry may run.
pub const ACCEPT_MAX_DAYS: i64 = 180;

/// `spec.drift.accept` rules the field table cannot say: a known change code (with a
/// did-you-mean), `until` at most [`ACCEPT_MAX_DAYS`] after `today`, and a warning once it has
/// passed.
pub fn check_accept(root: &Node, file: &std::path::Path, today: jiff::civil::Date) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(items) = root
        .get("spec")
        .and_then(|s| s.get("drift"))
        .and_then(|d| d.get("accept"))
        .and_then(Node::as_seq)
    else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("spec.drift.accept[{i}]");
        if let Some(code) = item.get("code")
            && let Some(text) = code.as_str()
            && !CHANGE_CODES.contains(&text)
        {
            let mut f = Finding::new(
                Code::InvalidValue,
                file,
                code.pos,
                format!("`{at}.code`: `{text}` is not a change code"),
            )
            .width(code.width);
            if let Some(s) = did_you_mean(text, CHANGE_CODES) {
                f = f.hint(format!("did you mean `{s}`?"));
            }
            out.push(f);
        }
        let Some(until) = item.get("until") else {
            continue;
        };
        let Some(date) = until.as_str().and_then(platformctl_yaml::words::parse_date) else {
            continue; // the field table reports a date that does not parse
        };
        let days = (date - today).get_days() as i64;
        if days > ACCEPT_MAX_DAYS {
            out.push(
                Finding::new(
                    Code::InvalidValue,
                    file,
                    until.pos,
                    format!(
                        "`{at}.until` {date} is {days} days ahead; an acceptance runs at most {ACCEPT_MAX_DAYS} days"
                    ),
                )
                .width(until.width)
                .hint("accept for a shorter time, and renew it if the difference is still wanted"),
            );
        } else if days < 0 {
            out.push(
                Finding::new(
                    Code::AcceptExpired,
                    file,
                    until.pos,
                    format!("`{at}` expired on {date}: its difference counts as drift again"),
                )
                .width(until.width)
                .hint("fix the difference, or acknowledge it again with `platformctl ack`"),
            );
        }
    }
    out
}

/// Rules the field table cannot say: a docker-compose module needs a host, a compose file
/// and a service; an external module's compose fields mean nothing.
pub fn check_conditionals(root: &Node, file: &std::path::Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some((runtime_key, runtime)) = root.get("spec").and_then(|s| s.entry("runtime")) else {
        return out;
    };
    if runtime.as_map().is_none() {
        return out;
    }
    let external = runtime.get("orchestrator").and_then(Node::as_str) == Some("external");
    if external {
        for key in ["compose_file", "compose_service", "container_name"] {
            if let Some((k, _)) = runtime.entry(key) {
                out.push(
                    Finding::new(
                        Code::IgnoredField,
                        file,
                        k.pos,
                        format!("`spec.runtime.{key}` means nothing for an external module"),
                    )
                    .width(k.width)
                    .hint("remove it, or set `orchestrator: docker-compose`"),
                );
            }
        }
    } else {
        for key in ["host", "compose_file", "compose_service"] {
            if runtime.get(key).is_none() {
                out.push(
                    Finding::new(
                        Code::MissingField,
                        file,
                        runtime_key.pos,
                        format!(
                            "missing `spec.runtime.{key}` (required for docker-compose modules)"
                        ),
                    )
                    .hint(format!("add `{key}:`, or set `orchestrator: external`")),
                );
            }
        }
    }
    out
}

/// `key_pos` is where the mapping's own key is written: a missing field is reported there.
fn check_obj(
    node: &Node,
    fields: &'static [Field],
    path: &str,
    key_pos: Pos,
    file: &std::path::Path,
    strict: bool,
    out: &mut Vec<Finding>,
) {
    let Some(entries) = node.as_map() else {
        out.push(
            Finding::new(
                Code::WrongType,
                file,
                node.pos,
                format!(
                    "{} must be a mapping, found {}",
                    if path.is_empty() {
                        "the manifest"
                    } else {
                        path
                    },
                    node.type_name()
                ),
            )
            .width(node.width),
        );
        return;
    };
    for field in fields {
        if field.required && node.get(field.name).is_none() {
            let at = join(path, field.name);
            out.push(
                Finding::new(
                    Code::MissingField,
                    file,
                    key_pos,
                    format!("missing required field `{at}`"),
                )
                .hint(format!("add `{}:` ({})", field.name, field.doc)),
            );
        }
    }
    for (key, value) in entries {
        let Some(name) = key.as_scalar().map(|s| s.text.as_str()) else {
            out.push(Finding::new(
                Code::WrongType,
                file,
                key.pos,
                "keys must be plain strings",
            ));
            continue;
        };
        match fields.iter().find(|f| f.name == name) {
            None => {
                let at = join(path, name);
                let mut finding = Finding::new(
                    Code::UnknownField,
                    file,
                    key.pos,
                    format!("unknown field `{at}`"),
                )
                .width(key.width);
                if strict {
                    finding.severity = Severity::Error;
                }
                let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                finding = match did_you_mean(name, &known) {
                    Some(c) => finding.hint(format!("did you mean `{c}`?")),
                    None => finding.hint(format!("known fields here: {}", known.join(", "))),
                };
                out.push(finding);
            }
            Some(field) => check_value(value, key.pos, field, (path, name), file, strict, out),
        }
    }
}

fn check_value(
    node: &Node,
    key_pos: Pos,
    field: &Field,
    (path, name): (&str, &str),
    file: &std::path::Path,
    strict: bool,
    out: &mut Vec<Finding>,
) {
    // The dotted path is only built when something is reported (or for a nested mapping).
    let at = || join(path, name);
    let wrong = |expected: &str| {
        let at = at();
        let mut finding = Finding::new(
            Code::WrongType,
            file,
            node.pos,
            format!("`{at}` must be {expected}, found {}", node.type_name()),
        )
        .width(node.width);
        if let Some(s) = node.as_scalar() {
            if expected == "a string" && !matches!(s.kind(), ScalarKind::Null) {
                finding = finding.hint(format!("quote it: \"{}\"", s.text.escape_default()));
            } else if expected == "a boolean" {
                finding = finding.hint("write true or false");
            }
        }
        finding
    };
    match field.ty {
        Ty::Obj(fields) => check_obj(node, fields, &at(), key_pos, file, strict, out),
        Ty::List(fields) => {
            let Some(items) = node.as_seq() else {
                out.push(wrong("a list"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                check_obj(
                    item,
                    fields,
                    &format!("{}[{i}]", at()),
                    item.pos,
                    file,
                    strict,
                    out,
                );
            }
        }
        Ty::Bool => {
            if node.as_bool().is_none() {
                out.push(wrong("a boolean"));
            }
        }
        Ty::Str(shape) => {
            let Some(text) = node.as_str() else {
                out.push(wrong("a string"));
                return;
            };
            if let Some((msg, hint)) = check_shape(shape, text) {
                let mut finding = Finding::new(
                    Code::InvalidValue,
                    file,
                    node.pos,
                    format!("`{}`: {msg}", at()),
                )
                .width(node.width);
                if let Some(h) = hint {
                    finding = finding.hint(h);
                }
                match shape {
                    Str::ModuleName | Str::Ident => finding.code = Code::NameInvalid,
                    Str::RelPath => finding.code = Code::PathOutsideRoot,
                    _ => {}
                }
                out.push(finding);
            }
        }
    }
}

/// Checks a string's shape; `Some((what is wrong, hint))` when it does not fit.
fn check_shape(shape: Str, text: &str) -> Option<(String, Option<String>)> {
    match shape {
        Str::Text | Str::Image => {
            if text.trim().is_empty() {
                Some(("must not be empty".into(), None))
            } else {
                None
            }
        }
        Str::OneOf(allowed) => {
            if allowed.contains(&text) {
                None
            } else {
                let hint = match did_you_mean(text, allowed) {
                    Some(c) => format!("did you mean `{c}`? allowed: {}", allowed.join(" | ")),
                    None => format!("allowed: {}", allowed.join(" | ")),
                };
                Some((format!("`{}` is not allowed", shorten(text)), Some(hint)))
            }
        }
        Str::ModuleName => names::check_module_name(text).err().map(|m| (m, None)),
        Str::Ident => names::check_ident(text).err().map(|m| (m, None)),
        Str::Date => {
            if is_date(text) {
                None
            } else {
                Some((
                    format!("`{}` is not a date", shorten(text)),
                    Some("write it as YYYY-MM-DD".into()),
                ))
            }
        }
        Str::RelPath => names::check_rel_path(text).err().map(|m| (m, None)),
        Str::Url => {
            if (text.starts_with("https://") || text.starts_with("http://"))
                && !text.contains(char::is_whitespace)
            {
                None
            } else {
                Some(("must be an http(s):// URL".into(), None))
            }
        }
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        let head: String = s.chars().take(57).collect();
        format!("{head}...")
    } else {
        s.to_string()
    }
}

pub use platformctl_yaml::words::is_date;

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The JSON Schema (draft 2020-12) of module.yaml v2, for editors
/// (`# yaml-language-server: $schema=…`) and other validators.
pub fn module_json_schema() -> Json {
    let mut schema = obj_schema(MODULE);
    if let Json::Object(m) = &mut schema {
        let mut head = JsonMap::new();
        head.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        head.insert(
            "$id".into(),
            json!("https://platformctl.invalid/schema/module.v2.json"),
        );
        head.insert(
            "title".into(),
            json!("platformctl module.yaml (platform/v2)"),
        );
        head.insert(
            "description".into(),
            json!("One module of the platform: what it runs, where, and what it intends to run."),
        );
        head.append(m);
        *m = head;
    }
    // docker-compose modules need host, compose_file and compose_service.
    if let Some(runtime) = schema.pointer_mut("/properties/spec/properties/runtime")
        && let Json::Object(m) = runtime
    {
        m.insert(
            "if".into(),
            json!({"properties": {"orchestrator": {"const": "docker-compose"}}}),
        );
        m.insert(
            "then".into(),
            json!({"required": ["host", "compose_file", "compose_service"]}),
        );
    }
    schema
}

fn obj_schema(fields: &[Field]) -> Json {
    let mut props = JsonMap::new();
    for field in fields {
        props.insert(field.name.into(), field_schema(field));
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut m = JsonMap::new();
    m.insert("type".into(), json!("object"));
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    m.insert("properties".into(), Json::Object(props));
    m.insert("additionalProperties".into(), json!(false));
    Json::Object(m)
}

fn field_schema(field: &Field) -> Json {
    let mut s = match field.ty {
        Ty::Obj(fields) => obj_schema(fields),
        Ty::List(fields) => json!({"type": "array", "items": obj_schema(fields)}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Str(shape) => match shape {
            Str::Text | Str::Image | Str::RelPath => json!({"type": "string", "minLength": 1}),
            Str::OneOf(values) => json!({"type": "string", "enum": values}),
            Str::ModuleName => json!({"type": "string", "pattern": names::MODULE_NAME_PATTERN}),
            Str::Ident => json!({"type": "string", "pattern": names::IDENT_PATTERN}),
            Str::Date => json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
            Str::Url => json!({"type": "string", "pattern": "^https?://[^\\s]+$"}),
        },
    };
    if let Json::Object(m) = &mut s {
        m.insert("description".into(), json!(field.doc));
    }
    s
}

/// Walks every scalar of a tree with the dotted path of keys that leads to it.
pub fn walk_scalars<'a>(
    node: &'a Node,
    path: &mut Vec<&'a str>,
    f: &mut dyn FnMut(&[&str], &'a Node),
) {
    match &node.value {
        Value::Scalar(_) => f(path, node),
        Value::Seq(items) => {
            for item in items {
                walk_scalars(item, path, f);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                path.push(k.as_scalar().map_or("?", |s| s.text.as_str()));
                walk_scalars(v, path, f);
                path.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2026-05-20"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-5-20"));
        assert!(!is_date("20260520"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("runing", DESIRED_STATES), Some("running"));
        assert_eq!(did_you_mean("xyzzy", DESIRED_STATES), None);
        assert_eq!(
            did_you_mean("compose_servce", &["compose_service", "host"]),
            Some("compose_service")
        );
    }

    #[test]
    fn json_schema_has_every_field() {
        let s = module_json_schema();
        assert_eq!(
            s.pointer("/properties/metadata/properties/tier/enum"),
            Some(&json!(TIERS))
        );
        assert!(
            s.pointer("/properties/spec/properties/runtime/then")
                .is_some()
        );
        assert_eq!(s.pointer("/additionalProperties"), Some(&json!(false)));
    }
}
