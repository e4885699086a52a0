//! `key: value`, `key=value`, `KEY="value"` and `key = "value"` shapes
//! inside free text (Markdown lines, embedded config files, DSNs).

use std::sync::LazyLock;

use regex::Regex;

use crate::literal;
use crate::{SecretHit, SecretKind};

static KEY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z_][A-Za-z0-9_.\-]*").expect("key regex compiles"));

/// Cheap prefilter: the text mentions something credential-like and has a
/// separator at all.
fn worth_scanning(text: &str) -> bool {
    let b = text.as_bytes();
    (b.contains(&b':') || b.contains(&b'=')) && literal::mentions_credential(text)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// `key=value`: no blanks around `=` (env files, CLI flags, DSNs, query
    /// strings). Never prose.
    Tight,
    /// `key: value` or `key = value`: could be prose ("the password: see
    /// below"), so a bare value only counts at the start of a line and as the
    /// line's last word.
    Loose,
}

/// Everything before the key on its line is indentation, a list or quote
/// marker, a comment marker, or `export`.
fn key_starts_line(before: &str) -> bool {
    let t = before.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '-' | '*' | '+' | '>' | '#' | '/' | ';')
    });
    t.is_empty() || t.trim_end() == "export"
}

/// Credential assignments in `text`, with offsets relative to `text`.
pub(crate) fn assignment_hits(text: &str) -> Vec<SecretHit> {
    let mut hits = Vec::new();
    if !worth_scanning(text) {
        return hits;
    }
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        scan_line(line, line_start, &mut hits);
        line_start += line.len();
    }
    hits
}

fn scan_line(line: &str, line_start: usize, hits: &mut Vec<SecretHit>) {
    let line = line.trim_end_matches(['\n', '\r']);
    let mut resume = 0;
    for m in KEY_RE.find_iter(line) {
        if m.start() < resume {
            continue;
        }
        let raw_key = m.as_str();
        let key = raw_key.trim_end_matches(['.', '-']);
        let Some(strength) = literal::classify_key(key) else {
            continue;
        };
        let before = &line[..m.start()];
        let prev = before.chars().next_back();
        if prev.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '{' | '%')) {
            continue;
        }
        let mut i = m.start() + key.len();
        if key.len() != raw_key.len() {
            // `password.` or `token-` at the end of a word: not a key.
            continue;
        }
        // A quoted key: `"password": …`, `'token' = …`.
        let quoted_key = matches!(prev, Some('"' | '\''));
        if quoted_key && line[i..].starts_with(prev.expect("checked")) {
            i += 1;
        }
        let rest = &line[i..];
        let (sep, value_start) = if rest.starts_with('=') && !rest.starts_with("==") {
            (Sep::Tight, i + 1)
        } else if let Some(after) = rest.strip_prefix(':') {
            if after.is_empty() || after.starts_with([' ', '\t']) {
                (Sep::Loose, i + 1 + (after.len() - after.trim_start().len()))
            } else {
                continue;
            }
        } else {
            let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let after_eq = &rest[blanks..];
            if blanks > 0 && after_eq.starts_with('=') && !after_eq.starts_with("==") {
                let v = &after_eq[1..];
                (
                    Sep::Loose,
                    i + blanks + 1 + (v.len() - v.trim_start().len()),
                )
            } else {
                continue;
            }
        };
        let Some((v_start, v_end, quoted)) = value_range(line, value_start, sep) else {
            continue;
        };
        if !quoted && sep == Sep::Loose {
            // A bare value after `: ` counts only in a YAML/TOML-shaped line:
            // key first on the line, value last (a `# comment` may follow).
            let tail = line[v_end..].trim_start();
            if !key_starts_line(before.trim_end_matches(['"', '\'']))
                || !(tail.is_empty() || tail.starts_with('#'))
            {
                continue;
            }
        }
        resume = v_end;
        let value = &line[v_start..v_end];
        if let Some((s, e)) = literal::literal_span(value, strength) {
            hits.push(SecretHit {
                kind: SecretKind::LiteralPassword {
                    key: key.to_owned(),
                },
                offset: line_start + v_start + s,
                len: e - s,
            });
        }
    }
}

/// The value's byte range in `line` (quotes excluded) and whether it was
/// quoted. `None` when there is no value.
fn value_range(line: &str, start: usize, sep: Sep) -> Option<(usize, usize, bool)> {
    let rest = &line[start..];
    let first = rest.chars().next()?;
    if matches!(first, '"' | '\'' | '`') {
        let inner = &rest[1..];
        let mut escaped = false;
        for (j, c) in inner.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && first == '"' {
                escaped = true;
            } else if c == first {
                return Some((start + 1, start + 1 + j, true));
            }
        }
        // No closing quote: fall through and read it bare.
    }
    if first.is_whitespace() {
        return None;
    }
    let end_rel = match sep {
        Sep::Tight => rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ';' | '&' | ','))
            .unwrap_or(rest.len()),
        Sep::Loose => rest.find(char::is_whitespace).unwrap_or(rest.len()),
    };
    let bare = rest[..end_rel].trim_end_matches(['.', ',', ')', ']', '}', '>']);
    // Keep a trailing `}` when the value is an interpolation: `${X}`.
    let bare = if rest[..end_rel].ends_with('}') && bare.contains("${") {
        &rest[..end_rel]
    } else {
        bare
    };
    if bare.is_empty() {
        return None;
    }
    Some((start, start + bare.len(), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        assignment_hits(text)
            .iter()
            .map(|h| &text[h.offset..h.offset + h.len])
            .collect()
    }

    #[test]
    fn shapes() {
        assert_eq!(spans("POSTGRES_PASSWORD=hunter2"), ["hunter2"]);
        assert_eq!(spans("export DB_PASS=\"hunter2\""), ["hunter2"]);
        assert_eq!(spans("password: hunter2"), ["hunter2"]);
        assert_eq!(spans("  - password: hunter2 # old"), ["hunter2"]);
        assert_eq!(spans("api_key = \"abc123\""), ["abc123"]);
        assert_eq!(
            spans("{\"password\": \"hunter2\", \"user\": \"x\"}"),
            ["hunter2"]
        );
        assert_eq!(spans("run `DB_PASSWORD=hunter2` first"), ["hunter2"]);
        assert_eq!(spans("Server=db;User Id=sa;Password=Secr3t!;"), ["Secr3t!"]);
        assert_eq!(spans("https://h/cb?token=abc123&x=1"), ["abc123"]);
        assert_eq!(
            spans("host=db user=app password=hunter2 sslmode=require"),
            ["hunter2"]
        );
        assert_eq!(spans("a\npassword: x1\r\ntoken: y2\n"), ["x1", "y2"]);
    }

    #[test]
    fn prose_and_references() {
        for t in [
            "Rotate the password: see the runbook",
            "The token: it expires weekly",
            "we rotate the db password: weekly",
            "password: ${DB_PASSWORD}",
            "DB_PASSWORD=${DB_PASSWORD:-x}",
            "password_file: /run/secrets/db",
            "if password == other",
            "password:hunter2",
            "password:",
            "password: |",
            "Password: required",
            "auth: oidc",
            "secret_ref: vault/kv/app",
            "$PASSWORD=x",
            "description: rotates the postgres password weekly",
        ] {
            assert!(spans(t).is_empty(), "{t:?} -> {:?}", spans(t));
        }
    }
}
