//! Interpolation: every form in both directions, errors and their offsets.

use platformctl_interpolate::{
    InterpolationError, InterpolationErrorKind as K, MAX_NESTING, Missing, Vars, interpolate,
};

/// `FOO=first`, `BAR=""` (set but empty), `SECRET=<a value that must never
/// appear in errors>`; everything else unset.
fn vars() -> Vars {
    let mut v = Vars::new();
    v.set("FOO", "first");
    v.set("BAR", "");
    v.set("SECRET", "hunter2-s3cr3t");
    v
}

fn ok(input: &str) -> String {
    match interpolate(input, &vars()) {
        Ok(out) => out.value,
        Err(e) => panic!("{input:?} failed: {e}"),
    }
}

fn unset(input: &str) -> Vec<String> {
    interpolate(input, &vars()).unwrap().unset
}

fn fail(input: &str) -> InterpolationError {
    match interpolate(input, &vars()) {
        Ok(out) => panic!("{input:?} should fail, got {:?}", out.value),
        Err(e) => e,
    }
}

#[test]
fn plain_text_is_unchanged() {
    for s in ["", "nginx:1.27", "héllo wörld {x} }{", "a:-b ?c +d"] {
        assert_eq!(ok(s), s);
        assert!(unset(s).is_empty());
    }
}

#[test]
fn dollar_dollar_is_a_literal_dollar() {
    assert_eq!(ok("$$"), "$");
    assert_eq!(ok("$$FOO"), "$FOO");
    assert_eq!(ok("$${FOO}"), "${FOO}");
    assert_eq!(ok("$$$FOO"), "$first");
    assert_eq!(ok("$$$$"), "$$");
    assert_eq!(ok("echo $${FOO:?x}"), "echo ${FOO:?x}");
    assert!(unset("$$UNSET").is_empty());
}

#[test]
fn lone_dollar_is_kept_literally() {
    // compose-go v2: a `$` that starts nothing is not an error.
    for s in [
        "a $ string",
        "^REGEX$",
        "$}",
        "$",
        "$1",
        "$-x",
        "$:",
        "$é",
        "cost: 5$",
    ] {
        assert_eq!(ok(s), s, "{s:?}");
    }
}

#[test]
fn unbraced_variable() {
    assert_eq!(ok("$FOO"), "first");
    assert_eq!(ok("x${FOO}y$FOO"), "xfirstyfirst");
    // The name is as long as possible: `$FOO_bar` is the variable FOO_bar.
    assert_eq!(ok("$FOO_bar"), "");
    assert_eq!(unset("$FOO_bar"), ["FOO_bar"]);
    // Modifiers only exist in braces (docker/compose#8601).
    assert_eq!(ok("$FOO-bar"), "first-bar");
    assert_eq!(ok("$FOO:-bar"), "first:-bar");
    assert_eq!(ok("$FOO.$FOO"), "first.first");
    assert_eq!(ok("$_x9"), "");
}

#[test]
fn unset_and_empty_plain_references() {
    assert_eq!(ok("This ${MISSING} var"), "This  var");
    assert_eq!(unset("This ${MISSING} var"), ["MISSING"]);
    assert_eq!(ok("This $MISSING var"), "This  var");
    assert_eq!(unset("This $MISSING var"), ["MISSING"]);
    // Set but empty: not reported.
    assert_eq!(ok("This ${BAR} var"), "This  var");
    assert!(unset("This ${BAR} var").is_empty());
    // Each name once, in first-use order.
    assert_eq!(unset("$Z ${A} $Z $FOO ${A} $B"), ["Z", "A", "B"]);
}

#[test]
fn names_are_case_sensitive() {
    assert_eq!(ok("${foo}"), "");
    assert_eq!(unset("${foo}"), ["foo"]);
}

#[test]
fn default_when_unset_or_empty() {
    assert_eq!(ok("${MISSING:-def}"), "def");
    assert_eq!(ok("${BAR:-def}"), "def");
    assert_eq!(ok("${FOO:-def}"), "first");
    assert_eq!(ok("${MISSING:-}"), "");
    // A modifier form never reports its own name.
    assert!(unset("${MISSING:-def}").is_empty());
}

