//! What a compose service declares beyond its image (SPEC §9), after interpolation and with
//! compose's normalisations applied where they need nothing from the host. Config drift
//! (`platformctl-compare`) holds a container's inspect against it.
//!
//! Each field is `None` when the service does not set it (the image's default or compose's
//! applies), and [`Known::Unknown`] when it cannot be known here: a variable that only the
//! host's environment or `.env` sets, an `env_file` not in the repo. Environment values are
//! kept only as digests (`platformctl_secrets::env_digest`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// A value, or why it cannot be known locally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Known<T> {
    /// The value.
    Value(T),
    /// Why it cannot be known here (becomes `CONFIG_NOT_VERIFIED`).
    Unknown(String),
}

/// A service's declared configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfig {
    /// `environment:` and `env_file:` merged (environment wins): name → value digest.
    pub env: BTreeMap<String, Known<String>>,
    /// Why the full set of variables is not known (an `env_file` missing from the repo): then
    /// a variable on the container that compose does not name is not drift either.
    pub env_incomplete: Option<String>,
    /// `command:` as words.
    pub command: Option<Known<Vec<String>>>,
    /// `entrypoint:` as words.
    pub entrypoint: Option<Known<Vec<String>>>,
    /// `ports:` (published ones only; `expose` is not publishing).
    pub ports: Option<Known<BTreeSet<PortSpec>>>,
    /// `volumes:` by container target.
    pub mounts: BTreeMap<String, Known<MountSpec>>,
    /// `restart:`.
    pub restart: Option<Known<String>>,
    /// `labels:`.
    pub labels: BTreeMap<String, Known<String>>,
    /// `networks:` (names as written, before the project prefix); `None` when unset (the
    /// project's `default` network).
    pub networks: Option<Vec<NetworkSpec>>,
    /// `network_mode:`.
    pub network_mode: Option<String>,
}

/// One published port, as compose normalises it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSpec {
    /// The host address (`""`: all).
    pub host_ip: String,
    /// The host port (`""`: an ephemeral one).
    pub host_port: String,
    /// The container port.
    pub container_port: u16,
    /// `tcp` (the default), `udp` or `sctp`.
    pub protocol: String,
}

/// One mount, as compose normalises it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MountSpec {
    /// `bind`, `volume` or `tmpfs`.
    pub kind: String,
    /// For a bind, the host path as written after interpolation (`./data` stays relative:
    /// the host's project directory resolves it); for a volume its name before the project
    /// prefix (empty: an anonymous volume); for tmpfs empty.
    pub source: String,
    /// Read-only.
    pub read_only: bool,
    /// For a named volume: the name compose gives it on the engine when the top-level
    /// `volumes:` entry says (`name:` or `external: true`); otherwise `<project>_<source>`.
    pub volume_name: Option<String>,
}

/// One network of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSpec {
    /// The network's key in the service.
    pub key: String,
    /// Its engine name when the top-level `networks:` entry says (`name:` or `external`);
    /// otherwise `<project>_<key>`.
    pub name: Option<String>,
}
