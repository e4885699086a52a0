//! Compose files: the parts of them platformctl compares with the manifests.
//!
//! Compose files are read as operators really write them: anchors and merge keys (resolved by
//! the YAML layer), `x-` extension fields, `profiles`, long and short syntax, a top-level
//! `name:`, and `${VAR}` interpolation from the process environment over the `.env` beside the
//! compose file (compose's own precedence). Only the values platformctl uses are interpolated
//! (`name`, `image`, `container_name`): a `${SECRET:?}` in an `environment:` entry is compose's
//! business at deploy time, not an error at validation time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use platformctl_interpolate::{Vars, interpolate, parse_dotenv_lenient};
use platformctl_yaml::{Limits, Node, Pos};
use serde::Serialize;

use crate::finding::{Code, Finding};
use crate::module::{Spanned, yaml_finding};
use crate::names;
use crate::service_config::service_config;
use crate::source::{COMPOSE_MAX_BYTES, read_text};
use platformctl_model::config::ServiceConfig;

/// A compose `image:` value: as written and after interpolation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeImage {
    /// As written (`ghcr.io/immich-app/immich-server:${IMMICH_VERSION:-release}`).
    pub raw: String,
    /// After interpolation.
    pub value: String,
    /// Where it is written.
    #[serde(skip)]
    pub pos: Pos,
    /// Its width on the line.
    #[serde(skip)]
    pub width: u32,
}

/// One compose service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The service key.
    pub name: String,
    /// Where the key is written.
    #[serde(skip)]
    pub pos: Pos,
    /// The key's width on its line.
    #[serde(skip)]
    pub width: u32,
    /// `image:`.
    pub image: Option<ComposeImage>,
    /// `container_name:` after interpolation.
    pub container_name: Option<Spanned<String>>,
    /// `profiles:`.
    pub profiles: Vec<String>,
    /// Whether the service has `build:`.
    pub build: bool,
    /// Its configuration beyond the image (SPEC §9): ports, environment, mounts, command,
    /// restart, labels, networks (environment values as digests only).
    #[serde(skip)]
    pub config: ServiceConfig,
}

/// A parsed compose file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeFile {
    /// Relative to the root.
    pub file: PathBuf,
    /// Top-level `name:` after interpolation.
    pub name: Option<String>,
    /// Where `name:`'s value is written, and its width.
    #[serde(skip)]
    pub name_pos: Pos,
    #[serde(skip)]
    name_width: u32,
    /// Services in file order.
    pub services: Vec<Service>,
    /// `COMPOSE_PROJECT_NAME` set in the `.env` beside the file: compose takes it over the
    /// top-level `name:`, so its containers carry this project label.
    #[serde(skip)]
    pub dotenv_project: Option<DotenvProject>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// `COMPOSE_PROJECT_NAME=…` in a compose file's `.env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DotenvProject {
    /// The value.
    pub value: String,
    /// The `.env` file, relative to the root.
    pub file: PathBuf,
    /// Where the key is written.
    pub pos: Pos,
}

impl ComposeFile {
    /// The width of the `name:` value, for the caret underline.
    pub fn name_width(&self) -> u32 {
        self.name_width
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.index.get(name).map(|&i| &self.services[i])
    }
}

/// Reads and parses `root/rel` and its `.env`. `None` when the file does not exist or cannot
/// be read or parsed; findings (I/O, YAML errors, bad names, interpolation problems) go to
/// `out`.
pub fn load_compose(
    root: &Path,
    rel: &Path,
    env: &[(String, String)],
    out: &mut Vec<Finding>,
) -> Option<ComposeFile> {
    let text = match read_text(root, rel, COMPOSE_MAX_BYTES) {
        Ok(t) => t?,
        Err(f) => {
            out.push(f);
            return None;
        }
    };
    let (vars, dotenv_project) = load_vars(root, rel, env, out);
    let mut file = parse_compose_in(&text, Some(root), rel, &vars, out)?;
    file.dotenv_project = dotenv_project;
    Some(file)
}