#[test]
fn default_when_unset_only() {
    assert_eq!(ok("${MISSING-def}"), "def");
    assert_eq!(ok("${BAR-def}"), "");
    assert_eq!(ok("${FOO-def}"), "first");
    assert!(unset("${MISSING-def}").is_empty());
}

#[test]
fn required_non_empty() {
    assert_eq!(ok("${FOO:?err}"), "first");
    let e = fail("not ok ${MISSING:?Mandatory Variable Unset}");
    assert_eq!(e.offset, 7);
    assert_eq!(
        e.kind,
        K::Required {
            name: "MISSING".into(),
            message: "Mandatory Variable Unset".into(),
            missing: Missing::Unset,
        }
    );
    let e = fail("${BAR:?must not be empty}");
    assert_eq!(
        e.kind,
        K::Required {
            name: "BAR".into(),
            message: "must not be empty".into(),
            missing: Missing::Empty,
        }
    );
    let e = fail("${MISSING:?}");
    assert_eq!(
        e.kind,
        K::Required {
            name: "MISSING".into(),
            message: String::new(),
            missing: Missing::Unset,
        }
    );
}

#[test]
fn required_set() {
    assert_eq!(ok("${FOO?err}"), "first");
    // Set but empty is fine for `?`.
    assert_eq!(ok("ok ${BAR?err}"), "ok ");
    let e = fail("${MISSING?Mandatory}");
    assert_eq!(e.offset, 0);
    assert_eq!(
        e.kind,
        K::Required {
            name: "MISSING".into(),
            message: "Mandatory".into(),
            missing: Missing::Unset,
        }
    );
}

#[test]
fn replacement_when_non_empty() {
    assert_eq!(ok("ok ${FOO:+presence}"), "ok presence");
    assert_eq!(ok("ok ${BAR:+presence}"), "ok ");
    assert_eq!(ok("ok ${MISSING:+presence}"), "ok ");
    assert!(unset("${MISSING:+x}").is_empty());
}

#[test]
fn replacement_when_set() {
    assert_eq!(ok("ok ${FOO+presence}"), "ok presence");
    assert_eq!(ok("ok ${BAR+presence}"), "ok presence");
    assert_eq!(ok("ok ${MISSING+presence}"), "ok ");
    assert!(unset("${MISSING+x}").is_empty());
}

#[test]
fn first_modifier_wins() {
    // compose-go TestPrecedence: the operator right after the name counts.
    let e = fail("${MISSING?bar-baz}");
    assert!(matches!(e.kind, K::Required { ref message, .. } if message == "bar-baz"));
    assert_eq!(ok("${MISSING-myerror?msg}"), "myerror?msg");
    assert_eq!(ok("${FOO?bar-baz}"), "first");
    assert_eq!(ok("ok ${BAR:-/non:-alphanumeric}"), "ok /non:-alphanumeric");
    assert_eq!(ok("${MISSING:-a:+b?c-d}"), "a:+b?c-d");
}

#[test]
fn outer_text_does_not_interfere() {
    // compose-go TestInterpolationExternalInterference.
    assert_eq!(ok("-ok ${BAR:-defaultValue}"), "-ok defaultValue");
    assert_eq!(ok("+ok ${UNSET:-${BAR-defaultValue}}"), "+ok ");
    assert_eq!(ok(":-ok ${UNSET-defaultValue}"), ":-ok defaultValue");
    assert_eq!(ok(":?ok ${BAR-defaultValue}"), ":?ok ");
    assert_eq!(ok("?ok ${BAR:-defaultValue}"), "?ok defaultValue");
}

#[test]
fn nested_defaults() {
    let mut v = Vars::new();
    let run = |v: &Vars| interpolate("${A:-${B:-x}}", v).unwrap().value;
    assert_eq!(run(&v), "x");
    v.set("B", "b");
    assert_eq!(run(&v), "b");
    v.set("A", "");
    assert_eq!(run(&v), "b");
    v.set("A", "a");
    assert_eq!(run(&v), "a");

    assert_eq!(ok("ok ${UNSET_VAR-$FOO}"), "ok first");
    assert_eq!(ok("ok ${UNSET_VAR-${FOO}}"), "ok first");
    assert_eq!(ok("ok ${UNSET_VAR-${FOO} ${FOO}}"), "ok first first");
    assert_eq!(ok("ok ${BAR:-${FOO} ${FOO}}"), "ok first first");
    assert_eq!(ok("ok ${BAR+$FOO ${FOO:+second}}"), "ok first second");
    assert_eq!(ok("${X:-${Y:-${Z:-deep}}}!"), "deep!");
    assert_eq!(ok("${X:-$$}"), "$");
    assert_eq!(ok("${X:-$}"), "$");
    assert_eq!(ok("${X:-a$}"), "a$");
}

