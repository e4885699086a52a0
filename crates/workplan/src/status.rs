//! `workplan status`: the open-state line per workplan and the ordered table.

use std::cmp::Ordering;
use std::path::PathBuf;

use serde::Serialize;

pub use crate::model::repo_of;
use crate::model::{Counts, Priority, TaskStatus, Workplan, WorkplanStatus};

/// The open state the way an operator writes it: `1 wait, 2 progress, 5 todo, 2 done`.
///
/// Order: wait, progress, todo, done, cancel (what blocks first, what is finished last),
/// then `unknown` for tasks without a valid status. Zero counts are left out; `cancel` is
/// shown when there are cancelled tasks, so the numbers always add up to the task count. A
/// workplan without tasks reads `no tasks`.
///
/// ```
/// use platformctl_workplan::{open_state_line, parse};
///
/// let text = "---\nid: WP-1\ntitle: t\nstatus: active\n---\n\
///     \n## Task: a\n```task\nid: WP-1-T01\nstatus: todo\n```\n\
///     \n## Task: b\n```task\nid: WP-1-T02\nstatus: wait\n```\n\
///     \n## Task: c\n```task\nid: WP-1-T03\nstatus: todo\n```\n";
/// let (wp, _) = parse(text, "wp.md".as_ref());
/// assert_eq!(open_state_line(&wp), "1 wait, 2 todo");
/// ```
pub fn open_state_line(wp: &Workplan) -> String {
    format_counts(&wp.counts())
}

/// [`open_state_line`] for counts.
pub fn format_counts(c: &Counts) -> String {
    if c.total() == 0 {
        return "no tasks".into();
    }
    let mut parts: Vec<String> = TaskStatus::ALL
        .iter()
        .filter(|&&s| c.get(s) > 0)
        .map(|&s| format!("{} {s}", c.get(s)))
        .collect();
    if c.unknown > 0 {
        parts.push(format!("{} unknown", c.unknown));
    }
    parts.join(", ")
}

/// One row of the status table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusRow {
    /// [`Workplan::repo`].
    pub repo: Option<String>,
    /// The file.
    pub file: PathBuf,
    /// `id`.
    pub id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `status`.
    pub status: Option<WorkplanStatus>,
    /// `planning_priority`.
    pub planning_priority: Option<Priority>,
    /// `planning_order`.
    pub planning_order: Option<i64>,
    /// Tasks per status.
    pub counts: Counts,
    /// [`open_state_line`].
    pub open_state: String,
    /// Open tasks with `needs_human: true`.
    pub needs_human: usize,
}

/// The status table across all workplans given (of one or several repos), ordered by
/// planning priority (high, medium, low, unset), then `planning_order` (ascending, unset
/// last), then id and file.
pub fn status_table(workplans: &[Workplan]) -> Vec<StatusRow> {
    let mut rows: Vec<StatusRow> = workplans
        .iter()
        .map(|wp| StatusRow {
            repo: wp.repo.clone(),
            file: wp.file.clone(),
            id: wp.id.clone(),
            title: wp.title.clone(),
            status: wp.status,
            planning_priority: wp.planning_priority,
            planning_order: wp.planning_order,
            counts: wp.counts(),
            open_state: open_state_line(wp),
            needs_human: wp
                .tasks
                .iter()
                .filter(|t| t.needs_human() && t.status.is_some_and(TaskStatus::is_open))
                .count(),
        })
        .collect();
    rows.sort_by(compare_rows);
    rows
}

fn compare_rows(a: &StatusRow, b: &StatusRow) -> Ordering {
    let prio = |r: &StatusRow| r.planning_priority.map_or(3, |p| p as u8);
    let order = |r: &StatusRow| (r.planning_order.is_none(), r.planning_order.unwrap_or(0));
    prio(a)
        .cmp(&prio(b))
        .then_with(|| order(a).cmp(&order(b)))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.file.cmp(&b.file))
}

/// The table as aligned plain text, one workplan a line, for a terminal:
/// `PRIO ORDER REPO ID STATUS OPEN TITLE`.
pub fn format_status_table(rows: &[StatusRow]) -> String {
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let mut open = r.open_state.clone();
            if r.needs_human > 0 {
                open.push_str(&format!(" ({} needs human)", r.needs_human));
            }
            [
                r.planning_priority
                    .map_or("-", Priority::as_str)
                    .to_string(),
                r.planning_order.map_or("-".into(), |o| o.to_string()),
                r.repo.clone().unwrap_or_else(|| "-".into()),
                r.id.clone().unwrap_or_else(|| r.file.display().to_string()),
                r.status.map_or("?", WorkplanStatus::as_str).to_string(),
                open,
                r.title.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["PRIO", "ORDER", "REPO", "ID", "STATUS", "OPEN", "TITLE"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
