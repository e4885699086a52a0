//! Manifests and indexes, and the platform-aware judgement of a running image against what a
//! tag means now (pure).
//!
//! A tag names either one image manifest (OCI or Docker v2) or an index (OCI image index,
//! Docker manifest list) whose entries are per-platform manifests. A host's image is known by
//! its `RepoDigests`: with Docker's classic image store the digest it was pulled as (the index
//! digest for a multi-platform tag), with the containerd image store the index digest too, and
//! for a single-platform pull by digest the platform manifest's digest. So a running image is
//! **current** when one of its repo digests is the tag's digest, or the digest of the tag's
//! index entry for the host's platform — or names an older index whose entry for the host's
//! platform is the same manifest as the new index's (the index was re-pushed for another
//! platform; the host's build did not change). Attestation entries (`unknown/unknown`) are
//! never a platform. An image ID is never compared with anything.

use platformctl_evidence::Platform;
use serde::Deserialize;

/// The media types a manifest `HEAD`/`GET` accepts, most specific first.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Whether a media type is an index (OCI index or Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    matches!(
        media_type.split(';').next().unwrap_or("").trim(),
        "application/vnd.oci.image.index.v1+json"
            | "application/vnd.docker.distribution.manifest.list.v2+json"
    )
}

/// One entry of an index.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Entry {
    /// The platform manifest's digest.
    pub digest: String,
    /// Its platform, when the index names one.
    pub platform: Option<Platform>,
    /// An attestation (`unknown/unknown`, or annotated `attestation-manifest`): not an image.
    pub attestation: bool,
}

/// The entries of an index body, or `None` when the body is not an index.
pub fn parse_index(body: &[u8]) -> Option<Vec<Entry>> {
    #[derive(Deserialize)]
    struct Index {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        manifests: Option<Vec<Desc>>,
    }
    #[derive(Deserialize)]
    struct Desc {
        digest: String,
        #[serde(default)]
        platform: Option<Plat>,
        #[serde(default)]
        annotations: Option<std::collections::BTreeMap<String, String>>,
    }
    #[derive(Deserialize)]
    struct Plat {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        variant: Option<String>,
    }
    let index: Index = serde_json::from_slice(body).ok()?;
    if index.media_type.as_deref().is_some_and(|m| !is_index(m)) {
        return None;
    }
    let manifests = index.manifests?;
    Some(
        manifests
            .into_iter()
            .map(|d| {
                let reference_type = d
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("vnd.docker.reference.type"))
                    .map(String::as_str);
                let attestation = reference_type == Some("attestation-manifest")
                    || d.platform
                        .as_ref()
                        .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
                Entry {
                    digest: d.digest,
                    platform: d
                        .platform
                        .filter(|p| !p.os.is_empty() && !p.architecture.is_empty())
                        .map(|p| Platform::new(&p.os, &p.architecture, p.variant.as_deref())),
                    attestation,
                }
            })
            .collect(),
    )
}

/// The digest of the entry for `platform` (attestations skipped), if the index has one.
pub fn entry_for<'a>(entries: &'a [Entry], platform: &Platform) -> Option<&'a str> {
    entries
        .iter()
        .filter(|e| !e.attestation)
        .find(|e| e.platform.as_ref().is_some_and(|p| platform.matches(p)))
        .map(|e| e.digest.as_str())
}

/// What the registry says a tag means now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagNow {
    /// The tag's digest (`sha256:…`): an index's or a single manifest's.
    pub digest: String,
    /// The index's entries, when the tag names an index and its body was read.
    pub entries: Option<Vec<Entry>>,
}

/// How a running image relates to what its tag means now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// It is the tag's current build; the digest that proved it.
    Current {
        /// The repo digest of the host (or the index entry) that matched.
        matched: String,
    },
    /// The tag now names another build for this platform; the digest it names now (the
    /// platform entry's, else the tag's).
    Moved {
        /// What the tag names now for the host's platform.
        now: String,
    },
    /// The evidence cannot say (an index whose body was not read, an older index the
    /// registry no longer has): never read as an update.
    Unknown(String),
}

