//! Registry truth (SPEC §7): what a tag means now, whether the image a host runs is that
//! build, and which newer releases are on the tag's track.
//!
//! This is the only crate of platformctl that talks to registries, and it can only read: its
//! HTTP layer has one request function taking a closed set of calls, built with
//! `Request::head` (a manifest's digest) or `Request::get` (an index body, a tags page, a
//! token) in one place (audited by `tests/readonly_audit.rs`). Nothing is ever pulled.
//!
//! Give [`check`] one [`Lookup`] per module (the desired `repo:tag`, the host's platform from
//! its engine, the repo digests of the image the module runs) and it returns one [`Outcome`]
//! per lookup, in order, plus one [`RegistryReport`] per registry asked:
//!
//! - each distinct `registry/repo:tag` is resolved once per run (`HEAD`, the digest from
//!   `Docker-Content-Digest`, else the sha256 of a `GET` body); an index body is read only when
//!   some host's digests are not already the tag's digest, and cached by digest for good;
//! - the judgement is platform-aware ([`manifest::judge`]): current, tag-moved, or unverified
//!   when the evidence cannot say; registry trouble is unreachable / unauthorized / not-found,
//!   never an update;
//! - newer releases come from the tags list (following `Link` pagination) and [`track`];
//! - auth: the bearer challenge with anonymous tokens, or the user's Docker credentials
//!   (basic, or for a token); tokens reused per scope for their lifetime ([`auth`]);
//! - polite: at most [`Options::concurrency`] requests at a time per registry, a per-registry
//!   budget ([`Options::registry_timeout`]) so one slow registry never holds the run, `429`
//!   honoured with `Retry-After` (up to 10 s, twice), Docker Hub's `RateLimit-*` headers
//!   reported, and a disk cache ([`Options::cache_dir`], [`Options::ttl`]; `refresh` skips
//!   reading it).

#![warn(missing_docs)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use platformctl_evidence::Platform;
use platformctl_imageref::ImageRef;
use serde::Serialize;

mod auth;
pub mod cache;
mod client;
mod http;
pub mod manifest;
pub mod track;

use client::Session;
pub use client::Trouble;
use manifest::{Entry, Judgement, TagNow};
pub use track::{Newer, UpdateKind, newer_releases};

/// The defaults, defined once (docs/drift.md).
pub mod defaults {
    use std::time::Duration;

    /// How long a tag's answer and a tags list are reused from the disk cache: 15 minutes.
    pub const TTL: Duration = Duration::from_secs(15 * 60);
    /// Requests in flight to one registry: 4.
    pub const CONCURRENCY: usize = 4;
    /// One request: 10 s.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Everything asked of one registry in a run: 30 s.
    pub const REGISTRY_TIMEOUT: Duration = Duration::from_secs(30);
}

/// How to ask registries.
#[derive(Clone, Debug)]
pub struct Options {
    /// The disk cache folder; `None`: no cache. Default [`cache::default_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Skip reading the cache (answers are still written): `--refresh`.
    pub refresh: bool,
    /// How long cached tag answers and tags lists are reused.
    pub ttl: Duration,
    /// Requests in flight per registry.
    pub concurrency: usize,
    /// One request's timeout.
    pub request_timeout: Duration,
    /// One registry's budget for the whole run.
    pub registry_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_dir: cache::default_dir(),
            refresh: false,
            ttl: defaults::TTL,
            concurrency: defaults::CONCURRENCY,
            request_timeout: defaults::REQUEST_TIMEOUT,
            registry_timeout: defaults::REGISTRY_TIMEOUT,
        }
    }
}

/// One question: does the host's image of `reference` run what its tag means now?
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The desired reference; it must carry a tag (an implied `latest` counts).
    pub reference: ImageRef,
    /// The host's platform, when its engine said.
    pub platform: Option<Platform>,
    /// The repo digests (`sha256:…`) of the image the module runs, for this repository.
    pub local: Vec<String>,
    /// Whether to list newer releases on the tag's track.
    pub newer: bool,
}

