//! Findings for humans: drawn by `platformctl-report`'s one renderer (shared with `serve` and
//! `mcp`).

pub use platformctl_report::diag::*;
