//! Decoding of the engine's JSON answers into [`Container`]s and [`Image`]s.
//!
//! Five answers are understood, three from the Engine API and two from the `docker` CLI (for
//! hosts reached by running `docker` over SSH):
//!
//! | function | answer |
//! |---|---|
//! | [`api_containers`] | `GET /containers/json?all=1` |
//! | [`api_images`] | `GET /images/json?digests=1` |
//! | [`api_container`] | `GET /containers/{id}/json` |
//! | [`cli_containers`] | `docker inspect --type container ID…` |
//! | [`cli_images`] | `docker image inspect ID…` |
//!
//! Each decodes into small structs that borrow the answer's strings where they can; unknown
//! fields are skipped without being built (so `Config.Env`, `Mounts`, `NetworkSettings`… cost
//! nothing), and only `com.docker.compose.*` labels are kept (of an image's labels, only the two
//! that name its source). Decoding is liberal where the
//! engine is: `null` for a list, a map or a string is the same as empty or absent, `<none>:<none>`
//! tags and `<none>@<none>` digests are dropped, a missing `State` is read from the `Status`
//! text, health is read from `Health.Status` (API ≥ 1.52, `docker inspect`) or else from the
//! `Status` text (`Up 5 minutes (healthy)`, `(unhealthy)`, `(health: starting)`).
//!
//! Only an item's `Id` is required. Anything that is not JSON, or not the shape of the answer,
//! is a [`DecodeError`].

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::{Container, ContainerState, Health, Image, labels};

/// `GET /containers/json?all=1`: the Engine API's container list (`Names` `["/x"]`, `Image`,
/// `ImageID`, `Labels`, `State`, `Status`, and from API 1.52 `Health`).
pub fn api_containers(json: &[u8]) -> Result<Vec<Container>, DecodeError> {
    decode_list(Answer::ApiContainers, json, |c: ApiContainer<'_>| {
        let status = c.status.as_ref().map(|s| s.0.as_ref());
        let state = match c.state.as_ref().map(|s| s.0.as_ref()) {
            Some(s) if !s.is_empty() => ContainerState::parse(s),
            _ => status
                .and_then(state_from_status)
                .unwrap_or_else(|| ContainerState::Other("unknown".into())),
        };
        let health = c
            .health
            .and_then(|h| h.status)
            .and_then(|s| Health::parse(&s.0))
            .or_else(|| status.and_then(health_from_status));
        Container {
            id: c.id.0.into_owned(),
            name: c.names.0.unwrap_or_default(),
            labels: c.labels.0,
            state,
            health,
            image_ref: owned(c.image),
            image_id: owned(c.image_id),
            config: None,
        }
    })
}

/// `GET /images/json?digests=1`: the Engine API's image list (`Id`, `RepoTags`, `RepoDigests`,
/// and of `Labels` only the source ones).
pub fn api_images(json: &[u8]) -> Result<Vec<Image>, DecodeError> {
    decode_list(Answer::ApiImages, json, RawImage::into_image)
}

/// `docker inspect --type container ID…`: an array of `Id`, `Name` (`/x`), `Image` (the image
/// ID), `Config.Image`, `Config.Labels`, `State.Status`, `State.Health.Status`.
pub fn cli_containers(json: &[u8]) -> Result<Vec<Container>, DecodeError> {
    decode_list(Answer::CliContainers, json, CliContainer::into_container)
}

/// `GET /containers/{id}/json`: one container's inspect, the same object `docker inspect`
/// gives (`Id`, `Name`, `Image`, `Config.Image`, `Config.Labels`, `State`). The list API names
/// a container's image by its ID once the tag it was created from has moved; this answer still
/// has the reference (`Config.Image`).
pub fn api_container(json: &[u8]) -> Result<Container, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    CliContainer::deserialize(&mut de)
        .and_then(|c| de.end().map(|()| c.into_container()))
        .map_err(|e| DecodeError::new(Answer::ApiContainer, &e, None))
}

