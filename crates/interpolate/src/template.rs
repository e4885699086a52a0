//! Compose variable interpolation (compose-go's `template` package).
//!
//! A single left-to-right scan over the input's bytes; `$`, `{` and `}` are
//! ASCII, so every slice taken here lies on a character boundary. Nested
//! expressions recurse, bounded by [`MAX_NESTING`].

use std::fmt;

use crate::{Interpolated, Lookup, Vars};

/// How deeply `${…}` expressions may nest inside defaults, messages and
/// replacements (`${A:-${B:-${C}}}` is 3 levels) before interpolation fails
/// with [`InterpolationErrorKind::TooDeep`].
pub const MAX_NESTING: usize = 64;

/// Why interpolation failed, and where.
///
/// Neither `Display` nor `Debug` contains a variable's value: only the
/// offset, variable names and the `?message` text the author wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct InterpolationError {
    /// Byte offset in the input: the `$` that starts the failing expression,
    /// or the offending character for a syntax error inside `${…}`.
    pub offset: usize,
    /// What is wrong.
    pub kind: InterpolationErrorKind,
}

/// Whether a required variable was unset or set to an empty value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The variable is not set at all.
    Unset,
    /// The variable is set to `""` (only `${VAR:?msg}` rejects this).
    Empty,
}

/// The kinds of [`InterpolationError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InterpolationErrorKind {
    /// `${` without its closing `}`; the offset is the `$`.
    Unterminated,
    /// `${}`; the offset is the `$`.
    EmptyName,
    /// `${` followed by a character that cannot start a name (`${1abc}`,
    /// `${ x}`); the offset is that character.
    InvalidName,
    /// A character after `${NAME` that is neither `}` nor a modifier
    /// (`${x!}`, `${x }`, `${a.b}`); the offset is that character.
    UnexpectedAfterName {
        /// The variable name before the character.
        name: String,
    },
    /// `${NAME:` followed by something other than `-`, `?` or `+`
    /// (`${VAR:x}`); the offset is the character after `:`.
    UnknownModifier {
        /// The variable name before the modifier.
        name: String,
    },
    /// `${NAME:?message}` or `${NAME?message}` with the variable missing; the
    /// offset is the `$`.
    Required {
        /// The required variable.
        name: String,
        /// The message exactly as written in the template (not interpolated,
        /// so that it can never contain a variable's value). May be empty.
        message: String,
        /// Unset, or set but empty.
        missing: Missing,
    },
    /// Expressions nested more than [`MAX_NESTING`] levels deep; the offset
    /// is the `$` of the expression that went too deep.
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
}

impl fmt::Display for InterpolationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LITERAL: &str = "write `$$` for a literal `$`";
        match self {
            Self::Unterminated => {
                write!(f, "unterminated `${{`: add the closing `}}`, or {LITERAL}")
            }
            Self::EmptyName => write!(
                f,
                "`${{}}` has no variable name: write `${{NAME}}`, or {LITERAL}"
            ),
            Self::InvalidName => write!(
                f,
                "invalid variable name after `${{`: a name starts with a letter or `_` \
                 and continues with letters, digits or `_`; {LITERAL}"
            ),
            Self::UnexpectedAfterName { name } => write!(
                f,
                "unexpected character after `${{{name}`: expected `}}` or one of the \
                 modifiers `:-`, `-`, `:?`, `?`, `:+`, `+`"
            ),
            Self::UnknownModifier { name } => write!(
                f,
                "unknown modifier after `${{{name}:`: expected `:-` (default), \
                 `:?` (required) or `:+` (replacement)"
            ),
            Self::Required {
                name,
                message,
                missing,
            } => {
                let state = match missing {
                    Missing::Unset => "is not set",
                    Missing::Empty => "is empty",
                };
                write!(f, "required variable {name} {state}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                match missing {
                    Missing::Unset => {
                        write!(f, "; set {name} in the environment or in the .env file")
                    }
                    Missing::Empty => write!(
                        f,
                        "; give {name} a non-empty value in the environment or in the .env file"
                    ),
                }
            }
            Self::TooDeep { limit } => write!(
                f,
                "`${{…}}` expressions nested more than {limit} levels deep: \
                 flatten the nested defaults"
            ),
        }
    }
}

