//! Typed observations of a Docker host, and the decoding of the engine's answers into them.
//!
//! This is the vocabulary between platformctl's **observe** stage (which talks to hosts over
//! SSH or a local socket) and its **compare** stage (which judges drift). The observe stage
//! asks each host's engine a handful of read-only questions and hands the raw JSON answers to
//! [`decode`]; the result is a [`HostEvidence`]: the host's containers and the images they run,
//! reduced to what drift rules need (SPEC §5):
//!
//! - a [`Container`]: id, name, its `com.docker.compose.*` labels (and no other label: labels
//!   can hold anything, and nothing else is needed), state, health, the reference it was created
//!   from and the ID of the image it runs;
//! - an [`Image`]: its ID, `RepoTags` and `RepoDigests`, with Docker's `<none>:<none>` and
//!   `<none>@<none>` placeholders dropped.
//!
//! The crate is pure: no I/O, no async runtime. Decoding borrows from the answer where it can
//! and never builds a generic JSON tree, so a host with thousands of containers decodes in a
//! few milliseconds and in little more memory than the answer itself. Decoding never panics,
//! whatever the bytes, and its errors ([`DecodeError`]) say which answer and where it went
//! wrong without ever repeating a value from it (labels and environment can hold secrets).
//!
//! ```
//! use platformctl_evidence::{ContainerState, HostEvidence, decode};
//!
//! let containers = br#"[{"Id":"4f1c","Names":["/home-platform-redis-1"],"Image":"redis:7",
//!   "ImageID":"sha256:aa","State":"running","Status":"Up 2 hours (healthy)",
//!   "Labels":{"com.docker.compose.project":"home-platform",
//!             "com.docker.compose.service":"redis","maintainer":"someone"}}]"#;
//! let images = br#"[{"Id":"sha256:aa","RepoTags":["redis:7"],
//!   "RepoDigests":["redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]}]"#;
//! let host = HostEvidence::new(decode::api_containers(containers)?, decode::api_images(images)?);
//! let redis = &host.containers[0];
//! assert_eq!(redis.name, "home-platform-redis-1");
//! assert_eq!(redis.service(), Some("redis"));
//! assert_eq!(redis.state, ContainerState::Running);
//! assert!(!redis.labels.contains_key("maintainer"));
//! assert_eq!(host.image(&redis.image_id).unwrap().repo_tags, ["redis:7"]);
//! # Ok::<(), platformctl_evidence::DecodeError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

pub mod decode;

pub use decode::{Answer, DecodeError};

/// The compose labels platformctl reads.
pub mod labels {
    /// Every label kept on a [`Container`](crate::Container) starts with this.
    pub const PREFIX: &str = "com.docker.compose.";
    /// The compose project.
    pub const PROJECT: &str = "com.docker.compose.project";
    /// The compose service.
    pub const SERVICE: &str = "com.docker.compose.service";
    /// `"True"` on containers of `docker compose run`.
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
    /// The replica number (`1` for a service that is not scaled).
    pub const NUMBER: &str = "com.docker.compose.container-number";
}

