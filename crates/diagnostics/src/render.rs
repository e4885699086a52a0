//! The one renderer of file:line:col findings, and the one rule about secrets in it.
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
//!
//! The format is cargo's and rustc's, drawn by `annotate-snippets` (what they use): a header
//! `level[CODE]: message`, the location ` --> file:line:col` (column in characters), the
//! source line with an underline under the part meant and an optional label, secondary
//! labels (`-`) elsewhere, and a `= help:` line.
//!
//! **A line that holds a secret is never shown.** [`Sources`] is the only way source text
//! reaches the renderer, and it withholds (1) every line of a file a checker said holds a
//! secret ([`Sources::hide_file`]: a multi-line secret such as a key block spans lines no
//! finding marks), and (2) any line in which `platformctl-secrets` finds something that looks
//! like a credential. The location is still printed, with a note saying why the source is not.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Origin, Snippet};

use crate::index::{LineIndex, Pos};
use crate::read::{Bom, read_text};

/// The largest file [`Sources`] reads for a source line (a compose file's cap).
const SOURCE_MAX_BYTES: u64 = 16 << 20;
/// Lines longer than this (in characters) are not shown: a minified blob helps nobody.
const MAX_LINE_CHARS: usize = 1000;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `error[…]`.
    Error,
    /// `warning[…]`.
    Warning,
}

/// How much of the line a label underlines, from its column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// This many characters (at least one, at most to the end of the line).
    Chars(u32),
    /// The run of non-blank characters that starts at the column.
    Word,
}

/// A place in a file a diagnostic points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The file, as [`Sources`] finds it (relative to its root, or absolute).
    pub file: PathBuf,
    /// The path shown to people (defaults to `file`).
    pub shown: String,
    /// Where.
    pub pos: Pos,
    /// How much to underline.
    pub width: Width,
    /// Text beside the underline.
    pub text: Option<String>,
}

impl Label {
    /// A label at `pos` in `file`, one character wide, without text.
    pub fn new(file: impl Into<PathBuf>, pos: Pos) -> Self {
        let file = file.into();
        Label {
            shown: file.display().to_string(),
            file,
            pos: Pos::new(pos.line.max(1), pos.col.max(1)),
            width: Width::Chars(1),
            text: None,
        }
    }
}

/// One finding, ready to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// The stable code (`HOST_UNKNOWN`, `C-03`).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// Where (none for a finding about no file).
    pub primary: Option<Label>,
    /// Other places that explain it.
    pub secondary: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without a place yet.
    pub fn new(level: Level, code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            code: code.into(),
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Points at `pos` in `file`.
    #[must_use]
    pub fn at(mut self, file: impl Into<PathBuf>, pos: Pos) -> Self {
        self.primary = Some(Label::new(file, pos));
        self
    }

    /// Shows the primary file under another name (e.g. relative to the working folder).
    #[must_use]
    pub fn shown_as(mut self, path: impl Into<String>) -> Self {
        if let Some(l) = &mut self.primary {
            l.shown = path.into();
        }
        self
    }

    /// Underlines `chars` characters.
    #[must_use]
    pub fn width(self, chars: u32) -> Self {
        self.underline(Width::Chars(chars))
    }

    /// Sets how much the primary label underlines.
    #[must_use]
    pub fn underline(mut self, width: Width) -> Self {
        if let Some(l) = &mut self.primary {
            l.width = width;
        }
        self
    }

    /// Text beside the primary underline.
    #[must_use]
    pub fn label(mut self, text: impl Into<String>) -> Self {
        if let Some(l) = &mut self.primary {
            l.text = Some(text.into());
        }
        self
    }

    /// Adds a secondary label (e.g. "first defined here").
    #[must_use]
    pub fn secondary(mut self, label: Label) -> Self {
        self.secondary.push(label);
        self
    }

    /// Adds the `= help:` line.
    #[must_use]
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }
}

/// What [`Sources`] gives for a line.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SourceLine {
    Shown(String),
    FileHoldsSecret,
    LineHoldsSecret,
    Unavailable,
}

/// Source text for the renderer: files read once (bounded) and only when a diagnostic needs
/// them, and the secret rule (see the module documentation).
#[derive(Debug, Default)]
pub struct Sources {
    root: PathBuf,
    files: HashMap<PathBuf, Option<String>>,
    hidden: HashSet<PathBuf>,
}

