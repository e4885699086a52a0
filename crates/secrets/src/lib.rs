//! Finds credentials in the places where platformctl says none may be: module
//! manifests (YAML), the inventory (`platform.toml`) and workplans (Markdown
//! with YAML blocks).
//!
//! Manifests live in git, so a password, token or private key written into
//! one is leaked to everyone who can read the repository, forever. This crate
//! tells the validator that a value *is* a credential and *what kind*, and
//! nothing else: a [`SecretHit`] holds a [`SecretKind`], a byte offset and a
//! length, never the value. Neither [`SecretKind::describe`] nor any
//! `Display`/`Debug` output contains the value or any part of it, so a
//! validation message built from a hit is safe to print, log and paste.
//!
//! There are three entry points:
//!
//! - [`scan_value`] looks at a value on its own, whatever its key: private
//!   key blocks, well-known token formats (GitHub, GitLab, Slack, AWS,
//!   Google, Stripe, OpenAI, Anthropic, Hugging Face, npm, Docker Hub,
//!   Tailscale, Vault, age, …), JWTs, and URLs with a password in them.
//! - [`scan_pair`] is for a key/value pair from structured data: everything
//!   [`scan_value`] finds, plus a *literal* value under a credential key
//!   (`password: hunter2`), plus `KEY=value` / `key: value` shapes inside the
//!   value (a compose `environment:` list entry, a DSN, an embedded config).
//! - [`scan_text`] is for free text (Markdown): every hit, in order.
//!
//! False positives matter as much as false negatives: an operator who cannot
//! get a clean catalog to validate stops validating. So the crate
//! deliberately does **not** flag:
//!
//! - UUIDs, image digests (`sha256:<64 hex>`), git commit SHAs, image tags
//!   such as `RELEASE.2024-01-16T16-07-38Z`, semver, dates, and any other
//!   value under a key that does not name a credential;
//! - URLs without a password (`https://user@host`, `ssh://git@host:22/x`),
//!   and URLs whose password is a placeholder (`postgres://app:${PW}@db`);
//! - key *names* and references: `POSTGRES_PASSWORD` as a value,
//!   `password_file: /run/secrets/db`, `secret_ref: vault/kv/app`,
//!   `${DB_PASSWORD}`, `${DB_PASSWORD:-x}`, `$DB_PASSWORD`, `{{ .Values.pw }}`;
//! - prose that mentions passwords (`description: rotates the postgres
//!   password weekly`, "set the password: see the runbook").
//!
//! # Example
//!
//! ```
//! use platformctl_secrets::{scan_pair, scan_text, scan_value, SecretKind};
//!
//! // A token is a token whatever its key, and the message never repeats it.
//! let token = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5");
//! let hit = scan_value(&token).expect("a GitHub token");
//! assert_eq!(hit.kind.describe(), "a GitHub personal access token");
//! assert!(!hit.to_string().contains(&token[..8]));
//!
//! // A literal under a credential key is a secret; a reference is not.
//! let hit = scan_pair("POSTGRES_PASSWORD", "hunter2").expect("a literal password");
//! assert_eq!(hit.kind.describe(), "a literal password under key `POSTGRES_PASSWORD`");
//! assert_eq!(scan_pair("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD}"), None);
//! assert_eq!(scan_pair("password_file", "/run/secrets/db"), None);
//! assert_eq!(scan_pair("description", "rotates the postgres password weekly"), None);
//!
//! // Digests, UUIDs and URLs without credentials are fine.
//! let digest = format!("ghcr.io/acme/api@sha256:{}", "ab".repeat(32));
//! assert_eq!(scan_value(&digest), None);
//! assert_eq!(scan_value("550e8400-e29b-41d4-a716-446655440000"), None);
//! assert_eq!(scan_value("postgres://app@db:5432/app"), None);
//!
//! // In free text every hit is reported, with offsets into the text.
//! let text = "Connect with `postgres://app:s3cr3t@db/app`, then\n\
//!             set `DB_PASSWORD=hunter2` and `DB_USER=app`.";
//! let hits = scan_text(text);
//! assert_eq!(hits.len(), 2);
//! assert_eq!(hits[0].kind, SecretKind::UrlCredentials);
//! assert_eq!(&text[hits[1].offset..hits[1].end()], "hunter2");
//! ```
//!
//! # Decisions on edge cases
//!
//! - **Which keys are credential keys.** The key is split into words on
//!   `_`, `-`, `.`, other punctuation and camelCase; trailing qualifiers
//!   (`_value`, `_b64`, `_base`, `_old`, numbers) are dropped; then the
//!   *last* word decides. `password`, `passwd`, `pwd`, `pass`, `passphrase`,
//!   `secret`, `token` (and words ending in `password`, `secret`, `token`,
//!   `apikey`, `authkey`, …, such as `clientSecret` or `requirepass`) and
//!   `api_key`, `access_key`, `private_key`, `secret_key`, `signing_key`,
//!   `encryption_key`, `master_key`, `auth_key`, `session_key` are
//!   credential keys. So `password_file`, `_path`, `_env`, `_name`, `_ref`,
//!   `_id`, `token_ttl`, `auth_method`, `password_min_length` are not:
//!   their value describes the credential, it is not the credential.
//! - **`token_id`, `client_id`, `access_key_id`** are identifiers, not
//!   secrets, and are not flagged as literals (an AWS key id is still caught
//!   by its format, whatever the key).
//! - **`secrets` (plural)** is not a credential key: in Compose it lists
//!   secret *names*. Password hashes (`password_hash`) are not flagged.
//! - **Weak keys.** `auth`, `authorization`, `credential(s)` often hold a
//!   method or profile name (`auth: oidc`), so under them only
//!   credential-shaped literals are flagged: `user:pass` (but not
//!   `ldap:ou=people`), `Bearer …`/`Basic …`, random-looking strings, and
//!   `changeme`.
//! - **What is not a literal**, under any key: empty values; anything
//!   containing an interpolation (`${…}`, `{{…}}`, so `abc${X}` too) or
//!   starting with `$VAR`/`$$VAR`; absolute paths, `./`, `../`, `~/` paths,
//!   Windows paths, and relative paths or file names with a file extension
//!   (`secrets/db.txt`, `tls.key`); references (`file:`, `env:`, `vault:`,
//!   `op://`, `sops:`, `ref+…`, …) and other URLs; booleans and null
//!   (`true`, `no`, `~`, …); decimal numbers, durations and sizes (`42`,
//!   `30s`, `512Mi`); UPPER_SNAKE_CASE names with at least one underscore
//!   (`DB_PASSWORD`); YAML syntax (`|`, `>-`, `*alias`, `!secret name`);
//!   placeholders (`<redacted>`, `[REDACTED]`, `{password}`, `***`,
//!   `xxx` — three or more; a lone `x` is flagged —, `...`, `%s`, `TODO`,
//!   `required`, `your-token-here`).
//! - **`changeme` is a literal password** (also `CHANGE_ME`, `changeit`,
//!   `ChangeMe123`): it is a real, guessable password once deployed. So are
//!   `admin`, `password`, `secret` under a credential key.
//! - **Everything else under a credential key is a literal**, including
//!   UUIDs and hex strings (client secrets are often UUIDs), `0x…` keys,
//!   and values with spaces (`correct horse battery staple`).
//! - **Private key headers** are flagged even without a body, so a key pasted
//!   into Markdown is caught when the text is scanned line by line. The
//!   hit's length runs to the matching `-----END …-----` or the end of the
//!   input.
//! - **Token formats** are matched with boundaries and a "looks random"
//!   check, so `ghp_xxxxxxxx…` placeholders and AWS's documentation key ids
//!   ending in `EXAMPLE` are not flagged, nor are long kebab-case names after
//!   a short prefix. Stripe *test* keys are flagged like live keys: they are
//!   still credentials.
//! - **URL credentials** need `scheme://user:password@host` with a non-empty
//!   password that is not a reference or placeholder; `postgres://u:changeme@`
//!   and `:password@` are flagged. The hit points at the password only (for
//!   Slack/Discord webhook URLs, at the secret path). `Authorization: Bearer
//!   <token>` / `Basic <token>` is flagged whatever the key.
//! - **In free text**, `KEY=value` (no blanks around `=`) counts anywhere,
//!   as does a quoted value (`password: "x"`, `api_key = 'x'`,
//!   ``password: `x` ``); a bare value after `: ` or ` = ` counts only when
//!   the key starts its line (after indentation, list, quote or comment
//!   markers) and the value is the line's last word, so prose such as "the
//!   password: see below" is not flagged (and an unquoted multi-word
//!   passphrase there is missed: quote it). Markdown emphasis around the
//!   colon (`**Password:** x`) and compact JSON (`"password":"x"`) are read;
//!   Markdown tables and XML elements are not (a table's "type" column would
//!   read as a value). Commented-out lines are scanned.
//! - **Command lines.** Inside a *value* ([`scan_pair`]), `--password value`
//!   also counts (`command: redis-server --requirepass x`); in free text it
//!   does not, because prose says "use --password to set it". A flag and its
//!   argument in separate list items (`["--requirepass", "x"]`) are separate
//!   pairs and are not connected.
//! - **Not flagged** at all: `${VAR:-default}` defaults, numeric PINs,
//!   secrets in a value whose key is not a credential key and whose shape is
//!   not a known format (there is no entropy-only detection: it flags
//!   digests and IDs).