/// Everything observed on one host: its containers and the images they run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostEvidence {
    /// The containers, in the order the engine listed them.
    pub containers: Vec<Container>,
    /// The images the containers run, one per ID, sorted by ID.
    pub images: Vec<Image>,
    /// The engine's platform (`GET /version`: `Os`, `Arch`, `Variant`), when it was asked
    /// (the Engine API path asks it; the `docker inspect` fallback does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// A platform as OCI image indexes name them: `linux/arm64/v8`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, `arm`, … (Go's names, as the engine and indexes write them).
    pub architecture: String,
    /// `v7`, `v8`, … when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// A platform, with the names normalised as containerd does (`x86_64` = `amd64`,
    /// `aarch64` = `arm64`; `arm64` without a variant is `v8`, `arm` without one `v7`).
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let os = os.trim().to_ascii_lowercase();
        let arch = match architecture.trim().to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_owned(),
            "aarch64" => "arm64".to_owned(),
            "i386" | "i686" => "386".to_owned(),
            "armhf" | "armv7l" => "arm".to_owned(),
            other => other.to_owned(),
        };
        let variant = variant
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty());
        let variant = match (arch.as_str(), variant) {
            ("arm64", None) => Some("v8".to_owned()),
            ("arm", None) => Some("v7".to_owned()),
            ("arm64", Some(v)) if v == "8" => Some("v8".to_owned()),
            (_, v) => v,
        };
        Platform {
            os,
            architecture: arch,
            variant,
        }
    }

    /// Whether an index entry for `other` is an image for this platform. A variant only one
    /// side names is not held against the match (an engine's `/version` rarely names one for
    /// `amd64`, while indexes may write `amd64/v2`, …).
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl HostEvidence {
    /// Keeps only the images the containers use (deduplicated by id).
    pub fn new(containers: Vec<Container>, images: Vec<Image>) -> Self {
        let used: BTreeSet<&str> = containers.iter().map(|c| c.image_id.as_str()).collect();
        let mut images: Vec<Image> = images
            .into_iter()
            .filter(|i| used.contains(i.id.as_str()))
            .collect();
        images.sort_by(|a, b| a.id.cmp(&b.id));
        images.dedup_by(|a, b| a.id == b.id);
        HostEvidence {
            containers,
            images,
            platform: None,
        }
    }

    /// Decodes the two Engine API answers (`GET /containers/json?all=1` and
    /// `GET /images/json?digests=1`) into evidence.
    pub fn from_api(containers_json: &[u8], images_json: &[u8]) -> Result<Self, DecodeError> {
        Ok(HostEvidence::new(
            decode::api_containers(containers_json)?,
            decode::api_images(images_json)?,
        ))
    }

    /// Decodes the two `docker inspect` answers (`docker inspect --type container ID…` and
    /// `docker image inspect ID…`) into evidence.
    pub fn from_cli(containers_json: &[u8], images_json: &[u8]) -> Result<Self, DecodeError> {
        Ok(HostEvidence::new(
            decode::cli_containers(containers_json)?,
            decode::cli_images(images_json)?,
        ))
    }

    /// The image with this ID (`sha256:…`), if it was observed. Fast on evidence built by
    /// [`HostEvidence::new`] (images sorted by ID); still right on evidence built by hand.
    pub fn image(&self, id: &str) -> Option<&Image> {
        match self.images.binary_search_by(|i| i.id.as_str().cmp(id)) {
            Ok(at) => Some(&self.images[at]),
            Err(_) => self.images.iter().find(|i| i.id == id),
        }
    }

    /// The image a container runs, if it was observed.
    pub fn image_of(&self, container: &Container) -> Option<&Image> {
        self.image(&container.image_id)
    }
}

/// Whether `s` is an image ID: `sha256:` and 64 lowercase hex digits.
pub fn is_image_id(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// One container, as the engine reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Container {
    /// The full container ID.
    pub id: String,
    /// The name, without the leading `/`.
    pub name: String,
    /// Only the labels starting with `com.docker.compose.` ([`labels::PREFIX`]).
    pub labels: BTreeMap<String, String>,
    /// The state.
    pub state: ContainerState,
    /// The health, when the container has a health check and it has reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// The reference the container was created from (`Config.Image`). The list API's `Image`
    /// field is the same, except that Docker replaces it by the image ID (`sha256:…`) when that
    /// reference has since moved to another image; never rely on it being a reference.
    pub image_ref: String,
    /// The ID of the image the container runs (`sha256:…`).
    pub image_id: String,
    /// Its configuration, from its full inspect (`None` when only the list was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
}

/// A container's configuration as config drift compares it (SPEC §9), from its inspect.
/// Environment values are never kept: only the digest of each ([`env_digest`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContainerConfig {
    /// `Config.Env`: name → [`env_digest`] of the value.
    pub env: BTreeMap<String, String>,
    /// `Config.Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Config.Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// Every label that is not `com.docker.compose.*` (the image's labels included, as the
    /// engine merges them).
    pub labels: BTreeMap<String, String>,
    /// `HostConfig.PortBindings`: what was asked to be published.
    pub ports: BTreeSet<PublishedPort>,
    /// `Mounts`, by target path.
    pub mounts: BTreeMap<String, Mount>,
    /// `HostConfig.RestartPolicy.Name` (`no` when empty).
    pub restart: String,
    /// `HostConfig.NetworkMode` (`default`, `bridge`, `none`, `host`, a network name).
    pub network_mode: String,
    /// The networks the container is attached to (`NetworkSettings.Networks`).
    pub networks: BTreeSet<String>,
}

/// One published port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PublishedPort {
    /// The host address (`""` for all).
    pub host_ip: String,
    /// The host port (`""` for an ephemeral one).
    pub host_port: String,
    /// The container port.
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

impl fmt::Display for PublishedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.host_ip.is_empty() {
            write!(f, "{}:", self.host_ip)?;
        }
        if !self.host_port.is_empty() {
            write!(f, "{}:", self.host_port)?;
        }
        write!(f, "{}/{}", self.container_port, self.protocol)
    }
}

/// One mount of a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// `bind`, `volume`, `tmpfs`, …
    pub kind: String,
    /// The host path of a bind, the volume's name of a volume.
    pub source: String,
    /// Whether it is read-only.
    pub read_only: bool,
}

