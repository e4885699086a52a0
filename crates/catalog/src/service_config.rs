//! A compose service's configuration beyond its image (SPEC §9), as compose reads it: the
//! short and long forms of `ports:` and `volumes:`, `environment:` as a map or a list merged
//! over `env_file:`, `command:`/`entrypoint:` as words (a string is split as a shell would),
//! `labels:` as a map or a list, `networks:` with the top-level `name:`/`external`.
//!
//! Interpolation is compose's, with the repo's variables; a value that needs a variable the
//! repo does not set (a host-only `.env`) is [`Known::Unknown`], never a guess and never a
//! finding (validate already reports unset variables where they matter to it). Environment
//! values are reduced to their digest at once.

use std::collections::BTreeSet;
use std::path::Path;

use platformctl_interpolate::{Vars, interpolate, parse_dotenv_lenient};
use platformctl_model::config::{Known, MountSpec, NetworkSpec, PortSpec, ServiceConfig};
use platformctl_secrets::env_digest;
use platformctl_yaml::Node;

/// Reads the configuration of the service `body` of the compose file `rel` (under `root`),
/// whose top level is `top`.
pub fn service_config(
    body: &Node,
    top: &Node,
    root: &Path,
    rel: &Path,
    vars: &Vars,
) -> ServiceConfig {
    let mut c = ServiceConfig::default();
    let dir = rel.parent().unwrap_or(Path::new(""));
    env_files(body, root, dir, vars, &mut c);
    environment(body, vars, &mut c);
    c.command = body.get("command").and_then(|n| words(n, vars));
    c.entrypoint = body.get("entrypoint").and_then(|n| words(n, vars));
    c.ports = body.get("ports").map(|n| ports(n, vars));
    volumes(body, top, vars, &mut c);
    c.restart = body.get("restart").and_then(|n| scalar(n, vars));
    labels(body, vars, &mut c);
    networks(body, top, &mut c);
    c.network_mode = body
        .get("network_mode")
        .and_then(|n| match scalar(n, vars)? {
            Known::Value(v) => Some(v),
            Known::Unknown(_) => None,
        });
    c
}

/// A scalar after interpolation.
fn scalar(node: &Node, vars: &Vars) -> Option<Known<String>> {
    let raw = node.scalar_text()?;
    Some(interp(raw, vars))
}

