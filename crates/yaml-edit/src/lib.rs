//! Surgical edits of YAML documents that keep every other byte.
//!
//! platformctl writes into files people own (`module.yaml`): `metadata derive` adds
//! `spec.source`/`spec.artifact`/`spec.update`, and later `ack` adds `spec.drift.accept`
//! entries. A person reviews those changes as a diff, so an edit must look like the one a person
//! would make, and nothing else in the file may move: comments, key order, quoting, blank lines,
//! line endings (LF or CRLF), a byte order mark.
//!
//! This crate does that without re-serialising anything. It reads the document's structure from
//! the parser's events (where every key starts, which nodes carry an anchor or are aliases,
//! which collections are written in flow style), finds the lines a key's block spans, and splices
//! new text in between existing lines, at the indentation the siblings use, with the file's
//! line ending. Existing values can be replaced in place ([`Editor::set_scalar`]) keeping the
//! comment after them.
//!
//! Every edit checks itself: the result is parsed again (with `platformctl-yaml`, the loader
//! every command uses) and compared with the original; the only change in meaning must be the
//! intended one, or the edit is refused with [`EditError::Unverified`]. Edits inside anchored
//! or aliased nodes, into flow collections or mappings with merge keys (`<<`), are refused
//! up front: a change there would silently change other places of the document.
//!
//! ```
//! use platformctl_yaml_edit::{Editor, Value};
//!
//! let src = "spec:\n  runtime:\n    host: a   # the box\n  update:\n    policy: manual\n";
//! let mut ed = Editor::new(src).unwrap();
//! let source = Value::map([("type", Value::str("upstream-image"))]);
//! ed.insert(&["spec"], "source", &source, &["runtime", "source", "artifact", "update"]).unwrap();
//! assert_eq!(
//!     ed.text(),
//!     "spec:\n  runtime:\n    host: a   # the box\n  source:\n    type: upstream-image\n  update:\n    policy: manual\n"
//! );
//! ```

mod outline;
mod render;
mod verify;

use std::fmt;

use outline::{Kind, ONode, Outline};
pub use render::{plain_safe, scalar};

/// A value to write: a string scalar, a mapping (in the given key order) or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A string. Written plain when that reads back as the same string, double-quoted
    /// otherwise.
    Str(String),
    /// A block mapping, keys in this order.
    Map(Vec<(String, Value)>),
    /// A block list.
    List(Vec<Value>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A mapping from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// Why an edit was not made. The document is unchanged when an edit fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The text is not YAML the loader reads.
    #[error("the document does not parse: {0}")]
    Parse(String),
    /// The path leads nowhere (or through something that is not a block mapping).
    #[error("`{path}` is not a mapping in this document")]
    NoSuchPath {
        /// The dotted path.
        path: String,
    },
    /// The key to insert is already there (an edit never overwrites).
    #[error("`{path}` already exists")]
    Exists {
        /// The dotted path.
        path: String,
    },
    /// The edit would be inside an anchored node or an alias (line given).
    #[error("line {line}: `{path}` is inside an anchored or aliased node; edit it by hand")]
    Anchored {
        /// The dotted path.
        path: String,
        /// Where the anchor or alias is.
        line: u32,
    },
    /// The target is written in a way this editor does not touch (flow style, merge keys,
    /// complex keys, multi-line scalars).
    #[error("line {line}: `{path}` is {why}; edit it by hand")]
    Unsupported {
        /// The dotted path.
        path: String,
        /// Where.
        line: u32,
        /// What is in the way.
        why: &'static str,
    },
    /// The edited text did not re-parse to the original plus exactly the intended change.
    #[error("the edit of `{path}` did not verify ({why}); nothing was changed")]
    Unverified {
        /// The dotted path.
        path: String,
        /// What differed.
        why: String,
    },
}

/// A document being edited. Each successful edit replaces the text; a failed edit leaves it as
/// it was.
#[derive(Clone, Debug)]
pub struct Editor {
    bom: bool,
    eol: &'static str,
    body: String,
    /// `body` parsed by the loader (what each edit is verified against).
    tree: platformctl_yaml::Node,
}

