//! The shared backend: PostgreSQL over the synchronous `postgres` client (no TLS: reach a
//! remote hub over a tunnel or a private network).

use std::time::Duration;

use postgres::{Client, NoTls, Transaction};

use super::{HistoryQuery, MIGRATIONS, Store};
use crate::HubError;
use crate::fault;
use crate::model::{Entity, HistoryRow, HubState, TaskRow, WorkstreamRow, Writes};
use crate::url::HubUrl;

/// The advisory lock every writer (and the migrations) takes, transaction-scoped:
/// `pg_advisory_xact_lock(LOCK_KEY)` ("pctlhub" in ASCII).
const LOCK_KEY: i64 = 0x0070_6374_6c68_7562;

const V1: &str = r"
CREATE TABLE workstreams (
    id              uuid PRIMARY KEY,
    workplan_id     text NOT NULL,
    repo            text NOT NULL,
    path            text NOT NULL,
    title           text NOT NULL,
    status          text NOT NULL,
    owner           text,
    priority        text,
    planning_order  bigint,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    removed_at      timestamptz
);
CREATE INDEX workstreams_repo_key ON workstreams (repo, workplan_id);

CREATE TABLE tasks (
    id                      uuid PRIMARY KEY,
    task_key                text NOT NULL,
    workstream_id           uuid NOT NULL REFERENCES workstreams (id),
    title                   text NOT NULL,
    status                  text NOT NULL,
    priority                text,
    notes                   text NOT NULL,
    needs_human             boolean NOT NULL DEFAULT false,
    needs_human_reason      text,
    needs_human_by          text,
    needs_human_at          timestamptz,
    file_needs_human        boolean NOT NULL DEFAULT false,
    file_needs_human_reason text,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    removed_at              timestamptz
);
CREATE INDEX tasks_workstream ON tasks (workstream_id, task_key);
CREATE INDEX tasks_needs_human ON tasks (needs_human) WHERE needs_human;

CREATE TABLE history (
    seq         bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    entity      text NOT NULL CHECK (entity IN ('workstream', 'task')),
    entity_id   uuid NOT NULL,
    entity_key  text NOT NULL,
    field       text NOT NULL,
    old         text,
    new         text
);
CREATE INDEX history_at ON history (at);
CREATE INDEX history_entity ON history (entity_id);
CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only';
END;
$$;
CREATE TRIGGER history_no_update BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION history_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION history_append_only();
";

const V2: &str = "
CREATE TABLE applies (
    seq     bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    module  text NOT NULL,
    host    text NOT NULL,
    result  text NOT NULL,
    record  text NOT NULL
);
CREATE INDEX applies_module ON applies (module);
CREATE TRIGGER applies_no_update BEFORE UPDATE OR DELETE ON applies
    FOR EACH ROW EXECUTE FUNCTION history_append_only();
CREATE TRIGGER applies_no_truncate BEFORE TRUNCATE ON applies
    FOR EACH STATEMENT EXECUTE FUNCTION history_append_only();
";

fn migration_sql(version: i64) -> &'static str {
    match version {
        1 => V1,
        2 => V2,
        _ => unreachable!("every migration has its SQL"),
    }
}

/// A timestamp column as the hub's text form.
macro_rules! ts {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

/// The PostgreSQL hub.
pub struct PostgresStore {
    url: HubUrl,
    client: Client,
}

impl PostgresStore {
    /// Connects (10 s connect timeout unless the URL sets one) and migrates.
    pub fn open(url: HubUrl) -> Result<PostgresStore, HubError> {
        let HubUrl::Postgres(pg) = &url else {
            return Err(HubError::Url("not a postgres:// URL".into()));
        };
        let scrub = |m: String| url.scrub(m);
        let mut config = pg.config().clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("platformctl");
        }
        let client = config.connect(NoTls).map_err(|e| {
            HubError::Store(scrub(format!(
                "postgres: cannot connect to {}: {}",
                url.redacted(),
                full(&e)
            )))
        })?;
        let mut store = PostgresStore { url, client };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, e: &postgres::Error) -> HubError {
        store_err(&self.url, e)
    }

    fn migrate(&mut self) -> Result<(), HubError> {
        let url = self.url.clone();
        let res = (|| -> Result<(), postgres::Error> {
            let mut tx = self.client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version bigint PRIMARY KEY,
                     name text NOT NULL,
                     applied_at timestamptz NOT NULL
                 )",
            )?;
            for &(version, name) in MIGRATIONS {
                let done = tx.query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[&version],
                )?;
                if done.is_none() {
                    tx.batch_execute(migration_sql(version))?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)
                         VALUES ($1, $2, $3::text::timestamptz)",
                        &[&version, &name, &crate::time::now()],
                    )?;
                }
            }
            tx.commit()
        })();
        res.map_err(|e| {
            let m = format!("postgres: migrating {}: {}", url.redacted(), full(&e));
            HubError::Store(url.scrub(m))
        })?;
        let newest: Option<i64> = self
            .client
            .query_one("SELECT max(version) FROM schema_migrations", &[])
            .map_err(|e| self.err(&e))?
            .get(0);
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if newest.unwrap_or(0) > known {
            return Err(HubError::Store(format!(
                "the hub's schema is version {}, newer than this platformctl knows ({known}); upgrade platformctl",
                newest.unwrap_or(0)
            )));
        }
        Ok(())
    }
}

