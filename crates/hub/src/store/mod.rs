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
pub const MIGRATIONS: &[(i64, &str)] = &[(1, "workstreams, tasks, history")];

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
}

/// Opens (creating on first use and migrating) the hub at `url`.
pub fn open(url: &HubUrl) -> Result<Box<dyn Store>, HubError> {
    Ok(match url {
        HubUrl::Sqlite(_) => Box::new(SqliteStore::open(url.clone())?),
        HubUrl::Postgres(_) => Box::new(PostgresStore::open(url.clone())?),
    })
}
