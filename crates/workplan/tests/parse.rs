//! The parser on the constructs real workplans contain: it must find every task and invent
//! none.

mod common;

use common::*;
use platformctl_workplan::{Code, LineEnding, TaskStatus, WorkplanStatus};

fn active_with(body: &str) -> String {
    doc(&front("active"), body)
}

/// A date that does not exist is refused where it is written, never rolled over
/// (`2026-02-31` is not March 3).
#[test]
fn an_impossible_date_is_refused_at_its_line_and_column() {
    let body = "# WP-1\n";
    for (front, line, column) in [
        (
            "id: WP-1\ntitle: t\nstatus: active\ncreated: 2026-02-31\n",
            5,
            10,
        ),
        (
            "id: WP-1\ntitle: t\nstatus: active\nupdated:   \"2026-04-31\"\n",
            5,
            12,
        ),
    ] {
        let (wp, f) = parse_str(&doc(front, body));
        assert_eq!((wp.created, wp.updated), (None, None));
        let dates: Vec<_> = f
            .iter()
            .filter(|f| f.message.contains("must be a date"))
            .collect();
        assert_eq!(dates.len(), 1, "{front:?}: {f:?}");
        assert_eq!(
            (dates[0].code, dates[0].line, dates[0].column),
            (Code::C01, line, column),
            "{front:?}"
        );
    }
}

#[test]
fn reads_frontmatter_and_tasks() {
    let text = doc(
        "id: OPS-WP-0007\ntype: workplan\ntitle: \"Backup restore drills\"\nstatus: active\n\
         owner: ops\nplanning_priority: high\nplanning_order: 7\ncreated: \"2026-06-01\"\n\
         updated: 2026-06-03\nstate_hub_workstream_id: \"611b1f37-9b58-4e0e-b599-74576406fb3a\"\n",
        "# OPS-WP-0007\n\n## Task: Restore postgres\n```task\nid: OPS-WP-0007-T01\n\
         status: progress\npriority: high\nneeds_human: true\nneeds_human_reason: approve disk\n\
         state_hub_task_id: \"789b9d63-520e-4892-9d71-4ecd47585ca4\"\n```\n\
         Progress 2026-06-02: restored.\nCompleted 2026-06-03: verified.\n",
    );
    let (wp, f) = parse_str(&text);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(wp.id.as_deref(), Some("OPS-WP-0007"));
    assert_eq!(wp.title.as_deref(), Some("Backup restore drills"));
    assert_eq!(wp.status, Some(WorkplanStatus::Active));
    assert_eq!(wp.owner.as_deref(), Some("ops"));
    assert_eq!(wp.planning_order, Some(7));
    assert_eq!(wp.created, Some(jiff::civil::date(2026, 6, 1)));
    assert_eq!(wp.updated, Some(jiff::civil::date(2026, 6, 3)));
    assert_eq!(
        wp.state_hub_workstream_id.as_deref(),
        Some("611b1f37-9b58-4e0e-b599-74576406fb3a")
    );
    assert_eq!(wp.frontmatter_lines(), Some((1, 12)));
    let t = &wp.tasks[0];
    assert_eq!(t.heading, "Restore postgres");
    assert_eq!(t.heading_line, 15);
    assert_eq!(t.block_line(), Some(16));
    assert_eq!(t.block.unwrap().close_line, Some(23));
    assert_eq!(t.id.as_deref(), Some("OPS-WP-0007-T01"));
    assert_eq!(t.status, Some(TaskStatus::Progress));
    assert_eq!(t.needs_human, Some(true));
    assert_eq!(t.needs_human_reason.as_deref(), Some("approve disk"));
    assert_eq!(
        t.state_hub_task_id.as_deref(),
        Some("789b9d63-520e-4892-9d71-4ecd47585ca4")
    );
    assert_eq!(
        t.notes,
        "Progress 2026-06-02: restored.\nCompleted 2026-06-03: verified."
    );
    assert_eq!(t.notes_lines, Some((24, 25)));
    assert_eq!(t.locs.id.unwrap().line, 17);
    assert_eq!(t.locs.id.unwrap().column, 5);
}

// ------------------------------------------------------------------ must not invent a task

