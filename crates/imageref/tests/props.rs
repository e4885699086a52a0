//! Property tests: the parser never panics, accepted references round-trip
//! through `normalized()` and `familiar()`, and the hand-written parser
//! agrees with a transcription of Docker's own regular expressions and
//! normalisation (`distribution/reference`'s `ParseNormalizedNamed`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use platformctl_imageref::{Digest, ErrorKind, ImageRef};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use regex::Regex;

// ---------------------------------------------------------------------------
// The oracle: Docker's grammar, written as Docker writes it.

/// `ReferenceRegexp` from distribution/reference's regexp.go, in ASCII.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let path_component = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    let domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain_name = format!(r"{domain_component}(?:\.{domain_component})*");
    let ipv6 = r"\[(?:[a-fA-F0-9:]+)\]";
    let domain_and_port = format!(r"(?:{domain_name}|{ipv6})(?::[0-9]+)?");
    let name = format!(r"(?:{domain_and_port}/)?{path_component}(?:/{path_component})*");
    let tag = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    Regex::new(&format!(r"^({name})(?::({tag}))?(?:@({digest}))?$")).unwrap()
});

/// `domainAndPort` alone.
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    let domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let ipv6 = r"\[(?:[a-fA-F0-9:]+)\]";
    Regex::new(&format!(
        r"^(?:{domain_component}(?:\.{domain_component})*|{ipv6})(?::[0-9]+)?$"
    ))
    .unwrap()
});

/// What `ParseNormalizedNamed` followed by `TagNameOnly` gives, as a
/// normalised string, or `None` when it fails. Digests follow go-digest as the
/// engine links it: sha256/sha384/sha512 are exact lowercase hex, other
/// algorithms are unsupported.
fn oracle(s: &str) -> Option<String> {
    let (domain, remainder) = match s.find('/') {
        Some(i)
            if s[..i].contains(['.', ':'])
                || &s[..i] == "localhost"
                || s[..i].to_lowercase() != s[..i] =>
        {
            (&s[..i], &s[i + 1..])
        }
        _ => ("docker.io", s),
    };
    // Deliberate difference: Docker's regexp lets a first component such as
    // `a_b.c`, which it has taken for a registry but which is no hostname,
    // match as a path component instead, leaving a reference with an empty
    // registry. The crate rejects it.
    if domain != "docker.io" && !DOMAIN.is_match(domain) {
        return None;
    }
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let remainder = if domain == "docker.io" && !remainder.contains('/') {
        format!("library/{remainder}")
    } else {
        remainder.to_owned()
    };
    let full = format!("{domain}/{remainder}");
    let caps = REFERENCE.captures(&full)?;
    let name = caps.get(1)?.as_str();
    // Docker limits the path, not the registry (v0.6.0 on).
    if name.len() - domain.len() - 1 > 255 {
        return None;
    }
    if let Some(d) = caps.get(3) {
        let (alg, hex) = d.as_str().split_once(':')?;
        let registered = ["sha256", "sha384", "sha512"];
        if !registered.iter().any(|r| alg.eq_ignore_ascii_case(r)) {
            return None;
        }
        for (reg, len) in [("sha256", 64), ("sha384", 96), ("sha512", 128)] {
            if alg.eq_ignore_ascii_case(reg) {
                let lower_hex = hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                if alg != reg || hex.len() != len || !lower_hex {
                    return None;
                }
            }
        }
    }
    let mut out = name.to_owned();
    match (caps.get(2), caps.get(3)) {
        (Some(tag), _) => out.push_str(&format!(":{}", tag.as_str())),
        (None, None) => out.push_str(":latest"),
        (None, Some(_)) => {}
    }
    if let Some(d) = caps.get(3) {
        out.push_str(&format!("@{}", d.as_str()));
    }
    Some(out)
}

fn is_image_id(s: &str) -> bool {
    let hex64 =
        |h: &str| h.len() == 64 && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    hex64(s) || s.strip_prefix("sha256:").is_some_and(hex64)
}

fn hash_of<T: Hash>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