fn interp(raw: &str, vars: &Vars) -> Known<String> {
    if !raw.contains('$') {
        return Known::Value(raw.to_string());
    }
    match interpolate(raw, vars) {
        Ok(done) if done.unset.is_empty() => Known::Value(done.value),
        Ok(done) => Known::Unknown(format!(
            "it uses {}, which the repo does not set (a value only the host's environment or .env has)",
            done.unset
                .iter()
                .map(|v| format!("${v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Err(e) => Known::Unknown(format!("it cannot be interpolated here: {}", e.kind)),
    }
}

fn env_files(body: &Node, root: &Path, dir: &Path, vars: &Vars, c: &mut ServiceConfig) {
    let Some(node) = body.get("env_file") else {
        return;
    };
    let mut entries: Vec<(String, bool)> = Vec::new();
    let mut one = |n: &Node| {
        if let Some(p) = n.scalar_text() {
            entries.push((p.to_string(), true));
        } else if n.as_map().is_some() {
            let path = n.get("path").and_then(Node::scalar_text).unwrap_or("");
            let required = n.get("required").and_then(Node::as_bool).unwrap_or(true);
            entries.push((path.to_string(), required));
        }
    };
    match node.as_seq() {
        Some(items) => items.iter().for_each(&mut one),
        None => one(node),
    }
    for (path, required) in entries {
        let Known::Value(path) = interp(&path, vars) else {
            c.env_incomplete = Some(format!(
                "env_file `{path}` names a variable the repo does not set"
            ));
            continue;
        };
        let rel = dir.join(&path);
        match std::fs::read_to_string(root.join(&rel)) {
            Ok(text) => {
                let (pairs, _) = parse_dotenv_lenient(&text, vars);
                for (k, v) in pairs {
                    c.env.insert(k, Known::Value(env_digest(&v)));
                }
            }
            Err(_) if !required => {}
            Err(_) => {
                c.env_incomplete = Some(format!(
                    "env_file `{path}` is not in the repo (kept on the host only)"
                ));
            }
        }
    }
}

fn environment(body: &Node, vars: &Vars, c: &mut ServiceConfig) {
    let Some(node) = body.get("environment") else {
        return;
    };
    let from_host = |k: &str| {
        Known::Unknown(format!(
            "`{k}` is passed through from the environment compose runs in on the host"
        ))
    };
    if let Some(map) = node.as_map() {
        for (k, v) in map {
            let Some(k) = k.scalar_text() else { continue };
            let value = if v.is_null() {
                from_host(k)
            } else {
                match v.scalar_text().map(|raw| interp(raw, vars)) {
                    Some(Known::Value(v)) => Known::Value(env_digest(&v)),
                    Some(u) => u,
                    None => continue,
                }
            };
            c.env.insert(k.to_string(), value);
        }
    } else if let Some(items) = node.as_seq() {
        for item in items {
            let Some(raw) = item.scalar_text() else {
                continue;
            };
            match raw.split_once('=') {
                Some((k, v)) => {
                    let value = match interp(v, vars) {
                        Known::Value(v) => Known::Value(env_digest(&v)),
                        u => u,
                    };
                    c.env.insert(k.to_string(), value);
                }
                None => {
                    c.env.insert(raw.to_string(), from_host(raw));
                }
            }
        }
    }
}

/// `command:` / `entrypoint:`: a list of words, or a string split as a shell would.
fn words(node: &Node, vars: &Vars) -> Option<Known<Vec<String>>> {
    if node.is_null() {
        return None;
    }
    if let Some(items) = node.as_seq() {
        let mut out = Vec::new();
        for i in items {
            match interp(i.scalar_text()?, vars) {
                Known::Value(v) => out.push(v),
                Known::Unknown(why) => return Some(Known::Unknown(why)),
            }
        }
        return Some(Known::Value(out));
    }
    match interp(node.scalar_text()?, vars) {
        Known::Value(v) => Some(match shell_words::split(&v) {
            Ok(w) => Known::Value(w),
            Err(e) => Known::Unknown(format!("it does not split into words: {e}")),
        }),
        u @ Known::Unknown(_) => Some(u.map_words()),
    }
}

trait MapWords {
    fn map_words(self) -> Known<Vec<String>>;
}

impl MapWords for Known<String> {
    fn map_words(self) -> Known<Vec<String>> {
        match self {
            Known::Value(v) => Known::Value(vec![v]),
            Known::Unknown(w) => Known::Unknown(w),
        }
    }
}

/// `ports:`, short (`[HOST_IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTO]`) and long form.
fn ports(node: &Node, vars: &Vars) -> Known<BTreeSet<PortSpec>> {
    let mut out = BTreeSet::new();
    for item in node.as_seq().unwrap_or_default() {
        if item.as_map().is_some() {
            let get = |k: &str| item.get(k).and_then(|n| scalar(n, vars));
            let text = |k: &str| match get(k) {
                Some(Known::Value(v)) => Ok(Some(v)),
                Some(Known::Unknown(w)) => Err(w),
                None => Ok(None),
            };
            let (target, published, host_ip, protocol) = match (
                text("target"),
                text("published"),
                text("host_ip"),
                text("protocol"),
            ) {
                (Ok(t), Ok(p), Ok(h), Ok(pr)) => (t, p, h, pr),
                (Err(w), ..) | (_, Err(w), ..) | (_, _, Err(w), _) | (.., Err(w)) => {
                    return Known::Unknown(w);
                }
            };
            let Some(Ok(container_port)) = target.map(|t| t.parse::<u16>()) else {
                return Known::Unknown("a port's `target` is not a port number".into());
            };
            out.insert(PortSpec {
                host_ip: norm_ip(host_ip.unwrap_or_default()),
                host_port: published.unwrap_or_default(),
                container_port,
                protocol: protocol.unwrap_or_else(|| "tcp".into()),
            });
            continue;
        }
        let Some(raw) = item.scalar_text() else {
            continue;
        };
        let spec = match interp(raw, vars) {
            Known::Value(v) => v,
            Known::Unknown(w) => return Known::Unknown(w),
        };
        match short_port(&spec) {
            Some(list) => out.extend(list),
            None => {
                return Known::Unknown(format!("the port `{spec}` is not in a form compose reads"));
            }
        }
    }
    Known::Value(out)
}

fn norm_ip(ip: String) -> String {
    let ip = ip.trim_start_matches('[').trim_end_matches(']').to_string();
    if ip == "0.0.0.0" || ip == "::" {
        String::new()
    } else {
        ip
    }
}

fn range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let p = s.parse().ok()?;
            Some((p, p))
        }
    }
}

/// One short-syntax port entry, expanded (ranges give one binding per port).
fn short_port(spec: &str) -> Option<Vec<PortSpec>> {
    let (spec, protocol) = match spec.rsplit_once('/') {
        Some((s, p)) => (s, p.to_string()),
        None => (spec, "tcp".to_string()),
    };
    // An IPv6 host address is bracketed: [::1]:8080:80.
    let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
        let (ip, r) = r.split_once("]:")?;
        (ip.to_string(), r)
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            3 => (parts[0].to_string(), &spec[parts[0].len() + 1..]),
            _ => (String::new(), spec),
        }
    };
    let (host, container) = match rest.rsplit_once(':') {
        Some((h, c)) => (Some(h), c),
        None => (None, rest),
    };
    let (c0, c1) = range(container)?;
    let hosts: Option<(u16, u16)> = match host {
        Some("") | None => None,
        Some(h) => Some(range(h)?),
    };
    let mut out = Vec::new();
    for (i, cp) in (c0..=c1).enumerate() {
        let host_port = match hosts {
            None => String::new(),
            Some((h0, h1)) if h0 == h1 => h0.to_string(),
            Some((h0, _)) => (h0 + u16::try_from(i).ok()?).to_string(),
        };
        out.push(PortSpec {
            host_ip: norm_ip(ip.clone()),
            host_port,
            container_port: cp,
            protocol: protocol.clone(),
        });
    }
    Some(out)
}