impl CliContainer<'_> {
    fn into_container(self) -> Container {
        let c = self;
        let (image_ref, mut all_labels, env, cmd, entrypoint) = match c.config {
            Some(cfg) => (
                owned(cfg.image),
                cfg.labels.0,
                cfg.env.0,
                cfg.cmd.0,
                cfg.entrypoint.0,
            ),
            None => (String::new(), BTreeMap::new(), Vec::new(), None, None),
        };
        let user_labels = all_labels.split_off(labels::PREFIX);
        let (compose_labels, rest): (BTreeMap<_, _>, BTreeMap<_, _>) = user_labels
            .into_iter()
            .partition(|(k, _)| k.starts_with(labels::PREFIX));
        all_labels.extend(rest);
        let labels = compose_labels;
        let host = c.host_config.unwrap_or_default();
        let mut ports = std::collections::BTreeSet::new();
        for (key, bindings) in host.port_bindings.unwrap_or_default() {
            let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            let Ok(container_port) = port.parse::<u16>() else {
                continue;
            };
            for b in bindings.unwrap_or_default() {
                ports.insert(crate::PublishedPort {
                    host_ip: b.host_ip.unwrap_or_default(),
                    host_port: b.host_port.unwrap_or_default(),
                    container_port,
                    protocol: proto.to_string(),
                });
            }
        }
        let mounts = c
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let kind = m.kind.unwrap_or_default();
                let source = if kind == "volume" {
                    m.name.or(m.source).unwrap_or_default()
                } else {
                    m.source.unwrap_or_default()
                };
                (
                    m.destination.unwrap_or_default(),
                    crate::Mount {
                        kind,
                        source,
                        read_only: !m.rw.unwrap_or(true),
                    },
                )
            })
            .collect();
        let restart = host
            .restart_policy
            .and_then(|r| r.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "no".to_string());
        let networks = c
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default();
        let config = crate::ContainerConfig {
            env: crate::env_digests(env.iter().map(String::as_str)),
            cmd,
            entrypoint,
            labels: all_labels,
            ports,
            mounts,
            restart,
            network_mode: host.network_mode.unwrap_or_default(),
            networks,
        };
        let (state, health) = match c.state {
            Some(s) => {
                let state = match s.status.as_ref().map(|s| s.0.as_ref()) {
                    Some(st) if !st.is_empty() => ContainerState::parse(st),
                    _ => match s.running {
                        Some(true) => ContainerState::Running,
                        Some(false) => ContainerState::Exited,
                        None => ContainerState::Other("unknown".into()),
                    },
                };
                let health = s
                    .health
                    .and_then(|h| h.status)
                    .and_then(|st| Health::parse(&st.0));
                (state, health)
            }
            None => (ContainerState::Other("unknown".into()), None),
        };
        let name = c.name.map(|n| n.0).unwrap_or_default();
        Container {
            id: c.id.0.into_owned(),
            name: name.strip_prefix('/').unwrap_or(&name).to_string(),
            labels,
            state,
            health,
            image_ref,
            image_id: owned(c.image),
            config: Some(config),
        }
    }
}

/// The engine's platform from its `GET /version` answer (`Os`, `Arch`, and `Variant` where an
/// engine writes one), or `None` when the answer does not say.
pub fn api_version_platform(json: &[u8]) -> Option<crate::Platform> {
    #[derive(Deserialize)]
    struct Version<'a> {
        #[serde(rename = "Os", borrow)]
        os: Option<Cow<'a, str>>,
        #[serde(rename = "Arch", borrow)]
        arch: Option<Cow<'a, str>>,
        #[serde(rename = "Variant", borrow, default)]
        variant: Option<Cow<'a, str>>,
    }
    let v: Version<'_> = serde_json::from_slice(json).ok()?;
    let (os, arch) = (v.os?, v.arch?);
    if os.is_empty() || arch.is_empty() {
        return None;
    }
    Some(crate::Platform::new(&os, &arch, v.variant.as_deref()))
}

