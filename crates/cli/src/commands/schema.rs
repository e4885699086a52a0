//! `platformctl schema <document>` and `platformctl completions SHELL`.
//!
//! Every `--json` document has a published JSON Schema (draft 2020-12). `plan` and
//! `drift-check` are generated from their typed documents (platformctl-drift, schemars); the
//! others are hand-written in `crates/cli/schemas/` and checked against the commands' outputs
//! on the examples by `tests/json_schemas.rs`.

use clap::CommandFactory;
use serde_json::Value;

use crate::cli::{Cli, SchemaCommand};
use crate::output::{self, OK};

/// The JSON Schema of a document.
pub fn schema_of(cmd: &SchemaCommand) -> Value {
    let text = match cmd {
        SchemaCommand::Module => return platformctl_catalog::schema::module_json_schema(),
        SchemaCommand::Plan => return platformctl_drift::doc::plan_schema().to_value(),
        SchemaCommand::DriftCheck => {
            return platformctl_drift::doc::drift_check_schema().to_value();
        }
        SchemaCommand::Updates => {
            return platformctl_drift::registry::updates_schema().to_value();
        }
        SchemaCommand::Apply => return platformctl_apply::apply_schema(),
        SchemaCommand::Validate => include_str!("../../schemas/validate.json"),
        SchemaCommand::Coverage => include_str!("../../schemas/coverage.json"),
        SchemaCommand::ModulesList => include_str!("../../schemas/modules-list.json"),
        SchemaCommand::ModulesShow => include_str!("../../schemas/modules-show.json"),
        SchemaCommand::WorkplanStatus => include_str!("../../schemas/workplan-status.json"),
        SchemaCommand::WorkplanLint => include_str!("../../schemas/workplan-lint.json"),
        SchemaCommand::WorkplanShow => include_str!("../../schemas/workplan-show.json"),
        SchemaCommand::HubSync => include_str!("../../schemas/hub-sync.json"),
        SchemaCommand::HubCheck => include_str!("../../schemas/hub-check.json"),
        SchemaCommand::HubHuman => include_str!("../../schemas/hub-human.json"),
        SchemaCommand::HubCheckpoint => include_str!("../../schemas/hub-checkpoint.json"),
        SchemaCommand::HubWorkstreams => include_str!("../../schemas/hub-workstreams.json"),
        SchemaCommand::HubTasks => include_str!("../../schemas/hub-tasks.json"),
        SchemaCommand::MetadataDerive => include_str!("../../schemas/metadata-derive.json"),
    };
    // The files are checked by the tests; a broken one would be a build of platformctl that
    // never passed them.
    serde_json::from_str(text).unwrap_or(Value::Null)
}

pub fn run(cmd: &SchemaCommand) -> u8 {
    output::print_json(&schema_of(cmd));
    OK
}

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "platformctl", &mut std::io::stdout());
    OK
}
