use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorKind, RefError};
use crate::scan::{bad_char, prescan};

/// The fewest hex digits the reference grammar allows in any digest.
pub const MIN_DIGEST_HEX_LEN: usize = 32;

/// Algorithms with a fixed encoding: lowercase hex of exactly this length.
///
/// These are the algorithms the Docker engine (through `go-digest`) knows.
const REGISTERED: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// A content digest, `algorithm:hex`, as in `sha256:3f1a…`.
///
/// `sha256`, `sha384` and `sha512` digests must be exactly 64, 96 and 128
/// lowercase hex digits. Other algorithms are refused as unsupported, as the
/// Docker engine refuses them, once they are checked against the reference
/// grammar (`[A-Za-z][A-Za-z0-9]*` parts joined by `-` `_` `+` `.`, then at
/// least 32 hex digits of either case), so that a malformed digest is named
/// as such.
///
/// Equality is case-sensitive, as the OCI specification says: digests are
/// compared as strings.
///
/// ```
/// use platformctl_imageref::Digest;
///
/// let hex = "a".repeat(64);
/// let d: Digest = format!("sha256:{hex}").parse()?;
/// assert_eq!(d.algorithm(), "sha256");
/// assert_eq!(d.hex(), hex);
/// assert_eq!(d.to_string(), format!("sha256:{hex}"));
/// assert!(Digest::parse("sha256:ABC").is_err());
/// # Ok::<(), platformctl_imageref::RefError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: String,
    hex: String,
}

impl Digest {
    /// Parses `algorithm:hex`.
    ///
    /// Error offsets are relative to `s`.
    pub fn parse(s: &str) -> Result<Digest, RefError> {
        prescan(s)?;
        parse_at(s, 0)
    }

    /// The algorithm, e.g. `sha256`.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The encoded part after the `:`, as written.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl FromStr for Digest {
    type Err = RefError;

    fn from_str(s: &str) -> Result<Digest, RefError> {
        Digest::parse(s)
    }
}

/// Parses a digest that starts at byte `base` of the whole input; `s` is the
/// digest's text alone. The caller has already rejected whitespace and
/// non-ASCII input and bounded the length.
pub(crate) fn parse_at(s: &str, base: usize) -> Result<Digest, RefError> {
    let b = s.as_bytes();
    let err = |kind, at: usize| Err(RefError::new(kind, base + at));
    if b.is_empty() {
        return err(ErrorKind::EmptyDigest, 0);
    }

    // algorithm: component ( [-_+.] component )*, component = [A-Za-z][A-Za-z0-9]*
    let mut i = 0;
    loop {
        // At the start of a component: it must begin with a letter.
        match b.get(i) {
            Some(c) if c.is_ascii_alphabetic() => i += 1,
            Some(&c) => {
                return Err(bad_char(c, base + i, |_| ErrorKind::InvalidDigestAlgorithm));
            }
            None => return err(ErrorKind::MissingDigestSeparator, i),
        }
        while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        match b.get(i) {
            Some(b':') => break,
            Some(&c) if is_alg_sep(c) => i += 1,
            Some(&c) => {
                return Err(bad_char(c, base + i, |_| ErrorKind::InvalidDigestAlgorithm));
            }
            None => return err(ErrorKind::MissingDigestSeparator, i),
        }
    }
    let algorithm = &s[..i];
    let hex_start = i + 1;
    let hex = &s[hex_start..];

    let registered = REGISTERED
        .iter()
        .find(|(name, _)| algorithm.eq_ignore_ascii_case(name));
    if let Some(&(name, len)) = registered {
        if algorithm != name {
            return err(ErrorKind::UppercaseDigestAlgorithm, 0);
        }
        for (j, &c) in hex.as_bytes().iter().enumerate() {
            if c.is_ascii_uppercase() && c.is_ascii_hexdigit() {
                return err(
                    ErrorKind::UppercaseDigestHex { algorithm: name },
                    hex_start + j,
                );
            }
            if !(c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
                return Err(bad_char(
                    c,
                    base + hex_start + j,
                    ErrorKind::InvalidDigestCharacter,
                ));
            }
        }
        if hex.len() != len {
            let kind = ErrorKind::DigestLength {
                algorithm: name,
                expected: len,
                found: hex.len(),
            };
            return err(kind, hex_start + hex.len().min(len));
        }
    } else {
        for (j, &c) in hex.as_bytes().iter().enumerate() {
            if !c.is_ascii_hexdigit() {
                return Err(bad_char(
                    c,
                    base + hex_start + j,
                    ErrorKind::InvalidDigestCharacter,
                ));
            }
        }
        if hex.len() < MIN_DIGEST_HEX_LEN {
            let kind = ErrorKind::DigestTooShort {
                min: MIN_DIGEST_HEX_LEN,
                found: hex.len(),
            };
            return err(kind, s.len());
        }
        // Well formed, but the engine (go-digest) knows no such algorithm:
        // `docker pull` refuses it as unsupported.
        return err(ErrorKind::UnsupportedDigestAlgorithm, 0);
    }
    Ok(Digest {
        algorithm: algorithm.to_owned(),
        hex: hex.to_owned(),
    })
}