/// `GET /images/{id}/json`: one image's inspect, the same object `docker image inspect` gives.
pub fn api_image(json: &[u8]) -> Result<Image, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    RawImage::deserialize(&mut de)
        .and_then(|i| de.end().map(|()| i.into_image()))
        .map_err(|e| DecodeError::new(Answer::ApiImage, &e, None))
}

/// `docker image inspect ID…`: an array of `Id`, `RepoTags`, `RepoDigests`, and of
/// `Config.Labels` only the source ones.
pub fn cli_images(json: &[u8]) -> Result<Vec<Image>, DecodeError> {
    decode_list(Answer::CliImages, json, RawImage::into_image)
}

/// Which engine answer a [`DecodeError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// `GET /containers/json`.
    ApiContainers,
    /// `GET /images/json`.
    ApiImages,
    /// `GET /containers/{id}/json`.
    ApiContainer,
    /// `GET /images/{id}/json`.
    ApiImage,
    /// `docker inspect --type container`.
    CliContainers,
    /// `docker image inspect`.
    CliImages,
}

impl Answer {
    /// The request, as an operator would type it.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::ApiContainers => "GET /containers/json",
            Answer::ApiImages => "GET /images/json",
            Answer::ApiContainer => "GET /containers/{id}/json",
            Answer::ApiImage => "GET /images/{id}/json",
            Answer::CliContainers => "docker inspect --type container",
            Answer::CliImages => "docker image inspect",
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An engine answer that could not be decoded: which answer, which item of its array, where
/// (line and column, 1-based) and what was wrong. The message never repeats a value from the
/// answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    answer: Answer,
    item: Option<usize>,
    line: usize,
    column: usize,
    message: String,
}

impl DecodeError {
    fn new(answer: Answer, e: &serde_json::Error, item: Option<usize>) -> Self {
        DecodeError {
            answer,
            item,
            line: e.line(),
            column: e.column(),
            message: describe(e),
        }
    }

    /// The answer that did not decode.
    pub fn answer(&self) -> Answer {
        self.answer
    }

    /// The index (0-based) of the array item being decoded, if the error was inside one.
    pub fn item(&self) -> Option<usize> {
        self.item
    }

    /// The line (1-based; 0 when unknown).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column (1-based; 0 when unknown).
    pub fn column(&self) -> usize {
        self.column
    }

    /// What was wrong, without the position and without any value from the answer.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode the answer to `{}`", self.answer)?;
        if let Some(i) = self.item {
            write!(f, " (item {i})")?;
        }
        write!(
            f,
            " at line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for DecodeError {}

/// serde_json's message, safe to show: syntax errors are fixed texts; data errors may quote the
/// offending value (`invalid type: string "…"`), so only their kind and expectation are kept.
fn describe(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(suffix.as_str()).unwrap_or(&full);
    match e.classify() {
        serde_json::error::Category::Io
        | serde_json::error::Category::Syntax
        | serde_json::error::Category::Eof => msg.to_string(),
        serde_json::error::Category::Data => describe_data(msg),
    }
}

fn describe_data(msg: &str) -> String {
    const KINDS: [&str; 15] = [
        "boolean",
        "integer",
        "floating",
        "character",
        "string",
        "byte",
        "unit",
        "null",
        "sequence",
        "map",
        "enum",
        "newtype",
        "tuple",
        "struct",
        "Option",
    ];
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let word: &str = rest
                .split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap_or("");
            let kind = if KINDS.contains(&word) { word } else { "value" };
            let kind = if kind == "floating" { "number" } else { kind };
            return match rest.rfind(", expected ") {
                Some(at) => format!("{prefix}{kind}{}", &rest[at..]),
                None => format!("{prefix}{kind}"),
            };
        }
    }
    // Field names in these messages are ours, never the answer's.
    for safe in ["missing field `", "duplicate field `", "invalid length "] {
        if msg.starts_with(safe) {
            return msg.to_string();
        }
    }
    "unexpected value".to_string()
}