impl Editor {
    /// Starts editing `src` (a leading byte order mark is kept aside and put back).
    pub fn new(src: &str) -> Result<Editor, EditError> {
        let (bom, body) = match src.strip_prefix('\u{FEFF}') {
            Some(rest) => (true, rest),
            None => (false, src),
        };
        let eol = match body.find('\n') {
            Some(i) if i > 0 && body.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        // Parse once up front so that a broken document is refused before any edit.
        let tree = verify::parse(body)?;
        Ok(Editor {
            bom,
            eol,
            body: body.to_string(),
            tree,
        })
    }

    /// The current text, with the byte order mark if the original had one.
    pub fn text(&self) -> String {
        if self.bom {
            format!("\u{FEFF}{}", self.body)
        } else {
            self.body.clone()
        }
    }

    /// Whether the mapping at `path` has `key`.
    pub fn has(&self, path: &[&str], key: &str) -> bool {
        Outline::read(&self.body)
            .ok()
            .and_then(|o| o.root.lookup(path).map(|n| n.entry(key).is_some()))
            .unwrap_or(false)
    }

    /// Inserts `key: value` into the block mapping at `path` (`[]` for the top level).
    ///
    /// Placement: `order` is the order a person keeps the keys of that mapping in; the new
    /// entry goes right after the block of the last existing key that comes before `key` in
    /// `order` (trailing comments that are indented into that block stay with it), otherwise
    /// right before the first existing key that comes after it (with the comment lines just
    /// above that key), otherwise at the end of the mapping. The indentation is the siblings';
    /// nested levels use the step the document uses under `path`.
    pub fn insert(
        &mut self,
        path: &[&str],
        key: &str,
        value: &Value,
        order: &[&str],
    ) -> Result<(), EditError> {
        self.insert_all(path, &[(key, value)], order)
    }

    /// Inserts several entries into the mapping at `path` in one edit (each placed as
    /// [`Editor::insert`] places it; entries landing at the same place follow `order`), verified
    /// once. Either all are inserted or none.
    pub fn insert_all(
        &mut self,
        path: &[&str],
        new_entries: &[(&str, &Value)],
        order: &[&str],
    ) -> Result<(), EditError> {
        if new_entries.is_empty() {
            return Ok(());
        }
        let outline = Outline::read(&self.body)?;
        let lines = Lines::new(&self.body);
        let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
        let mut splices = Vec::with_capacity(new_entries.len());
        for (key, value) in new_entries {
            if new_entries.iter().filter(|(k, _)| k == key).count() > 1 {
                return Err(EditError::Exists {
                    path: dotted(path, Some(key)),
                });
            }
            let (offset, text) = self.place(&outline, &lines, path, key, value, order)?;
            splices.push((offset, rank(key), text));
        }
        splices.sort_by_key(|(o, r, _)| (*o, *r));
        let extra: usize = splices.iter().map(|s| s.2.len()).sum();
        let mut new = String::with_capacity(self.body.len() + extra);
        let mut at = 0;
        for (offset, _, text) in &splices {
            new.push_str(&self.body[at..*offset]);
            new.push_str(text);
            at = *offset;
        }
        new.push_str(&self.body[at..]);
        let keys: Vec<&str> = new_entries.iter().map(|(k, _)| *k).collect();
        self.tree = verify::inserted(&self.tree, &new, path, new_entries).map_err(|why| {
            EditError::Unverified {
                path: dotted(path, Some(&keys.join(","))),
                why,
            }
        })?;
        self.body = new;
        Ok(())
    }

    /// Where `key: value` goes in the current text, and the text to put there.
    fn place(
        &self,
        outline: &Outline,
        lines: &Lines<'_>,
        path: &[&str],
        key: &str,
        value: &Value,
        order: &[&str],
    ) -> Result<(usize, String), EditError> {
        let dotted = dotted(path, Some(key));
        let parent = guard_path(&outline.root, path, &dotted)?;
        let Kind::Map(entries) = &parent.kind else {
            return Err(no_path(path));
        };
        if parent.flow {
            return Err(unsupported(&dotted, parent.line, "a flow mapping (`{…}`)"));
        }
        if entries.iter().any(|(k, _)| k.scalar_text() == Some("<<")) {
            return Err(unsupported(
                &dotted,
                parent.line,
                "a mapping with a merge key (`<<`)",
            ));
        }
        if parent.entry(key).is_some() {
            return Err(EditError::Exists { path: dotted });
        }
        for (k, _) in entries {
            if k.scalar_text().is_none() || k.multiline {
                return Err(unsupported(&dotted, k.line, "a mapping with a complex key"));
            }
        }
        let Some((first_key, _)) = entries.first() else {
            return Err(unsupported(&dotted, parent.line, "an empty mapping"));
        };
        let indent = first_key.col;
        let step = match path.len() {
            0 => 2,
            _ => {
                let key_col = outline.root.lookup_key(path).map_or(0, |k| k.col);
                indent.checked_sub(key_col).filter(|s| *s > 0).unwrap_or(2)
            }
        };
        let rank = |k: &str| order.iter().position(|o| *o == k);
        let my_rank = rank(key);
        let after = my_rank.and_then(|r| {
            entries
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| k.scalar_text().and_then(rank).is_some_and(|kr| kr < r))
                .map(|(i, _)| i)
                .max()
        });
        let before = match (after, my_rank) {
            (None, Some(r)) => entries
                .iter()
                .position(|(k, _)| k.scalar_text().and_then(rank).is_some_and(|kr| kr > r)),
            _ => None,
        };
        let rendered = render::entry(key, value, indent, step);
        let (offset, text) = match (after, before) {
            (None, Some(i)) => {
                let k = &entries[i].0;
                if lines.indent(k.line) != k.col {
                    return Err(unsupported(
                        &dotted,
                        k.line,
                        "a mapping that starts mid-line",
                    ));
                }
                let mut l = k.line;
                while l > 1 && lines.is_comment(l - 1) && lines.indent(l - 1) == k.col {
                    l -= 1;
                }
                let mut t = String::new();
                for line in &rendered {
                    t.push_str(line);
                    t.push_str(self.eol);
                }
                (lines.start(l), t)
            }
            _ => {
                let i = after.unwrap_or(entries.len() - 1);
                let next_line = entries.get(i + 1).map(|(k, _)| k.line);
                let end = block_end(lines, &entries[i], next_line);
                let mut t = String::new();
                let at = match lines.after(end) {
                    Some(o) => {
                        for line in &rendered {
                            t.push_str(line);
                            t.push_str(self.eol);
                        }
                        o
                    }
                    None => {
                        // The block ends the file without a line break: start one, and end the
                        // inserted text without one, so the original bytes stay as they were.
                        for line in &rendered {
                            t.push_str(self.eol);
                            t.push_str(line);
                        }
                        self.body.len()
                    }
                };
                (at, t)
            }
        };
        Ok((offset, text))
    }