/// Checks the parser against the oracle and the invariants of any result.
fn check_agrees(s: &str) -> Result<(), TestCaseError> {
    let got = ImageRef::parse(s);
    if let Err(e) = &got {
        prop_assert!(e.offset() <= s.len(), "{s:?}: {e}");
        prop_assert!(s.is_char_boundary(e.offset()), "{s:?}: {e}");
        prop_assert!(!e.to_string().is_empty());
    }
    if is_image_id(s) {
        prop_assert_eq!(got.unwrap_err().kind().clone(), ErrorKind::ImageId);
        return Ok(());
    }
    match (got, oracle(s)) {
        (Ok(r), Some(want)) => {
            prop_assert_eq!(r.normalized(), want, "{:?}", s);
            check_round_trips(&r)?;
        }
        (Err(_), None) => {}
        (Ok(r), None) => prop_assert!(false, "{s:?} accepted as {r}, Docker rejects it"),
        (Err(e), Some(want)) => {
            prop_assert!(false, "{s:?} rejected ({e}), Docker reads {want}")
        }
    }
    Ok(())
}

fn check_round_trips(r: &ImageRef) -> Result<(), TestCaseError> {
    let n = r.normalized();
    let again = ImageRef::parse(&n);
    prop_assert!(
        again.is_ok(),
        "normalized {n:?} of {:?} rejected",
        r.original()
    );
    let again = again.unwrap();
    prop_assert_eq!(&again, r);
    prop_assert_eq!(hash_of(&again), hash_of(r));
    prop_assert_eq!(
        again.normalized(),
        n.clone(),
        "normalized is not idempotent"
    );
    prop_assert_eq!(again.registry(), r.registry());
    prop_assert_eq!(again.repository(), r.repository());
    prop_assert_eq!(again.effective_tag(), r.effective_tag());
    prop_assert_eq!(again.digest(), r.digest());

    let f = r.familiar();
    let back = ImageRef::parse(&f);
    prop_assert!(
        back.is_ok(),
        "familiar {f:?} of {:?} rejected",
        r.original()
    );
    let back = back.unwrap();
    prop_assert_eq!(&back, r, "familiar {:?} of {:?}", f, r.original());
    prop_assert_eq!(back.familiar(), f, "familiar is not idempotent");
    prop_assert!(back.same_repository(r));
    Ok(())
}

// ---------------------------------------------------------------------------
// Generators.

fn host_label() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]([A-Za-z0-9-]{0,4}[A-Za-z0-9])?"
}

fn port() -> impl Strategy<Value = Option<String>> {
    option::of((0u32..70000).prop_map(|p| format!(":{p}")))
}

fn domain() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("docker.io".to_owned()),
        Just("index.docker.io".to_owned()),
        Just("ghcr.io".to_owned()),
        port().prop_map(|p| format!("localhost{}", p.unwrap_or_default())),
        (host_label(), vec(host_label(), 1..3), port()).prop_map(|(first, rest, p)| {
            format!("{first}.{}{}", rest.join("."), p.unwrap_or_default())
        }),
        (host_label(), 0u32..70000).prop_map(|(h, p)| format!("{h}:{p}")),
        // Without a `:` inside, Docker does not take it for a registry.
        ("\\[[0-9a-fA-F]{0,4}:[0-9a-fA-F:]{0,10}\\]", port())
            .prop_map(|(h, p)| format!("{h}{}", p.unwrap_or_default())),
        ("[A-Z][A-Za-z0-9]{0,4}", port())
            .prop_map(|(h, p)| format!("{h}{}", p.unwrap_or_default())),
    ]
}

fn path_component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,5}(([._]|__|-{1,3})[a-z0-9]{1,5}){0,2}"
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{64}".prop_map(|h| format!("sha256:{h}")),
        "[0-9a-f]{96}".prop_map(|h| format!("sha384:{h}")),
        "[0-9a-f]{128}".prop_map(|h| format!("sha512:{h}")),
    ]
}

/// Well-formed digests of algorithms the engine does not support: refused.
fn unsupported_digest() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z][a-zA-Z0-9]{0,5}([-_+.][a-zA-Z][a-zA-Z0-9]{0,3}){0,2}",
        "[0-9a-fA-F]{32,40}",
    )
        .prop_filter("registered algorithm", |(alg, _)| {
            !["sha256", "sha384", "sha512"]
                .iter()
                .any(|r| alg.eq_ignore_ascii_case(r))
        })
        .prop_map(|(alg, hex)| format!("{alg}:{hex}"))
}

