//! Files × hub: which row each workplan and task is, and field by field what differs.
//!
//! One computation serves `hub sync --plan` (shown), `hub sync` (written) and `hub check`
//! (reported as C-10, C-11, C-12), so `check` is clean exactly when `sync` has nothing to do.
//!
//! Matching, per file in order (repos as given, files by name):
//!
//! 1. an id the file carries is the row (adopted as it is when the hub has no such row);
//! 2. a workplan or task without an id takes the hub row with the same key
//!    (`repo` + workplan `id`, or workstream + task `id`) that no file carries: that repairs
//!    a sync that registered rows but was stopped before writing the ids, and lets a second
//!    clone of a repo pick up the ids another clone registered;
//! 3. otherwise it is new, with a fresh UUID v4.
//!
//! An id carried twice (a task block copied with its id) skips the later file, reported.
//! Rows of the repos looked at that no file has are orphans (C-12); `--prune` retires them
//! (`removed_at`), never deleting a row.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use platformctl_workplan::{IdTarget, Task, TaskStatus, Workplan, WorkplanStatus};
use serde::Serialize;
use uuid::Uuid;

use crate::model::{Entity, HistoryRow, HubState, TaskRow, WorkstreamRow, Writes};
use crate::scan::{Scan, ScannedFile};

/// Who and when, for the rows and history written.
#[derive(Clone, Debug)]
pub struct Options {
    /// Timestamp of this run ([`crate::time::now`]).
    pub now: String,
    /// Who runs it.
    pub actor: String,
    /// Retire orphan rows (`hub sync --prune`).
    pub prune: bool,
}

/// What happens to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A new row (the id is new, or adopted from the file).
    Create,
    /// Fields of an existing row change.
    Update,
    /// An orphan row is retired (`--prune`).
    Remove,
}

/// One field that differs: the hub's value and the file's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field (`title`, `status`, `notes`, `workstream` …).
    pub field: &'static str,
    /// The hub's value (`None`: none).
    pub old: Option<String>,
    /// The value the file gives (`None`: none).
    pub new: Option<String>,
    /// Line of the file that holds it.
    pub line: u32,
}

/// A row created, changed or retired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityChange {
    /// Workstream or task.
    pub entity: Entity,
    /// What happens.
    pub action: Action,
    /// The row's id.
    pub id: Uuid,
    /// `OPS-WP-0007` or `OPS-WP-0007-T01`.
    pub key: String,
    /// The repo.
    pub repo: String,
    /// The file (as shown), or the last known one for a retired row.
    pub file: PathBuf,
    /// Line of the key in the file (1 for a retired row).
    pub line: u32,
    /// The file already carries the id (adopted); `false` for a new id.
    pub id_from_file: bool,
    /// Field by field (for `create`, every field the row is created with).
    pub fields: Vec<FieldChange>,
}

/// An id to write into a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdWrite {
    /// Index into [`Scan::files`].
    pub file: usize,
    /// The file (as shown).
    pub path: PathBuf,
    /// Where in the file.
    pub target: IdTarget,
    /// The id.
    pub id: Uuid,
    /// The workplan's or task's key.
    pub key: String,
    /// Line of the key.
    pub line: u32,
    /// The hub already has the row (it was matched by key): the file only lacks the id.
    pub registered: bool,
}

/// A row no file has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    /// Workstream or task.
    pub entity: Entity,
    /// The row's id.
    pub id: Uuid,
    /// Its key.
    pub key: String,
    /// Its repo.
    pub repo: String,
    /// The last known path, relative to the repo (the workstream's for a task).
    pub path: String,
    /// That path under the repo folder given.
    pub file: PathBuf,
    /// For a workstream: its tasks still registered.
    pub tasks: usize,
}

/// The outcome of matching files with the hub.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    /// Rows to create or update (in file order), then retired orphans (with `prune`).
    pub changes: Vec<EntityChange>,
    /// Ids to write into files.
    pub id_writes: Vec<IdWrite>,
    /// Rows no file has.
    pub orphans: Vec<Orphan>,
    /// Files skipped: (index into [`Scan::files`], why).
    pub skipped: Vec<(usize, String)>,
    /// Workstreams and tasks in the files taken.
    pub workstreams: usize,
    /// Tasks in the files taken.
    pub tasks: usize,
    /// What a sync writes to the hub: rows and history.
    pub writes: Writes,
}