/// Decodes a JSON array (or `null`, as empty) of `T`, converting each item as it comes.
fn decode_list<'de, T, U, F>(
    answer: Answer,
    json: &'de [u8],
    convert: F,
) -> Result<Vec<U>, DecodeError>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> U,
{
    let item = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(json);
    let visitor = ListVisitor {
        item: &item,
        convert,
        _t: PhantomData,
    };
    let decoded = (&mut de)
        .deserialize_option(visitor)
        .and_then(|list| de.end().map(|()| list));
    decoded.map_err(|e| DecodeError::new(answer, &e, item.get()))
}

struct ListVisitor<'c, T, F> {
    item: &'c Cell<Option<usize>>,
    convert: F,
    _t: PhantomData<fn() -> T>,
}

impl<'de, T, U, F> Visitor<'de> for ListVisitor<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> U,
{
    type Value = Vec<U>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut i = 0usize;
        loop {
            self.item.set(Some(i));
            match seq.next_element::<T>()? {
                Some(t) => out.push((self.convert)(t)),
                None => break,
            }
            i += 1;
        }
        self.item.set(None);
        Ok(out)
    }
}

/// A string borrowed from the answer when it has no escapes, owned otherwise.
#[derive(Deserialize)]
#[serde(transparent)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

fn owned(s: Option<Str<'_>>) -> String {
    s.map(|s| s.0.into_owned()).unwrap_or_default()
}

#[derive(Deserialize)]
struct ApiContainer<'a> {
    #[serde(rename = "Id", borrow)]
    id: Str<'a>,
    #[serde(rename = "Names", default)]
    names: PrimaryName,
    #[serde(rename = "Image", default, borrow)]
    image: Option<Str<'a>>,
    #[serde(rename = "ImageID", default, borrow)]
    image_id: Option<Str<'a>>,
    #[serde(rename = "Labels", default)]
    labels: ComposeLabels,
    #[serde(rename = "State", default, borrow)]
    state: Option<Str<'a>>,
    #[serde(rename = "Status", default, borrow)]
    status: Option<Str<'a>>,
    #[serde(rename = "Health", default, borrow)]
    health: Option<HealthObject<'a>>,
}

#[derive(Deserialize)]
struct HealthObject<'a> {
    #[serde(rename = "Status", default, borrow)]
    status: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct CliContainer<'a> {
    #[serde(rename = "Id", borrow)]
    id: Str<'a>,
    #[serde(rename = "Name", default, borrow)]
    name: Option<Str<'a>>,
    #[serde(rename = "Image", default, borrow)]
    image: Option<Str<'a>>,
    #[serde(rename = "Config", default, borrow)]
    config: Option<CliConfig<'a>>,
    #[serde(rename = "State", default, borrow)]
    state: Option<CliState<'a>>,
    #[serde(rename = "HostConfig", default)]
    host_config: Option<HostConfig>,
    #[serde(rename = "Mounts", default)]
    mounts: Option<Vec<RawMount>>,
    #[serde(rename = "NetworkSettings", default)]
    network_settings: Option<NetworkSettings>,
}

#[derive(Deserialize)]
struct CliConfig<'a> {
    #[serde(rename = "Image", default, borrow)]
    image: Option<Str<'a>>,
    #[serde(rename = "Labels", default)]
    labels: AllLabels,
    #[serde(rename = "Env", default)]
    env: StringList,
    #[serde(rename = "Cmd", default)]
    cmd: Words,
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Words,
}

/// `HostConfig` of a container inspect (what config drift reads of it).
#[derive(Deserialize, Default)]
struct HostConfig {
    #[serde(rename = "PortBindings", default)]
    port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    #[serde(rename = "RestartPolicy", default)]
    restart_policy: Option<RestartPolicy>,
    #[serde(rename = "NetworkMode", default)]
    network_mode: Option<String>,
}

