//! `.env` files (compose-go's `dotenv` package).

use std::collections::HashMap;
use std::fmt;

use crate::template::{InterpolationErrorKind, interpolate_with};
use crate::{Lookup, Vars};

/// Why a `.env` file could not be parsed, and where.
///
/// Neither `Display` nor `Debug` contains text of a value: only the
/// position, the key whose value failed (when the key was read), variable
/// names and `?message` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DotenvError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters (a UTF-8 BOM is not counted).
    pub column: usize,
    /// The key whose value is at fault; `None` when the key itself could not
    /// be read.
    pub key: Option<String>,
    /// What is wrong.
    pub kind: DotenvErrorKind,
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if let Some(key) = &self.key {
            write!(f, " (value of {key})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// The kinds of [`DotenvError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DotenvErrorKind {
    /// A character that cannot appear in a key.
    InvalidKeyChar,
    /// A key followed by whitespace and then something other than `=`, `:`,
    /// a `#` comment or the end of the line (`KEY VALUE`, `two words=x`).
    ExpectedSeparator,
    /// A quoted value without its closing quote; the position is the opening
    /// quote.
    UnterminatedQuote {
        /// `'` or `"`.
        quote: char,
    },
    /// A `${…}` problem inside an unquoted or double-quoted value.
    Interpolation(InterpolationErrorKind),
}

impl fmt::Display for DotenvErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHAPE: &str = "lines look like `KEY=VALUE`";
        match self {
            Self::InvalidKeyChar => write!(
                f,
                "unexpected character in key: keys use letters, digits, `_`, `.`, `-`, \
                 `[` and `]`; {SHAPE}"
            ),
            Self::ExpectedSeparator => write!(
                f,
                "expected `=` after the key (keys cannot contain spaces); {SHAPE}"
            ),
            Self::UnterminatedQuote { quote } => {
                let style = if *quote == '"' { "double" } else { "single" };
                write!(
                    f,
                    "unterminated {style}-quoted value: add the closing `{quote}` \
                     (a `\\{quote}` inside the value does not close it)"
                )
            }
            Self::Interpolation(kind) => {
                write!(f, "{kind} (single-quoted values are not interpolated)")
            }
        }
    }
}

/// Parses a `.env` file the way Docker Compose v2 does.
///
/// Returns the `(key, value)` pairs in the order in which each key first
/// appears; a key defined twice keeps its first position and its last value.
///
/// - `KEY=VALUE`, or `KEY: VALUE` (compose accepts the YAML-like form), with
///   optional whitespace around the separator and an optional `export `
///   prefix. Keys use letters, digits, `_`, `.`, `-`, `[`, `]` (as compose;
///   only `[A-Za-z_][A-Za-z0-9_]*` keys can be referenced by `${…}`); the
///   empty key of `="value"` is read as compose reads it.
/// - Blank lines and lines starting with `#` are ignored; a UTF-8 BOM and
///   CRLF line ends are accepted (CRLF inside a multi-line quoted value
///   becomes `\n`).
/// - Unquoted values run to the end of the line; a space followed by `#`
///   starts a comment (`KEY=a#b` is `a#b`, `KEY=a #b` is `a`, and as in
///   compose `KEY=a<TAB>#b` is `a<TAB>#b` and `KEY= #b` is `#b`); trailing
///   whitespace is trimmed.
/// - Single-quoted values are literal (no interpolation, no escapes except
///   `\'`, as in compose) and may span lines.
/// - Double-quoted values may span lines and understand `\n`, `\r`, `\t`,
///   `\a`, `\b`, `\f`, `\v`, `\"`, `\\`, `\$` (a literal `$`) and octal
///   `\0NNN` (compose-go's reading: `"\0"` is `\`); any other backslash is
///   kept as is.
/// - After a closing quote the rest of the line is read as the next
///   statement, as compose does: `KEY="a" # c` is a comment, `KEY="a" junk`
///   makes `junk` a `KEY` alone (see below).
/// - Unquoted and double-quoted values are interpolated (see
///   [`interpolate`](crate::interpolate)) against `vars` first, then the
///   earlier keys of this file (compose-go: the environment wins, also inside
///   the file).
/// - A `KEY` alone on its line (no `=`) takes its value from `vars` — the
///   environment, in compose — when it is set there, and is left out of the
///   result otherwise.
///
/// Unset variables used inside values become `""`; they are not reported.
///
/// # Errors
///
/// A line that is not `KEY=VALUE`, an unterminated quote, or an
/// interpolation error, each with its 1-based line and
/// column.
///
/// ```
/// use platformctl_interpolate::{Vars, parse_dotenv};
///
/// let mut env = Vars::new();
/// env.set("HOME", "/home/op");
/// let text = "\u{feff}export A=1 # one\r\nB=\"${A}\\n2\"\r\nC='${A}'\r\nD=$HOME/x\r\n";
/// let pairs = parse_dotenv(text, &env)?;
/// assert_eq!(
///     pairs,
///     [
///         ("A".to_string(), "1".to_string()),
///         ("B".to_string(), "1\n2".to_string()),
///         ("C".to_string(), "${A}".to_string()),
///         ("D".to_string(), "/home/op/x".to_string()),
///     ]
/// );
///
/// let err = parse_dotenv("A=1\nB=\"open\n", &env).unwrap_err();
/// assert_eq!((err.line, err.column), (2, 3));
/// # Ok::<(), platformctl_interpolate::DotenvError>(())
/// ```
pub fn parse_dotenv(text: &str, vars: &Vars) -> Result<Vec<(String, String)>, DotenvError> {
    let (entries, mut errors) = parse(text, vars, false);
    match errors.drain(..).next() {
        Some(e) => Err(e),
        None => Ok(entries),
    }
}