fn store_err(url: &HubUrl, e: &postgres::Error) -> HubError {
    let m = format!("postgres: {}", full(e));
    HubError::Store(url.scrub(m))
}

/// The error with its database detail (`postgres::Error`'s Display alone says only "db error").
fn full(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{}: {}", d.severity(), d.message()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        }
    }
}

impl<'a, T: std::str::FromStr> postgres::types::FromSql<'a> for super::Text<T> {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = <&str as postgres::types::FromSql>::from_sql(ty, raw)?;
        text.parse()
            .map(super::Text)
            .map_err(|_| super::not_a_value::<T>(text).into())
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <&str as postgres::types::FromSql>::accepts(ty)
    }
}

/// Column `i`, read as text, typed.
fn typed<T: std::str::FromStr>(r: &postgres::Row, i: usize) -> Result<T, postgres::Error> {
    Ok(r.try_get::<_, super::Text<T>>(i)?.0)
}

/// Column `i`, read as text or NULL, typed.
fn typed_opt<T: std::str::FromStr>(
    r: &postgres::Row,
    i: usize,
) -> Result<Option<T>, postgres::Error> {
    Ok(r.try_get::<_, Option<super::Text<T>>>(i)?.map(|t| t.0))
}

fn read_state(tx: &mut Transaction<'_>) -> Result<HubState, postgres::Error> {
    let rows = tx.query(
        concat!(
            "SELECT id::text, workplan_id, repo, path, title, status, owner, priority, planning_order, ",
            ts!("created_at"),
            ", ",
            ts!("updated_at"),
            ", ",
            ts!("removed_at"),
            " FROM workstreams ORDER BY repo COLLATE \"C\", workplan_id COLLATE \"C\", id"
        ),
        &[],
    )?;
    let workstreams = rows
        .iter()
        .map(|r| {
            Ok(WorkstreamRow {
                id: typed(r, 0)?,
                workplan_id: r.try_get(1)?,
                repo: r.try_get(2)?,
                path: r.try_get(3)?,
                title: r.try_get(4)?,
                status: typed(r, 5)?,
                owner: r.try_get(6)?,
                priority: typed_opt(r, 7)?,
                planning_order: r.try_get(8)?,
                created_at: r.try_get(9)?,
                updated_at: r.try_get(10)?,
                removed_at: r.try_get(11)?,
            })
        })
        .collect::<Result<_, postgres::Error>>()?;
    let rows = tx.query(
        concat!(
            "SELECT id::text, task_key, workstream_id::text, title, status, priority, notes, ",
            "needs_human, needs_human_reason, needs_human_by, ",
            ts!("needs_human_at"),
            ", file_needs_human, file_needs_human_reason, ",
            ts!("created_at"),
            ", ",
            ts!("updated_at"),
            ", ",
            ts!("removed_at"),
            " FROM tasks ORDER BY task_key COLLATE \"C\", id"
        ),
        &[],
    )?;
    let tasks = rows
        .iter()
        .map(|r| {
            Ok(TaskRow {
                id: typed(r, 0)?,
                task_key: r.try_get(1)?,
                workstream_id: typed(r, 2)?,
                title: r.try_get(3)?,
                status: typed(r, 4)?,
                priority: typed_opt(r, 5)?,
                notes: r.try_get(6)?,
                needs_human: r.try_get(7)?,
                needs_human_reason: r.try_get(8)?,
                needs_human_by: r.try_get(9)?,
                needs_human_at: r.try_get(10)?,
                file_needs_human: r.try_get(11)?,
                file_needs_human_reason: r.try_get(12)?,
                created_at: r.try_get(13)?,
                updated_at: r.try_get(14)?,
                removed_at: r.try_get(15)?,
            })
        })
        .collect::<Result<_, postgres::Error>>()?;
    Ok(HubState { workstreams, tasks })
}

