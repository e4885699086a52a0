//! Small text helpers: line iteration, ids. Byte offsets to positions and "did you mean" are
//! the workspace's (`platformctl_diagnostics::{LineIndex, did_you_mean}`).

use platformctl_diagnostics::Pos;

use crate::model::Loc;

#[cfg(test)]
pub(crate) use platformctl_yaml::words::is_date;
pub(crate) use platformctl_yaml::words::parse_date;

/// A position of the workspace's line index as a workplan location.
impl From<Pos> for Loc {
    fn from(p: Pos) -> Self {
        Loc::new(p.line, p.col)
    }
}

/// The lines of `text[from..to]` as `(start, end_without_line_end, end_with_line_end)`.
pub(crate) fn lines_in(
    text: &str,
    from: usize,
    to: usize,
) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut pos = from;
    std::iter::from_fn(move || {
        if pos >= to {
            return None;
        }
        let start = pos;
        let (content_end, next) = match text[start..to].find('\n') {
            Some(i) => (start + i, start + i + 1),
            None => (to, to),
        };
        pos = next;
        let content_end = if content_end > start && text.as_bytes()[content_end - 1] == b'\r' {
            content_end - 1
        } else {
            content_end
        };
        Some((start, content_end, next))
    })
}

/// Ids of workplans and tasks: letters, digits, `.`, `_`, `-`; at most 128 characters.
pub(crate) fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2026-06-01"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2026-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-6-1"));
        assert!(!is_date("06/01/2026"));
    }

    #[test]
    fn lines_strip_crlf() {
        let t = "a\r\nb\nc";
        let v: Vec<_> = lines_in(t, 0, t.len()).map(|(s, e, _)| &t[s..e]).collect();
        assert_eq!(v, ["a", "b", "c"]);
    }
}
