//! C-13: secret-looking values, found with `platformctl-secrets`, never repeated.

use std::collections::BTreeMap;
use std::path::Path;

use platformctl_diagnostics::LineIndex;
use platformctl_secrets::{SecretHit, scan_pair, scan_text, scan_value};
use platformctl_yaml::{Node, Style, Value};

use crate::finding::{Code, Finding};
use crate::model::{ByteSpan, Loc};

const HINT: &str = "remove it and rotate the credential (git history keeps it); write where \
                    it is kept instead: a secret's name, a vault path, an env variable name";

/// Scans the whole text (free text, comments, fences of any language) with `scan_text`, and
/// every scalar of the parsed YAML regions with `scan_pair` under its key. One finding per
/// line; a YAML hit wins over a text hit on the same line (it knows the key).
pub(crate) fn scan(
    findings: &mut Vec<Finding>,
    text: &str,
    file: &Path,
    idx: &LineIndex<'_>,
    yaml: &[(ByteSpan, u32, Node)],
) {
    let mut by_line: BTreeMap<u32, (Loc, String)> = BTreeMap::new();
    for (_, first_line, root) in yaml {
        walk(root, "", *first_line, 0, &mut by_line);
    }
    for hit in scan_text(text) {
        let loc = Loc::from(idx.pos(hit.offset));
        by_line
            .entry(loc.line)
            .or_insert_with(|| (loc, hit.kind.describe()));
    }
    for (_, (loc, what)) in by_line {
        findings.push(
            Finding::new(
                Code::C13,
                file,
                loc,
                format!("{what} in the workplan (the value is not shown)"),
            )
            .hint(HINT),
        );
    }
}

fn walk(
    node: &Node,
    key: &str,
    first_line: u32,
    depth: usize,
    out: &mut BTreeMap<u32, (Loc, String)>,
) {
    if depth > 64 {
        return;
    }
    match &node.value {
        Value::Scalar(s) => {
            if let Some(hit) = scan_pair(key, &s.text) {
                let loc = value_loc(node, first_line, &hit, s.style, &s.text);
                out.entry(loc.line).or_insert((loc, hit.kind.describe()));
            }
        }
        Value::Seq(items) => {
            for item in items {
                walk(item, key, first_line, depth + 1, out);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let name = k.as_scalar().map_or("", |s| s.text.as_str());
                if let Some(hit) = scan_value(name) {
                    let loc = node_loc(k, first_line);
                    out.entry(loc.line).or_insert((loc, hit.kind.describe()));
                }
                walk(v, name, first_line, depth + 1, out);
            }
        }
    }
}

fn node_loc(node: &Node, first_line: u32) -> Loc {
    Loc::new(first_line + node.pos.line.max(1) - 1, node.pos.col.max(1))
}

/// Where a hit inside a scalar is: exact for one-line plain and quoted scalars, the start of
/// the scalar otherwise.
fn value_loc(node: &Node, first_line: u32, hit: &SecretHit, style: Style, text: &str) -> Loc {
    let base = node_loc(node, first_line);
    let one_line = !text.contains('\n');
    let shift = match style {
        Style::Plain if one_line => 0,
        Style::SingleQuoted | Style::DoubleQuoted if one_line && !text.contains('\\') => 1,
        _ => return base,
    };
    let chars = text.get(..hit.offset).map_or(0, |t| t.chars().count());
    Loc::new(
        base.line,
        base.column + shift + u32::try_from(chars).unwrap_or(0),
    )
}
