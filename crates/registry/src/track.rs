//! Tag tracks: which tags of a repository are newer releases of the one a module runs.
//!
//! A tag's *track* is its shape with the numbers taken out: `16.4-bookworm` is on the track
//! "two numbers, suffix `-bookworm`", so `16.6-bookworm` is a newer release on it and
//! `17-alpine`, `17.0` or `16.6-alpine` are not. A track has
//!
//! - a **prefix** before the numbers: nothing, `v`/`V`, or a word ending in `.`, `-` or `_`
//!   (`RELEASE.`, `release-`);
//! - a **version** (`1`, `1.2`, `1.2.3`, `1.2.3.4`: the count of numbers is part of the shape)
//!   or a **date** (`2024-01-16T16-07-38Z`, `2024-01-16`, `20240116`: the digit layout is part
//!   of the shape);
//! - a **suffix** after them, starting with `-`, `_` or `+` (`-bookworm`, `-alpine`), which must
//!   match exactly, once a pre-release marker (`-rc1`, `-beta.2`, `-alpha`) is taken out of it.
//!
//! Tags without a track (`latest`, `stable`, `alpine`, a commit hash) have no newer releases:
//! nothing can say what "newer" means for them. Pre-releases are candidates only when the
//! running tag is itself a pre-release. A newer version is a `major` update when its first
//! number grows, `minor` for the second, `patch` for any later one; a newer date is `date`.
//!
//! The logic is pure and the fixture in this module's tests is the contract.

use std::cmp::Ordering;

use serde::Serialize;

/// How far a newer tag is from the running one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateKind {
    /// The first number grew (`16.4` → `17.0`).
    Major,
    /// The second number grew (`3.2.1` → `3.3.0`).
    Minor,
    /// A later number grew (`3.2.1` → `3.2.2`; `1.2.3.4` → `1.2.3.5`).
    Patch,
    /// Only a pre-release marker changed (`1.2.0-rc1` → `1.2.0-rc2`, or → `1.2.0`).
    Prerelease,
    /// A later date on a date-shaped track (`RELEASE.2024-01-16…` → `RELEASE.2024-03-01…`).
    Date,
}

impl UpdateKind {
    /// `major`, `minor`, `patch`, `prerelease` or `date`.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Major => "major",
            UpdateKind::Minor => "minor",
            UpdateKind::Patch => "patch",
            UpdateKind::Prerelease => "prerelease",
            UpdateKind::Date => "date",
        }
    }
}

/// A tag parsed into its track and its position on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tagged {
    prefix: String,
    body: Body,
    /// The suffix with any pre-release marker taken out.
    suffix: String,
    /// The pre-release marker (`rc1`, `beta.2`), when there is one.
    pre: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Body {
    Version(Vec<u64>),
    /// The date's digits (compared as a string: same layout, so lexical is chronological) and
    /// its layout (`DDDD-DD-DDTDD-DD-DDZ`).
    Date {
        digits: String,
        layout: String,
    },
}

const PRE_MARKERS: [&str; 9] = [
    "alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "nightly", "canary",
];

impl Tagged {
    /// The tag's track and position, or `None` when it has no track (`latest`, `alpine`, …).
    pub fn parse(tag: &str) -> Option<Tagged> {
        if let Some(t) = parse_date(tag) {
            return Some(t);
        }
        let first_digit = tag.find(|c: char| c.is_ascii_digit())?;
        let prefix = &tag[..first_digit];
        if !valid_prefix(prefix) {
            return None;
        }
        let rest = &tag[first_digit..];
        let mut nums = Vec::new();
        let mut at = 0;
        loop {
            let digits = rest[at..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - at);
            if digits == 0 || digits > 18 {
                return None;
            }
            nums.push(rest[at..at + digits].parse().ok()?);
            at += digits;
            let more = rest[at..].strip_prefix('.');
            match more {
                Some(m) if m.starts_with(|c: char| c.is_ascii_digit()) => at += 1,
                _ => break,
            }
        }
        let tail = &rest[at..];
        if !(tail.is_empty() || tail.starts_with(['-', '_', '+'])) {
            return None;
        }
        let (suffix, pre) = split_pre(tail);
        Some(Tagged {
            prefix: prefix.to_owned(),
            body: Body::Version(nums),
            suffix,
            pre,
        })
    }

    /// Whether this tag is a pre-release (`1.2.0-rc1`).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    /// Whether `other` is on the same track: same prefix, same shape (count of numbers, or
    /// date layout), same suffix.
    pub fn same_track(&self, other: &Tagged) -> bool {
        self.prefix == other.prefix
            && self.suffix == other.suffix
            && match (&self.body, &other.body) {
                (Body::Version(a), Body::Version(b)) => a.len() == b.len(),
                (Body::Date { layout: a, .. }, Body::Date { layout: b, .. }) => a == b,
                _ => false,
            }
    }

