//! The web view: server-rendered pages (askama, no JavaScript) of the same documents the API
//! serves — fleet drift by host, a module's facts and evidence, coverage, workstreams, human
//! gates. Everything shown is escaped by askama; no secret value is in any document.

use askama::Template;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use platformctl_drift::doc::ModuleDoc;
use platformctl_report::{catalog, hub};
use serde_json::Value;

use crate::{Fresh, Shared, blocking, drift_run, hub_doc};

fn page(t: &impl Template, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}")).into_response(),
    }
}

struct Change {
    code: String,
    field: String,
    desired: String,
    observed: String,
}

struct FleetModule {
    name: String,
    status: String,
    evidence: String,
    changes: Vec<Change>,
    accepted: usize,
    warnings: Vec<String>,
}

struct FleetHost {
    name: String,
    detail: String,
    modules: Vec<FleetModule>,
}

#[derive(Template)]
#[template(path = "fleet.html")]
struct FleetPage {
    error: Option<String>,
    summary: String,
    seconds: String,
    exit_code: u8,
    hosts: Vec<FleetHost>,
}

fn changes_of(m: &ModuleDoc) -> Vec<Change> {
    m.changes
        .iter()
        .map(|c| Change {
            code: c.code.clone(),
            field: c.field.clone(),
            desired: c.desired.clone(),
            observed: c.observed.clone(),
        })
        .collect()
}

async fn fleet(State(app): State<Shared>, Query(q): Query<Fresh>) -> Response {
    let run = drift_run(&app, q.fresh).await;
    let doc = match &run.result {
        Ok(d) => d,
        Err(f) => {
            let msg = one_message(&f.message);
            return page(
                &FleetPage {
                    error: Some(msg),
                    summary: String::new(),
                    seconds: String::new(),
                    exit_code: 1,
                    hosts: Vec::new(),
                },
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    let mut hosts: Vec<FleetHost> = doc
        .hosts
        .iter()
        .map(|h| FleetHost {
            name: h.name.clone(),
            detail: if h.reachable {
                format!("answered via {} in {} ms", h.via, h.elapsed_ms)
            } else {
                format!("no answer: {}", h.error.as_deref().unwrap_or("unreachable"))
            },
            modules: Vec::new(),
        })
        .collect();
    for m in &doc.modules {
        let host = m.host.clone().unwrap_or_else(|| "(no host)".into());
        let host_error = doc
            .hosts
            .iter()
            .find(|h| h.name == host)
            .and_then(|h| h.error.clone());
        let idx = match hosts.iter().position(|h| h.name == host) {
            Some(i) => i,
            None => {
                hosts.push(FleetHost {
                    name: host,
                    detail: "not observed".into(),
                    modules: Vec::new(),
                });
                hosts.len() - 1
            }
        };
        hosts[idx].modules.push(FleetModule {
            name: m.module.clone(),
            status: m.status.clone(),
            // A host's error is shown once, with the host, not on each of its modules.
            evidence: m.evidence.as_ref().map_or_else(
                || {
                    m.error
                        .clone()
                        .filter(|e| Some(e) != host_error.as_ref())
                        .unwrap_or_default()
                },
                |e| format!("{} {} {}", e.container, e.state, e.image_ref),
            ),
            changes: changes_of(m),
            accepted: m.accepted.len(),
            warnings: m
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.code, w.message))
                .collect(),
        });
    }
    hosts.retain(|h| !h.modules.is_empty());
    let s = &doc.summary;
    page(
        &FleetPage {
            error: None,
            summary: format!(
                "{} modules: {} in sync, {} drift, {} unreachable, {} skipped, {} error",
                s.total, s.in_sync, s.drift, s.unreachable, s.skipped, s.error
            ),
            seconds: format!("{:.2}", run.seconds),
            exit_code: doc.exit_code,
            hosts,
        },
        StatusCode::OK,
    )
}

/// A failure's message for a page (built without colour for serve).
fn one_message(s: &str) -> String {
    s.trim_end().to_string()
}

struct Accepted {
    code: String,
    field: String,
    reason: String,
    until: String,
    days_left: i64,
}

#[derive(Template)]
#[template(path = "module.html")]
struct ModulePage {
    name: String,
    manifest: Vec<(String, String)>,
    compose: Vec<(String, String)>,
    status: Option<String>,
    evidence: Vec<(String, String)>,
    changes: Vec<Change>,
    accepted: Vec<Accepted>,
    warnings: Vec<String>,
    registry: Option<String>,
    findings: Vec<String>,
}

async fn module(State(app): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let a = app.clone();
    let n = name.clone();
    let facts = blocking(move || {
        let c = a.load()?;
        let facts = catalog::module_facts(&c, &n)?;
        let findings: Vec<String> = facts
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}:{}:{} {}",
                    f.code.as_str(),
                    f.file.display(),
                    f.line,
                    f.column,
                    f.message
                )
            })
            .collect();
        let opt = |v: Option<&str>| v.unwrap_or("-").to_string();
        let mut manifest = Vec::new();
        let mut compose = Vec::new();
        if let Some(m) = &facts.loaded.module {
            manifest.push(("file".into(), m.file.display().to_string()));
            manifest.push(("tier".into(), opt(m.tier.map(|t| t.as_str()))));
            manifest.push(("owner".into(), opt(m.owner.as_deref())));
            manifest.push((
                "stateful".into(),
                if m.stateful { "yes" } else { "no" }.into(),
            ));
            manifest.push((
                "host".into(),
                opt(m.runtime.host.as_deref().map(String::as_str)),
            ));
            manifest.push((
                "desired state".into(),
                format!("{:?}", m.runtime.desired_state).to_lowercase(),
            ));
            manifest.push(("image".into(), opt(catalog::desired_image(m))));
            manifest.push((
                "source".into(),
                opt(m.source.as_ref().and_then(|s| s.repository.as_deref())),
            ));
            manifest.push((
                "update policy".into(),
                opt(m.update.as_ref().and_then(|u| u.policy.as_deref())),
            ));
            if let Some(svc) = facts.compose {
                compose.push((
                    "file".into(),
                    opt(m.runtime.compose_file.as_deref().map(String::as_str)),
                ));
                compose.push(("service".into(), svc.name.clone()));
                compose.push((
                    "image".into(),
                    opt(svc.image.as_ref().map(|i| i.value.as_str())),
                ));
                compose.push(("container".into(), opt(facts.expected_container.as_deref())));
            }
        }
        Ok::<_, platformctl_report::Failure>((manifest, compose, findings))
    })
    .await;
    let (manifest, compose, findings) = match facts {
        Ok(x) => x,
        Err(f) => {
            return (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                f.message,
            )
                .into_response();
        }
    };
    let run = app.drift.last().await;
    let live: Option<&ModuleDoc> = run
        .as_ref()
        .and_then(|r| r.result.as_ref().ok())
        .and_then(|d| d.modules.iter().find(|m| m.module == name));
    let mut p = ModulePage {
        name,
        manifest,
        compose,
        status: None,
        evidence: Vec::new(),
        changes: Vec::new(),
        accepted: Vec::new(),
        warnings: Vec::new(),
        registry: None,
        findings,
    };
    if let Some(m) = live {
        p.status = Some(m.status.clone());
        if let Some(e) = &m.evidence {
            p.evidence = vec![
                ("container".into(), e.container.clone()),
                ("state".into(), e.state.clone()),
                (
                    "health".into(),
                    e.health.clone().unwrap_or_else(|| "-".into()),
                ),
                ("image".into(), e.image_ref.clone()),
                ("image id".into(), e.image_id.clone()),
                (
                    "repo digest".into(),
                    e.repo_digest.clone().unwrap_or_else(|| "-".into()),
                ),
                ("replicas".into(), e.replicas.to_string()),
            ];
        } else if let Some(err) = &m.error {
            p.evidence = vec![("error".into(), err.clone())];
        }
        p.changes = changes_of(m);
        p.accepted = m
            .accepted
            .iter()
            .map(|a| Accepted {
                code: a.code.clone(),
                field: a.field.clone(),
                reason: a.reason.clone(),
                until: a.until.clone(),
                days_left: a.days_left,
            })
            .collect();
        p.warnings = m
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.code, w.message))
            .collect();
        p.registry = m.registry.as_ref().map(|r| {
            let newer: Vec<&str> = r.newer.iter().map(|n| n.tag.as_str()).collect();
            format!(
                "{} {}{}",
                r.status,
                r.reference,
                if newer.is_empty() {
                    String::new()
                } else {
                    format!(" (newer: {})", newer.join(", "))
                }
            )
        });
    }
    page(&p, StatusCode::OK)
}