/// The process environment over the `.env` beside the compose file. A `.env` line that does
/// not parse is a finding, and the other lines still count (compose would refuse the file;
/// dropping every value would add false findings about each variable).
fn load_vars(
    root: &Path,
    rel: &Path,
    env: &[(String, String)],
    out: &mut Vec<Finding>,
) -> (Vars, Option<DotenvProject>) {
    let process: Vars = env.iter().cloned().collect();
    let dotenv_rel = rel.parent().unwrap_or(Path::new("")).join(".env");
    let mut project = None;
    let dotenv = match read_text(root, &dotenv_rel, COMPOSE_MAX_BYTES) {
        Ok(Some(text)) => {
            let (pairs, errors) = parse_dotenv_lenient(&text, &process);
            for e in errors {
                out.push(
                    Finding::new(
                        Code::DotenvInvalid,
                        &dotenv_rel,
                        Pos::new(sat(e.line), sat(e.column)),
                        format!("{}", e.kind),
                    )
                    .redacted(),
                );
            }
            if let Some((_, value)) = pairs.iter().find(|(k, _)| k == "COMPOSE_PROJECT_NAME") {
                project = Some(DotenvProject {
                    value: value.clone(),
                    file: dotenv_rel.clone(),
                    pos: key_pos(&text, "COMPOSE_PROJECT_NAME"),
                });
            }
            pairs
        }
        Ok(None) => Vec::new(),
        Err(f) => {
            out.push(f);
            Vec::new()
        }
    };
    (Vars::layered(env.iter().cloned(), dotenv), project)
}

/// Where `key` is last assigned in `.env` text (a line `key=`, `key:` or `export key=`).
fn key_pos(text: &str, key: &str) -> Pos {
    let mut found = Pos::new(1, 1);
    for (i, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(['\u{feff}', ' ', '\t']);
        let body = body.strip_prefix("export").map_or(body, |b| b.trim_start());
        if let Some(rest) = body.strip_prefix(key)
            && rest.trim_start().starts_with(['=', ':'])
        {
            let col = line.find(key).map_or(0, |c| line[..c].chars().count());
            found = Pos::new(sat(i + 1), sat(col + 1));
        }
    }
    found
}