/// What the registry says about one lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The host runs the tag's current build.
    Current,
    /// The tag now names another build for the host's platform: an update is waiting.
    TagMoved,
    /// The registry answered, but the evidence cannot prove either (no running image, an
    /// unknown platform, an older index the registry no longer has).
    Unverified,
    /// The registry did not answer (down, timed out, rate limited).
    Unreachable,
    /// The registry refused access.
    Unauthorized,
    /// No such repository or tag.
    NotFound,
}

impl Status {
    /// The JSON word.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::TagMoved => "tag-moved",
            Status::Unverified => "unverified",
            Status::Unreachable => "unreachable",
            Status::Unauthorized => "unauthorized",
            Status::NotFound => "not-found",
        }
    }

    /// Whether the registry could not be asked (unreachable, unauthorized, not found).
    pub fn is_trouble(self) -> bool {
        matches!(
            self,
            Status::Unreachable | Status::Unauthorized | Status::NotFound
        )
    }
}

/// A newer release on the running tag's track.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewerTag {
    /// The tag.
    pub tag: String,
    /// `major`, `minor`, `patch`, `prerelease` or `date`.
    pub kind: UpdateKind,
}

/// The answer to one [`Lookup`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The reference asked about, normalised (`docker.io/library/redis:7`).
    pub reference: String,
    /// The host's platform, when known (`linux/amd64`).
    pub platform: Option<String>,
    /// The verdict.
    pub status: Status,
    /// What the tag names now (an index's or a manifest's digest).
    pub digest: Option<String>,
    /// The digest of the index entry for the host's platform, when the tag is an index.
    pub platform_digest: Option<String>,
    /// The host's repo digest that proved it current.
    pub matched: Option<String>,
    /// When the registry answered (RFC 3339; earlier than now when the answer was cached).
    pub checked_at: Option<String>,
    /// Why the status is not `current`, in a sentence.
    pub message: Option<String>,
    /// Newer releases on the tag's track, newest first.
    pub newer: Vec<NewerTag>,
    /// Why newer releases could not be listed, when they could not.
    pub newer_error: Option<String>,
}

/// What one registry answered during the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryReport {
    /// The registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Manifest `HEAD` requests made.
    pub heads: usize,
    /// `GET` requests made (index bodies, tags pages).
    pub gets: usize,
    /// Token requests made.
    pub tokens: usize,
    /// Answers taken from the disk cache.
    pub cached: usize,
    /// Docker Hub's `RateLimit-Remaining` as last sent (`76;w=21600`).
    pub rate_limit_remaining: Option<String>,
    /// Docker Hub's `RateLimit-Limit` as last sent.
    pub rate_limit_limit: Option<String>,
    /// Whether every question to it was answered (not unreachable).
    pub answered: bool,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// One per lookup, in order.
    pub outcomes: Vec<Outcome>,
    /// One per registry asked, by name.
    pub registries: Vec<RegistryReport>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Resolved {
    digest: String,
    media_type: String,
}

/// (registry, repository, tag).
type TagKey = (String, String, String);

/// The cached body of a manifest by digest: the index entries, or `None` for a non-index.
type IndexEntries = Option<Vec<Entry>>;

/// `check`, on its own runtime (for synchronous callers).
pub fn check_blocking(lookups: &[Lookup], opts: &Options) -> std::io::Result<Run> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok(rt.block_on(check(lookups, opts)))
}

/// Asks the registries of `lookups` (see the crate documentation).
pub async fn check(lookups: &[Lookup], opts: &Options) -> Run {
    let mut asked = Asked::new(opts);
    check_with(lookups, opts, &mut asked).await
}

/// Like [`check_blocking`], but the tags of `prefetch` are resolved (one `HEAD` per distinct
/// `repo:tag`, step 1 of [`check`]) while `produce` runs on the calling thread — e.g. while the
/// hosts are observed, which a tag's digest does not depend on. `produce` returns the lookups;
/// a tag it asks about that was not prefetched is resolved afterwards. The outcome is the same
/// as `check_blocking(&produce(), opts)`; only the wall time differs.
pub fn check_overlapped(
    prefetch: &[ImageRef],
    opts: &Options,
    produce: impl FnOnce() -> Vec<Lookup>,
) -> std::io::Result<Run> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let keys: BTreeSet<TagKey> = prefetch.iter().filter_map(tag_key).collect();
    let opts2 = opts.clone();
    let early = rt.spawn(async move {
        let mut asked = Asked::new(&opts2);
        asked.resolve_tags(&keys, &opts2).await;
        asked
    });
    let lookups = produce();
    Ok(rt.block_on(async move {
        let mut asked = match early.await {
            Ok(a) => a,
            Err(_) => Asked::new(opts),
        };
        check_with(&lookups, opts, &mut asked).await
    }))
}

