//! Config drift (SPEC §9): a container's inspect held against its compose service, field by
//! field, with compose's normalisations. Pure.
//!
//! | field | code | rule |
//! |---|---|---|
//! | `ports` | `CONFIG_PORTS` | the published set (host ip, host port, container port, protocol); `0.0.0.0`/`::` is "all" |
//! | `env.<NAME>` | `CONFIG_ENV` | each declared variable's value digest; a variable compose does not declare is drift unless the image sets it to that value (or it is Docker's default `PATH`) |
//! | `mounts.<target>` | `CONFIG_MOUNTS` | kind, source (a relative bind resolved against the project directory compose recorded, `com.docker.compose.project.working_dir`; a named volume prefixed by the project), read-only; an extra bind or named volume is drift, an image's anonymous volume is not |
//! | `command`, `entrypoint` | `CONFIG_COMMAND` | the words; unset in compose means the image's |
//! | `restart` | `CONFIG_RESTART` | unset in compose means `no` |
//! | `labels.<key>` | `CONFIG_LABELS` | each declared label; an extra one is drift unless the image carries it |
//! | `networks` | `CONFIG_NETWORKS` | the attached set (`<project>_<key>`, `<project>_default` when unset); or `network_mode` |
//!
//! What cannot be known here is the warning `CONFIG_NOT_VERIFIED` for that field, never drift.
//! No environment value is ever in a change: only which variable differs.

use std::collections::BTreeSet;

use platformctl_evidence::{Container, Image, labels};
use platformctl_model::config::{Known, ServiceConfig};
use serde::Serialize;

use crate::{Warning, WarningCode};

/// Docker's `PATH` for an image that sets none.
const DOCKER_DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What kind of config drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfigCode {
    /// Published ports differ.
    ConfigPorts,
    /// An environment variable differs, is missing or is extra.
    ConfigEnv,
    /// A mount differs, is missing or is extra.
    ConfigMounts,
    /// The command or entrypoint differs.
    ConfigCommand,
    /// The restart policy differs.
    ConfigRestart,
    /// A label differs, is missing or is extra.
    ConfigLabels,
    /// The networks differ.
    ConfigNetworks,
}

impl ConfigCode {
    /// Every code.
    pub const ALL: [ConfigCode; 7] = [
        ConfigCode::ConfigPorts,
        ConfigCode::ConfigEnv,
        ConfigCode::ConfigMounts,
        ConfigCode::ConfigCommand,
        ConfigCode::ConfigRestart,
        ConfigCode::ConfigLabels,
        ConfigCode::ConfigNetworks,
    ];

    /// As written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigCode::ConfigPorts => "CONFIG_PORTS",
            ConfigCode::ConfigEnv => "CONFIG_ENV",
            ConfigCode::ConfigMounts => "CONFIG_MOUNTS",
            ConfigCode::ConfigCommand => "CONFIG_COMMAND",
            ConfigCode::ConfigRestart => "CONFIG_RESTART",
            ConfigCode::ConfigLabels => "CONFIG_LABELS",
            ConfigCode::ConfigNetworks => "CONFIG_NETWORKS",
        }
    }
}

/// One configuration difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    /// `ports`, `env.NAME`, `mounts./data`, `command`, `entrypoint`, `restart`,
    /// `labels.KEY`, `networks`.
    pub field: String,
    /// Why.
    pub code: ConfigCode,
    /// What compose declares (for the environment, never a value).
    pub desired: String,
    /// What the container has (for the environment, never a value).
    pub observed: String,
    /// The digest of the observed value (for the environment, of the variable's value), which
    /// `spec.drift.accept` entries written by `ack` carry. Never serialised.
    #[serde(skip)]
    pub observed_digest: String,
}

fn change(
    field: impl Into<String>,
    code: ConfigCode,
    d: impl Into<String>,
    o: impl Into<String>,
) -> ConfigChange {
    let observed = o.into();
    ConfigChange {
        field: field.into(),
        code,
        desired: d.into(),
        observed_digest: platformctl_evidence::env_digest(&observed),
        observed,
    }
}

