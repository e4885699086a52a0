//! The workplans' documents: `workplan status` and `workplan show` (and the findings JSON
//! `workplan lint` and `hub check` share).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use platformctl_workplan::{
    Counts, Finding, Priority, StatusRow, Task, TaskStatus, Workplan, WorkplanStatus,
    format_counts, lint, load_file, load_paths,
};
use serde_json::{Value, json};

use crate::diag::shown;
use crate::{Failure, OK};

/// `workplan status`'s schema.
pub const STATUS_SCHEMA: &str = "platformctl/workplan-status/v1";
/// `workplan lint`'s schema.
pub const LINT_SCHEMA: &str = "platformctl/workplan-lint/v1";
/// `workplan show`'s schema.
pub const SHOW_SCHEMA: &str = "platformctl/workplan-show/v1";

/// Workplans with the findings of parsing each.
pub type Loaded = Vec<(Workplan, Vec<Finding>)>;

/// The folders to read when no path is given: the platform repo's `workplans/`.
pub fn default_paths(root: &Path) -> Result<Vec<PathBuf>, Failure> {
    if !root.join("workplans").is_dir() {
        return Err(Failure::new(format!(
            "{} has no workplans/ folder; name workplan files or folders",
            root.display()
        )));
    }
    Ok(vec![root.to_path_buf()])
}

/// Reads the workplans at `paths` (files, folders, or platform repos).
pub fn load(paths: &[PathBuf]) -> Result<Loaded, Failure> {
    load_paths(paths).map_err(|e| Failure::new(e.to_string()))
}

/// Task counts as JSON.
pub fn counts_json(c: &Counts) -> Value {
    json!({
        "wait": c.wait, "progress": c.progress, "todo": c.todo,
        "done": c.done, "cancel": c.cancel, "unknown": c.unknown,
    })
}

fn row_json(r: &StatusRow) -> Value {
    json!({
        "repo": r.repo,
        "file": shown(&r.file),
        "id": r.id,
        "title": r.title,
        "status": r.status,
        "planningPriority": r.planning_priority,
        "planningOrder": r.planning_order,
        "openState": r.open_state,
        "counts": counts_json(&r.counts),
        "needsHuman": r.needs_human,
    })
}

/// `workplan status`'s table and totals, shared by the document and the CLI's table.
pub struct Status {
    /// One row per workplan (file paths as shown to people).
    pub rows: Vec<StatusRow>,
    /// Task counts over every workplan.
    pub total: Counts,
    /// Workplans per status, in the statuses' order (`unknown` last).
    pub by_status: Vec<(String, usize)>,
    /// Parse and lint findings in all.
    pub findings: usize,
}

/// Summarises loaded workplans.
pub fn status(loaded: Loaded) -> Status {
    let parse_findings: usize = loaded.iter().map(|(_, f)| f.len()).sum();
    let workplans: Vec<Workplan> = loaded.into_iter().map(|(w, _)| w).collect();
    let findings = parse_findings + lint(&workplans).len();
    let mut rows = platformctl_workplan::status_table(&workplans);
    for r in &mut rows {
        r.file = shown(&r.file);
    }
    let mut total = Counts::default();
    let mut by_status: BTreeMap<usize, (&str, usize)> = BTreeMap::new();
    for r in &rows {
        let c = &r.counts;
        total.wait += c.wait;
        total.progress += c.progress;
        total.todo += c.todo;
        total.done += c.done;
        total.cancel += c.cancel;
        total.unknown += c.unknown;
        let (rank, word) = match r.status {
            Some(s) => (
                WorkplanStatus::ALL
                    .iter()
                    .position(|x| *x == s)
                    .unwrap_or(0),
                s.as_str(),
            ),
            None => (WorkplanStatus::ALL.len(), "unknown"),
        };
        by_status.entry(rank).or_insert((word, 0)).1 += 1;
    }
    Status {
        by_status: by_status
            .into_values()
            .map(|(w, n)| (w.to_string(), n))
            .collect(),
        rows,
        total,
        findings,
    }
}

