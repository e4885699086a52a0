//! Property tests: no panics, identity without `$`, `$$` escaping, and no
//! value ever leaking into an error.

use platformctl_interpolate::{Vars, interpolate, parse_dotenv, parse_dotenv_lenient};
use proptest::prelude::*;

const SECRET: &str = "zzSECRETzz";

/// Some variables set, one empty, all with a value that the generated
/// templates cannot contain (they use lowercase letters only).
fn vars() -> Vars {
    let mut v = Vars::new();
    v.set("a", SECRET);
    v.set("b", "");
    v.set("A", SECRET);
    v.set("ab", SECRET);
    v
}

/// Strings dense in interpolation syntax.
fn template() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("$".to_string()),
            Just("${".to_string()),
            Just("}".to_string()),
            Just("{".to_string()),
            Just(":-".to_string()),
            Just(":?".to_string()),
            Just(":+".to_string()),
            Just("-".to_string()),
            Just("?".to_string()),
            Just("+".to_string()),
            Just(":".to_string()),
            Just("$$".to_string()),
            "[a-c_0-9]{1,3}",
            "[ é\n\\\\\"']",
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// `.env`-like text dense in its syntax.
fn dotenv_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("=".to_string()),
            Just(":".to_string()),
            Just("#".to_string()),
            Just(" ".to_string()),
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("export ".to_string()),
            Just("\u{feff}".to_string()),
            "\\\\[0-7nrt$\"'x]{1,4}",
            template(),
            "[a-z_.é-]{1,4}",
        ],
        0..20,
    )
    .prop_map(|parts| parts.concat())
}

fn assert_no_leak(shown: &str) -> Result<(), TestCaseError> {
    prop_assert!(!shown.contains(SECRET), "leaked a value: {}", shown);
    Ok(())
}

proptest! {
    #[test]
    fn interpolate_never_panics_on_any_string(s in any::<String>()) {
        let _ = interpolate(&s, &vars());
    }

    #[test]
    fn interpolate_never_panics_on_templates(s in template()) {
        match interpolate(&s, &vars()) {
            Ok(out) => assert_no_leak(&format!("{out:?}"))?,
            Err(e) => {
                prop_assert!(e.offset < s.len(), "offset {} out of {:?}", e.offset, s);
                prop_assert!(s.is_char_boundary(e.offset));
                assert_no_leak(&format!("{e} {e:?}"))?;
            }
        }
    }

    #[test]
    fn text_without_dollar_is_unchanged(s in "[^$]*") {
        let out = interpolate(&s, &vars()).unwrap();
        prop_assert_eq!(&out.value, &s);
        prop_assert!(out.unset.is_empty());
    }

    #[test]
    fn doubled_dollars_give_back_the_input(s in any::<String>()) {
        let escaped = s.replace('$', "$$");
        let out = interpolate(&escaped, &vars()).unwrap();
        prop_assert_eq!(&out.value, &s);
        prop_assert!(out.unset.is_empty());
    }

    #[test]
    fn doubled_dollars_give_back_templates(s in template()) {
        let escaped = s.replace('$', "$$");
        prop_assert_eq!(interpolate(&escaped, &vars()).unwrap().value, s);
    }

    #[test]
    fn parse_dotenv_never_panics_on_any_string(s in any::<String>()) {
        let _ = parse_dotenv(&s, &vars());
    }

    #[test]
    fn parse_dotenv_never_panics_on_dotenv_text(s in dotenv_text()) {
        // Keys may be empty: compose-go reads `="value"` as the key "" (issue 9).
        let (lenient, errors) = parse_dotenv_lenient(&s, &vars());
        for e in &errors {
            assert_no_leak(&format!("{e} {e:?}"))?;
        }
        match parse_dotenv(&s, &vars()) {
            Ok(pairs) => {
                prop_assert!(errors.is_empty());
                prop_assert_eq!(pairs, lenient);
            }
            Err(e) => {
                let body = s.strip_prefix('\u{feff}').unwrap_or(&s);
                prop_assert!(e.line >= 1 && e.line <= body.split('\n').count());
                prop_assert!(e.column >= 1);
                assert_no_leak(&format!("{e} {e:?}"))?;
            }
        }
    }
}
