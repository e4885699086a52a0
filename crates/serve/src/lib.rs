//! `platformctl serve`: the fleet and the State Hub over HTTP, read-only (SPEC §11).
//!
//! - `/api/v1/…`: JSON, each body the very document the matching `--json` command prints
//!   (built by the same library calls: `platformctl-report` for the catalog, workplans and
//!   hub, `platformctl-drift` for drift and updates).
//! - `/`, `/modules/NAME`, `/coverage`, `/workstreams`, `/human`: server-rendered pages for a
//!   person (askama templates, no JavaScript), readable on a phone.
//! - `/metrics`: Prometheus text (`platformctl-report`'s metrics of the last drift run).
//!
//! Drift and updates are runs against the hosts: the last result is served, a fresh run is
//! made on request (`?fresh=true`) or every `--refresh` seconds, and only one run of each
//! kind is ever under way — askers during a run wait for its result ([`flight`]). Nothing
//! here can change a host or a file: only GET routes exist, observation is read-only by
//! construction, and an SQLite hub that does not exist is reported, never created.
//!
//! Binding to anything but loopback needs a bearer token ([`Config::token`], compared in
//! constant time); no secret value is ever served or logged.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use platformctl_catalog::Catalog;
use platformctl_drift::DriftCheckDoc;
use platformctl_drift::registry::UpdatesDoc;
use platformctl_hub::{CheckpointOptions, HubUrl};
use platformctl_observe::ProgressEvent;
use platformctl_report::{Failure, catalog, hub, workplans};
use serde::Deserialize;
use serde_json::Value;

pub mod flight;
mod web;

use flight::Flight;

/// How `serve` runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The platform repo.
    pub root: PathBuf,
    /// The State Hub (default: the repo's `state/hub.sqlite3`).
    pub hub: HubUrl,
    /// The process environment for compose interpolation (values never served).
    pub env: Vec<(String, String)>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The bearer token requests must carry (required off loopback).
    pub token: Option<String>,
    /// Run drift every so often (the first at start); `None`: on request only.
    pub refresh: Option<Duration>,
    /// Seconds each host may take (`--timeout`).
    pub timeout: Option<u64>,
    /// Hosts observed at once (`--concurrency`).
    pub concurrency: Option<usize>,
    /// Ask registries during drift runs (platform.toml's `[registry] check`, or `--no-registry`).
    pub registry: Option<bool>,
}

impl Config {
    /// Refuses what must not start: a non-loopback address without a token, an empty token.
    pub fn check(&self) -> Result<(), String> {
        if let Some(t) = &self.token
            && t.trim().is_empty()
        {
            return Err("the token file is empty".into());
        }
        if !self.listen.ip().is_loopback() && self.token.is_none() {
            return Err(format!(
                "{} is not a loopback address: serving beyond this machine needs --token-file \
                 (requests then carry `Authorization: Bearer <token>`)",
                self.listen
            ));
        }
        Ok(())
    }
}

/// Reads a token file: its first line, trimmed. The value is never shown.
pub fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(format!(
            "--token-file {}: the file is empty",
            path.display()
        ));
    }
    Ok(token)
}

/// A finished drift run.
pub struct DriftRun {
    /// The drift-check document, or why there is none.
    pub result: Result<DriftCheckDoc, Failure>,
    /// How long it took.
    pub seconds: f64,
    /// When it finished (Unix seconds).
    pub finished_at: f64,
}

/// A finished updates run.
pub struct UpdatesRun {
    /// The updates document, or why there is none.
    pub result: Result<UpdatesDoc, Failure>,
}

/// The server's state.
pub struct App {
    cfg: Config,
    token_digest: Option<[u8; 32]>,
    drift: Flight<DriftRun>,
    updates: Flight<UpdatesRun>,
    observations: Arc<Mutex<BTreeMap<String, u64>>>,
    runs: AtomicU64,
}

type Shared = Arc<App>;

impl App {
    /// A server for `cfg`.
    pub fn new(cfg: Config) -> Shared {
        let token_digest = cfg.token.as_deref().map(digest);
        Arc::new(App {
            cfg,
            token_digest,
            drift: Flight::default(),
            updates: Flight::default(),
            observations: Arc::default(),
            runs: AtomicU64::new(0),
        })
    }

