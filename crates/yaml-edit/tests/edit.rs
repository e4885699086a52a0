//! The editor's contract: new blocks where a person would put them, every other byte kept,
//! refusals where an edit would reach further than intended.

use platformctl_yaml_edit::{EditError, Editor, Value};
use proptest::prelude::*;

const ORDER: &[&str] = &["runtime", "source", "artifact", "update", "drift"];

fn source() -> Value {
    Value::map([
        ("type", Value::str("upstream-image")),
        ("repository", Value::str("minio/minio")),
    ])
}

fn insert(src: &str, key: &str, v: &Value) -> Result<String, EditError> {
    let mut ed = Editor::new(src)?;
    ed.insert(&["spec"], key, v, ORDER)?;
    Ok(ed.text())
}

/// `new` is `old` with bytes inserted at one place, nothing else changed.
fn only_inserted(old: &str, new: &str) -> bool {
    let (o, n) = (old.as_bytes(), new.as_bytes());
    let p = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    let max_s = o.len().min(n.len()) - p;
    let s = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take(max_s)
        .take_while(|(a, b)| a == b)
        .count();
    p + s == o.len() && n.len() > o.len()
}

#[test]
fn after_runtime_keeping_its_trailing_comment() {
    let src = "spec:\n  runtime:\n    host: a   # the box\n    # about runtime\n\n  # the policy\n  update:\n    policy: manual\n";
    let out = insert(src, "source", &source()).unwrap();
    assert_eq!(
        out,
        "spec:\n  runtime:\n    host: a   # the box\n    # about runtime\n  source:\n    type: upstream-image\n    repository: minio/minio\n\n  # the policy\n  update:\n    policy: manual\n"
    );
    assert!(only_inserted(src, &out));
}

#[test]
fn before_the_first_later_key_with_its_comments() {
    let src = "spec:\n  # policy first\n  update:\n    policy: manual\n";
    let out = insert(src, "source", &source()).unwrap();
    assert_eq!(
        out,
        "spec:\n  source:\n    type: upstream-image\n    repository: minio/minio\n  # policy first\n  update:\n    policy: manual\n"
    );
}

#[test]
fn crlf_bom_four_spaces_and_no_final_newline() {
    let src = "\u{FEFF}spec:\r\n    runtime:\r\n        host: 'a'";
    let out = insert(src, "source", &source()).unwrap();
    assert_eq!(
        out,
        "\u{FEFF}spec:\r\n    runtime:\r\n        host: 'a'\r\n    source:\r\n        type: upstream-image\r\n        repository: minio/minio"
    );
    assert!(only_inserted(src, &out));
}

#[test]
fn end_of_spec_before_a_later_top_level_key() {
    let src = "spec:\n  runtime:\n    host: a\n\n# trailer\nother: 1\n";
    let out = insert(
        src,
        "update",
        &Value::map([("policy", Value::str("manual"))]),
    )
    .unwrap();
    assert_eq!(
        out,
        "spec:\n  runtime:\n    host: a\n  update:\n    policy: manual\n\n# trailer\nother: 1\n"
    );
}

#[test]
fn lists_and_block_scalars() {
    let src = "spec:\n  runtime:\n    note: |\n      two\n      lines\n\n  drift:\n    accept:\n    - code: X\n      reason: y\n";
    let out = insert(src, "source", &source()).unwrap();
    assert!(out.contains("      lines\n  source:\n"), "{out}");
    let mut ed = Editor::new(src).unwrap();
    let item = Value::map([
        ("code", Value::str("IMAGE")),
        ("reason", Value::str("a: b")),
    ]);
    ed.insert(
        &["spec", "drift"],
        "until",
        &Value::List(vec![item]),
        &["accept", "until"],
    )
    .unwrap();
    assert!(
        ed.text().ends_with("    - code: X\n      reason: y\n    until:\n      - code: IMAGE\n        reason: \"a: b\"\n"),
        "{}",
        ed.text()
    );
}