impl Reconciliation {
    /// Nothing to do: no change, no id to write, no orphan, nothing skipped.
    pub fn is_clean(&self) -> bool {
        self.changes.is_empty()
            && self.id_writes.is_empty()
            && self.orphans.is_empty()
            && self.skipped.is_empty()
    }
}

/// A fresh id (UUID v4).
pub fn new_id() -> Uuid {
    Uuid::new_v4()
}

/// An id a file carries (`scan` has normalised it; anything else is no id).
fn carried(id: Option<&String>) -> Option<Uuid> {
    Uuid::parse_str(id?).ok()
}

fn diff<T: PartialEq + ToString>(
    out: &mut Vec<FieldChange>,
    field: &'static str,
    old: Option<&T>,
    new: Option<&T>,
    line: u32,
) {
    if old != new {
        out.push(FieldChange {
            field,
            old: old.map(ToString::to_string),
            new: new.map(ToString::to_string),
            line,
        });
    }
}

fn history(
    opts: &Options,
    entity: Entity,
    id: Uuid,
    key: &str,
    fields: &[FieldChange],
    created: Option<&str>,
) -> Vec<HistoryRow> {
    let mk = |field: &str, old: Option<String>, new: Option<String>| HistoryRow {
        seq: 0,
        at: opts.now.clone(),
        actor: opts.actor.clone(),
        entity,
        entity_id: id,
        entity_key: key.to_string(),
        field: field.to_string(),
        old,
        new,
    };
    let mut out = Vec::with_capacity(fields.len() + 1);
    if let Some(what) = created {
        out.push(mk("created", None, Some(what.to_string())));
    }
    for f in fields {
        out.push(mk(f.field, f.old.clone(), f.new.clone()));
    }
    out
}

struct Index<'a> {
    ws_by_id: HashMap<Uuid, &'a WorkstreamRow>,
    ws_by_key: HashMap<(&'a str, &'a str), Vec<&'a WorkstreamRow>>,
    task_by_id: HashMap<Uuid, &'a TaskRow>,
    tasks_of: HashMap<Uuid, Vec<&'a TaskRow>>,
    carried_ws: HashSet<Uuid>,
    carried_tasks: HashSet<Uuid>,
}

impl<'a> Index<'a> {
    fn new(hub: &'a HubState, scan: &Scan) -> Self {
        let mut ws_by_key: HashMap<(&str, &str), Vec<&WorkstreamRow>> = HashMap::new();
        for w in &hub.workstreams {
            ws_by_key
                .entry((w.repo.as_str(), w.workplan_id.as_str()))
                .or_default()
                .push(w);
        }
        let mut tasks_of: HashMap<Uuid, Vec<&TaskRow>> = HashMap::new();
        for t in &hub.tasks {
            tasks_of.entry(t.workstream_id).or_default().push(t);
        }
        Index {
            ws_by_id: hub.workstreams.iter().map(|w| (w.id, w)).collect(),
            ws_by_key,
            task_by_id: hub.tasks.iter().map(|t| (t.id, t)).collect(),
            tasks_of,
            carried_ws: scan
                .files
                .iter()
                .filter_map(|f| carried(f.workplan.state_hub_workstream_id.as_ref()))
                .collect(),
            carried_tasks: scan
                .files
                .iter()
                .flat_map(|f| f.workplan.tasks.iter())
                .filter_map(|t| carried(t.state_hub_task_id.as_ref()))
                .collect(),
        }
    }

