//! Checks shared by the reference and digest parsers.

use crate::error::{ErrorKind, RefError};

/// The longest input either parser looks at, in bytes.
///
/// A valid reference is at most 255 bytes of name (261 as written, since
/// `index.docker.io/` shortens to `docker.io/`), a 128-byte tag and a digest;
/// this leaves room for a digest of several thousand bits while bounding
/// the work done on (and the memory kept for) absurd input.
pub const MAX_REFERENCE_LEN: usize = 4096;

/// Rejects input that is too long, or that contains whitespace or non-ASCII
/// characters, reporting the first offending character.
pub(crate) fn prescan(s: &str) -> Result<(), RefError> {
    if s.len() > MAX_REFERENCE_LEN {
        let mut at = MAX_REFERENCE_LEN;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        return Err(RefError::new(
            ErrorKind::TooLong {
                max: MAX_REFERENCE_LEN,
            },
            at,
        ));
    }
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            return Err(RefError::new(ErrorKind::Whitespace, i));
        }
        if !c.is_ascii() {
            return Err(RefError::new(ErrorKind::NonAscii, i));
        }
    }
    Ok(())
}

/// The error for an unexpected byte `c` at `offset`: whitespace and
/// non-ASCII bytes get their own kinds, anything else `kind(c)`.
///
/// A non-ASCII byte met while scanning forward from a `char` boundary is the
/// first byte of its `char`, so `offset` stays on a boundary.
pub(crate) fn bad_char(c: u8, offset: usize, kind: impl FnOnce(char) -> ErrorKind) -> RefError {
    let kind = if !c.is_ascii() {
        ErrorKind::NonAscii
    } else if c.is_ascii_whitespace() || c == 0x0b {
        ErrorKind::Whitespace
    } else {
        kind(char::from(c))
    };
    RefError::new(kind, offset)
}