/// An image's own defaults (`Config`): what a container gets when compose does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImageConfig {
    /// `Config.Env`: name → [`env_digest`] of the value.
    pub env: BTreeMap<String, String>,
    /// `Config.Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Config.Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `Config.Labels`.
    pub labels: BTreeMap<String, String>,
}

pub use platformctl_secrets::env_digest;

/// `NAME=value` entries as name → digest (an entry without `=` is a name with an empty value).
pub fn env_digests<'a>(entries: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    entries
        .into_iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_string(), env_digest(v)),
            None => (e.to_string(), env_digest("")),
        })
        .collect()
}

impl Container {
    /// Whether `image_ref` is an image ID (`sha256:` and 64 hex digits) rather than a
    /// reference: what the list API shows once the tag the container was created from has
    /// moved to another image. The container's own inspect still has the reference.
    pub fn image_ref_is_id(&self) -> bool {
        is_image_id(&self.image_ref)
    }

    /// The `com.docker.compose.project` label.
    pub fn project(&self) -> Option<&str> {
        self.label(labels::PROJECT)
    }

    /// The `com.docker.compose.service` label.
    pub fn service(&self) -> Option<&str> {
        self.label(labels::SERVICE)
    }

    /// Whether this is a `docker compose run` container (label `com.docker.compose.oneoff` is
    /// `True`).
    pub fn is_oneoff(&self) -> bool {
        self.label(labels::ONEOFF) == Some("True")
    }

    /// The replica number (label `com.docker.compose.container-number`).
    pub fn number(&self) -> Option<u32> {
        self.label(labels::NUMBER)?.parse().ok()
    }

    /// A compose label (any other label was not kept).
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// The first 12 characters of the ID, as `docker ps` prints it.
    pub fn short_id(&self) -> &str {
        short(&self.id)
    }
}

/// The first 12 characters of an ID (after `sha256:` for image IDs).
pub fn short(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    match id.char_indices().nth(12) {
        Some((at, _)) => &id[..at],
        None => id,
    }
}

/// A container's state (`State.Status` in `docker inspect`, `State` in the list API).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContainerState {
    /// Created, never started.
    Created,
    /// Running.
    Running,
    /// Paused (its processes are frozen).
    Paused,
    /// Being restarted by its restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Stopped.
    Exited,
    /// Failed to stop or be removed.
    Dead,
    /// A state this version does not know (kept as written, at most 64 characters).
    Other(String),
}

impl ContainerState {
    /// The longest unknown state kept.
    const MAX_OTHER: usize = 64;

    /// Reads the engine's word for a state (any case).
    pub fn parse(s: &str) -> Self {
        const KNOWN: [(&str, ContainerState); 7] = [
            ("created", ContainerState::Created),
            ("running", ContainerState::Running),
            ("paused", ContainerState::Paused),
            ("restarting", ContainerState::Restarting),
            ("removing", ContainerState::Removing),
            ("exited", ContainerState::Exited),
            ("dead", ContainerState::Dead),
        ];
        for (word, state) in KNOWN {
            if s.eq_ignore_ascii_case(word) {
                return state;
            }
        }
        let end = s
            .char_indices()
            .nth(Self::MAX_OTHER)
            .map_or(s.len(), |(at, _)| at);
        ContainerState::Other(s[..end].to_string())
    }

    /// The engine's word: `running`, `exited`, …
    pub fn as_str(&self) -> &str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Other(s) => s,
        }
    }
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ContainerState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A container's health-check verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Within its start period, not yet healthy.
    Starting,
    /// Healthy.
    Healthy,
    /// Unhealthy.
    Unhealthy,
}

impl Health {
    /// Reads the engine's word (`starting`, `healthy`, `unhealthy`; `none` and anything else
    /// are no health).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "starting" => Some(Health::Starting),
            "healthy" => Some(Health::Healthy),
            "unhealthy" => Some(Health::Unhealthy),
            _ => None,
        }
    }

    /// The engine's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An image, as the engine reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Image {
    /// The image ID (`sha256:…`): the digest of its configuration, which is NOT the manifest
    /// digest a registry serves (with the containerd image store it may be; never rely on it).
    pub id: String,
    /// Its tags (`redis:7`), without `<none>:<none>`.
    pub repo_tags: Vec<String>,
    /// The manifests it was pulled as (`redis@sha256:…`), in no meaningful order, without
    /// `<none>@<none>`. Empty for an image built or loaded locally.
    pub repo_digests: Vec<String>,
    /// Where the image says its source lives: its `org.opencontainers.image.source` label, or
    /// else the older `org.label-schema.vcs-url`.
    pub source_url: Option<String>,
    /// Its defaults (`docker image inspect`, or `GET /images/{id}/json`); `None` when only
    /// the image list was read.
    pub config: Option<ImageConfig>,
}