    fn load(&self) -> Result<Catalog, Failure> {
        catalog::load(&self.cfg.root, false, self.cfg.env.clone(), false)
    }

    fn fleet_options(&self) -> platformctl_drift::FleetOptions {
        let mut opts =
            platformctl_drift::FleetOptions::from_flags(self.cfg.timeout, self.cfg.concurrency);
        let obs = self.observations.clone();
        opts.progress = Some(Arc::new(move |e: ProgressEvent| {
            if let ProgressEvent::Started { host } = e
                && let Ok(mut m) = obs.lock()
            {
                *m.entry(host).or_default() += 1;
            }
        }));
        opts
    }

    fn drift_blocking(&self) -> DriftRun {
        let start = Instant::now();
        self.runs.fetch_add(1, Ordering::Relaxed);
        let result = self
            .load()
            .and_then(|c| catalog::ready_for_hosts(c, false))
            .and_then(|catalog| {
                let mut opts = self.fleet_options();
                let registry = self.cfg.registry.unwrap_or(catalog.platform.registry.check);
                if registry {
                    opts.registry = Some(Default::default());
                }
                platformctl_drift::drift_check(&catalog, &[], None, &opts)
                    .map(|r| r.document())
                    .map_err(|e| Failure::new(e.to_string()))
            });
        DriftRun {
            result,
            seconds: start.elapsed().as_secs_f64(),
            finished_at: platformctl_report::metrics::now_seconds(),
        }
    }

    fn updates_blocking(&self) -> UpdatesRun {
        let result = self
            .load()
            .and_then(|c| catalog::ready_for_hosts(c, false))
            .and_then(|catalog| {
                platformctl_drift::registry::updates(
                    &catalog,
                    &[],
                    None,
                    &self.fleet_options(),
                    &Default::default(),
                )
                .map(|r| r.doc)
                .map_err(|e| Failure::new(e.to_string()))
            });
        UpdatesRun { result }
    }
}

/// Runs `f` on a thread of its own and waits for it without blocking the server; the run goes
/// on to the end even if the asker goes away.
async fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.expect("the run's thread answers")
}

/// A fresh drift run (or the one under way).
pub async fn fresh_drift(app: &Shared) -> Arc<DriftRun> {
    let a = app.clone();
    app.drift
        .fresh(move || async move { Arc::new(on_thread(move || a.drift_blocking()).await) })
        .await
}

pub(crate) async fn drift_run(app: &Shared, fresh: bool) -> Arc<DriftRun> {
    if fresh {
        return fresh_drift(app).await;
    }
    let a = app.clone();
    app.drift
        .last_or_fresh(move || async move { Arc::new(on_thread(move || a.drift_blocking()).await) })
        .await
}

async fn updates_run(app: &Shared, fresh: bool) -> Arc<UpdatesRun> {
    let a = app.clone();
    let start = move || async move { Arc::new(on_thread(move || a.updates_blocking()).await) };
    if fresh {
        app.updates.fresh(start).await
    } else {
        app.updates.last_or_fresh(start).await
    }
}

fn digest(s: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).into()
}

/// `Authorization: Bearer …` checked in constant time (over digests, so not even the length
/// of the token shows in the timing).
async fn auth(State(app): State<Shared>, req: Request, next: Next) -> Response {
    use subtle::ConstantTimeEq;
    let Some(want) = &app.token_digest else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| digest(t.trim()));
    let ok = given.is_some_and(|g| bool::from(g.ct_eq(want)));
    if ok {
        return next.run(req).await;
    }
    let mut resp = json_response(
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({
            "schema": "platformctl/serve-error/v1",
            "exitCode": 2,
            "error": {"message": "this server needs `Authorization: Bearer <token>` (the token of its --token-file)"},
        }),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"platformctl\""),
    );
    resp
}