/// Judges a running image, known by its repo digests for the tag's repository
/// (`local`: `sha256:…` each), against `now`. `platform` is the host's; without it, an entry
/// for any platform proves the image current (it is a build the tag names now), but nothing
/// can say "moved" for an index. `old_indexes` are the entries of indexes the host's digests
/// name (read by digest from the registry), for the re-pushed-index rule.
pub fn judge(
    local: &[String],
    now: &TagNow,
    platform: Option<&Platform>,
    old_indexes: &[(String, Vec<Entry>)],
) -> Judgement {
    if let Some(hit) = local.iter().find(|d| **d == now.digest) {
        return Judgement::Current {
            matched: hit.clone(),
        };
    }
    let Some(entries) = &now.entries else {
        // A single manifest: another digest is another build.
        return Judgement::Moved {
            now: now.digest.clone(),
        };
    };
    let Some(platform) = platform else {
        if let Some(e) = entries
            .iter()
            .filter(|e| !e.attestation)
            .find(|e| local.contains(&e.digest))
        {
            return Judgement::Current {
                matched: e.digest.clone(),
            };
        }
        return Judgement::Unknown(
            "the host's platform is unknown, so the tag's index cannot say which of its \
             entries the host would run"
                .to_owned(),
        );
    };
    let Some(mine) = entry_for(entries, platform) else {
        return Judgement::Unknown(format!(
            "the tag's index has no entry for the host's platform {platform}"
        ));
    };
    if local.iter().any(|d| d == mine) {
        return Judgement::Current {
            matched: mine.to_owned(),
        };
    }
    // The host's digests may name an older index: same entry for this platform = current.
    let mut unread = false;
    for d in local {
        match old_indexes.iter().find(|(digest, _)| digest == d) {
            Some((_, old)) => {
                if entry_for(old, platform) == Some(mine) {
                    return Judgement::Current { matched: d.clone() };
                }
            }
            None => unread = true,
        }
    }
    if unread && old_indexes.is_empty() {
        return Judgement::Unknown(
            "the index the host pulled could not be read from the registry, so whether its \
             build for this platform changed is unknown"
                .to_owned(),
        );
    }
    Judgement::Moved {
        now: mine.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn index(amd: char, arm: char) -> Vec<Entry> {
        parse_index(
            format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
                "manifests":[
                 {{"digest":"{}","platform":{{"os":"linux","architecture":"amd64"}}}},
                 {{"digest":"{}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
                 {{"digest":"{}","platform":{{"os":"unknown","architecture":"unknown"}},
                   "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}]}}"#,
                d(amd),
                d(arm),
                d('f')
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn index_digest_or_platform_entry_is_current() {
        let amd = Platform::new("linux", "amd64", None);
        let now = TagNow {
            digest: d('1'),
            entries: Some(index('a', 'b')),
        };
        assert!(matches!(
            judge(&[d('1')], &now, Some(&amd), &[]),
            Judgement::Current { .. }
        ));
        assert!(matches!(
            judge(&[d('a')], &now, Some(&amd), &[]),
            Judgement::Current { .. }
        ));
        // The arm64 build on an amd64 host is not what the host would run.
        assert_eq!(
            judge(&[d('b')], &now, Some(&amd), &[]),
            Judgement::Unknown(
                "the index the host pulled could not be read from the registry, so whether its \
                 build for this platform changed is unknown"
                    .into()
            )
        );
        // The attestation is never a platform.
        assert_eq!(
            entry_for(&index('a', 'b'), &Platform::new("unknown", "unknown", None)),
            None
        );
    }

    #[test]
    fn an_index_repushed_for_another_platform_leaves_the_host_current() {
        let amd = Platform::new("linux", "amd64", None);
        let now = TagNow {
            digest: d('2'),
            entries: Some(index('a', 'c')),
        };
        let old = vec![(d('1'), index('a', 'b'))];
        assert_eq!(
            judge(&[d('1')], &now, Some(&amd), &old),
            Judgement::Current { matched: d('1') }
        );
        // …but moved for the arm64 host.
        let arm = Platform::new("linux", "aarch64", None);
        assert_eq!(
            judge(&[d('1')], &now, Some(&arm), &old),
            Judgement::Moved { now: d('c') }
        );
    }

    #[test]
    fn a_single_manifest_with_another_digest_moved() {
        let now = TagNow {
            digest: d('2'),
            entries: None,
        };
        assert_eq!(
            judge(&[d('1')], &now, None, &[]),
            Judgement::Moved { now: d('2') }
        );
        assert!(is_index(
            "application/vnd.docker.distribution.manifest.list.v2+json"
        ));
        assert!(!is_index("application/vnd.oci.image.manifest.v1+json"));
        assert_eq!(parse_index(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#), None);
    }
}
