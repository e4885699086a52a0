//! `platformctl workplan show ID|PATH [--in PATH…] [--json]`: one workplan's tasks, for a
//! person or an agent picking the next task.
//!
//! The argument is a workplan file when such a file exists, else a workplan id looked up in
//! `--in` (default: the platform repo's `workplans/`). An id that matches nothing is exit 2
//! with the closest id; an id two files share (lint C-02) is exit 2 naming both files.
//!
//! "Next" is the rule of `hub checkpoint`'s next picks, within one workplan: open tasks that
//! are `progress` or `todo` and do not wait for a person, `progress` first, then by priority
//! (high first), then in file order.

use std::fmt::Write as _;

use platformctl_workplan::{Finding, Workplan, format_counts};

use crate::cli::{Cli, WorkplanShowArgs};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

use platformctl_report::workplans;
/// The document's schema.
pub use platformctl_report::workplans::SHOW_SCHEMA as SCHEMA;

/// The workplan the argument names, with its parse findings.
fn find(cli: &Cli, args: &WorkplanShowArgs) -> Result<(Workplan, Vec<Finding>), Fatal> {
    let arg = args.workplan.as_str();
    let within = if workplans::looks_like_path(arg) {
        Vec::new()
    } else if args.within.is_empty() {
        let root = output::root(cli)?;
        if !root.join("workplans").is_dir() {
            return Err(Fatal::new(format!(
                "{} has no workplans/ folder; use --in PATH or name the workplan file",
                root.display()
            )));
        }
        vec![root]
    } else {
        args.within.clone()
    };
    workplans::find(arg, &within)
}

use workplans::safe;

pub fn run(cli: &Cli, args: &WorkplanShowArgs) -> u8 {
    let (w, parse_findings) = match find(cli, args) {
        Ok(x) => x,
        Err(f) => return output::fatal(SCHEMA, args.json, &f, ERROR),
    };
    let shown_wp = workplans::shown_workplan(&w, &parse_findings);
    if args.json {
        output::print_json(&workplans::show_doc(&shown_wp));
        return OK;
    }
    let (lint_findings, counts, needs_human, next, file) = (
        shown_wp.lint_findings,
        shown_wp.counts,
        shown_wp.needs_human,
        shown_wp.next,
        shown_wp.file.clone(),
    );
    let st = Style::new(cli.color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}",
        st.bold(w.id.as_deref().unwrap_or("(no id)")),
        w.title.as_deref().map_or("(no title)".to_string(), safe)
    );
    let mut facts = vec![format!(
        "status {}",
        w.status.map_or("unknown".into(), |s| s.to_string())
    )];
    if let Some(p) = w.planning_priority {
        facts.push(format!("priority {p}"));
    }
    if let Some(o) = w.planning_order {
        facts.push(format!("order {o}"));
    }
    if let Some(o) = &w.owner {
        facts.push(format!("owner {o}"));
    }
    let _ = writeln!(out, "{}", facts.join(", "));
    let _ = writeln!(out, "{}", file.display());
    let mut state = format_counts(&counts);
    if needs_human > 0 {
        let _ = write!(state, " ({needs_human} needs human)");
    }
    let _ = writeln!(out, "{state}\n");

    let rows: Vec<[String; 6]> = w
        .tasks
        .iter()
        .map(|t| {
            [
                t.id.clone().unwrap_or_else(|| "-".into()),
                t.status.map_or("-".into(), |s| s.to_string()),
                t.priority.map_or("-".into(), |p| p.to_string()),
                if t.needs_human() { "yes" } else { "-" }.to_string(),
                t.heading_line.to_string(),
                safe(&t.heading),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "PRIO", "HUMAN", "LINE", "TITLE"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
        }
        s.trim_end().to_string()
    };
    if rows.is_empty() {
        let _ = writeln!(out, "no tasks");
    } else {
        let _ = writeln!(out, "{}", line(header));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r.each_ref().map(String::as_str)));
        }
    }
    match next {
        Some(t) => {
            let _ = writeln!(
                out,
                "\nnext: {} ({}{}) {}",
                t.id.as_deref().unwrap_or("-"),
                t.status.map_or("-".into(), |s| s.to_string()),
                t.priority.map_or(String::new(), |p| format!(", {p}")),
                safe(&t.heading)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nnext: none (nothing in progress or to do that does not wait for a person)"
            );
        }
    }
    output::print(&out);
    if lint_findings > 0 {
        eprintln!(
            "{}: {lint_findings} lint finding{}; run `platformctl workplan lint {}` for them",
            st.yellow("note"),
            if lint_findings == 1 { "" } else { "s" },
            file.display()
        );
    }
    OK
}
