//! The embedded backend: one SQLite file (WAL), compiled in (rusqlite, bundled).

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{HistoryQuery, MIGRATIONS, Store};
use crate::HubError;
use crate::fault;
use crate::model::{Entity, HistoryRow, HubState, TaskRow, WorkstreamRow, Writes};
use crate::url::HubUrl;

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

const V1: &str = r"
CREATE TABLE workstreams (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    workplan_id     TEXT NOT NULL,
    repo            TEXT NOT NULL,
    path            TEXT NOT NULL,
    title           TEXT NOT NULL,
    status          TEXT NOT NULL,
    owner           TEXT,
    priority        TEXT,
    planning_order  INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    removed_at      TEXT
) STRICT;
CREATE INDEX workstreams_repo_key ON workstreams (repo, workplan_id);

CREATE TABLE tasks (
    id                      TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    task_key                TEXT NOT NULL,
    workstream_id           TEXT NOT NULL REFERENCES workstreams (id),
    title                   TEXT NOT NULL,
    status                  TEXT NOT NULL,
    priority                TEXT,
    notes                   TEXT NOT NULL,
    needs_human             INTEGER NOT NULL DEFAULT 0,
    needs_human_reason      TEXT,
    needs_human_by          TEXT,
    needs_human_at          TEXT,
    file_needs_human        INTEGER NOT NULL DEFAULT 0,
    file_needs_human_reason TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    removed_at              TEXT
) STRICT;
CREATE INDEX tasks_workstream ON tasks (workstream_id, task_key);
CREATE INDEX tasks_needs_human ON tasks (needs_human) WHERE needs_human = 1;

CREATE TABLE history (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    entity      TEXT NOT NULL CHECK (entity IN ('workstream', 'task')),
    entity_id   TEXT NOT NULL,
    entity_key  TEXT NOT NULL,
    field       TEXT NOT NULL,
    old         TEXT,
    new         TEXT
) STRICT;
CREATE INDEX history_at ON history (at);
CREATE INDEX history_entity ON history (entity_id);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
";

const V2: &str = "
CREATE TABLE applies (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    module  TEXT NOT NULL,
    host    TEXT NOT NULL,
    result  TEXT NOT NULL,
    record  TEXT NOT NULL
) STRICT;
CREATE INDEX applies_module ON applies (module);
CREATE TRIGGER applies_no_update BEFORE UPDATE ON applies
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER applies_no_delete BEFORE DELETE ON applies
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
";

fn migration_sql(version: i64) -> &'static str {
    match version {
        1 => V1,
        2 => V2,
        _ => unreachable!("every migration has its SQL"),
    }
}

/// The SQLite hub.
pub struct SqliteStore {
    url: HubUrl,
    conn: Connection,
}

impl<T: std::str::FromStr> rusqlite::types::FromSql for super::Text<T> {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = v.as_str()?;
        text.parse()
            .map(super::Text)
            .map_err(|_| rusqlite::types::FromSqlError::Other(super::not_a_value::<T>(text).into()))
    }
}

/// Column `i`, stored as text, typed.
fn typed<T: std::str::FromStr>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
    Ok(r.get::<_, super::Text<T>>(i)?.0)
}

/// Column `i`, stored as text or NULL, typed.
fn typed_opt<T: std::str::FromStr>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<T>> {
    Ok(r.get::<_, Option<super::Text<T>>>(i)?.map(|t| t.0))
}