fn not_verified(field: &str, why: &str) -> Warning {
    Warning::new(
        WarningCode::ConfigNotVerified,
        format!("{field} cannot be verified here: {why}"),
    )
}

fn words(w: &Option<Vec<String>>) -> String {
    match w {
        None => "(none)".into(),
        Some(w) => serde_json::to_string(w).unwrap_or_default(),
    }
}

/// Compares `c` (with its image `image`) to `desired`, the service of the compose project
/// `project`. A container without an inspect gives a single `CONFIG_NOT_VERIFIED`.
pub fn compare_config(
    desired: &ServiceConfig,
    c: &Container,
    image: Option<&Image>,
) -> (Vec<ConfigChange>, Vec<Warning>) {
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let Some(obs) = &c.config else {
        warnings.push(not_verified(
            "the configuration",
            "the container's inspect was not read",
        ));
        return (changes, warnings);
    };
    let img = image.and_then(|i| i.config.as_ref());
    let project = c.project().unwrap_or("");

    // ports
    match &desired.ports {
        Some(Known::Unknown(why)) => warnings.push(not_verified("ports", why)),
        d => {
            let want: BTreeSet<String> = match d {
                Some(Known::Value(set)) => set
                    .iter()
                    .map(|p| {
                        platformctl_evidence::PublishedPort {
                            host_ip: p.host_ip.clone(),
                            host_port: p.host_port.clone(),
                            container_port: p.container_port,
                            protocol: p.protocol.clone(),
                        }
                        .to_string()
                    })
                    .collect(),
                _ => BTreeSet::new(),
            };
            let got: BTreeSet<String> = obs
                .ports
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    if p.host_ip == "0.0.0.0" || p.host_ip == "::" {
                        p.host_ip.clear();
                    }
                    p.to_string()
                })
                .collect();
            if want != got {
                let show = |s: &BTreeSet<String>| {
                    if s.is_empty() {
                        "(none)".to_string()
                    } else {
                        s.iter().cloned().collect::<Vec<_>>().join(", ")
                    }
                };
                changes.push(change(
                    "ports",
                    ConfigCode::ConfigPorts,
                    show(&want),
                    show(&got),
                ));
            }
        }
    }

    // environment
    for (name, want) in &desired.env {
        let field = format!("env.{name}");
        match want {
            Known::Unknown(why) => warnings.push(not_verified(&field, why)),
            Known::Value(d) => match obs.env.get(name) {
                Some(o) if o == d => {}
                Some(o) => changes.push(ConfigChange {
                    observed_digest: o.clone(),
                    ..change(
                        field,
                        ConfigCode::ConfigEnv,
                        "the value compose sets",
                        "a different value",
                    )
                }),
                None => changes.push(change(field, ConfigCode::ConfigEnv, "set", "(unset)")),
            },
        }
    }
    let mut extra_unverified = false;
    for (name, o) in &obs.env {
        if desired.env.contains_key(name) {
            continue;
        }
        let from_image = img.and_then(|i| i.env.get(name)) == Some(o);
        let default_path = name == "PATH"
            && img.is_none_or(|i| !i.env.contains_key("PATH"))
            && *o == platformctl_evidence::env_digest(DOCKER_DEFAULT_PATH);
        if from_image || default_path {
            continue;
        }
        if img.is_none() {
            extra_unverified = true;
            continue;
        }
        if let Some(why) = &desired.env_incomplete {
            warnings.push(not_verified(&format!("env.{name}"), why));
            continue;
        }
        changes.push(ConfigChange {
            observed_digest: o.clone(),
            ..change(
                format!("env.{name}"),
                ConfigCode::ConfigEnv,
                "(not set by compose or the image)",
                "set",
            )
        });
    }
    if extra_unverified {
        warnings.push(not_verified(
            "the environment beyond compose's variables",
            "the image's defaults were not read",
        ));
    }

    // command and entrypoint: unset in compose means the image's.
    let entrypoint_declared = desired.entrypoint.is_some();
    for (field, want, got, image_default) in [
        (
            "entrypoint",
            &desired.entrypoint,
            &obs.entrypoint,
            img.map(|i| &i.entrypoint),
        ),
        ("command", &desired.command, &obs.cmd, img.map(|i| &i.cmd)),
    ] {
        match want {
            Some(Known::Unknown(why)) => warnings.push(not_verified(field, why)),
            Some(Known::Value(w)) => {
                let got_n = got.clone().unwrap_or_default();
                if *w != got_n {
                    changes.push(change(
                        field,
                        ConfigCode::ConfigCommand,
                        words(&Some(w.clone())),
                        words(got),
                    ));
                }
            }
            None => {
                // An entrypoint set by compose clears the image's command.
                if field == "command" && entrypoint_declared {
                    continue;
                }
                match image_default {
                    Some(d) => {
                        let norm = |w: &Option<Vec<String>>| w.clone().unwrap_or_default();
                        if norm(d) != norm(got) {
                            changes.push(change(
                                field,
                                ConfigCode::ConfigCommand,
                                format!("the image's {}", words(d)),
                                words(got),
                            ));
                        }
                    }
                    None => {
                        warnings.push(not_verified(field, "the image's defaults were not read"))
                    }
                }
            }
        }
    }

    // restart
    match &desired.restart {
        Some(Known::Unknown(why)) => warnings.push(not_verified("restart", why)),
        d => {
            let want = match d {
                Some(Known::Value(v)) if !v.is_empty() => v.as_str(),
                _ => "no",
            };
            if want != obs.restart {
                changes.push(change(
                    "restart",
                    ConfigCode::ConfigRestart,
                    want,
                    obs.restart.clone(),
                ));
            }
        }
    }

    // labels
    for (key, want) in &desired.labels {
        let field = format!("labels.{key}");
        match want {
            Known::Unknown(why) => warnings.push(not_verified(&field, why)),
            Known::Value(v) => match obs.labels.get(key) {
                Some(o) if o == v => {}
                Some(o) => changes.push(change(
                    field,
                    ConfigCode::ConfigLabels,
                    v.clone(),
                    o.clone(),
                )),
                None => changes.push(change(
                    field,
                    ConfigCode::ConfigLabels,
                    v.clone(),
                    "(unset)",
                )),
            },
        }
    }
    if let Some(i) = img {
        for (key, o) in &obs.labels {
            if desired.labels.contains_key(key)
                || key.starts_with(labels::PREFIX)
                || i.labels.get(key) == Some(o)
            {
                continue;
            }
            changes.push(change(
                format!("labels.{key}"),
                ConfigCode::ConfigLabels,
                "(not set by compose or the image)",
                o.clone(),
            ));
        }
    }

    // mounts
    let working_dir = c.label("com.docker.compose.project.working_dir");
    for (target, want) in &desired.mounts {
        let field = format!("mounts.{target}");
        let w = match want {
            Known::Unknown(why) => {
                warnings.push(not_verified(&field, why));
                continue;
            }
            Known::Value(w) => w,
        };
        let source = match w.kind.as_str() {
            "bind" if w.source.starts_with('/') => w.source.clone(),
            "bind" if w.source.starts_with('~') => {
                warnings.push(not_verified(
                    &field,
                    "a bind under `~` depends on the host user's home",
                ));
                continue;
            }
            "bind" => match working_dir {
                Some(dir) => normalize_path(&format!("{dir}/{}", w.source)),
                None => {
                    warnings.push(not_verified(
                        &field,
                        "a relative bind path, and the container does not say its project directory",
                    ));
                    continue;
                }
            },
            "volume" if w.source.is_empty() => String::new(),
            "volume" => w
                .volume_name
                .clone()
                .unwrap_or_else(|| format!("{project}_{}", w.source)),
            _ => String::new(),
        };
        let describe = |kind: &str, source: &str, ro: bool| {
            let mut s = if source.is_empty() {
                kind.to_string()
            } else {
                format!("{kind} {source}")
            };
            if ro {
                s.push_str(" (read-only)");
            }
            s
        };
        match obs.mounts.get(target) {
            None => changes.push(change(
                field,
                ConfigCode::ConfigMounts,
                describe(&w.kind, &source, w.read_only),
                "(not mounted)",
            )),
            Some(m) => {
                let same_source = source.is_empty() || m.source == source;
                if m.kind != w.kind || !same_source || m.read_only != w.read_only {
                    changes.push(change(
                        field,
                        ConfigCode::ConfigMounts,
                        describe(&w.kind, &source, w.read_only),
                        describe(&m.kind, &m.source, m.read_only),
                    ));
                }
            }
        }
    }
    for (target, m) in &obs.mounts {
        if desired.mounts.contains_key(target) {
            continue;
        }
        // An image's VOLUME gives an anonymous volume (a 64-hex name): not drift.
        let anonymous = m.kind == "volume"
            && m.source.len() == 64
            && m.source.bytes().all(|b| b.is_ascii_hexdigit());
        if anonymous || m.kind == "tmpfs" {
            continue;
        }
        changes.push(change(
            format!("mounts.{target}"),
            ConfigCode::ConfigMounts,
            "(not mounted)",
            format!("{} {}", m.kind, m.source),
        ));
    }

    // networks
    match &desired.network_mode {
        Some(mode) => {
            let got = &obs.network_mode;
            let same = got == mode || (mode == "bridge" && (got == "default" || got == "bridge"));
            if !same {
                changes.push(change(
                    "networks",
                    ConfigCode::ConfigNetworks,
                    format!("network_mode {mode}"),
                    format!("network_mode {got}"),
                ));
            }
        }
        None => {
            let want: BTreeSet<String> = match &desired.networks {
                None => [format!("{project}_default")].into_iter().collect(),
                Some(list) => list
                    .iter()
                    .map(|n| {
                        n.name
                            .clone()
                            .unwrap_or_else(|| format!("{project}_{}", n.key))
                    })
                    .collect(),
            };
            let got: BTreeSet<String> = if matches!(obs.network_mode.as_str(), "none" | "host") {
                [format!("network_mode {}", obs.network_mode)]
                    .into_iter()
                    .collect()
            } else {
                obs.networks.clone()
            };
            if want != got {
                let show = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
                changes.push(change(
                    "networks",
                    ConfigCode::ConfigNetworks,
                    show(&want),
                    if got.is_empty() {
                        "(none)".into()
                    } else {
                        show(&got)
                    },
                ));
            }
        }
    }
    (changes, warnings)
}