/// [`parse_dotenv`] that goes on after a bad line: every line that parses gives its
/// `(key, value)`, and every line that does not gives an error (the rest of that line is
/// skipped). Docker Compose refuses the whole file; a checker reports the bad line and still
/// reads the others, so one odd line does not turn into findings about every variable.
///
/// ```
/// use platformctl_interpolate::{Vars, parse_dotenv_lenient};
///
/// let (pairs, errors) = parse_dotenv_lenient("A=1\nlol$wut\nB=${A}2\n", &Vars::new());
/// assert_eq!(pairs, [("A".into(), "1".into()), ("B".into(), "12".into())]);
/// assert_eq!(errors.len(), 1);
/// assert_eq!(errors[0].line, 2);
/// ```
#[must_use]
pub fn parse_dotenv_lenient(text: &str, vars: &Vars) -> (Vec<(String, String)>, Vec<DotenvError>) {
    parse(text, vars, true)
}

fn parse(text: &str, vars: &Vars, lenient: bool) -> (Vec<(String, String)>, Vec<DotenvError>) {
    let src = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        src,
        pos: 0,
        entries: Vec::new(),
        index: HashMap::new(),
        vars,
    };
    let mut errors = Vec::new();
    loop {
        match parser.run() {
            Ok(()) => break,
            Err((start, e)) => {
                errors.push(e);
                if !lenient {
                    break;
                }
                parser.pos = parser.line_end(start);
            }
        }
    }
    (parser.entries, errors)
}

/// The caller's variables (the environment), then earlier keys of the file: compose-go's
/// `expandVariables` asks its lookup function first, so an exported `TAG` wins over the file's
/// own `TAG=` also inside `IMAGE=nginx:${TAG}`.
struct FileLookup<'a> {
    entries: &'a [(String, String)],
    index: &'a HashMap<String, usize>,
    vars: &'a Vars,
}