/// Whether a volume source is a host path (a bind) rather than a volume's name.
fn is_path(s: &str) -> bool {
    s.starts_with('/') || s.starts_with('.') || s.starts_with('~')
}

fn volumes(body: &Node, top: &Node, vars: &Vars, c: &mut ServiceConfig) {
    let Some(items) = body.get("volumes").and_then(Node::as_seq) else {
        return;
    };
    for item in items {
        let (target, spec) = if item.as_map().is_some() {
            let get = |k: &str| item.get(k).and_then(|n| scalar(n, vars));
            let Some(Known::Value(target)) = get("target") else {
                continue;
            };
            let kind = match get("type") {
                Some(Known::Value(k)) => k,
                _ => "volume".into(),
            };
            let source = match get("source") {
                Some(Known::Value(s)) => Known::Value(s),
                Some(Known::Unknown(w)) => Known::Unknown(w),
                None => Known::Value(String::new()),
            };
            let read_only = item
                .get("read_only")
                .and_then(Node::as_bool)
                .unwrap_or(false);
            (
                target,
                source.map_value(|source| MountSpec {
                    volume_name: volume_name(&kind, &source, top),
                    kind,
                    source,
                    read_only,
                }),
            )
        } else {
            let Some(raw) = item.scalar_text() else {
                continue;
            };
            match interp(raw, vars) {
                Known::Value(v) => {
                    let parts: Vec<&str> = v.split(':').collect();
                    let (source, target, mode) = match parts.as_slice() {
                        [t] => ("", *t, ""),
                        [s, t] => (*s, *t, ""),
                        [s, t, m, ..] => (*s, *t, *m),
                        [] => continue,
                    };
                    let kind = if source.is_empty() || !is_path(source) {
                        "volume"
                    } else {
                        "bind"
                    };
                    let read_only = mode.split(',').any(|m| m == "ro");
                    (
                        target.to_string(),
                        Known::Value(MountSpec {
                            volume_name: volume_name(kind, source, top),
                            kind: kind.to_string(),
                            source: source.to_string(),
                            read_only,
                        }),
                    )
                }
                Known::Unknown(w) => {
                    // The target is the part after the first `:` that has no variable.
                    let target = raw.split(':').nth(1).unwrap_or(raw).to_string();
                    (target, Known::Unknown(w))
                }
            }
        };
        c.mounts.insert(target, spec);
    }
}

