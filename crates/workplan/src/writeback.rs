//! Writing hub ids back into a workplan without changing any other byte.

use std::fmt;

use platformctl_yaml::Node;

use crate::model::{Block, ByteSpan, Workplan};
use crate::parse::yaml_limits;
use crate::text::{is_valid_id, lines_in};

/// Which id to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdTarget {
    /// `state_hub_workstream_id` in the frontmatter.
    Workstream,
    /// `state_hub_task_id` in the block of `Workplan::tasks[i]`.
    Task(usize),
}

impl IdTarget {
    /// The key written.
    pub const fn key(self) -> &'static str {
        match self {
            IdTarget::Workstream => "state_hub_workstream_id",
            IdTarget::Task(_) => "state_hub_task_id",
        }
    }
}

/// Replace the bytes `span` of the file with `text` (an empty span is an insertion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdEdit {
    /// Bytes replaced, indexing the file as read (BOM included).
    pub span: ByteSpan,
    /// What goes there, line end included when a line is inserted (the block's own line
    /// end, so CRLF files stay CRLF).
    pub text: String,
}

/// Why an id cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdEditError {
    /// The text is not the one the workplan was parsed from (its length differs).
    StaleSource,
    /// The id has characters other than letters, digits, `.`, `_`, `-`.
    InvalidId,
    /// No closed frontmatter to write into.
    NoFrontmatter,
    /// No task with that index.
    NoTask,
    /// The task has no closed ```` ```task ```` block.
    NoBlock,
    /// The block is not a readable YAML block mapping (invalid YAML, or a flow mapping
    /// `{…}` a new line cannot be added to).
    NotABlockMapping,
    /// The key is there with a different value; hub sync never overwrites an id.
    AlreadySet {
        /// The id in the file.
        existing: String,
    },
    /// The key is there, empty, in a shape this crate does not rewrite (e.g. a value on the
    /// next line).
    UnsupportedShape,
}

impl fmt::Display for IdEditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdEditError::StaleSource => f.write_str("the file changed since it was parsed"),
            IdEditError::InvalidId => f.write_str("the id has characters an id may not hold"),
            IdEditError::NoFrontmatter => f.write_str("the workplan has no closed frontmatter"),
            IdEditError::NoTask => f.write_str("no such task"),
            IdEditError::NoBlock => f.write_str("the task has no closed ```task block"),
            IdEditError::NotABlockMapping => {
                f.write_str("the block is not a YAML block mapping a line can be added to")
            }
            IdEditError::AlreadySet { existing } => {
                write!(f, "the file already holds another id ({existing})")
            }
            IdEditError::UnsupportedShape => {
                f.write_str("the key is present but written in a shape that is not rewritten")
            }
        }
    }
}

impl std::error::Error for IdEditError {}

