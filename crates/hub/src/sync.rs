//! `hub sync`: the files into the hub, new ids back into the files.
//!
//! # Ordering, and why a kill anywhere is repaired by the next sync
//!
//! Everything happens inside one hub transaction that holds the hub's write lock:
//!
//! 1. take the lock (`BEGIN IMMEDIATE` / `pg_advisory_xact_lock`), read the hub;
//! 2. read and lint the files (under the lock, so a second sync sees the first one's ids);
//! 3. match files with rows ([`crate::reconcile`]); new rows get fresh UUIDs;
//! 4. write the new ids into the files, each file replaced atomically (temporary file in the
//!    same folder, then `rename`), and only if it still has the bytes read in step 2;
//! 5. insert/update the rows and append the history; 6. commit.
//!
//! A kill before 4 changes nothing. A kill during 4 or 5 (or a failed commit) leaves some
//! files carrying ids the hub does not have and the transaction rolled back by the database:
//! `hub check` reports those as C-11 ("carries id …, which the hub does not have") and the
//! next sync adopts the ids the files carry, the same path as a first sync of files that
//! already hold ids. A kill after 6 is a finished sync. If a file cannot take its id (it
//! changed meanwhile, or its block has a shape ids are not written into), the rows are still
//! committed and the next sync finds them by key and writes the id then.

use std::collections::BTreeMap;
use std::path::PathBuf;

use platformctl_diagnostics::{remove_stale_temp_files, write_atomic};
use platformctl_workplan::{apply_edits, id_edit};
use serde::Serialize;

use crate::HubError;
use crate::fault;
use crate::reconcile::{Options, Reconciliation, reconcile};
use crate::scan::{Repo, Scan, scan};
use crate::store::Store;

/// How to sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Only compute and show what would change (`--plan`): nothing is written.
    pub plan: bool,
    /// Retire orphan rows (`--prune`).
    pub prune: bool,
    /// Who runs it (recorded in the history).
    pub actor: String,
}

/// A file that received ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileWrite {
    /// The file.
    pub file: PathBuf,
    /// How many ids were written into it.
    pub ids: usize,
}

/// What a sync did (or, with `plan`, would do).
#[derive(Clone, Debug)]
pub struct SyncReport {
    /// The files read.
    pub scan: Scan,
    /// Matching and changes.
    pub rec: Reconciliation,
    /// Files that received ids.
    pub files_written: Vec<FileWrite>,
    /// Ids that could not be written, and why (the next sync retries).
    pub write_problems: Vec<String>,
    /// The changes were committed (`false` with `plan`).
    pub applied: bool,
}

/// Runs a sync of `repos` into `store`.
pub fn sync(
    store: &mut dyn Store,
    repos: &[Repo],
    opts: &SyncOptions,
) -> Result<SyncReport, HubError> {
    let ropts = Options {
        now: crate::time::now(),
        actor: opts.actor.clone(),
        prune: opts.prune,
    };
    if opts.plan {
        let state = store.read()?;
        let scan = scan(repos)?;
        let rec = reconcile(&state, &scan, &ropts);
        return Ok(SyncReport {
            scan,
            rec,
            files_written: Vec::new(),
            write_problems: Vec::new(),
            applied: false,
        });
    }
    let mut report: Option<SyncReport> = None;
    store.write_locked(&mut |state| {
        for r in repos {
            remove_stale_temp_files(&r.root.join("workplans"));
        }
        let scan = scan(repos)?;
        let rec = reconcile(&state, &scan, &ropts);
        let (files_written, write_problems) = write_ids(&scan, &rec);
        fault::point("files-written");
        let writes = rec.writes.clone();
        report = Some(SyncReport {
            scan,
            rec,
            files_written,
            write_problems,
            applied: true,
        });
        Ok(writes)
    })?;
    fault::point("committed");
    report.ok_or_else(|| HubError::Store("the sync transaction did not run".into()))
}

/// Writes the new ids into their files (step 4 of the module doc).
fn write_ids(scan: &Scan, rec: &Reconciliation) -> (Vec<FileWrite>, Vec<String>) {
    let mut by_file: BTreeMap<usize, Vec<&crate::reconcile::IdWrite>> = BTreeMap::new();
    for w in &rec.id_writes {
        by_file.entry(w.file).or_default().push(w);
    }
    let mut written = Vec::new();
    let mut problems = Vec::new();
    for (fi, ids) in by_file {
        let f = &scan.files[fi];
        let Some(source) = &f.source else {
            problems.push(format!(
                "{}: not read as text; ids not written",
                f.path.display()
            ));
            continue;
        };
        match std::fs::read(&f.path) {
            Ok(now) if now == source.as_bytes() => {}
            Ok(_) => {
                problems.push(format!(
                    "{}: changed while syncing; its ids are registered and will be written by the next sync",
                    f.path.display()
                ));
                continue;
            }
            Err(e) => {
                problems.push(format!("{}: cannot read: {e}", f.path.display()));
                continue;
            }
        }
        let mut edits = Vec::new();
        for w in &ids {
            match id_edit(source, &f.workplan, w.target, &w.id.to_string()) {
                Ok(Some(e)) => edits.push(e),
                Ok(None) => {}
                Err(e) => problems.push(format!(
                    "{}:{}: cannot write the id of {}: {e}",
                    f.path.display(),
                    w.line,
                    w.key
                )),
            }
        }
        if edits.is_empty() {
            continue;
        }
        let text = apply_edits(source, &edits);
        match write_atomic(&f.path, text.as_bytes()) {
            Ok(()) => {
                written.push(FileWrite {
                    file: f.path.clone(),
                    ids: edits.len(),
                });
                if written.len() == 1 {
                    fault::point("file-written");
                }
            }
            Err(e) => problems.push(format!("{}: cannot write: {e}", f.path.display())),
        }
    }
    (written, problems)
}
