//! `hub check`: the lint rules plus C-10, C-11 and C-12, from the same matching as sync.

use platformctl_workplan::{Code, Finding, Loc, sort_findings};

use crate::HubError;
use crate::model::Entity;
use crate::reconcile::{Action, FieldChange, Options, Reconciliation, reconcile};
use crate::scan::{Repo, Scan, scan};
use crate::store::Store;

/// What `hub check` found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The files read.
    pub scan: Scan,
    /// The matching behind the findings.
    pub rec: Reconciliation,
    /// Lint findings and C-10 … C-12, sorted by file, line, column and code.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// 0 clean, 1 findings, 2 when a file could not be read.
    pub fn exit_code(&self) -> u8 {
        if !self.scan.io_errors.is_empty() {
            2
        } else {
            u8::from(!self.findings.is_empty())
        }
    }
}

/// Checks the workplans of `repos` against the hub (read-only).
pub fn check(store: &mut dyn Store, repos: &[Repo]) -> Result<CheckReport, HubError> {
    let state = store.read()?;
    let scan = scan(repos)?;
    let opts = Options {
        now: crate::time::now(),
        actor: String::new(),
        prune: false,
    };
    let rec = reconcile(&state, &scan, &opts);
    let mut findings = scan.findings.clone();
    findings.extend(hub_findings(&rec));
    sort_findings(&mut findings);
    Ok(CheckReport {
        scan,
        rec,
        findings,
    })
}

fn what(e: Entity) -> &'static str {
    match e {
        Entity::Workstream => "workplan",
        Entity::Task => "task",
    }
}

fn id_key(e: Entity) -> &'static str {
    match e {
        Entity::Workstream => "state_hub_workstream_id",
        Entity::Task => "state_hub_task_id",
    }
}

/// A field value for a message: quoted and short; notes only by size.
pub fn show_value(field: &str, v: Option<&str>) -> String {
    match v {
        None => "(none)".into(),
        Some(s) if field == "notes" => {
            let lines = if s.is_empty() { 0 } else { s.lines().count() };
            format!("{lines} line{}", if lines == 1 { "" } else { "s" })
        }
        Some(s) => {
            let one: String = s.chars().take(60).collect();
            if one.len() < s.len() {
                format!("`{one}…`")
            } else {
                format!("`{one}`")
            }
        }
    }
}

fn field_message(key: &str, entity: Entity, f: &FieldChange) -> String {
    format!(
        "{} `{key}` {}: hub {}, file {}",
        what(entity),
        f.field,
        show_value(f.field, f.old.as_deref()),
        show_value(f.field, f.new.as_deref())
    )
}

/// C-10, C-11 and C-12 for a reconciliation.
pub fn hub_findings(rec: &Reconciliation) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &rec.changes {
        match c.action {
            Action::Create if c.id_from_file => out.push(
                Finding::new(
                    Code::C11,
                    &c.file,
                    Loc::new(c.line, 1),
                    format!(
                        "{} `{}` carries {} {}, which the hub does not have",
                        what(c.entity),
                        c.key,
                        id_key(c.entity),
                        c.id
                    ),
                )
                .hint("run `platformctl hub sync`: it registers the id the file carries"),
            ),
            Action::Create => out.push(
                Finding::new(
                    Code::C11,
                    &c.file,
                    Loc::new(c.line, 1),
                    format!(
                        "{} `{}` is not registered in the hub",
                        what(c.entity),
                        c.key
                    ),
                )
                .hint(
                    "run `platformctl hub sync`: it registers it and writes its id into the file",
                ),
            ),
            Action::Update => {
                for f in &c.fields {
                    out.push(
                        Finding::new(
                            Code::C10,
                            &c.file,
                            Loc::new(f.line, 1),
                            field_message(&c.key, c.entity, f),
                        )
                        .hint("the file owns this field: `platformctl hub sync` copies it"),
                    );
                }
            }
            Action::Remove => {}
        }
    }
    for w in rec.id_writes.iter().filter(|w| w.registered) {
        let entity = match w.target {
            platformctl_workplan::IdTarget::Workstream => Entity::Workstream,
            platformctl_workplan::IdTarget::Task(_) => Entity::Task,
        };
        out.push(
            Finding::new(
                Code::C10,
                &w.path,
                Loc::new(w.line, 1),
                format!(
                    "{} `{}` is registered in the hub as {}, but the file does not carry its {}",
                    what(entity),
                    w.key,
                    w.id,
                    id_key(entity)
                ),
            )
            .hint("run `platformctl hub sync`: it writes the id into the file"),
        );
    }
    for o in &rec.orphans {
        let msg = match o.entity {
            Entity::Workstream => format!(
                "orphan hub row: workstream `{}` ({}) of repo `{}`, last known path `{}`, is registered but no file has it{}",
                o.key,
                o.id,
                o.repo,
                o.path,
                match o.tasks {
                    0 => String::new(),
                    1 => " (1 task)".into(),
                    n => format!(" ({n} tasks)"),
                }
            ),
            Entity::Task => format!(
                "orphan hub row: task `{}` ({}) of repo `{}`, last known path `{}`, is registered but the file no longer has it",
                o.key, o.id, o.repo, o.path
            ),
        };
        out.push(Finding::new(Code::C12, &o.file, Loc::new(1, 1), msg).hint(
            "restore the file (or the task), or retire the row with `platformctl hub sync --prune`",
        ));
    }
    out
}
