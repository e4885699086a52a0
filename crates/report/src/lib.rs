//! The read documents of platformctl, built once: the JSON that `--json` prints, that `serve`
//! returns under `/api/v1/` and that `mcp`'s tools return, for the catalog ([`catalog`]:
//! validate, modules, coverage), the workplans ([`workplans`]: status, show) and the State Hub
//! ([`hub`]: workstreams, tasks, human gates, checkpoint), plus the Prometheus metrics of a
//! drift run ([`metrics`]) that `serve` offers and `drift-check --metrics-file` writes.
//!
//! Live drift (plan, drift-check, updates) is `platformctl-drift`'s; this crate renders none of
//! it for people and changes nothing: it reads files and the hub, and builds documents. Every
//! surface calls these functions, so a document cannot differ between the CLI, the HTTP API
//! and MCP.
//!
//! ```no_run
//! use platformctl_report::catalog;
//! let cat = catalog::load("examples/home-platform".as_ref(), false, Vec::new(), false)
//!     .map_err(|f| f.message)?;
//! println!("{}", catalog::modules_list(&cat));
//! # Ok::<(), String>(())
//! ```

use platformctl_catalog::Finding;
use platformctl_drift::doc::{ErrorDetail, ErrorDoc, FindingDoc};
use serde_json::Value;

pub mod catalog;
pub mod diag;
pub mod hub;
pub mod metrics;
pub mod workplans;

/// Exit code of the read documents: success.
pub const OK: u8 = 0;
/// Exit code of the read documents: usage, configuration or I/O error.
pub const ERROR: u8 = 2;

/// Why a document could not be built: what to tell a person, and the finding behind it if any.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The message (may hold ANSI colour when rendered for a terminal).
    pub message: String,
    /// The catalog finding behind it.
    pub finding: Option<Box<Finding>>,
}

impl Failure {
    /// A failure with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            finding: None,
        }
    }

    /// The `{schema, exitCode, error}` document every command prints (and `serve` and `mcp`
    /// return) when it cannot answer.
    pub fn document(&self, schema: &str, code: u8) -> Value {
        serde_json::to_value(ErrorDoc {
            schema: schema.to_string(),
            exit_code: code,
            error: ErrorDetail {
                message: platformctl_diagnostics::color::strip_ansi(&self.message),
                finding: self.finding.as_deref().map(FindingDoc::from),
            },
        })
        .unwrap_or(Value::Null)
    }
}

/// A document's value as a table cell for people: a string as written, `-` for null.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A document and the exit code the matching command ends with.
#[derive(Clone, Debug)]
pub struct Doc {
    /// The JSON document.
    pub body: Value,
    /// The exit code (also the document's `exitCode`).
    pub exit_code: u8,
}
