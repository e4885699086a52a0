//! The State Hub's documents: workstreams, tasks, human gates, checkpoint.

use platformctl_hub::{
    CheckpointOptions, HubError, HubState, HubUrl, Store, TaskRow, WorkstreamRow, human_view,
};
use serde_json::{Value, json};

use crate::workplans::{counts_json, safe};
use crate::{Failure, OK};

/// `hub human`'s schema.
pub const HUMAN_SCHEMA: &str = "platformctl/hub-human/v1";
/// `hub checkpoint`'s schema.
pub const CHECKPOINT_SCHEMA: &str = "platformctl/hub-checkpoint/v1";
/// `hub workstreams`'s schema.
pub const WORKSTREAMS_SCHEMA: &str = "platformctl/hub-workstreams/v1";
/// `hub tasks`'s schema.
pub const TASKS_SCHEMA: &str = "platformctl/hub-tasks/v1";

/// A hub error as a failure (a PostgreSQL URL only ever redacted).
pub fn failure(url: &HubUrl, e: &HubError) -> Failure {
    match e {
        HubError::Store(_) => Failure::new(format!("hub {}: {e}", url.redacted())),
        _ => Failure::new(e.to_string()),
    }
}

/// Opens the hub. With `existing`, an SQLite hub that does not exist yet is a failure rather
/// than a new file (`serve` and `mcp` never create one).
pub fn open(url: &HubUrl, existing: bool) -> Result<Box<dyn Store>, Failure> {
    if existing
        && let HubUrl::Sqlite(path) = url
        && !path.is_file()
    {
        return Err(Failure::new(format!(
            "no State Hub at {} yet; `platformctl hub sync` registers the workplans",
            path.display()
        )));
    }
    platformctl_hub::open(url).map_err(|e| Failure::new(format!("hub {}: {e}", url.redacted())))
}

/// Builds a document from an existing hub (`serve` and `mcp`: never a new SQLite file).
pub fn from_existing(
    url: &HubUrl,
    doc: impl FnOnce(&HubUrl, &mut dyn Store) -> Result<Value, Failure>,
) -> Result<Value, Failure> {
    let mut store = open(url, true)?;
    doc(url, store.as_mut())
}

fn read(url: &HubUrl, store: &mut dyn Store) -> Result<HubState, Failure> {
    store.read().map_err(|e| failure(url, &e))
}

/// `hub human --json`: open tasks waiting for a person.
pub fn human(url: &HubUrl, store: &mut dyn Store) -> Result<Value, Failure> {
    let state = read(url, store)?;
    Ok(json!({
        "schema": HUMAN_SCHEMA,
        "exitCode": OK,
        "hub": url.redacted(),
        "gates": human_view(&state),
    }))
}

/// `hub checkpoint --json`.
pub fn checkpoint(
    url: &HubUrl,
    store: &mut dyn Store,
    opts: &CheckpointOptions,
) -> Result<Value, Failure> {
    let cp = platformctl_hub::checkpoint(store, opts).map_err(|e| failure(url, &e))?;
    let mut doc = json!({
        "schema": CHECKPOINT_SCHEMA,
        "exitCode": OK,
        "hub": url.redacted(),
    });
    if let (Value::Object(m), Ok(Value::Object(c))) = (&mut doc, serde_json::to_value(&cp)) {
        m.extend(c);
    }
    Ok(doc)
}

fn live_tasks<'a>(state: &'a HubState, w: &'a WorkstreamRow) -> impl Iterator<Item = &'a TaskRow> {
    state
        .tasks
        .iter()
        .filter(move |t| t.workstream_id == w.id && t.removed_at.is_none())
}

/// One workstream with its open state, as the hub holds it.
fn workstream_json(state: &HubState, w: &WorkstreamRow) -> Value {
    let counts = platformctl_hub::task_counts(live_tasks(state, w));
    json!({
        "id": w.id,
        "workplanId": w.workplan_id,
        "repo": w.repo,
        "path": w.path,
        "title": safe(&w.title),
        "status": w.status,
        "owner": w.owner,
        "planningPriority": w.priority,
        "planningOrder": w.planning_order,
        "openState": platformctl_workplan::format_counts(&counts),
        "counts": counts_json(&counts),
        "needsHuman": live_tasks(state, w).filter(|t| t.needs_human && t.is_open()).count(),
        "updatedAt": w.updated_at,
    })
}

/// `hub workstreams --json`: every live workstream (one per registered workplan), by repo and
/// workplan id, with its open state.
pub fn workstreams(url: &HubUrl, store: &mut dyn Store) -> Result<Value, Failure> {
    let state = read(url, store)?;
    let mut live: Vec<&WorkstreamRow> = state
        .workstreams
        .iter()
        .filter(|w| w.removed_at.is_none())
        .collect();
    live.sort_by(|a, b| (&a.repo, &a.workplan_id).cmp(&(&b.repo, &b.workplan_id)));
    Ok(json!({
        "schema": WORKSTREAMS_SCHEMA,
        "exitCode": OK,
        "hub": url.redacted(),
        "workstreams": live.iter().map(|w| workstream_json(&state, w)).collect::<Vec<_>>(),
    }))
}

/// Which tasks `hub tasks` lists.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    /// Only this workplan's (by workplan id, e.g. `OPS-WP-0007`).
    pub workplan: Option<String>,
    /// Only open ones (todo, wait, progress).
    pub open: bool,
}

/// `hub tasks --json`: live tasks (notes are not served: free text stays in the files), by
/// workplan and file order of their keys.
pub fn tasks(url: &HubUrl, store: &mut dyn Store, filter: &TaskFilter) -> Result<Value, Failure> {
    let state = read(url, store)?;
    let mut rows: Vec<(&WorkstreamRow, &TaskRow)> = state
        .tasks
        .iter()
        .filter(|t| t.removed_at.is_none() && (!filter.open || t.is_open()))
        .filter_map(|t| {
            let w = state.workstream(&t.workstream_id)?;
            (w.removed_at.is_none()
                && filter
                    .workplan
                    .as_deref()
                    .is_none_or(|id| id.eq_ignore_ascii_case(&w.workplan_id)))
            .then_some((w, t))
        })
        .collect();
    rows.sort_by(|a, b| (&a.0.repo, &a.1.task_key).cmp(&(&b.0.repo, &b.1.task_key)));
    let tasks: Vec<Value> = rows
        .iter()
        .map(|(w, t)| {
            json!({
                "id": t.id,
                "taskKey": t.task_key,
                "workstreamId": w.id,
                "workplanId": w.workplan_id,
                "repo": w.repo,
                "title": safe(&t.title),
                "status": t.status,
                "priority": t.priority,
                "open": t.is_open(),
                "needsHuman": t.needs_human,
                "needsHumanReason": t.needs_human_reason.as_deref().map(safe),
                "updatedAt": t.updated_at,
            })
        })
        .collect();
    Ok(json!({
        "schema": TASKS_SCHEMA,
        "exitCode": OK,
        "hub": url.redacted(),
        "workplan": filter.workplan,
        "open": filter.open,
        "tasks": tasks,
    }))
}