/// Interpolates `input` against `vars` with Docker Compose v2 semantics.
///
/// See the [crate documentation](crate) for the supported forms. Unset
/// variables used as `$VAR` or `${VAR}` become `""` and are listed in
/// [`Interpolated::unset`].
///
/// # Errors
///
/// A malformed `${…}` expression, a `${VAR:?msg}`/`${VAR?msg}` whose variable
/// is missing, or nesting deeper than [`MAX_NESTING`]. The error carries the
/// byte offset in `input`.
///
/// ```
/// use platformctl_interpolate::{InterpolationErrorKind, Vars, interpolate};
///
/// let mut vars = Vars::new();
/// vars.set("EMPTY", "");
/// assert_eq!(interpolate("${EMPTY:-a}|${EMPTY-b}", &vars)?.value, "a|");
///
/// let err = interpolate("image: ${TAG:x}", &vars).unwrap_err();
/// assert_eq!(err.offset, 13);
/// assert!(matches!(err.kind, InterpolationErrorKind::UnknownModifier { .. }));
/// # Ok::<(), platformctl_interpolate::InterpolationError>(())
/// ```
pub fn interpolate(input: &str, vars: &Vars) -> Result<Interpolated, InterpolationError> {
    interpolate_with(input, vars)
}

/// [`interpolate`] against any [`Lookup`].
pub(crate) fn interpolate_with<L: Lookup + ?Sized>(
    input: &str,
    vars: &L,
) -> Result<Interpolated, InterpolationError> {
    // Fast path: most strings in a compose file have no `$` at all.
    if !input.contains('$') {
        return Ok(Interpolated {
            value: input.to_owned(),
            unset: Vec::new(),
        });
    }
    let mut scanner = Scanner {
        src: input,
        vars,
        unset: Vec::new(),
        unused: 0,
    };
    let mut value = String::with_capacity(input.len());
    scanner.scan(0, None, 0, &mut value)?;
    Ok(Interpolated {
        value,
        unset: scanner.unset,
    })
}

/// The modifiers of a braced expression.
#[derive(Clone, Copy)]
enum Op {
    /// `:-`
    DefaultIfUnsetOrEmpty,
    /// `-`
    DefaultIfUnset,
    /// `:?`
    RequireNonEmpty,
    /// `?`
    RequireSet,
    /// `:+`
    ReplaceIfNonEmpty,
    /// `+`
    ReplaceIfSet,
}

struct Scanner<'s, 'v, L: ?Sized> {
    src: &'s str,
    vars: &'v L,
    unset: Vec<String>,
    /// Above zero while scanning a default/message/replacement that is not used: its
    /// syntax is still checked (to find its end), but it reports no unset names and no
    /// required-variable errors (compose-go's lazy defaults, since v2.10.1).
    unused: usize,
}

fn err(offset: usize, kind: InterpolationErrorKind) -> InterpolationError {
    InterpolationError { offset, kind }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of the name that starts at `start`.
fn name_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| !is_name_char(b))
        .map_or(bytes.len(), |n| start + n)
}

