//! Docker Compose variable interpolation and `.env` parsing for platformctl.
//!
//! Operators write Compose files full of `${TAG:-latest}` and keep the values
//! in a `.env` file next to them. This crate turns those strings into what
//! `docker compose` would see, using the semantics of Docker Compose v2
//! (compose-go's `template` and `dotenv` packages are the reference). It is
//! pure: it does no I/O and never reads the process environment; the caller
//! passes the variables in a [`Vars`].
//!
//! # Interpolation ([`interpolate`])
//!
//! | form | result |
//! | --- | --- |
//! | `$$` | a literal `$` |
//! | `$VAR`, `${VAR}` | the value; `""` when unset, and the name is reported in [`Interpolated::unset`] |
//! | `${VAR:-default}` | `default` when `VAR` is unset **or empty** |
//! | `${VAR-default}` | `default` only when `VAR` is unset |
//! | `${VAR:?message}` | error when `VAR` is unset or empty |
//! | `${VAR?message}` | error when `VAR` is unset |
//! | `${VAR:+replacement}` | `replacement` when `VAR` is set and non-empty, else `""` |
//! | `${VAR+replacement}` | `replacement` when `VAR` is set (even empty), else `""` |
//!
//! Names are `[A-Za-z_][A-Za-z0-9_]*` (ASCII). Defaults, messages and
//! replacements may themselves contain interpolation (`${A:-${B:-x}}`), up to
//! [`MAX_NESTING`] levels; deeper nesting is an error, never a stack overflow.
//!
//! Compose behaviours followed on purpose:
//! - A `$` that is not followed by `$`, `{` or a character that can start a
//!   name is kept literally (`"a $ b"`, `"^re$"`, `"$1"`, `"$}"`), like
//!   compose-go v2. A `${` that does not form a valid expression is an error
//!   (`${`, `${}`, `${ x}`, `${1abc}`, `${x }`, `${x!}`, `${VAR:x}`).
//! - `$VAR-suffix` is `$VAR` followed by `-suffix`: only the braced form takes
//!   modifiers.
//! - Inside a default/message/replacement, a bare `{` opens a brace pair whose
//!   `}` belongs to the text (`${CFG:-{"a":1}}` defaults to `{"a":1}`); the
//!   first unmatched `}` closes the expression.
//! - Defaults, messages and replacements are lazy, as in compose-go since
//!   v2.10.1: `${SET:-${OTHER:?needed}}` with `SET` set neither fails nor
//!   reports `OTHER`, and `${A:+${A},}B` with `A` unset reports nothing. Their
//!   syntax is still checked (a malformed `${` is an error either way).
//! - Values are inserted verbatim; they are never interpolated again.
//!
//! Deliberate differences from compose-go:
//! - The `?message` in an error is the text the author wrote, *not*
//!   interpolated: an error must never carry a variable's value (see below).
//! - [`Interpolated::unset`] lists each unset name once, in first-use order
//!   (compose warns once per occurrence).
//!
//! # `.env` files ([`parse_dotenv`])
//!
//! `KEY=VALUE` lines, optionally prefixed by `export `; blank lines and `#`
//! comments; a UTF-8 BOM and CRLF line ends are accepted. See
//! [`parse_dotenv`] for the value syntax.
//!
//! # Secrets
//!
//! Variable values may be secrets. No error message and no `Debug` output of
//! a type in this crate contains a variable's value or the text of a `.env`
//! value: errors carry byte offsets (or line and column), variable names and
//! the `?message` text the author wrote. [`Vars`] and [`Interpolated`] redact
//! values in their `Debug` output.
//!
//! # Example
//!
//! ```
//! use platformctl_interpolate::{Vars, interpolate, parse_dotenv};
//!
//! let dotenv = parse_dotenv(
//!     "# registry settings\nREGISTRY=registry.example.com\nTAG=1.27 # pinned\n",
//!     &Vars::new(),
//! )?;
//! // The shell environment wins over `.env`.
//! let env = [("TAG".to_string(), "1.28".to_string())];
//! let vars = Vars::layered(env, dotenv);
//!
//! let out = interpolate("${REGISTRY}/nginx:${TAG:-latest} $$HOME ${MISSING}", &vars)?;
//! assert_eq!(out.value, "registry.example.com/nginx:1.28 $HOME ");
//! assert_eq!(out.unset, ["MISSING"]);
//!
//! let err = interpolate("${DB_PASSWORD:?set it in .env}", &vars).unwrap_err();
//! assert_eq!(err.offset, 0);
//! assert!(err.to_string().contains("DB_PASSWORD is not set: set it in .env"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dotenv;
mod template;