fn db(e: rusqlite::Error) -> HubError {
    HubError::Store(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Opens the file (creating it and its folder), switches it to WAL and migrates it.
    pub fn open(url: HubUrl) -> Result<SqliteStore, HubError> {
        let HubUrl::Sqlite(path) = &url else {
            return Err(HubError::Url("not an sqlite: URL".into()));
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HubError::Io {
                path: dir.to_path_buf(),
                source: e,
            })?;
        }
        let conn = Connection::open(path)
            .map_err(|e| HubError::Store(format!("sqlite: cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        // Switching to WAL takes a lock; the busy handler waits for it like for any other.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(HubError::Store(format!(
                "sqlite: {} cannot use WAL (journal mode {mode})",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(db)?;
        let mut store = SqliteStore { url, conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), HubError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY NOT NULL,
                 name TEXT NOT NULL,
                 applied_at TEXT NOT NULL
             ) STRICT;",
        )
        .map_err(db)?;
        for &(version, name) in MIGRATIONS {
            let done: Option<i64> = tx
                .query_row(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if done.is_none() {
                tx.execute_batch(migration_sql(version)).map_err(db)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                    params![version, name, crate::time::now()],
                )
                .map_err(db)?;
            }
        }
        let newest: Option<i64> = tx
            .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if newest.unwrap_or(0) > known {
            return Err(HubError::Store(format!(
                "the hub's schema is version {}, newer than this platformctl knows ({known}); upgrade platformctl",
                newest.unwrap_or(0)
            )));
        }
        tx.commit().map_err(db)
    }
}

fn read_state(tx: &Transaction<'_>) -> Result<HubState, HubError> {
    let mut st = tx
        .prepare(
            "SELECT id, workplan_id, repo, path, title, status, owner, priority, planning_order,
                    created_at, updated_at, removed_at
             FROM workstreams ORDER BY repo, workplan_id, id",
        )
        .map_err(db)?;
    let workstreams = st
        .query_map([], |r| {
            Ok(WorkstreamRow {
                id: typed(r, 0)?,
                workplan_id: r.get(1)?,
                repo: r.get(2)?,
                path: r.get(3)?,
                title: r.get(4)?,
                status: typed(r, 5)?,
                owner: r.get(6)?,
                priority: typed_opt(r, 7)?,
                planning_order: r.get(8)?,
                created_at: r.get(9)?,
                updated_at: r.get(10)?,
                removed_at: r.get(11)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let mut st = tx
        .prepare(
            "SELECT id, task_key, workstream_id, title, status, priority, notes, needs_human,
                    needs_human_reason, needs_human_by, needs_human_at, file_needs_human,
                    file_needs_human_reason, created_at, updated_at, removed_at
             FROM tasks ORDER BY task_key, id",
        )
        .map_err(db)?;
    let tasks = st
        .query_map([], |r| {
            Ok(TaskRow {
                id: typed(r, 0)?,
                task_key: r.get(1)?,
                workstream_id: typed(r, 2)?,
                title: r.get(3)?,
                status: typed(r, 4)?,
                priority: typed_opt(r, 5)?,
                notes: r.get(6)?,
                needs_human: r.get(7)?,
                needs_human_reason: r.get(8)?,
                needs_human_by: r.get(9)?,
                needs_human_at: r.get(10)?,
                file_needs_human: r.get(11)?,
                file_needs_human_reason: r.get(12)?,
                created_at: r.get(13)?,
                updated_at: r.get(14)?,
                removed_at: r.get(15)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    Ok(HubState { workstreams, tasks })
}

fn write(tx: &Transaction<'_>, w: &Writes) -> Result<(), HubError> {
    let mut st = tx
        .prepare(
            "INSERT INTO workstreams (id, workplan_id, repo, path, title, status, owner, priority,
                 planning_order, created_at, updated_at, removed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET workplan_id = excluded.workplan_id,
                 repo = excluded.repo, path = excluded.path, title = excluded.title,
                 status = excluded.status, owner = excluded.owner, priority = excluded.priority,
                 planning_order = excluded.planning_order, updated_at = excluded.updated_at,
                 removed_at = excluded.removed_at",
        )
        .map_err(db)?;
    for r in &w.workstreams {
        st.execute(params![
            r.id.to_string(),
            r.workplan_id,
            r.repo,
            r.path,
            r.title,
            r.status.as_str(),
            r.owner,
            r.priority.map(|p| p.as_str()),
            r.planning_order,
            r.created_at,
            r.updated_at,
            r.removed_at
        ])
        .map_err(db)?;
    }
    let mut st = tx
        .prepare(
            "INSERT INTO tasks (id, task_key, workstream_id, title, status, priority, notes,
                 needs_human, needs_human_reason, needs_human_by, needs_human_at,
                 file_needs_human, file_needs_human_reason, created_at, updated_at, removed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (id) DO UPDATE SET task_key = excluded.task_key,
                 workstream_id = excluded.workstream_id, title = excluded.title,
                 status = excluded.status, priority = excluded.priority, notes = excluded.notes,
                 needs_human = excluded.needs_human,
                 needs_human_reason = excluded.needs_human_reason,
                 needs_human_by = excluded.needs_human_by,
                 needs_human_at = excluded.needs_human_at,
                 file_needs_human = excluded.file_needs_human,
                 file_needs_human_reason = excluded.file_needs_human_reason,
                 updated_at = excluded.updated_at, removed_at = excluded.removed_at",
        )
        .map_err(db)?;
    for r in &w.tasks {
        st.execute(params![
            r.id.to_string(),
            r.task_key,
            r.workstream_id.to_string(),
            r.title,
            r.status.as_str(),
            r.priority.map(|p| p.as_str()),
            r.notes,
            r.needs_human,
            r.needs_human_reason,
            r.needs_human_by,
            r.needs_human_at,
            r.file_needs_human,
            r.file_needs_human_reason,
            r.created_at,
            r.updated_at,
            r.removed_at
        ])
        .map_err(db)?;
    }
    let mut st = tx
        .prepare(
            "INSERT INTO history (at, actor, entity, entity_id, entity_key, field, old, new)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    for h in &w.history {
        st.execute(params![
            h.at,
            h.actor,
            h.entity.as_str(),
            h.entity_id.to_string(),
            h.entity_key,
            h.field,
            h.old,
            h.new
        ])
        .map_err(db)?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn url(&self) -> &HubUrl {
        &self.url
    }

    fn read(&mut self) -> Result<HubState, HubError> {
        let tx = self.conn.transaction().map_err(db)?;
        let state = read_state(&tx)?;
        tx.commit().map_err(db)?;
        Ok(state)
    }

    fn write_locked(
        &mut self,
        body: &mut dyn FnMut(HubState) -> Result<Writes, HubError>,
    ) -> Result<(), HubError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        fault::point("locked");
        let state = read_state(&tx)?;
        let writes = body(state)?;
        write(&tx, &writes)?;
        fault::point("rows-written");
        tx.commit().map_err(db)
    }

    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<HistoryRow>, HubError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT seq, at, actor, entity, entity_id, entity_key, field, old, new
                 FROM history
                 WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR entity_id = ?2)
                   AND (?3 IS NULL OR field = ?3)
                 ORDER BY seq",
            )
            .map_err(db)?;
        st.query_map(params![q.since, q.entity_id, q.field], |r| {
            let entity: String = r.get(3)?;
            Ok(HistoryRow {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                entity: Entity::parse(&entity).unwrap_or(Entity::Task),
                entity_id: typed(r, 4)?,
                entity_key: r.get(5)?,
                field: r.get(6)?,
                old: r.get(7)?,
                new: r.get(8)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)
    }

    fn migrations(&mut self) -> Result<Vec<(i64, String, String)>, HubError> {
        let mut st = self
            .conn
            .prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            .map_err(db)?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
    }

    fn append_apply(&mut self, row: &super::ApplyRow) -> Result<(), HubError> {
        self.conn
            .execute(
                "INSERT INTO applies (at, actor, module, host, result, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    row.at, row.actor, row.module, row.host, row.result, row.record
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn applies(&mut self) -> Result<Vec<super::ApplyRow>, HubError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT seq, at, actor, module, host, result, record FROM applies ORDER BY seq",
            )
            .map_err(db)?;
        st.query_map([], |r| {
            Ok(super::ApplyRow {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                module: r.get(3)?,
                host: r.get(4)?,
                result: r.get(5)?,
                record: r.get(6)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)
    }
}
