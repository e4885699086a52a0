//! `platformctl modules list | show NAME [--json]`.

use std::fmt::Write as _;

use platformctl_catalog::{Catalog, Module, Severity};
use serde_json::json;

use crate::cli::{Cli, ModulesCommand};
use crate::diag::{catalog_sources, render};
use crate::output::{self, ERROR, Fatal, OK};
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
        ModulesCommand::List { json } => list(&catalog, *json, schema, &Style::new(cli.color)),
        ModulesCommand::Show { name, json } => {
            show(&catalog, name, *json, schema, &Style::new(cli.color))
        }
    }
}

/// The image a module intends to run: the artifact, else the audit snapshot.
fn desired_image(m: &Module) -> Option<&str> {
    m.artifact
        .as_ref()
        .and_then(|a| a.reference.as_deref())
        .map(String::as_str)
        .or(m.runtime.image_observed.as_deref().map(String::as_str))
}

fn list(catalog: &Catalog, json: bool, schema: &str, st: &Style) -> u8 {
    if json {
        let modules: Vec<_> = catalog
            .modules
            .iter()
            .map(|lm| match &lm.module {
                Some(m) => json!({
                    "name": m.name,
                    "tier": m.tier,
                    "host": m.runtime.host,
                    "orchestrator": m.runtime.orchestrator,
                    "composeFile": m.runtime.compose_file,
                    "composeService": m.runtime.compose_service,
                    "desiredState": m.runtime.desired_state,
                    "stateful": m.stateful,
                    "image": desired_image(m),
                    "source": m.source.is_some(),
                    "artifact": m.artifact.is_some(),
                    "update": m.update.is_some(),
                    "valid": !catalog.module_has_errors(&lm.dir),
                }),
                None => json!({ "name": lm.dir, "valid": false }),
            })
            .collect();
        output::print_json(&json!({
            "schema": schema,
            "exitCode": OK,
            "modules": modules,
        }));
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
    let Some(lm) = catalog.modules.iter().find(|m| m.dir == name) else {
        let known: Vec<&str> = catalog.modules.iter().map(|m| m.dir.as_str()).collect();
        let hint = platformctl_diagnostics::did_you_mean(name, &known)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        return output::fatal(
            schema,
            json,
            &Fatal {
                message: format!("no module `{name}` in the catalog{hint}"),
                finding: None,
            },
            ERROR,
        );
    };
    let findings: Vec<_> = catalog.findings_of(&lm.dir).collect();
    let m = lm.module.as_ref();
    let expected_container =
        m.and_then(|m| m.expected_container_name(&catalog.platform.compose_project));
    let compose = m.and_then(|m| catalog.compose_of(m)).and_then(|cf| {
        let svc = cf.service(m?.runtime.compose_service.as_deref()?)?;
        Some(svc)
    });
    if json {
        output::print_json(&json!({
            "schema": schema,
            "exitCode": OK,
            "module": m,
            "expectedContainerName": expected_container,
            "compose": compose,
            "valid": !findings.iter().any(|f| f.severity == Severity::Error),
            "findings": findings,
        }));
        return OK;
    }
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
