//! Small text helpers: byte offsets to lines, line iteration, "did you mean".

use platformctl_yaml::words::edit_distance as distance;

use crate::model::Loc;

#[cfg(test)]
pub(crate) use platformctl_yaml::words::is_date;
pub(crate) use platformctl_yaml::words::parse_date;

/// Byte offsets of a text to 1-based lines and columns (characters; a leading BOM does not
/// count as a column).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 40 + 1);
        starts.push(0);
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        to_u32(self.starts.partition_point(|&s| s <= offset).max(1))
    }

    /// Line and column of a byte offset.
    pub(crate) fn loc(&self, offset: usize) -> Loc {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line(offset);
        let mut start = self.starts[(line as usize) - 1];
        if start == 0 && self.text.starts_with('\u{FEFF}') && offset >= 3 {
            start = 3;
        }
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Loc::new(line, to_u32(col))
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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

/// The closest of `candidates` to `word`, when it is close enough to be a typo.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let w = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (distance(&w, c), *c))
        .filter(|&(d, c)| d > 0 && d <= 2.max(c.len() / 4) && d < c.len())
        .min()
        .map(|(_, c)| c)
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
    fn loc_skips_bom_and_counts_chars() {
        let t = "\u{FEFF}ab\r\nçd";
        let i = LineIndex::new(t);
        assert_eq!(i.loc(3), Loc::new(1, 1));
        assert_eq!(i.loc(4), Loc::new(1, 2));
        let d = t.find('d').unwrap();
        assert_eq!(i.loc(d), Loc::new(2, 2));
    }

    #[test]
    fn lines_strip_crlf() {
        let t = "a\r\nb\nc";
        let v: Vec<_> = lines_in(t, 0, t.len()).map(|(s, e, _)| &t[s..e]).collect();
        assert_eq!(v, ["a", "b", "c"]);
    }

    #[test]
    fn did_you_mean() {
        assert_eq!(
            closest("stauts", &["id", "status", "priority"]),
            Some("status")
        );
        assert_eq!(closest("zzz", &["id", "status"]), None);
    }
}