/// A JSON document as the CLI prints it (pretty, one trailing newline).
fn json_response(status: StatusCode, doc: &impl serde::Serialize) -> Response {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// A document or the error document (status: 404 for what does not exist, 503 for an
/// unreachable hub or unloadable catalog).
fn doc_response(
    schema: &str,
    code: u8,
    r: Result<Value, Failure>,
    missing: StatusCode,
) -> Response {
    match r {
        Ok(doc) => json_response(StatusCode::OK, &doc),
        Err(f) => json_response(missing, &f.document(schema, code)),
    }
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a read does not panic")
}

async fn api_modules(State(app): State<Shared>) -> Response {
    let r = blocking(move || app.load().map(|c| catalog::modules_list(&c))).await;
    doc_response(
        catalog::MODULES_LIST_SCHEMA,
        2,
        r,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

async fn api_module(State(app): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let r = blocking(move || {
        let c = app
            .load()
            .map_err(|f| (f, StatusCode::SERVICE_UNAVAILABLE))?;
        catalog::modules_show(&c, &name).map_err(|f| (f, StatusCode::NOT_FOUND))
    })
    .await;
    match r {
        Ok(doc) => json_response(StatusCode::OK, &doc),
        Err((f, status)) => json_response(status, &f.document(catalog::MODULES_SHOW_SCHEMA, 2)),
    }
}

async fn api_coverage(State(app): State<Shared>) -> Response {
    let r = blocking(move || app.load().map(|c| catalog::coverage(&c))).await;
    doc_response(
        catalog::COVERAGE_SCHEMA,
        2,
        r,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

async fn api_validate(State(app): State<Shared>) -> Response {
    let r = blocking(move || {
        app.load().map(|c| {
            let v = catalog::validation(&c, None);
            catalog::validate(&c, &v, false)
        })
    })
    .await;
    doc_response(
        catalog::VALIDATE_SCHEMA,
        2,
        r,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

/// `?fresh=true` asks for a fresh run.
#[derive(Deserialize, Default)]
pub(crate) struct Fresh {
    #[serde(default)]
    fresh: bool,
}

async fn api_drift(State(app): State<Shared>, Query(q): Query<Fresh>) -> Response {
    let run = drift_run(&app, q.fresh).await;
    match &run.result {
        Ok(doc) => json_response(StatusCode::OK, doc),
        Err(f) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &f.document(
                platformctl_drift::doc::DRIFT_CHECK_SCHEMA,
                platformctl_drift::exit::USAGE,
            ),
        ),
    }
}

async fn api_updates(State(app): State<Shared>, Query(q): Query<Fresh>) -> Response {
    let run = updates_run(&app, q.fresh).await;
    match &run.result {
        Ok(doc) => json_response(StatusCode::OK, doc),
        Err(f) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &f.document(
                platformctl_drift::registry::UPDATES_SCHEMA,
                platformctl_drift::registry::exit::USAGE,
            ),
        ),
    }
}

/// A hub document from the server's (existing) hub.
pub(crate) fn hub_doc(
    app: &App,
    f: impl FnOnce(&HubUrl, &mut dyn platformctl_hub::Store) -> Result<Value, Failure>,
) -> Result<Value, Failure> {
    hub::from_existing(&app.cfg.hub, f)
}

async fn api_workstreams(State(app): State<Shared>) -> Response {
    let r = blocking(move || hub_doc(&app, hub::workstreams)).await;
    doc_response(
        hub::WORKSTREAMS_SCHEMA,
        2,
        r,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

#[derive(Deserialize, Default)]
struct TaskQuery {
    workplan: Option<String>,
    #[serde(default)]
    open: bool,
}

async fn api_tasks(State(app): State<Shared>, Query(q): Query<TaskQuery>) -> Response {
    let filter = hub::TaskFilter {
        workplan: q.workplan,
        open: q.open,
    };
    let r = blocking(move || hub_doc(&app, |u, s| hub::tasks(u, s, &filter))).await;
    doc_response(hub::TASKS_SCHEMA, 2, r, StatusCode::SERVICE_UNAVAILABLE)
}

async fn api_human(State(app): State<Shared>) -> Response {
    let r = blocking(move || hub_doc(&app, hub::human)).await;
    doc_response(hub::HUMAN_SCHEMA, 2, r, StatusCode::SERVICE_UNAVAILABLE)
}

#[derive(Deserialize)]
struct CheckpointQuery {
    days: Option<u32>,
    picks: Option<usize>,
}

async fn api_checkpoint(State(app): State<Shared>, Query(q): Query<CheckpointQuery>) -> Response {
    let opts = CheckpointOptions {
        days: q.days.unwrap_or(7),
        picks: q.picks.unwrap_or(10),
    };
    let r = blocking(move || hub_doc(&app, |u, s| hub::checkpoint(u, s, &opts))).await;
    doc_response(
        hub::CHECKPOINT_SCHEMA,
        2,
        r,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

async fn api_workplans(State(app): State<Shared>) -> Response {
    let r = blocking(move || {
        let paths = workplans::default_paths(&app.cfg.root)?;
        Ok(workplans::status_doc(&workplans::status(workplans::load(
            &paths,
        )?)))
    })
    .await;
    doc_response(
        workplans::STATUS_SCHEMA,
        2,
        r,
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

async fn api_workplan(State(app): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    let r = blocking(move || {
        if workplans::looks_like_path(&id) {
            return Err(Failure::new(format!("`{id}` is not a workplan id")));
        }
        let (w, findings) = workplans::find(&id, &workplans::default_paths(&app.cfg.root)?)?;
        Ok(workplans::show_doc(&workplans::shown_workplan(
            &w, &findings,
        )))
    })
    .await;
    doc_response(workplans::SHOW_SCHEMA, 2, r, StatusCode::NOT_FOUND)
}

/// The metrics text of the last drift run (none yet: only this server's counters).
pub async fn metrics_text(app: &Shared) -> String {
    let drift = app.drift.last().await;
    let updates = app.updates.last().await;
    let observations = app
        .observations
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    let runs = app.runs.load(Ordering::Relaxed);
    let doc = drift.as_ref().and_then(|d| d.result.as_ref().ok());
    platformctl_report::metrics::render(&platformctl_report::metrics::Input {
        drift: doc,
        run_seconds: drift.as_ref().filter(|_| doc.is_some()).map(|d| d.seconds),
        finished_at: drift
            .as_ref()
            .filter(|_| doc.is_some())
            .map(|d| d.finished_at),
        updates: updates.as_ref().and_then(|u| u.result.as_ref().ok()),
        observations: Some(&observations),
        runs: Some(runs),
    })
}

async fn metrics(State(app): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            platformctl_report::metrics::CONTENT_TYPE,
        )],
        metrics_text(&app).await,
    )
        .into_response()
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &serde_json::json!({
            "schema": "platformctl/serve-error/v1",
            "exitCode": 2,
            "error": {"message": "no such route; the API is under /api/v1/ (see docs/serve.md)"},
        }),
    )
}

/// The routes (GET only), behind the token check.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/api/v1/modules", get(api_modules))
        .route("/api/v1/modules/{name}", get(api_module))
        .route("/api/v1/coverage", get(api_coverage))
        .route("/api/v1/validate", get(api_validate))
        .route("/api/v1/drift", get(api_drift))
        .route("/api/v1/updates", get(api_updates))
        .route("/api/v1/workplans", get(api_workplans))
        .route("/api/v1/workplans/{id}", get(api_workplan))
        .route("/api/v1/hub/workstreams", get(api_workstreams))
        .route("/api/v1/hub/tasks", get(api_tasks))
        .route("/api/v1/hub/human", get(api_human))
        .route("/api/v1/hub/checkpoint", get(api_checkpoint))
        .route("/metrics", get(metrics))
        .merge(web::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), auth))
        .with_state(app)
}

/// Serves on `listener` until `shutdown` resolves; with `--refresh`, runs drift at start and
/// then every so often.
pub async fn serve(
    app: Shared,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Some(every) = app.cfg.refresh {
        let a = app.clone();
        tokio::spawn(async move {
            loop {
                let run = fresh_drift(&a).await;
                if let Err(f) = &run.result {
                    eprintln!(
                        "platformctl serve: drift run failed: {}",
                        f.message.trim_end()
                    );
                }
                tokio::time::sleep(every).await;
            }
        });
    }
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}

/// `platformctl serve`: checks the configuration, binds, and serves until SIGINT or SIGTERM.
pub fn run(cfg: Config) -> Result<(), String> {
    cfg.check()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        eprintln!(
            "platformctl serve: http://{addr}/ (API under /api/v1/, metrics at /metrics){}",
            if cfg.token.is_some() {
                "; requests need the bearer token"
            } else {
                ""
            }
        );
        let app = App::new(cfg);
        serve(app, listener, shutdown_signal())
            .await
            .map_err(|e| format!("serve: {e}"))
    })
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}