impl<L: Lookup + ?Sized> Scanner<'_, '_, L> {
    /// Appends the interpolation of the text from `pos` to `out`.
    ///
    /// At top level (`open` is `None`) it scans to the end of the input and
    /// returns its length. Inside a default/message/replacement (`open` is the
    /// offset of the enclosing `${`), it stops at the first unmatched `}` and
    /// returns that brace's offset; bare `{…}` pairs are part of the text.
    fn scan(
        &mut self,
        mut pos: usize,
        open: Option<usize>,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, InterpolationError> {
        let bytes = self.src.as_bytes();
        let mut braces = 0usize;
        loop {
            let next = match open {
                None => bytes[pos..].iter().position(|&b| b == b'$'),
                Some(_) => bytes[pos..]
                    .iter()
                    .position(|&b| matches!(b, b'$' | b'{' | b'}')),
            };
            let Some(rel) = next else {
                out.push_str(&self.src[pos..]);
                return match open {
                    None => Ok(bytes.len()),
                    Some(start) => Err(err(start, InterpolationErrorKind::Unterminated)),
                };
            };
            let at = pos + rel;
            out.push_str(&self.src[pos..at]);
            match bytes[at] {
                b'{' => {
                    braces += 1;
                    out.push('{');
                    pos = at + 1;
                }
                b'}' => {
                    if braces == 0 {
                        return Ok(at);
                    }
                    braces -= 1;
                    out.push('}');
                    pos = at + 1;
                }
                _ => pos = self.dollar(at, depth, out)?,
            }
        }
    }

    /// Handles the `$` at `at`; returns the offset just past what it consumed.
    fn dollar(
        &mut self,
        at: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, InterpolationError> {
        let bytes = self.src.as_bytes();
        match bytes.get(at + 1) {
            Some(b'$') => {
                out.push('$');
                Ok(at + 2)
            }
            Some(b'{') => self.braced(at, depth + 1, out),
            Some(&b) if is_name_start(b) => {
                let end = name_end(bytes, at + 1);
                self.plain(at + 1, end, out);
                Ok(end)
            }
            // compose-go v2 keeps a `$` that starts nothing ("a $ b", "^re$",
            // "$1", "$}") as a literal.
            _ => {
                out.push('$');
                Ok(at + 1)
            }
        }
    }

    /// `$NAME` or `${NAME}`: the value, or `""` and a note that it is unset.
    fn plain(&mut self, start: usize, end: usize, out: &mut String) {
        let name = &self.src[start..end];
        match self.vars.lookup(name) {
            Some(value) => out.push_str(value),
            None => {
                if self.unused == 0 && !self.unset.iter().any(|n| n == name) {
                    self.unset.push(name.to_owned());
                }
            }
        }
    }

    /// The `${…}` expression whose `$` is at `at`; returns the offset just
    /// past its closing `}`.
    fn braced(
        &mut self,
        at: usize,
        depth: usize,
        out: &mut String,
    ) -> Result<usize, InterpolationError> {
        use InterpolationErrorKind as K;

        if depth > MAX_NESTING {
            return Err(err(at, K::TooDeep { limit: MAX_NESTING }));
        }
        let bytes = self.src.as_bytes();
        let start = at + 2;
        match bytes.get(start) {
            None => return Err(err(at, K::Unterminated)),
            Some(b'}') => return Err(err(at, K::EmptyName)),
            Some(&b) if !is_name_start(b) => return Err(err(start, K::InvalidName)),
            Some(_) => {}
        }
        let end = name_end(bytes, start);
        let name = &self.src[start..end];
        let (op, word_start) = match bytes.get(end) {
            None => return Err(err(at, K::Unterminated)),
            Some(b'}') => {
                self.plain(start, end, out);
                return Ok(end + 1);
            }
            Some(b':') => {
                let op = match bytes.get(end + 1) {
                    None => return Err(err(at, K::Unterminated)),
                    Some(b'-') => Op::DefaultIfUnsetOrEmpty,
                    Some(b'?') => Op::RequireNonEmpty,
                    Some(b'+') => Op::ReplaceIfNonEmpty,
                    Some(_) => {
                        let name = name.to_owned();
                        return Err(err(end + 1, K::UnknownModifier { name }));
                    }
                };
                (op, end + 2)
            }
            Some(b'-') => (Op::DefaultIfUnset, end + 1),
            Some(b'?') => (Op::RequireSet, end + 1),
            Some(b'+') => (Op::ReplaceIfSet, end + 1),
            Some(_) => {
                let name = name.to_owned();
                return Err(err(end, K::UnexpectedAfterName { name }));
            }
        };

        // Like compose-go (v2.10.1 on), the word counts only when it is used: an unused
        // default neither fails nor reports its unset names. A required message is never
        // interpolated here (it is reported as written).
        let value = self.vars.lookup(name);
        let non_empty = value.filter(|v| !v.is_empty());
        let used = match op {
            Op::DefaultIfUnsetOrEmpty => non_empty.is_none(),
            Op::DefaultIfUnset => value.is_none(),
            Op::ReplaceIfNonEmpty => non_empty.is_some(),
            Op::ReplaceIfSet => value.is_some(),
            Op::RequireNonEmpty | Op::RequireSet => false,
        };
        let mut word = String::new();
        if !used {
            self.unused += 1;
        }
        let close = self.scan(word_start, Some(at), depth, &mut word);
        if !used {
            self.unused -= 1;
        }
        let close = close?;
        match op {
            Op::DefaultIfUnsetOrEmpty => out.push_str(non_empty.unwrap_or(&word)),
            Op::DefaultIfUnset => out.push_str(value.unwrap_or(&word)),
            Op::ReplaceIfNonEmpty => {
                if non_empty.is_some() {
                    out.push_str(&word);
                }
            }
            Op::ReplaceIfSet => {
                if value.is_some() {
                    out.push_str(&word);
                }
            }
            Op::RequireNonEmpty | Op::RequireSet => {
                let accepted = match op {
                    Op::RequireNonEmpty => non_empty,
                    _ => value,
                };
                match accepted {
                    Some(v) => out.push_str(v),
                    None if self.unused > 0 => {}
                    None => {
                        let missing = if value.is_some() {
                            Missing::Empty
                        } else {
                            Missing::Unset
                        };
                        return Err(err(
                            at,
                            K::Required {
                                name: name.to_owned(),
                                // As written: the interpolated `word` could
                                // contain another variable's value.
                                message: self.src[word_start..close].to_owned(),
                                missing,
                            },
                        ));
                    }
                }
            }
        }
        Ok(close + 1)
    }
}
