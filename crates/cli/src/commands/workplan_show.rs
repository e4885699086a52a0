//! `platformctl workplan show ID|PATH [--in PATH…] [--json]`: one workplan's tasks, for a
//! person or an agent picking the next task.
//!
//! The argument is a workplan file when such a file exists, else a workplan id looked up in
//! `--in` (default: the platform repo's `workplans/`). An id that matches nothing is exit 2
//! with the closest id; an id two files share (lint C-02) is exit 2 naming both files.
//!
//! "Next" is the rule of `hub checkpoint`'s next picks, within one workplan: open tasks that
//! are `progress` or `todo` and do not wait for a person, `progress` first, then by priority
//! (high first), then in file order.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use platformctl_workplan::{
    Finding, Priority, Task, TaskStatus, Workplan, format_counts, lint, load_file, load_paths,
};
use serde_json::{Value, json};

use crate::cli::{Cli, WorkplanShowArgs};
use crate::diag::shown;
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

/// The document's schema.
pub const SCHEMA: &str = "platformctl/workplan-show/v1";

fn fatal(message: String) -> Fatal {
    Fatal {
        message,
        finding: None,
    }
}

/// Whether the argument names a file (rather than an id): it exists, or it looks like a path.
fn looks_like_path(arg: &str) -> bool {
    arg.contains('/') || arg.ends_with(".md") || Path::new(arg).is_file()
}

/// The workplan the argument names, with its parse findings.
fn find(cli: &Cli, args: &WorkplanShowArgs) -> Result<(Workplan, Vec<Finding>), Fatal> {
    let arg = args.workplan.as_str();
    if looks_like_path(arg) {
        let path = Path::new(arg);
        if !path.is_file() {
            return Err(fatal(format!(
                "{arg}: no such workplan file (give a workplan id, or the path of a .md file)"
            )));
        }
        return load_file(path).map_err(|e| fatal(e.to_string()));
    }
    let within = if args.within.is_empty() {
        let root = output::root(cli)?;
        if !root.join("workplans").is_dir() {
            return Err(fatal(format!(
                "{} has no workplans/ folder; use --in PATH or name the workplan file",
                root.display()
            )));
        }
        vec![root]
    } else {
        args.within.clone()
    };
    let loaded = load_paths(&within).map_err(|e| fatal(e.to_string()))?;
    let mut hits: Vec<(Workplan, Vec<Finding>)> = Vec::new();
    let mut known: Vec<String> = Vec::new();
    for (w, f) in loaded {
        match &w.id {
            Some(id) if id == arg => hits.push((w, f)),
            Some(id) => known.push(id.clone()),
            None => {}
        }
    }
    // An exact id wins; otherwise the one id that matches ignoring case.
    if hits.is_empty()
        && let Some(id) = known
            .iter()
            .filter(|k| k.eq_ignore_ascii_case(arg))
            .cloned()
            .collect::<Vec<_>>()
            .first()
    {
        return find(
            cli,
            &WorkplanShowArgs {
                workplan: id.clone(),
                within: args.within.clone(),
                json: args.json,
            },
        );
    }
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => {
            known.sort();
            known.dedup();
            let refs: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = match platformctl_diagnostics::did_you_mean(arg, &refs) {
                Some(c) => format!("; did you mean `{c}`?"),
                None if refs.is_empty() => " (no workplan has an id)".to_string(),
                None => String::new(),
            };
            let place: Vec<String> = within
                .iter()
                .map(|p| shown(p).display().to_string())
                .collect();
            Err(fatal(format!(
                "no workplan `{arg}` in {}{hint}",
                place.join(", ")
            )))
        }
        _ => {
            let files: Vec<String> = hits
                .iter()
                .map(|(w, _)| shown(&w.file).display().to_string())
                .collect();
            Err(fatal(format!(
                "workplan id `{arg}` is in {} files ({}); name the file (see `workplan lint`, C-02)",
                files.len(),
                files.join(", ")
            )))
        }
    }
}

fn rank(p: Option<Priority>) -> usize {
    p.and_then(|p| Priority::ALL.iter().position(|x| *x == p))
        .unwrap_or(Priority::ALL.len())
}

/// The task to pick next (see the module documentation).
pub fn next_task(w: &Workplan) -> Option<&Task> {
    w.tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            matches!(t.status, Some(TaskStatus::Progress | TaskStatus::Todo)) && !t.needs_human()
        })
        .min_by_key(|(i, t)| (t.status != Some(TaskStatus::Progress), rank(t.priority), *i))
        .map(|(_, t)| t)
}