mod detect;
mod literal;
mod text;

use std::fmt;

/// The kind of credential found. Describes the credential without holding
/// any part of it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// A PEM (`-----BEGIN … PRIVATE KEY-----`, including OpenSSH, PGP and
    /// encrypted keys) or PuTTY private key.
    PrivateKey,
    /// A token in a well-known, recognisable format. `name` is the format's
    /// name ("GitHub personal access token"), never a prefix of the token.
    KnownToken {
        /// The token format's name.
        name: &'static str,
    },
    /// A JSON Web Token.
    Jwt,
    /// A URL with a password in it (`scheme://user:password@host`).
    UrlCredentials,
    /// A literal value under a credential key (`password: hunter2`). `key`
    /// is the key as written (the *name*, not the value), shortened to 80
    /// characters, with control characters replaced.
    LiteralPassword {
        /// The key the literal was found under.
        key: String,
    },
}

impl SecretKind {
    /// A human description of the kind, for validation messages: "a private
    /// key block", "a GitHub personal access token", "a literal password
    /// under key `password`". Never contains the secret.
    pub fn describe(&self) -> String {
        match self {
            SecretKind::PrivateKey => "a private key block".to_owned(),
            SecretKind::KnownToken { name } => format!("{} {name}", article(name)),
            SecretKind::Jwt => "a JSON Web Token (JWT)".to_owned(),
            SecretKind::UrlCredentials => "a password embedded in a URL".to_owned(),
            SecretKind::LiteralPassword { key } => {
                format!("a literal password under key `{key}`")
            }
        }
    }
}

