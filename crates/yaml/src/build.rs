//! Events from the YAML parser into a [`Node`] tree, within limits.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::node::{Map, Node, Pos, Scalar, Style, Value};

/// Bounds on what one document may cost.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes that aliases may add to the tree in total (the "billion laughs" bound).
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
        }
    }
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid YAML.
    Syntax,
    /// A key appears twice in one mapping; `first` is where it was first written.
    DuplicateKey {
        /// Where the key was first written.
        first: Pos,
    },
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep,
    /// Aliases would expand beyond [`Limits::max_alias_nodes`].
    AliasBudget,
    /// An alias to an anchor that was never defined.
    UnknownAnchor,
    /// More than one document in a file that must hold one.
    MultipleDocuments,
    /// A merge key (`<<`) whose value is not a mapping or a list of mappings.
    InvalidMerge,
}

/// A YAML error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Where.
    pub pos: Pos,
    /// What, as a category.
    pub kind: ErrorKind,
    /// What, for a person; says what to do where it can.
    pub message: String,
    /// For a syntax error inside a flow collection (`[…]`, `{…}`) that is still open where
    /// the error was found: where that innermost collection opened (its `[` or `{`), so that
    /// an unclosed one can be shown together with its start. `None` otherwise.
    pub opened_at: Option<Pos>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

impl std::error::Error for Error {}

fn pos_of(span: &Span) -> Pos {
    let m = span.start;
    Pos::new(sat(m.line()), sat(m.col() + 1))
}

fn width_of(span: &Span) -> u32 {
    if span.end.line() == span.start.line() && span.end.col() > span.start.col() {
        sat(span.end.col() - span.start.col())
    } else {
        1
    }
}

fn sat(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn style_of(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

fn tag_text(tag: &Tag) -> Box<str> {
    if tag.is_yaml_core_schema() {
        tag.suffix.clone().into_boxed_str()
    } else if tag.handle.is_empty() && tag.suffix == "!" {
        // The non-specific tag (`! 12`), which makes a plain scalar a string.
        "!".into()
    } else {
        tag.to_string().into_boxed_str()
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
        count: usize,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Map,
        key: Option<Node>,
        count: usize,
    },
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    root: Option<(Node, usize)>,
}

/// Parses one YAML document into a tree. An empty document (nothing, or only comments) is
/// `Ok(None)`.
pub fn parse(src: &str, limits: &Limits) -> Result<Option<Node>, Error> {
    let mut b = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
    };
    let mut docs = 0usize;
    let mut parser = Parser::new_from_str(src);
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| {
            let pos = Pos::new(sat(e.marker().line()), sat(e.marker().col() + 1));
            // The scanner bounds flow nesting ([[[…]]]) itself.
            if e.info().contains("recursion limit") {
                Error {
                    pos,
                    kind: ErrorKind::TooDeep,
                    opened_at: None,
                    message: "nesting deeper than the parser allows; \
                              a manifest or compose file never needs this"
                        .into(),
                }
            } else {
                Error {
                    pos,
                    kind: ErrorKind::Syntax,
                    message: e.info().to_string(),
                    opened_at: b.open_flow(src),
                }
            }
        })?;
        let pos = pos_of(&span);
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(Error {
                        pos,
                        kind: ErrorKind::MultipleDocuments,
                        opened_at: None,
                        message: "a second YAML document (`---`); this file must hold exactly one"
                            .into(),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let mut width = width_of(&span);
                if width <= 1 && !text.contains('\n') {
                    // Implicit keys come with an empty span: measure the text instead.
                    let quotes = match style {
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => 2,
                        _ => 0,
                    };
                    width = sat(text.chars().count() + quotes).max(1);
                }
                let node = Node {
                    pos,
                    width,
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        style: style_of(style),
                        tag: tag.as_deref().map(tag_text),
                    }),
                };
                b.complete(node, 1, anchor)?;
            }
            Event::Alias(id) => {
                let (node, count) = b.anchors.get(&id).cloned().ok_or_else(|| Error {
                    pos,
                    kind: ErrorKind::UnknownAnchor,
                    opened_at: None,
                    message: "alias to an anchor that is not defined before it".into(),
                })?;
                b.alias_nodes = b.alias_nodes.saturating_add(count);
                if b.alias_nodes > b.limits.max_alias_nodes {
                    return Err(Error {
                        pos,
                        kind: ErrorKind::AliasBudget,
                        opened_at: None,
                        message: format!(
                            "aliases expand to more than {} nodes (an alias bomb?); \
                             write the values out or use fewer nested aliases",
                            b.limits.max_alias_nodes
                        ),
                    });
                }
                let node = Node { pos, ..node };
                b.complete(node, count, 0)?;
            }
            Event::SequenceStart(anchor, _) => {
                b.open(pos)?;
                b.stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                    count: 1,
                });
            }
            Event::MappingStart(anchor, _) => {
                b.open(pos)?;
                b.stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    count: 1,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    pos,
                    anchor,
                    items,
                    count,
                }) = b.stack.pop()
                {
                    let node = Node {
                        pos,
                        width: 1,
                        value: Value::Seq(items),
                    };
                    b.complete(node, count, anchor)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    count,
                    ..
                }) = b.stack.pop()
                {
                    let entries = finish_map(entries)?;
                    let node = Node {
                        pos,
                        width: 1,
                        value: Value::Map(entries),
                    };
                    b.complete(node, count, anchor)?;
                }
            }
        }
    }
    Ok(b.root.map(|(n, _)| n))
}

