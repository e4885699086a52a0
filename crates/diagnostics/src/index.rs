//! Positions and the line index: byte offsets of a text to the line and column people see.
//!
//! **Columns are counted in characters** (Unicode scalar values), 1-based, as rustc and
//! `annotate-snippets` count them. Bytes would put the caret of `naïve: x` one column too far
//! right after the `ï`; display cells would depend on the terminal's idea of East Asian widths
//! and on tab stops, which a file position must not. Editors that take `file:line:col` (VS
//! Code, vim, Emacs' compilation mode) read the column as characters too.
//!
//! A leading byte-order mark is not a column: `\u{FEFF}a` puts `a` at 1:1. Lines end at
//! `\n`; a `\r` before it belongs to the line end, not to the line's text.

use std::fmt;

/// A place in a file as shown to people: 1-based line and 1-based column in characters.
///
/// The byte offset a position comes from is the [`LineIndex`]'s input ([`LineIndex::pos`]),
/// and [`LineIndex::offset`] turns a position back into one. It is not stored in `Pos`
/// itself: positions from the YAML parser are per document block and compared for equality
/// by value throughout the checkers, so a `Pos` is exactly what a finding shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
}

impl Pos {
    /// A position from 1-based line and column.
    pub const fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// The line starts of a text, to map byte offsets to [`Pos`] and back in `O(log lines)`.
#[derive(Clone, Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

const BOM: char = '\u{FEFF}';

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text` (which may begin with a byte-order mark).
    pub fn new(text: &'a str) -> Self {
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

    /// The text indexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// How many lines the text has (a final line end does not start another line with text,
    /// but its empty line still counts: `"a\n"` has 2, the second empty).
    pub fn line_count(&self) -> u32 {
        to_u32(self.starts.len())
    }

    /// The 1-based line of a byte offset (offsets past the end are the last line).
    pub fn line(&self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        to_u32(self.starts.partition_point(|&s| s <= offset).max(1))
    }

    /// The position of a byte offset. Offsets past the end are the end of the text; an
    /// offset inside a multi-byte character is that character's position.
    pub fn pos(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line(offset);
        let start = self.content_start(line);
        let col = self
            .text
            .get(start.min(offset)..offset)
            .map_or(0, |s| s.chars().count());
        Pos::new(line, to_u32(col + 1))
    }

    /// The byte offset of a position, when the text has it (column one past the line's last
    /// character is the line end).
    pub fn offset(&self, pos: Pos) -> Option<usize> {
        let (start, end) = self.line_bounds(pos.line)?;
        let col = usize::try_from(pos.col).ok()?.checked_sub(1)?;
        let line = &self.text[start..end];
        if col == line.chars().count() {
            return Some(end);
        }
        line.char_indices().nth(col).map(|(i, _)| start + i)
    }

    /// The text of 1-based line `line`, without its line end (`\n` or `\r\n`) and without a
    /// byte-order mark.
    pub fn line_text(&self, line: u32) -> Option<&'a str> {
        let (start, end) = self.line_bounds(line)?;
        Some(&self.text[start..end])
    }

    /// Byte range of a line's text: after a BOM on line 1, before its line end.
    fn line_bounds(&self, line: u32) -> Option<(usize, usize)> {
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        self.starts.get(i)?;
        let start = self.content_start(line);
        let end = match self.starts.get(i + 1) {
            Some(&next) => next - 1,
            None => self.text.len(),
        };
        let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        Some((start, end.max(start)))
    }

    fn content_start(&self, line: u32) -> usize {
        let start = self.starts[(line as usize).saturating_sub(1)];
        if start == 0 && self.text.starts_with(BOM) {
            BOM.len_utf8()
        } else {
            start
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_and_columns() {
        let t = "ab\ncdé\nf";
        let ix = LineIndex::new(t);
        assert_eq!(ix.pos(0), Pos::new(1, 1));
        assert_eq!(ix.pos(2), Pos::new(1, 3)); // the line end itself
        assert_eq!(ix.pos(3), Pos::new(2, 1));
        assert_eq!(ix.pos(5), Pos::new(2, 3));
        assert_eq!(ix.pos(8), Pos::new(3, 1));
    }

    #[test]
    fn end_of_file() {
        let ix = LineIndex::new("ab\nc");
        assert_eq!(ix.pos(4), Pos::new(2, 2));
        assert_eq!(ix.pos(100), Pos::new(2, 2));
        let ix = LineIndex::new("ab\n");
        assert_eq!(ix.pos(3), Pos::new(2, 1));
        assert_eq!(ix.line_count(), 2);
        assert_eq!(ix.line_text(2), Some(""));
        assert_eq!(ix.line_text(3), None);
        assert_eq!(ix.line_text(0), None);
        let empty = LineIndex::new("");
        assert_eq!(empty.pos(0), Pos::new(1, 1));
        assert_eq!(empty.line_text(1), Some(""));
    }

    #[test]
    fn bom_is_not_a_column() {
        let t = "\u{FEFF}ab\r\nçd";
        let ix = LineIndex::new(t);
        assert_eq!(ix.pos(0), Pos::new(1, 1));
        assert_eq!(ix.pos(3), Pos::new(1, 1));
        assert_eq!(ix.pos(4), Pos::new(1, 2));
        assert_eq!(ix.pos(t.find('d').unwrap()), Pos::new(2, 2));
        assert_eq!(ix.line_text(1), Some("ab"));
        assert_eq!(ix.offset(Pos::new(1, 1)), Some(3));
    }

    #[test]
    fn crlf_belongs_to_the_line_end() {
        let t = "a: 1\r\nb: 2\r\n";
        let ix = LineIndex::new(t);
        assert_eq!(ix.line_text(1), Some("a: 1"));
        assert_eq!(ix.line_text(2), Some("b: 2"));
        assert_eq!(ix.pos(t.find('b').unwrap()), Pos::new(2, 1));
        assert_eq!(ix.offset(Pos::new(1, 5)), Some(4));
    }

    #[test]
    fn multi_byte_columns_are_characters() {
        // 'é' is 2 bytes, '日' 3, '🦀' 4: each is one column.
        let t = "é日🦀x";
        let ix = LineIndex::new(t);
        assert_eq!(ix.pos(t.find('x').unwrap()), Pos::new(1, 4));
        // Inside a character: that character's column.
        assert_eq!(ix.pos(1), Pos::new(1, 1));
        assert_eq!(ix.pos(4), Pos::new(1, 2));
        assert_eq!(ix.offset(Pos::new(1, 4)), Some(t.find('x').unwrap()));
        assert_eq!(ix.offset(Pos::new(1, 6)), None);
    }

    proptest! {
        #[test]
        fn offset_and_pos_round_trip(t in "(\u{FEFF})?[a\n\ré日🦀]{0,40}") {
            let ix = LineIndex::new(&t);
            for (i, _) in t.char_indices() {
                if t.as_bytes()[i] == b'\n' || (i == 0 && t.starts_with(BOM)) {
                    continue;
                }
                let p = ix.pos(i);
                if ix.line_text(p.line).is_some_and(|l| (p.col as usize) <= l.chars().count()) {
                    prop_assert_eq!(ix.offset(p), Some(i));
                }
            }
        }
    }
}
