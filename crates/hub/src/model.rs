//! The rows of the hub, as every backend reads and writes them.

use platformctl_workplan::{Priority, TaskStatus, WorkplanStatus};
use serde::Serialize;
use uuid::Uuid;

/// One workstream: the hub's row for one workplan file.
///
/// Files own every field but the ids and timestamps; `hub sync` copies them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkstreamRow {
    /// `state_hub_workstream_id` (serialised lowercase, hyphenated).
    pub id: Uuid,
    /// The workplan's `id` (`OPS-WP-0007`).
    pub workplan_id: String,
    /// The repository: the name of the folder holding `workplans/`.
    pub repo: String,
    /// The file, relative to the repo root, with `/` (`workplans/OPS-WP-0007-….md`).
    pub path: String,
    /// `title`.
    pub title: String,
    /// `status` (`backlog | active | wait | finished | done | cancel`).
    pub status: WorkplanStatus,
    /// `owner`.
    pub owner: Option<String>,
    /// `planning_priority` (`high | medium | low`).
    pub priority: Option<Priority>,
    /// `planning_order`.
    pub planning_order: Option<i64>,
    /// When the hub first registered it.
    pub created_at: String,
    /// When a sync last changed it.
    pub updated_at: String,
    /// When `hub sync --prune` retired it because no file has it any more.
    pub removed_at: Option<String>,
}

/// One task of a workstream.
///
/// Files own key, title, status, priority and notes; the hub owns `needs_human` (with its
/// reason, who set it and when). `file_needs_human*` remember what the file said at the last
/// sync, so that a change made in the file is taken over once, and a flag set in the hub is
/// not undone by a file that never mentioned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRow {
    /// `state_hub_task_id`.
    pub id: Uuid,
    /// The task's `id` (`OPS-WP-0007-T01`).
    pub task_key: String,
    /// The workstream it belongs to.
    pub workstream_id: Uuid,
    /// The `## Task:` heading.
    pub title: String,
    /// `status` (`todo | wait | progress | done | cancel`).
    pub status: TaskStatus,
    /// `priority`.
    pub priority: Option<Priority>,
    /// The section's free text (progress notes).
    pub notes: String,
    /// A person has to act before the task can go on.
    pub needs_human: bool,
    /// What the person has to do or decide.
    pub needs_human_reason: Option<String>,
    /// Who last set or cleared the flag (an actor, or `file` for a value taken from a file).
    pub needs_human_by: Option<String>,
    /// When the flag was last set or cleared.
    pub needs_human_at: Option<String>,
    /// `needs_human` as the file said at the last sync.
    pub file_needs_human: bool,
    /// `needs_human_reason` as the file said at the last sync.
    pub file_needs_human_reason: Option<String>,
    /// When the hub first registered it.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// When `hub sync --prune` retired it.
    pub removed_at: Option<String>,
}

impl TaskRow {
    /// `todo`, `wait` or `progress`.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            TaskStatus::Todo | TaskStatus::Wait | TaskStatus::Progress
        )
    }
}

/// `workstream` or `task`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    /// A workstream (workplan).
    Workstream,
    /// A task.
    Task,
}

impl Entity {
    /// `workstream` or `task`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Workstream => "workstream",
            Entity::Task => "task",
        }
    }

    /// Reads the stored word.
    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "workstream" => Some(Entity::Workstream),
            "task" => Some(Entity::Task),
            _ => None,
        }
    }
}

/// One entry of the append-only history: one field of one row changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    /// Order of insertion (assigned by the store; 0 before it is written).
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who (`--actor`, `PLATFORMCTL_ACTOR`, or the user name).
    pub actor: String,
    /// What kind of row.
    pub entity: Entity,
    /// The row's id.
    pub entity_id: Uuid,
    /// The row's key at the time (`OPS-WP-0007`, `OPS-WP-0007-T01`).
    pub entity_key: String,
    /// The field (`created` for a new row, then one entry per field it was created with).
    pub field: String,
    /// The value before (`None`: there was none).
    pub old: Option<String>,
    /// The value after (`None`: cleared).
    pub new: Option<String>,
}

/// Everything the hub holds except the history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubState {
    /// Every workstream, retired ones included.
    pub workstreams: Vec<WorkstreamRow>,
    /// Every task, retired ones included.
    pub tasks: Vec<TaskRow>,
}

impl HubState {
    /// The workstream with this id.
    pub fn workstream(&self, id: &Uuid) -> Option<&WorkstreamRow> {
        self.workstreams.iter().find(|w| w.id == *id)
    }
}

/// What one transaction writes: rows inserted or replaced whole, and history appended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writes {
    /// Workstreams to insert or replace (by id).
    pub workstreams: Vec<WorkstreamRow>,
    /// Tasks to insert or replace (by id); their workstreams exist or are in `workstreams`.
    pub tasks: Vec<TaskRow>,
    /// History entries to append, in order.
    pub history: Vec<HistoryRow>,
}

impl Writes {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.workstreams.is_empty() && self.tasks.is_empty() && self.history.is_empty()
    }
}
