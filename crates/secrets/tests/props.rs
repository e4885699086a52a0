//! Property tests: the scanners never panic, whatever the input, and every
//! hit is a well-formed span of the input.

use platformctl_secrets::{SecretHit, scan_pair, scan_text, scan_value};
use proptest::prelude::*;

/// Fragments that steer inputs into the interesting code paths: trigger
/// literals, separators, quotes, references, and multi-byte characters right
/// next to them.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-----BEGIN RSA PRIVATE KEY-----".to_owned()),
        Just("-----END RSA PRIVATE KEY-----".to_owned()),
        Just("gh".to_owned() + "p_"),
        Just("gl".to_owned() + "pat-"),
        Just("xo".to_owned() + "xb-"),
        Just("AK".to_owned() + "IA"),
        Just("AI".to_owned() + "za"),
        Just("sk".to_owned() + "-"),
        Just("sk".to_owned() + "-ant-"),
        Just("h".to_owned() + "f_"),
        Just("ey".to_owned() + "J"),
        Just("://".to_owned()),
        Just(":AA".to_owned()),
        Just("Authorization: Bearer ".to_owned()),
        Just("password".to_owned()),
        Just("PASSWORD".to_owned()),
        Just("token".to_owned()),
        Just("auth".to_owned()),
        Just("${".to_owned()),
        Just("}".to_owned()),
        Just("$".to_owned()),
        Just("{{".to_owned()),
        Just(": ".to_owned()),
        Just(":".to_owned()),
        Just("=".to_owned()),
        Just(" = ".to_owned()),
        Just("@".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("`".to_owned()),
        Just("\\".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("#".to_owned()),
        Just("--".to_owned()),
        Just("**".to_owned()),
        Just("|".to_owned()),
        Just("-".to_owned()),
        Just("é".to_owned()),
        Just("ß".to_owned()),
        Just("✓".to_owned()),
        Just("🔑".to_owned()),
        Just("\u{0301}".to_owned()),
        Just("\u{200b}".to_owned()),
        "[A-Za-z0-9_]{1,40}",
        "[A-Za-z0-9+/=._-]{1,80}",
        ".{0,12}",
    ]
}

fn stitched() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..24).prop_map(|parts| parts.concat())
}

fn input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), stitched()]
}

fn assert_well_formed(input: &str, hit: &SecretHit) {
    assert!(hit.len > 0, "empty hit {hit:?}");
    assert!(
        hit.end() <= input.len(),
        "{hit:?} past the end of {input:?}"
    );
    assert!(input.is_char_boundary(hit.offset), "{hit:?} in {input:?}");
    assert!(input.is_char_boundary(hit.end()), "{hit:?} in {input:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scan_value_never_panics(value in input()) {
        if let Some(hit) = scan_value(&value) {
            assert_well_formed(&value, &hit);
        }
    }

    #[test]
    fn scan_pair_never_panics(key in input(), value in input()) {
        if let Some(hit) = scan_pair(&key, &value) {
            assert_well_formed(&value, &hit);
        }
    }

    #[test]
    fn scan_text_never_panics_and_is_ordered(text in input()) {
        let hits = scan_text(&text);
        for hit in &hits {
            assert_well_formed(&text, hit);
        }
        for w in hits.windows(2) {
            prop_assert!(w[0].end() <= w[1].offset, "overlap or disorder: {:?}", hits);
        }
    }

    /// Whatever `scan_value` finds, `scan_text` finds too, and `scan_pair`
    /// finds it under any key.
    #[test]
    fn entry_points_agree(value in input()) {
        if let Some(hit) = scan_value(&value) {
            prop_assert!(scan_text(&value).contains(&hit));
            prop_assert_eq!(scan_pair("description", &value), Some(hit.clone()));
            prop_assert_eq!(scan_pair("password", &value), Some(hit));
        }
    }

    /// Adding a credential key only ever adds findings.
    #[test]
    fn credential_keys_only_add_findings(value in input()) {
        if scan_pair("description", &value).is_some() {
            prop_assert!(scan_pair("password", &value).is_some());
        }
    }
}