#[test]
fn quoting_what_would_not_read_back() {
    let v = Value::map([
        ("a", Value::str("true")),
        ("b", Value::str("12")),
        ("c", Value::str("x # y")),
        ("d", Value::str("")),
        ("e", Value::str("2026-05-20")),
        (
            "f",
            Value::str("docker.io/minio/minio:RELEASE.2024-11-07T00-52-20Z"),
        ),
    ]);
    let out = insert("spec:\n  runtime: {}\n", "source", &v);
    // runtime is a flow mapping, but the edit is into spec, which is block: fine.
    let out = out.unwrap();
    assert!(out.contains("    a: \"true\"\n    b: \"12\"\n    c: \"x # y\"\n    d: \"\"\n    e: 2026-05-20\n    f: docker.io/minio/minio:RELEASE.2024-11-07T00-52-20Z\n"), "{out}");
}

#[test]
fn refusals() {
    let anchored = "spec: &s\n  runtime:\n    host: a\nother: *s\n";
    assert!(matches!(
        insert(anchored, "source", &source()),
        Err(EditError::Anchored { line: 1, .. })
    ));
    let alias = "base: &b\n  runtime:\n    host: a\nspec: *b\n";
    assert!(matches!(
        insert(alias, "source", &source()),
        Err(EditError::Anchored { .. })
    ));
    let flow = "spec: {runtime: {host: a}}\n";
    assert!(matches!(
        insert(flow, "source", &source()),
        Err(EditError::Unsupported { .. })
    ));
    let merge = "base: &b\n  host: a\nspec:\n  <<: *b\n  runtime: {}\n";
    assert!(matches!(
        insert(merge, "source", &source()),
        Err(EditError::Unsupported { .. })
    ));
    let exists = "spec:\n  source:\n    type: fork\n";
    assert!(matches!(
        insert(exists, "source", &source()),
        Err(EditError::Exists { .. })
    ));
    assert!(matches!(
        insert("other: 1\n", "source", &source()),
        Err(EditError::NoSuchPath { .. })
    ));
    assert!(matches!(Editor::new("a: [\n"), Err(EditError::Parse(_))));
    // An anchor elsewhere (on a sibling's value) is no reason to refuse.
    let sibling = "spec:\n  runtime: &rt\n    host: a\nx: *rt\n";
    assert!(insert(sibling, "source", &source()).is_ok());
}

#[test]
fn set_scalar_keeps_the_comment_and_the_style() {
    let src = "spec:\n  runtime:\n    image_observed: redis:7   # audit\n    image_observed_at: '2026-01-01'\r\n";
    let mut ed = Editor::new(src).unwrap();
    ed.set_scalar(
        &["spec", "runtime", "image_observed"],
        "redis:7.4@sha256:abc",
    )
    .unwrap();
    ed.set_scalar(&["spec", "runtime", "image_observed_at"], "2026-06-01")
        .unwrap();
    assert_eq!(
        ed.text(),
        "spec:\n  runtime:\n    image_observed: redis:7.4@sha256:abc   # audit\n    image_observed_at: 2026-06-01\r\n"
    );
    let anchored = "spec:\n  runtime:\n    image_observed: &i redis:7\n";
    let mut ed = Editor::new(anchored).unwrap();
    assert!(matches!(
        ed.set_scalar(&["spec", "runtime", "image_observed"], "x"),
        Err(EditError::Anchored { line: 3, .. })
    ));
}

// ---- property: generated manifests, every pre-existing byte stays --------------------------

fn quoted(style: u8, s: &str) -> String {
    match style % 3 {
        0 => s.to_string(),
        1 => format!("'{s}'"),
        _ => format!("\"{s}\""),
    }
}

#[derive(Debug, Clone)]
struct Shape {
    bom: bool,
    crlf: bool,
    step: usize,
    header: bool,
    styles: [u8; 4],
    value_comments: [bool; 4],
    runtime_trailer: bool,
    blank_after_runtime: bool,
    update: bool,
    drift: bool,
    final_newline: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(2usize), Just(4usize), Just(3usize)],
            any::<bool>(),
        ),
        (any::<[u8; 4]>(), any::<[bool; 4]>()),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (bom, crlf, step, header),
                (styles, value_comments),
                (rt, blank, update, drift, fin),
            )| Shape {
                bom,
                crlf,
                step,
                header,
                styles,
                value_comments,
                runtime_trailer: rt,
                blank_after_runtime: blank,
                update,
                drift,
                final_newline: fin,
            },
        )
}