/// Writes in three statements whatever the size: each column goes as one array, `unnest`ed.
fn write(tx: &mut Transaction<'_>, w: &Writes) -> Result<(), postgres::Error> {
    if !w.workstreams.is_empty() {
        let col = |f: fn(&WorkstreamRow) -> Option<String>| -> Vec<Option<String>> {
            w.workstreams.iter().map(f).collect()
        };
        let order: Vec<Option<i64>> = w.workstreams.iter().map(|r| r.planning_order).collect();
        tx.execute(
            "INSERT INTO workstreams (id, workplan_id, repo, path, title, status, owner, priority,
                 planning_order, created_at, updated_at, removed_at)
             SELECT u.id::uuid, u.wp, u.repo, u.path, u.title, u.status, u.owner, u.prio, u.ord,
                    u.cat::timestamptz, u.uat::timestamptz, u.rat::timestamptz
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::int8[], $10::text[], $11::text[], $12::text[])
                  AS u(id, wp, repo, path, title, status, owner, prio, ord, cat, uat, rat)
             ON CONFLICT (id) DO UPDATE SET workplan_id = excluded.workplan_id,
                 repo = excluded.repo, path = excluded.path, title = excluded.title,
                 status = excluded.status, owner = excluded.owner, priority = excluded.priority,
                 planning_order = excluded.planning_order, updated_at = excluded.updated_at,
                 removed_at = excluded.removed_at",
            &[
                &col(|r| Some(r.id.to_string())),
                &col(|r| Some(r.workplan_id.clone())),
                &col(|r| Some(r.repo.clone())),
                &col(|r| Some(r.path.clone())),
                &col(|r| Some(r.title.clone())),
                &col(|r| Some(r.status.as_str().to_string())),
                &col(|r| r.owner.clone()),
                &col(|r| r.priority.map(|p| p.as_str().to_string())),
                &order,
                &col(|r| Some(r.created_at.clone())),
                &col(|r| Some(r.updated_at.clone())),
                &col(|r| r.removed_at.clone()),
            ],
        )?;
    }
    if !w.tasks.is_empty() {
        let col = |f: fn(&TaskRow) -> Option<String>| -> Vec<Option<String>> {
            w.tasks.iter().map(f).collect()
        };
        let flag = |f: fn(&TaskRow) -> bool| -> Vec<bool> { w.tasks.iter().map(f).collect() };
        tx.execute(
            "INSERT INTO tasks (id, task_key, workstream_id, title, status, priority, notes,
                 needs_human, needs_human_reason, needs_human_by, needs_human_at,
                 file_needs_human, file_needs_human_reason, created_at, updated_at, removed_at)
             SELECT u.id::uuid, u.k, u.ws::uuid, u.title, u.status, u.prio, u.notes, u.nh, u.nhr,
                    u.nhb, u.nha::timestamptz, u.fnh, u.fnhr, u.cat::timestamptz,
                    u.uat::timestamptz, u.rat::timestamptz
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::bool[], $9::text[], $10::text[], $11::text[],
                         $12::bool[], $13::text[], $14::text[], $15::text[], $16::text[])
                  AS u(id, k, ws, title, status, prio, notes, nh, nhr, nhb, nha, fnh, fnhr,
                       cat, uat, rat)
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
            &[
                &col(|r| Some(r.id.to_string())),
                &col(|r| Some(r.task_key.clone())),
                &col(|r| Some(r.workstream_id.to_string())),
                &col(|r| Some(r.title.clone())),
                &col(|r| Some(r.status.as_str().to_string())),
                &col(|r| r.priority.map(|p| p.as_str().to_string())),
                &col(|r| Some(r.notes.clone())),
                &flag(|r| r.needs_human),
                &col(|r| r.needs_human_reason.clone()),
                &col(|r| r.needs_human_by.clone()),
                &col(|r| r.needs_human_at.clone()),
                &flag(|r| r.file_needs_human),
                &col(|r| r.file_needs_human_reason.clone()),
                &col(|r| Some(r.created_at.clone())),
                &col(|r| Some(r.updated_at.clone())),
                &col(|r| r.removed_at.clone()),
            ],
        )?;
    }
    if !w.history.is_empty() {
        let col = |f: fn(&HistoryRow) -> Option<String>| -> Vec<Option<String>> {
            w.history.iter().map(f).collect()
        };
        tx.execute(
            "INSERT INTO history (at, actor, entity, entity_id, entity_key, field, old, new)
             SELECT u.at::timestamptz, u.actor, u.entity, u.eid::uuid, u.ekey, u.field, u.old, u.new
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[])
                  WITH ORDINALITY AS u(at, actor, entity, eid, ekey, field, old, new, n)
             ORDER BY u.n",
            &[
                &col(|h| Some(h.at.clone())),
                &col(|h| Some(h.actor.clone())),
                &col(|h| Some(h.entity.as_str().to_string())),
                &col(|h| Some(h.entity_id.to_string())),
                &col(|h| Some(h.entity_key.clone())),
                &col(|h| Some(h.field.clone())),
                &col(|h| h.old.clone()),
                &col(|h| h.new.clone()),
            ],
        )?;
    }
    Ok(())
}

