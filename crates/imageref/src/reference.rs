use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::digest::{self, Digest};
use crate::error::{ErrorKind, RefError};
use crate::scan::{bad_char, prescan};

/// The registry a reference without one refers to.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The tag a reference with neither tag nor digest refers to.
pub const DEFAULT_TAG: &str = "latest";
/// The longest repository path (`library/redis`, `owner/app`; the registry
/// does not count), in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// The longest tag, in bytes.
pub const MAX_TAG_LEN: usize = 128;

/// The old name of Docker Hub's registry, normalised to [`DEFAULT_REGISTRY`].
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
const OFFICIAL_PREFIX: &str = "library/";

/// A parsed, normalised image reference: `[registry/]path[:tag][@digest]`.
///
/// Equality, hashing and ordering use the normalised identity — registry,
/// repository, effective tag and digest — never the original string, so
/// `redis`, `redis:latest` and `index.docker.io/library/redis:latest` are all
/// equal. A reference with both a tag and a digest is not equal to the same
/// name with only one of them; compare [`ImageRef::digest`]s for that.
///
/// The registry host is kept as written (apart from `index.docker.io`), as
/// Docker does: `GHCR.io/a/b` and `ghcr.io/a/b` are different references.
///
/// ```
/// use platformctl_imageref::ImageRef;
///
/// let r: ImageRef = "minio/minio:RELEASE.2024-01-16T16-07-38Z".parse()?;
/// assert_eq!(r.registry(), "docker.io");
/// assert_eq!(r.repository(), "minio/minio");
/// assert_eq!(r.tag(), Some("RELEASE.2024-01-16T16-07-38Z"));
/// assert_eq!(r.familiar(), "minio/minio:RELEASE.2024-01-16T16-07-38Z");
/// # Ok::<(), platformctl_imageref::RefError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ImageRef {
    original: String,
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl ImageRef {
    /// Parses a reference the way the Docker engine does
    /// (`ParseNormalizedNamed` in `distribution/reference`).
    ///
    /// Rejects, besides anything outside the grammar: the empty string,
    /// whitespace anywhere, non-ASCII characters, input longer than
    /// [`MAX_REFERENCE_LEN`](crate::MAX_REFERENCE_LEN) bytes, and bare image
    /// IDs (`sha256:<64 hex>` or 64 hex digits alone), which name a local
    /// image configuration rather than anything a registry serves.
    pub fn parse(s: &str) -> Result<ImageRef, RefError> {
        if s.is_empty() {
            return Err(RefError::new(ErrorKind::Empty, 0));
        }
        prescan(s)?;
        let b = s.as_bytes();
        if is_image_id(b) {
            return Err(RefError::new(ErrorKind::ImageId, 0));
        }

        // name[:tag][@digest]. Neither name nor tag may contain `@`, so the
        // digest starts after the first one. A tag may contain neither `/`
        // nor `:`, so it follows the last `:` if that comes after the last
        // `/`; any other `:` belongs to a registry port.
        let at = b.iter().position(|&c| c == b'@');
        let left_end = at.unwrap_or(b.len());
        let left = &b[..left_end];
        let last_slash = left.iter().rposition(|&c| c == b'/');
        let (name_end, tag_start) = match left.iter().rposition(|&c| c == b':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => (colon, Some(colon + 1)),
            _ => (left_end, None),
        };
        if name_end == 0 {
            return Err(RefError::new(ErrorKind::MissingRepository, 0));
        }

        let name = &s[..name_end];
        let (registry, path_start) = match name.find('/') {
            Some(slash) if looks_like_domain(&name[..slash]) => {
                check_domain(b, 0, slash)?;
                (&name[..slash], slash + 1)
            }
            _ => (DEFAULT_REGISTRY, 0),
        };
        let registry = if registry == LEGACY_DEFAULT_REGISTRY {
            DEFAULT_REGISTRY
        } else {
            registry
        };
        check_path(b, path_start, name_end)?;
        let path = &s[path_start..name_end];
        let official = registry == DEFAULT_REGISTRY && !path.contains('/');

        // Docker limits the repository path (with `library/` for official
        // images), not the registry: distribution/reference v0.6.0 on.
        let prefix_len = if official { OFFICIAL_PREFIX.len() } else { 0 };
        let path_len = prefix_len + path.len();
        if path_len > MAX_NAME_LEN {
            // Point at the byte of the input that carries the path past the
            // limit.
            let offset = path_start + (MAX_NAME_LEN - prefix_len);
            let kind = ErrorKind::NameTooLong {
                max: MAX_NAME_LEN,
                len: path_len,
            };
            return Err(RefError::new(kind, offset.min(name_end)));
        }

        let tag = match tag_start {
            Some(start) => {
                check_tag(b, start, left_end)?;
                Some(s[start..left_end].to_owned())
            }
            None => None,
        };
        let digest = match at {
            Some(at) => Some(digest::parse_at(&s[at + 1..], at + 1)?),
            None => None,
        };

        let repository = if official {
            let mut r = String::with_capacity(OFFICIAL_PREFIX.len() + path.len());
            r.push_str(OFFICIAL_PREFIX);
            r.push_str(path);
            r
        } else {
            path.to_owned()
        };
        Ok(ImageRef {
            original: s.to_owned(),
            registry: registry.to_owned(),
            repository,
            tag,
            digest,
        })
    }

    /// The string this reference was parsed from, exactly.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The registry: `docker.io` when none was written, otherwise the host
    /// (and port) as written, e.g. `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry, e.g. `library/redis`,
    /// `minio/minio`, `immich-app/immich-server`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The full normalised name, `registry/repository`, e.g.
    /// `docker.io/library/redis`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag, if one was written.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// Whether neither a tag nor a digest was written, so that the reference
    /// means the `latest` tag.
    pub fn tag_is_implied(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The tag the engine resolves: the written tag, `latest` when neither
    /// tag nor digest was written, and `None` for `name@digest`.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// The digest, if one was written.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The fully qualified form: `registry/repository[:tag][@digest]`, with
    /// the tag made explicit (`latest`) when neither tag nor digest was
    /// written, e.g. `docker.io/library/redis:latest`.
    ///
    /// Parsing it gives an equal reference. The same as `to_string()`.
    pub fn normalized(&self) -> String {
        self.to_string()
    }

    /// The name as Docker prints it: without `docker.io/`, and without
    /// `library/` for official images, e.g. `redis`, `minio/minio`,
    /// `ghcr.io/a/b`.
    ///
    /// Unlike Docker, this keeps `docker.io/` when the short form would be
    /// read back as a different registry (`docker.io/foo.bar/baz`).
    pub fn familiar_name(&self) -> String {
        if self.registry == DEFAULT_REGISTRY {
            if let Some(rest) = self.repository.strip_prefix(OFFICIAL_PREFIX)
                && !rest.contains('/')
            {
                return rest.to_owned();
            }
            match self.repository.split_once('/') {
                Some((first, _)) if looks_like_domain(first) => {}
                _ => return self.repository.clone(),
            }
        }
        self.name()
    }

    /// The short form Docker prints (as in an image's `RepoTags`):
    /// [`familiar_name`](ImageRef::familiar_name), then the effective tag and
    /// the digest, e.g. `redis:7`, `redis:latest`, `ghcr.io/a/b:1`,
    /// `redis@sha256:…`.
    ///
    /// Unlike Docker's `FamiliarString`, the implied `latest` tag is written
    /// out. Parsing the result gives an equal reference.
    pub fn familiar(&self) -> String {
        let mut out = self.familiar_name();
        if let Some(tag) = self.effective_tag() {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(&digest.to_string());
        }
        out
    }

    /// Whether both references name the same repository on the same
    /// registry, whatever their tags and digests.
    pub fn same_repository(&self, other: &ImageRef) -> bool {
        self.registry == other.registry && self.repository == other.repository
    }

    fn identity(&self) -> (&str, &str, Option<&str>, Option<&Digest>) {
        (
            &self.registry,
            &self.repository,
            self.effective_tag(),
            self.digest.as_ref(),
        )
    }
}

impl fmt::Display for ImageRef {
    /// Writes the [normalised](ImageRef::normalized) form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = self.effective_tag() {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for ImageRef {
    type Err = RefError;

    fn from_str(s: &str) -> Result<ImageRef, RefError> {
        ImageRef::parse(s)
    }
}

impl PartialEq for ImageRef {
    fn eq(&self, other: &ImageRef) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for ImageRef {}

impl Hash for ImageRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl PartialOrd for ImageRef {
    fn partial_cmp(&self, other: &ImageRef) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ImageRef {
    fn cmp(&self, other: &ImageRef) -> Ordering {
        self.identity().cmp(&other.identity())
    }
}

/// Whether Docker takes `first`, the part before the first `/`, for a
/// registry host rather than a path component.
fn looks_like_domain(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|c| c.is_ascii_uppercase())
}

/// `sha256:<64 hex>` or 64 hex digits alone, in either case.
fn is_image_id(b: &[u8]) -> bool {
    // Docker's `identifier` is lowercase hex: `[a-f0-9]{64}`.
    let hex64 = |h: &[u8]| {
        h.len() == 64
            && h.iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    };
    hex64(b) || b.strip_prefix(b"sha256:").is_some_and(hex64)
}

/// Checks `b[start..end]` as a registry: a hostname (dot-separated
/// components of letters, digits and inner `-`) or a bracketed IPv6 address,
/// then an optional `:port`.
fn check_domain(b: &[u8], start: usize, end: usize) -> Result<(), RefError> {
    let err = |kind, at| Err(RefError::new(kind, at));
    let mut i = start;
    if b[i] == b'[' {
        let close = match b[i + 1..end].iter().position(|&c| c == b']') {
            Some(p) => i + 1 + p,
            None => return err(ErrorKind::InvalidIpv6, end),
        };
        if close == i + 1 {
            return err(ErrorKind::InvalidIpv6, close);
        }
        if let Some(p) = b[i + 1..close]
            .iter()
            .position(|&c| !(c.is_ascii_hexdigit() || c == b':'))
        {
            return err(ErrorKind::InvalidIpv6, i + 1 + p);
        }
        i = close + 1;
    } else {
        loop {
            // A component must start with a letter or digit.
            match b[..end].get(i) {
                Some(c) if c.is_ascii_alphanumeric() => {}
                Some(b'-') => return err(ErrorKind::RegistryComponentEdge, i),
                Some(b'.' | b':') | None => return err(ErrorKind::EmptyRegistryComponent, i),
                Some(&c) => return Err(bad_char(c, i, ErrorKind::InvalidRegistryCharacter)),
            }
            while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
                i += 1;
            }
            if b[i - 1] == b'-' {
                return err(ErrorKind::RegistryComponentEdge, i - 1);
            }
            if i == end || b[i] == b':' {
                break;
            }
            if b[i] != b'.' {
                return Err(bad_char(b[i], i, ErrorKind::InvalidRegistryCharacter));
            }
            i += 1;
        }
    }
    if i < end {
        if b[i] != b':' {
            return Err(bad_char(b[i], i, ErrorKind::InvalidRegistryCharacter));
        }
        i += 1;
        if i == end {
            return err(ErrorKind::InvalidPort, i);
        }
        if let Some(p) = b[i..end].iter().position(|c| !c.is_ascii_digit()) {
            return err(ErrorKind::InvalidPort, i + p);
        }
    }
    Ok(())
}

/// Checks `b[start..end]` as a repository path: `/`-separated components
/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn check_path(b: &[u8], start: usize, end: usize) -> Result<(), RefError> {
    let mut i = start;
    loop {
        let comp_end = b[i..end]
            .iter()
            .position(|&c| c == b'/')
            .map_or(end, |p| i + p);
        check_component(b, i, comp_end)?;
        if comp_end == end {
            return Ok(());
        }
        i = comp_end + 1;
    }
}

fn check_component(b: &[u8], start: usize, end: usize) -> Result<(), RefError> {
    let err = |kind, at| Err(RefError::new(kind, at));
    if start == end {
        return err(ErrorKind::EmptyPathComponent, start);
    }
    let mut i = start;
    loop {
        // A run of lowercase letters and digits must come first, and after
        // every separator.
        match b[i] {
            c if is_lower_alnum(c) => {}
            c if c.is_ascii_uppercase() => return err(ErrorKind::Uppercase, i),
            b'.' | b'_' | b'-' => return err(ErrorKind::MisplacedSeparator, i),
            c => return Err(bad_char(c, i, ErrorKind::InvalidPathCharacter)),
        }
        while i < end && is_lower_alnum(b[i]) {
            i += 1;
        }
        if i == end {
            return Ok(());
        }
        let sep = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < end && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < end && b[i] == b'-' {
                    i += 1;
                }
            }
            c if c.is_ascii_uppercase() => return err(ErrorKind::Uppercase, i),
            c => return Err(bad_char(c, i, ErrorKind::InvalidPathCharacter)),
        }
        if i == end {
            return err(ErrorKind::MisplacedSeparator, sep);
        }
    }
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Checks `b[start..end]` as a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(b: &[u8], start: usize, end: usize) -> Result<(), RefError> {
    if start == end {
        return Err(RefError::new(ErrorKind::EmptyTag, start));
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if !word(b[start]) {
        return Err(bad_char(b[start], start, ErrorKind::InvalidTagStart));
    }
    for (i, &c) in b.iter().enumerate().take(end).skip(start + 1) {
        if !(word(c) || c == b'.' || c == b'-') {
            return Err(bad_char(c, i, ErrorKind::InvalidTagCharacter));
        }
        if i - start == MAX_TAG_LEN {
            return Err(RefError::new(ErrorKind::TooLongTag { max: MAX_TAG_LEN }, i));
        }
    }
    Ok(())
}
