//! No message built from a hit contains the secret, any prefix of it, or any
//! four-character piece of it.

mod common;

use common::*;
use platformctl_secrets::{SecretHit, scan_pair, scan_text, scan_value};

/// Every rendering of a hit a caller could print.
fn renderings(hit: &SecretHit) -> Vec<String> {
    vec![
        hit.kind.describe(),
        hit.kind.to_string(),
        format!("{:?}", hit.kind),
        format!("{:#?}", hit.kind),
        hit.to_string(),
        format!("{hit:?}"),
        format!("{hit:#?}"),
        Box::<dyn std::error::Error>::from(hit.clone()).to_string(),
    ]
}

#[track_caller]
fn assert_no_leak(input: &str, hit: &SecretHit) {
    let secret = &input[hit.offset..hit.end()];
    assert!(!secret.is_empty());
    let chars: Vec<char> = secret.chars().collect();
    let window = chars.len().min(4);
    for out in renderings(hit) {
        assert!(!out.contains(secret), "{out:?} contains the secret");
        for piece in chars.windows(window) {
            let piece: String = piece.iter().collect();
            assert!(
                !out.contains(&piece),
                "{out:?} contains {piece:?}, a piece of the secret"
            );
        }
    }
}

fn fixtures() -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = known_tokens()
        .into_iter()
        .map(|(_, token)| ("GENERIC_VALUE".to_owned(), token))
        .collect();
    pairs.push(("tls_key_pem".to_owned(), pem_block("OPENSSH PRIVATE KEY")));
    pairs.push(("tls_key_pem".to_owned(), pem_block("PGP PRIVATE KEY BLOCK")));
    pairs.push(("session".to_owned(), jwt(5)));
    pairs.push((
        "DATABASE_URL".to_owned(),
        "postgres://app:Zq8rT1vX9w@db/app".to_owned(),
    ));
    pairs.push((
        "curl".to_owned(),
        format!("Authorization: Bearer {}", rnd(6, 40, ALNUM)),
    ));
    for (k, v) in [
        ("POSTGRES_PASSWORD", "hunter2"),
        ("MYSQL_ROOT_PASSWORD", "changeme"),
        ("client_secret", "f47ac10b-58cc-4372-a567-0e02b2c3d479"),
        ("api_key", "0123456789abcdef"),
        ("passphrase", "correct horse battery staple"),
        ("basic_auth", "admin:Zq8rT1vX9w"),
        ("token", "Ünïcødé-tøkéñ-✓"),
        ("environment", "DB_PASSWORD=Zq8rT1vX9w"),
    ] {
        pairs.push((k.to_owned(), v.to_owned()));
    }
    pairs
}

#[test]
fn no_rendering_of_a_hit_contains_the_secret() {
    let mut checked = 0;
    for (key, value) in fixtures() {
        let hit = scan_pair(&key, &value).unwrap_or_else(|| panic!("fixture not flagged: {key}"));
        assert_no_leak(&value, &hit);
        if let Some(hit) = scan_value(&value) {
            assert_no_leak(&value, &hit);
        }
        for text in [
            format!("{key}: \"{value}\"\n"),
            format!("- {key}={value}"),
            value.clone(),
        ] {
            for hit in scan_text(&text) {
                assert_no_leak(&text, &hit);
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "only {checked} text hits checked");
}

#[test]
fn the_span_is_the_whole_secret() {
    // A caller may blank out `offset..end()` before showing a line: nothing
    // of the secret may remain outside the span.
    for (key, value) in fixtures() {
        let line = format!("{key}=\"{value}\" # ok");
        let hits = scan_text(&line);
        assert!(!hits.is_empty(), "{key}");
        let mut blanked = line.clone();
        for hit in hits.iter().rev() {
            blanked.replace_range(hit.offset..hit.end(), "***");
        }
        let secret = value.strip_prefix("DB_PASSWORD=").unwrap_or(&value);
        let secret = secret
            .strip_prefix("Authorization: Bearer ")
            .unwrap_or(secret);
        let secret = secret
            .strip_prefix("postgres://app:")
            .map_or(secret, |s| s.split('@').next().expect("fixture has a host"));
        assert!(!blanked.contains(secret), "{blanked:?}");
    }
}
