//! Findings for humans: a header, the location, the offending line with a caret, a hint.
//!
//! ```text
//! error[HOST_UNKNOWN]: host `rs3000` is not in platform.toml
//!   --> modules/minio/module.yaml:12:11
//!    |
//! 12 |     host: rs3000
//!    |           ^^^^^^
//!    = hint: did you mean `rs2000`? hosts: laptop, nas, rs2000
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use platformctl_catalog::source::{COMPOSE_MAX_BYTES, read_text};
use platformctl_catalog::{Finding, Severity};

use crate::style::Style;

/// Source lines for diagnostics, read once per file and only when a finding needs them.
pub struct Sources<'a> {
    root: &'a Path,
    files: HashMap<PathBuf, Option<String>>,
    secret_files: HashSet<PathBuf>,
}

impl<'a> Sources<'a> {
    /// Sources under `root`. No line is ever shown of a file that any of `findings` says
    /// holds a secret: a multi-line secret such as a key block spans lines no finding marks.
    pub fn new<'f>(root: &'a Path, findings: impl IntoIterator<Item = &'f Finding>) -> Self {
        Sources {
            root,
            files: HashMap::new(),
            secret_files: findings
                .into_iter()
                .filter(|f| f.redact)
                .map(|f| f.file.clone())
                .collect(),
        }
    }

    fn line(&mut self, file: &Path, line: u32) -> Option<String> {
        if self.secret_files.contains(file) {
            return None;
        }
        let root = self.root;
        let text = self
            .files
            .entry(file.to_path_buf())
            .or_insert_with(|| read_text(root, file, COMPOSE_MAX_BYTES).ok().flatten());
        let line = platformctl_yaml::line_at(text.as_deref()?, line)?;
        // Belt and braces: a line that looks like it holds a credential is never shown.
        if !platformctl_secrets::scan_text(line).is_empty() {
            return None;
        }
        Some(line.to_string())
    }
}

/// Renders one finding.
pub fn render(f: &Finding, sources: &mut Sources<'_>, st: &Style) -> String {
    let mut out = String::new();
    let head = match f.severity {
        Severity::Error => st.red(&format!("error[{}]", f.code)),
        Severity::Warning => st.yellow(&format!("warning[{}]", f.code)),
    };
    let _ = writeln!(out, "{head}: {}", st.bold(&f.message));
    let num = f.line.to_string();
    let pad = " ".repeat(num.len());
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        st.blue("-->"),
        f.file.display(),
        f.line,
        f.column
    );
    let hidden = sources.secret_files.contains(&f.file);
    if hidden {
        let _ = writeln!(
            out,
            "{pad} {} {}",
            st.blue("|"),
            st.dim("(source not shown: this file holds a secret)")
        );
    } else if let Some(text) = sources.line(&f.file, f.line)
        && text.chars().count() <= 400
    {
        let col = usize::try_from(f.column.saturating_sub(1)).unwrap_or(0);
        let shown = text.replace('\t', " ");
        let rest = shown.chars().count().saturating_sub(col);
        let width = usize::try_from(f.width).unwrap_or(1).clamp(1, rest.max(1));
        let _ = writeln!(out, "{pad} {}", st.blue("|"));
        let _ = writeln!(out, "{} {} {shown}", st.blue(&num), st.blue("|"));
        let caret = "^".repeat(width);
        let caret = match f.severity {
            Severity::Error => st.red(&caret),
            Severity::Warning => st.yellow(&caret),
        };
        let _ = writeln!(out, "{pad} {} {}{caret}", st.blue("|"), " ".repeat(col));
    }
    if let Some(h) = &f.hint {
        let _ = writeln!(out, "{pad} {} {h}", st.blue("= hint:"));
    }
    out
}
