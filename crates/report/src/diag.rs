//! Findings for humans: catalog and workplan findings as `platformctl_diagnostics`
//! diagnostics, drawn by its one renderer (cargo's format, colour for the stream written,
//! secret lines never shown). The CLI, `serve` and `mcp` all draw them from here.
//!
//! ```text
//! error[HOST_UNKNOWN]: host `rs3000` is not in platform.toml
//!   --> modules/minio/module.yaml:12:11
//!    |
//! 12 |     host: rs3000
//!    |           ^^^^^^
//!    |
//!    = help: did you mean `rs2000`? hosts: laptop, nas, rs2000
//! ```

use std::path::{Path, PathBuf};

use platformctl_catalog::{Finding, Severity};
use platformctl_diagnostics::{Diagnostic, Label, Level, Pos, Renderer, Sources, Width};

/// Sources under `root` for catalog findings. No line is ever shown of a file that any of
/// `findings` says holds a secret: a multi-line secret such as a key block spans lines no
/// finding marks.
pub fn catalog_sources<'f>(
    root: &Path,
    findings: impl IntoIterator<Item = &'f Finding>,
) -> Sources {
    let mut sources = Sources::new(root);
    for f in findings.into_iter().filter(|f| f.redact) {
        sources.hide_file(f.file.clone());
    }
    sources
}

/// A catalog finding as a diagnostic.
pub fn catalog_diagnostic(f: &Finding) -> Diagnostic {
    let level = match f.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let mut d = Diagnostic::new(level, f.code.as_str(), f.message.as_str())
        .at(f.file.clone(), Pos::new(f.line, f.column))
        .width(f.width);
    if let Some(r) = &f.related {
        let mut label = Label::new(f.file.clone(), Pos::new(r.line, r.column));
        label.text = Some(r.message.clone());
        d = d.secondary(label);
    }
    if let Some(h) = &f.hint {
        d = d.help(h.as_str());
    }
    d
}

/// Renders one catalog finding.
pub fn render(f: &Finding, sources: &mut Sources, renderer: &Renderer) -> String {
    renderer.render(&catalog_diagnostic(f), sources)
}

/// Workplan findings for people: each with its line and a caret under the word meant. Lines
/// of a file with a C-13 (secret) finding are never shown.
pub fn render_workplan_findings(
    findings: &[platformctl_workplan::Finding],
    renderer: &Renderer,
) -> String {
    // Workplan paths are as given on the command line (relative to the working folder).
    let mut sources = Sources::new("");
    for f in findings
        .iter()
        .filter(|f| f.code == platformctl_workplan::Code::C13)
    {
        sources.hide_file(f.file.clone());
    }
    let mut out = String::new();
    for f in findings {
        let mut d = Diagnostic::new(Level::Error, f.code.as_str(), f.message.as_str())
            .at(f.file.clone(), Pos::new(f.line, f.column))
            .shown_as(shown(&f.file).display().to_string())
            .underline(Width::Word);
        if let Some(h) = &f.hint {
            d = d.help(h.as_str());
        }
        out.push_str(&renderer.render(&d, &mut sources));
        out.push('\n');
    }
    out
}

/// A path for people: relative to the working folder when it is inside it.
pub fn shown(path: &Path) -> PathBuf {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.to_path_buf();
    }
    path.to_path_buf()
}