/// Valid references in every shape the grammar allows.
fn valid_reference() -> impl Strategy<Value = String> {
    (
        option::of(domain()),
        vec(path_component(), 1..4),
        option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        option::of(digest()),
    )
        .prop_filter(
            "without a registry, the first component must not read as one",
            |(domain, path, _, _)| {
                domain.is_some()
                    || path.len() == 1
                    || !(path[0].contains('.') || path[0] == "localhost")
            },
        )
        .prop_map(|(domain, path, tag, digest)| {
            let mut s = String::new();
            if let Some(d) = domain {
                s.push_str(&d);
                s.push('/');
            }
            s.push_str(&path.join("/"));
            if let Some(t) = tag {
                s.push(':');
                s.push_str(&t);
            }
            if let Some(d) = digest {
                s.push('@');
                s.push_str(&d);
            }
            s
        })
        .prop_filter("image ID", |s| !is_image_id(s))
}

/// Characters that matter to the grammar, plus a few that never belong.
const ALPHABET: &[char] = &[
    'a', 'b', 'z', 'A', 'Z', '0', '9', 'f', 'F', ':', '/', '@', '.', '_', '-', '[', ']', '+', ' ',
    'é', '\0',
];

#[derive(Clone, Debug)]
enum Edit {
    Insert(Index, Index),
    Delete(Index),
    Replace(Index, Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<Index>()).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), any::<Index>()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

/// A valid reference with a few characters inserted, deleted or replaced:
/// strings right at the edge of the grammar.
fn near_valid_reference() -> impl Strategy<Value = String> {
    (valid_reference(), vec(edit(), 1..3)).prop_map(|(s, edits)| {
        let mut chars: Vec<char> = s.chars().collect();
        for e in edits {
            match e {
                Edit::Insert(at, c) => {
                    let at = at.index(chars.len() + 1);
                    chars.insert(at, *c.get(ALPHABET));
                }
                Edit::Delete(at) if !chars.is_empty() => {
                    chars.remove(at.index(chars.len()));
                }
                Edit::Replace(at, c) if !chars.is_empty() => {
                    let at = at.index(chars.len());
                    chars[at] = *c.get(ALPHABET);
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// (1) Parsing never panics, and errors point inside the input.
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        match ImageRef::parse(&s) {
            Ok(r) => check_round_trips(&r)?,
            Err(e) => {
                prop_assert!(e.offset() <= s.len());
                prop_assert!(s.is_char_boundary(e.offset()));
            }
        }
        let _ = Digest::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_grammar_characters(
        chars in vec(proptest::sample::select(ALPHABET), 0..60)
    ) {
        let s: String = chars.into_iter().collect();
        check_agrees(&s)?;
        let _ = Digest::parse(&s);
    }

    /// (2) and (3): valid references parse, and their normalised and familiar
    /// forms parse back to equal references.
    #[test]
    fn valid_references_round_trip(s in valid_reference()) {
        let r = ImageRef::parse(&s);
        prop_assert!(r.is_ok(), "{s:?} rejected: {}", r.unwrap_err());
        let r = r.unwrap();
        prop_assert_eq!(r.original(), s.as_str());
        check_round_trips(&r)?;
    }

    /// The parser accepts exactly what Docker accepts, and normalises the
    /// same way.
    #[test]
    fn agrees_with_docker_on_valid_references(s in valid_reference()) {
        check_agrees(&s)?;
    }

    #[test]
    fn agrees_with_docker_near_valid_references(s in near_valid_reference()) {
        check_agrees(&s)?;
    }

    #[test]
    fn digests_round_trip(d in digest()) {
        let parsed = Digest::parse(&d);
        prop_assert!(parsed.is_ok(), "{d:?}");
        prop_assert_eq!(parsed.unwrap().to_string(), d);
    }

    /// (4) Digests the engine cannot verify are refused, as `docker pull`
    /// refuses them, and so are references carrying them.
    #[test]
    fn unsupported_digests_are_refused(d in unsupported_digest()) {
        let e = Digest::parse(&d).unwrap_err();
        prop_assert_eq!(e.kind(), &ErrorKind::UnsupportedDigestAlgorithm);
        let r = format!("redis@{d}");
        prop_assert_eq!(oracle(&r), None);
        prop_assert!(ImageRef::parse(&r).is_err());
    }
}

#[test]
fn oracle_sanity() {
    assert_eq!(
        oracle("redis").as_deref(),
        Some("docker.io/library/redis:latest")
    );
    assert_eq!(oracle("Foo/bar").as_deref(), Some("Foo/bar:latest"));
    assert_eq!(oracle("Foo/Bar"), None);
    assert_eq!(oracle("a//b"), None);
    assert_eq!(
        oracle("index.docker.io/x").as_deref(),
        Some("docker.io/library/x:latest")
    );
}