impl Sources {
    /// Sources of files under `root` (a relative [`Label::file`] is read from `root`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Sources {
            root: root.into(),
            ..Sources::default()
        }
    }

    /// No line of `file` is ever shown: a checker found a secret in it.
    pub fn hide_file(&mut self, file: impl Into<PathBuf>) {
        self.hidden.insert(file.into());
    }

    /// Uses `text` as the content of `file` instead of reading it.
    pub fn insert(&mut self, file: impl Into<PathBuf>, text: impl Into<String>) {
        self.files.insert(file.into(), Some(text.into()));
    }

    fn line(&mut self, file: &Path, line: u32) -> SourceLine {
        if self.hidden.contains(file) {
            return SourceLine::FileHoldsSecret;
        }
        let root = &self.root;
        let text = self
            .files
            .entry(file.to_path_buf())
            .or_insert_with(|| read_text(&root.join(file), SOURCE_MAX_BYTES, Bom::Strip).ok());
        let Some(text) = text.as_deref() else {
            return SourceLine::Unavailable;
        };
        match LineIndex::new(text).line_text(line) {
            None => SourceLine::Unavailable,
            Some(l) if l.chars().count() > MAX_LINE_CHARS => SourceLine::Unavailable,
            Some(l) if !may_show_line(l) => SourceLine::LineHoldsSecret,
            Some(l) => SourceLine::Shown(l.to_string()),
        }
    }
}

/// Whether a source line may be shown: `platformctl-secrets` finds nothing in it that looks
/// like a credential. [`Sources`] applies it to every line it hands out.
pub fn may_show_line(line: &str) -> bool {
    platformctl_secrets::scan_text(line).is_empty()
}

/// Draws diagnostics as text, styled or plain.
#[derive(Clone, Debug)]
pub struct Renderer {
    inner: annotate_snippets::Renderer,
}

impl Renderer {
    /// Without colour.
    pub fn plain() -> Self {
        Renderer {
            inner: annotate_snippets::Renderer::plain(),
        }
    }

    /// With ANSI colour (cargo's palette).
    pub fn styled() -> Self {
        Renderer {
            inner: annotate_snippets::Renderer::styled(),
        }
    }

    /// Styled when `color`, else plain (see [`crate::use_color`]).
    pub fn new(color: bool) -> Self {
        if color { Self::styled() } else { Self::plain() }
    }

    /// One diagnostic, ending with a line end.
    pub fn render(&self, d: &Diagnostic, sources: &mut Sources) -> String {
        let level = match d.level {
            Level::Error => annotate_snippets::Level::ERROR,
            Level::Warning => annotate_snippets::Level::WARNING,
        };
        let mut group = Group::with_title(
            level
                .clone()
                .primary_title(d.message.as_str())
                .id(d.code.as_str()),
        );
        // Labels on one line of one file share a snippet; the primary's line comes first.
        let mut lines: Vec<(&Label, Vec<(&Label, bool)>)> = Vec::new();
        for (label, primary) in d
            .primary
            .iter()
            .map(|l| (l, true))
            .chain(d.secondary.iter().map(|l| (l, false)))
        {
            match lines
                .iter_mut()
                .find(|(first, _)| first.file == label.file && first.pos.line == label.pos.line)
            {
                Some((_, all)) => all.push((label, primary)),
                None => lines.push((label, vec![(label, primary)])),
            }
        }
        let mut notes: Vec<&str> = Vec::new();
        for (first, labels) in &lines {
            match sources.line(&first.file, first.pos.line) {
                SourceLine::Shown(text) => {
                    let annotations: Vec<_> = labels
                        .iter()
                        .map(|(l, primary)| {
                            let kind = if *primary {
                                AnnotationKind::Primary
                            } else {
                                AnnotationKind::Context
                            };
                            kind.span(span(&text, l.pos.col, l.width))
                                .label(l.text.as_deref())
                        })
                        .collect();
                    group = group.element(
                        Snippet::source(Cow::Owned(text))
                            .line_start(first.pos.line as usize)
                            .path(first.shown.as_str())
                            .annotations(annotations),
                    );
                }
                hidden => {
                    group = group.element(
                        Origin::path(first.shown.as_str())
                            .line(first.pos.line as usize)
                            .char_column(first.pos.col as usize),
                    );
                    match hidden {
                        SourceLine::FileHoldsSecret => {
                            notes.push("source not shown: this file holds a secret");
                        }
                        SourceLine::LineHoldsSecret => notes
                            .push("source not shown: the line looks like it holds a credential"),
                        _ => {}
                    }
                }
            }
        }
        notes.dedup();
        for n in notes {
            group = group.element(annotate_snippets::Level::NOTE.message(n));
        }
        if let Some(h) = &d.help {
            group = group.element(annotate_snippets::Level::HELP.message(h.as_str()));
        }
        let mut out = self.inner.render(&[group]);
        out.push('\n');
        out
    }
}

