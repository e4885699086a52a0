//! New text in the document's own layout.

use platformctl_yaml::{Limits, ScalarKind, parse};

use crate::Value;

/// Whether `s` can be written as a plain scalar and read back as the same string.
pub fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control() || c == '\u{FEFF}')
    {
        return false;
    }
    // It must resolve to a string, not a boolean, number or null. Numbers start with a digit,
    // a sign or a dot; the words below are the only alphabetic non-strings.
    if first.is_ascii_alphabetic() {
        const WORDS: [&str; 4] = ["true", "false", "null", "~"];
        return !WORDS.iter().any(|w| s.eq_ignore_ascii_case(w));
    }
    let doc = format!("k: {s}\n");
    match parse(&doc, &Limits::default()) {
        Ok(Some(n)) => n
            .get("k")
            .and_then(|v| v.as_scalar())
            .is_some_and(|sc| matches!(sc.kind(), ScalarKind::Str(t) if t == s)),
        _ => false,
    }
}

/// `s` as a scalar: plain when [`plain_safe`], double-quoted (escaped) otherwise.
pub fn scalar(s: &str) -> String {
    if plain_safe(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{FEFF}' => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The lines (without line breaks) of `key: value` at `indent`, nested levels `step` deeper.
pub(crate) fn entry(key: &str, value: &Value, indent: u32, step: u32) -> Vec<String> {
    let pad = " ".repeat(indent as usize);
    let k = scalar(key);
    match value {
        Value::Str(s) => vec![format!("{pad}{k}: {}", scalar(s))],
        Value::Map(m) if m.is_empty() => vec![format!("{pad}{k}: {{}}")],
        Value::List(l) if l.is_empty() => vec![format!("{pad}{k}: []")],
        Value::Map(m) => {
            let mut out = vec![format!("{pad}{k}:")];
            for (ck, cv) in m {
                out.extend(entry(ck, cv, indent + step, step));
            }
            out
        }
        Value::List(items) => {
            let mut out = vec![format!("{pad}{k}:")];
            for item in items {
                out.extend(list_item(item, indent + step, step));
            }
            out
        }
    }
}

pub(crate) fn list_item(item: &Value, indent: u32, step: u32) -> Vec<String> {
    let pad = " ".repeat(indent as usize);
    match item {
        Value::Str(s) => vec![format!("{pad}- {}", scalar(s))],
        Value::Map(m) if !m.is_empty() => {
            let mut out = Vec::new();
            for (ck, cv) in m {
                out.extend(entry(ck, cv, indent + 2, step));
            }
            // `- ` takes the place of the first line's indentation.
            let inner = " ".repeat(indent as usize + 2);
            if let Some(first) = out.first_mut()
                && let Some(rest) = first.strip_prefix(&inner)
            {
                *first = format!("{pad}- {rest}");
            }
            out
        }
        Value::Map(_) => vec![format!("{pad}- {{}}")],
        Value::List(l) if l.is_empty() => vec![format!("{pad}- []")],
        Value::List(l) => {
            let mut out = Vec::new();
            for x in l {
                out.extend(list_item(x, indent + 2, step));
            }
            let inner = " ".repeat(indent as usize + 2);
            if let Some(first) = out.first_mut()
                && let Some(rest) = first.strip_prefix(&inner)
            {
                *first = format!("{pad}- {rest}");
            }
            out
        }
    }
}