fn manifest(s: &Shape) -> String {
    let p = |n: usize| " ".repeat(n * s.step);
    let c = |i: usize| {
        if s.value_comments[i] {
            "   # note: keep me"
        } else {
            ""
        }
    };
    let mut lines = Vec::new();
    if s.header {
        lines.push("# yaml-language-server: $schema=../../schema/module.schema.json".to_string());
    }
    lines.push("apiVersion: platform/v2".into());
    lines.push("kind: Module".into());
    lines.push("metadata:".into());
    lines.push(format!(
        "{}name: {}{}",
        p(1),
        quoted(s.styles[0], "minio"),
        c(0)
    ));
    lines.push(format!("{}description: \"S3: the \\\"store\\\"\"", p(1)));
    lines.push("spec:".into());
    lines.push(format!("{}runtime:{}", p(1), c(1)));
    lines.push(format!("{}host: {}", p(2), quoted(s.styles[1], "rs2000")));
    lines.push(format!(
        "{}image_observed: {}{}",
        p(2),
        quoted(s.styles[2], "minio/minio:RELEASE.2024"),
        c(2)
    ));
    lines.push(format!(
        "{}image_observed_at: {}",
        p(2),
        quoted(s.styles[3], "2026-05-20")
    ));
    if s.runtime_trailer {
        lines.push(format!("{}# checked by hand", p(2)));
    }
    if s.blank_after_runtime {
        lines.push(String::new());
    }
    if s.update {
        lines.push(format!("{}# why manual", p(1)));
        lines.push(format!("{}update:", p(1)));
        lines.push(format!("{}policy: manual{}", p(2), c(3)));
    }
    if s.drift {
        lines.push(format!("{}drift:", p(1)));
        lines.push(format!("{}accept:", p(2)));
        lines.push(format!("{}- code: IMAGE_DRIFT", p(2)));
        lines.push(format!("{}  reason: 'it''s fine'", p(2)));
    }
    let eol = if s.crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(eol);
    if s.final_newline {
        out.push_str(eol);
    }
    if s.bom {
        out.insert(0, '\u{FEFF}');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn every_pre_existing_byte_stays(s in shape(), parts in 1usize..=3) {
        let original = manifest(&s);
        let mut ed = Editor::new(&original).unwrap();
        let blocks = [
            ("source", source()),
            ("artifact", Value::map([("type", Value::str("oci-image")), ("reference", Value::str("docker.io/minio/minio:RELEASE.2024"))])),
            ("update", Value::map([("policy", Value::str("manual")), ("reason", Value::str("stateful; needs restore evidence"))])),
        ];
        let mut before = original.clone();
        for (key, v) in blocks.iter().take(parts) {
            if ed.has(&["spec"], key) {
                continue;
            }
            ed.insert(&["spec"], key, v, ORDER).unwrap();
            let after = ed.text();
            prop_assert!(only_inserted(&before, &after), "{before:?}\n--->\n{after:?}");
            // Inserted text is whole lines in the file's line ending.
            if s.crlf {
                prop_assert_eq!(after.matches('\n').count(), after.matches("\r\n").count());
            } else {
                prop_assert!(!after.contains('\r'));
            }
            before = after;
        }
        // The same blocks in one edit: the file minus the inserted lines is the original.
        let mut one = Editor::new(&original).unwrap();
        let wanted: Vec<(&str, &Value)> = blocks
            .iter()
            .take(parts)
            .filter(|(k, _)| !one.has(&["spec"], k))
            .map(|(k, v)| (*k, v))
            .collect();
        one.insert_all(&["spec"], &wanted, ORDER).unwrap();
        prop_assert_eq!(one.text(), ed.text());
        let once = one.text();
        if s.final_newline {
            let diff = similar::TextDiff::from_lines(&original, &once);
            for op in diff.ops() {
                prop_assert!(matches!(op.tag(), similar::DiffTag::Equal | similar::DiffTag::Insert));
            }
        } else {
            // The last line has no break, so a line diff sees it changed; the bytes did not.
            prop_assert!(only_inserted(&original, &once));
        }
        // A second pass proposes nothing: every block is there.
        for (key, _) in blocks.iter().take(parts) {
            prop_assert!(ed.has(&["spec"], key));
        }
    }
}
