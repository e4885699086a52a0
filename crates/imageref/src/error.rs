use std::fmt;

/// An error from parsing an image reference or a digest.
///
/// It says what is wrong ([`RefError::kind`]) and where: the byte offset in
/// the parsed string at which the problem was found ([`RefError::offset`]).
/// The offset always lies on a `char` boundary of the input and is never past
/// its end, so `&input[err.offset()..]` is safe to print.
///
/// The `Display` output is a lowercase sentence fragment that says what to
/// do about the problem, followed by the offset, e.g.
/// `repository names must be lowercase; ... (at byte 0)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefError {
    kind: ErrorKind,
    offset: usize,
}

impl RefError {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> RefError {
        RefError { kind, offset }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The byte offset in the input at which the problem was found.
    ///
    /// For problems with a missing piece (an empty tag, say) this is where the
    /// piece should have started; it may then equal the input's length.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.kind, self.offset)
    }
}

impl std::error::Error for RefError {}

/// The kinds of problem [`RefError`] reports.
///
/// New kinds may be added; match with a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is the empty string.
    Empty,
    /// The input is longer than any valid reference can be.
    TooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The input contains a whitespace character (ASCII or Unicode).
    Whitespace,
    /// The input contains a non-ASCII character.
    NonAscii,
    /// The input is an image ID (`sha256:<64 hex>` or 64 hex digits alone),
    /// which names a local image configuration, not a reference.
    ImageId,
    /// There is nothing before the `:tag` or `@digest`.
    MissingRepository,
    /// The registry host is missing a component (`ghcr..io`, `.io`, `:5000`).
    EmptyRegistryComponent,
    /// The registry host contains a character hostnames may not contain.
    InvalidRegistryCharacter(char),
    /// A registry host component starts or ends with `-`.
    RegistryComponentEdge,
    /// The registry port is empty or not all digits.
    InvalidPort,
    /// A bracketed IPv6 registry address is malformed.
    InvalidIpv6,
    /// The repository path contains an uppercase letter.
    Uppercase,
    /// The repository path has an empty component (`a//b`, a trailing `/`).
    EmptyPathComponent,
    /// The repository path contains a character it may not contain.
    InvalidPathCharacter(char),
    /// A separator (`.`, `_`, `__`, `-`) starts or ends a path component, or
    /// two separators touch (`a._b`, `a___b`).
    MisplacedSeparator,
    /// The normalised repository path (`library/redis`, without the
    /// registry) is too long.
    NameTooLong {
        /// The limit, in bytes.
        max: usize,
        /// The length of the normalised path.
        len: usize,
    },
    /// Nothing follows the tag's `:`.
    EmptyTag,
    /// The tag starts with `.` or `-` (or another character tags may not
    /// start with).
    InvalidTagStart(char),
    /// The tag contains a character tags may not contain.
    InvalidTagCharacter(char),
    /// The tag is too long.
    TooLongTag {
        /// The limit, in bytes.
        max: usize,
    },
    /// Nothing follows the digest's `@`, or the digest string is empty.
    EmptyDigest,
    /// The digest has no `:` between algorithm and hex.
    MissingDigestSeparator,
    /// The digest algorithm is malformed.
    InvalidDigestAlgorithm,
    /// A registered algorithm is written with uppercase letters (`SHA256`).
    UppercaseDigestAlgorithm,
    /// The digest's encoded part contains a non-hex character.
    InvalidDigestCharacter(char),
    /// A registered algorithm's digest contains uppercase hex digits.
    UppercaseDigestHex {
        /// The algorithm, e.g. `sha256`.
        algorithm: &'static str,
    },
    /// A registered algorithm's digest has the wrong number of hex digits.
    DigestLength {
        /// The algorithm, e.g. `sha256`.
        algorithm: &'static str,
        /// How many hex digits the algorithm requires.
        expected: usize,
        /// How many were written.
        found: usize,
    },
    /// The digest algorithm is well formed but not one the Docker engine
    /// supports (`sha256`, `sha384`, `sha512`).
    UnsupportedDigestAlgorithm,
    /// A digest with an unregistered algorithm has fewer hex digits than
    /// any digest may have.
    DigestTooShort {
        /// The minimum number of hex digits.
        min: usize,
        /// How many were written.
        found: usize,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            Empty => f.write_str(
                "image reference is empty; write a name such as `redis:7` \
                 or `ghcr.io/owner/app:1.0`",
            ),
            TooLong { max } => write!(
                f,
                "image reference is longer than {max} bytes; no valid reference is that long"
            ),
            Whitespace => f.write_str(
                "image reference contains whitespace; remove it (look for stray spaces, \
                 tabs or newlines, e.g. from quoting)",
            ),
            NonAscii => f.write_str(
                "image reference contains a non-ASCII character; references use only \
                 ASCII letters, digits and `.` `_` `-` `/` `:` `@`",
            ),
            ImageId => f.write_str(
                "this is an image ID, not an image reference; refer to the image by name \
                 and tag (`redis:7`) or by manifest digest (`redis@sha256:...`), since an \
                 image ID never equals a manifest digest",
            ),
            MissingRepository => f.write_str(
                "image reference has no repository name; write the name before the \
                 `:tag` or `@digest`",
            ),
            EmptyRegistryComponent => f.write_str(
                "registry host is missing or has an empty component; look for a stray `.` \
                 or a missing host before `:port`",
            ),
            InvalidRegistryCharacter(c) => write!(
                f,
                "registry host may contain only letters, digits, `-` and `.`, then an \
                 optional `:port` (found `{}`)",
                c.escape_debug()
            ),
            RegistryComponentEdge => f.write_str(
                "registry host components must start and end with a letter or digit, \
                 not `-`",
            ),
            InvalidPort => {
                f.write_str("registry port must be one or more digits, e.g. `localhost:5000`")
            }
            InvalidIpv6 => f.write_str(
                "IPv6 registry address must be hex digits and `:` inside brackets, \
                 e.g. `[::1]:5000`",
            ),
            Uppercase => f.write_str(
                "repository names must be lowercase; only the registry host and the tag \
                 may contain uppercase letters",
            ),
            EmptyPathComponent => f.write_str(
                "repository path has an empty component; remove the extra `/` \
                 (or add the missing name after the registry)",
            ),
            InvalidPathCharacter(c) => write!(
                f,
                "repository path may contain only lowercase letters, digits, `.`, `_`, \
                 `-` and `/` (found `{}`)",
                c.escape_debug()
            ),
            MisplacedSeparator => f.write_str(
                "repository path components must start and end with a letter or digit, \
                 with one separator (`.`, `_`, `__` or dashes) between letters or digits",
            ),
            NameTooLong { max, len } => write!(
                f,
                "repository path is {len} characters once normalised (without the registry); \
                 shorten it to at most {max}"
            ),
            EmptyTag => f.write_str("tag after `:` is empty; write a tag or remove the `:`"),
            InvalidTagStart(c) => write!(
                f,
                "tag must start with a letter, digit or `_` (found `{}`)",
                c.escape_debug()
            ),
            InvalidTagCharacter(c) => write!(
                f,
                "tag may contain only letters, digits, `_`, `.` and `-` (found `{}`)",
                c.escape_debug()
            ),
            TooLongTag { max } => {
                write!(f, "tag is longer than {max} characters; shorten it")
            }
            EmptyDigest => {
                f.write_str("digest is empty; write `@sha256:<64 hex digits>` or remove the `@`")
            }
            MissingDigestSeparator => {
                f.write_str("digest must be `algorithm:hex`, e.g. `sha256:<64 hex digits>`")
            }
            InvalidDigestAlgorithm => f.write_str(
                "digest algorithm must be letters and digits, each part starting with a \
                 letter, parts joined by `-` `_` `+` or `.` (e.g. `sha256`)",
            ),
            UppercaseDigestAlgorithm => f.write_str(
                "digest algorithm must be lowercase: write `sha256`, `sha384` or `sha512`",
            ),
            InvalidDigestCharacter(c) => write!(
                f,
                "digest may contain only hex digits after the algorithm (found `{}`)",
                c.escape_debug()
            ),
            UppercaseDigestHex { algorithm } => write!(
                f,
                "{algorithm} digests must be lowercase hex; lowercase the digest"
            ),
            DigestLength {
                algorithm,
                expected,
                found,
            } => write!(
                f,
                "{algorithm} digests are exactly {expected} hex digits (found {found}); \
                 copy the whole digest"
            ),
            UnsupportedDigestAlgorithm => f.write_str(
                "digest algorithm is not one Docker supports; write `sha256`, `sha384` \
                 or `sha512`",
            ),
            DigestTooShort { min, found } => write!(
                f,
                "digest must have at least {min} hex digits (found {found}); copy the \
                 whole digest"
            ),
        }
    }
}