impl Builder<'_> {
    /// Where the innermost flow collection still open was opened (its `[` or `{`): the
    /// frame's position holds that character only for a flow collection.
    fn open_flow(&self, src: &str) -> Option<Pos> {
        self.stack.iter().rev().find_map(|f| {
            let pos = match f {
                Frame::Seq { pos, .. } | Frame::Map { pos, .. } => *pos,
            };
            let line = src
                .lines()
                .nth(usize::try_from(pos.line).ok()?.checked_sub(1)?)?;
            let c = line
                .chars()
                .nth(usize::try_from(pos.col).ok()?.checked_sub(1)?)?;
            matches!(c, '[' | '{').then_some(pos)
        })
    }

    fn open(&self, pos: Pos) -> Result<(), Error> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error {
                pos,
                kind: ErrorKind::TooDeep,
                opened_at: None,
                message: format!(
                    "nesting deeper than {} levels; a manifest or compose file never needs this",
                    self.limits.max_depth
                ),
            });
        }
        Ok(())
    }

    /// A node is finished: record its anchor and hand it to its parent.
    fn complete(&mut self, node: Node, count: usize, anchor: usize) -> Result<(), Error> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            None => self.root = Some((node, count)),
            Some(Frame::Seq {
                items, count: c, ..
            }) => {
                items.push(node);
                *c = c.saturating_add(count);
            }
            Some(Frame::Map {
                entries,
                key,
                count: c,
                ..
            }) => {
                *c = c.saturating_add(count);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
            }
        }
        Ok(())
    }
}

fn is_merge_key(k: &Node) -> bool {
    matches!(&k.value, Value::Scalar(s) if s.style == Style::Plain && s.text == "<<")
}

fn key_text(k: &Node) -> Option<&str> {
    k.as_scalar().map(|s| s.text.as_str())
}

