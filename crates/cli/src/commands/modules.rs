//! `platformctl modules list | show NAME [--json]`.

use std::fmt::Write as _;

use platformctl_catalog::Catalog;

use crate::cli::{Cli, ModulesCommand};
use crate::diag::{catalog_sources, render};
use crate::output::{self, ERROR, OK};
use crate::style::Style;

pub fn run(cli: &Cli, cmd: &ModulesCommand) -> u8 {
    let (schema, json) = match cmd {
        ModulesCommand::List { json } => ("platformctl/modules-list/v1", *json),
        ModulesCommand::Show { json, .. } => ("platformctl/modules-show/v2", *json),
    };
    let catalog = match output::load(cli, false) {
        Ok(c) => c,
        Err(f) => return output::fatal(schema, json, &f, ERROR),
    };
    match cmd {
        ModulesCommand::List { json } => list(&catalog, *json, &Style::new(cli.color)),
        ModulesCommand::Show { name, json } => {
            show(&catalog, name, *json, schema, &Style::new(cli.color))
        }
    }
}

use platformctl_report::catalog::desired_image;

fn list(catalog: &Catalog, json: bool, st: &Style) -> u8 {
    if json {
        output::print_json(&platformctl_report::catalog::modules_list(catalog));
        return OK;
    }
    let head = [
        "MODULE", "TIER", "HOST", "SERVICE", "STATE", "META", "IMAGE",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for lm in &catalog.modules {
        let Some(m) = &lm.module else {
            rows.push([
                lm.dir.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "invalid".into(),
                "-".into(),
                "(manifest does not parse)".into(),
            ]);
            continue;
        };
        let meta: String = [
            (m.source.is_some(), 's'),
            (m.artifact.is_some(), 'a'),
            (m.update.is_some(), 'u'),
        ]
        .iter()
        .map(|(on, c)| if *on { *c } else { '-' })
        .collect();
        let state = if !m.is_observed() {
            "external".to_string()
        } else {
            format!("{:?}", m.runtime.desired_state).to_lowercase()
        };
        rows.push([
            m.name.clone(),
            m.tier.map_or("-", |t| t.as_str()).to_string(),
            m.runtime
                .host
                .as_deref()
                .cloned()
                .unwrap_or_else(|| "-".into()),
            m.runtime
                .compose_service
                .as_deref()
                .cloned()
                .unwrap_or_else(|| "-".into()),
            state,
            meta,
            desired_image(m).unwrap_or("-").to_string(),
        ]);
    }
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        l
    };
    let _ = writeln!(out, "{}", st.bold(&line(&head.map(String::from))));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    let _ = writeln!(
        out,
        "{}",
        st.dim(&format!(
            "{} modules; META: s=source a=artifact u=update",
            rows.len()
        ))
    );
    output::print(&out);
    OK
}

fn show(catalog: &Catalog, name: &str, json: bool, schema: &str, st: &Style) -> u8 {
    if json {
        return match platformctl_report::catalog::modules_show(catalog, name) {
            Ok(doc) => {
                output::print_json(&doc);
                OK
            }
            Err(f) => output::fatal(schema, json, &f, ERROR),
        };
    }
    let facts = match platformctl_report::catalog::module_facts(catalog, name) {
        Ok(f) => f,
        Err(f) => return output::fatal(schema, json, &f, ERROR),
    };
    let (lm, findings, expected_container, compose) = (
        facts.loaded,
        facts.findings,
        facts.expected_container,
        facts.compose,
    );
    let m = lm.module.as_ref();
    let mut out = String::new();
    let Some(m) = m else {
        let _ = writeln!(out, "{} (manifest does not parse)\n", st.bold(&lm.dir));
        let mut sources = catalog_sources(&catalog.root, &catalog.findings);
        for f in &findings {
            out.push_str(&render(f, &mut sources, &st.renderer()));
        }
        output::print(&out);
        return OK;
    };
    let kv = |out: &mut String, k: &str, v: &str| {
        let _ = writeln!(out, "  {:<22} {v}", format!("{k}:"));
    };
    let _ = writeln!(
        out,
        "{}  {}",
        st.bold(&m.name),
        st.dim(&m.file.display().to_string())
    );
    if let Some(d) = &m.description {
        let _ = writeln!(out, "  {d}");
    }
    out.push('\n');
    kv(&mut out, "tier", m.tier.map_or("-", |t| t.as_str()));
    kv(&mut out, "owner", m.owner.as_deref().unwrap_or("-"));
    kv(&mut out, "stateful", if m.stateful { "yes" } else { "no" });
    let r = &m.runtime;
    kv(
        &mut out,
        "orchestrator",
        if m.is_observed() {
            "docker-compose"
        } else {
            "external"
        },
    );
    kv(&mut out, "host", r.host.as_deref().map_or("-", |s| s));
    if m.is_observed() {
        kv(
            &mut out,
            "compose",
            &format!(
                "{} / {}",
                r.compose_file.as_deref().map_or("-", |s| s),
                r.compose_service.as_deref().map_or("-", |s| s)
            ),
        );
        kv(
            &mut out,
            "container",
            expected_container.as_deref().unwrap_or("-"),
        );
        kv(
            &mut out,
            "desired state",
            &format!("{:?}", r.desired_state).to_lowercase(),
        );
        if let Some(svc) = compose
            && let Some(img) = &svc.image
        {
            kv(&mut out, "compose image", &img.value);
        }
    }
    if let Some(obs) = &r.image_observed {
        let at = r
            .image_observed_at
            .as_deref()
            .map(|d| format!(" (audited {d})"))
            .unwrap_or_default();
        kv(&mut out, "image observed", &format!("{}{at}", obs.value));
    }
    kv(
        &mut out,
        "artifact",
        m.artifact
            .as_ref()
            .and_then(|a| a.reference.as_deref())
            .map_or("- (none: drift falls back to image_observed)", |s| s),
    );
    kv(
        &mut out,
        "source",
        &m.source.as_ref().map_or("-".to_string(), |s| {
            format!(
                "{} {}",
                s.kind.as_deref().unwrap_or("?"),
                s.repository.as_deref().unwrap_or("")
            )
        }),
    );
    kv(
        &mut out,
        "update",
        &m.update.as_ref().map_or("-".to_string(), |u| {
            let reason = u
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("{}{reason}", u.policy.as_deref().unwrap_or("?"))
        }),
    );
    if !findings.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("Findings"));
        let mut sources = catalog_sources(&catalog.root, &catalog.findings);
        for f in &findings {
            out.push_str(&render(f, &mut sources, &st.renderer()));
        }
    }
    output::print(&out);
    OK
}