trait MapValue<T> {
    fn map_value<U>(self, f: impl FnOnce(T) -> U) -> Known<U>;
}

impl<T> MapValue<T> for Known<T> {
    fn map_value<U>(self, f: impl FnOnce(T) -> U) -> Known<U> {
        match self {
            Known::Value(v) => Known::Value(f(v)),
            Known::Unknown(w) => Known::Unknown(w),
        }
    }
}

/// A named volume's engine name when the top-level `volumes:` says it (`name:`, `external`).
fn volume_name(kind: &str, source: &str, top: &Node) -> Option<String> {
    if kind != "volume" || source.is_empty() {
        return None;
    }
    let decl = top.get("volumes")?.get(source)?;
    if let Some(n) = decl.get("name").and_then(Node::scalar_text) {
        return Some(n.to_string());
    }
    decl.get("external")
        .and_then(Node::as_bool)
        .filter(|e| *e)
        .map(|_| source.to_string())
}

fn labels(body: &Node, vars: &Vars, c: &mut ServiceConfig) {
    let Some(node) = body.get("labels") else {
        return;
    };
    if let Some(map) = node.as_map() {
        for (k, v) in map {
            let (Some(k), Some(v)) = (k.scalar_text(), v.scalar_text()) else {
                continue;
            };
            c.labels.insert(k.to_string(), interp(v, vars));
        }
    } else if let Some(items) = node.as_seq() {
        for i in items {
            let Some(raw) = i.scalar_text() else { continue };
            let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
            c.labels.insert(k.to_string(), interp(v, vars));
        }
    }
}