/// `workplan status --json`.
pub fn status_doc(s: &Status) -> Value {
    json!({
        "schema": STATUS_SCHEMA,
        "exitCode": OK,
        "summary": {
            "workplans": s.rows.len(),
            "byStatus": s.by_status.iter().map(|(w, n)| (w.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "tasks": counts_json(&s.total),
            "openState": format_counts(&s.total),
            "needsHuman": s.rows.iter().map(|r| r.needs_human).sum::<usize>(),
            "lintFindings": s.findings,
        },
        "workplans": s.rows.iter().map(row_json).collect::<Vec<_>>(),
    })
}

fn finding_json(f: &Finding) -> Value {
    let mut v = json!({
        "code": f.code,
        "file": shown(&f.file),
        "line": f.line,
        "column": f.column,
        "message": f.message,
    });
    if let Some(h) = &f.hint {
        v["hint"] = json!(h);
    }
    v
}

/// Findings as a JSON array.
pub fn findings_json(findings: &[Finding]) -> Value {
    Value::Array(findings.iter().map(finding_json).collect())
}

/// `{"C-03": 2, …}`.
pub fn by_code(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.code.as_str()).or_insert(0) += 1;
    }
    m
}

/// Whether `workplan show`'s argument names a file (rather than an id).
pub fn looks_like_path(arg: &str) -> bool {
    arg.contains('/') || arg.ends_with(".md") || Path::new(arg).is_file()
}

/// The workplan `arg` names: a file, or an id looked up in `within` (an exact id first, then
/// the one id that matches ignoring case). Unknown ids fail with the closest id; an id two
/// files share fails naming both files (lint C-02).
pub fn find(arg: &str, within: &[PathBuf]) -> Result<(Workplan, Vec<Finding>), Failure> {
    if looks_like_path(arg) {
        let path = Path::new(arg);
        if !path.is_file() {
            return Err(Failure::new(format!(
                "{arg}: no such workplan file (give a workplan id, or the path of a .md file)"
            )));
        }
        return load_file(path).map_err(|e| Failure::new(e.to_string()));
    }
    let loaded = load(within)?;
    let mut hits: Vec<(Workplan, Vec<Finding>)> = Vec::new();
    let mut known: Vec<String> = Vec::new();
    for (w, f) in loaded {
        match &w.id {
            Some(id) if id == arg => hits.push((w, f)),
            Some(id) => known.push(id.clone()),
            None => {}
        }
    }
    if hits.is_empty()
        && let Some(id) = known
            .iter()
            .filter(|k| k.eq_ignore_ascii_case(arg))
            .cloned()
            .collect::<Vec<_>>()
            .first()
    {
        return find(id, within);
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
            Err(Failure::new(format!(
                "no workplan `{arg}` in {}{hint}",
                place.join(", ")
            )))
        }
        _ => {
            let files: Vec<String> = hits
                .iter()
                .map(|(w, _)| shown(&w.file).display().to_string())
                .collect();
            Err(Failure::new(format!(
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

/// The task to pick next within one workplan: open tasks that are `progress` or `todo` and do
/// not wait for a person, `progress` first, then by priority (high first), then in file order
/// (the rule of `hub checkpoint`'s next picks).
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
pub fn safe(text: &str) -> String {
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

/// One workplan's facts for `workplan show` (document and table alike).
pub struct Shown<'w> {
    /// The workplan.
    pub workplan: &'w Workplan,
    /// Parse and lint findings.
    pub lint_findings: usize,
    /// Task counts.
    pub counts: Counts,
    /// Open tasks waiting for a person.
    pub needs_human: usize,
    /// The task to pick next.
    pub next: Option<&'w Task>,
    /// The file as shown to people.
    pub file: PathBuf,
}

/// Summarises one workplan.
pub fn shown_workplan<'w>(w: &'w Workplan, parse_findings: &[Finding]) -> Shown<'w> {
    Shown {
        workplan: w,
        lint_findings: parse_findings.len() + lint(std::slice::from_ref(w)).len(),
        counts: w.counts(),
        needs_human: w
            .tasks
            .iter()
            .filter(|t| t.needs_human() && t.status.is_some_and(TaskStatus::is_open))
            .count(),
        next: next_task(w),
        file: shown(&w.file),
    }
}

/// `workplan show --json`.
pub fn show_doc(s: &Shown<'_>) -> Value {
    let w = s.workplan;
    json!({
        "schema": SHOW_SCHEMA,
        "exitCode": OK,
        "workplan": {
            "id": w.id,
            "title": w.title.as_deref().map(safe),
            "status": word(w.status),
            "file": s.file,
            "repo": w.repo,
            "owner": w.owner,
            "planningPriority": word(w.planning_priority),
            "planningOrder": w.planning_order,
            "openState": format_counts(&s.counts),
            "needsHuman": s.needs_human,
            "lintFindings": s.lint_findings,
        },
        "next": s.next.and_then(|t| t.id.clone()),
        "tasks": w.tasks.iter().map(task_json).collect::<Vec<_>>(),
    })
}