impl Lookup for FileLookup<'_> {
    fn lookup(&self, name: &str) -> Option<&str> {
        match self.vars.get(name) {
            Some(v) => Some(v),
            None => self.index.get(name).map(|&i| self.entries[i].1.as_str()),
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
    vars: &'a Vars,
}

/// Whitespace inside a line (a `\r` before `\n` counts as such).
fn is_inline_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

impl Parser<'_> {
    fn bytes(&self) -> &[u8] {
        self.src.as_bytes()
    }

    fn error(&self, offset: usize, key: Option<&str>, kind: DotenvErrorKind) -> DotenvError {
        let pos = platformctl_diagnostics::LineIndex::new(self.src).pos(offset);
        DotenvError {
            line: pos.line as usize,
            column: pos.col as usize,
            key: key.map(str::to_owned),
            kind,
        }
    }

    fn skip_inline_ws(&mut self) {
        while self
            .bytes()
            .get(self.pos)
            .copied()
            .is_some_and(is_inline_ws)
        {
            self.pos += 1;
        }
    }

    /// Offset of the end of the line containing `from` (its `\n`, or the end
    /// of the input).
    fn line_end(&self, from: usize) -> usize {
        self.bytes()[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.src.len(), |n| from + n)
    }

    fn insert(&mut self, key: &str, value: String) {
        match self.index.get(key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.to_owned(), self.entries.len());
                self.entries.push((key.to_owned(), value));
            }
        }
    }

    /// Parses statements to the end; an error comes with the offset its statement started at.
    fn run(&mut self) -> Result<(), (usize, DotenvError)> {
        loop {
            let rest = &self.src[self.pos..];
            self.pos += rest.len() - rest.trim_start().len();
            match self.bytes().get(self.pos) {
                None => return Ok(()),
                Some(b'#') => self.pos = self.line_end(self.pos),
                Some(_) => {
                    let start = self.pos;
                    self.statement().map_err(|e| (start, e))?;
                }
            }
        }
    }

    /// One `KEY=VALUE` or `KEY` statement starting at a non-blank character.
    fn statement(&mut self) -> Result<(), DotenvError> {
        self.skip_export();
        let key_start = self.pos;
        while let Some(c) = self.src[self.pos..].chars().next() {
            if !is_key_char(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        let key_end = self.pos;
        // compose-go reads `="value"` as the empty key "" (issue 9): not an error.
        if key_start == key_end && !matches!(self.bytes()[self.pos], b'=' | b':') {
            return Err(self.error(self.pos, None, DotenvErrorKind::InvalidKeyChar));
        }
        let key = &self.src[key_start..key_end];
        self.skip_inline_ws();
        let spaced = self.pos > key_end;
        match self.bytes().get(self.pos) {
            Some(b'=' | b':') => {
                self.pos += 1;
                let value = self.value(key)?;
                self.insert(key, value);
            }
            // `KEY` alone: inherited from `vars` when set there.
            None | Some(b'\n') => self.inherit(key),
            Some(b'#') if spaced => {
                self.inherit(key);
                self.pos = self.line_end(self.pos);
            }
            Some(_) if spaced => {
                return Err(self.error(key_end, None, DotenvErrorKind::ExpectedSeparator));
            }
            Some(_) => return Err(self.error(self.pos, None, DotenvErrorKind::InvalidKeyChar)),
        }
        Ok(())
    }

    /// Skips an `export ` prefix, but only when a key follows it (`export=1`
    /// and `export` alone are about a key named `export`).
    fn skip_export(&mut self) {
        let rest = &self.src[self.pos..];
        let Some(after) = rest.strip_prefix("export") else {
            return;
        };
        let trimmed = after.trim_start_matches([' ', '\t']);
        if trimmed.len() < after.len() && trimmed.chars().next().is_some_and(is_key_char) {
            self.pos += rest.len() - trimmed.len();
        }
    }

    fn inherit(&mut self, key: &str) {
        if let Some(value) = self.vars.get(key) {
            self.insert(key, value.to_owned());
        }
    }

    /// The value after the separator; leaves `pos` at the end of its line.
    fn value(&mut self, key: &str) -> Result<String, DotenvError> {
        self.skip_inline_ws();
        match self.bytes().get(self.pos) {
            Some(b'\'') => self.single_quoted(key),
            Some(b'"') => {
                let open = self.pos;
                let (template, map) = self.double_quoted(key)?;
                self.expand(&template, key, |offset| {
                    map.get(offset).copied().unwrap_or(open)
                })
            }
            _ => {
                let start = self.pos;
                let end = self.line_end(start);
                let line = &self.src[start..end];
                // As compose-go: only a space followed by `#` starts a comment (`a<TAB>#c`
                // and `#c` right after `= ` are values).
                let cut = line.find(" #").unwrap_or(line.len());
                let raw = line[..cut].trim_end();
                self.pos = end;
                self.expand(raw, key, |offset| start + offset)
            }
        }
    }

    /// Interpolates a value's template; `to_src` maps an offset in the
    /// template back to an offset in the file.
    fn expand(
        &self,
        template: &str,
        key: &str,
        to_src: impl Fn(usize) -> usize,
    ) -> Result<String, DotenvError> {
        let lookup = FileLookup {
            entries: &self.entries,
            index: &self.index,
            vars: self.vars,
        };
        match interpolate_with(template, &lookup) {
            Ok(out) => Ok(out.value),
            Err(e) => Err(self.error(
                to_src(e.offset),
                Some(key),
                DotenvErrorKind::Interpolation(e.kind),
            )),
        }
    }

    /// `'…'`: literal, `\'` is a quote; leaves `pos` after the closing quote.
    fn single_quoted(&mut self, key: &str) -> Result<String, DotenvError> {
        let open = self.pos;
        let src = self.src;
        let bytes = src.as_bytes();
        let mut value = String::new();
        let mut i = open + 1;
        loop {
            let Some(rel) = bytes[i..]
                .iter()
                .position(|&b| matches!(b, b'\'' | b'\\' | b'\r'))
            else {
                let kind = DotenvErrorKind::UnterminatedQuote { quote: '\'' };
                return Err(self.error(open, Some(key), kind));
            };
            let at = i + rel;
            value.push_str(&src[i..at]);
            match (bytes[at], bytes.get(at + 1)) {
                (b'\'', _) => {
                    self.pos = at + 1;
                    return Ok(value);
                }
                // As compose: a backslash pairs with the next character; only
                // the quote loses its backslash.
                (b'\\', Some(b'\'')) => {
                    value.push('\'');
                    i = at + 2;
                }
                (b'\\', Some(b'\\')) => {
                    value.push_str("\\\\");
                    i = at + 2;
                }
                (b'\r', Some(b'\n')) => {
                    value.push('\n');
                    i = at + 2;
                }
                (b, _) => {
                    value.push(char::from(b));
                    i = at + 1;
                }
            }
        }
    }

    /// `"…"` with its escapes resolved, as an interpolation template (a
    /// literal `$` is `$$`), plus the file offset of each template byte.
    /// Leaves `pos` after the closing quote.
    fn double_quoted(&mut self, key: &str) -> Result<(String, Vec<usize>), DotenvError> {
        let open = self.pos;
        let src = self.src;
        let bytes = src.as_bytes();
        let unterminated = |p: &Self| {
            p.error(
                open,
                Some(key),
                DotenvErrorKind::UnterminatedQuote { quote: '"' },
            )
        };
        let mut template = String::new();
        let mut map = Vec::new();
        let mut push = |template: &mut String, s: &str, src: Option<usize>, at: usize| {
            template.push_str(s);
            match src {
                // Verbatim text: each byte maps to itself.
                Some(start) => map.extend(start..start + s.len()),
                // Escape output: every byte maps to the backslash.
                None => map.extend(std::iter::repeat_n(at, s.len())),
            }
        };
        let mut i = open + 1;
        loop {
            let Some(rel) = bytes[i..]
                .iter()
                .position(|&b| matches!(b, b'"' | b'\\' | b'\r'))
            else {
                return Err(unterminated(self));
            };
            let at = i + rel;
            push(&mut template, &src[i..at], Some(i), at);
            let next = bytes.get(at + 1).copied();
            match bytes[at] {
                b'"' => {
                    self.pos = at + 1;
                    return Ok((template, map));
                }
                b'\r' => {
                    if next == Some(b'\n') {
                        push(&mut template, "\n", None, at);
                        i = at + 2;
                    } else {
                        push(&mut template, "\r", None, at);
                        i = at + 1;
                    }
                }
                _ => {
                    let simple = match next {
                        None => return Err(unterminated(self)),
                        Some(b'"') => Some("\""),
                        Some(b'\\') => Some("\\"),
                        Some(b'$') => Some("$$"),
                        Some(b'n') => Some("\n"),
                        Some(b'r') => Some("\r"),
                        Some(b't') => Some("\t"),
                        Some(b'a') => Some("\x07"),
                        Some(b'b') => Some("\x08"),
                        Some(b'f') => Some("\x0c"),
                        Some(b'v') => Some("\x0b"),
                        Some(_) => None,
                    };
                    if let Some(s) = simple {
                        push(&mut template, s, None, at);
                        i = at + 2;
                    } else if let Some((text, len)) = octal(&bytes[at + 1..]) {
                        let s = if text == "$" { "$$" } else { text.as_str() };
                        push(&mut template, s, None, at);
                        i = at + 1 + len;
                    } else {
                        // Unknown escape: the backslash stays, the next
                        // character is read normally.
                        push(&mut template, "\\", None, at);
                        i = at + 1;
                    }
                }
            }
        }
    }
}

/// The escape `\0` plus up to three digits at the start of `s` (after the backslash), as
/// compose-go reads it: `\0` and the digits become Go's `\DDD`, which is the character with
/// that octal value when there are exactly three octal digits (`\0123` is `S`), and otherwise
/// stays as written without its `0` (`"\0"` is `\`, `"\012"` is `\12`). Returns the text and
/// the number of bytes consumed.
fn octal(s: &[u8]) -> Option<(String, usize)> {
    if s.first() != Some(&b'0') {
        return None;
    }
    let digits = s[1..]
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let ds = &s[1..=digits];
    let text = if digits == 3 && ds.iter().all(|b| (b'0'..=b'7').contains(b)) {
        let value = ds
            .iter()
            .fold(0u32, |acc, &b| acc * 8 + u32::from(b - b'0'));
        match u8::try_from(value) {
            Ok(byte) => char::from(byte).to_string(),
            Err(_) => format!("\\{}", String::from_utf8_lossy(ds)),
        }
    } else {
        format!("\\{}", String::from_utf8_lossy(ds))
    };
    Some((text, 1 + digits))
}