    /// Appends `item` to the block list at `path` (a list that already has items), at its
    /// items' indentation, after its last item. Verified like every edit: the list gained
    /// exactly that item and nothing else changed.
    pub fn append(&mut self, path: &[&str], item: &Value) -> Result<(), EditError> {
        let dotted = dotted(path, None);
        let outline = Outline::read(&self.body)?;
        let lines = Lines::new(&self.body);
        let Some((last, parent_path)) = path.split_last() else {
            return Err(no_path(path));
        };
        let parent = guard_path(&outline.root, parent_path, &dotted)?;
        let Some((_, node)) = parent.entry(last) else {
            return Err(no_path(path));
        };
        if node.anchored || node.alias {
            return Err(EditError::Anchored {
                path: dotted,
                line: node.line,
            });
        }
        if !matches!(node.kind, Kind::Seq) {
            return Err(unsupported(&dotted, node.line, "not a list"));
        }
        if node.flow {
            return Err(unsupported(&dotted, node.line, "a flow list (`[…]`)"));
        }
        if lines.indent(node.line) != node.col
            || !lines.get(node.line).trim_start().starts_with('-')
        {
            return Err(unsupported(
                &dotted,
                node.line,
                "a list that starts mid-line",
            ));
        }
        let rendered = render::list_item(item, node.col, 2);
        let mut t = String::new();
        let at = match lines.after(node.last_line) {
            Some(o) => {
                for line in &rendered {
                    t.push_str(line);
                    t.push_str(self.eol);
                }
                o
            }
            None => {
                for line in &rendered {
                    t.push_str(self.eol);
                    t.push_str(line);
                }
                self.body.len()
            }
        };
        let mut new = String::with_capacity(self.body.len() + t.len());
        new.push_str(&self.body[..at]);
        new.push_str(&t);
        new.push_str(&self.body[at..]);
        self.tree = verify::appended(&self.tree, &new, path, item)
            .map_err(|why| EditError::Unverified { path: dotted, why })?;
        self.body = new;
        Ok(())
    }

