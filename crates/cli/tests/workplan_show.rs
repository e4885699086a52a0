//! `platformctl workplan show ID|PATH [--json]` (issue 9, item 8) on the example workplans:
//! the human table and the JSON document as insta snapshots, the next pick, and the errors
//! (unknown id with "did you mean", a missing file, an id two files share), all exit 2.

mod support;

use std::process::Output;

use serde_json::Value;
use support::{assert_no_panic, bin, workspace};

/// Runs from the workspace root, so paths in the output are `examples/…`.
fn run(args: &[&str]) -> Output {
    let out = bin().current_dir(workspace()).args(args).output().unwrap();
    assert_no_panic(&out);
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(args: &[&str]) -> Output {
    let mut all = vec!["--root", "examples/home-platform", "workplan", "show"];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn human_table_by_id() {
    let out = show(&["OPS-WP-0007"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    insta::assert_snapshot!("workplan_show_human", text(&out.stdout));
    // The id ignoring case, and the file's path, show the same.
    assert_eq!(show(&["ops-wp-0007"]).stdout, out.stdout);
    let by_path = run(&[
        "workplan",
        "show",
        "examples/home-platform/workplans/OPS-WP-0007-backup-restore-drills.md",
    ]);
    assert_eq!(text(&by_path.stdout), text(&out.stdout));
}

#[test]
fn json_document_by_path() {
    let out = run(&[
        "workplan",
        "show",
        "examples/home-platform/workplans/OPS-WP-0011-immich-upgrade.md",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!("workplan_show_json", doc);
    assert_eq!(doc["schema"], "platformctl/workplan-show/v1");
    // T03 and T04 wait (T04 for a person): the next pick is the one todo task left.
    assert_eq!(doc["next"], "OPS-WP-0011-T05", "{doc:#}");
}

#[test]
fn next_pick_is_progress_first_then_priority_and_never_a_human_gate() {
    for (id, next) in [
        ("OPS-WP-0007", Some("OPS-WP-0007-T01")), // progress before a high todo
        ("OPS-WP-0009", Some("OPS-WP-0009-T01")), // backlog: todo tasks, first by priority
        ("OPS-WP-0018", None),                    // done: nothing open
    ] {
        let doc: Value = serde_json::from_slice(&show(&[id, "--json"]).stdout).unwrap();
        assert_eq!(doc["next"].as_str(), next, "{id}: {doc:#}");
        if let Some(n) = next {
            let task = doc["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == n)
                .unwrap();
            assert_eq!(task["needsHuman"], false);
            assert_eq!(task["open"], true);
        }
    }
}

#[test]
fn unknown_id_says_did_you_mean_and_exits_2() {
    let out = show(&["OPS-WP-007"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("no workplan `OPS-WP-007`") && err.contains("did you mean `OPS-WP-0007`?"),
        "{err}"
    );
    let out = show(&["OPS-WP-0777", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "platformctl/workplan-show/v1");
    assert_eq!(doc["exitCode"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no workplan `OPS-WP-0777`"),
        "{doc:#}"
    );
    // A path that does not exist is not looked up as an id.
    let out = run(&["workplan", "show", "examples/nope/OPS-WP-0007.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such workplan file"));
}

#[test]
fn an_id_two_files_share_names_both_and_exits_2() {
    let out = run(&[
        "workplan",
        "show",
        "BRK-WP-0102",
        "--in",
        "examples/workplans-broken",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("C-02.md") && err.contains("C-02-first.md") && err.contains("C-02"),
        "{err}"
    );
}

#[test]
fn lint_findings_are_counted_and_credentials_never_shown() {
    let out = run(&[
        "workplan",
        "show",
        "examples/workplans-broken/C-13.md",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["workplan"]["lintFindings"].as_u64() >= Some(1),
        "{doc:#}"
    );
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains("Xk9vQ2mR7tLpW4"), "{all}");
    let out = run(&["workplan", "show", "examples/workplans-broken/C-13.md"]);
    assert!(
        text(&out.stderr).contains("lint finding"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("Xk9vQ2mR7tLpW4"));
}