/// Checks for duplicate keys and resolves merge keys.
fn finish_map(entries: Map) -> Result<Map, Error> {
    check_duplicates(&entries)?;
    if !entries.iter().any(|(k, _)| is_merge_key(k)) {
        return Ok(entries);
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut merges = Vec::new();
    for (k, v) in entries {
        if is_merge_key(&k) {
            match v.value {
                Value::Map(m) => merges.push(m),
                Value::Seq(items) => {
                    for item in items {
                        match item.value {
                            Value::Map(m) => merges.push(m),
                            _ => return Err(invalid_merge(item.pos)),
                        }
                    }
                }
                _ => return Err(invalid_merge(v.pos)),
            }
        } else {
            own.push((k, v));
        }
    }
    for m in merges {
        for (k, v) in m {
            let present = match key_text(&k) {
                Some(t) => own.iter().any(|(ok, _)| key_text(ok) == Some(t)),
                None => false,
            };
            if !present {
                own.push((k, v));
            }
        }
    }
    Ok(own)
}

fn invalid_merge(pos: Pos) -> Error {
    Error {
        pos,
        kind: ErrorKind::InvalidMerge,
        opened_at: None,
        message: "a merge key `<<` takes a mapping or a list of mappings".into(),
    }
}

fn check_duplicates(entries: &Map) -> Result<(), Error> {
    let dup = |first: &Node, second: &Node| Error {
        pos: second.pos,
        kind: ErrorKind::DuplicateKey { first: first.pos },
        opened_at: None,
        message: format!(
            "duplicate key `{}` (first written at line {}); keep one",
            key_text(second).unwrap_or("?"),
            first.pos.line
        ),
    };
    let keys = entries
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !is_merge_key(k) && k.as_scalar().is_some());
    if entries.len() <= 16 {
        let keys: Vec<&Node> = keys.collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                if key_text(a) == key_text(b) {
                    return Err(dup(a, b));
                }
            }
        }
    } else {
        let mut seen: HashMap<&str, &Node> = HashMap::with_capacity(entries.len());
        for k in keys {
            if let Some(t) = key_text(k)
                && let Some(first) = seen.insert(t, k)
            {
                return Err(dup(first, k));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScalarKind;

    fn p(src: &str) -> Result<Option<Node>, Error> {
        parse(src, &Limits::default())
    }

    #[test]
    fn positions_are_one_based() {
        let n = p("a:\n  b: hello\n").unwrap().unwrap();
        let b = n.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.pos, Pos::new(2, 6));
        assert_eq!(b.width, 5);
    }

    #[test]
    fn empty_and_comment_only_documents_are_none() {
        assert_eq!(p("").unwrap(), None);
        assert_eq!(p("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_positions() {
        let e = p("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos::new(3, 1));
        assert_eq!(
            e.kind,
            ErrorKind::DuplicateKey {
                first: Pos::new(1, 1)
            }
        );
    }

    #[test]
    fn duplicate_keys_in_large_maps_are_found() {
        let mut src: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        src.push_str("k42: again\n");
        let e = p(&src).unwrap_err();
        assert_eq!(e.pos.line, 101);
    }

    #[test]
    fn merge_keys_resolve_with_own_keys_winning() {
        let src = "x-a: &a {restart: always, user: a}\nx-b: &b {user: b, init: true}\n\
                   svc:\n  <<: [*a, *b]\n  restart: no\n";
        let n = p(src).unwrap().unwrap();
        let svc = n.get("svc").unwrap();
        assert_eq!(svc.get("restart").unwrap().scalar_text(), Some("no"));
        assert_eq!(svc.get("user").unwrap().as_str(), Some("a"));
        assert_eq!(svc.get("init").unwrap().as_bool(), Some(true));
        assert!(svc.get("<<").is_none());
    }

    #[test]
    fn single_merge_key() {
        let n = p("b: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n").unwrap().unwrap();
        assert_eq!(n.get("c").unwrap().get("x").unwrap().as_int(), Some(1));
    }

    #[test]
    fn quoted_merge_key_is_an_ordinary_key() {
        let n = p("c:\n  '<<': 1\n").unwrap().unwrap();
        assert!(n.get("c").unwrap().get("<<").is_some());
    }

    #[test]
    fn an_unclosed_flow_collection_names_where_it_opened() {
        // The manifest case: `[` never closed, the error found lines later.
        let e = p("apiVersion: platform/v2\nkind: [Module\nmetadata:\n  name: x\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.opened_at, Some(Pos::new(2, 7)), "{e:?}");
        assert!(e.pos.line > 2, "{e:?}");
        // The innermost one still open; a mapping too.
        let e = p("a:\n  b: [1, {c: [2, 3], d: 4\n").unwrap_err();
        assert_eq!(e.opened_at, Some(Pos::new(2, 10)), "{e:?}");
        let e = p("a: {b: 1\nc: 2\n").unwrap_err();
        assert_eq!(e.opened_at, Some(Pos::new(1, 4)), "{e:?}");
        // Must not be: errors outside any flow collection, and flow collections that closed.
        let e = p("a: [1, 2]\nb: \"x\ny: [3]\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.opened_at, None, "{e:?}");
        let e = p("a:\n  - [1, 2]\n b: 1\n").unwrap_err();
        assert_eq!(e.opened_at, None, "{e:?}");
        let e = p("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.opened_at, None);
    }

    #[test]
    fn merge_of_a_scalar_is_an_error() {
        let e = p("a: &a 1\nb:\n  <<: *a\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidMerge);
    }

    #[test]
    fn billion_laughs_is_bounded() {
        let mut src = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 9].join(", ");
            src.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let e = p(&src).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AliasBudget);
    }

    #[test]
    fn deep_block_nesting_is_bounded() {
        let mut src = String::new();
        for i in 0..20_000 {
            src.push_str(&" ".repeat(i));
            src.push_str("a:\n");
        }
        let e = p(&src).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep);
    }

    #[test]
    fn deep_flow_nesting_is_bounded() {
        let src = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        let e = p(&src).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = p("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert!(e.pos.line >= 1);
        let e = p("a: b: c\n").unwrap_err();
        assert_eq!(e.pos.line, 1);
    }

    #[test]
    fn second_document_is_refused() {
        let e = p("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MultipleDocuments);
        assert_eq!(e.pos.line, 2);
    }

    #[test]
    fn unknown_alias_is_an_error() {
        let e = p("a: *nope\n").unwrap_err();
        assert!(matches!(
            e.kind,
            ErrorKind::Syntax | ErrorKind::UnknownAnchor
        ));
    }

    #[test]
    fn core_schema_resolution() {
        let n =
            p("a: yes\nb: true\nc: '1'\nd: 1\ne: 1.5\nf: ~\ng: !!str 7\nh: 2026-05-20\ni: 0x1f\n")
                .unwrap()
                .unwrap();
        let k = |key: &str| n.get(key).unwrap().as_scalar().unwrap().kind();
        assert_eq!(k("a"), ScalarKind::Str("yes"));
        assert_eq!(k("b"), ScalarKind::Bool(true));
        assert_eq!(k("c"), ScalarKind::Str("1"));
        assert_eq!(k("d"), ScalarKind::Int(1));
        assert_eq!(k("e"), ScalarKind::Float(1.5));
        assert_eq!(k("f"), ScalarKind::Null);
        assert_eq!(k("g"), ScalarKind::Str("7"));
        assert_eq!(k("h"), ScalarKind::Str("2026-05-20"));
        assert_eq!(k("i"), ScalarKind::Int(31));
    }

    #[test]
    fn custom_tags_are_kept() {
        let n = p("ports: !reset []\n").unwrap().unwrap();
        assert!(n.get("ports").unwrap().as_seq().is_some());
    }

    /// Forms yaml.v3 (Docker Compose's parser) loads and real compose files use, which strict
    /// YAML 1.2 refuses (issue 9; vendor/saphyr-parser/PATCHES.md).
    #[test]
    fn forms_compose_accepts() {
        let texts = |n: &Node| -> Vec<String> {
            n.as_seq()
                .unwrap()
                .iter()
                .map(|i| i.scalar_text().unwrap().to_string())
                .collect()
        };
        // getsentry/self-hosted: a flow sequence closed at its key's indentation, with comments.
        let n = p("x:\n  a: [\n    \"b\", # why\n    \"d\",\n  ]\n  e: 1\n")
            .unwrap()
            .unwrap();
        assert_eq!(texts(n.get("x").unwrap().get("a").unwrap()), ["b", "d"]);
        assert_eq!(n.get("x").unwrap().get("e").unwrap().as_int(), Some(1));
        let n = p("x:\n  a: [\"b\",\n  \"d\"]\n").unwrap().unwrap();
        assert_eq!(texts(n.get("x").unwrap().get("a").unwrap()), ["b", "d"]);
        // A lone `-` in a flow list.
        let n = p("command: [tar, -xf, -, -C, /data]\n").unwrap().unwrap();
        assert_eq!(
            texts(n.get("command").unwrap()),
            ["tar", "-xf", "-", "-C", "/data"]
        );
        // A comment without a space before `#`.
        let n = p("image: \"redis:7\"# pinned\n").unwrap().unwrap();
        assert_eq!(n.get("image").unwrap().as_str(), Some("redis:7"));
        // A multi-line quoted scalar continued at its key's indentation.
        let n = p("x:\n  a: \"foo\n  bar\"\n").unwrap().unwrap();
        assert_eq!(
            n.get("x").unwrap().get("a").unwrap().as_str(),
            Some("foo bar")
        );
        // `key:<TAB>value`.
        let n = p("a:\tb\nc: d\n").unwrap().unwrap();
        assert_eq!(n.get("a").unwrap().as_str(), Some("b"));
        // Tabs inside a multi-line flow list.
        let n = p("x:\n  a: [\n\tb,\n\tc\n  ]\n").unwrap().unwrap();
        assert_eq!(texts(n.get("x").unwrap().get("a").unwrap()), ["b", "c"]);
    }

    /// What compose refuses stays refused.
    #[test]
    fn forms_compose_refuses_stay_errors() {
        for src in [
            "a: [1, 2\nb: 3\n",
            "a: b: c\n",
            "a:\n\tb: 1\n",
            "a: 'unterminated\n",
            "- a\nb: c\n",
            "a:\n  b: 1\n c: 2\n",
            "a:\t- b\n",
            "a:\tb: c\n",
        ] {
            assert!(p(src).is_err(), "{src:?} must be refused");
        }
    }

    #[test]
    fn integers_as_yaml_v3_reads_them() {
        let n =
            p("a: 0440\nb: 0o17\nc: 0x1F\nd: -12\ne: 1_000\nf: 0b101\ng: 08\nh: 0\ni: '0440'\n")
                .unwrap()
                .unwrap();
        let k = |key: &str| n.get(key).unwrap().as_scalar().unwrap().kind();
        assert_eq!(k("a"), ScalarKind::Int(288));
        assert_eq!(k("b"), ScalarKind::Int(15));
        assert_eq!(k("c"), ScalarKind::Int(31));
        assert_eq!(k("d"), ScalarKind::Int(-12));
        assert_eq!(k("e"), ScalarKind::Int(1000));
        assert_eq!(k("f"), ScalarKind::Int(5));
        assert_eq!(k("g"), ScalarKind::Float(8.0));
        assert_eq!(k("h"), ScalarKind::Int(0));
        assert_eq!(k("i"), ScalarKind::Str("0440"));
        let n = p("- ! 12\n").unwrap().unwrap();
        let s = n.as_seq().unwrap()[0].as_scalar().unwrap();
        assert_eq!(s.kind(), ScalarKind::Str("12"), "{:?}", s.tag);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = p(&s);
        }

        #[test]
        fn never_panics_on_yamlish(s in "[-:\\[\\]{}&*!|>'\" \n#a-c0-9<]{0,120}") {
            let _ = p(&s);
        }
    }
}