use std::collections::HashMap;
use std::fmt;

pub use dotenv::{DotenvError, DotenvErrorKind, parse_dotenv, parse_dotenv_lenient};
pub use template::{InterpolationError, InterpolationErrorKind, MAX_NESTING, Missing, interpolate};

/// Where variable values come from.
///
/// The caller builds it, usually with [`Vars::layered`]: the process
/// environment over the `.env` file (in Compose, the shell environment wins
/// over `.env`). A variable that is present with an empty value is *set*;
/// that matters for `${VAR-default}`, `${VAR?msg}` and `${VAR+x}`.
///
/// `Debug` shows the variable names only, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Vars {
    map: HashMap<String, String>,
}

impl Vars {
    /// An empty set of variables.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing any previous value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.map.insert(name.into(), value.into());
    }

    /// The value of `name`, or `None` when it is unset.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// Whether `name` is set (possibly to an empty value).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// Removes `name`, returning its value if it was set.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.map.remove(name)
    }

    /// Number of variables set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no variable is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The names of the variables that are set, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Compose's precedence: every variable of `env` (the process
    /// environment) wins over the same variable from `dotenv` (the parsed
    /// `.env` file, e.g. the output of [`parse_dotenv`]).
    #[must_use]
    pub fn layered(
        env: impl IntoIterator<Item = (String, String)>,
        dotenv: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut vars: Self = dotenv.into_iter().collect();
        vars.extend(env);
        vars
    }
}

impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.names().collect();
        names.sort_unstable();
        f.debug_struct("Vars")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

impl FromIterator<(String, String)> for Vars {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self {
            map: iter.into_iter().collect(),
        }
    }
}

impl Extend<(String, String)> for Vars {
    /// Later pairs win over earlier ones and over existing values.
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        self.map.extend(iter);
    }
}

/// The result of [`interpolate`].
///
/// `Debug` redacts [`value`](Self::value): it may contain secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Interpolated {
    /// The interpolated string.
    pub value: String,
    /// Names referenced as `$VAR` or `${VAR}` that were unset and replaced by
    /// `""` (compose warns about these). Each name appears once, in the order
    /// of first use. Forms with a modifier (`${VAR-x}`, `${VAR:+x}`, …) never
    /// add their own name here.
    pub unset: Vec<String>,
}

impl fmt::Debug for Interpolated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interpolated")
            .field(
                "value",
                &format_args!("<redacted, {} bytes>", self.value.len()),
            )
            .field("unset", &self.unset)
            .finish()
    }
}

/// A source of variable values: [`Vars`], or the `.env` parser's view of
/// "the given vars, then earlier keys of this file".
pub(crate) trait Lookup {
    fn lookup(&self, name: &str) -> Option<&str>;
}

impl Lookup for Vars {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn layered_env_wins_over_dotenv() {
        let vars = Vars::layered(
            [pair("A", "env"), pair("EMPTY", "")],
            [pair("A", "dotenv"), pair("B", "dotenv"), pair("EMPTY", "x")],
        );
        assert_eq!(vars.get("A"), Some("env"));
        assert_eq!(vars.get("B"), Some("dotenv"));
        // Set-but-empty in the environment still wins.
        assert_eq!(vars.get("EMPTY"), Some(""));
        assert_eq!(vars.get("C"), None);
        assert_eq!(vars.len(), 3);
    }

    #[test]
    fn debug_never_shows_values() {
        let mut vars = Vars::new();
        vars.set("DB_PASSWORD", "hunter2-secret");
        let dbg = format!("{vars:?}");
        assert!(dbg.contains("DB_PASSWORD"));
        assert!(!dbg.contains("hunter2"));

        let out = interpolate("${DB_PASSWORD}", &vars).unwrap();
        let dbg = format!("{out:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("redacted"));
    }
}