/// The `registry/repo:tag` a reference asks about (`None`: digest only).
fn tag_key(r: &ImageRef) -> Option<TagKey> {
    let tag = r.effective_tag()?;
    Some((
        r.registry().to_owned(),
        r.repository().to_owned(),
        tag.to_owned(),
    ))
}

/// What a run has asked so far: one session per registry, the tags resolved, the answers taken
/// from the cache.
struct Asked {
    cache: cache::Cache,
    http: http::Http,
    sessions: BTreeMap<String, Arc<Session>>,
    resolved: HashMap<TagKey, (Result<Resolved, Trouble>, jiff::Timestamp)>,
    cached: HashMap<String, usize>,
}

impl Asked {
    fn new(opts: &Options) -> Asked {
        Asked {
            cache: cache::Cache::new(opts.cache_dir.clone(), opts.refresh),
            http: http::Http::new(),
            sessions: BTreeMap::new(),
            resolved: HashMap::new(),
            cached: HashMap::new(),
        }
    }

    fn session(&mut self, registry: &str, opts: &Options) {
        let http = &self.http;
        self.sessions.entry(registry.to_owned()).or_insert_with(|| {
            Arc::new(Session::new(
                http.clone(),
                registry,
                opts.concurrency,
                opts.request_timeout,
                opts.registry_timeout,
            ))
        });
    }

    /// Step 1: each distinct repo:tag not yet resolved, once (from the cache when fresh).
    async fn resolve_tags(&mut self, distinct: &BTreeSet<TagKey>, opts: &Options) {
        let mut ask = Vec::new();
        for k in distinct {
            if self.resolved.contains_key(k) {
                continue;
            }
            self.session(&k.0, opts);
            let ck = format!("{}/{}:{}", k.0, k.1, k.2);
            match self.cache.get::<Resolved>("tag", &ck, Some(opts.ttl)) {
                Some((r, at)) => {
                    *self.cached.entry(k.0.clone()).or_default() += 1;
                    self.resolved.insert(k.clone(), (Ok(r), at));
                }
                None => ask.push(k.clone()),
            }
        }
        let sessions = &self.sessions;
        let answers = join_all(ask.iter().map(|k| {
            let s = sessions[&k.0].clone();
            async move { s.resolve(&k.1, &k.2).await }
        }))
        .await;
        for (k, a) in ask.into_iter().zip(answers) {
            let now = jiff::Timestamp::now();
            let r = a.map(|(digest, media_type)| Resolved { digest, media_type });
            if let Ok(r) = &r {
                self.cache
                    .put("tag", &format!("{}/{}:{}", k.0, k.1, k.2), r, now);
            }
            self.resolved.insert(k, (r, now));
        }
    }
}