    /// The hub workstream a file without an id stands for: same repo and key, carried by no
    /// file, not claimed yet; a live row before a retired one, then the latest.
    fn ws_by_key(
        &self,
        repo: &str,
        key: &str,
        claimed: &HashSet<Uuid>,
    ) -> Option<&'a WorkstreamRow> {
        let rows = self.ws_by_key.get(&(repo, key))?;
        rows.iter()
            .filter(|w| !self.carried_ws.contains(&w.id) && !claimed.contains(&w.id))
            .max_by(|a, b| {
                (a.removed_at.is_none(), &a.updated_at)
                    .cmp(&(b.removed_at.is_none(), &b.updated_at))
            })
            .copied()
    }

    fn task_by_key(
        &self,
        ws: Uuid,
        key: &str,
        claimed: &HashSet<Uuid>,
        local: &HashSet<Uuid>,
    ) -> Option<&'a TaskRow> {
        let rows = self.tasks_of.get(&ws)?;
        rows.iter()
            .filter(|t| {
                t.task_key == key
                    && !self.carried_tasks.contains(&t.id)
                    && !claimed.contains(&t.id)
                    && !local.contains(&t.id)
            })
            .max_by(|a, b| {
                (a.removed_at.is_none(), &a.updated_at)
                    .cmp(&(b.removed_at.is_none(), &b.updated_at))
            })
            .copied()
    }

    /// The hub workstream a (skipped) file stands for, if any.
    fn ws_for(&self, wp: &Workplan, repo: &str) -> Option<&'a WorkstreamRow> {
        if let Some(id) = carried(wp.state_hub_workstream_id.as_ref()) {
            return self.ws_by_id.get(&id).copied();
        }
        let key = wp.id.as_deref()?;
        self.ws_by_key.get(&(repo, key))?.first().copied()
    }
}

/// Matches the files of `scan` with `hub` (see the module doc), in named steps: per file,
/// [`Reconciler::match_workstream`] and [`Reconciler::match_tasks`] decide which row each
/// is (or skip the file), then [`Reconciler::record_workstream`] and
/// [`Reconciler::record_task`] diff them field by field; last, [`Reconciler::orphans`] finds
/// the rows no file has.
pub fn reconcile(hub: &HubState, scan: &Scan, opts: &Options) -> Reconciliation {
    let mut r = Reconciler::new(hub, scan, opts);
    for (fi, f) in scan.files.iter().enumerate() {
        r.file(fi, f);
    }
    r.orphans();
    r.rec
}

/// The row a workplan file stands for.
struct WorkstreamMatch<'a> {
    /// The row's id (carried, matched by key, or new).
    id: Uuid,
    /// The hub's row, when it has one.
    row: Option<&'a WorkstreamRow>,
    /// The file carries the id.
    carried: bool,
}

/// The row a task block stands for.
struct TaskMatch<'a, 'f> {
    /// Index of the task in its workplan.
    index: usize,
    /// The task block.
    task: &'f Task,
    /// Its status.
    status: TaskStatus,
    /// The row's id (carried, matched by key, or new).
    id: Uuid,
    /// The hub's row, when it has one.
    row: Option<&'a TaskRow>,
    /// The file carries the id.
    carried: bool,
}

/// The `needs_human` flag a task row ends up with: the hub's, unless the file changed its own.
struct Gate {
    needs_human: bool,
    reason: Option<String>,
    by: Option<String>,
    at: Option<String>,
}

/// The state of one reconciliation while it walks the files.
struct Reconciler<'a> {
    hub: &'a HubState,
    scan: &'a Scan,
    opts: &'a Options,
    ix: Index<'a>,
    rec: Reconciliation,
    /// Ids taken by a file so far.
    claimed_ws: HashSet<Uuid>,
    claimed_tasks: HashSet<Uuid>,
    /// Ids some file accounts for (taken or skipped): not orphans.
    seen_ws: HashSet<Uuid>,
    seen_tasks: HashSet<Uuid>,
    /// The file (as shown) of each workstream taken.
    ws_files: HashMap<Uuid, PathBuf>,
}

impl<'a> Reconciler<'a> {
    fn new(hub: &'a HubState, scan: &'a Scan, opts: &'a Options) -> Self {
        Reconciler {
            hub,
            scan,
            opts,
            ix: Index::new(hub, scan),
            rec: Reconciliation::default(),
            claimed_ws: HashSet::new(),
            claimed_tasks: HashSet::new(),
            seen_ws: HashSet::new(),
            seen_tasks: HashSet::new(),
            ws_files: HashMap::new(),
        }
    }

    /// Skips file `fi` for `why`; its rows still count as seen (they are not orphans).
    fn skip(&mut self, fi: usize, why: String, wp: &Workplan, repo: &str) {
        self.rec.skipped.push((fi, why));
        if let Some(w) = self.ix.ws_for(wp, repo) {
            self.seen_ws.insert(w.id);
            for t in self.ix.tasks_of.get(&w.id).into_iter().flatten() {
                self.seen_tasks.insert(t.id);
            }
        }
        for t in &wp.tasks {
            if let Some(id) = carried(t.state_hub_task_id.as_ref()) {
                self.seen_tasks.insert(id);
            }
        }
    }

