//! Every lint code in both directions, the example folders, and the exit code.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use platformctl_workplan::{Code, exit_code, lint, lint_all, load_paths, parse};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn lint_texts(texts: &[(&str, String)]) -> Vec<platformctl_workplan::Finding> {
    let loaded: Vec<_> = texts.iter().map(|(f, t)| parse(t, f.as_ref())).collect();
    lint_all(&loaded)
}

#[test]
fn c02_duplicate_workplan_ids_across_files() {
    let a = doc(&front("active"), &task("A", "WP-1-T01", "todo"));
    let b = doc(&front("active"), &task("B", "WP-1-T02", "todo"));
    let f = lint_texts(&[("a.md", a.clone()), ("b.md", b)]);
    assert_eq!(codes(&f), ["C-02"]);
    assert_eq!(f[0].file, Path::new("b.md"));
    assert_eq!((f[0].line, f[0].column), (2, 5));
    assert!(f[0].message.contains("a.md:2"));

    let c = doc(
        &front("active").replace("WP-1", "WP-2"),
        &task("C", "WP-2-T01", "todo"),
    );
    assert!(lint_texts(&[("a.md", a), ("c.md", c)]).is_empty());
}

#[test]
fn c04_duplicate_task_ids_within_and_across_files() {
    let one = doc(
        &front("active"),
        &(task("A", "WP-1-T01", "todo") + &task("B", "WP-1-T01", "todo")),
    );
    let f = all_findings(&one);
    assert_eq!(codes(&f), ["C-04"]);
    assert_eq!(f[0].line, 14);

    let a = doc(&front("active"), &task("A", "WP-1-T01", "todo"));
    let b = doc(
        &front("active").replace("WP-1", "WP-2"),
        &(task("B", "WP-2-T01", "todo") + &task("X", "WP-1-T01", "todo")),
    );
    let f = lint_texts(&[("a.md", a.clone()), ("b.md", b)]);
    assert_eq!(codes(&f), ["C-04", "C-05"]);
    assert!(f.iter().all(|f| f.file == Path::new("b.md")));

    let ok = doc(
        &front("active"),
        &(task("A", "WP-1-T01", "todo") + &task("B", "WP-1-T02", "todo")),
    );
    assert!(all_findings(&ok).is_empty());
}

#[test]
fn c05_task_id_prefix() {
    for (id, fires) in [
        ("WP-1-T01", false),
        ("WP-1-T01-a", false),
        ("WP-2-T01", true),
        ("WP-10-T01", true),
        ("WP-1", true),
        ("T01", true),
    ] {
        let f = all_findings(&doc(&front("active"), &task("A", id, "todo")));
        assert_eq!(has(&f, Code::C05), fires, "{id}: {f:?}");
    }
    // No workplan id: nothing to compare with (C-01 says what is missing).
    let f = all_findings(&doc(
        "title: t\nstatus: active\n",
        &task("A", "X-T01", "todo"),
    ));
    assert!(!has(&f, Code::C05));
}

#[test]
fn c06_done_or_finished_with_open_tasks() {
    for wp_status in ["done", "finished"] {
        for (t, fires) in [
            ("todo", true),
            ("wait", true),
            ("progress", true),
            ("done", false),
            ("cancel", false),
        ] {
            let text = doc(
                &front(wp_status),
                &(task("A", "WP-1-T01", "done") + &task("B", "WP-1-T02", t)),
            );
            let f = all_findings(&text);
            assert_eq!(has(&f, Code::C06), fires, "{wp_status}/{t}: {f:?}");
            if fires {
                assert_eq!(codes(&f), ["C-06"]);
                assert_eq!(f[0].line, 5, "at the status line");
                assert!(f[0].message.contains("WP-1-T02"));
            }
        }
    }
    for wp_status in ["active", "wait", "backlog", "cancel"] {
        let f = all_findings(&doc(&front(wp_status), &task("A", "WP-1-T01", "todo")));
        assert!(!has(&f, Code::C06), "{wp_status}");
    }
}

#[test]
fn c07_active_without_tasks() {
    let f = all_findings(&doc(&front("active"), "# Plan\n\n### Task: not a task\n"));
    assert_eq!(codes(&f), ["C-07"]);
    for s in ["backlog", "wait", "done", "cancel", "finished"] {
        assert!(all_findings(&doc(&front(s), "# Plan\n")).is_empty(), "{s}");
    }
    // A task without a block is still a task: C-03, not C-07.
    let f = all_findings(&doc(&front("active"), "## Task: x\n"));
    assert_eq!(codes(&f), ["C-03"]);
}