impl Store for PostgresStore {
    fn url(&self) -> &HubUrl {
        &self.url
    }

    fn read(&mut self) -> Result<HubState, HubError> {
        let res = (|| {
            let mut tx = self
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let state = read_state(&mut tx)?;
            tx.commit()?;
            Ok(state)
        })();
        res.map_err(|e| self.err(&e))
    }

    fn write_locked(
        &mut self,
        body: &mut dyn FnMut(HubState) -> Result<Writes, HubError>,
    ) -> Result<(), HubError> {
        let url = self.url.clone();
        let mut tx = match self.client.transaction() {
            Ok(tx) => tx,
            Err(e) => return Err(store_err(&url, &e)),
        };
        let mut step = || -> Result<Result<(), HubError>, postgres::Error> {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
            fault::point("locked");
            let state = read_state(&mut tx)?;
            let writes = match body(state) {
                Ok(w) => w,
                Err(e) => return Ok(Err(e)),
            };
            write(&mut tx, &writes)?;
            fault::point("rows-written");
            Ok(Ok(()))
        };
        let outcome = step();
        let res = match outcome {
            Ok(Ok(())) => tx.commit().map(|()| Ok(())),
            Ok(Err(e)) => tx.rollback().map(|()| Err(e)),
            Err(e) => Err(e),
        };
        match res {
            Ok(r) => r,
            Err(e) => Err(store_err(&url, &e)),
        }
    }

    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<HistoryRow>, HubError> {
        let rows = self
            .client
            .query(
                concat!(
                    "SELECT seq, ",
                    ts!("at"),
                    ", actor, entity, entity_id::text, entity_key, field, old, new FROM history
                     WHERE ($1::text IS NULL OR at >= $1::text::timestamptz)
                       AND ($2::text IS NULL OR entity_id::text = $2::text)
                       AND ($3::text IS NULL OR field = $3::text)
                     ORDER BY seq"
                ),
                &[&q.since, &q.entity_id, &q.field],
            )
            .map_err(|e| self.err(&e))?;
        rows.iter()
            .map(|r| {
                let entity: String = r.try_get(3)?;
                Ok(HistoryRow {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    entity: Entity::parse(&entity).unwrap_or(Entity::Task),
                    entity_id: typed(r, 4)?,
                    entity_key: r.try_get(5)?,
                    field: r.try_get(6)?,
                    old: r.try_get(7)?,
                    new: r.try_get(8)?,
                })
            })
            .collect::<Result<_, postgres::Error>>()
            .map_err(|e| self.err(&e))
    }

    fn migrations(&mut self) -> Result<Vec<(i64, String, String)>, HubError> {
        let rows = self
            .client
            .query(
                concat!(
                    "SELECT version, name, ",
                    ts!("applied_at"),
                    " FROM schema_migrations ORDER BY version"
                ),
                &[],
            )
            .map_err(|e| self.err(&e))?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn append_apply(&mut self, row: &super::ApplyRow) -> Result<(), HubError> {
        self.client
            .execute(
                "INSERT INTO applies (at, actor, module, host, result, record)
                 VALUES ($1::text::timestamptz, $2, $3, $4, $5, $6)",
                &[
                    &row.at,
                    &row.actor,
                    &row.module,
                    &row.host,
                    &row.result,
                    &row.record,
                ],
            )
            .map_err(|e| self.err(&e))?;
        Ok(())
    }

    fn applies(&mut self) -> Result<Vec<super::ApplyRow>, HubError> {
        let rows = self
            .client
            .query(
                concat!(
                    "SELECT seq, ",
                    ts!("at"),
                    ", actor, module, host, result, record FROM applies ORDER BY seq"
                ),
                &[],
            )
            .map_err(|e| self.err(&e))?;
        Ok(rows
            .iter()
            .map(|r| super::ApplyRow {
                seq: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                module: r.get(3),
                host: r.get(4),
                result: r.get(5),
                record: r.get(6),
            })
            .collect())
    }
}
