//! The platform catalog: a platform repo read into a typed, positioned model, and checked.
//!
//! This is the **load** stage of platformctl. It finds the platform root (the folder holding
//! `platform.toml`), reads the inventory, every `modules/<name>/module.yaml` (schema
//! `platform/v2`) and the compose files they point at, and keeps where every value was written
//! so that each [`Finding`] names a file, a line and a column.
//!
//! What it checks (SPEC §3–4), each with a stable [`Code`]:
//!
//! - every file: readable, bounded in size, UTF-8 text, valid YAML/TOML without duplicate
//!   keys, alias bombs or absurd nesting;
//! - every manifest against the v2 schema ([`schema::MODULE`]): required fields, types,
//!   allowed values; unknown fields are warnings, errors under `--strict-v2`;
//! - names that later reach ssh and the Docker API against a strict character set
//!   ([`names`]), so shell metacharacters never get that far;
//! - no credential-looking values (the finding never repeats the value);
//! - the cross-checks ([`validate`]): host exists, compose file and service exist, the compose
//!   image agrees with `spec.artifact`, the digest-pin flag agrees with compose, container
//!   names agree and are unique, one module per compose service.
//!
//! It performs no I/O beyond reading the platform repo, and never touches a host. The models
//! ([`Module`], [`Platform`], [`ComposeFile`]) are what the observe and compare stages consume.
//!
//! ```no_run
//! use platformctl_catalog::{Catalog, LoadOptions, discover_root};
//!
//! let root = discover_root(std::path::Path::new(".")).expect("inside a platform repo");
//! let catalog = Catalog::load(&root, &LoadOptions::default()).expect("platform.toml loads");
//! for finding in &catalog.findings {
//!     println!("{}:{}:{}: {}", finding.file.display(), finding.line, finding.column, finding.message);
//! }
//! ```

pub mod compose;
pub mod coverage;
mod finding;
pub mod module;
pub mod names;
pub mod platform;
mod repo;
pub mod schema;
pub mod service_config;
pub mod source;
pub mod validate;

pub use compose::{ComposeFile, ComposeImage, Service};
pub use coverage::{Coverage, Part, coverage};
pub use finding::{Code, Finding, Related, Severity, sort_findings};
pub use module::{DesiredState, LoadedModule, Module, Orchestrator, Spanned, Tier};
pub use platform::{Host, Platform, Transport};
pub use repo::{Catalog, LoadError, LoadOptions, discover_root};