    /// One file: match its workstream and tasks, then record what differs.
    fn file(&mut self, fi: usize, f: &'a ScannedFile) {
        let repo = self.scan.repos[f.repo].name.as_str();
        let wp = &f.workplan;
        if let Some(why) = &f.skip {
            self.skip(fi, why.clone(), wp, repo);
            return;
        }
        let Some(key) = wp.id.clone() else {
            self.rec.skipped.push((fi, "the workplan has no id".into()));
            return;
        };
        let Some(status) = wp.status else {
            return self.skip(fi, "the workplan has no status".into(), wp, repo);
        };
        let ws = match self.match_workstream(wp, repo, &key) {
            Ok(ws) => ws,
            Err(why) => return self.skip(fi, why, wp, repo),
        };
        // The tasks are resolved before anything is recorded for this file.
        let tasks = match self.match_tasks(wp, ws.id) {
            Ok(tasks) => tasks,
            Err(why) => return self.skip(fi, why, wp, repo),
        };
        self.claimed_ws.insert(ws.id);
        self.seen_ws.insert(ws.id);
        self.ws_files.insert(ws.id, f.path.clone());
        self.rec.workstreams += 1;
        self.rec.tasks += tasks.len();
        self.record_workstream(fi, f, repo, &key, status, &ws);
        for t in tasks {
            self.record_task(fi, f, repo, &key, ws.id, t);
        }
    }