fn article(name: &str) -> &'static str {
    let starts_with_vowel_sound = name
        .starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u'])
        || name.starts_with("HTTP")
        || name.starts_with("npm");
    if starts_with_vowel_sound { "an" } else { "a" }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A credential found in a value or text. Holds where it is, never what it
/// is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretHit {
    /// What was found.
    pub kind: SecretKind,
    /// Byte offset in the scanned value or text where the secret starts
    /// (always a `char` boundary).
    pub offset: usize,
    /// Length in bytes of the secret (`offset + len` is a `char` boundary
    /// within the input), so a caller can point at or blank out the span
    /// without printing it.
    pub len: usize,
}

impl SecretHit {
    /// Byte offset just past the secret: `offset + len`.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
}

impl fmt::Display for SecretHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for SecretHit {}

/// The key as it may appear in a message: at most 80 characters, control
/// characters replaced by `?`.
pub(crate) fn key_for_display(key: &str) -> String {
    let key = key.trim();
    let mut out: String = key
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if key.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

/// Scans one value on its own, whatever its key: private key blocks,
/// well-known token formats, JWTs, URLs with `user:password@`. Returns the
/// earliest hit.
///
/// ```
/// use platformctl_secrets::{scan_value, SecretKind};
///
/// let hit = scan_value("postgres://app:s3cr3t@db:5432/app").unwrap();
/// assert_eq!(hit.kind, SecretKind::UrlCredentials);
/// assert_eq!((hit.offset, hit.len), (15, 6));
/// assert_eq!(scan_value("postgres://app:${DB_PASSWORD}@db/app"), None);
/// assert_eq!(scan_value("hunter2"), None); // needs a key: see scan_pair
/// ```
pub fn scan_value(value: &str) -> Option<SecretHit> {
    detect::value_hits(value, true).into_iter().next()
}

/// Scans a key/value pair from structured data (a YAML or TOML scalar and
/// its key or key path). In order: [`scan_value`]; a literal under a
/// credential key; then `KEY=value` / `key: value` assignments inside the
/// value (a compose `environment:` list entry, a DSN, an embedded config).
///
/// ```
/// use platformctl_secrets::scan_pair;
///
/// assert!(scan_pair("MYSQL_ROOT_PASSWORD", "changeme").is_some());
/// assert!(scan_pair("environment[2]", "MYSQL_ROOT_PASSWORD=changeme").is_some());
/// assert!(scan_pair("MYSQL_ROOT_PASSWORD_FILE", "/run/secrets/mysql").is_none());
/// assert!(scan_pair("client_id", "platformctl").is_none());
/// ```
pub fn scan_pair(key: &str, value: &str) -> Option<SecretHit> {
    if let Some(hit) = scan_value(value) {
        return Some(hit);
    }
    if let Some(strength) = literal::classify_key(key)
        && let Some((start, end)) = literal::literal_span(value, strength)
    {
        return Some(SecretHit {
            kind: SecretKind::LiteralPassword {
                key: key_for_display(key),
            },
            offset: start,
            len: end - start,
        });
    }
    text::assignment_hits(value, true).into_iter().next()
}

/// Scans free text (Markdown, an embedded file): every token [`scan_value`]
/// would flag, plus `key: value`, `key=value`, `KEY="value"` and
/// `key = "value"` assignments to credential keys. Returns every hit, in
/// order of offset, without overlaps (a known token under a credential key
/// is reported once, as the token).
///
/// ```
/// use platformctl_secrets::scan_text;
///
/// let text = "```yaml\nenvironment:\n  DB_PASSWORD: hunter2\n  DB_HOST: db\n```\n";
/// let hits = scan_text(text);
/// assert_eq!(hits.len(), 1);
/// assert_eq!(&text[hits[0].offset..hits[0].end()], "hunter2");
/// assert!(scan_text("Rotate the password: see the runbook.").is_empty());
/// ```
pub fn scan_text(text: &str) -> Vec<SecretHit> {
    let mut hits = detect::value_hits(text, false);
    let assignments = text::assignment_hits(text, false);
    if assignments.is_empty() {
        return hits;
    }
    let overlaps = |a: &SecretHit, b: &SecretHit| a.offset < b.end() && b.offset < a.end();
    let kept: Vec<SecretHit> = assignments
        .into_iter()
        .filter(|a| !hits.iter().any(|h| overlaps(a, h)))
        .collect();
    hits.extend(kept);
    hits.sort_by_key(|h| h.offset);
    hits
}

/// The digest by which an environment value is compared (config drift, SPEC §9): `sha256:` and
/// the first 16 hex digits of the value's SHA-256. The value itself is never kept, shown or
/// stored; the digest is what evidence and `spec.drift.accept` entries carry.
pub fn env_digest(value: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let d = Sha256::digest(value.as_bytes());
    let mut s = String::from("sha256:");
    for b in &d[..8] {
        let _ = write!(s, "{b:02x}");
    }
    s
}
