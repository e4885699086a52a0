//! The storage behind the hub: one small trait, two backends (ADR 0007).
//!
//! Both backends keep the same four tables (`workstreams`, `tasks`, `history`,
//! `schema_migrations`), apply their migrations on open under the same lock that writers
//! take, and refuse `UPDATE`/`DELETE` on `history` with a trigger.

mod postgres;
mod sqlite;

use crate::HubError;
use crate::model::{HistoryRow, HubState, Writes};
use crate::url::HubUrl;

/// A column stored as text and typed when read: a UUID or one of the workplan words
/// (`status`, `priority`). A stored text that is not one is a read error naming it, never a
/// silent default. Each backend implements its `FromSql` for it.
pub(crate) struct Text<T>(pub T);

/// Why a stored text is not the value it should be.
fn not_a_value<T>(text: &str) -> String {
    let what = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("value");
    format!("`{text}` is not a {what}")
}

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;

/// The migrations, in order: (version, name). Each backend has the SQL of each.
pub const MIGRATIONS: &[(i64, &str)] = &[(1, "workstreams, tasks, history"), (2, "applies")];

/// One `apply` attempt in the hub's history (SPEC §10): the audit line, as JSON, with the
/// columns a query needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyRow {
    /// Order of insertion (assigned by the store).
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who applied.
    pub actor: String,
    /// The module.
    pub module: String,
    /// Its host.
    pub host: String,
    /// The result (`applied`, `refused`, …).
    pub result: String,
    /// The audit record (`platformctl/audit/v1`), never holding an environment value.
    pub record: String,
}

/// What to read from the history.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Entries at or after this timestamp.
    pub since: Option<String>,
    /// Entries of this row only.
    pub entity_id: Option<String>,
    /// Entries of this field only.
    pub field: Option<String>,
}

/// A hub backend.
pub trait Store {
    /// Where it is (redact before showing).
    fn url(&self) -> &HubUrl;

    /// Every workstream and task, read in one consistent snapshot.
    fn read(&mut self) -> Result<HubState, HubError>;

    /// One write transaction under the hub's exclusive write lock (SQLite `BEGIN IMMEDIATE`,
    /// PostgreSQL a transaction-scoped advisory lock): `body` gets the state read under the
    /// lock and returns what to write; the rows and history are written and committed when it
    /// returns `Ok`, and nothing is written when it returns `Err`. Two writers never
    /// interleave, so each sees everything the other committed.
    fn write_locked(
        &mut self,
        body: &mut dyn FnMut(HubState) -> Result<Writes, HubError>,
    ) -> Result<(), HubError>;

    /// History entries, oldest first.
    fn history(&mut self, query: &HistoryQuery) -> Result<Vec<HistoryRow>, HubError>;

    /// Applied migrations: (version, name, applied_at).
    fn migrations(&mut self) -> Result<Vec<(i64, String, String)>, HubError>;

    /// Appends an apply attempt to the hub's history (append-only).
    fn append_apply(&mut self, row: &ApplyRow) -> Result<(), HubError>;

    /// The apply history, oldest first.
    fn applies(&mut self) -> Result<Vec<ApplyRow>, HubError>;
}

/// Opens (creating on first use and migrating) the hub at `url`.
pub fn open(url: &HubUrl) -> Result<Box<dyn Store>, HubError> {
    Ok(match url {
        HubUrl::Sqlite(_) => Box::new(SqliteStore::open(url.clone())?),
        HubUrl::Postgres(_) => Box::new(PostgresStore::open(url.clone())?),
    })
}
