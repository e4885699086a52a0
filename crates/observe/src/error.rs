//! What can go wrong while observing one host, phrased for the operator.

use std::fmt;
use std::time::Duration;

/// Why a host could not be observed. The CLI maps these to drift-check statuses and exit codes
/// (`Invalid` is a configuration error; the others make the host's modules `unreachable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObserveErrorKind {
    /// The host (ssh server or Docker socket) could not be reached at all.
    Unreachable,
    /// The host did not answer in time (ssh `ConnectTimeout` or the per-host timeout).
    Timeout,
    /// The host answered but refused: host key, authentication, permissions, an engine too old.
    Refused,
    /// The host answered something that is not what the Docker Engine API or CLI answers.
    Protocol,
    /// The answer was well-formed HTTP or command output but not the JSON the decoders expect.
    Decode,
    /// The input (project name, socket path, ssh destination) was refused before anything ran.
    Invalid,
}

impl ObserveErrorKind {
    /// A short stable name (`unreachable`, `timeout`, …) for JSON documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
            Self::Refused => "refused",
            Self::Protocol => "protocol",
            Self::Decode => "decode",
            Self::Invalid => "invalid",
        }
    }
}

impl fmt::Display for ObserveErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An observation failure. `message` says what happened and what to do; it never holds a
/// secret (it is built from host names, socket paths, status codes and the first lines of ssh
/// or docker diagnostics, never from environment values or file contents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserveError {
    /// The class of failure.
    pub kind: ObserveErrorKind,
    /// A one-line explanation with a hint.
    pub message: String,
}

impl ObserveError {
    pub(crate) fn new(kind: ObserveErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub(crate) fn unreachable(message: impl Into<String>) -> Self {
        Self::new(ObserveErrorKind::Unreachable, message)
    }
    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self::new(ObserveErrorKind::Timeout, message)
    }
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self::new(ObserveErrorKind::Refused, message)
    }
    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(ObserveErrorKind::Protocol, message)
    }
    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Self::new(ObserveErrorKind::Decode, message)
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ObserveErrorKind::Invalid, message)
    }
}

impl fmt::Display for ObserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ObserveError {}

/// `5 s`, `1.5 s`, `250 ms`: durations as the operator configured them.
pub(crate) fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Keeps a diagnostic line printable and short: control characters become spaces, and at most
/// `max` characters are kept.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let cleaned: String = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cleaned.chars().count() <= max {
        cleaned
    } else {
        let mut out: String = cleaned.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_config() {
        assert_eq!(secs(Duration::from_secs(5)), "5 s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(secs(Duration::from_millis(250)), "250 ms");
    }

    #[test]
    fn clip_removes_control_characters_and_bounds_length() {
        assert_eq!(clip(" a\tb\r\n", 10), "a b");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