/// The edit that writes `id` as the workplan's `state_hub_workstream_id` or a task's
/// `state_hub_task_id`, changing no other byte of `source` (the text `wp` was parsed from).
///
/// - key absent: a line `<indent>key: "id"<eol>` is inserted at the start of the block's
///   closing fence line (`Block::content.end`), indented like the mapping's keys and ending
///   with the block's own line end;
/// - key present but empty (`key:`, `key: ""`, `key: ~`, `key: null`, comments kept): the
///   empty value is replaced by ` "id"`;
/// - the same id already there: `Ok(None)`; another id there: [`IdEditError::AlreadySet`].
///
/// ```
/// use platformctl_workplan::{IdTarget, apply_edits, id_edit, parse};
///
/// let src = "---\r\nid: WP-1\r\ntitle: t\r\nstatus: backlog\r\n---\r\n# WP-1\r\n";
/// let (wp, _) = parse(src, "wp.md".as_ref());
/// let edit = id_edit(src, &wp, IdTarget::Workstream, "0b7c4d1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f")
///     .unwrap()
///     .unwrap();
/// let out = apply_edits(src, &[edit]);
/// assert_eq!(
///     out,
///     "---\r\nid: WP-1\r\ntitle: t\r\nstatus: backlog\r\n\
///      state_hub_workstream_id: \"0b7c4d1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f\"\r\n---\r\n# WP-1\r\n"
/// );
/// ```
pub fn id_edit(
    source: &str,
    wp: &Workplan,
    target: IdTarget,
    id: &str,
) -> Result<Option<IdEdit>, IdEditError> {
    if source.len() != wp.source_len {
        return Err(IdEditError::StaleSource);
    }
    if !is_valid_id(id) {
        return Err(IdEditError::InvalidId);
    }
    let (block, existing) = match target {
        IdTarget::Workstream => (
            wp.frontmatter.ok_or(IdEditError::NoFrontmatter)?,
            wp.state_hub_workstream_id.as_deref(),
        ),
        IdTarget::Task(i) => {
            let t = wp.tasks.get(i).ok_or(IdEditError::NoTask)?;
            (
                t.block.ok_or(IdEditError::NoBlock)?,
                t.state_hub_task_id.as_deref(),
            )
        }
    };
    if !block.is_closed() {
        return Err(match target {
            IdTarget::Workstream => IdEditError::NoFrontmatter,
            IdTarget::Task(_) => IdEditError::NoBlock,
        });
    }
    match existing {
        Some(e) if e == id => return Ok(None),
        Some(e) => {
            return Err(IdEditError::AlreadySet {
                existing: e.to_string(),
            });
        }
        None => {}
    }
    let content = source
        .get(block.content.range())
        .ok_or(IdEditError::StaleSource)?;
    if content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with('{'))
    {
        return Err(IdEditError::NotABlockMapping);
    }
    let root = match platformctl_yaml::parse(content, &yaml_limits()) {
        Ok(Some(root)) if root.as_map().is_some() => Some(root),
        Ok(None) => None,
        _ => return Err(IdEditError::NotABlockMapping),
    };
    let key = target.key();
    let eol = block.line_ending.as_str();
    match root.as_ref().and_then(|r| r.entry(key)) {
        Some((k, v)) => {
            if !v.is_null() && v.scalar_text() != Some("") {
                // Present and not empty, but the model has no id: not a string we read.
                return Err(IdEditError::UnsupportedShape);
            }
            replace_empty_value(source, &block, k, key, id)
        }
        None => {
            let indent = root.as_ref().map_or(0, |r| r.pos.col.saturating_sub(1)) as usize;
            Ok(Some(IdEdit {
                span: ByteSpan::new(block.content.end, block.content.end),
                text: format!("{}{key}: \"{id}\"{eol}", " ".repeat(indent)),
            }))
        }
    }
}

/// `key:` / `key: ""` / `key: ~` / `key: null` (then blanks and an optional comment) on the
/// key's line: replace the empty value with ` "id"`.
fn replace_empty_value(
    source: &str,
    block: &Block,
    k: &Node,
    key: &str,
    id: &str,
) -> Result<Option<IdEdit>, IdEditError> {
    let line_no = k.pos.line.max(1) as usize;
    let (ls, le, _) = lines_in(source, block.content.start, block.content.end)
        .nth(line_no - 1)
        .ok_or(IdEditError::UnsupportedShape)?;
    let line = &source[ls..le];
    let key_at = line
        .char_indices()
        .nth(k.pos.col.max(1) as usize - 1)
        .map(|(i, _)| i);
    let Some(key_at) = key_at.filter(|&i| line[i..].starts_with(key)) else {
        return Err(IdEditError::UnsupportedShape);
    };
    let after_key = &line[key_at + key.len()..];
    let colon = after_key.len() - after_key.trim_start_matches([' ', '\t']).len();
    if !after_key[colon..].starts_with(':') {
        return Err(IdEditError::UnsupportedShape);
    }
    let value_start = key_at + key.len() + colon + 1;
    let rest = &line[value_start..];
    let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let token = rest[blanks..].split([' ', '\t']).next().unwrap_or("");
    let token = if token.starts_with('#') { "" } else { token };
    if !matches!(token, "" | "\"\"" | "''" | "~" | "null" | "Null" | "NULL") {
        return Err(IdEditError::UnsupportedShape);
    }
    let tail = rest[blanks + token.len()..].trim_start_matches([' ', '\t']);
    if !(tail.is_empty() || tail.starts_with('#')) {
        return Err(IdEditError::UnsupportedShape);
    }
    let (start, end) = if token.is_empty() {
        (value_start, value_start)
    } else {
        (value_start, value_start + blanks + token.len())
    };
    Ok(Some(IdEdit {
        span: ByteSpan::new(ls + start, ls + end),
        text: format!(" \"{id}\""),
    }))
}

/// Applies non-overlapping edits to `source` (in any order).
///
/// # Panics
///
/// When two edits overlap or an edit is outside `source` or not on character boundaries:
/// edits come from [`id_edit`] on the same text, which never produces those.
pub fn apply_edits(source: &str, edits: &[IdEdit]) -> String {
    let mut sorted: Vec<&IdEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out =
        String::with_capacity(source.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut pos = 0;
    for e in sorted {
        assert!(e.span.start >= pos, "overlapping edits");
        out.push_str(&source[pos..e.span.start]);
        out.push_str(&e.text);
        pos = e.span.end;
    }
    out.push_str(&source[pos..]);
    out
}