fn networks(body: &Node, top: &Node, c: &mut ServiceConfig) {
    let Some(node) = body.get("networks") else {
        return;
    };
    let keys: Vec<String> = if let Some(map) = node.as_map() {
        map.iter()
            .filter_map(|(k, _)| k.scalar_text().map(str::to_string))
            .collect()
    } else {
        node.as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.scalar_text().map(str::to_string))
            .collect()
    };
    let declared = |key: &str| -> Option<String> {
        let decl = top.get("networks")?.get(key)?;
        if let Some(n) = decl.get("name").and_then(Node::scalar_text) {
            return Some(n.to_string());
        }
        decl.get("external")
            .and_then(Node::as_bool)
            .filter(|e| *e)
            .map(|_| key.to_string())
    };
    c.networks = Some(
        keys.into_iter()
            .map(|key| NetworkSpec {
                name: declared(&key),
                key,
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str, vars: &[(&str, &str)]) -> ServiceConfig {
        let tree = platformctl_yaml::parse(text, &Default::default())
            .unwrap()
            .unwrap();
        let vars: Vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = tree.get("services").unwrap().get("s").unwrap();
        service_config(
            body,
            &tree,
            Path::new("/nonexistent"),
            Path::new("c/compose.yaml"),
            &vars,
        )
    }

    fn port(ip: &str, host: &str, c: u16, proto: &str) -> PortSpec {
        PortSpec {
            host_ip: ip.into(),
            host_port: host.into(),
            container_port: c,
            protocol: proto.into(),
        }
    }

    #[test]
    fn ports_short_and_long() {
        let c = cfg(
            "services:\n  s:\n    ports:\n      - \"8080:80\"\n      - 127.0.0.1:5353:53/udp\n      - \"9000\"\n      - 7000-7001:70-71\n      - target: 443\n        published: \"8443\"\n        host_ip: 0.0.0.0\n",
            &[],
        );
        let Some(Known::Value(p)) = c.ports else {
            panic!()
        };
        let want: BTreeSet<PortSpec> = [
            port("", "8080", 80, "tcp"),
            port("127.0.0.1", "5353", 53, "udp"),
            port("", "", 9000, "tcp"),
            port("", "7000", 70, "tcp"),
            port("", "7001", 71, "tcp"),
            port("", "8443", 443, "tcp"),
        ]
        .into_iter()
        .collect();
        assert_eq!(p, want);
    }

    #[test]
    fn environment_list_and_map_hashed_and_host_only_is_unknown() {
        let c = cfg(
            "services:\n  s:\n    environment:\n      A: \"1\"\n      B: ${HOST_ONLY}\n      C:\n      D: ${SET}\n",
            &[("SET", "x")],
        );
        assert_eq!(c.env["A"], Known::Value(env_digest("1")));
        assert!(matches!(c.env["B"], Known::Unknown(_)));
        assert!(matches!(c.env["C"], Known::Unknown(_)));
        assert_eq!(c.env["D"], Known::Value(env_digest("x")));
        let c = cfg(
            "services:\n  s:\n    environment:\n      - A=1\n      - PASS\n",
            &[],
        );
        assert_eq!(c.env["A"], Known::Value(env_digest("1")));
        assert!(matches!(c.env["PASS"], Known::Unknown(_)));
        let c = cfg("services:\n  s:\n    env_file: secrets.env\n", &[]);
        assert!(c.env_incomplete.is_some());
    }

    #[test]
    fn volumes_commands_restart_labels_networks() {
        let c = cfg(
            "services:\n  s:\n    volumes:\n      - ./data:/data:ro\n      - db:/var/lib/db\n      - /cache\n      - type: bind\n        source: /srv/x\n        target: /x\n    command: sh -c 'echo \"a b\"'\n    entrypoint: [\"/init\"]\n    restart: unless-stopped\n    labels:\n      - traefik.enable=true\n    networks: [backend]\nvolumes:\n  db:\n    name: shared-db\nnetworks:\n  backend: {}\n",
            &[],
        );
        let m = |t: &str| match &c.mounts[t] {
            Known::Value(m) => m.clone(),
            Known::Unknown(w) => panic!("{w}"),
        };
        assert_eq!(
            (
                m("/data").kind.as_str(),
                m("/data").source.as_str(),
                m("/data").read_only
            ),
            ("bind", "./data", true)
        );
        assert_eq!(m("/var/lib/db").volume_name.as_deref(), Some("shared-db"));
        assert_eq!(m("/cache").source, "");
        assert_eq!(m("/x").kind, "bind");
        assert_eq!(
            c.command,
            Some(Known::Value(vec![
                "sh".into(),
                "-c".into(),
                "echo \"a b\"".into()
            ]))
        );
        assert_eq!(c.entrypoint, Some(Known::Value(vec!["/init".into()])));
        assert_eq!(c.restart, Some(Known::Value("unless-stopped".into())));
        assert_eq!(c.labels["traefik.enable"], Known::Value("true".into()));
        assert_eq!(c.networks.as_ref().unwrap()[0].key, "backend");
        assert_eq!(c.networks.as_ref().unwrap()[0].name, None);
    }
}
