//! The document's structure as the editor needs it: where each node starts, where it ends,
//! whether it carries an anchor or is an alias, whether it is written in flow style.

use saphyr_parser::{Event, Parser, Span};

use crate::EditError;

/// A node of the outline.
#[derive(Clone, Debug)]
pub(crate) struct ONode {
    /// 1-based line of the node's first character.
    pub line: u32,
    /// 0-based column (characters) of the node's first character.
    pub col: u32,
    /// The last line the node's text reaches.
    pub last_line: u32,
    /// Carries an anchor (`&a`).
    pub anchored: bool,
    /// Is an alias (`*a`).
    pub alias: bool,
    /// Written in flow style (`{…}`, `[…]`).
    pub flow: bool,
    /// A scalar written over more than one line.
    pub multiline: bool,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Scalar {
        text: String,
        /// Where the scalar's text ends (exclusive), line and column.
        end_line: u32,
        end_col: u32,
    },
    Seq,
    Map(Vec<(ONode, ONode)>),
    Alias,
}

impl ONode {
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn entry(&self, key: &str) -> Option<&(ONode, ONode)> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.scalar_text() == Some(key)),
            _ => None,
        }
    }

    pub fn lookup(&self, path: &[&str]) -> Option<&ONode> {
        let mut node = self;
        for seg in path {
            node = &node.entry(seg)?.1;
        }
        Some(node)
    }

    /// The key node of the entry at `path` (non-empty).
    pub fn lookup_key(&self, path: &[&str]) -> Option<&ONode> {
        let (last, parent) = path.split_last()?;
        Some(&self.lookup(parent)?.entry(last)?.0)
    }
}

pub(crate) struct Outline {
    pub root: ONode,
}

enum Frame {
    Seq(ONode),
    Map(ONode, Vec<(ONode, ONode)>, Option<ONode>),
}

fn u(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Outline {
    pub fn read(src: &str) -> Result<Outline, EditError> {
        let lines: Vec<&str> = src.split('\n').collect();
        let char_at = |line: usize, col: usize| -> Option<char> {
            lines.get(line.checked_sub(1)?)?.chars().nth(col)
        };
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<ONode> = None;
        let mut parser = Parser::new_from_str(src);
        let new_node = |span: &Span, anchor: usize, kind: Kind| ONode {
            line: u(span.start.line()),
            col: u(span.start.col()),
            last_line: u(span.start.line()),
            anchored: anchor != 0,
            alias: false,
            flow: false,
            multiline: false,
            kind,
        };
        while let Some(ev) = parser.next_event() {
            let (ev, span) = ev.map_err(|e| EditError::Parse(e.to_string()))?;
            let done = match ev {
                Event::Scalar(text, _style, anchor, _) => {
                    let (mut end_line, mut end_col) = (u(span.end.line()), u(span.end.col()));
                    if span.end.line() == span.start.line() && span.end.col() <= span.start.col() {
                        // An implicit key comes with an empty span.
                        end_col = u(span.start.col() + text.chars().count());
                    }
                    let mut last = end_line;
                    if end_line > u(span.start.line()) && end_col == 0 {
                        last -= 1; // a block scalar ends at the start of the next line
                    }
                    let multiline = last > u(span.start.line());
                    if !multiline {
                        end_line = u(span.start.line());
                        end_col = end_col.max(u(span.start.col()));
                    }
                    let mut n = new_node(
                        &span,
                        anchor,
                        Kind::Scalar {
                            text: text.into_owned(),
                            end_line,
                            end_col,
                        },
                    );
                    n.last_line = last;
                    n.multiline = multiline;
                    Some(n)
                }
                Event::Alias(_) => {
                    let mut n = new_node(&span, 0, Kind::Alias);
                    n.alias = true;
                    Some(n)
                }
                Event::SequenceStart(anchor, _) => {
                    let mut n = new_node(&span, anchor, Kind::Seq);
                    n.flow = char_at(span.start.line(), span.start.col()) == Some('[');
                    stack.push(Frame::Seq(n));
                    None
                }
                Event::MappingStart(anchor, _) => {
                    let mut n = new_node(&span, anchor, Kind::Map(Vec::new()));
                    n.flow = char_at(span.start.line(), span.start.col()) == Some('{');
                    stack.push(Frame::Map(n, Vec::new(), None));
                    None
                }
                Event::SequenceEnd => match stack.pop() {
                    Some(Frame::Seq(mut n)) => {
                        if n.flow {
                            n.last_line = n.last_line.max(u(span.start.line()));
                        }
                        Some(n)
                    }
                    _ => None,
                },
                Event::MappingEnd => match stack.pop() {
                    Some(Frame::Map(mut n, entries, _)) => {
                        if n.flow {
                            n.last_line = n.last_line.max(u(span.start.line()));
                        }
                        n.kind = Kind::Map(entries);
                        Some(n)
                    }
                    _ => None,
                },
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(EditError::Parse("more than one document".into()));
                }
                _ => None,
            };
            let Some(node) = done else { continue };
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq(parent)) => {
                    parent.last_line = parent.last_line.max(node.last_line);
                }
                Some(Frame::Map(parent, entries, key)) => {
                    parent.last_line = parent.last_line.max(node.last_line);
                    match key.take() {
                        None => *key = Some(node),
                        Some(k) => entries.push((k, node)),
                    }
                }
            }
        }
        let root = root.ok_or_else(|| EditError::Parse("an empty document".into()))?;
        Ok(Outline { root })
    }
}