#[test]
fn task_heading_inside_other_fences_is_not_a_task() {
    let body = "```bash\n## Task: in bash\necho '```task'\n```\n\n\
                ~~~\n## Task: in tilde\n```task\nid: WP-1-T09\nstatus: todo\n```\n~~~\n\n\
                ````markdown\n## Task: template\n```task\nid: WP-1-Tnn\nstatus: todo\n```\n````\n\n\
                ```sql\n-- ## Task: in sql\nSELECT 1;\n```\n\n"
        .to_string()
        + &task("Real", "WP-1-T01", "todo");
    let (wp, f) = parse_str(&active_with(&body));
    assert_eq!(headings(&wp), ["Real"]);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn indented_code_comments_quotes_tables_and_inline_are_not_tasks() {
    let body = "Intro:\n\n    ## Task: indented code\n\n\
                <!--\n## Task: commented out\n```task\nid: WP-1-T08\nstatus: todo\n```\n-->\n\n\
                > ## Task: quoted\n> ```task\n> id: WP-1-T07\n> ```\n\n\
                | col | text |\n|---|---|\n| 1 | ## Task: in a table |\n\n\
                Inline `## Task: code` and text ## Task: mid-line.\n\n"
        .to_string()
        + &task("Real", "WP-1-T01", "todo");
    let (wp, f) = parse_str(&active_with(&body));
    assert_eq!(headings(&wp), ["Real"]);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn list_item_fences_hold_text_and_tasks_after_lists_are_found() {
    let body = "- step one\n  - nested\n    ```bash\n    ## Task: in a nested fence\n    ```\n\
                - ```yaml\n  ## Task: in an item fence\n  ```\n"
        .to_string()
        + &task("After the list", "WP-1-T01", "todo")
        + "1. first\n2. second\n   - [ ] sub\n"
        + &task("After an ordered list", "WP-1-T02", "done");
    let (wp, f) = parse_str(&active_with(&body));
    assert_eq!(headings(&wp), ["After the list", "After an ordered list"]);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn other_heading_levels_and_shapes_are_not_tasks() {
    let body =
        "### Task: level three\n\n# Task: level one\n\n## Tasks: a list\n\n## Taskforce: x\n\n";
    let (wp, _) = parse_str(&active_with(body));
    assert!(wp.tasks.is_empty());
}

// ------------------------------------------------------------------ must not lose a task

#[test]
fn heading_variants_are_tasks() {
    let body = "## task: lower case\n```task\nid: WP-1-T01\nstatus: todo\n```\n\
                ##   Task :  spaced  ##\n```task\nid: WP-1-T02\nstatus: todo\n```\n\
                  ## Task: indented two\n```task\nid: WP-1-T03\nstatus: todo\n```\n\
                ## Task: `code` and **bold**\n```task\nid: WP-1-T04\nstatus: todo\n```\n";
    let (wp, f) = parse_str(&active_with(body));
    assert_eq!(
        headings(&wp),
        [
            "lower case",
            "spaced",
            "indented two",
            "`code` and **bold**"
        ]
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn task_after_quote_table_and_paragraph_without_blank_line() {
    let body = "> a quote\n## Task: after quote\n```task\nid: WP-1-T01\nstatus: todo\n```\n\
                | a | b |\n|---|---|\n| 1 | 2 |\n## Task: after table\n```task\nid: WP-1-T02\nstatus: todo\n```\n\
                a paragraph\n## Task: after paragraph\n```task\nid: WP-1-T03\nstatus: todo\n```\n";
    let (wp, f) = parse_str(&active_with(body));
    assert_eq!(
        headings(&wp),
        ["after quote", "after table", "after paragraph"]
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn block_need_not_follow_the_heading_directly() {
    let body = "## Task: With context first\n\nSome context.\n\n```task\nid: WP-1-T01\nstatus: todo\n```\n\nAfter.\n";
    let (wp, f) = parse_str(&active_with(body));
    assert!(f.is_empty(), "{f:?}");
    let t = &wp.tasks[0];
    assert_eq!(t.id.as_deref(), Some("WP-1-T01"));
    assert_eq!(t.notes, "Some context.\n\nAfter.");
}

#[test]
fn sections_end_at_level_one_and_two_headings_only() {
    let body = task("A", "WP-1-T01", "todo")
        + "Notes of A.\n\n### Sub-heading stays in A\n\nMore of A.\n\n## Decisions\n\nNot A.\n\n"
        + "Setext heading\n--------------\n\nNot A either.\n";
    let (wp, f) = parse_str(&active_with(&body));
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(
        wp.tasks[0].notes,
        "Notes of A.\n\n### Sub-heading stays in A\n\nMore of A."
    );
}

#[test]
fn long_progress_logs_are_kept() {
    let mut body = task("Long", "WP-1-T01", "progress");
    for d in 0..3000 {
        body.push_str(&format!(
            "Progress 2026-06-{:02}: step {d} done.\n",
            d % 28 + 1
        ));
    }
    body += &task("Next", "WP-1-T02", "todo");
    let (wp, f) = parse_str(&active_with(&body));
    assert!(f.is_empty());
    assert_eq!(wp.tasks.len(), 2);
    assert_eq!(wp.tasks[0].notes.lines().count(), 3000);
    let (a, b) = wp.tasks[0].notes_lines.unwrap();
    assert_eq!(b - a, 2999);
    assert_eq!(wp.tasks[1].heading_line, b + 1);
}

// ------------------------------------------------------------------ C-03 from the parser

#[test]
fn heading_without_block_is_a_task_with_c03() {
    let (wp, f) = parse_str(&active_with("## Task: No block\n\nJust notes.\n"));
    assert_eq!(wp.tasks.len(), 1);
    assert_eq!(wp.tasks[0].notes, "Just notes.");
    assert_eq!(codes(&f), ["C-03"]);
    assert_eq!(f[0].line, 7);
}

#[test]
fn task_block_outside_a_section_is_c03_with_a_hint() {
    for (body, hint) in [
        (
            "```task\nid: WP-1-T01\nstatus: todo\n```\n",
            "put a `## Task",
        ),
        (
            "### Task: x\n```task\nid: WP-1-T01\nstatus: todo\n```\n",
            "level 3",
        ),
        (
            "## Task x\n```task\nid: WP-1-T01\nstatus: todo\n```\n",
            "not read as a task",
        ),
        (
            "## Task: a\n```task\nid: WP-1-T01\nstatus: todo\n```\n## Notes\n```task\nid: WP-1-T02\nstatus: todo\n```\n",
            "put a `## Task",
        ),
    ] {
        let (_, f) = parse_str(&active_with(body));
        assert_eq!(codes(&f), ["C-03"], "{body}");
        assert!(f[0].message.contains("outside"));
        assert!(
            f[0].hint.as_deref().unwrap().contains(hint),
            "{:?}",
            f[0].hint
        );
    }
}

#[test]
fn second_block_nested_block_and_unclosed_fences_are_c03() {
    let (wp, f) = parse_str(&active_with(
        "## Task: Two\n```task\nid: WP-1-T01\nstatus: todo\n```\n```task\nid: WP-1-T02\nstatus: todo\n```\n",
    ));
    assert_eq!(wp.tasks[0].id.as_deref(), Some("WP-1-T01"));
    assert_eq!(codes(&f), ["C-03"]);
    assert!(f[0].message.contains("second task block"));

    let (_, f) = parse_str(&active_with(
        "## Task: Nested\n- ```task\n  id: WP-1-T01\n  status: todo\n  ```\n",
    ));
    assert_eq!(codes(&f), ["C-03", "C-03"]);
    assert!(
        f.iter()
            .any(|f| f.message.contains("inside a list or quote"))
    );

    // An unclosed task fence: reported, and its content is still read.
    let (wp, f) = parse_str(&active_with(
        "## Task: Open\n```task\nid: WP-1-T01\nstatus: todo\n",
    ));
    assert_eq!(codes(&f), ["C-03"]);
    assert!(f[0].message.contains("never closed"));
    assert_eq!(wp.tasks[0].status, Some(TaskStatus::Todo));
    assert!(!wp.tasks[0].block.unwrap().is_closed());

    // An unclosed bash fence that swallows tasks says so.
    let body = "## Task: A\n```task\nid: WP-1-T01\nstatus: todo\n```\n````bash\necho\n\n"
        .to_string()
        + &task("Hidden", "WP-1-T02", "todo");
    let (wp, f) = parse_str(&active_with(&body));
    assert_eq!(wp.tasks.len(), 1);
    assert_eq!(codes(&f), ["C-03"]);
    assert!(
        f[0].message.contains("hiding 1 `## Task:` heading"),
        "{}",
        f[0].message
    );
}

#[test]
fn invalid_task_blocks() {
    let cases: &[(&str, &str)] = &[
        ("", "is empty"),
        ("status: todo\n", "has no `id`"),
        ("id: WP-1-T01\n", "has no `status`"),
        (
            "id: WP-1-T01\nstatus: blocked\n",
            "unknown status `blocked`",
        ),
        (
            "id: WP-1-T01\nstatus: \n",
            "`status` in the task block is empty",
        ),
        ("id: WP-1-T01\nstatus: [todo]\n", "must be a single value"),
        (
            "id: WP-1-T01\nstatus: todo\nneeds_human: yes\n",
            "must be true or false",
        ),
        (
            "id: WP-1-T01\nstatus: todo\npriority: urgent\n",
            "unknown priority",
        ),
        ("id: has space\nstatus: todo\n", "may only hold"),
        (
            "id: WP-1-T01\nstatus: todo\nid: WP-1-T02\n",
            "not valid YAML",
        ),
        ("- id: WP-1-T01\n", "not a mapping"),
        ("id: [unclosed\n", "not valid YAML"),
    ];
    for (block, want) in cases {
        let text = active_with(&format!("## Task: T\n```task\n{block}```\n"));
        let (_, f) = parse_str(&text);
        assert_eq!(codes(&f), ["C-03"], "{block:?}: {f:?}");
        assert!(f[0].message.contains(want), "{block:?}: {}", f[0].message);
        assert!(f[0].line >= 7, "{block:?}");
    }
    // Aliases get "did you mean".
    let (_, f) = parse_str(&active_with(
        "## Task: T\n```task\nid: WP-1-T01\nstatus: in-progress\n```\n",
    ));
    assert!(f[0].hint.as_deref().unwrap().contains("`progress`"));
    let (_, f) = parse_str(&active_with(
        "## Task: T\n```task\nid: WP-1-T01\nstauts: todo\n```\n",
    ));
    assert!(
        f[0].hint
            .as_deref()
            .unwrap()
            .contains("instead of `stauts`")
    );
    // Untitled task.
    let (_, f) = parse_str(&active_with(
        "## Task:\n```task\nid: WP-1-T01\nstatus: todo\n```\n",
    ));
    assert_eq!(codes(&f), ["C-03"]);
    assert!(f[0].message.contains("without a title"));
}

#[test]
fn yaml_error_lines_are_file_lines() {
    let text =
        active_with("\n\n## Task: T\n```task\nid: WP-1-T01\nstatus: todo\nstatus: done\n```\n");
    let (_, f) = parse_str(&text);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].line, f[0].column), (13, 1));
    assert_eq!(text.lines().nth(12), Some("status: done"));
}

// ------------------------------------------------------------------ frontmatter (C-01)

#[test]
fn frontmatter_problems_are_c01() {
    let body = task("T", "WP-1-T01", "todo");
    let cases: Vec<(String, &str, u32)> = vec![
        (body.clone(), "no frontmatter", 1),
        (
            format!("\n---\n{}---\n{body}", front("active")),
            "no frontmatter",
            1,
        ),
        (format!("---\n{}{body}", front("active")), "not closed", 1),
        (doc("id: WP-1\ntitle: t\n", &body), "has no `status`", 1),
        (doc("title: t\nstatus: active\n", &body), "has no `id`", 1),
        (
            doc("id: WP-1\nstatus: active\n", &body),
            "has no `title`",
            1,
        ),
        (
            doc("id: WP-1\ntitle: t\nstatus: completed\n", &body),
            "unknown status",
            4,
        ),
        (
            doc("id: WP-1\ntitle: t\nstatus: active\nstatus: done\n", &body),
            "not valid YAML",
            5,
        ),
        (doc("- a\n- b\n", &body), "not a mapping", 2),
        (
            doc("id: WP-1\ntitle: t\nstatus: active\ntype: runbook\n", &body),
            "`type` is `runbook`",
            5,
        ),
        (
            doc(
                "id: WP-1\ntitle: t\nstatus: active\nplanning_priority: urgent\n",
                &body,
            ),
            "unknown planning_priority",
            5,
        ),
        (
            doc(
                "id: WP-1\ntitle: t\nstatus: active\nplanning_order: first\n",
                &body,
            ),
            "must be an integer",
            5,
        ),
        (
            doc(
                "id: WP-1\ntitle: t\nstatus: active\ncreated: 2026-02-30\n",
                &body,
            ),
            "must be a date",
            5,
        ),
        (
            doc(
                "id: WP-1\ntitle: t\nstatus: active\ncreated: \"2026-06-03\"\nupdated: \"2026-06-01\"\n",
                &body,
            ),
            "before `created`",
            6,
        ),
        (
            doc("id: WP 1\ntitle: t\nstatus: active\n", &body),
            "may only hold",
            2,
        ),
        (String::new(), "empty file", 1),
        ("---\n---\n".to_string(), "frontmatter is empty", 1),
    ];
    for (text, want, line) in cases {
        let (_, f) = parse_str(&text);
        let c01: Vec<_> = f.iter().filter(|f| f.code == Code::C01).collect();
        assert_eq!(c01.len(), 1, "{text:?}: {f:?}");
        assert!(
            c01[0].message.contains(want),
            "{text:?}: {}",
            c01[0].message
        );
        assert_eq!(c01[0].line, line, "{text:?}");
    }
}

#[test]
fn frontmatter_ends_with_dots_and_allows_extra_keys() {
    let text = format!(
        "---\n{}tags: [a, b]\nlinks:\n  - https://example.invalid\n...\n{}",
        front("active"),
        task("T", "WP-1-T01", "todo")
    );
    let (wp, f) = parse_str(&text);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(wp.tasks.len(), 1);
}

// ------------------------------------------------------------------ CRLF and BOM

#[test]
fn crlf_and_bom_keep_lines_and_byte_offsets() {
    let lf = active_with(
        &(task("A", "WP-1-T01", "todo") + "Note a.\n\n" + &task("B", "WP-1-T02", "done")),
    );
    let crlf = lf.replace('\n', "\r\n");
    let bom_crlf = format!("\u{FEFF}{crlf}");
    let (base, f) = parse_str(&lf);
    assert!(f.is_empty());
    for text in [&crlf, &bom_crlf] {
        let (wp, f) = parse_str(text);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(wp.line_ending, LineEnding::Crlf);
        assert_eq!(wp.bom, text.starts_with('\u{FEFF}'));
        assert_eq!(wp.source_len, text.len());
        assert_eq!(headings(&wp), headings(&base));
        let fm = wp.frontmatter.unwrap();
        assert!(text[fm.span.range()].starts_with("---\r\n"));
        assert!(text[fm.content.end..].starts_with("---\r\n"));
        assert_eq!(fm.line_ending, LineEnding::Crlf);
        for (t, b) in wp.tasks.iter().zip(&base.tasks) {
            assert_eq!(t.heading_line, b.heading_line);
            assert_eq!(t.notes, b.notes, "notes are \\n-joined whatever the file");
            assert_eq!(t.notes_lines, b.notes_lines);
            let blk = t.block.unwrap();
            assert_eq!(blk.open_line, b.block.unwrap().open_line);
            assert!(text[blk.span.range()].starts_with("```task\r\n"));
            assert!(text[blk.span.range()].ends_with("\r\n```"));
            assert!(text[blk.content.end..].starts_with("```\r\n"));
            assert!(text[..blk.content.start].ends_with("```task\r\n"));
            assert_eq!(blk.line_ending, LineEnding::Crlf);
            assert_eq!(t.id, b.id);
            assert_eq!(t.locs, b.locs, "columns do not count the BOM");
        }
    }
}

#[test]
fn a_bom_does_not_hide_the_frontmatter() {
    let text = format!("\u{FEFF}{}", active_with(&task("A", "WP-1-T01", "todo")));
    let (wp, f) = parse_str(&text);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(wp.frontmatter.unwrap().span.start, 3);
    assert_eq!(wp.locs.id.unwrap().column, 5);
}