fn is_alg_sep(c: u8) -> bool {
    matches!(c, b'-' | b'_' | b'+' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> ErrorKind {
        Digest::parse(s).unwrap_err().kind().clone()
    }

    #[test]
    fn registered_algorithms() {
        let h64 = "0123456789abcdef".repeat(4);
        let h96 = "0123456789abcdef".repeat(6);
        let h128 = "0123456789abcdef".repeat(8);
        for s in [
            format!("sha256:{h64}"),
            format!("sha384:{h96}"),
            format!("sha512:{h128}"),
        ] {
            let d = Digest::parse(&s).unwrap();
            assert_eq!(d.to_string(), s);
        }
        assert!(matches!(
            kind(&format!("sha256:{h96}")),
            ErrorKind::DigestLength {
                expected: 64,
                found: 96,
                ..
            }
        ));
        assert!(matches!(
            kind(&format!("sha512:{h64}")),
            ErrorKind::DigestLength { expected: 128, .. }
        ));
        assert!(matches!(
            kind(&format!("sha384:{h64}")),
            ErrorKind::DigestLength { expected: 96, .. }
        ));
    }

    #[test]
    fn sha256_must_be_lowercase() {
        let upper = "0123456789ABCDEF".repeat(4);
        let e = Digest::parse(&format!("sha256:{upper}")).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::UppercaseDigestHex { .. }));
        assert_eq!(e.offset(), 7 + 10);
        let lower = "0123456789abcdef".repeat(4);
        assert_eq!(
            kind(&format!("SHA256:{lower}")),
            ErrorKind::UppercaseDigestAlgorithm
        );
        assert_eq!(
            kind(&format!("Sha512:{lower}")),
            ErrorKind::UppercaseDigestAlgorithm
        );
    }

    #[test]
    fn unregistered_algorithms() {
        let h32 = "0123456789abcdefABCDEF0123456789";
        // Well formed, but Docker supports none of them (go-digest's
        // ErrDigestUnsupported).
        for alg in ["blake3", "a", "multihash+base58", "x.y-z_w", "A1b2"] {
            let s = format!("{alg}:{h32}");
            assert_eq!(kind(&s), ErrorKind::UnsupportedDigestAlgorithm, "{s}");
        }
        assert_eq!(
            kind("blake3:0123456789abcdef0123456789abcde"),
            ErrorKind::DigestTooShort { min: 32, found: 31 }
        );
        for alg in ["1abc", "a-", "a--b", "a-1", "-a", "a+", "a:b"] {
            let s = format!("{alg}:{h32}");
            assert!(Digest::parse(&s).is_err(), "{s}");
        }
        assert_eq!(
            kind(&format!("blake3:{h32}g")),
            ErrorKind::InvalidDigestCharacter('g')
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(kind(""), ErrorKind::EmptyDigest);
        assert_eq!(kind("sha256"), ErrorKind::MissingDigestSeparator);
        assert_eq!(kind(":abc"), ErrorKind::InvalidDigestAlgorithm);
        assert_eq!(
            kind("sha256:"),
            ErrorKind::DigestLength {
                algorithm: "sha256",
                expected: 64,
                found: 0
            }
        );
        assert_eq!(kind("sha 256:00"), ErrorKind::Whitespace);
        assert_eq!(kind("shä256:00"), ErrorKind::NonAscii);
        assert_eq!(Digest::parse("shä256:00").unwrap_err().offset(), 2);
    }

    #[test]
    fn equality_is_by_string() {
        let a = Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        let b = Digest::parse(&format!("sha256:{}", "ba".repeat(32))).unwrap();
        assert_ne!(a, b);
        assert_eq!(a, a.to_string().parse().unwrap());
    }
}