fn sat(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses compose text with the given variables; `None` when it is not a compose file at all
/// (the reason is in `out`).
pub fn parse_compose(
    text: &str,
    rel: &Path,
    vars: &Vars,
    out: &mut Vec<Finding>,
) -> Option<ComposeFile> {
    parse_compose_in(text, None, rel, vars, out)
}

/// [`parse_compose`] of the file `rel` under `root` (its `env_file`s are read from there;
/// without a root they are not found and the environment is marked incomplete).
fn parse_compose_in(
    text: &str,
    root: Option<&Path>,
    rel: &Path,
    vars: &Vars,
    out: &mut Vec<Finding>,
) -> Option<ComposeFile> {
    let tree = match platformctl_yaml::parse(text, &Limits::default()) {
        Ok(Some(t)) => t,
        Ok(None) => {
            out.push(Finding::at_file(
                Code::ComposeInvalid,
                rel,
                "the compose file is empty",
            ));
            return None;
        }
        Err(e) => {
            out.push(yaml_finding(rel, &e));
            return None;
        }
    };
    if tree.as_map().is_none() {
        out.push(Finding::new(
            Code::ComposeInvalid,
            rel,
            tree.pos,
            format!("a compose file is a mapping, found {}", tree.type_name()),
        ));
        return None;
    }
    let mut file = ComposeFile {
        file: rel.to_path_buf(),
        name: None,
        name_pos: Pos::new(1, 1),
        name_width: 1,
        services: Vec::new(),
        dotenv_project: None,
        index: HashMap::new(),
    };
    if let Some(n) = tree.get("name") {
        file.name = interpolated(n, rel, vars, out).map(|(v, _)| v);
        file.name_pos = n.pos;
        file.name_width = n.width;
    }
    let Some(services) = tree.get("services") else {
        out.push(Finding::at_file(
            Code::ComposeInvalid,
            rel,
            "the compose file has no `services:`",
        ));
        return Some(file);
    };
    let Some(entries) = services.as_map() else {
        if !services.is_null() {
            out.push(Finding::new(
                Code::ComposeInvalid,
                rel,
                services.pos,
                format!(
                    "`services` must be a mapping, found {}",
                    services.type_name()
                ),
            ));
        }
        return Some(file);
    };
    for (key, body) in entries {
        let Some(name) = key.scalar_text() else {
            continue;
        };
        if let Err(m) = names::check_ident(name) {
            out.push(
                Finding::new(
                    Code::NameInvalid,
                    rel,
                    key.pos,
                    format!("compose service `{}`: {m}", name.escape_debug()),
                )
                .width(key.width)
                .hint("service names reach ssh and the Docker API: use A-Z a-z 0-9 . _ -"),
            );
            continue;
        }
        if !(body.as_map().is_some() || body.is_null()) {
            out.push(Finding::new(
                Code::ComposeInvalid,
                rel,
                body.pos,
                format!(
                    "service `{name}` must be a mapping, found {}",
                    body.type_name()
                ),
            ));
            continue;
        }
        let image = body.get("image").and_then(|n| {
            let (value, _) = interpolated(n, rel, vars, out)?;
            Some(ComposeImage {
                raw: n.scalar_text()?.to_string(),
                value,
                pos: n.pos,
                width: n.width,
            })
        });
        let container_name = body.get("container_name").and_then(|n| {
            let (value, _) = interpolated(n, rel, vars, out)?;
            if let Err(m) = names::check_ident(&value) {
                out.push(
                    Finding::new(
                        Code::NameInvalid,
                        rel,
                        n.pos,
                        format!("container_name of `{name}`: {m}"),
                    )
                    .width(n.width),
                );
                return None;
            }
            Some(Spanned {
                value,
                pos: n.pos,
                width: n.width,
            })
        });
        let profiles = body
            .get("profiles")
            .and_then(Node::as_seq)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.scalar_text().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        file.index.insert(name.to_string(), file.services.len());
        file.services.push(Service {
            name: name.to_string(),
            pos: key.pos,
            width: key.width,
            image,
            container_name,
            profiles,
            build: body.get("build").is_some(),
            config: service_config(
                body,
                &tree,
                root.unwrap_or(Path::new("/nonexistent")),
                rel,
                vars,
            ),
        });
    }
    Some(file)
}

/// Interpolates a scalar node; problems become findings.
fn interpolated(
    node: &Node,
    rel: &Path,
    vars: &Vars,
    out: &mut Vec<Finding>,
) -> Option<(String, Pos)> {
    let raw = node.scalar_text()?;
    if !raw.contains('$') {
        return Some((raw.to_string(), node.pos));
    }
    match interpolate(raw, vars) {
        Ok(done) => {
            for name in &done.unset {
                out.push(
                    Finding::new(
                        Code::VariableUnset,
                        rel,
                        node.pos,
                        format!("variable `{name}` is not set; compose uses an empty string"),
                    )
                    .width(node.width)
                    .hint(format!(
                        "set {name} in the .env beside the compose file, or write ${{{name}:-default}}"
                    )),
                );
            }
            Some((done.value, node.pos))
        }
        Err(e) => {
            out.push(
                Finding::new(Code::Interpolation, rel, node.pos, e.kind.to_string())
                    .width(node.width),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, vars: &[(&str, &str)]) -> (Option<ComposeFile>, Vec<Finding>) {
        let vars: Vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut out = Vec::new();
        let r = parse_compose(text, Path::new("compose/x/compose.yaml"), &vars, &mut out);
        (r, out)
    }

    #[test]
    fn anchors_merge_keys_and_interpolation() {
        let text = r#"
name: home-platform
x-common: &common
  restart: unless-stopped
x-img: &img
  image: ghcr.io/immich-app/immich-server:${IMMICH_VERSION:-v1.119.0}
services:
  immich:
    <<: [*common, *img]
    profiles: [media]
  redis:
    image: "redis:${REDIS_TAG}"
    container_name: ${CN:-my-redis}
  pg:
    image: postgres:16.4
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set in secrets.env}
"#;
        let (r, findings) = parse(text, &[("REDIS_TAG", "7.4.1")]);
        let f = r.unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(f.name.as_deref(), Some("home-platform"));
        let immich = f.service("immich").unwrap();
        assert_eq!(
            immich.image.as_ref().unwrap().value,
            "ghcr.io/immich-app/immich-server:v1.119.0"
        );
        assert_eq!(immich.profiles, vec!["media"]);
        let redis = f.service("redis").unwrap();
        assert_eq!(redis.image.as_ref().unwrap().value, "redis:7.4.1");
        assert_eq!(redis.container_name.as_ref().unwrap().value, "my-redis");
        assert_eq!(f.services.len(), 3);
    }

    #[test]
    fn unset_variable_warns_and_required_errors() {
        let (_, findings) = parse("services:\n  a:\n    image: redis:${TAG}\n", &[]);
        assert_eq!(findings[0].code, Code::VariableUnset);
        assert_eq!(findings[0].line, 3);
        let (_, findings) = parse("services:\n  a:\n    image: redis:${TAG:?pin a tag}\n", &[]);
        assert_eq!(findings[0].code, Code::Interpolation);
        assert!(findings[0].message.contains("pin a tag"));
    }

    #[test]
    fn shell_metacharacters_in_service_names_are_refused() {
        let (r, findings) = parse("services:\n  \"web;rm -rf /\":\n    image: x\n", &[]);
        assert!(r.unwrap().services.is_empty());
        assert_eq!(findings[0].code, Code::NameInvalid);
        assert_eq!(findings[0].line, 2);
    }
}