/// `/a/./b/../c` → `/a/c` (no file system access: the path is on the host).
fn normalize_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use platformctl_evidence::{
        ContainerConfig, ContainerState, ImageConfig, Mount, PublishedPort, env_digest,
    };
    use platformctl_model::config::{MountSpec, NetworkSpec, PortSpec};
    use std::collections::BTreeMap;

    fn container(cfg: ContainerConfig) -> Container {
        let mut labels = BTreeMap::new();
        labels.insert(labels::PROJECT.to_string(), "hp".to_string());
        labels.insert(labels::SERVICE.to_string(), "web".to_string());
        labels.insert(
            "com.docker.compose.project.working_dir".to_string(),
            "/srv/hp/compose".to_string(),
        );
        Container {
            id: "c".into(),
            name: "hp-web-1".into(),
            labels,
            state: ContainerState::Running,
            health: None,
            image_ref: "web:1".into(),
            image_id: "sha256:i".into(),
            config: Some(cfg),
        }
    }

    fn image() -> Image {
        Image {
            id: "sha256:i".into(),
            repo_tags: vec![],
            repo_digests: vec![],
            source_url: None,
            config: Some(ImageConfig {
                env: [("PATH".to_string(), env_digest("/bin"))]
                    .into_iter()
                    .collect(),
                cmd: Some(vec!["/bin/sh".into()]),
                entrypoint: None,
                labels: [(
                    "org.opencontainers.image.version".to_string(),
                    "1".to_string(),
                )]
                .into_iter()
                .collect(),
            }),
        }
    }

    /// A container exactly as the service below declares it.
    fn faithful() -> (ServiceConfig, ContainerConfig) {
        let mut d = ServiceConfig::default();
        d.env.insert("LOG".into(), Known::Value(env_digest("info")));
        d.command = Some(Known::Value(vec!["sleep".into(), "1".into()]));
        d.ports = Some(Known::Value(
            [PortSpec {
                host_ip: String::new(),
                host_port: "8080".into(),
                container_port: 80,
                protocol: "tcp".into(),
            }]
            .into_iter()
            .collect(),
        ));
        d.mounts.insert(
            "/data".into(),
            Known::Value(MountSpec {
                kind: "bind".into(),
                source: "./data".into(),
                read_only: false,
                volume_name: None,
            }),
        );
        d.mounts.insert(
            "/db".into(),
            Known::Value(MountSpec {
                kind: "volume".into(),
                source: "db".into(),
                read_only: true,
                volume_name: None,
            }),
        );
        d.restart = Some(Known::Value("unless-stopped".into()));
        d.labels
            .insert("traefik.enable".into(), Known::Value("true".into()));
        d.networks = Some(vec![NetworkSpec {
            key: "backend".into(),
            name: None,
        }]);
        let o = ContainerConfig {
            env: [
                ("LOG".to_string(), env_digest("info")),
                ("PATH".to_string(), env_digest("/bin")),
            ]
            .into_iter()
            .collect(),
            cmd: Some(vec!["sleep".into(), "1".into()]),
            entrypoint: None,
            labels: [
                ("traefik.enable".to_string(), "true".to_string()),
                (
                    "org.opencontainers.image.version".to_string(),
                    "1".to_string(),
                ),
            ]
            .into_iter()
            .collect(),
            ports: [PublishedPort {
                host_ip: "0.0.0.0".into(),
                host_port: "8080".into(),
                container_port: 80,
                protocol: "tcp".into(),
            }]
            .into_iter()
            .collect(),
            mounts: [
                (
                    "/data".to_string(),
                    Mount {
                        kind: "bind".into(),
                        source: "/srv/hp/compose/data".into(),
                        read_only: false,
                    },
                ),
                (
                    "/db".to_string(),
                    Mount {
                        kind: "volume".into(),
                        source: "hp_db".into(),
                        read_only: true,
                    },
                ),
                (
                    "/anon".to_string(),
                    Mount {
                        kind: "volume".into(),
                        source: "a".repeat(64),
                        read_only: false,
                    },
                ),
            ]
            .into_iter()
            .collect(),
            restart: "unless-stopped".into(),
            network_mode: "hp_backend".into(),
            networks: ["hp_backend".to_string()].into_iter().collect(),
        };
        (d, o)
    }

    fn codes(d: &ServiceConfig, o: ContainerConfig) -> Vec<(String, &'static str)> {
        let (ch, _) = compare_config(d, &container(o), Some(&image()));
        ch.into_iter().map(|c| (c.field, c.code.as_str())).collect()
    }

    #[test]
    fn a_faithful_container_is_in_sync() {
        let (d, o) = faithful();
        assert_eq!(codes(&d, o), vec![]);
    }

    #[test]
    fn each_field_drifts_when_it_differs() {
        let (d, o) = faithful();
        type Mutation = Box<dyn Fn(&mut ContainerConfig)>;
        let cases: Vec<(Mutation, &str, &str)> = vec![
            (
                Box::new(|o| {
                    if let Some(p) = o.ports.iter().next().cloned() {
                        o.ports.remove(&p);
                        o.ports.insert(PublishedPort {
                            host_port: "9090".into(),
                            ..p
                        });
                    }
                }),
                "ports",
                "CONFIG_PORTS",
            ),
            (
                Box::new(|o| {
                    o.env.insert("LOG".into(), env_digest("debug"));
                }),
                "env.LOG",
                "CONFIG_ENV",
            ),
            (
                Box::new(|o| {
                    o.env.insert("EXTRA".into(), env_digest("1"));
                }),
                "env.EXTRA",
                "CONFIG_ENV",
            ),
            (
                Box::new(|o| {
                    o.env.remove("LOG");
                }),
                "env.LOG",
                "CONFIG_ENV",
            ),
            (
                Box::new(|o| {
                    o.mounts.get_mut("/data").unwrap().source = "/elsewhere".into();
                }),
                "mounts./data",
                "CONFIG_MOUNTS",
            ),
            (
                Box::new(|o| {
                    o.mounts.get_mut("/db").unwrap().read_only = false;
                }),
                "mounts./db",
                "CONFIG_MOUNTS",
            ),
            (
                Box::new(|o| {
                    o.mounts.insert(
                        "/x".into(),
                        Mount {
                            kind: "bind".into(),
                            source: "/x".into(),
                            read_only: false,
                        },
                    );
                }),
                "mounts./x",
                "CONFIG_MOUNTS",
            ),
            (
                Box::new(|o| {
                    o.cmd = Some(vec!["sh".into()]);
                }),
                "command",
                "CONFIG_COMMAND",
            ),
            (
                Box::new(|o| {
                    o.restart = "always".into();
                }),
                "restart",
                "CONFIG_RESTART",
            ),
            (
                Box::new(|o| {
                    o.labels.insert("traefik.enable".into(), "false".into());
                }),
                "labels.traefik.enable",
                "CONFIG_LABELS",
            ),
            (
                Box::new(|o| {
                    o.labels.insert("extra".into(), "1".into());
                }),
                "labels.extra",
                "CONFIG_LABELS",
            ),
            (
                Box::new(|o| {
                    o.networks.clear();
                }),
                "networks",
                "CONFIG_NETWORKS",
            ),
        ];
        for (mutate, field, code) in cases {
            let mut o2 = o.clone();
            mutate(&mut o2);
            assert_eq!(codes(&d, o2), vec![(field.to_string(), code)], "{field}");
        }
    }

    #[test]
    fn image_defaults_are_not_drift_and_unknowns_are_warnings() {
        let (mut d, mut o) = faithful();
        // compose sets no command: the image's.
        d.command = None;
        o.cmd = Some(vec!["/bin/sh".into()]);
        assert_eq!(codes(&d, o.clone()), vec![]);
        // A host-only value: not verified, never drift.
        d.env
            .insert("SECRET".into(), Known::Unknown("host only".into()));
        o.env.insert("SECRET".into(), env_digest("hunter2"));
        let (ch, w) = compare_config(&d, &container(o.clone()), Some(&image()));
        assert!(ch.is_empty(), "{ch:?}");
        assert!(
            w.iter()
                .any(|w| w.code == WarningCode::ConfigNotVerified
                    && w.message.contains("env.SECRET"))
        );
        // A relative bind without the project directory label: not verified.
        let mut c = container(o.clone());
        c.labels.remove("com.docker.compose.project.working_dir");
        let (ch, w) = compare_config(&d, &c, Some(&image()));
        assert!(ch.is_empty(), "{ch:?}");
        assert!(w.iter().any(|w| w.message.contains("mounts./data")));
        // An env_file kept on the host: an extra variable is not verified, not drift.
        d.env_incomplete = Some("env_file on the host".into());
        o.env.insert("FROM_FILE".into(), env_digest("x"));
        let (ch, _) = compare_config(&d, &container(o), Some(&image()));
        assert!(ch.is_empty(), "{ch:?}");
    }

    #[test]
    fn no_value_is_ever_in_a_change() {
        let (d, mut o) = faithful();
        o.env.insert("LOG".into(), env_digest("debug"));
        o.env.insert("TOKEN".into(), env_digest("s3cr3t"));
        let (ch, _) = compare_config(&d, &container(o), Some(&image()));
        let text = serde_json::to_string(&ch).unwrap();
        for v in ["debug", "info", "s3cr3t", "sha256:"] {
            assert!(!text.contains(v), "{v} in {text}");
        }
    }
}
