//! The consistency rules that read the model: C-02 and C-04 across every file given, C-05 to
//! C-09 per file.

use std::collections::HashMap;
use std::path::Path;

use crate::finding::{Code, Finding, sort_findings};
use crate::model::{Loc, TaskStatus, Workplan, WorkplanStatus};

/// The model rules over a set of workplans checked together: C-02 (duplicate workplan id)
/// and C-04 (duplicate task id) across all of them, and C-05 to C-09 in each. Sorted.
///
/// Parse findings (C-01, C-03, C-13) come from [`crate::parse`]; [`lint_all`] returns both.
pub fn lint(workplans: &[Workplan]) -> Vec<Finding> {
    let mut out = Vec::new();
    duplicates(workplans, &mut out);
    for wp in workplans {
        per_file(wp, &mut out);
    }
    sort_findings(&mut out);
    out
}

/// Everything `workplan lint` reports for parsed files: their parse findings plus
/// [`lint`]'s, sorted by file, line, column and code.
pub fn lint_all(loaded: &[(Workplan, Vec<Finding>)]) -> Vec<Finding> {
    let workplans: Vec<Workplan> = loaded.iter().map(|(w, _)| w.clone()).collect();
    let mut out = lint(&workplans);
    for (_, f) in loaded {
        out.extend(f.iter().cloned());
    }
    sort_findings(&mut out);
    out
}

fn status_loc(wp: &Workplan) -> Loc {
    wp.locs
        .status
        .or_else(|| wp.frontmatter.map(|f| Loc::new(f.open_line, 1)))
        .unwrap_or(Loc::new(1, 1))
}

fn at(file: &Path, line: u32) -> String {
    format!("{}:{line}", file.display())
}

fn duplicates(workplans: &[Workplan], out: &mut Vec<Finding>) {
    let mut seen: HashMap<&str, (&Path, Loc)> = HashMap::new();
    for wp in workplans {
        let Some(id) = wp.id.as_deref() else { continue };
        let loc = wp.locs.id.unwrap_or(Loc::new(1, 1));
        match seen.get(id) {
            Some(&(file, first)) => out.push(
                Finding::new(
                    Code::C02,
                    &wp.file,
                    loc,
                    format!(
                        "workplan id `{id}` is already used by {}",
                        at(file, first.line)
                    ),
                )
                .hint("every workplan needs its own id: take the next free number"),
            ),
            None => {
                seen.insert(id, (&wp.file, loc));
            }
        }
    }

    let mut seen: HashMap<&str, (&Path, Loc)> = HashMap::new();
    for wp in workplans {
        for t in &wp.tasks {
            let Some(id) = t.id.as_deref() else { continue };
            let loc = t.locs.id.unwrap_or(Loc::new(t.heading_line, 1));
            match seen.get(id) {
                Some(&(file, first)) => out.push(
                    Finding::new(
                        Code::C04,
                        &wp.file,
                        loc,
                        format!("task id `{id}` is already used by {}", at(file, first.line)),
                    )
                    .hint("every task needs its own id: take the next free `-Tnn`"),
                ),
                None => {
                    seen.insert(id, (&wp.file, loc));
                }
            }
        }
    }
}

fn per_file(wp: &Workplan, out: &mut Vec<Finding>) {
    let file = &wp.file;
    // C-05: task ids start with the workplan id.
    if let Some(wp_id) = wp.id.as_deref() {
        let prefix = format!("{wp_id}-");
        for t in &wp.tasks {
            if let Some(id) = t.id.as_deref()
                && !id.starts_with(&prefix)
            {
                out.push(
                    Finding::new(
                        Code::C05,
                        file,
                        t.locs.id.unwrap_or(Loc::new(t.heading_line, 1)),
                        format!("task id `{id}` does not start with its workplan id `{wp_id}`"),
                    )
                    .hint(format!("task ids read `{wp_id}-T01`, `{wp_id}-T02`, …")),
                );
            }
        }
    }

    let Some(status) = wp.status else { return };
    let open: Vec<_> = wp
        .tasks
        .iter()
        .filter(|t| t.status.is_some_and(TaskStatus::is_open))
        .collect();

    // C-06: done/finished with open tasks.
    if status.claims_complete() && !open.is_empty() {
        let list: Vec<String> = open
            .iter()
            .take(5)
            .map(|t| {
                format!(
                    "{} ({}, line {})",
                    t.id.as_deref().unwrap_or(&t.heading),
                    t.status.map_or("?", TaskStatus::as_str),
                    t.heading_line
                )
            })
            .collect();
        out.push(
            Finding::new(
                Code::C06,
                file,
                status_loc(wp),
                format!(
                    "the workplan is `{status}` but {} task(s) are still open: {}{}",
                    open.len(),
                    list.join(", "),
                    if open.len() > 5 { ", …" } else { "" }
                ),
            )
            .hint("close those tasks (done or cancel), or set the workplan back to `active`"),
        );
    }

    if status == WorkplanStatus::Active {
        if wp.tasks.is_empty() {
            // C-07
            out.push(
                Finding::new(
                    Code::C07,
                    file,
                    status_loc(wp),
                    "the workplan is `active` but has no `## Task:` sections",
                )
                .hint("add its tasks, or set it to `backlog` until it is planned"),
            );
        } else if wp
            .tasks
            .iter()
            .all(|t| matches!(t.status, Some(TaskStatus::Done | TaskStatus::Cancel)))
        {
            // C-08
            out.push(
                Finding::new(
                    Code::C08,
                    file,
                    status_loc(wp),
                    format!(
                        "every task ({}) is done or cancelled, but the workplan is still `active`",
                        wp.tasks.len()
                    ),
                )
                .hint("set it to `finished` or `done`, or add the task that is still missing"),
            );
        }
    }

    // C-09: needs_human on a closed task.
    for t in &wp.tasks {
        if t.needs_human()
            && let Some(s @ (TaskStatus::Done | TaskStatus::Cancel)) = t.status
        {
            out.push(
                Finding::new(
                    Code::C09,
                    file,
                    t.locs.needs_human.unwrap_or(Loc::new(t.heading_line, 1)),
                    format!(
                        "`needs_human: true` on the {s} task `{}`",
                        t.id.as_deref().unwrap_or(&t.heading)
                    ),
                )
                .hint(
                    "set `needs_human: false` (or remove it): nobody needs to act on a closed task",
                ),
            );
        }
    }
}
