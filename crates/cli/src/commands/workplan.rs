//! `platformctl workplan status|lint [PATH…] [--json]` (SPEC §8); `show` is in
//! `workplan_show`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use platformctl_workplan::{
    Counts, Finding, StatusRow, Workplan, WorkplanStatus, format_counts, format_status_table, lint,
    load_paths, status_table,
};
use serde_json::{Value, json};

use crate::cli::{Cli, WorkplanArgs, WorkplanCommand};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

const STATUS_SCHEMA: &str = "platformctl/workplan-status/v1";
const LINT_SCHEMA: &str = "platformctl/workplan-lint/v1";

pub fn run(cli: &Cli, cmd: &WorkplanCommand) -> u8 {
    match cmd {
        WorkplanCommand::Status(args) => status(cli, args),
        WorkplanCommand::Lint(args) => lint_cmd(cli, args),
        WorkplanCommand::Show(args) => super::workplan_show::run(cli, args),
    }
}

fn fatal(message: String) -> Fatal {
    Fatal {
        message,
        finding: None,
    }
}

/// The paths given, or the platform repo (whose `workplans/` folder is then read).
fn paths(cli: &Cli, args: &WorkplanArgs) -> Result<Vec<PathBuf>, Fatal> {
    if !args.paths.is_empty() {
        return Ok(args.paths.clone());
    }
    let root = output::root(cli)?;
    if !root.join("workplans").is_dir() {
        return Err(fatal(format!(
            "{} has no workplans/ folder; name workplan files or folders",
            root.display()
        )));
    }
    Ok(vec![root])
}

type Loaded = Vec<(Workplan, Vec<Finding>)>;

fn load(cli: &Cli, args: &WorkplanArgs) -> Result<Loaded, Fatal> {
    let paths = paths(cli, args)?;
    load_paths(&paths).map_err(|e| fatal(e.to_string()))
}

pub use crate::diag::shown;

fn counts_json(c: &Counts) -> Value {
    json!({
        "wait": c.wait, "progress": c.progress, "todo": c.todo,
        "done": c.done, "cancel": c.cancel, "unknown": c.unknown,
    })
}

fn row_json(r: &StatusRow) -> Value {
    json!({
        "repo": r.repo,
        "file": shown(&r.file),
        "id": r.id,
        "title": r.title,
        "status": r.status,
        "planningPriority": r.planning_priority,
        "planningOrder": r.planning_order,
        "openState": r.open_state,
        "counts": counts_json(&r.counts),
        "needsHuman": r.needs_human,
    })
}

fn status(cli: &Cli, args: &WorkplanArgs) -> u8 {
    let loaded = match load(cli, args) {
        Ok(l) => l,
        Err(f) => return output::fatal(STATUS_SCHEMA, args.json, &f, ERROR),
    };
    let parse_findings: usize = loaded.iter().map(|(_, f)| f.len()).sum();
    let workplans: Vec<Workplan> = loaded.into_iter().map(|(w, _)| w).collect();
    let findings = parse_findings + lint(&workplans).len();
    let mut rows = status_table(&workplans);
    for r in &mut rows {
        r.file = shown(&r.file);
    }
    let mut total = Counts::default();
    let mut by_status: BTreeMap<usize, (&str, usize)> = BTreeMap::new();
    for r in &rows {
        let c = &r.counts;
        total.wait += c.wait;
        total.progress += c.progress;
        total.todo += c.todo;
        total.done += c.done;
        total.cancel += c.cancel;
        total.unknown += c.unknown;
        let (rank, word) = match r.status {
            Some(s) => (
                WorkplanStatus::ALL
                    .iter()
                    .position(|x| *x == s)
                    .unwrap_or(0),
                s.as_str(),
            ),
            None => (WorkplanStatus::ALL.len(), "unknown"),
        };
        by_status.entry(rank).or_insert((word, 0)).1 += 1;
    }
    let statuses: Vec<String> = by_status
        .values()
        .map(|(w, n)| format!("{n} {w}"))
        .collect();
    if args.json {
        output::print_json(&json!({
            "schema": STATUS_SCHEMA,
            "exitCode": OK,
            "summary": {
                "workplans": rows.len(),
                "byStatus": by_status.values().map(|(w, n)| (w.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "tasks": counts_json(&total),
                "openState": format_counts(&total),
                "needsHuman": rows.iter().map(|r| r.needs_human).sum::<usize>(),
                "lintFindings": findings,
            },
            "workplans": rows.iter().map(row_json).collect::<Vec<_>>(),
        }));
        return OK;
    }
    let st = Style::stderr(cli.color);
    let mut text = format_status_table(&rows);
    let _ = writeln!(
        text,
        "\n{} workplan{}: {}; tasks: {}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        if statuses.is_empty() {
            "none".into()
        } else {
            statuses.join(", ")
        },
        format_counts(&total)
    );
    output::print(&text);
    if findings > 0 {
        eprintln!(
            "{}: {findings} lint finding{}; run `platformctl workplan lint` for them",
            st.yellow("note"),
            if findings == 1 { "" } else { "s" }
        );
    }
    OK
}

fn finding_json(f: &Finding) -> Value {
    let mut v = json!({
        "code": f.code,
        "file": shown(&f.file),
        "line": f.line,
        "column": f.column,
        "message": f.message,
    });
    if let Some(h) = &f.hint {
        v["hint"] = json!(h);
    }
    v
}

/// Findings as a JSON array.
pub fn findings_json(findings: &[Finding]) -> Value {
    Value::Array(findings.iter().map(finding_json).collect())
}

/// `{"C-03": 2, …}`.
pub fn by_code(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.code.as_str()).or_insert(0) += 1;
    }
    m
}

fn lint_cmd(cli: &Cli, args: &WorkplanArgs) -> u8 {
    let loaded = match load(cli, args) {
        Ok(l) => l,
        Err(f) => return output::fatal(LINT_SCHEMA, args.json, &f, ERROR),
    };
    let findings = platformctl_workplan::lint_all(&loaded);
    let code = u8::try_from(platformctl_workplan::exit_code(&findings)).unwrap_or(1);
    let files: HashSet<&Path> = loaded.iter().map(|(w, _)| w.file.as_path()).collect();
    let with_findings: HashSet<&Path> = findings.iter().map(|f| f.file.as_path()).collect();
    if args.json {
        output::print_json(&json!({
            "schema": LINT_SCHEMA,
            "exitCode": code,
            "summary": {
                "workplans": files.len(),
                "withFindings": with_findings.len(),
                "findings": findings.len(),
                "byCode": by_code(&findings),
            },
            "findings": findings_json(&findings),
        }));
        return code;
    }
    let st = Style::new(cli.color);
    let mut text = render_findings(&findings, &st);
    let verdict = if findings.is_empty() {
        st.green("clean")
    } else {
        st.red("findings")
    };
    let _ = writeln!(
        text,
        "{verdict}: {} workplan{}, {} with findings; {}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        with_findings.len(),
        summary_counts(&findings)
    );
    output::print(&text);
    code
}

/// `0 findings` or `3 findings (C-03 ×2, C-10 ×1)`.
pub fn summary_counts(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "0 findings".into();
    }
    let codes: Vec<String> = by_code(findings)
        .iter()
        .map(|(c, n)| format!("{c} ×{n}"))
        .collect();
    format!(
        "{} finding{} ({})",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        codes.join(", ")
    )
}

/// Findings for people (see [`crate::diag::render_workplan_findings`]).
pub fn render_findings(findings: &[Finding], st: &Style) -> String {
    crate::diag::render_workplan_findings(findings, &st.renderer())
}
