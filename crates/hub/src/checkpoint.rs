//! `hub checkpoint`: a Markdown pickup note from the hub — what is active, what waits for a
//! person, what was finished lately, and what to pick next.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use platformctl_workplan::{Counts, Priority, TaskStatus, WorkplanStatus, format_counts};
use serde::Serialize;
use uuid::Uuid;

use crate::HubError;
use crate::human::{HumanGate, human_view};
use crate::model::{HubState, TaskRow, WorkstreamRow};
use crate::store::{HistoryQuery, Store};

/// What the checkpoint covers.
#[derive(Clone, Debug)]
pub struct CheckpointOptions {
    /// "Completed recently" means within this many days.
    pub days: u32,
    /// How many next picks.
    pub picks: usize,
}

/// A workstream line.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveWorkstream {
    /// `OPS-WP-0007`.
    pub workplan_id: String,
    /// The title.
    pub title: String,
    /// `active` or `wait`.
    pub status: WorkplanStatus,
    /// `planning_priority`.
    pub priority: Option<Priority>,
    /// `planning_order`.
    pub planning_order: Option<i64>,
    /// The repo.
    pub repo: String,
    /// Task counts as an operator writes them.
    pub open_state: String,
    /// Open tasks waiting for a person.
    pub needs_human: usize,
}

/// A task finished recently or picked next.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLine {
    /// `OPS-WP-0007-T01`.
    pub task_key: String,
    /// The title.
    pub title: String,
    /// `OPS-WP-0007`.
    pub workplan_id: String,
    /// The status.
    pub status: TaskStatus,
    /// The priority.
    pub priority: Option<Priority>,
    /// For a completed task: when it became done.
    pub at: Option<String>,
}

/// The checkpoint's content.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// When it was made.
    pub generated_at: String,
    /// The window of "completed recently", in days.
    pub days: u32,
    /// Repos in the hub.
    pub repos: Vec<String>,
    /// Live workstreams and tasks in the hub.
    pub workstreams: usize,
    /// Live tasks.
    pub tasks: usize,
    /// Workstreams in status active or wait, by planning priority and order.
    pub active: Vec<ActiveWorkstream>,
    /// Open tasks waiting for a person.
    pub human: Vec<HumanGate>,
    /// Tasks whose status changed to done within `days` (as the history records it; not
    /// those registered already done), newest first.
    pub completed: Vec<TaskLine>,
    /// Open tasks to pick next: of active workstreams, not waiting, not needing a person;
    /// by planning priority and order, in-progress first, then task priority.
    pub next: Vec<TaskLine>,
}

fn rank(p: Option<Priority>) -> u8 {
    match p {
        Some(Priority::High) => 0,
        Some(Priority::Medium) => 1,
        Some(Priority::Low) => 2,
        None => 3,
    }
}

fn ws_order(w: &WorkstreamRow) -> (u8, bool, i64, String) {
    (
        rank(w.priority),
        w.planning_order.is_none(),
        w.planning_order.unwrap_or(0),
        w.workplan_id.clone(),
    )
}

/// How many of `tasks` are in each status.
pub fn task_counts<'a>(tasks: impl IntoIterator<Item = &'a TaskRow>) -> Counts {
    let mut c = Counts::default();
    for t in tasks {
        match t.status {
            TaskStatus::Wait => c.wait += 1,
            TaskStatus::Progress => c.progress += 1,
            TaskStatus::Todo => c.todo += 1,
            TaskStatus::Done => c.done += 1,
            TaskStatus::Cancel => c.cancel += 1,
        }
    }
    c
}

/// Reads the hub and assembles the checkpoint.
pub fn checkpoint(store: &mut dyn Store, opts: &CheckpointOptions) -> Result<Checkpoint, HubError> {
    let now = crate::time::now();
    let state = store.read()?;
    let since = crate::time::minus_days(&now, opts.days);
    let done = store.history(&HistoryQuery {
        since,
        entity_id: None,
        field: Some("status".into()),
    })?;
    Ok(assemble(&state, &done, &now, opts))
}

