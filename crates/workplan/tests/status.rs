//! `open_state_line` and the ordering of the status table.

mod common;

use std::path::PathBuf;

use common::*;
use platformctl_workplan::{
    Priority, format_status_table, open_state_line, parse, repo_of, status_table,
};

fn with_tasks(statuses: &[&str]) -> String {
    let mut body = String::new();
    for (i, s) in statuses.iter().enumerate() {
        body += &task(&format!("t{i}"), &format!("WP-1-T{i:02}"), s);
    }
    doc(&front("active"), &body)
}

#[test]
fn open_state_line_order_and_zeroes() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "todo", "done", "wait", "progress", "todo", "todo", "progress", "todo", "todo",
                "done",
            ],
            "1 wait, 2 progress, 5 todo, 2 done",
        ),
        (&["done", "cancel", "done"], "2 done, 1 cancel"),
        (&["todo"], "1 todo"),
        (&["cancel", "wait"], "1 wait, 1 cancel"),
        (&["blocked", "todo"], "1 todo, 1 unknown"),
        (&[], "no tasks"),
    ];
    for (statuses, want) in cases {
        let (wp, _) = parse_str(&with_tasks(statuses));
        assert_eq!(open_state_line(&wp), *want, "{statuses:?}");
    }
    let (wp, _) = parse_str(&doc(&front("active"), "## Task: no block\n"));
    assert_eq!(open_state_line(&wp), "1 unknown");
}

fn plan(id: &str, prio: Option<&str>, order: Option<i64>) -> String {
    let mut f = format!("id: {id}\ntitle: {id}\nstatus: active\n");
    if let Some(p) = prio {
        f += &format!("planning_priority: {p}\n");
    }
    if let Some(o) = order {
        f += &format!("planning_order: {o}\n");
    }
    doc(&f, &task("x", &format!("{id}-T01"), "todo"))
}

#[test]
fn table_orders_by_priority_then_order_then_id() {
    let specs = [
        ("E", None, Some(1)),
        ("B", Some("high"), Some(9)),
        ("D", Some("low"), None),
        ("A", Some("high"), Some(2)),
        ("C", Some("medium"), Some(1)),
        ("G", Some("high"), None),
        ("F", None, None),
        ("H", Some("low"), Some(-3)),
        ("A2", Some("high"), Some(2)),
    ];
    let wps: Vec<_> = specs
        .iter()
        .map(|(id, p, o)| {
            parse(
                &plan(id, *p, *o),
                PathBuf::from(format!("repo-a/workplans/{id}.md")).as_path(),
            )
            .0
        })
        .collect();
    let rows = status_table(&wps);
    let ids: Vec<_> = rows.iter().map(|r| r.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["A", "A2", "B", "G", "C", "H", "D", "E", "F"]);
    assert_eq!(rows[0].planning_priority, Some(Priority::High));
    assert_eq!(rows[0].repo.as_deref(), Some("repo-a"));
    assert_eq!(rows[0].open_state, "1 todo");
    let text = format_status_table(&rows);
    assert!(text.starts_with("PRIO"));
    assert_eq!(text.lines().count(), rows.len() + 1);
    let json = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(json["planning_priority"], "high");
    assert_eq!(json["status"], "active");
    assert_eq!(json["counts"]["todo"], 1);
}

#[test]
fn table_spans_several_repos() {
    let a = parse(
        &plan("A-1", Some("low"), Some(1)),
        "/x/alpha/workplans/a.md".as_ref(),
    )
    .0;
    let b = parse(
        &plan("B-1", Some("high"), Some(5)),
        "/x/beta/workplans/b.md".as_ref(),
    )
    .0;
    let rows = status_table(&[a, b]);
    let repos: Vec<_> = rows.iter().map(|r| r.repo.as_deref().unwrap()).collect();
    assert_eq!(repos, ["beta", "alpha"]);
    assert_eq!(repo_of("notes/x.md".as_ref()), None);
}

#[test]
fn needs_human_counts_open_tasks_only() {
    let text = doc(
        &front("active"),
        "## Task: a\n```task\nid: WP-1-T01\nstatus: wait\nneeds_human: true\n```\n\
         ## Task: b\n```task\nid: WP-1-T02\nstatus: todo\nneeds_human: false\n```\n",
    );
    let (wp, _) = parse_str(&text);
    assert_eq!(status_table(&[wp])[0].needs_human, 1);
}
