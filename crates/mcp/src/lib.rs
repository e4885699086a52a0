//! `platformctl mcp`: the Model Context Protocol over stdio, for coding agents (SPEC §11).
//!
//! Every tool is read-only (annotated so) and returns, as structured content, the very JSON
//! document the matching `--json` command prints — built by the same library calls
//! (`platformctl-report`, `platformctl-drift`). A command that cannot answer becomes a tool
//! error whose structured content is the command's error document, with the same
//! `exitCode`. There is no apply tool: changing a host stays a person's gated decision.
//! Nothing but JSON-RPC is written to stdout; messages go to stderr.

use std::path::PathBuf;
use std::sync::Arc;

use platformctl_drift::doc::{DRIFT_CHECK_SCHEMA, PLAN_SCHEMA};
use platformctl_drift::registry::UPDATES_SCHEMA;
use platformctl_hub::{CheckpointOptions, HubUrl};
use platformctl_report::{Failure, catalog, hub, workplans};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// What the tools read.
#[derive(Clone, Debug)]
pub struct Config {
    /// The platform repo.
    pub root: PathBuf,
    /// The State Hub.
    pub hub: HubUrl,
    /// The process environment for compose interpolation.
    pub env: Vec<(String, String)>,
}

/// The server: its configuration and tool router.
#[derive(Clone)]
pub struct Platformctl {
    cfg: Arc<Config>,
    tool_router: ToolRouter<Self>,
}

/// No arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct NoArgs {}

/// `modules show`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ModuleArgs {
    /// The module (its folder under modules/).
    pub name: String,
}

/// `plan MODULE`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanArgs {
    /// The module.
    pub module: String,
    /// Seconds the host may take (default 30).
    pub timeout: Option<u64>,
}

/// `drift-check [MODULE…] [--host H] [--registry]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct DriftCheckArgs {
    /// Modules to check (default: every module).
    #[serde(default)]
    pub modules: Vec<String>,
    /// Only the modules on this host.
    pub host: Option<String>,
    /// Ask the registries too (default: platform.toml's `[registry] check`).
    pub registry: Option<bool>,
    /// Seconds each host may take (default 30).
    pub timeout: Option<u64>,
}

/// `updates [MODULE…] [--host H]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UpdatesArgs {
    /// Modules to ask about (default: every module).
    #[serde(default)]
    pub modules: Vec<String>,
    /// Only the modules on this host.
    pub host: Option<String>,
}

/// `workplan show ID`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WorkplanArgs {
    /// The workplan's id (e.g. OPS-WP-0007).
    pub workplan: String,
}

/// `hub checkpoint`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct CheckpointArgs {
    /// "Completed recently" means within this many days (default 7).
    pub days: Option<u32>,
    /// How many next picks to list (default 10).
    pub picks: Option<usize>,
}

/// A command's answer as a tool result: the document, or the error document as a tool error.
fn answer(schema: &str, code: u8, r: Result<Value, Failure>) -> CallToolResult {
    match r {
        Ok(doc) => CallToolResult::structured(doc),
        Err(f) => CallToolResult::structured_error(f.document(schema, code)),
    }
}

/// Runs blocking work (file reads, host observation) on a thread of its own.
async fn off<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.expect("the tool's thread answers")
}

fn to_value(doc: &impl serde::Serialize) -> Result<Value, Failure> {
    serde_json::to_value(doc).map_err(|e| Failure::new(e.to_string()))
}

impl Platformctl {
    fn load(&self) -> Result<platformctl_catalog::Catalog, Failure> {
        catalog::load(&self.cfg.root, false, self.cfg.env.clone(), false)
    }

    fn for_hosts(&self) -> Result<platformctl_catalog::Catalog, Failure> {
        catalog::ready_for_hosts(self.load()?, false)
    }

    fn hub_doc(
        &self,
        f: impl FnOnce(&HubUrl, &mut dyn platformctl_hub::Store) -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        hub::from_existing(&self.cfg.hub, f)
    }
}

