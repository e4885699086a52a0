//! `key: value`, `key=value`, `KEY="value"` and `key = "value"` shapes
//! inside free text (Markdown lines, embedded config files, DSNs).

use crate::literal;
use crate::{SecretHit, SecretKind};

/// Byte ranges of the identifier runs `[A-Za-z_][A-Za-z0-9_.-]*` in `line`.
fn identifiers(line: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = line.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !(b[i].is_ascii_alphabetic() || b[i] == b'_') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-')) {
            i += 1;
        }
        Some((start, i))
    })
}

/// Cheap prefilter: the text mentions something credential-like and has a
/// separator at all.
fn worth_scanning(text: &str, cli_flags: bool) -> bool {
    let b = text.as_bytes();
    (b.contains(&b':') || b.contains(&b'=') || (cli_flags && text.contains("--")))
        && literal::mentions_credential(text)
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
    /// `--password value`: a command-line flag and its argument. Only
    /// looked for inside values (commands, entrypoints), not in prose.
    Flag,
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
/// With `cli_flags`, `--password value` counts too (for values that are
/// commands).
pub(crate) fn assignment_hits(text: &str, cli_flags: bool) -> Vec<SecretHit> {
    let mut hits = Vec::new();
    if !worth_scanning(text, cli_flags) {
        return hits;
    }
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        scan_line(line, line_start, cli_flags, &mut hits);
        line_start += line.len();
    }
    hits
}

fn scan_line(line: &str, line_start: usize, cli_flags: bool, hits: &mut Vec<SecretHit>) {
    let line = line.trim_end_matches(['\n', '\r']);
    let mut resume = 0;
    for (key_start, key_end) in identifiers(line) {
        if key_start < resume {
            continue;
        }
        let key = &line[key_start..key_end];
        if key.ends_with(['.', '-']) {
            // `password.` or `token-` at the end of a word: not a key.
            continue;
        }
        let before = &line[..key_start];
        let prev = before.chars().next_back();
        if prev.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '{' | '%')) {
            continue;
        }
        let mut i = key_end;
        // A quoted key: `"password": …`, `'token' = …`.
        let quoted_key = matches!(prev, Some('"' | '\''));
        if quoted_key && line[i..].starts_with(prev.expect("checked")) {
            i += 1;
        }
        let is_flag = cli_flags && before.ends_with("--");
        let Some((sep, value_rel)) = separator(&line[i..], quoted_key, is_flag) else {
            continue;
        };
        let value_start = i + value_rel;
        let Some(strength) = literal::classify_key(key) else {
            continue;
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
                    key: crate::key_for_display(key),
                },
                offset: line_start + v_start + s,
                len: e - s,
            });
        }
    }
}

/// The separator at the start of `rest` (what follows a key) and the offset
/// of the value after it.
fn separator(rest: &str, quoted_key: bool, is_flag: bool) -> Option<(Sep, usize)> {
    let blanks = |s: &str| s.len() - s.trim_start_matches([' ', '\t']).len();
    if rest.starts_with('=') {
        return (!rest.starts_with("==")).then_some((Sep::Tight, 1));
    }
    // `key:`, with Markdown emphasis around the colon allowed:
    // `**Password:** x`, `**Password**: x`.
    let stars = rest.len() - rest.trim_start_matches('*').len();
    if let Some(after) = rest[stars..].strip_prefix(':') {
        let after_stars = after.len() - after.trim_start_matches('*').len();
        let tail = &after[after_stars..];
        let at = stars + 1 + after_stars;
        if tail.is_empty() || tail.starts_with([' ', '\t']) {
            return Some((Sep::Loose, at + blanks(tail)));
        }
        // Compact JSON: `"password":"x"`.
        return (quoted_key && stars == 0 && after_stars == 0).then_some((Sep::Loose, at));
    }
    let n = blanks(rest);
    if n == 0 {
        return None;
    }
    let after = &rest[n..];
    if after.starts_with('=') && !after.starts_with("==") {
        return Some((Sep::Loose, n + 1 + blanks(&after[1..])));
    }
    // `--password value`: one blank, then a value that is not another flag.
    (is_flag && n == 1 && !after.is_empty() && !after.starts_with('-')).then_some((Sep::Flag, n))
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
        Sep::Loose | Sep::Flag => rest.find(char::is_whitespace).unwrap_or(rest.len()),
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
        assignment_hits(text, false)
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