    /// Replaces the single-line scalar at `path` with `value`, keeping what follows it on its
    /// line (a comment). Plain stays plain when the new value reads back the same, otherwise
    /// it is double-quoted.
    pub fn set_scalar(&mut self, path: &[&str], value: &str) -> Result<(), EditError> {
        let dotted = dotted(path, None);
        let Some((last, parent_path)) = path.split_last() else {
            return Err(no_path(path));
        };
        let outline = Outline::read(&self.body)?;
        let lines = Lines::new(&self.body);
        let parent = guard_path(&outline.root, parent_path, &dotted)?;
        if parent.flow {
            return Err(unsupported(
                &dotted,
                parent.line,
                "in a flow mapping (`{…}`)",
            ));
        }
        let Some((_, node)) = parent.entry(last) else {
            return Err(no_path(path));
        };
        if node.anchored || node.alias {
            return Err(EditError::Anchored {
                path: dotted,
                line: node.line,
            });
        }
        let Kind::Scalar {
            end_line, end_col, ..
        } = node.kind
        else {
            return Err(unsupported(&dotted, node.line, "not a scalar"));
        };
        if node.multiline || end_line != node.line {
            return Err(unsupported(&dotted, node.line, "a multi-line scalar"));
        }
        let start = lines.byte_at(node.line, node.col);
        let end = lines.byte_at(end_line, end_col);
        let mut new = String::with_capacity(self.body.len() + value.len());
        new.push_str(&self.body[..start]);
        new.push_str(&render::scalar(value));
        new.push_str(&self.body[end..]);
        self.tree = verify::replaced(&self.tree, &new, path, value)
            .map_err(|why| EditError::Unverified { path: dotted, why })?;
        self.body = new;
        Ok(())
    }
}

/// The mapping at `path`, refusing anchors and aliases on the way (and at it).
fn guard_path<'a>(root: &'a ONode, path: &[&str], dotted: &str) -> Result<&'a ONode, EditError> {
    let mut node = root;
    let check = |n: &ONode| {
        if n.anchored || n.alias {
            Err(EditError::Anchored {
                path: dotted.to_string(),
                line: n.line,
            })
        } else {
            Ok(())
        }
    };
    check(node)?;
    for (i, seg) in path.iter().enumerate() {
        let Some((_, v)) = node.entry(seg) else {
            return Err(no_path(&path[..=i]));
        };
        check(v)?;
        node = v;
    }
    if !matches!(node.kind, Kind::Map(_)) {
        return Err(no_path(path));
    }
    Ok(node)
}

/// The last line of the block of an entry: the key's line, then every line indented deeper
/// than the key (content or comment, blank lines in between), or a `-` item at the key's
/// indentation for a list value; trailing blank lines are not part of it. Never reaches the
/// next sibling's line.
fn block_end(lines: &Lines, (k, v): &(ONode, ONode), next_line: Option<u32>) -> u32 {
    let n = k.col;
    let compact_list = matches!(v.kind, Kind::Seq) && !v.flow;
    let limit = next_line.unwrap_or(u32::MAX);
    let mut end = k.line.max(v.last_line);
    let mut l = k.line + 1;
    while l < limit && l <= lines.count() {
        if lines.is_blank(l) {
            l += 1;
            continue;
        }
        let ind = lines.indent(l);
        let item = compact_list && ind == n && lines.trimmed(l).starts_with('-');
        if ind > n || item {
            end = end.max(l);
            l += 1;
        } else {
            break;
        }
    }
    let mut end = end.min(limit.saturating_sub(1)).max(k.line);
    // A block scalar's span reaches over the blank lines after it; they are not its block.
    while end > k.line && lines.is_blank(end) {
        end -= 1;
    }
    end
}

fn dotted(path: &[&str], key: Option<&str>) -> String {
    let mut parts: Vec<&str> = path.to_vec();
    parts.extend(key);
    parts.join(".")
}

