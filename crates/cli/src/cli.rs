//! The command line: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// platformctl: the control plane of a self-hosted platform of Docker Compose modules.
///
/// Validates the catalog in git, reports metadata coverage, and (read-only) tells what the
/// live hosts run apart from what the catalog declares.
#[derive(Debug, Parser)]
#[command(name = "platformctl", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The platform repo (the folder holding platform.toml); default: walk up from here.
    #[arg(long, global = true, env = "PLATFORM_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// When to colour human output (NO_COLOR in the environment means never).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests, compose files and the inventory (exit 0 valid, 1 findings, 2 error).
    Validate(ValidateArgs),
    /// Metadata readiness: which modules declare source, artifact and update.
    Coverage(CoverageArgs),
    /// The module catalog.
    #[command(subcommand)]
    Modules(ModulesCommand),
    /// Read-only drift of one module against its host (exit 0 in sync, 1 drift, 2 error).
    Plan(PlanArgs),
    /// Read-only drift of the fleet (exit 0 in sync, 2 drift, 5 no host answered, 8 partial,
    /// 1 usage or config error).
    DriftCheck(DriftCheckArgs),
    /// Registry truth and newer releases on each module's tag track (exit 0 all current, 2
    /// updates available, 8 some registries did not answer, 1 usage or config error).
    Updates(UpdatesArgs),
    /// Acknowledge a current difference of a module for a while (SPEC §9): writes a
    /// `spec.drift.accept` entry into its module.yaml (exit 0 written, 2 error).
    Ack(AckArgs),
    /// Apply a saved plan (`plan MODULE --out FILE`) to its host, gated: refused when stale,
    /// unapproved or not applicable (exit 0 applied and verified, 3 refused, 4 applied but not
    /// verified, 2 error).
    Apply(ApplyArgs),
    /// JSON Schemas: of module.yaml for editors (yaml-language-server), and of every --json
    /// document.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Workplans: status and lint (exit 0 clean, 1 findings, 2 error for lint).
    #[command(subcommand)]
    Workplan(WorkplanCommand),
    /// The State Hub: sync workplans into it, check it, what waits for a person, checkpoint.
    Hub(HubArgs),
    /// Module metadata: `derive` fills source, artifact and update from evidence (exit 0
    /// nothing left to derive or all written, 1 proposals not written or modules refused, 2
    /// error).
    #[command(subcommand)]
    Metadata(MetadataCommand),
    /// Serve the fleet and the State Hub, read-only: JSON under /api/v1/ (the --json
    /// documents), a web view, and /metrics (runs until SIGINT/SIGTERM; exit 2 if it cannot
    /// start).
    Serve(ServeArgs),
    /// The Model Context Protocol over stdio for coding agents: read-only tools returning the
    /// --json documents (see docs/serve.md for registering it).
    Mcp(McpArgs),
    /// Shell completion script for SHELL, on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs --token-file.
    #[arg(long, default_value = "127.0.0.1:7400", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// A file whose first line is the bearer token requests must carry.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Run drift at start and then every SECS seconds (default: only when asked, with
    /// /api/v1/drift?fresh=true, or when no run has been made yet).
    #[arg(long, value_name = "SECS")]
    pub refresh: Option<u64>,
    /// The State Hub: sqlite:PATH or postgres://… (default: <platform root>/state/hub.sqlite3).
    #[arg(
        long,
        env = "PLATFORMCTL_HUB",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub hub: Option<String>,
    /// Seconds each host may take in a drift run; default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Hosts observed at the same time; default 8.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Never ask registries during drift runs, whatever platform.toml says.
    #[arg(long)]
    pub no_registry: bool,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The State Hub: sqlite:PATH or postgres://… (default: <platform root>/state/hub.sqlite3).
    #[arg(
        long,
        env = "PLATFORMCTL_HUB",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub hub: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// `all` (the default), or module folders, manifests or compose files to report on.
    #[arg(value_name = "all | PATH")]
    pub paths: Vec<PathBuf>,
    /// Unknown fields are errors, not warnings.
    #[arg(long)]
    pub strict_v2: bool,
    /// One JSON document on stdout (schema platformctl/validate/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The module.
    pub module: String,
    /// One JSON document on stdout (schema platformctl/plan/v2).
    #[arg(long)]
    pub json: bool,
    /// Also write the plan document to FILE, or to DIR/<module>.plan.json, with the binding
    /// `apply` needs (what was observed, file digests, git commit, expiry, host commands).
    #[arg(long, value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,
    /// Seconds the host may take in all (connect, ask, close); default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The module.
    pub module: String,
    /// The change code to acknowledge (CONFIG_ENV, IMAGE_TAG_MISMATCH, …).
    pub code: String,
    /// The change's field (env.LOG_LEVEL, ports, …); needed when the module has several
    /// changes of that code.
    #[arg(long)]
    pub field: Option<String>,
    /// Why the difference is accepted (required).
    #[arg(long)]
    pub reason: String,
    /// The last day it is accepted, YYYY-MM-DD (default: 30 days from today; at most 180).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// One JSON document on stdout (schema platformctl/ack/v1).
    #[arg(long)]
    pub json: bool,
    /// Seconds the host may take in all; default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The saved plan (`platformctl plan MODULE --out FILE`).
    pub plan: PathBuf,
    /// Apply without asking (otherwise a typed `yes` on a terminal; refused when there is
    /// none).
    #[arg(long)]
    pub approve: bool,
    /// Wait for another apply on the same host instead of failing.
    #[arg(long)]
    pub wait: bool,
    /// The State Hub whose history also records the attempt: sqlite:PATH or postgres://…
    /// (default: <platform root>/state/hub.sqlite3 when it exists).
    #[arg(
        long,
        env = "PLATFORMCTL_HUB",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub hub: Option<String>,
    /// One JSON document on stdout (schema platformctl/apply/v1).
    #[arg(long)]
    pub json: bool,
    /// Seconds each observation of the host may take; default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct DriftCheckArgs {
    /// Modules to check (default: every module).
    #[arg(value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Only the modules of this host.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// One JSON document on stdout (schema platformctl/drift-check/v2).
    #[arg(long)]
    pub json: bool,
    /// Seconds each host may take in all (connect, ask, close); default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Hosts observed at the same time; default 8.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Also ask each module's registry what its tag means now (read-only; never changes a
    /// verdict or the exit code). The default when platform.toml says `[registry] check = true`.
    #[arg(long, conflicts_with = "no_registry")]
    pub registry: bool,
    /// Do not ask the registries, even when platform.toml says `[registry] check = true`.
    #[arg(long)]
    pub no_registry: bool,
    /// When asking the registries: ask again instead of reusing cached answers.
    #[arg(long, conflicts_with = "no_registry")]
    pub refresh: bool,
    /// Also write the run's Prometheus metrics to PATH, atomically (for node_exporter's
    /// textfile collector).
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpdatesArgs {
    /// Modules to check (default: every module).
    #[arg(value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Only the modules of this host.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Ask the registries again instead of reusing cached answers.
    #[arg(long)]
    pub refresh: bool,
    /// One JSON document on stdout (schema platformctl/updates/v1).
    #[arg(long)]
    pub json: bool,
    /// Seconds each host may take in all; default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// One JSON document on stdout (schema platformctl/coverage/v1).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// A Markdown snapshot to paste into a planning document.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModulesCommand {
    /// One line per module.
    List {
        /// One JSON document on stdout (schema platformctl/modules-list/v1).
        #[arg(long)]
        json: bool,
    },
    /// Everything the catalog says about one module.
    Show {
        /// The module's name.
        name: String,
        /// One JSON document on stdout (schema platformctl/modules-show/v2).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// The JSON Schema of module.yaml (platform/v2).
    Module,
    /// `validate --json` (platformctl/validate/v1).
    Validate,
    /// `coverage --json` (platformctl/coverage/v1).
    Coverage,
    /// `modules list --json` (platformctl/modules-list/v1).
    ModulesList,
    /// `modules show --json` (platformctl/modules-show/v2).
    ModulesShow,
    /// `plan --json` and `plan --out` (platformctl/plan/v2).
    Plan,
    /// `drift-check --json` (platformctl/drift-check/v2).
    DriftCheck,
    /// `updates --json` (platformctl/updates/v1).
    Updates,
    /// `apply --json` (platformctl/apply/v1).
    Apply,
    /// `workplan status --json` (platformctl/workplan-status/v1).
    WorkplanStatus,
    /// `workplan lint --json` (platformctl/workplan-lint/v1).
    WorkplanLint,
    /// `workplan show --json` (platformctl/workplan-show/v1).
    WorkplanShow,
    /// `hub sync --json` (platformctl/hub-sync/v1).
    HubSync,
    /// `hub check --json` (platformctl/hub-check/v1).
    HubCheck,
    /// `hub human --json` (platformctl/hub-human/v1).
    HubHuman,
    /// `hub checkpoint --json` (platformctl/hub-checkpoint/v1).
    HubCheckpoint,
    /// `hub workstreams --json` (platformctl/hub-workstreams/v1).
    HubWorkstreams,
    /// `hub tasks --json` (platformctl/hub-tasks/v1).
    HubTasks,
    /// `metadata derive --json` (platformctl/metadata-derive/v1).
    MetadataDerive,
}

#[derive(Debug, Subcommand)]
pub enum WorkplanCommand {
    /// Per workplan its status and open tasks (`1 wait, 2 progress, 5 todo, 2 done`), in one
    /// table ordered by planning priority and order.
    Status(WorkplanArgs),
    /// The consistency rules C-01 … C-09 and C-13 with file:line (exit 0 clean, 1 findings,
    /// 2 error).
    Lint(WorkplanArgs),
    /// One workplan's tasks (id, title, status, priority, needs_human, line) and the next one
    /// to pick (exit 0, 2 no such workplan).
    Show(WorkplanShowArgs),
}

#[derive(Debug, Args)]
pub struct WorkplanShowArgs {
    /// A workplan id (OPS-WP-0007) or the path of a workplan file.
    #[arg(value_name = "ID|PATH")]
    pub workplan: String,
    /// Where to look the id up: workplan files, folders of workplans, or repo roots holding
    /// workplans/ (default: the platform repo's workplans/).
    #[arg(long = "in", value_name = "PATH")]
    pub within: Vec<PathBuf>,
    /// One JSON document on stdout (schema platformctl/workplan-show/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorkplanArgs {
    /// Workplan files, folders of workplans, or repo roots holding workplans/ (default: the
    /// platform repo's workplans/).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// One JSON document on stdout (schema platformctl/workplan-status/v1 or
    /// platformctl/workplan-lint/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HubArgs {
    /// The hub: sqlite:PATH or postgres://USER@HOST[:PORT]/DB (default:
    /// sqlite:<platform root>/state/hub.sqlite3).
    #[arg(
        long,
        global = true,
        env = "PLATFORMCTL_HUB",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub hub: Option<String>,
    /// Who is acting, for the history and needs_human (default: $USER).
    #[arg(long, global = true, env = "PLATFORMCTL_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: HubCommand,
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Files → hub: files own status, title and notes; new ids are written back into the
    /// files (exit 0 synced, 1 some workplans skipped or ids not written, 2 error).
    Sync(HubSyncArgs),
    /// Lint rules plus C-10 (hub row differs from its file), C-11 (not registered) and C-12
    /// (orphan row) (exit 0 clean, 1 findings, 2 error).
    Check(HubCheckArgs),
    /// Open tasks waiting for a person; `set`/`clear` change a flag in the hub.
    Human(HubHumanArgs),
    /// A Markdown pickup checkpoint: active workstreams, human gates, recently completed
    /// tasks, next picks.
    Checkpoint(HubCheckpointArgs),
    /// The registered workstreams (one per workplan) with their open state, as the hub holds
    /// them.
    Workstreams(HubWorkstreamsArgs),
    /// The registered tasks (status, priority, human gate), as the hub holds them.
    Tasks(HubTasksArgs),
}

#[derive(Debug, Args)]
pub struct HubWorkstreamsArgs {
    /// One JSON document on stdout (schema platformctl/hub-workstreams/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HubTasksArgs {
    /// Only this workplan's tasks (its id, e.g. OPS-WP-0007).
    #[arg(long, value_name = "ID")]
    pub workplan: Option<String>,
    /// Only open tasks (todo, wait, progress).
    #[arg(long)]
    pub open: bool,
    /// One JSON document on stdout (schema platformctl/hub-tasks/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HubSyncArgs {
    /// Repo roots holding workplans/ (default: the platform repo).
    #[arg(value_name = "REPO")]
    pub repos: Vec<PathBuf>,
    /// Show field by field what would change; write nothing.
    #[arg(long)]
    pub plan: bool,
    /// Retire orphan rows (registered, but no file has them): they get removed_at, never
    /// deleted.
    #[arg(long)]
    pub prune: bool,
    /// One JSON document on stdout (schema platformctl/hub-sync/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HubCheckArgs {
    /// Repo roots holding workplans/ (default: the platform repo).
    #[arg(value_name = "REPO")]
    pub repos: Vec<PathBuf>,
    /// One JSON document on stdout (schema platformctl/hub-check/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HubHumanArgs {
    /// One JSON document on stdout (schema platformctl/hub-human/v1).
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Option<HumanAction>,
}

#[derive(Debug, Subcommand)]
pub enum HumanAction {
    /// Flag a task as waiting for a person.
    Set {
        /// The task's key (OPS-WP-0007-T03) or id.
        task: String,
        /// What the person has to do or decide.
        #[arg(long)]
        reason: String,
    },
    /// Clear a task's flag.
    Clear {
        /// The task's key or id.
        task: String,
    },
}

#[derive(Debug, Args)]
pub struct HubCheckpointArgs {
    /// "Completed recently" means within this many days.
    #[arg(long, default_value_t = 7, value_name = "N")]
    pub days: u32,
    /// How many next picks to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub picks: usize,
    /// One JSON document on stdout instead of Markdown (schema platformctl/hub-checkpoint/v1).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MetadataCommand {
    /// Propose spec.source, spec.artifact and spec.update from evidence (a unified diff per
    /// manifest, the refused modules with their reasons, coverage before → after); write them
    /// with --write. Existing keys are never overwritten.
    Derive(MetadataDeriveArgs),
}

/// `--missing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MissingPart {
    /// spec.source
    Source,
    /// spec.artifact
    Artifact,
    /// spec.update
    Update,
}

