//! Bytes into text, with a position for the first byte that is not UTF-8.

use crate::Pos;

/// Why bytes are not a text this crate can parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Where the first offending byte is.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// Checks that `bytes` are UTF-8 without NUL bytes, strips a UTF-8 byte-order mark, and
/// returns the text. The error names the line and column of the first bad byte.
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (valid, bad) = match std::str::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let upto = e.valid_up_to();
            // valid_up_to is a char boundary by construction.
            let s = std::str::from_utf8(&bytes[..upto]).unwrap_or_default();
            (s, Some(upto))
        }
    };
    if let Some(nul) = valid.find('\0') {
        return Err(DecodeError {
            pos: pos_of(valid, nul),
            message: "binary content: a NUL byte; this is not a text file".into(),
        });
    }
    match bad {
        None => Ok(valid),
        Some(at) => Err(DecodeError {
            pos: pos_of(valid, at),
            message: format!(
                "not UTF-8: byte 0x{:02X} at offset {at}; save the file as UTF-8",
                bytes[at]
            ),
        }),
    }
}

/// The 1-based line and column (in characters) of a byte offset into `text`.
fn pos_of(text: &str, byte: usize) -> Pos {
    let before = &text[..byte];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    Pos::new(to_u32(line), to_u32(col))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The text of 1-based line `line` of `src`, without its line end.
pub fn line_at(src: &str, line: u32) -> Option<&str> {
    let idx = usize::try_from(line).ok()?.checked_sub(1)?;
    src.split('\n')
        .nth(idx)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_first_invalid_byte_position() {
        let e = decode_utf8(b"a: 1\nb: \xff\n").unwrap_err();
        assert_eq!(e.pos, Pos::new(2, 4));
        assert!(e.message.contains("0xFF"));
    }

    #[test]
    fn nul_is_binary() {
        let e = decode_utf8(b"abc\0def").unwrap_err();
        assert_eq!(e.pos, Pos::new(1, 4));
    }

    #[test]
    fn bom_is_stripped() {
        assert_eq!(decode_utf8(b"\xEF\xBB\xBFa: 1").unwrap(), "a: 1");
    }

    #[test]
    fn line_at_handles_crlf() {
        assert_eq!(line_at("a\r\nb\r\n", 2), Some("b"));
        assert_eq!(line_at("a", 3), None);
        assert_eq!(line_at("a", 0), None);
    }
}
