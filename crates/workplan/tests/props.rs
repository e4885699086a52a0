//! Property tests: the parser never panics, and finds exactly the `## Task:` headings a
//! CommonMark renderer shows (outside fences), in LF, CRLF and BOM files alike.

mod common;

use common::*;
use platformctl_workplan::{IdTarget, apply_edits, id_edit, parse};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "```",
    "```task",
    "```bash",
    "```yaml",
    "````",
    "````markdown",
    "~~~",
    "~~~~sql",
    "id: WP-1-T99",
    "status: todo",
    "status: nonsense",
    "needs_human: true",
    "",
    "",
    "Progress 2026-06-02: restored the dump, see `## Task:` notes",
    "text with ## Task: in the middle",
    "- item",
    "  - nested item",
    "1. ordered",
    "- [ ] open checkbox",
    "- ```bash",
    "> quote",
    "> ## Task: quoted",
    "> ```yaml",
    "| a | ## Task: cell |",
    "|---|---|",
    "<!-- ## Task: commented -->",
    "    indented code ## Task: x",
    "### Subheading",
    "## Notes",
    "# Title",
    "SELECT 1; -- ```task",
];

/// A line of the generated body: a fragment or a task heading.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => (0u32..1000).prop_map(|n| format!("## Task: T{n}")),
    ]
}

/// The `## Task:` headings outside top-level fences, by a simple fence tracker (valid for the
/// fragments above: every fence that can hide a column-0 line starts at column 0).
fn oracle(lines: &[String]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_end();
        let run = |c: char| t.chars().take_while(|&x| x == c).count();
        match fence {
            Some((c, n)) => {
                if run(c) >= n && t.chars().all(|x| x == c) {
                    fence = None;
                }
            }
            None => {
                for c in ['`', '~'] {
                    if run(c) >= 3 {
                        fence = Some((c, run(c)));
                    }
                }
                if fence.is_none()
                    && let Some(title) = t.strip_prefix("## Task: ")
                {
                    out.push((title.to_string(), i));
                }
            }
        }
    }
    out
}

const HEADER_LINES: usize = 6;

fn build(lines: &[String], crlf: bool, bom: bool) -> String {
    let mut text = doc(&front("active"), &(lines.join("\n") + "\n"));
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    if bom {
        text.insert(0, '\u{FEFF}');
    }
    text
}

proptest! {
    // 512 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn finds_exactly_the_task_headings(lines in prop::collection::vec(line(), 0..60), crlf: bool, bom: bool) {
        let text = build(&lines, crlf, bom);
        let (wp, _) = parse(&text, "p.md".as_ref());
        let want = oracle(&lines);
        let got: Vec<(String, usize)> = wp
            .tasks
            .iter()
            .map(|t| (t.heading.clone(), t.heading_line as usize - HEADER_LINES - 1))
            .collect();
        prop_assert_eq!(got, want, "{}", text);
    }

    #[test]
    fn writing_an_id_changes_nothing_else(lines in prop::collection::vec(line(), 0..40), crlf: bool) {
        let text = build(&lines, crlf, false);
        let (wp, _) = parse(&text, "p.md".as_ref());
        for i in 0..wp.tasks.len() {
            if let Ok(Some(edit)) = id_edit(&text, &wp, IdTarget::Task(i), "0b7c4d1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f") {
                let out = apply_edits(&text, std::slice::from_ref(&edit));
                prop_assert_eq!(&out[..edit.span.start], &text[..edit.span.start]);
                prop_assert_eq!(&out[edit.span.start + edit.text.len()..], &text[edit.span.end..]);
                let (after, _) = parse(&out, "p.md".as_ref());
                prop_assert_eq!(after.tasks.len(), wp.tasks.len());
                prop_assert_eq!(
                    after.tasks[i].state_hub_task_id.as_deref(),
                    Some("0b7c4d1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f")
                );
            }
        }
    }

    #[test]
    fn never_panics_on_any_text(text in any::<String>()) {
        check_invariants(&text);
    }

    #[test]
    fn never_panics_on_markdownish_noise(
        parts in prop::collection::vec(
            proptest::sample::select(&[
                "#", "## ", "Task", "task", ":", "`", "```", "~~~", "---", "...", "\n", "\r\n", "\r",
                " ", "\t", ">", "- ", "|", "<!--", "-->", "\u{FEFF}", "é", "id: x", "status: todo",
                "{", "}", "[", "]", "&a", "*a", "\"", "'", "\\",
            ][..]),
            0..200,
        )
    ) {
        check_invariants(&parts.concat());
    }
}

fn check_invariants(text: &str) {
    let (wp, findings) = parse(text, "p.md".as_ref());
    let lines = text.split('\n').count() as u32;
    for t in &wp.tasks {
        assert!(t.heading_line >= 1 && t.heading_line <= lines);
        assert!(t.section.start <= t.section.end && t.section.end <= text.len());
        if let Some(b) = t.block {
            assert!(b.span.end <= text.len() && b.content.start <= b.content.end);
            assert!(text.is_char_boundary(b.content.start) && text.is_char_boundary(b.content.end));
        }
    }
    if let Some(fm) = wp.frontmatter {
        assert!(fm.content.end <= text.len());
    }
    for f in &findings {
        assert!(f.line >= 1 && f.line <= lines.max(1), "{f:?}");
    }
}