#[test]
fn c08_all_closed_but_active() {
    let closed = task("A", "WP-1-T01", "done") + &task("B", "WP-1-T02", "cancel");
    assert_eq!(
        codes(&all_findings(&doc(&front("active"), &closed))),
        ["C-08"]
    );
    for s in ["finished", "done", "cancel", "wait", "backlog"] {
        assert!(all_findings(&doc(&front(s), &closed)).is_empty(), "{s}");
    }
    let one_open = closed.clone() + &task("C", "WP-1-T03", "wait");
    assert!(all_findings(&doc(&front("active"), &one_open)).is_empty());
    // A task with an invalid status is not known to be closed.
    let unknown = closed + &task("C", "WP-1-T03", "blocked");
    assert_eq!(
        codes(&all_findings(&doc(&front("active"), &unknown))),
        ["C-03"]
    );
}

#[test]
fn c09_needs_human_on_closed_tasks() {
    let block = |status: &str, nh: &str| {
        doc(
            &front("active"),
            &(format!(
                "## Task: A\n```task\nid: WP-1-T01\nstatus: {status}\nneeds_human: {nh}\n```\n"
            ) + &task("B", "WP-1-T02", "todo")),
        )
    };
    for (s, nh, fires) in [
        ("done", "true", true),
        ("cancel", "true", true),
        ("done", "false", false),
        ("todo", "true", false),
        ("wait", "true", false),
        ("progress", "true", false),
    ] {
        let f = all_findings(&block(s, nh));
        assert_eq!(has(&f, Code::C09), fires, "{s}/{nh}: {f:?}");
        if fires {
            assert_eq!(codes(&f), ["C-09"]);
            assert_eq!((f[0].line, f[0].column), (11, 14));
        }
    }
}

// ------------------------------------------------------------------ C-13

fn with_notes(notes: &str) -> String {
    doc(&front("active"), &(task("A", "WP-1-T01", "todo") + notes))
}

fn ghp() -> String {
    format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5")
}