    /// Which row the workplan is: the id it carries, the unclaimed row with its key, or new.
    fn match_workstream(
        &self,
        wp: &Workplan,
        repo: &str,
        key: &str,
    ) -> Result<WorkstreamMatch<'a>, String> {
        Ok(match carried(wp.state_hub_workstream_id.as_ref()) {
            Some(u) if self.claimed_ws.contains(&u) => {
                return Err(format!(
                    "its state_hub_workstream_id {u} is also carried by an earlier file"
                ));
            }
            Some(u) => WorkstreamMatch {
                id: u,
                row: self.ix.ws_by_id.get(&u).copied(),
                carried: true,
            },
            None => match self.ix.ws_by_key(repo, key, &self.claimed_ws) {
                Some(w) => WorkstreamMatch {
                    id: w.id,
                    row: Some(w),
                    carried: false,
                },
                None => WorkstreamMatch {
                    id: new_id(),
                    row: None,
                    carried: false,
                },
            },
        })
    }

    /// Which row each task is; an id carried twice refuses the whole file.
    fn match_tasks<'f>(
        &self,
        wp: &'f Workplan,
        ws_id: Uuid,
    ) -> Result<Vec<TaskMatch<'a, 'f>>, String> {
        let mut local: HashSet<Uuid> = HashSet::new();
        let mut out = Vec::with_capacity(wp.tasks.len());
        for (index, task) in wp.tasks.iter().enumerate() {
            let tkey = task.id.clone().unwrap_or_default();
            let Some(status) = task.status else {
                return Err(format!("task {tkey} has no status"));
            };
            let (id, row, carried) = match carried(task.state_hub_task_id.as_ref()) {
                Some(u) if self.claimed_tasks.contains(&u) || local.contains(&u) => {
                    return Err(format!(
                        "task {tkey}: its state_hub_task_id {u} is also carried by another task"
                    ));
                }
                Some(u) => (u, self.ix.task_by_id.get(&u).copied(), true),
                None => match self
                    .ix
                    .task_by_key(ws_id, &tkey, &self.claimed_tasks, &local)
                {
                    Some(r) => (r.id, Some(r), false),
                    None => (new_id(), None, false),
                },
            };
            local.insert(id);
            out.push(TaskMatch {
                index,
                task,
                status,
                id,
                row,
                carried,
            });
        }
        Ok(out)
    }

    /// The workstream row the file describes, diffed with the hub's.
    fn record_workstream(
        &mut self,
        fi: usize,
        f: &ScannedFile,
        repo: &str,
        key: &str,
        status: WorkplanStatus,
        ws: &WorkstreamMatch<'a>,
    ) {
        let (opts, wp, old) = (self.opts, &f.workplan, ws.row);
        let id_line = wp.locs.id.map_or(1, |l| l.line);
        let status_line = wp.locs.status.map_or(id_line, |l| l.line);
        let desired = WorkstreamRow {
            id: ws.id,
            workplan_id: key.to_string(),
            repo: repo.to_string(),
            path: f.rel_path.clone(),
            title: wp.title.clone().unwrap_or_default(),
            status,
            owner: wp.owner.clone(),
            priority: wp.planning_priority,
            planning_order: wp.planning_order,
            created_at: old.map_or_else(|| opts.now.clone(), |h| h.created_at.clone()),
            updated_at: opts.now.clone(),
            removed_at: None,
        };
        let mut fields = Vec::new();
        diff(
            &mut fields,
            "workplan_id",
            old.map(|h| &h.workplan_id),
            Some(&desired.workplan_id),
            id_line,
        );
        diff(
            &mut fields,
            "repo",
            old.map(|h| &h.repo),
            Some(&desired.repo),
            id_line,
        );
        diff(
            &mut fields,
            "path",
            old.map(|h| &h.path),
            Some(&desired.path),
            id_line,
        );
        diff(
            &mut fields,
            "title",
            old.map(|h| &h.title),
            Some(&desired.title),
            id_line,
        );
        diff(
            &mut fields,
            "status",
            old.map(|h| &h.status),
            Some(&desired.status),
            status_line,
        );
        diff(
            &mut fields,
            "owner",
            old.and_then(|h| h.owner.as_ref()),
            desired.owner.as_ref(),
            id_line,
        );
        diff(
            &mut fields,
            "priority",
            old.and_then(|h| h.priority.as_ref()),
            desired.priority.as_ref(),
            id_line,
        );
        diff(
            &mut fields,
            "planning_order",
            old.and_then(|h| h.planning_order.as_ref()),
            desired.planning_order.as_ref(),
            id_line,
        );
        if let Some(h) = old {
            diff(
                &mut fields,
                "removed_at",
                h.removed_at.as_ref(),
                None,
                id_line,
            );
        }
        let rec = &mut self.rec;
        if old.is_none() || !fields.is_empty() {
            rec.writes.history.extend(history(
                opts,
                Entity::Workstream,
                ws.id,
                key,
                &fields,
                old.is_none().then_some(desired.path.as_str()),
            ));
            rec.writes.workstreams.push(desired);
            rec.changes.push(EntityChange {
                entity: Entity::Workstream,
                action: if old.is_none() {
                    Action::Create
                } else {
                    Action::Update
                },
                id: ws.id,
                key: key.to_string(),
                repo: repo.to_string(),
                file: f.path.clone(),
                line: id_line,
                id_from_file: ws.carried,
                fields,
            });
        }
        if !ws.carried {
            rec.id_writes.push(IdWrite {
                file: fi,
                path: f.path.clone(),
                target: IdTarget::Workstream,
                id: ws.id,
                key: key.to_string(),
                line: id_line,
                registered: old.is_some(),
            });
        }
    }

    /// The `needs_human` flag of a task: the hub's while the file says what it said at the
    /// last sync; the file's (with a reason only when set) once the file changes it, or for a
    /// new row.
    fn gate(&self, task: &Task, row: Option<&TaskRow>) -> Gate {
        let file_nh = task.needs_human();
        let file_reason = task.needs_human_reason.clone();
        let by_now = || (Some(self.opts.actor.clone()), Some(self.opts.now.clone()));
        match row {
            Some(r)
                if (r.file_needs_human, &r.file_needs_human_reason) == (file_nh, &file_reason) =>
            {
                Gate {
                    needs_human: r.needs_human,
                    reason: r.needs_human_reason.clone(),
                    by: r.needs_human_by.clone(),
                    at: r.needs_human_at.clone(),
                }
            }
            Some(_) => {
                let (by, at) = by_now();
                Gate {
                    needs_human: file_nh,
                    reason: file_reason.filter(|_| file_nh),
                    by,
                    at,
                }
            }
            None if file_nh => {
                let (by, at) = by_now();
                Gate {
                    needs_human: true,
                    reason: file_reason,
                    by,
                    at,
                }
            }
            None => Gate {
                needs_human: false,
                reason: None,
                by: None,
                at: None,
            },
        }
    }

    /// The task row a task block describes, diffed with the hub's.
    fn record_task(
        &mut self,
        fi: usize,
        f: &ScannedFile,
        repo: &str,
        ws_key: &str,
        ws_id: Uuid,
        m: TaskMatch<'a, '_>,
    ) {
        let TaskMatch {
            index,
            task: t,
            status,
            id,
            row,
            carried,
        } = m;
        let opts = self.opts;
        self.claimed_tasks.insert(id);
        self.seen_tasks.insert(id);
        let tkey = t.id.clone().unwrap_or_default();
        let key_line = t.locs.id.map_or(t.heading_line, |l| l.line);
        let status_line = t.locs.status.map_or(key_line, |l| l.line);
        let nh_line = t.locs.needs_human.map_or(key_line, |l| l.line);
        let notes_line = t.notes_lines.map_or(t.heading_line, |l| l.0);
        let gate = self.gate(t, row);
        let desired = TaskRow {
            id,
            task_key: tkey.clone(),
            workstream_id: ws_id,
            title: t.heading.clone(),
            status,
            priority: t.priority,
            notes: t.notes.clone(),
            needs_human: gate.needs_human,
            needs_human_reason: gate.reason,
            needs_human_by: gate.by,
            needs_human_at: gate.at,
            file_needs_human: t.needs_human(),
            file_needs_human_reason: t.needs_human_reason.clone(),
            created_at: row.map_or_else(|| opts.now.clone(), |r| r.created_at.clone()),
            updated_at: opts.now.clone(),
            removed_at: None,
        };
        let mut fields = Vec::new();
        diff(
            &mut fields,
            "task_key",
            row.map(|r| &r.task_key),
            Some(&desired.task_key),
            key_line,
        );
        if let Some(r) = row
            && r.workstream_id != ws_id
        {
            let old_ws = self
                .ix
                .ws_by_id
                .get(&r.workstream_id)
                .map_or_else(|| r.workstream_id.to_string(), |w| w.workplan_id.clone());
            fields.push(FieldChange {
                field: "workstream",
                old: Some(old_ws),
                new: Some(ws_key.to_string()),
                line: key_line,
            });
        }
        diff(
            &mut fields,
            "title",
            row.map(|r| &r.title),
            Some(&desired.title),
            t.heading_line,
        );
        diff(
            &mut fields,
            "status",
            row.map(|r| &r.status),
            Some(&desired.status),
            status_line,
        );
        diff(
            &mut fields,
            "priority",
            row.and_then(|r| r.priority.as_ref()),
            desired.priority.as_ref(),
            key_line,
        );
        if row.is_some() || !desired.notes.is_empty() {
            diff(
                &mut fields,
                "notes",
                row.map(|r| &r.notes),
                Some(&desired.notes),
                notes_line,
            );
        }
        if row.is_some() || desired.needs_human {
            diff(
                &mut fields,
                "needs_human",
                row.map(|r| &r.needs_human),
                Some(&desired.needs_human),
                nh_line,
            );
        }
        diff(
            &mut fields,
            "needs_human_reason",
            row.and_then(|r| r.needs_human_reason.as_ref()),
            desired.needs_human_reason.as_ref(),
            nh_line,
        );
        if let Some(r) = row {
            diff(
                &mut fields,
                "removed_at",
                r.removed_at.as_ref(),
                None,
                key_line,
            );
        }
        // The bookkeeping of what the file said changes the row without a visible field.
        let bookkeeping = row.is_some_and(|r| {
            (r.file_needs_human, &r.file_needs_human_reason)
                != (desired.file_needs_human, &desired.file_needs_human_reason)
        });
        let rec = &mut self.rec;
        if row.is_none() || !fields.is_empty() || bookkeeping {
            rec.writes.history.extend(history(
                opts,
                Entity::Task,
                id,
                &tkey,
                &fields,
                row.is_none().then_some(ws_key),
            ));
            rec.writes.tasks.push(desired);
        }
        if row.is_none() || !fields.is_empty() {
            rec.changes.push(EntityChange {
                entity: Entity::Task,
                action: if row.is_none() {
                    Action::Create
                } else {
                    Action::Update
                },
                id,
                key: tkey.clone(),
                repo: repo.to_string(),
                file: f.path.clone(),
                line: key_line,
                id_from_file: carried,
                fields,
            });
        }
        if !carried {
            rec.id_writes.push(IdWrite {
                file: fi,
                path: f.path.clone(),
                target: IdTarget::Task(index),
                id,
                key: tkey,
                line: key_line,
                registered: row.is_some(),
            });
        }
    }

    /// Rows of the repos looked at that no file has; retired with `prune`.
    fn orphans(&mut self) {
        let (hub, opts) = (self.hub, self.opts);
        let scope: HashMap<&str, &PathBuf> = self
            .scan
            .repos
            .iter()
            .map(|r| (r.name.as_str(), &r.root))
            .collect();
        let mut orphan_ws: HashSet<Uuid> = HashSet::new();
        for w in &hub.workstreams {
            let Some(root) = scope.get(w.repo.as_str()) else {
                continue;
            };
            if w.removed_at.is_some() || self.seen_ws.contains(&w.id) {
                continue;
            }
            orphan_ws.insert(w.id);
            let live: Vec<&TaskRow> = self
                .ix
                .tasks_of
                .get(&w.id)
                .into_iter()
                .flatten()
                .copied()
                .filter(|t| t.removed_at.is_none() && !self.seen_tasks.contains(&t.id))
                .collect();
            self.rec.orphans.push(Orphan {
                entity: Entity::Workstream,
                id: w.id,
                key: w.workplan_id.clone(),
                repo: w.repo.clone(),
                path: w.path.clone(),
                file: root.join(&w.path),
                tasks: live.len(),
            });
            if opts.prune {
                retire_ws(&mut self.rec, opts, w, root.join(&w.path));
                for t in live {
                    retire_task(&mut self.rec, opts, t, w, root.join(&w.path));
                }
            }
        }
        for t in &hub.tasks {
            if t.removed_at.is_some()
                || self.seen_tasks.contains(&t.id)
                || orphan_ws.contains(&t.workstream_id)
            {
                continue;
            }
            // Only tasks of workstreams a file has: the others are out of scope or counted above.
            let Some(w) = self.ix.ws_by_id.get(&t.workstream_id).copied() else {
                continue;
            };
            let Some(file) = self.ws_files.get(&w.id).cloned() else {
                continue;
            };
            self.rec.orphans.push(Orphan {
                entity: Entity::Task,
                id: t.id,
                key: t.task_key.clone(),
                repo: w.repo.clone(),
                path: w.path.clone(),
                file: file.clone(),
                tasks: 0,
            });
            if opts.prune {
                retire_task(&mut self.rec, opts, t, w, file);
            }
        }
    }
}