#[derive(Deserialize)]
struct PortBinding {
    #[serde(rename = "HostIp", default)]
    host_ip: Option<String>,
    #[serde(rename = "HostPort", default)]
    host_port: Option<String>,
}

#[derive(Deserialize)]
struct RestartPolicy {
    #[serde(rename = "Name", default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawMount {
    #[serde(rename = "Type", default)]
    kind: Option<String>,
    #[serde(rename = "Name", default)]
    name: Option<String>,
    #[serde(rename = "Source", default)]
    source: Option<String>,
    #[serde(rename = "Destination", default)]
    destination: Option<String>,
    #[serde(rename = "RW", default)]
    rw: Option<bool>,
}

#[derive(Deserialize)]
struct NetworkSettings {
    #[serde(rename = "Networks", default)]
    networks: Option<BTreeMap<String, IgnoredAny>>,
}

/// `Cmd` / `Entrypoint`: `null`, an array of words, or (old engines) one string.
#[derive(Default)]
struct Words(Option<Vec<String>>);

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum W {
            List(Vec<Option<String>>),
            One(String),
        }
        Ok(Words(Option::<W>::deserialize(d)?.map(|w| match w {
            W::List(v) => v.into_iter().flatten().collect(),
            W::One(s) => vec![s],
        })))
    }
}

#[derive(Deserialize)]
struct CliState<'a> {
    #[serde(rename = "Status", default, borrow)]
    status: Option<Str<'a>>,
    #[serde(rename = "Running", default)]
    running: Option<bool>,
    #[serde(rename = "Health", default, borrow)]
    health: Option<HealthObject<'a>>,
}

#[derive(Deserialize)]
struct RawImage<'a> {
    #[serde(rename = "Id", borrow)]
    id: Str<'a>,
    #[serde(rename = "RepoTags", default)]
    repo_tags: StringList,
    #[serde(rename = "RepoDigests", default)]
    repo_digests: StringList,
    /// The image list's labels (`GET /images/json`).
    #[serde(rename = "Labels", default)]
    labels: SourceLabels,
    /// `docker image inspect` keeps them in `Config.Labels`.
    #[serde(rename = "Config", default)]
    config: Option<ImageConfig>,
}

#[derive(Deserialize)]
struct ImageConfig {
    #[serde(rename = "Labels", default)]
    labels: AllLabels,
    #[serde(rename = "Env", default)]
    env: StringList,
    #[serde(rename = "Cmd", default)]
    cmd: Words,
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Words,
}

impl RawImage<'_> {
    fn into_image(self) -> Image {
        let config = self.config.map(|c| crate::ImageConfig {
            env: crate::env_digests(c.env.0.iter().map(String::as_str)),
            cmd: c.cmd.0,
            entrypoint: c.entrypoint.0,
            labels: c.labels.0,
        });
        let from_config = config.as_ref().and_then(|c| source_url(&c.labels));
        Image {
            id: self.id.0.into_owned(),
            repo_tags: self.repo_tags.0,
            repo_digests: self.repo_digests.0,
            source_url: self.labels.url().or(from_config),
            config,
        }
    }
}

/// The source URL among all of an image's labels (as [`SourceLabels::url`]).
fn source_url(labels: &BTreeMap<String, String>) -> Option<String> {
    let mut kept = SourceLabels::default();
    for k in [OCI_SOURCE, LABEL_SCHEMA_VCS_URL] {
        if let Some(v) = labels.get(k) {
            kept.0.insert(k.to_string(), v.clone());
        }
    }
    kept.url()
}

/// The OCI `org.opencontainers.image.source` label.
const OCI_SOURCE: &str = "org.opencontainers.image.source";
/// Label Schema's older `org.label-schema.vcs-url`.
const LABEL_SCHEMA_VCS_URL: &str = "org.label-schema.vcs-url";