#[test]
fn c13_fires_on_credentials_anywhere() {
    let token = ghp();
    let cases: Vec<(String, u32)> = vec![
        (
            doc(
                &front("active"),
                &format!("## Task: A\n```task\nid: WP-1-T01\nstatus: todo\ntoken: {token}\n```\n"),
            ),
            11,
        ),
        (
            doc(
                &format!("{}api_token: {token}\n", front("active")),
                &task("A", "WP-1-T01", "todo"),
            ),
            6,
        ),
        (
            with_notes("Progress: used postgres://app:s3cr3tPassw0rd@db:5432/app today\n"),
            12,
        ),
        (
            with_notes("```bash\nexport DB_PASSWORD=hunter2xyz\n```\n"),
            13,
        ),
        (
            with_notes("```yaml\nenvironment:\n  POSTGRES_PASSWORD: correcthorse\n```\n"),
            14,
        ),
        (with_notes("- password: \"Tr0ub4dor&3\"\n"), 12),
        (with_notes(&format!("> quoted token {token}\n")), 12),
        (with_notes("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 12),
        (
            doc(
                &front("active"),
                "## Task: A\n```task\nid: WP-1-T01\nstatus: todo\npassword: correct horse battery staple\n```\n",
            ),
            11,
        ),
    ];
    for (text, line) in cases {
        let f = all_findings(&text);
        assert_eq!(codes(&f), ["C-13"], "{text}");
        assert_eq!(f[0].line, line, "{text}");
        // The value is never repeated.
        for secret in [
            token.as_str(),
            "s3cr3tPassw0rd",
            "hunter2xyz",
            "correcthorse",
            "Tr0ub4dor",
            "battery",
        ] {
            assert!(!f[0].message.contains(secret));
            assert!(!f[0].hint.as_deref().unwrap_or("").contains(secret));
            assert!(!serde_json::to_string(&f[0]).unwrap().contains(secret));
        }
    }
    // Column points at the secret inside a one-line value.
    let text = doc(
        &front("active"),
        &format!("## Task: A\n```task\nid: WP-1-T01\nstatus: todo\ntoken: \"{token}\"\n```\n"),
    );
    let f = all_findings(&text);
    assert_eq!((f[0].line, f[0].column), (11, 9));
}

#[test]
fn c13_does_not_fire_on_ids_digests_or_key_names() {
    let notes = "\
Set the POSTGRES_PASSWORD variable from the secret file; never inline.
Rotate the password: see the runbook.
```yaml
environment:
  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
  POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password
  password_file: /run/secrets/db
  token_ttl: 30m
  client_id: platformctl
```
Image: ghcr.io/immich-app/immich-server@sha256:e43c2f819200a140136e4470d63513a53e1b6c57b31885efbea9a98c641b3c6a
Commit 5481cf194fe3c0a7b1d2e4f6a8c0b2d4e6f8a0c2 merged; run 0b7c4d1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f.
Connect with postgres://app@db:5432/app or postgres://app:${DB_PASSWORD}@db/app.
Tag RELEASE.2024-01-16T16-07-38Z, version 1.32.5, date 2026-06-03.
Placeholder token ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx is not a token.
";
    let text = doc(
        &format!(
            "{}state_hub_workstream_id: \"611b1f37-9b58-4e0e-b599-74576406fb3a\"\n",
            front("active")
        ),
        &("## Task: A\n```task\nid: WP-1-T01\nstatus: todo\n\
             state_hub_task_id: 789b9d63-520e-4892-9d71-4ecd47585ca4\n\
             needs_human: true\nneeds_human_reason: \"rotate the B2 application key\"\n```\n"
            .to_string()
            + notes),
    );
    let f = all_findings(&text);
    assert!(f.is_empty(), "{f:#?}");
}

// ------------------------------------------------------------------ examples and exit codes

#[test]
fn home_platform_workplans_lint_clean() {
    let dir = examples().join("home-platform/workplans");
    let loaded = load_paths(std::slice::from_ref(&dir)).unwrap();
    assert!(loaded.len() >= 15, "{}", loaded.len());
    let findings = lint_all(&loaded);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(exit_code(&findings), 0);

    let wps: Vec<_> = loaded.iter().map(|(w, _)| w).collect();
    use platformctl_workplan::{TaskStatus as T, WorkplanStatus as W};
    for s in W::ALL {
        assert!(wps.iter().any(|w| w.status == Some(*s)), "no {s} workplan");
    }
    for s in T::ALL {
        assert!(
            wps.iter()
                .flat_map(|w| &w.tasks)
                .any(|t| t.status == Some(*s)),
            "no {s} task"
        );
    }
    assert!(
        wps.iter()
            .any(|w| w.bom && w.line_ending == platformctl_workplan::LineEnding::Crlf)
    );
    assert!(
        wps.iter()
            .flat_map(|w| &w.tasks)
            .any(|t| t.needs_human() && t.needs_human_reason.is_some())
    );
    // The template and the quoted / commented-out headings are not tasks.
    let count: usize = wps.iter().map(|w| w.tasks.len()).sum();
    let raw: usize = loaded
        .iter()
        .map(|(w, _)| {
            std::fs::read_to_string(&w.file)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("## Task:"))
                .count()
        })
        .sum();
    assert_eq!(raw - count, 2, "the template and the commented-out task");
}

#[test]
fn broken_workplans_show_exactly_their_code() {
    let dir = examples().join("workplans-broken");
    let loaded = load_paths(&[dir]).unwrap();
    let findings = lint_all(&loaded);
    assert_eq!(exit_code(&findings), 1);
    let mut seen = std::collections::BTreeSet::new();
    for (wp, _) in &loaded {
        let name = wp.file.file_stem().unwrap().to_str().unwrap();
        let mine: Vec<_> = findings.iter().filter(|f| f.file == wp.file).collect();
        if name == "C-02-first" {
            assert!(mine.is_empty(), "{mine:?}");
            continue;
        }
        assert!(!mine.is_empty(), "{name} has no finding");
        for f in mine {
            assert_eq!(f.code.as_str(), name, "{f}");
            seen.insert(name.to_string());
        }
    }
    let want: Vec<String> = [
        "C-01", "C-02", "C-03", "C-04", "C-05", "C-06", "C-07", "C-08", "C-09", "C-13",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), want);
}

#[test]
fn lint_alone_is_the_model_rules() {
    let text = doc(&front("done"), &task("A", "WP-2-T01", "todo"));
    let (wp, parse_findings) = parse(&text, "a.md".as_ref());
    assert!(parse_findings.is_empty());
    assert_eq!(codes(&lint(&[wp])), ["C-06", "C-05"]);
}

#[test]
fn findings_serialize_with_string_codes() {
    let f = all_findings(&doc(&front("active"), "## Task: x\n"));
    let json = serde_json::to_value(&f[0]).unwrap();
    assert_eq!(json["code"], "C-03");
    assert_eq!(json["file"], "wp.md");
    assert_eq!(json["line"], 7);
    assert_eq!(json["column"], 1);
    assert!(json["hint"].is_string());
    assert_eq!(
        f[0].to_string().split(" (hint").next().unwrap(),
        "wp.md:7:1: C-03 the task `x` has no ```task block"
    );
    assert_eq!(Code::ALL.len(), 13);
    assert_eq!(Code::C13.as_str(), "C-13");
}