#[tool_router(router = tool_router)]
impl Platformctl {
    /// A server reading `cfg`.
    pub fn new(cfg: Config) -> Self {
        Platformctl {
            cfg: Arc::new(cfg),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Validate the platform catalog (manifests, compose files, inventory). Returns platformctl/validate/v1: exitCode 0 valid, 1 error findings, 2 a file could not be read; findings with file, line, column.",
        annotations(title = "validate", read_only_hint = true, open_world_hint = false)
    )]
    async fn validate(&self, _a: Parameters<NoArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || {
            s.load().map(|c| {
                let v = catalog::validation(&c, None);
                catalog::validate(&c, &v, false)
            })
        })
        .await;
        answer(catalog::VALIDATE_SCHEMA, 2, r)
    }

    #[tool(
        description = "Metadata coverage: which modules declare spec.source, spec.artifact and spec.update, with the missing lists. Returns platformctl/coverage/v1.",
        annotations(title = "coverage", read_only_hint = true, open_world_hint = false)
    )]
    async fn coverage(&self, _a: Parameters<NoArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || s.load().map(|c| catalog::coverage(&c))).await;
        answer(catalog::COVERAGE_SCHEMA, 2, r)
    }

    #[tool(
        description = "The module catalog: every module with tier, host, compose service, desired image and metadata presence. Returns platformctl/modules-list/v1.",
        annotations(title = "modules list", read_only_hint = true, open_world_hint = false)
    )]
    async fn modules_list(&self, _a: Parameters<NoArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || s.load().map(|c| catalog::modules_list(&c))).await;
        answer(catalog::MODULES_LIST_SCHEMA, 2, r)
    }

    #[tool(
        description = "One module: its manifest, compose service, expected container name and findings. Returns platformctl/modules-show/v2.",
        annotations(title = "modules show", read_only_hint = true, open_world_hint = false)
    )]
    async fn modules_show(&self, a: Parameters<ModuleArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || s.load().and_then(|c| catalog::modules_show(&c, &a.0.name))).await;
        answer(catalog::MODULES_SHOW_SCHEMA, 2, r)
    }

    #[tool(
        description = "Read-only drift of one module against its live host (observes the host over SSH or its Docker socket; changes nothing). Returns platformctl/plan/v1: exitCode 0 in sync, 1 drift, 2 error or unreachable.",
        annotations(title = "plan", read_only_hint = true, open_world_hint = true)
    )]
    async fn plan(&self, a: Parameters<PlanArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || {
            let c = s.for_hosts()?;
            let opts = platformctl_drift::FleetOptions::from_flags(a.0.timeout, None);
            platformctl_drift::plan(&c, &a.0.module, &opts)
                .map_err(|e| Failure::new(e.to_string()))
                .and_then(|run| to_value(&run.document()))
        })
        .await;
        answer(PLAN_SCHEMA, platformctl_drift::exit::plan::ERROR, r)
    }

    #[tool(
        description = "Read-only drift of the fleet (every module, or those named, or those on one host): observes each host once, changes nothing. Returns platformctl/drift-check/v2: exitCode 0 in sync, 2 drift, 5 no host answered, 8 partial, 1 usage error.",
        annotations(title = "drift-check", read_only_hint = true, open_world_hint = true)
    )]
    async fn drift_check(&self, a: Parameters<DriftCheckArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || {
            let c = s.for_hosts()?;
            let mut opts = platformctl_drift::FleetOptions::from_flags(a.0.timeout, None);
            if a.0.registry.unwrap_or(c.platform.registry.check) {
                opts.registry = Some(Default::default());
            }
            platformctl_drift::drift_check(&c, &a.0.modules, a.0.host.as_deref(), &opts)
                .map_err(|e| Failure::new(e.to_string()))
                .and_then(|run| to_value(&run.document()))
        })
        .await;
        answer(DRIFT_CHECK_SCHEMA, platformctl_drift::exit::USAGE, r)
    }

    #[tool(
        description = "Registry truth and newer releases on each module's tag track (reads the hosts and the registries; changes nothing). Returns platformctl/updates/v1: exitCode 0 all current, 2 updates available, 8 some registries did not answer.",
        annotations(title = "updates", read_only_hint = true, open_world_hint = true)
    )]
    async fn updates(&self, a: Parameters<UpdatesArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || {
            let c = s.for_hosts()?;
            platformctl_drift::registry::updates(
                &c,
                &a.0.modules,
                a.0.host.as_deref(),
                &platformctl_drift::FleetOptions::default(),
                &Default::default(),
            )
            .map_err(|e| Failure::new(e.to_string()))
            .and_then(|run| to_value(&run.doc))
        })
        .await;
        answer(UPDATES_SCHEMA, platformctl_drift::registry::exit::USAGE, r)
    }

    #[tool(
        description = "Every workplan of the platform repo with its open state (`1 wait, 2 progress, 5 todo, 2 done`). Returns platformctl/workplan-status/v1.",
        annotations(
            title = "workplan status",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn workplan_status(&self, _a: Parameters<NoArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || {
            let paths = workplans::default_paths(&s.cfg.root)?;
            Ok(workplans::status_doc(&workplans::status(workplans::load(
                &paths,
            )?)))
        })
        .await;
        answer(workplans::STATUS_SCHEMA, 2, r)
    }

    #[tool(
        description = "One workplan's tasks (id, title, status, priority, needs_human, line) and the task to pick next. Returns platformctl/workplan-show/v1.",
        annotations(
            title = "workplan show",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn workplan_show(&self, a: Parameters<WorkplanArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || {
            let id = a.0.workplan;
            if workplans::looks_like_path(&id) {
                return Err(Failure::new(format!(
                    "`{id}` is not a workplan id (this tool reads the platform repo's workplans/)"
                )));
            }
            let (w, f) = workplans::find(&id, &workplans::default_paths(&s.cfg.root)?)?;
            Ok(workplans::show_doc(&workplans::shown_workplan(&w, &f)))
        })
        .await;
        answer(workplans::SHOW_SCHEMA, 2, r)
    }

    #[tool(
        description = "Open tasks waiting for a person, from the State Hub. Returns platformctl/hub-human/v1.",
        annotations(title = "hub human", read_only_hint = true, open_world_hint = false)
    )]
    async fn hub_human(&self, _a: Parameters<NoArgs>) -> CallToolResult {
        let s = self.clone();
        let r = off(move || s.hub_doc(hub::human)).await;
        answer(hub::HUMAN_SCHEMA, 2, r)
    }

    #[tool(
        description = "A pickup checkpoint from the State Hub: active workstreams, human gates, recently completed tasks, next picks. Returns platformctl/hub-checkpoint/v1.",
        annotations(
            title = "hub checkpoint",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn hub_checkpoint(&self, a: Parameters<CheckpointArgs>) -> CallToolResult {
        let s = self.clone();
        let opts = CheckpointOptions {
            days: a.0.days.unwrap_or(7),
            picks: a.0.picks.unwrap_or(10),
        };
        let r = off(move || s.hub_doc(|u, st| hub::checkpoint(u, st, &opts))).await;
        answer(hub::CHECKPOINT_SCHEMA, 2, r)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Platformctl {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "platformctl",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "platformctl's read-only tools: the catalog (validate, coverage, modules), live \
                 drift (plan, drift_check, updates: they observe hosts and registries, never \
                 change them), workplans and the State Hub. Each returns the JSON document of \
                 the matching `platformctl … --json` command; exitCode carries its verdict.",
            )
    }
}

/// Serves MCP on stdin/stdout until the client closes it.
pub fn run(cfg: Config) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))?;
    rt.block_on(async move {
        let service = Platformctl::new(cfg)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("mcp: {e}"))?;
        service.waiting().await.map_err(|e| format!("mcp: {e}"))?;
        Ok(())
    })
}
