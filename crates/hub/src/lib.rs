//! The State Hub (SPEC §8): the registry of workstreams (one per workplan) and tasks across
//! repos, with `needs_human` flags (reason, who, when) and an append-only history of every
//! change.
//!
//! - **Store** ([`store`], ADR 0007): an embedded SQLite file by default
//!   (`<platform root>/state/hub.sqlite3`, created on first use, WAL, migrations), or
//!   PostgreSQL with a `postgres://` URL ([`HubUrl`]). One [`Store`] trait: read a snapshot,
//!   write under the hub's exclusive lock, read the history.
//! - **Ownership**: files own every field of a workplan and its tasks (status, title, notes,
//!   priority, order, path); the hub owns the ids' registry and `needs_human`. A change of
//!   `needs_human` made in a file is taken over once (the hub remembers what the file said);
//!   a flag set in the hub ([`set_human`]) is not undone by a file that never changed.
//! - [`sync`](fn@sync): files → hub, new ids written back into the files byte-for-byte, in
//!   a crash-consistent order (lock, read files, match, write ids into files atomically,
//!   write rows and history, commit: a kill anywhere leaves files carrying ids the hub lacks,
//!   which `check` reports as C-11 and the next sync adopts; `docs/hub.md`);
//!   [`check`](fn@check): lint rules plus C-10 (hub row differs from its file), C-11 (not
//!   registered) and C-12 (orphan row), computed by the same [`reconcile`](fn@reconcile) as
//!   the sync; [`human_view`]; [`checkpoint`](fn@checkpoint).
//!
//! ```no_run
//! use platformctl_hub::{HubUrl, Repo, SyncOptions, check, open, sync};
//!
//! let mut hub = open(&HubUrl::parse("sqlite:state/hub.sqlite3")?)?;
//! let repos = [Repo::new("examples/home-platform".as_ref())?];
//! let report = sync(hub.as_mut(), &repos, &SyncOptions {
//!     plan: false,
//!     prune: false,
//!     actor: "ops".into(),
//! })?;
//! println!("{} changes", report.rec.changes.len());
//! assert!(check(hub.as_mut(), &repos)?.findings.is_empty());
//! # Ok::<(), platformctl_hub::HubError>(())
//! ```

mod check;
mod checkpoint;
pub mod fault;
mod human;
mod model;
mod reconcile;
mod scan;
pub mod store;
mod sync;
pub mod time;
mod url;

use std::fmt;
use std::path::PathBuf;

pub use check::{CheckReport, check, hub_findings, show_value};
pub use checkpoint::{
    ActiveWorkstream, Checkpoint, CheckpointOptions, TaskLine, checkpoint, render_markdown,
    task_counts,
};
pub use human::{HumanChange, HumanGate, human_view, set_human};
pub use model::{Entity, HistoryRow, HubState, TaskRow, WorkstreamRow, Writes};
pub use reconcile::{
    Action, EntityChange, FieldChange, IdWrite, Options, Orphan, Reconciliation, new_id, reconcile,
};
pub use scan::{Repo, Scan, ScannedFile, scan};
pub use store::{ApplyRow, HistoryQuery, Store, open};
pub use sync::{FileWrite, SyncOptions, SyncReport, sync};
pub use url::{HubUrl, PostgresUrl};

/// Why the hub could not do what was asked (the CLI exits 2).
#[derive(Debug)]
pub enum HubError {
    /// The `--hub` URL is not one the hub understands.
    Url(String),
    /// A wrong argument (a REPO without `workplans/`, an ambiguous task …).
    Usage(String),
    /// A task or row that does not exist.
    NotFound(String),
    /// A file or folder could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database refused or could not be reached (passwords never appear).
    Store(String),
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::Url(m) | HubError::Usage(m) | HubError::NotFound(m) | HubError::Store(m) => {
                f.write_str(m)
            }
            HubError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for HubError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HubError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