/// The byte range of `line` a label at 1-based character column `col` underlines.
fn span(line: &str, col: u32, width: Width) -> std::ops::Range<usize> {
    let col = usize::try_from(col.max(1) - 1).unwrap_or(usize::MAX);
    let Some((start, _)) = line.char_indices().nth(col) else {
        return line.len()..line.len();
    };
    let rest = &line[start..];
    let chars = match width {
        Width::Chars(n) => usize::try_from(n.max(1)).unwrap_or(usize::MAX),
        Width::Word => rest
            .chars()
            .take_while(|c| !c.is_whitespace())
            .count()
            .max(1),
    };
    let end = rest
        .char_indices()
        .nth(chars)
        .map_or(line.len(), |(i, _)| start + i);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(file: &str, text: &str) -> Sources {
        let mut s = Sources::new("/nonexistent");
        s.insert(file, text);
        s
    }

    const MODULE: &str =
        "apiVersion: platform/v2\nkind: Module\nspec:\n  runtime:\n    host: rs3000\n";

    #[test]
    fn a_finding_as_cargo_shows_it() {
        let d = Diagnostic::new(
            Level::Error,
            "HOST_UNKNOWN",
            "host `rs3000` is not in platform.toml",
        )
        .at("modules/minio/module.yaml", Pos::new(5, 11))
        .width(6)
        .help("did you mean `rs2000`? hosts: laptop, nas, rs2000");
        let out = Renderer::plain().render(&d, &mut sources("modules/minio/module.yaml", MODULE));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_warning_with_a_label_and_a_secondary_label() {
        let text = "services:\n  web:\n    image: a\n  web:\n    image: b\n";
        let d = Diagnostic::new(Level::Warning, "DUPLICATE_KEY", "`web` is written twice")
            .at("compose.yaml", Pos::new(4, 3))
            .width(3)
            .label("written again here")
            .secondary(Label {
                width: Width::Chars(3),
                text: Some("first written here".into()),
                ..Label::new("compose.yaml", Pos::new(2, 3))
            });
        let out = Renderer::plain().render(&d, &mut sources("compose.yaml", text));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn columns_are_characters_and_tabs_and_crlf_are_handled() {
        let text = "a: 1\r\nnäme:\t\"日本\" # x\r\n";
        let d = Diagnostic::new(Level::Error, "C-03", "bad value")
            .at("wp.md", Pos::new(2, 8))
            .underline(Width::Word);
        let out = Renderer::plain().render(&d, &mut sources("wp.md", text));
        insta::assert_snapshot!(out);
        assert!(out.contains("--> wp.md:2:8"), "{out}");
    }

    #[test]
    fn end_of_line_and_missing_lines() {
        let d = Diagnostic::new(Level::Error, "X", "missing value")
            .at("f.yaml", Pos::new(1, 6))
            .width(3);
        let out = Renderer::plain().render(&d, &mut sources("f.yaml", "key: \n"));
        assert!(out.contains("--> f.yaml:1:6"), "{out}");
        let d = Diagnostic::new(Level::Error, "X", "past the end").at("f.yaml", Pos::new(40, 2));
        let out = Renderer::plain().render(&d, &mut sources("f.yaml", "key: \n"));
        assert!(out.contains("--> f.yaml:40:2"), "{out}");
        // A file that cannot be read: the location alone.
        let d = Diagnostic::new(Level::Error, "X", "gone").at("nope.yaml", Pos::new(3, 1));
        let out = Renderer::plain().render(&d, &mut Sources::new("/nonexistent"));
        assert!(out.contains("--> nope.yaml:3:1"), "{out}");
    }

    #[test]
    fn a_secret_never_appears() {
        let secret = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let text = format!("env:\n  TOKEN: {secret}\n  OTHER: x\n");
        // The line itself looks like a credential: withheld even when the file is not marked.
        let d = Diagnostic::new(Level::Error, "WRONG_TYPE", "not a list")
            .at("m.yaml", Pos::new(2, 3))
            .width(5);
        let out = Renderer::plain().render(&d, &mut sources("m.yaml", &text));
        assert!(!out.contains(secret), "{out}");
        assert!(out.contains("--> m.yaml:2:3"), "{out}");
        assert!(out.contains("holds a credential"), "{out}");
        // A file marked as holding a secret: no line of it, even a harmless one.
        let mut s = sources("m.yaml", &text);
        s.hide_file("m.yaml");
        let d = Diagnostic::new(Level::Error, "SECRET", "a token (the value is not shown)")
            .at("m.yaml", Pos::new(3, 3))
            .secondary(Label::new("m.yaml", Pos::new(2, 10)));
        let out = Renderer::plain().render(&d, &mut s);
        assert!(!out.contains(secret), "{out}");
        assert!(!out.contains("OTHER"), "{out}");
        assert!(out.contains("this file holds a secret"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn styled_output_is_coloured_and_plain_is_not() {
        let d = Diagnostic::new(Level::Error, "X", "m").at("f", Pos::new(1, 1));
        let styled = Renderer::styled().render(&d, &mut sources("f", "abc\n"));
        let plain = Renderer::plain().render(&d, &mut sources("f", "abc\n"));
        assert!(styled.contains('\x1b'));
        assert!(!plain.contains('\x1b'));
        assert_eq!(crate::color::strip_ansi(&styled), plain);
    }

    #[test]
    fn spans() {
        assert_eq!(span("héllo world", 2, Width::Word), 1..6);
        assert_eq!(span("héllo", 2, Width::Chars(2)), 1..4);
        assert_eq!(span("abc", 3, Width::Chars(10)), 2..3);
        assert_eq!(span("abc", 9, Width::Chars(1)), 3..3);
    }
}