struct PartRow {
    name: String,
    with: usize,
    missing: Vec<String>,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    total: usize,
    parts: Vec<PartRow>,
}

async fn coverage(State(app): State<Shared>) -> Response {
    let r = blocking(move || app.load().map(|c| platformctl_catalog::coverage(&c))).await;
    match r {
        Ok(cov) => page(
            &CoveragePage {
                total: cov.total_modules,
                parts: cov
                    .parts
                    .iter()
                    .map(|(part, pc)| PartRow {
                        name: part.as_str().to_string(),
                        with: pc.with,
                        missing: pc.missing_modules.clone(),
                    })
                    .collect(),
            },
            StatusCode::OK,
        ),
        Err(f) => (StatusCode::SERVICE_UNAVAILABLE, f.message).into_response(),
    }
}

fn rows(
    doc: &Value,
    list: &str,
    keys: [&str; 6],
) -> Vec<(String, String, String, String, String, String)> {
    doc[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let t = |i: usize| platformctl_report::cell(&r[keys[i]]);
            (t(0), t(1), t(2), t(3), t(4), t(5))
        })
        .collect()
}

type Row6 = (String, String, String, String, String, String);

#[derive(Template)]
#[template(path = "workstreams.html")]
struct WorkstreamsPage {
    error: Option<String>,
    rows: Vec<Row6>,
}

async fn workstreams(State(app): State<Shared>) -> Response {
    let r = blocking(move || hub_doc(&app, hub::workstreams)).await;
    let (error, rows) = match r {
        Ok(doc) => (
            None,
            rows(
                &doc,
                "workstreams",
                [
                    "workplanId",
                    "status",
                    "planningPriority",
                    "openState",
                    "needsHuman",
                    "title",
                ],
            ),
        ),
        Err(f) => (Some(f.message), Vec::new()),
    };
    page(&WorkstreamsPage { error, rows }, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "human.html")]
struct HumanPage {
    error: Option<String>,
    rows: Vec<Row6>,
}

async fn human(State(app): State<Shared>) -> Response {
    let r = blocking(move || hub_doc(&app, hub::human)).await;
    let (error, rows) = match r {
        Ok(doc) => (
            None,
            rows(
                &doc,
                "gates",
                ["taskKey", "status", "workplanId", "at", "by", "reason"],
            ),
        ),
        Err(f) => (Some(f.message), Vec::new()),
    };
    page(&HumanPage { error, rows }, StatusCode::OK)
}

/// The pages.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(fleet))
        .route("/modules/{name}", get(module))
        .route("/coverage", get(coverage))
        .route("/workstreams", get(workstreams))
        .route("/human", get(human))
}
