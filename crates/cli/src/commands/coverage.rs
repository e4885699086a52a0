//! `platformctl coverage [--json | --markdown]`: the metadata readiness snapshot.

use std::fmt::Write as _;

use platformctl_catalog::coverage::{Counts, Coverage, Part};
use platformctl_catalog::{Catalog, coverage};

use crate::cli::{Cli, CoverageArgs};
use crate::output::{self, ERROR, OK};
use crate::style::Style;

use platformctl_report::catalog::COVERAGE_SCHEMA as SCHEMA;

pub fn run(cli: &Cli, args: &CoverageArgs) -> u8 {
    let catalog = match output::load(cli, false) {
        Ok(c) => c,
        Err(f) => return output::fatal(SCHEMA, args.json, &f, ERROR),
    };
    if args.json {
        output::print_json(&platformctl_report::catalog::coverage(&catalog));
        return OK;
    }
    let cov = coverage(&catalog);
    if args.markdown {
        output::print(&markdown(&catalog, &cov));
    } else {
        output::print(&human(&cov, &Style::new(cli.color)));
    }
    OK
}

fn snapshot_lines(cov: &Coverage) -> Vec<String> {
    let mut lines = vec![format!("Total modules: {}", cov.total_modules)];
    for part in Part::ALL {
        lines.push(format!(
            "Modules with `spec.{}`: {}",
            part.as_str(),
            cov.parts[&part].with
        ));
    }
    for part in Part::ALL {
        lines.push(format!(
            "Missing {} metadata: {}",
            part.as_str(),
            cov.parts[&part].missing
        ));
    }
    if !cov.unreadable_modules.is_empty() {
        lines.push(format!(
            "Modules whose manifest does not parse (not counted): {}",
            cov.unreadable_modules.len()
        ));
    }
    lines
}

fn counts_row(name: &str, c: &Counts) -> [String; 6] {
    [
        name.to_string(),
        c.total.to_string(),
        c.source.to_string(),
        c.artifact.to_string(),
        c.update.to_string(),
        c.complete.to_string(),
    ]
}

const HEAD: [&str; 6] = ["", "modules", "source", "artifact", "update", "all three"];

fn groups(cov: &Coverage) -> Vec<(&'static str, Vec<[String; 6]>)> {
    // Tiers in the platform's order (core first), then anything else (`unset`).
    let order = ["core", "infra", "edge", "app"];
    let mut tiers: Vec<(&String, &Counts)> = cov.by_tier.iter().collect();
    tiers.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    let tiers = tiers.into_iter().map(|(k, c)| counts_row(k, c)).collect();
    let state = cov
        .by_statefulness
        .iter()
        .map(|(k, c)| counts_row(k, c))
        .collect();
    let orch = cov
        .by_orchestrator
        .iter()
        .map(|(k, c)| counts_row(k, c))
        .collect();
    vec![
        ("By tier", tiers),
        ("By statefulness", state),
        ("By orchestrator", orch),
    ]
}

fn human(cov: &Coverage, st: &Style) -> String {
    let mut out = String::new();
    for line in snapshot_lines(cov) {
        let _ = writeln!(out, "{}", line.replace('`', ""));
    }
    for (title, rows) in groups(cov) {
        let _ = writeln!(out, "\n{}", st.bold(title));
        let widths = [16, 8, 7, 9, 7, 10];
        let mut line = format!("{:<16}", HEAD[0]);
        for (h, w) in HEAD[1..].iter().zip(&widths[1..]) {
            let _ = write!(line, "{h:>w$}");
        }
        let _ = writeln!(out, "{}", st.dim(&line));
        for row in rows {
            let _ = write!(out, "{:<16}", row[0]);
            for (cell, w) in row[1..].iter().zip(&widths[1..]) {
                let _ = write!(out, "{cell:>w$}");
            }
            out.push('\n');
        }
    }
    for part in Part::ALL {
        let p = &cov.parts[&part];
        if p.missing == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{}",
            st.bold(&format!(
                "Missing {} metadata ({})",
                part.as_str(),
                p.missing
            ))
        );
        for (tier, names) in &p.missing_by_tier {
            let marked: Vec<String> = names
                .iter()
                .map(|n| {
                    if p.missing_stateful.contains(n) {
                        format!("{n}*")
                    } else {
                        n.clone()
                    }
                })
                .collect();
            let _ = writeln!(out, "  {tier:<6} {}", marked.join(", "));
        }
    }
    let _ = writeln!(out, "\n{}", st.dim("* stateful"));
    out
}

fn markdown(catalog: &Catalog, cov: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Metadata coverage: {}\n",
        if catalog.platform.name.is_empty() {
            "platform"
        } else {
            &catalog.platform.name
        }
    );
    for line in snapshot_lines(cov) {
        let _ = writeln!(out, "- {line}");
    }
    for (title, rows) in groups(cov) {
        let _ = writeln!(out, "\n### {title}\n");
        let _ = writeln!(out, "| {} |", HEAD.join(" | "));
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for row in rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
    }
    for part in Part::ALL {
        let p = &cov.parts[&part];
        if p.missing == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "\n### Missing `spec.{}` ({})\n",
            part.as_str(),
            p.missing
        );
        for (tier, names) in &p.missing_by_tier {
            let marked: Vec<String> = names
                .iter()
                .map(|n| {
                    if p.missing_stateful.contains(n) {
                        format!("`{n}` (stateful)")
                    } else {
                        format!("`{n}`")
                    }
                })
                .collect();
            let _ = writeln!(out, "- **{tier}**: {}", marked.join(", "));
        }
    }
    out
}
