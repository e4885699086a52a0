//! `platformctl workplan status|lint [PATH…] [--json]` (SPEC §8); `show` is in
//! `workplan_show`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use platformctl_workplan::{Finding, format_counts, format_status_table};
use serde_json::json;

use crate::cli::{Cli, WorkplanArgs, WorkplanCommand};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

use platformctl_report::workplans::{LINT_SCHEMA, STATUS_SCHEMA};

pub fn run(cli: &Cli, cmd: &WorkplanCommand) -> u8 {
    match cmd {
        WorkplanCommand::Status(args) => status(cli, args),
        WorkplanCommand::Lint(args) => lint_cmd(cli, args),
        WorkplanCommand::Show(args) => super::workplan_show::run(cli, args),
    }
}

/// The paths given, or the platform repo (whose `workplans/` folder is then read).
fn paths(cli: &Cli, args: &WorkplanArgs) -> Result<Vec<PathBuf>, Fatal> {
    if !args.paths.is_empty() {
        return Ok(args.paths.clone());
    }
    platformctl_report::workplans::default_paths(&output::root(cli)?)
}

type Loaded = platformctl_report::workplans::Loaded;

fn load(cli: &Cli, args: &WorkplanArgs) -> Result<Loaded, Fatal> {
    platformctl_report::workplans::load(&paths(cli, args)?)
}

pub use crate::diag::shown;
pub use platformctl_report::workplans::{by_code, findings_json};

fn status(cli: &Cli, args: &WorkplanArgs) -> u8 {
    let loaded = match load(cli, args) {
        Ok(l) => l,
        Err(f) => return output::fatal(STATUS_SCHEMA, args.json, &f, ERROR),
    };
    let s = platformctl_report::workplans::status(loaded);
    if args.json {
        output::print_json(&platformctl_report::workplans::status_doc(&s));
        return OK;
    }
    let (rows, total, findings) = (&s.rows, &s.total, s.findings);
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .map(|(w, n)| format!("{n} {w}"))
        .collect();
    let st = Style::stderr(cli.color);
    let mut text = format_status_table(rows);
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
        format_counts(total)
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