/// Which labels of a `Labels` map are kept; the others are skipped unread.
trait Keep {
    fn keep(key: &str) -> bool;
}

/// A container's `com.docker.compose.*` labels.
struct Compose;

impl Keep for Compose {
    fn keep(key: &str) -> bool {
        key.starts_with(labels::PREFIX)
    }
}

/// The two labels by which an image names its source.
struct Source;

impl Keep for Source {
    fn keep(key: &str) -> bool {
        key == OCI_SOURCE || key == LABEL_SCHEMA_VCS_URL
    }
}

/// The kept labels of a `Labels` map (`null` is empty, as is a `null` value).
struct Kept<K>(BTreeMap<String, String>, PhantomData<K>);

impl<K> Default for Kept<K> {
    fn default() -> Self {
        Kept(BTreeMap::new(), PhantomData)
    }
}

/// Every label.
struct All;

impl Keep for All {
    fn keep(_: &str) -> bool {
        true
    }
}

type ComposeLabels = Kept<Compose>;
type AllLabels = Kept<All>;
type SourceLabels = Kept<Source>;

impl SourceLabels {
    /// The OCI label, else Label Schema's; blank values are no answer.
    fn url(mut self) -> Option<String> {
        [OCI_SOURCE, LABEL_SCHEMA_VCS_URL]
            .into_iter()
            .filter_map(|k| self.0.remove(k))
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty())
    }
}

impl<'de, K: Keep> Deserialize<'de> for Kept<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_option(LabelsVisitor(PhantomData))
    }
}

struct LabelsVisitor<K>(PhantomData<K>);

impl<'de, K: Keep> Visitor<'de> for LabelsVisitor<K> {
    type Value = Kept<K>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of labels")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Kept::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Kept::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
            if K::keep(&key) {
                if let Some(Str(value)) = map.next_value::<Option<Str<'de>>>()? {
                    out.insert(key.into_owned(), value.into_owned());
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Kept(out, PhantomData))
    }
}

/// `Names`: the container's own name (the one without a second `/`; the others are legacy
/// link aliases such as `/web/db`), without its leading `/`. `null`, one string or an array.
#[derive(Default)]
struct PrimaryName(Option<String>);

impl<'de> Deserialize<'de> for PrimaryName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_option(NameVisitor)
    }
}

struct NameVisitor;

fn strip_slash(s: &str) -> &str {
    s.strip_prefix('/').unwrap_or(s)
}

impl<'de> Visitor<'de> for NameVisitor {
    type Value = PrimaryName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of names")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(PrimaryName(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(PrimaryName(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PrimaryName(Some(strip_slash(v).to_string())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut first: Option<String> = None;
        let mut own: Option<String> = None;
        while let Some(name) = seq.next_element::<Option<Str<'de>>>()? {
            let Some(Str(name)) = name else { continue };
            let name = strip_slash(&name);
            if own.is_none() && !name.contains('/') {
                own = Some(name.to_string());
            } else if first.is_none() {
                first = Some(name.to_string());
            }
        }
        Ok(PrimaryName(own.or(first)))
    }
}

/// `RepoTags` / `RepoDigests`: `null` is empty, `null` items and `<none>` placeholders are
/// dropped.
#[derive(Default)]
struct StringList(Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_option(StringListVisitor)
    }
}

struct StringListVisitor;

impl<'de> Visitor<'de> for StringListVisitor {
    type Value = StringList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StringList::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StringList::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element::<Option<Str<'de>>>()? {
            if let Some(Str(s)) = s
                && !s.is_empty()
                && s != "<none>:<none>"
                && s != "<none>@<none>"
            {
                out.push(s.into_owned());
            }
        }
        Ok(StringList(out))
    }
}