fn retire_ws(rec: &mut Reconciliation, opts: &Options, w: &WorkstreamRow, file: PathBuf) {
    let fields = vec![FieldChange {
        field: "removed_at",
        old: None,
        new: Some(opts.now.clone()),
        line: 1,
    }];
    rec.writes.history.extend(history(
        opts,
        Entity::Workstream,
        w.id,
        &w.workplan_id,
        &fields,
        None,
    ));
    rec.writes.workstreams.push(WorkstreamRow {
        removed_at: Some(opts.now.clone()),
        updated_at: opts.now.clone(),
        ..w.clone()
    });
    rec.changes.push(EntityChange {
        entity: Entity::Workstream,
        action: Action::Remove,
        id: w.id,
        key: w.workplan_id.clone(),
        repo: w.repo.clone(),
        file,
        line: 1,
        id_from_file: false,
        fields,
    });
}

fn retire_task(
    rec: &mut Reconciliation,
    opts: &Options,
    t: &TaskRow,
    w: &WorkstreamRow,
    file: PathBuf,
) {
    let fields = vec![FieldChange {
        field: "removed_at",
        old: None,
        new: Some(opts.now.clone()),
        line: 1,
    }];
    rec.writes.history.extend(history(
        opts,
        Entity::Task,
        t.id,
        &t.task_key,
        &fields,
        None,
    ));
    rec.writes.tasks.push(TaskRow {
        removed_at: Some(opts.now.clone()),
        updated_at: opts.now.clone(),
        ..t.clone()
    });
    rec.changes.push(EntityChange {
        entity: Entity::Task,
        action: Action::Remove,
        id: t.id,
        key: t.task_key.clone(),
        repo: w.repo.clone(),
        file,
        line: 1,
        id_from_file: false,
        fields,
    });
}