async fn check_with(lookups: &[Lookup], opts: &Options, asked: &mut Asked) -> Run {
    for l in lookups {
        asked.session(l.reference.registry(), opts);
    }
    let tag_of = |l: &Lookup| {
        l.reference
            .effective_tag()
            .unwrap_or(platformctl_imageref::DEFAULT_TAG)
            .to_owned()
    };
    let key = |l: &Lookup| {
        (
            l.reference.registry().to_owned(),
            l.reference.repository().to_owned(),
            tag_of(l),
        )
    };

    // 1. Each distinct repo:tag once (some may be resolved already: `check_overlapped`).
    let distinct: BTreeSet<(String, String, String)> = lookups.iter().map(key).collect();
    asked.resolve_tags(&distinct, opts).await;
    let Asked {
        cache,
        sessions,
        resolved,
        cached,
        ..
    } = asked;
    let sessions = &*sessions;
    let cache = &*cache;

    // 2. Index bodies, by digest, where some host is not already on the tag's digest; and the
    //    older indexes those hosts' digests name.
    let mut bodies: BTreeSet<(String, String, String)> = BTreeSet::new(); // registry, repo, digest
    for l in lookups {
        let Some((Ok(r), _)) = resolved.get(&key(l)) else {
            continue;
        };
        if manifest::is_index(&r.media_type) && !l.local.contains(&r.digest) {
            bodies.insert((key(l).0, key(l).1, r.digest.clone()));
        }
    }
    let mut indexes: HashMap<String, IndexEntries> = HashMap::new();
    fetch_bodies(&bodies, sessions, cache, &mut indexes, cached).await;
    let mut olds: BTreeSet<(String, String, String)> = BTreeSet::new();
    for l in lookups {
        let Some((Ok(r), _)) = resolved.get(&key(l)) else {
            continue;
        };
        let Some(Some(entries)) = indexes.get(&r.digest) else {
            continue;
        };
        for d in &l.local {
            if *d != r.digest && !entries.iter().any(|e| e.digest == *d) && !indexes.contains_key(d)
            {
                olds.insert((key(l).0, key(l).1, d.clone()));
            }
        }
    }
    fetch_bodies(&olds, sessions, cache, &mut indexes, cached).await;

    // 3. Tags lists.
    let repos: BTreeSet<(String, String)> = lookups
        .iter()
        .filter(|l| l.newer)
        .map(|l| (key(l).0, key(l).1))
        .collect();
    let mut tag_lists: HashMap<(String, String), Result<Vec<String>, Trouble>> = HashMap::new();
    let mut ask = Vec::new();
    for k in repos {
        match cache.get::<Vec<String>>("tags", &format!("{}/{}", k.0, k.1), Some(opts.ttl)) {
            Some((t, _)) => {
                *cached.entry(k.0.clone()).or_default() += 1;
                tag_lists.insert(k, Ok(t));
            }
            None => ask.push(k),
        }
    }
    let answers = join_all(ask.iter().map(|k| {
        let s = sessions[&k.0].clone();
        async move { s.tags(&k.1).await }
    }))
    .await;
    for (k, a) in ask.into_iter().zip(answers) {
        if let Ok(t) = &a {
            cache.put(
                "tags",
                &format!("{}/{}", k.0, k.1),
                t,
                jiff::Timestamp::now(),
            );
        }
        tag_lists.insert(k, a);
    }

    // 4. Judge each lookup.
    let mut unreachable: BTreeSet<String> = BTreeSet::new();
    let mut outcomes = Vec::with_capacity(lookups.len());
    for l in lookups {
        let k = key(l);
        let (res, at) = &resolved[&k];
        let mut o = Outcome {
            reference: l.reference.normalized(),
            platform: l.platform.as_ref().map(ToString::to_string),
            status: Status::Unverified,
            digest: None,
            platform_digest: None,
            matched: None,
            // Whole seconds, as the cache keeps them: an answer reads the same whether it was
            // asked now or read back from the cache.
            checked_at: Some(
                jiff::Timestamp::from_second(at.as_second())
                    .unwrap_or(*at)
                    .to_string(),
            ),
            message: None,
            newer: Vec::new(),
            newer_error: None,
        };
        match res {
            Err(t) => {
                o.status = match t {
                    Trouble::Unreachable(_) => Status::Unreachable,
                    Trouble::Unauthorized(_) => Status::Unauthorized,
                    Trouble::NotFound(_) => Status::NotFound,
                };
                o.message = Some(t.message().to_owned());
                o.checked_at = None;
            }
            Ok(r) => {
                o.digest = Some(r.digest.clone());
                let entries = if manifest::is_index(&r.media_type) {
                    match indexes.get(&r.digest) {
                        Some(Some(e)) => Some(e.clone()),
                        _ => None,
                    }
                } else {
                    None
                };
                if let (Some(e), Some(p)) = (&entries, &l.platform) {
                    o.platform_digest = manifest::entry_for(e, p).map(str::to_owned);
                }
                let index_unread = manifest::is_index(&r.media_type)
                    && entries.is_none()
                    && !l.local.contains(&r.digest);
                let olds: Vec<(String, Vec<Entry>)> = l
                    .local
                    .iter()
                    .filter_map(|d| match indexes.get(d) {
                        Some(Some(e)) => Some((d.clone(), e.clone())),
                        _ => None,
                    })
                    .collect();
                let now = TagNow {
                    digest: r.digest.clone(),
                    entries,
                };
                let judged = if l.local.is_empty() {
                    Judgement::Unknown(
                        "the running image has no repo digest of this repository to compare"
                            .to_owned(),
                    )
                } else if index_unread {
                    Judgement::Unknown(
                        "the tag's index could not be read from the registry".to_owned(),
                    )
                } else {
                    manifest::judge(&l.local, &now, l.platform.as_ref(), &olds)
                };
                match judged {
                    Judgement::Current { matched } => {
                        o.status = Status::Current;
                        o.matched = Some(matched);
                    }
                    Judgement::Moved { now } => {
                        o.status = Status::TagMoved;
                        o.message = Some(format!(
                            "the tag now names {now} upstream; the host runs {}",
                            l.local.join(", ")
                        ));
                    }
                    Judgement::Unknown(why) => {
                        o.status = Status::Unverified;
                        o.message = Some(why);
                    }
                }
            }
        }
        if o.status == Status::Unreachable {
            unreachable.insert(k.0.clone());
        }
        if l.newer {
            match tag_lists.get(&(k.0.clone(), k.1.clone())) {
                Some(Ok(tags)) => {
                    o.newer = newer_releases(&k.2, tags.iter().map(String::as_str))
                        .into_iter()
                        .map(|n| NewerTag {
                            tag: n.tag,
                            kind: n.kind,
                        })
                        .collect();
                }
                Some(Err(t)) => {
                    if matches!(t, Trouble::Unreachable(_)) {
                        unreachable.insert(k.0.clone());
                    }
                    o.newer_error = Some(t.message().to_owned());
                }
                None => {}
            }
        }
        outcomes.push(o);
    }
    let registries = sessions
        .values()
        .map(|s| {
            let t = s.tally.lock().unwrap_or_else(|e| e.into_inner()).clone();
            RegistryReport {
                registry: s.registry.clone(),
                heads: t.heads,
                gets: t.gets,
                tokens: t.tokens,
                cached: cached.get(&s.registry).copied().unwrap_or(0),
                rate_limit_remaining: t.rate_limit_remaining,
                rate_limit_limit: t.rate_limit_limit,
                answered: !unreachable.contains(&s.registry),
            }
        })
        .collect();
    Run {
        outcomes,
        registries,
    }
}