/// `--from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeriveFrom {
    /// The compose image after interpolation, agreeing with image_observed.
    Compose,
    /// The running container (read-only): its tag and the repo digest it runs.
    Live,
}

/// `--policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DerivePolicy {
    /// update.policy manual.
    Manual,
    /// update.policy notify (stateless, non-core modules only; the others stay manual).
    Notify,
}

#[derive(Debug, Args)]
pub struct MetadataDeriveArgs {
    /// Modules to derive for.
    #[arg(
        value_name = "MODULE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub modules: Vec<String>,
    /// Every module.
    #[arg(long)]
    pub all: bool,
    /// Only modules of this tier.
    #[arg(long, value_name = "TIER", value_parser = ["core", "infra", "edge", "app"])]
    pub tier: Option<String>,
    /// Only stateful modules.
    #[arg(long)]
    pub stateful: bool,
    /// Only fill this part (repeatable; default: all three).
    #[arg(long, value_enum, value_name = "PART")]
    pub missing: Vec<MissingPart>,
    /// Where the evidence comes from.
    #[arg(long, value_enum, default_value_t = DeriveFrom::Compose)]
    pub from: DeriveFrom,
    /// update.policy for stateless, non-core modules (stateful or core ones stay manual).
    #[arg(long, value_enum, default_value_t = DerivePolicy::Manual)]
    pub policy: DerivePolicy,
    /// Write the manifests (each replaced atomically). Without it nothing is changed.
    #[arg(long)]
    pub write: bool,
    /// One JSON document on stdout (schema platformctl/metadata-derive/v1).
    #[arg(long)]
    pub json: bool,
    /// (--from live) Seconds each host may take in all; default 30.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}
