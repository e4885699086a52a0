//! `hub human`: the live human-needed view, and setting or clearing a flag in the hub (which
//! owns `needs_human`).

use platformctl_workplan::TaskStatus;
use serde::Serialize;
use uuid::Uuid;

use crate::HubError;
use crate::model::{Entity, HistoryRow, HubState, TaskRow, Writes};
use crate::store::Store;

/// An open task that waits for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanGate {
    /// The task's id.
    pub task_id: Uuid,
    /// `OPS-WP-0007-T03`.
    pub task_key: String,
    /// The task's title.
    pub title: String,
    /// `todo`, `wait` or `progress`.
    pub status: TaskStatus,
    /// `OPS-WP-0007`.
    pub workplan_id: String,
    /// The workplan's title.
    pub workplan_title: String,
    /// The repo.
    pub repo: String,
    /// The workplan file, relative to the repo.
    pub path: String,
    /// What the person has to do or decide.
    pub reason: Option<String>,
    /// Who set the flag.
    pub by: Option<String>,
    /// When.
    pub at: Option<String>,
}

/// Every open, registered task with `needs_human`, oldest flag first.
pub fn human_view(state: &HubState) -> Vec<HumanGate> {
    let mut out: Vec<HumanGate> = state
        .tasks
        .iter()
        .filter(|t| t.needs_human && t.is_open() && t.removed_at.is_none())
        .filter_map(|t| {
            let w = state.workstream(&t.workstream_id)?;
            if w.removed_at.is_some() {
                return None;
            }
            Some(HumanGate {
                task_id: t.id,
                task_key: t.task_key.clone(),
                title: t.title.clone(),
                status: t.status,
                workplan_id: w.workplan_id.clone(),
                workplan_title: w.title.clone(),
                repo: w.repo.clone(),
                path: w.path.clone(),
                reason: t.needs_human_reason.clone(),
                by: t.needs_human_by.clone(),
                at: t.needs_human_at.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.at, &a.task_key).cmp(&(&b.at, &b.task_key)));
    out
}

/// Set or clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HumanChange {
    /// Set, with what the person has to do.
    Set {
        /// The reason.
        reason: String,
    },
    /// Clear.
    Clear,
}

/// Sets or clears `needs_human` of one task (by key, `OPS-WP-0007-T03`, or id), recording
/// who and when, with history. Setting it on a closed task is refused.
pub fn set_human(
    store: &mut dyn Store,
    task: &str,
    change: &HumanChange,
    actor: &str,
) -> Result<TaskRow, HubError> {
    let now = crate::time::now();
    let task_id = Uuid::parse_str(task).ok();
    let mut result = None;
    store.write_locked(&mut |state| {
        let live: Vec<&TaskRow> = state
            .tasks
            .iter()
            .filter(|t| t.removed_at.is_none() && (Some(t.id) == task_id || t.task_key == task))
            .collect();
        let row = match live.as_slice() {
            [] => {
                return Err(HubError::NotFound(format!(
                    "no registered task `{task}` (run `platformctl hub sync` first?)"
                )));
            }
            [one] => (*one).clone(),
            many => {
                return Err(HubError::Usage(format!(
                    "`{task}` names {} tasks; give the task's id: {}",
                    many.len(),
                    many.iter()
                        .map(|t| t.id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let (nh, reason) = match change {
            HumanChange::Set { reason } => {
                if !row.is_open() {
                    return Err(HubError::Usage(format!(
                        "task `{}` is {}: nobody needs to act on a closed task",
                        row.task_key, row.status
                    )));
                }
                (true, Some(reason.clone()))
            }
            HumanChange::Clear => (false, None),
        };
        let mut history = Vec::new();
        let mut entry = |field: &str, old: Option<String>, new: Option<String>| {
            history.push(HistoryRow {
                seq: 0,
                at: now.clone(),
                actor: actor.to_string(),
                entity: Entity::Task,
                entity_id: row.id,
                entity_key: row.task_key.clone(),
                field: field.to_string(),
                old,
                new,
            });
        };
        if row.needs_human != nh {
            entry(
                "needs_human",
                Some(row.needs_human.to_string()),
                Some(nh.to_string()),
            );
        }
        if row.needs_human_reason != reason {
            entry(
                "needs_human_reason",
                row.needs_human_reason.clone(),
                reason.clone(),
            );
        }
        let updated = TaskRow {
            needs_human: nh,
            needs_human_reason: reason,
            needs_human_by: Some(actor.to_string()),
            needs_human_at: Some(now.clone()),
            updated_at: now.clone(),
            ..row
        };
        result = Some(updated.clone());
        Ok(Writes {
            workstreams: Vec::new(),
            tasks: vec![updated],
            history,
        })
    })?;
    result.ok_or_else(|| HubError::Store("the transaction did not run".into()))
}