#[test]
fn braces_inside_defaults() {
    // A bare `{…}` pair belongs to the default (compose-go counts braces).
    assert_eq!(ok(r#"${CFG:-{"a":1}}"#), r#"{"a":1}"#);
    assert_eq!(ok(r#"${FOO:-{"a":1}}"#), "first");
    assert_eq!(ok("${X:-{}}"), "{}");
    assert_eq!(ok("${X:-{{a}}}"), "{{a}}");
    // The first unmatched `}` closes the expression; the rest is text.
    assert_eq!(ok("${X:-a}b}"), "ab}");
    assert_eq!(ok("${FOO}}"), "first}");
    assert_eq!(ok("{${FOO}}"), "{first}");
    assert_eq!(ok("${X:-$${Y}}"), "${Y}");
}

#[test]
fn values_are_not_interpolated_again() {
    let mut v = Vars::new();
    v.set("A", "$B ${C:?boom} $$");
    v.set("B", "no");
    let out = interpolate("${A}|$A|${U:-$A}", &v).unwrap();
    assert_eq!(
        out.value,
        "$B ${C:?boom} $$|$B ${C:?boom} $$|$B ${C:?boom} $$"
    );
}

#[test]
fn unused_defaults_are_lazy_like_compose() {
    // compose-go v2.10.1 on: a default, message or replacement counts only when used.
    assert_eq!(ok("${FOO:-${OTHER:?needed}}"), "first");
    assert_eq!(ok("${FOO:-$UNSET_B}"), "first");
    assert!(unset("${FOO:-$UNSET_B}").is_empty());
    assert_eq!(ok("${FOO:?${X?inner}}"), "first");
    assert_eq!(ok("${MISSING:+${X?inner}}"), "");
    // TestLazyDefaultDoesNotWarn: `${A:+${A},}B` with A unset warns about nothing.
    assert_eq!(ok("${A:+${A},}B"), "B");
    assert!(unset("${A:+${A},}B").is_empty());
    // Used defaults still count (TestLazyDefaultWarnsWhenUsed).
    assert_eq!(unset("${A:-${B}}"), ["B"]);
    let e = fail("${MISSING:-${OTHER:?needed}}");
    assert_eq!(e.offset, 11);
    assert!(matches!(e.kind, K::Required { ref name, .. } if name == "OTHER"));
    // A malformed `${` inside an unused default is still an error.
    assert!(matches!(fail("${FOO:-${}}").kind, K::EmptyName));
}

#[test]
fn unicode_around_expressions() {
    let mut v = Vars::new();
    v.set("NAME", "wörld");
    let out = interpolate("héllo ${NAME} — ${MISSING:-ünïcode} $NAME€", &v).unwrap();
    assert_eq!(out.value, "héllo wörld — ünïcode wörld€");
}

#[test]
fn syntax_errors_with_offsets() {
    let cases: &[(&str, usize, K)] = &[
        ("${", 0, K::Unterminated),
        ("ab${", 2, K::Unterminated),
        ("${FOO", 0, K::Unterminated),
        ("x ${FOO:", 2, K::Unterminated),
        ("${FOO-", 0, K::Unterminated),
        ("${FOO:-abc", 0, K::Unterminated),
        ("${A:-${B:-x}", 0, K::Unterminated),
        ("${A:-${B", 5, K::Unterminated),
        ("${A:-{x}", 0, K::Unterminated),
        ("${}", 0, K::EmptyName),
        ("é${}", 2, K::EmptyName),
        ("x ${1abc}", 4, K::InvalidName),
        ("${ }", 2, K::InvalidName),
        ("${ foo}", 2, K::InvalidName),
        ("${é}", 2, K::InvalidName),
        ("${$}", 2, K::InvalidName),
        ("${foo }", 5, K::UnexpectedAfterName { name: "foo".into() }),
        ("${foo!}", 5, K::UnexpectedAfterName { name: "foo".into() }),
        ("${a.b}", 3, K::UnexpectedAfterName { name: "a".into() }),
        (
            "image: ${VAR:x}",
            13,
            K::UnknownModifier { name: "VAR".into() },
        ),
        ("${VAR:}", 6, K::UnknownModifier { name: "VAR".into() }),
        ("${VAR:=x}", 6, K::UnknownModifier { name: "VAR".into() }),
        ("ok ${X:-${}}", 8, K::EmptyName),
        ("${X:-ok} ${", 9, K::Unterminated),
    ];
    for (input, offset, kind) in cases {
        let e = fail(input);
        assert_eq!((e.offset, &e.kind), (*offset, kind), "{input:?}");
        assert!(input.is_char_boundary(e.offset));
    }
}

fn nested(depth: usize) -> String {
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str("${X:-");
    }
    s.push('v');
    for _ in 0..depth {
        s.push('}');
    }
    s
}

#[test]
fn nesting_is_capped() {
    assert_eq!(ok(&nested(MAX_NESTING)), "v");
    let e = fail(&nested(MAX_NESTING + 1));
    assert_eq!(e.kind, K::TooDeep { limit: MAX_NESTING });
    assert_eq!(e.offset, MAX_NESTING * 5);
    // Far deeper input fails cleanly instead of overflowing the stack.
    let e = fail(&nested(200_000));
    assert_eq!(e.kind, K::TooDeep { limit: MAX_NESTING });
    let e = fail(&"${X:-".repeat(200_000));
    assert_eq!(e.kind, K::TooDeep { limit: MAX_NESTING });
}

#[test]
fn errors_never_contain_values() {
    let secret = "hunter2-s3cr3t";
    let inputs = [
        "${SECRET:-${",
        "$SECRET ${SECRET:x}",
        "$SECRET ${SECRET!}",
        "${MISSING:?need ${SECRET} here}",
        "${MISSING?$SECRET}",
        "${BAR:-${MISSING:?boom} ${SECRET}}",
        "${BAR:?empty}",
        "${SECRET} ${}",
        "${SECRET} ${1}",
    ];
    for input in inputs {
        let e = fail(input);
        let shown = format!("{e} {e:?} {} {:?}", e.kind, e.kind);
        assert!(!shown.contains(secret), "{input:?}: {shown}");
    }
    // The author's message is shown as written (not interpolated).
    let e = fail("${MISSING:?need ${SECRET} here}");
    assert!(matches!(e.kind, K::Required { ref message, .. } if message == "need ${SECRET} here"));
}

#[test]
fn error_messages_say_what_to_do() {
    let e = fail("${DB_PASSWORD:?the database password}");
    assert_eq!(
        e.to_string(),
        "required variable DB_PASSWORD is not set: the database password; \
         set DB_PASSWORD in the environment or in the .env file (at byte 0)"
    );
    let e = fail("${BAR:?}");
    assert_eq!(
        e.to_string(),
        "required variable BAR is empty; give BAR a non-empty value in the \
         environment or in the .env file (at byte 0)"
    );
    let e = fail("ab${");
    assert!(e.to_string().contains("add the closing `}`"), "{e}");
    assert!(e.to_string().contains("`$$`"), "{e}");
    assert!(e.to_string().ends_with("(at byte 2)"), "{e}");
    let e = fail("${VAR:x}");
    assert!(e.to_string().contains("${VAR:"), "{e}");
    let e = fail(&nested(MAX_NESTING + 1));
    assert!(e.to_string().contains("64"), "{e}");
}

#[test]
fn many_image_strings_are_fast() {
    let mut v = Vars::new();
    v.set("REGISTRY", "registry.example.com");
    v.set("TAG", "1.27");
    let inputs: Vec<String> = (0..5000)
        .map(|i| format!("${{REGISTRY}}/team/service-{i}:${{TAG:-latest}}"))
        .collect();
    let start = std::time::Instant::now();
    for s in &inputs {
        let out = interpolate(s, &v).unwrap();
        assert!(out.value.ends_with(":1.27"));
    }
    // Generous bound for unoptimised debug builds on a loaded machine; in
    // practice this is a few microseconds per string.
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}