/// Health from the list API's `Status` text: `Up 5 minutes (healthy)`, `Up 3 hours
/// (unhealthy)`, `Up 2 seconds (health: starting)`.
fn health_from_status(status: &str) -> Option<Health> {
    let s = status.trim_end();
    if s.ends_with("(healthy)") {
        Some(Health::Healthy)
    } else if s.ends_with("(unhealthy)") {
        Some(Health::Unhealthy)
    } else if s.ends_with("(health: starting)") {
        Some(Health::Starting)
    } else {
        None
    }
}

/// State from the list API's `Status` text, for engines that send no `State`.
fn state_from_status(status: &str) -> Option<ContainerState> {
    let s = status.trim_start();
    let state = if s.starts_with("Up") {
        if s.contains("(Paused)") {
            ContainerState::Paused
        } else {
            ContainerState::Running
        }
    } else if s.starts_with("Restarting") {
        ContainerState::Restarting
    } else if s.starts_with("Exited") || s.starts_with("Exit ") {
        ContainerState::Exited
    } else if s.starts_with("Created") {
        ContainerState::Created
    } else if s.starts_with("Removal In Progress") {
        ContainerState::Removing
    } else if s.starts_with("Dead") {
        ContainerState::Dead
    } else {
        return None;
    };
    Some(state)
}

#[cfg(test)]
mod version_tests {
    use super::api_version_platform;
    use crate::Platform;

    #[test]
    fn the_platform_comes_from_version() {
        let p = api_version_platform(br#"{"Version":"26.1.5","Os":"linux","Arch":"arm64"}"#);
        assert_eq!(p, Some(Platform::new("linux", "arm64", Some("v8"))));
        assert_eq!(p.unwrap().to_string(), "linux/arm64/v8");
        assert_eq!(api_version_platform(br#"{"Os":"linux"}"#), None);
        assert_eq!(api_version_platform(b"nonsense"), None);
        assert!(
            Platform::new("linux", "x86_64", None).matches(&Platform::new(
                "linux",
                "amd64",
                Some("v3")
            ))
        );
        assert!(
            !Platform::new("linux", "arm", Some("v6"))
                .matches(&Platform::new("linux", "arm", None))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_borrowed_when_they_can_be() {
        let plain: Str<'_> = serde_json::from_slice(br#""redis:7""#).unwrap();
        assert!(matches!(plain.0, Cow::Borrowed("redis:7")));
        let escaped: Str<'_> = serde_json::from_slice(br#""a\u0041""#).unwrap();
        assert!(matches!(escaped.0, Cow::Owned(_)));
        assert_eq!(escaped.0, "aA");
    }

    #[test]
    fn status_texts() {
        assert_eq!(
            health_from_status("Up 5 minutes (healthy)"),
            Some(Health::Healthy)
        );
        assert_eq!(
            health_from_status("Up 3 hours (unhealthy)"),
            Some(Health::Unhealthy)
        );
        assert_eq!(
            health_from_status("Up 2 seconds (health: starting)"),
            Some(Health::Starting)
        );
        assert_eq!(health_from_status("Up 5 minutes"), None);
        assert_eq!(health_from_status("Exited (0) 3 hours ago"), None);
        assert_eq!(
            state_from_status("Up 5 minutes (Paused)"),
            Some(ContainerState::Paused)
        );
        assert_eq!(
            state_from_status("Exited (137) 2 days ago"),
            Some(ContainerState::Exited)
        );
        assert_eq!(state_from_status("Created"), Some(ContainerState::Created));
        assert_eq!(state_from_status("weird"), None);
    }

    #[test]
    fn data_errors_never_quote_values() {
        assert_eq!(
            describe_data(r#"invalid type: string "hunter2, expected x", expected a map"#),
            "invalid type: string, expected a map"
        );
        assert_eq!(
            describe_data("invalid type: integer `42`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(describe_data("missing field `Id`"), "missing field `Id`");
        assert_eq!(describe_data("something \"secret\""), "unexpected value");
    }
}
