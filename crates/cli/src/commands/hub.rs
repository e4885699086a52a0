//! `platformctl hub sync|check|human|checkpoint` (SPEC §8): the State Hub.

use std::fmt::Write as _;
use std::path::PathBuf;

use platformctl_hub::{
    Action, CheckpointOptions, EntityChange, FieldChange, HubError, HubUrl, HumanChange, Repo,
    Store, SyncOptions, SyncReport, human_view, show_value,
};
use serde_json::{Value, json};

use crate::cli::{
    Cli, HubArgs, HubCheckArgs, HubCheckpointArgs, HubCommand, HubHumanArgs, HubSyncArgs,
    HubTasksArgs, HubWorkstreamsArgs, HumanAction,
};
use crate::commands::workplan::{by_code, findings_json, render_findings, shown, summary_counts};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

const SYNC_SCHEMA: &str = "platformctl/hub-sync/v1";
const CHECK_SCHEMA: &str = "platformctl/hub-check/v1";
use platformctl_report::hub::{CHECKPOINT_SCHEMA, HUMAN_SCHEMA};
/// Exit code: findings (check), or workplans skipped / ids not written (sync).
const FINDINGS: u8 = 1;

pub fn run(cli: &Cli, args: &HubArgs) -> u8 {
    match &args.command {
        HubCommand::Sync(a) => sync(cli, args, a),
        HubCommand::Check(a) => check(cli, args, a),
        HubCommand::Human(a) => human(cli, args, a),
        HubCommand::Checkpoint(a) => checkpoint(cli, args, a),
        HubCommand::Workstreams(a) => workstreams(cli, args, a),
        HubCommand::Tasks(a) => tasks(cli, args, a),
    }
}

fn fatal(message: impl Into<String>) -> Fatal {
    Fatal {
        message: message.into(),
        finding: None,
    }
}

fn hub_url(cli: &Cli, args: &HubArgs) -> Result<HubUrl, Fatal> {
    match &args.hub {
        Some(u) => HubUrl::parse(u).map_err(|e| fatal(format!("--hub: {e}"))),
        None => {
            let root = output::root(cli).map_err(|f| {
                fatal(format!(
                    "{}\n(or name the hub with --hub URL / PLATFORMCTL_HUB)",
                    f.message
                ))
            })?;
            Ok(HubUrl::default_for_root(&root))
        }
    }
}

fn open(cli: &Cli, args: &HubArgs) -> Result<(HubUrl, Box<dyn Store>), Fatal> {
    let url = hub_url(cli, args)?;
    let store =
        platformctl_hub::open(&url).map_err(|e| fatal(format!("hub {}: {e}", url.redacted())))?;
    Ok((url, store))
}

fn repos(cli: &Cli, given: &[PathBuf]) -> Result<Vec<Repo>, Fatal> {
    let roots = if given.is_empty() {
        vec![output::root(cli)?]
    } else {
        given.to_vec()
    };
    let mut out: Vec<Repo> = Vec::new();
    for r in roots {
        let repo = Repo::new(&r).map_err(|e| fatal(e.to_string()))?;
        if let Some(other) = out.iter().find(|o| o.name == repo.name) {
            return Err(fatal(format!(
                "{} and {} are both named `{}`: the hub tells repos apart by their folder name",
                other.root.display(),
                r.display(),
                repo.name
            )));
        }
        out.push(repo);
    }
    Ok(out)
}