/// Reads manifests by digest (cache first, for good), keeping index entries (or `None` for a
/// manifest that is not an index). A digest the registry no longer has is left out.
async fn fetch_bodies(
    wanted: &BTreeSet<(String, String, String)>,
    sessions: &BTreeMap<String, Arc<Session>>,
    cache: &cache::Cache,
    into: &mut HashMap<String, IndexEntries>,
    cached: &mut HashMap<String, usize>,
) {
    let mut ask = Vec::new();
    for k in wanted {
        if into.contains_key(&k.2) {
            continue;
        }
        match cache.get::<IndexEntries>("manifest", &k.2, None) {
            Some((e, _)) => {
                *cached.entry(k.0.clone()).or_default() += 1;
                into.insert(k.2.clone(), e);
            }
            None => ask.push(k.clone()),
        }
    }
    let answers = join_all(ask.iter().map(|k| {
        let s = sessions[&k.0].clone();
        async move { s.manifest(&k.1, &k.2).await }
    }))
    .await;
    for (k, a) in ask.into_iter().zip(answers) {
        let Ok(resp) = a else { continue };
        // Content-addressed: the body must hash to the digest asked for.
        if client::sha256(&resp.body) != k.2 {
            continue;
        }
        let entries = manifest::parse_index(&resp.body);
        cache.put("manifest", &k.2, &entries, jiff::Timestamp::now());
        into.insert(k.2, entries);
    }
}