    /// How `newer` relates to `self` when it is a newer release on the same track, else `None`.
    pub fn update_to(&self, newer: &Tagged) -> Option<UpdateKind> {
        if !self.same_track(newer) {
            return None;
        }
        if newer.is_prerelease() && !self.is_prerelease() {
            return None;
        }
        match (&self.body, &newer.body) {
            (Body::Version(a), Body::Version(b)) => match a.cmp(b) {
                Ordering::Less => {
                    let i = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
                    Some(match i {
                        0 => UpdateKind::Major,
                        1 => UpdateKind::Minor,
                        _ => UpdateKind::Patch,
                    })
                }
                Ordering::Equal if pre_cmp(&self.pre, &newer.pre) == Ordering::Less => {
                    Some(UpdateKind::Prerelease)
                }
                _ => None,
            },
            (Body::Date { digits: a, .. }, Body::Date { digits: b, .. }) => match a.cmp(b) {
                Ordering::Less => Some(UpdateKind::Date),
                Ordering::Equal if pre_cmp(&self.pre, &newer.pre) == Ordering::Less => {
                    Some(UpdateKind::Prerelease)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The sort key of a tag on its track (older first).
    fn order(&self, other: &Tagged) -> Ordering {
        let body = match (&self.body, &other.body) {
            (Body::Version(a), Body::Version(b)) => a.cmp(b),
            (Body::Date { digits: a, .. }, Body::Date { digits: b, .. }) => a.cmp(b),
            _ => Ordering::Equal,
        };
        body.then_with(|| pre_cmp(&self.pre, &other.pre))
    }
}

/// A newer release of a running tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Newer {
    /// The tag.
    pub tag: String,
    /// Major, minor, patch, pre-release or date.
    pub kind: UpdateKind,
}

/// The tags of `available` that are newer releases on `running`'s track, newest first.
/// Empty when `running` has no track (`latest`).
pub fn newer_releases<'a>(
    running: &str,
    available: impl IntoIterator<Item = &'a str>,
) -> Vec<Newer> {
    let Some(current) = Tagged::parse(running) else {
        return Vec::new();
    };
    let mut found: Vec<(Tagged, Newer)> = available
        .into_iter()
        .filter(|t| *t != running)
        .filter_map(|t| {
            let parsed = Tagged::parse(t)?;
            let kind = current.update_to(&parsed)?;
            Some((
                parsed,
                Newer {
                    tag: t.to_owned(),
                    kind,
                },
            ))
        })
        .collect();
    found.sort_by(|(a, an), (b, bn)| b.order(a).then_with(|| an.tag.cmp(&bn.tag)));
    found.dedup_by(|a, b| a.1.tag == b.1.tag);
    found.into_iter().map(|(_, n)| n).collect()
}

fn valid_prefix(p: &str) -> bool {
    if p.is_empty() || p == "v" || p == "V" {
        return true;
    }
    let Some(word) = p.strip_suffix(['.', '-', '_']) else {
        return false;
    };
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Splits `-rc1-alpine` into (`-alpine`, `rc1`); `-bookworm` into (`-bookworm`, none).
fn split_pre(tail: &str) -> (String, Option<String>) {
    // The suffix's parts, each with the separator before it.
    let mut parts: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in tail.char_indices().skip(1) {
        if matches!(c, '-' | '_' | '+') {
            parts.push(&tail[start..i]);
            start = i;
        }
    }
    if !tail.is_empty() {
        parts.push(&tail[start..]);
    }
    let mut suffix = String::new();
    let mut pre = None;
    let mut i = 0;
    while i < parts.len() {
        let word = &parts[i][1..];
        let lower = word.to_ascii_lowercase();
        let marker = pre.is_none()
            && PRE_MARKERS.iter().any(|m| {
                lower.strip_prefix(m).is_some_and(|r| {
                    r.is_empty() || r.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                })
            });
        if marker {
            // `-rc.1` is split by nothing; `-beta-2`: take a following all-digit part too.
            let mut text = word.to_owned();
            if let Some(next) = parts.get(i + 1)
                && next[1..].bytes().all(|b| b.is_ascii_digit())
                && !next[1..].is_empty()
            {
                text.push_str(next);
                i += 1;
            }
            pre = Some(text);
        } else {
            suffix.push_str(parts[i]);
        }
        i += 1;
    }
    (suffix, pre)
}

/// Release after any pre-release of the same version; pre-releases by their marker, numbers
/// compared as numbers.
fn pre_cmp(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => natural(x, y),
    }
}

/// Compares strings with runs of digits compared as numbers (`rc2` < `rc10`).
fn natural(a: &str, b: &str) -> Ordering {
    let chunks = |s: &str| -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let d = c.is_ascii_digit();
            match out.last_mut() {
                Some((kind, text)) if *kind == d => text.push(c),
                _ => out.push((d, c.to_string())),
            }
        }
        out
    };
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let o = if x.0 && y.0 {
            let (p, q) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
            p.len().cmp(&q.len()).then_with(|| p.cmp(q))
        } else {
            x.1.cmp(&y.1)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ca.len().cmp(&cb.len())
}

/// A date-shaped tag: `PREFIX` + `YYYY-MM-DD` (optionally `THH-MM-SSZ` or `THH:MM:SSZ`) or
/// `YYYYMMDD` (optionally `HHMMSS` after a separator) + a suffix. The date must be a real
/// calendar date.
fn parse_date(tag: &str) -> Option<Tagged> {
    let b = tag.as_bytes();
    let first_digit = tag.find(|c: char| c.is_ascii_digit())?;
    let prefix = &tag[..first_digit];
    if !valid_prefix(prefix) {
        return None;
    }
    let rest = &b[first_digit..];
    let digit = |i: usize| rest.get(i).is_some_and(u8::is_ascii_digit);
    let digits_at = |from: usize, n: usize| (from..from + n).all(digit);
    let (ymd, mut len) = if digits_at(0, 4)
        && rest.get(4) == Some(&b'-')
        && digits_at(5, 2)
        && rest.get(7) == Some(&b'-')
        && digits_at(8, 2)
        && !digit(10)
    {
        (
            (
                &tag[first_digit..first_digit + 4],
                &tag[first_digit + 5..first_digit + 7],
                &tag[first_digit + 8..first_digit + 10],
            ),
            10,
        )
    } else if digits_at(0, 8) && !digit(8) {
        (
            (
                &tag[first_digit..first_digit + 4],
                &tag[first_digit + 4..first_digit + 6],
                &tag[first_digit + 6..first_digit + 8],
            ),
            8,
        )
    } else {
        return None;
    };
    let (y, m, d) = (
        ymd.0.parse::<i16>().ok()?,
        ymd.1.parse::<i8>().ok()?,
        ymd.2.parse::<i8>().ok()?,
    );
    if !(1970..=2999).contains(&y) || jiff::civil::Date::new(y, m, d).is_err() {
        return None;
    }
    // A time: `THH-MM-SS` / `THH:MM:SS` (then an optional `Z`).
    if rest.get(len) == Some(&b'T')
        && digits_at(len + 1, 2)
        && matches!(rest.get(len + 3), Some(b'-' | b':'))
        && digits_at(len + 4, 2)
        && rest.get(len + 6) == rest.get(len + 3)
        && digits_at(len + 7, 2)
    {
        len += 9;
        if rest.get(len) == Some(&b'Z') {
            len += 1;
        }
    }
    let date = &tag[first_digit..first_digit + len];
    let tail = &tag[first_digit + len..];
    if !(tail.is_empty() || tail.starts_with(['-', '_', '+', '.'])) {
        return None;
    }
    let (suffix, pre) = split_pre(tail);
    Some(Tagged {
        prefix: prefix.to_owned(),
        body: Body::Date {
            digits: date.chars().filter(char::is_ascii_digit).collect(),
            layout: date
                .chars()
                .map(|c| if c.is_ascii_digit() { 'D' } else { c })
                .collect(),
        },
        suffix,
        pre,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newer(running: &str, tags: &[&str]) -> Vec<(String, &'static str)> {
        newer_releases(running, tags.iter().copied())
            .into_iter()
            .map(|n| (n.tag, n.kind.as_str()))
            .collect()
    }

    fn list(v: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        v.iter().map(|(t, k)| ((*t).to_owned(), *k)).collect()
    }

    /// The fixture of the acceptance: one repository's tags, several running tags.
    const TAGS: &[&str] = &[
        "latest",
        "alpine",
        "bookworm",
        "stable",
        "16",
        "16-alpine",
        "16-bookworm",
        "17",
        "17-alpine",
        "17-bookworm",
        "16.3",
        "16.4",
        "16.6",
        "16.4-bookworm",
        "16.6-bookworm",
        "16.6-alpine",
        "16.4-alpine3.19",
        "16.6-alpine3.19",
        "16.6-alpine3.20",
        "17.0",
        "17.0-bookworm",
        "17.0-alpine",
        "17.1-rc1-bookworm",
        "16.7-beta1-bookworm",
        "3.2.1",
        "3.2.2",
        "3.3.0",
        "4.0.0",
        "v3.2.1",
        "v3.2.10",
        "v3.3.0",
        "v4.0.0",
        "v3.4.0-rc.1",
        "v3.4.0-beta",
        "1.2.3.4",
        "1.2.3.5",
        "1.2.4.0",
        "1.3.0.0",
        "1.2.3",
        "sha-3f1a2b3",
        "a1b2c3d",
        "RELEASE.2024-01-16T16-07-38Z",
        "RELEASE.2024-03-01T00-00-00Z",
        "RELEASE.2023-12-31T23-59-59Z",
        "RELEASE.2024-03-01T00-00-00Z-cpuv1",
        "2024-05-01",
        "2024-06-01",
        "20240501",
        "20240601",
        "nightly-20240601",
        "7",
        "8",
        "7.2",
        "7.4",
    ];

    #[test]
    fn suffixes_stay_on_their_track() {
        assert_eq!(
            newer("16.4-bookworm", TAGS),
            list(&[("17.0-bookworm", "major"), ("16.6-bookworm", "minor")])
        );
        assert_eq!(newer("16-alpine", TAGS), list(&[("17-alpine", "major")]));
        assert_eq!(
            newer("16.4-alpine3.19", TAGS),
            list(&[("16.6-alpine3.19", "minor")])
        );
        assert_eq!(
            newer("16.4", TAGS),
            list(&[("17.0", "major"), ("16.6", "minor")])
        );
    }

    #[test]
    fn v_prefixes_and_semver() {
        assert_eq!(
            newer("v3.2.1", TAGS),
            list(&[
                ("v4.0.0", "major"),
                ("v3.3.0", "minor"),
                ("v3.2.10", "patch")
            ])
        );
        assert_eq!(
            newer("3.2.1", TAGS),
            list(&[("4.0.0", "major"), ("3.3.0", "minor"), ("3.2.2", "patch")])
        );
        // Pre-releases are candidates only for a pre-release.
        assert_eq!(
            newer("v3.4.0-beta", TAGS),
            list(&[("v4.0.0", "major"), ("v3.4.0-rc.1", "prerelease")])
        );
    }

    #[test]
    fn four_part_versions() {
        assert_eq!(
            newer("1.2.3.4", TAGS),
            list(&[
                ("1.3.0.0", "minor"),
                ("1.2.4.0", "patch"),
                ("1.2.3.5", "patch")
            ])
        );
    }

    #[test]
    fn date_tags_by_date() {
        assert_eq!(
            newer("RELEASE.2024-01-16T16-07-38Z", TAGS),
            list(&[("RELEASE.2024-03-01T00-00-00Z", "date")])
        );
        assert_eq!(newer("2024-05-01", TAGS), list(&[("2024-06-01", "date")]));
        assert_eq!(newer("20240501", TAGS), list(&[("20240601", "date")]));
        assert_eq!(newer("nightly-20240601", TAGS), list(&[]));
    }

    #[test]
    fn single_numbers() {
        assert_eq!(newer("16", TAGS), list(&[("17", "major")]));
        assert_eq!(
            newer("7", TAGS),
            list(&[("17", "major"), ("16", "major"), ("8", "major")])
        );
        assert_eq!(
            newer("7.2", TAGS),
            list(&[
                ("17.0", "major"),
                ("16.6", "major"),
                ("16.4", "major"),
                ("16.3", "major"),
                ("7.4", "minor")
            ])
        );
    }

    #[test]
    fn tags_without_a_track_have_no_newer_releases() {
        for t in [
            "latest",
            "alpine",
            "bookworm",
            "stable",
            "sha-3f1a2b3",
            "a1b2c3d",
        ] {
            assert_eq!(newer(t, TAGS), list(&[]), "{t}");
        }
        assert_eq!(Tagged::parse("latest"), None);
        assert_eq!(Tagged::parse("a1b2c3d"), None);
        assert_eq!(Tagged::parse("sha-3f1a2b3"), None);
        // The newest on its track has nothing newer.
        assert_eq!(newer("17.0-bookworm", TAGS), list(&[]));
        assert_eq!(newer("RELEASE.2024-03-01T00-00-00Z-cpuv1", TAGS), list(&[]));
    }

    #[test]
    fn impossible_dates_are_not_dates() {
        assert!(matches!(
            Tagged::parse("20241399").map(|t| t.body),
            Some(Body::Version(_))
        ));
        assert!(matches!(
            Tagged::parse("RELEASE.2024-01-16T16-07-38Z").map(|t| t.body),
            Some(Body::Date { .. })
        ));
    }
}