fn actor(args: &HubArgs) -> String {
    args.actor
        .clone()
        .filter(|a| !a.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

fn hub_error(url: &HubUrl, e: &HubError) -> Fatal {
    platformctl_report::hub::failure(url, e)
}

fn repos_json(repos: &[Repo]) -> Value {
    Value::Array(
        repos
            .iter()
            .map(|r| json!({"name": r.name, "root": shown(&r.root)}))
            .collect(),
    )
}

fn field_json(f: &FieldChange) -> Value {
    let v = |x: Option<&str>| match (f.field, x) {
        ("notes", Some(_)) => json!(show_value("notes", x)),
        (_, x) => json!(x),
    };
    json!({"field": f.field, "old": v(f.old.as_deref()), "new": v(f.new.as_deref()), "line": f.line})
}

fn change_json(c: &EntityChange, plan: bool) -> Value {
    let new_id = c.action == Action::Create && !c.id_from_file;
    json!({
        "entity": c.entity,
        "action": c.action,
        "id": if plan && new_id { Value::Null } else { json!(c.id) },
        "key": c.key,
        "repo": c.repo,
        "file": shown(&c.file),
        "line": c.line,
        "idFromFile": c.id_from_file,
        "fields": c.fields.iter().map(field_json).collect::<Vec<_>>(),
    })
}

struct Tally {
    created: usize,
    updated: usize,
    removed: usize,
}

fn tally(changes: &[EntityChange]) -> Tally {
    let n = |a: Action| changes.iter().filter(|c| c.action == a).count();
    Tally {
        created: n(Action::Create),
        updated: n(Action::Update),
        removed: n(Action::Remove),
    }
}

fn sync(cli: &Cli, args: &HubArgs, a: &HubSyncArgs) -> u8 {
    let repos = match repos(cli, &a.repos) {
        Ok(r) => r,
        Err(f) => return output::fatal(SYNC_SCHEMA, a.json, &f, ERROR),
    };
    let (url, mut store) = match open(cli, args) {
        Ok(x) => x,
        Err(f) => return output::fatal(SYNC_SCHEMA, a.json, &f, ERROR),
    };
    let opts = SyncOptions {
        plan: a.plan,
        prune: a.prune,
        actor: actor(args),
    };
    let report = match platformctl_hub::sync(store.as_mut(), &repos, &opts) {
        Ok(r) => r,
        Err(e) => return output::fatal(SYNC_SCHEMA, a.json, &hub_error(&url, &e), ERROR),
    };
    let code = if !report.scan.io_errors.is_empty() {
        ERROR
    } else if !report.rec.skipped.is_empty() || !report.write_problems.is_empty() {
        FINDINGS
    } else {
        OK
    };
    if a.json {
        print_sync_json(&url, &repos, &report, code, a.plan);
    } else {
        print_sync_text(cli, &url, &repos, &report, a.plan);
    }
    code
}

fn print_sync_json(url: &HubUrl, repos: &[Repo], r: &SyncReport, code: u8, plan: bool) {
    let t = tally(&r.rec.changes);
    let ids = r.rec.id_writes.len();
    output::print_json(&json!({
        "schema": SYNC_SCHEMA,
        "exitCode": code,
        "hub": url.redacted(),
        "plan": plan,
        "applied": r.applied,
        "repos": repos_json(repos),
        "summary": {
            "workplans": r.rec.workstreams,
            "tasks": r.rec.tasks,
            "created": t.created,
            "updated": t.updated,
            "removed": t.removed,
            "idsToWrite": ids,
            "filesWritten": r.files_written.len(),
            "skipped": r.rec.skipped.len(),
            "orphans": r.rec.orphans.len(),
            "historyRows": r.rec.writes.history.len(),
        },
        "changes": r.rec.changes.iter().map(|c| change_json(c, plan)).collect::<Vec<_>>(),
        "idWrites": r.rec.id_writes.iter().map(|w| json!({
            "file": shown(&w.path),
            "line": w.line,
            "key": w.key,
            "id": if plan && !w.registered { Value::Null } else { json!(w.id) },
            "registered": w.registered,
        })).collect::<Vec<_>>(),
        "filesWritten": r.files_written.iter().map(|w| json!({"file": shown(&w.file), "ids": w.ids})).collect::<Vec<_>>(),
        "problems": r.write_problems,
        "ioErrors": r.scan.io_errors,
        "skipped": r.rec.skipped.iter().map(|(fi, why)| json!({
            "file": shown(&r.scan.files[*fi].path),
            "reason": why,
        })).collect::<Vec<_>>(),
        "orphans": r.rec.orphans.iter().map(|o| json!({
            "entity": o.entity,
            "id": o.id,
            "key": o.key,
            "repo": o.repo,
            "path": o.path,
            "tasks": o.tasks,
        })).collect::<Vec<_>>(),
    }));
}

fn print_sync_text(cli: &Cli, url: &HubUrl, repos: &[Repo], r: &SyncReport, plan: bool) {
    let st = Style::new(cli.color);
    let mut out = String::new();
    let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
    let _ = writeln!(
        out,
        "{} hub {} · repos: {}",
        if plan {
            st.bold("plan (nothing written):")
        } else {
            st.bold("sync:")
        },
        url.redacted(),
        names.join(", ")
    );
    for c in &r.rec.changes {
        let (sign, verb) = match c.action {
            Action::Create => (st.green("+"), "new"),
            Action::Update => (st.yellow("~"), "changed"),
            Action::Remove => (st.red("-"), "retired"),
        };
        let id = match c.action {
            Action::Create if c.id_from_file => format!("id {} from the file", c.id),
            Action::Create if plan => "new id".to_string(),
            _ => format!("id {}", c.id),
        };
        let _ = writeln!(
            out,
            "{sign} {} {} {verb} ({id}) {}:{}",
            c.entity.as_str(),
            st.bold(&c.key),
            shown(&c.file).display(),
            c.line
        );
        if c.action == Action::Update || plan {
            // A new row's key, repo and path are on the line above.
            let repeated = |f: &&FieldChange| {
                c.action == Action::Create
                    && matches!(f.field, "workplan_id" | "task_key" | "repo" | "path")
            };
            for f in c.fields.iter().filter(|f| !repeated(f)) {
                let _ = writeln!(
                    out,
                    "    {}: {} → {}",
                    f.field,
                    show_value(f.field, f.old.as_deref()),
                    show_value(f.field, f.new.as_deref())
                );
            }
        }
    }
    for w in r.rec.id_writes.iter().filter(|w| w.registered) {
        let _ = writeln!(
            out,
            "{} {} is registered; its id {} {} written into {}",
            st.yellow("~"),
            st.bold(&w.key),
            w.id,
            if plan { "would be" } else { "is" },
            shown(&w.path).display()
        );
    }
    for o in &r.rec.orphans {
        if r.rec
            .changes
            .iter()
            .any(|c| c.id == o.id && c.action == Action::Remove)
        {
            continue;
        }
        let _ = writeln!(
            out,
            "{} orphan {} {} (repo {}, last known path {}): no file has it; --prune retires it",
            st.yellow("!"),
            o.entity.as_str(),
            st.bold(&o.key),
            o.repo,
            o.path
        );
    }
    for (fi, why) in &r.rec.skipped {
        let _ = writeln!(
            out,
            "{} skipped {}: {why}",
            st.red("!"),
            shown(&r.scan.files[*fi].path).display()
        );
    }
    for e in &r.scan.io_errors {
        let _ = writeln!(out, "{} {e}", st.red("!"));
    }
    for p in &r.write_problems {
        let _ = writeln!(out, "{} {p}", st.red("!"));
    }
    for w in &r.files_written {
        let _ = writeln!(
            out,
            "ids written: {} ({} id{})",
            shown(&w.file).display(),
            w.ids,
            if w.ids == 1 { "" } else { "s" }
        );
    }
    let t = tally(&r.rec.changes);
    let files_with_ids: std::collections::BTreeSet<usize> =
        r.rec.id_writes.iter().map(|w| w.file).collect();
    let _ = writeln!(
        out,
        "{} {} workplans, {} tasks; {} rows {}created, {} {}updated, {} {}retired; {} ids {} into {} files; {} skipped",
        if plan { "plan:" } else { "synced:" },
        r.rec.workstreams,
        r.rec.tasks,
        t.created,
        if plan { "to be " } else { "" },
        t.updated,
        if plan { "to be " } else { "" },
        t.removed,
        if plan { "to be " } else { "" },
        r.rec.id_writes.len(),
        if plan { "to write" } else { "written" },
        if plan {
            files_with_ids.len()
        } else {
            r.files_written.len()
        },
        r.rec.skipped.len()
    );
    output::print(&out);
}

fn check(cli: &Cli, args: &HubArgs, a: &HubCheckArgs) -> u8 {
    let repos = match repos(cli, &a.repos) {
        Ok(r) => r,
        Err(f) => return output::fatal(CHECK_SCHEMA, a.json, &f, ERROR),
    };
    let (url, mut store) = match open(cli, args) {
        Ok(x) => x,
        Err(f) => return output::fatal(CHECK_SCHEMA, a.json, &f, ERROR),
    };
    let report = match platformctl_hub::check(store.as_mut(), &repos) {
        Ok(r) => r,
        Err(e) => return output::fatal(CHECK_SCHEMA, a.json, &hub_error(&url, &e), ERROR),
    };
    let code = report.exit_code();
    if a.json {
        output::print_json(&json!({
            "schema": CHECK_SCHEMA,
            "exitCode": code,
            "hub": url.redacted(),
            "repos": repos_json(&repos),
            "summary": {
                "workplans": report.scan.files.len(),
                "skipped": report.rec.skipped.len(),
                "findings": report.findings.len(),
                "byCode": by_code(&report.findings),
                "orphans": report.rec.orphans.len(),
            },
            "ioErrors": report.scan.io_errors,
            "findings": findings_json(&report.findings),
        }));
        return code;
    }
    let st = Style::new(cli.color);
    let mut out = render_findings(&report.findings, &st);
    for e in &report.scan.io_errors {
        let _ = writeln!(out, "{} {e}\n", st.red("error:"));
    }
    let verdict = if code == OK {
        st.green("clean")
    } else {
        st.red("findings")
    };
    let _ = writeln!(
        out,
        "{verdict}: hub {} · {} workplans in {}; {}",
        url.redacted(),
        report.scan.files.len(),
        repos
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        summary_counts(&report.findings)
    );
    output::print(&out);
    code
}

fn human(cli: &Cli, args: &HubArgs, a: &HubHumanArgs) -> u8 {
    let (url, mut store) = match open(cli, args) {
        Ok(x) => x,
        Err(f) => return output::fatal(HUMAN_SCHEMA, a.json, &f, ERROR),
    };
    if let Some(action) = &a.action {
        let (task, change) = match action {
            HumanAction::Set { task, reason } => (
                task,
                HumanChange::Set {
                    reason: reason.clone(),
                },
            ),
            HumanAction::Clear { task } => (task, HumanChange::Clear),
        };
        return match platformctl_hub::set_human(store.as_mut(), task, &change, &actor(args)) {
            Ok(t) => {
                output::print(&format!(
                    "{}: needs_human {}{}\n",
                    t.task_key,
                    if t.needs_human { "set" } else { "cleared" },
                    t.needs_human_reason
                        .as_deref()
                        .map_or(String::new(), |r| format!(" ({r})"))
                ));
                OK
            }
            Err(e) => output::fatal(HUMAN_SCHEMA, false, &hub_error(&url, &e), ERROR),
        };
    }
    if a.json {
        return match platformctl_report::hub::human(&url, store.as_mut()) {
            Ok(doc) => {
                output::print_json(&doc);
                OK
            }
            Err(f) => output::fatal(HUMAN_SCHEMA, a.json, &f, ERROR),
        };
    }
    let state = match store.read() {
        Ok(s) => s,
        Err(e) => return output::fatal(HUMAN_SCHEMA, a.json, &hub_error(&url, &e), ERROR),
    };
    let gates = human_view(&state);
    if gates.is_empty() {
        output::print("no open task waits for a person\n");
        return OK;
    }
    let rows: Vec<Vec<String>> = gates
        .iter()
        .map(|g| {
            vec![
                g.task_key.clone(),
                g.status.to_string(),
                g.workplan_id.clone(),
                g.at.clone().unwrap_or_else(|| "-".into()),
                g.by.clone().unwrap_or_else(|| "-".into()),
                g.reason.clone().unwrap_or_else(|| format!("({})", g.title)),
            ]
        })
        .collect();
    let mut out = columns(
        &["TASK", "STATUS", "WORKPLAN", "SINCE", "BY", "REASON"],
        &rows,
    );
    let _ = writeln!(
        out,
        "\n{} open task{} wait{} for a person",
        gates.len(),
        if gates.len() == 1 { "" } else { "s" },
        if gates.len() == 1 { "s" } else { "" }
    );
    output::print(&out);
    OK
}

fn checkpoint(cli: &Cli, args: &HubArgs, a: &HubCheckpointArgs) -> u8 {
    let (url, mut store) = match open(cli, args) {
        Ok(x) => x,
        Err(f) => return output::fatal(CHECKPOINT_SCHEMA, a.json, &f, ERROR),
    };
    let opts = CheckpointOptions {
        days: a.days,
        picks: a.picks,
    };
    if a.json {
        return match platformctl_report::hub::checkpoint(&url, store.as_mut(), &opts) {
            Ok(doc) => {
                output::print_json(&doc);
                OK
            }
            Err(f) => output::fatal(CHECKPOINT_SCHEMA, a.json, &f, ERROR),
        };
    }
    match platformctl_hub::checkpoint(store.as_mut(), &opts) {
        Ok(cp) => {
            output::print(&platformctl_hub::render_markdown(&cp));
            OK
        }
        Err(e) => output::fatal(CHECKPOINT_SCHEMA, a.json, &hub_error(&url, &e), ERROR),
    }
}

/// Prints a hub document (`--json`) or, for people, a table of its rows.
fn print_doc(
    json: bool,
    schema: &str,
    doc: Result<Value, Fatal>,
    table: fn(&Value) -> String,
) -> u8 {
    match doc {
        Ok(doc) if json => {
            output::print_json(&doc);
            OK
        }
        Ok(doc) => {
            output::print(&table(&doc));
            OK
        }
        Err(f) => output::fatal(schema, json, &f, ERROR),
    }
}

/// Columns of rows, left-aligned, two spaces apart.
fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let head: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    let mut out = String::new();
    for r in std::iter::once(&head).chain(rows) {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(&widths).enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn workstreams(cli: &Cli, args: &HubArgs, a: &HubWorkstreamsArgs) -> u8 {
    use platformctl_report::hub::WORKSTREAMS_SCHEMA;
    let doc = open(cli, args)
        .and_then(|(url, mut store)| platformctl_report::hub::workstreams(&url, store.as_mut()));
    print_doc(a.json, WORKSTREAMS_SCHEMA, doc, |doc| {
        let rows: Vec<Vec<String>> = doc["workstreams"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| {
                [
                    "workplanId",
                    "status",
                    "planningPriority",
                    "openState",
                    "needsHuman",
                    "title",
                ]
                .iter()
                .map(|k| platformctl_report::cell(&w[*k]))
                .collect()
            })
            .collect();
        if rows.is_empty() {
            return "no workstream is registered; `platformctl hub sync` registers the workplans\n"
                .into();
        }
        columns(
            &[
                "WORKPLAN",
                "STATUS",
                "PRIORITY",
                "OPEN STATE",
                "HUMAN",
                "TITLE",
            ],
            &rows,
        )
    })
}

fn tasks(cli: &Cli, args: &HubArgs, a: &HubTasksArgs) -> u8 {
    use platformctl_report::hub::{TASKS_SCHEMA, TaskFilter};
    let filter = TaskFilter {
        workplan: a.workplan.clone(),
        open: a.open,
    };
    let doc = open(cli, args)
        .and_then(|(url, mut store)| platformctl_report::hub::tasks(&url, store.as_mut(), &filter));
    print_doc(a.json, TASKS_SCHEMA, doc, |doc| {
        let rows: Vec<Vec<String>> = doc["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let mut r: Vec<String> = ["taskKey", "status", "priority"]
                    .iter()
                    .map(|k| platformctl_report::cell(&t[*k]))
                    .collect();
                r.push(
                    if t["needsHuman"] == Value::Bool(true) {
                        "yes"
                    } else {
                        "-"
                    }
                    .into(),
                );
                r.push(platformctl_report::cell(&t["title"]));
                r
            })
            .collect();
        if rows.is_empty() {
            return "no task matches\n".into();
        }
        columns(&["TASK", "STATUS", "PRIO", "HUMAN", "TITLE"], &rows)
    })
}