fn assemble(
    state: &HubState,
    status_history: &[crate::model::HistoryRow],
    now: &str,
    opts: &CheckpointOptions,
) -> Checkpoint {
    let live_ws: BTreeMap<Uuid, &WorkstreamRow> = state
        .workstreams
        .iter()
        .filter(|w| w.removed_at.is_none())
        .map(|w| (w.id, w))
        .collect();
    let live_tasks: Vec<&TaskRow> = state
        .tasks
        .iter()
        .filter(|t| t.removed_at.is_none() && live_ws.contains_key(&t.workstream_id))
        .collect();
    let mut by_ws: BTreeMap<Uuid, Vec<&TaskRow>> = BTreeMap::new();
    for t in &live_tasks {
        by_ws.entry(t.workstream_id).or_default().push(t);
    }

    let mut active: Vec<&WorkstreamRow> = live_ws
        .values()
        .filter(|w| matches!(w.status, WorkplanStatus::Active | WorkplanStatus::Wait))
        .copied()
        .collect();
    active.sort_by_key(|w| ws_order(w));
    let active_lines = active
        .iter()
        .map(|w| {
            let tasks = by_ws.get(&w.id).map_or(&[][..], Vec::as_slice);
            let c = task_counts(tasks.iter().copied());
            ActiveWorkstream {
                workplan_id: w.workplan_id.clone(),
                title: w.title.clone(),
                status: w.status,
                priority: w.priority,
                planning_order: w.planning_order,
                repo: w.repo.clone(),
                open_state: format_counts(&c),
                needs_human: tasks
                    .iter()
                    .filter(|t| t.needs_human && t.is_open())
                    .count(),
            }
        })
        .collect();

    let task_by_id: BTreeMap<Uuid, &TaskRow> = live_tasks.iter().map(|t| (t.id, *t)).collect();
    let mut completed: Vec<TaskLine> = Vec::new();
    let mut seen: BTreeSet<Uuid> = BTreeSet::new();
    for h in status_history.iter().rev() {
        // A transition to done; a task registered as already done did not finish lately.
        if h.new.as_deref() != Some("done") || h.old.is_none() || !seen.insert(h.entity_id) {
            continue;
        }
        let Some(t) = task_by_id.get(&h.entity_id) else {
            continue;
        };
        if t.status != TaskStatus::Done {
            continue;
        }
        let Some(w) = live_ws.get(&t.workstream_id) else {
            continue;
        };
        completed.push(TaskLine {
            task_key: t.task_key.clone(),
            title: t.title.clone(),
            workplan_id: w.workplan_id.clone(),
            status: t.status,
            priority: t.priority,
            at: Some(h.at.clone()),
        });
    }

    let mut picks: Vec<(&WorkstreamRow, &TaskRow)> = live_tasks
        .iter()
        .filter(|t| matches!(t.status, TaskStatus::Todo | TaskStatus::Progress) && !t.needs_human)
        .filter_map(|t| {
            let w = live_ws.get(&t.workstream_id)?;
            (w.status == WorkplanStatus::Active).then_some((*w, *t))
        })
        .collect();
    picks.sort_by_key(|(w, t)| {
        (
            ws_order(w),
            t.status != TaskStatus::Progress,
            rank(t.priority),
            t.task_key.clone(),
        )
    });
    let next = picks
        .iter()
        .take(opts.picks)
        .map(|(w, t)| TaskLine {
            task_key: t.task_key.clone(),
            title: t.title.clone(),
            workplan_id: w.workplan_id.clone(),
            status: t.status,
            priority: t.priority,
            at: None,
        })
        .collect();

    let repos: BTreeSet<String> = live_ws.values().map(|w| w.repo.clone()).collect();
    Checkpoint {
        generated_at: now.to_string(),
        days: opts.days,
        repos: repos.into_iter().collect(),
        workstreams: live_ws.len(),
        tasks: live_tasks.len(),
        active: active_lines,
        human: human_view(state),
        completed,
        next,
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The checkpoint as Markdown, to paste into a planning note or hand to the next session.
pub fn render_markdown(cp: &Checkpoint) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Pickup checkpoint\n");
    let _ = writeln!(
        out,
        "Generated {} from the State Hub: {} workstream{}, {} task{} (repos: {}).\n",
        cp.generated_at,
        cp.workstreams,
        if cp.workstreams == 1 { "" } else { "s" },
        cp.tasks,
        if cp.tasks == 1 { "" } else { "s" },
        if cp.repos.is_empty() {
            "none".to_string()
        } else {
            cp.repos.join(", ")
        }
    );
    let _ = writeln!(out, "## Active workstreams ({})\n", cp.active.len());
    if cp.active.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        let _ = writeln!(
            out,
            "| workplan | status | priority | order | open state | needs human | title |"
        );
        let _ = writeln!(out, "|---|---|---|---:|---|---:|---|");
        for w in &cp.active {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&w.workplan_id),
                w.status,
                w.priority.map_or("-", |p| p.as_str()),
                w.planning_order.map_or("-".into(), |o| o.to_string()),
                w.open_state,
                w.needs_human,
                cell(&w.title)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Open human gates ({})\n", cp.human.len());
    if cp.human.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        for g in &cp.human {
            let _ = writeln!(
                out,
                "- **{}** {} ({}, {}): {} (set by {}, {})",
                g.task_key,
                g.title,
                g.workplan_id,
                g.status,
                g.reason.as_deref().unwrap_or("no reason given"),
                g.by.as_deref().unwrap_or("?"),
                g.at.as_deref().unwrap_or("?")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "## Completed in the last {} day{} ({})\n",
        cp.days,
        if cp.days == 1 { "" } else { "s" },
        cp.completed.len()
    );
    if cp.completed.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        for t in &cp.completed {
            let _ = writeln!(
                out,
                "- {} {} ({}), {}",
                t.task_key,
                t.title,
                t.workplan_id,
                t.at.as_deref().unwrap_or("?")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Next picks\n");
    if cp.next.is_empty() {
        let _ = writeln!(out, "None: nothing open in an active workstream.");
    } else {
        for (i, t) in cp.next.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. **{}** {} ({}, {}{})",
                i + 1,
                t.task_key,
                t.title,
                t.workplan_id,
                t.status,
                t.priority.map_or(String::new(), |p| format!(", {p}"))
            );
        }
    }
    out
}