fn no_path(path: &[&str]) -> EditError {
    EditError::NoSuchPath {
        path: if path.is_empty() {
            "(top level)".into()
        } else {
            path.join(".")
        },
    }
}

fn unsupported(path: &str, line: u32, why: &'static str) -> EditError {
    EditError::Unsupported {
        path: path.to_string(),
        line,
        why,
    }
}

/// The text by lines (1-based), line breaks excluded.
struct Lines<'a> {
    src: &'a str,
    /// (start, end without the line break, start of the next line or None at EOF without one).
    spans: Vec<(usize, usize, Option<usize>)>,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str) -> Self {
        let mut spans = Vec::new();
        let mut start = 0;
        let bytes = src.as_bytes();
        while start < src.len() {
            match src[start..].find('\n') {
                Some(i) => {
                    let nl = start + i;
                    let end = if nl > start && bytes[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    spans.push((start, end, Some(nl + 1)));
                    start = nl + 1;
                }
                None => {
                    spans.push((start, src.len(), None));
                    start = src.len();
                }
            }
        }
        Lines { src, spans }
    }

    fn count(&self) -> u32 {
        u32::try_from(self.spans.len()).unwrap_or(u32::MAX)
    }

    fn get(&self, line: u32) -> &'a str {
        match self.spans.get((line as usize).wrapping_sub(1)) {
            Some(&(s, e, _)) => &self.src[s..e],
            None => "",
        }
    }

    fn start(&self, line: u32) -> usize {
        self.spans
            .get((line as usize).wrapping_sub(1))
            .map_or(self.src.len(), |s| s.0)
    }

    /// The byte offset where the line after `line` starts; `None` when `line` is the last and
    /// has no line break.
    fn after(&self, line: u32) -> Option<usize> {
        match self.spans.get((line as usize).wrapping_sub(1)) {
            Some(&(_, _, next)) => next,
            None => Some(self.src.len()),
        }
    }

    fn indent(&self, line: u32) -> u32 {
        let l = self.get(line);
        u32::try_from(l.len() - l.trim_start_matches(' ').len()).unwrap_or(0)
    }

    fn trimmed(&self, line: u32) -> &'a str {
        self.get(line).trim_start()
    }

    fn is_blank(&self, line: u32) -> bool {
        self.get(line).trim().is_empty()
    }

    fn is_comment(&self, line: u32) -> bool {
        self.trimmed(line).starts_with('#')
    }

    /// The byte offset of (line, column in characters, 0-based).
    fn byte_at(&self, line: u32, col: u32) -> usize {
        let start = self.start(line);
        let l = self.get(line);
        let within = l
            .char_indices()
            .nth(col as usize)
            .map_or(l.len(), |(i, _)| i);
        start + within
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in render::entry("value", self, 0, 2) {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod append_tests {
    use super::*;

    fn entry(code: &str) -> Value {
        Value::map([
            ("code", Value::str(code)),
            ("reason", Value::str("debug: on")),
        ])
    }

    #[test]
    fn appends_after_the_last_item_keeping_every_byte() {
        for eol in ["\n", "\r\n"] {
            let src = "spec:\n  drift:\n    accept:\n      - code: A   # first\n        reason: r\n  # tail comment\nother: 1\n"
                .replace('\n', eol);
            let mut ed = Editor::new(&src).unwrap();
            ed.append(&["spec", "drift", "accept"], &entry("B"))
                .unwrap();
            let want = "spec:\n  drift:\n    accept:\n      - code: A   # first\n        reason: r\n      - code: B\n        reason: \"debug: on\"\n  # tail comment\nother: 1\n"
                .replace('\n', eol);
            assert_eq!(ed.text(), want);
        }
    }

    #[test]
    fn refuses_flow_lists_and_anchors() {
        let mut ed = Editor::new("spec:\n  drift:\n    accept: [{code: A}]\n").unwrap();
        assert!(
            ed.append(&["spec", "drift", "accept"], &entry("B"))
                .is_err()
        );
        let mut ed = Editor::new("spec:\n  drift:\n    accept: &a\n      - code: A\n").unwrap();
        assert!(
            ed.append(&["spec", "drift", "accept"], &entry("B"))
                .is_err()
        );
    }
}