fn word<T: std::fmt::Display>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| json!(v.to_string()))
}

/// Free text as written, unless it looks like it holds a credential (never shown, SPEC §12).
fn safe(text: &str) -> String {
    if platformctl_secrets::scan_text(text).is_empty() {
        text.to_string()
    } else {
        "(not shown: looks like it holds a credential)".to_string()
    }
}

fn task_json(t: &Task) -> Value {
    json!({
        "id": t.id,
        "title": safe(&t.heading),
        "status": word(t.status),
        "priority": word(t.priority),
        "needsHuman": t.needs_human(),
        "needsHumanReason": t.needs_human_reason.as_deref().map(safe),
        "open": t.status.is_some_and(TaskStatus::is_open),
        "line": t.heading_line,
    })
}

pub fn run(cli: &Cli, args: &WorkplanShowArgs) -> u8 {
    let (w, parse_findings) = match find(cli, args) {
        Ok(x) => x,
        Err(f) => return output::fatal(SCHEMA, args.json, &f, ERROR),
    };
    let lint_findings = parse_findings.len() + lint(std::slice::from_ref(&w)).len();
    let counts = w.counts();
    let needs_human = w
        .tasks
        .iter()
        .filter(|t| t.needs_human() && t.status.is_some_and(TaskStatus::is_open))
        .count();
    let next = next_task(&w);
    let file: PathBuf = shown(&w.file);
    if args.json {
        output::print_json(&json!({
            "schema": SCHEMA,
            "exitCode": OK,
            "workplan": {
                "id": w.id,
                "title": w.title.as_deref().map(safe),
                "status": word(w.status),
                "file": file,
                "repo": w.repo,
                "owner": w.owner,
                "planningPriority": word(w.planning_priority),
                "planningOrder": w.planning_order,
                "openState": format_counts(&counts),
                "needsHuman": needs_human,
                "lintFindings": lint_findings,
            },
            "next": next.and_then(|t| t.id.clone()),
            "tasks": w.tasks.iter().map(task_json).collect::<Vec<_>>(),
        }));
        return OK;
    }
    let st = Style::new(cli.color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}",
        st.bold(w.id.as_deref().unwrap_or("(no id)")),
        w.title.as_deref().map_or("(no title)".to_string(), safe)
    );
    let mut facts = vec![format!(
        "status {}",
        w.status.map_or("unknown".into(), |s| s.to_string())
    )];
    if let Some(p) = w.planning_priority {
        facts.push(format!("priority {p}"));
    }
    if let Some(o) = w.planning_order {
        facts.push(format!("order {o}"));
    }
    if let Some(o) = &w.owner {
        facts.push(format!("owner {o}"));
    }
    let _ = writeln!(out, "{}", facts.join(", "));
    let _ = writeln!(out, "{}", file.display());
    let mut state = format_counts(&counts);
    if needs_human > 0 {
        let _ = write!(state, " ({needs_human} needs human)");
    }
    let _ = writeln!(out, "{state}\n");

    let rows: Vec<[String; 6]> = w
        .tasks
        .iter()
        .map(|t| {
            [
                t.id.clone().unwrap_or_else(|| "-".into()),
                t.status.map_or("-".into(), |s| s.to_string()),
                t.priority.map_or("-".into(), |p| p.to_string()),
                if t.needs_human() { "yes" } else { "-" }.to_string(),
                t.heading_line.to_string(),
                safe(&t.heading),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "PRIO", "HUMAN", "LINE", "TITLE"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
        }
        s.trim_end().to_string()
    };
    if rows.is_empty() {
        let _ = writeln!(out, "no tasks");
    } else {
        let _ = writeln!(out, "{}", line(header));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.each_ref().map(String::as_str)));
        }
    }
    match next {
        Some(t) => {
            let _ = writeln!(
                out,
                "\nnext: {} ({}{}) {}",
                t.id.as_deref().unwrap_or("-"),
                t.status.map_or("-".into(), |s| s.to_string()),
                t.priority.map_or(String::new(), |p| format!(", {p}")),
                safe(&t.heading)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nnext: none (nothing in progress or to do that does not wait for a person)"
            );
        }
    }
    output::print(&out);
    if lint_findings > 0 {
        eprintln!(
            "{}: {lint_findings} lint finding{}; run `platformctl workplan lint {}` for them",
            st.yellow("note"),
            if lint_findings == 1 { "" } else { "s" },
            file.display()
        );
    }
    OK
}
