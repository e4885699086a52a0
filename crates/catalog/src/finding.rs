//! Findings: what is wrong with the catalog, where, and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

use platformctl_yaml::Pos;
use serde::Serialize;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never changes an exit code on its own.
    Warning,
    /// The catalog is not valid.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $sev:ident, $class:ident; )*) => {
        /// Stable finding codes. The string form is the contract: scripts match on it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable string form, e.g. `HOST_UNKNOWN`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity a finding of this code has unless a mode changes it.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// Whether the finding means a file could not be read at all (exit 2, not 1).
            pub fn is_io(self) -> bool {
                match self { $(Code::$variant => Class::$class == Class::Io,)* }
            }
        }
    };
}

#[derive(PartialEq, Eq)]
enum Class {
    Io,
    Content,
}

codes! {
    /// A file could not be read (permissions, a symlink loop, not a regular file).
    IoError = "IO_ERROR", Error, Io;
    /// A file is larger than platformctl reads.
    FileTooLarge = "FILE_TOO_LARGE", Error, Content;
    /// A file is not UTF-8 text (binary content, another encoding).
    FileNotText = "FILE_NOT_TEXT", Error, Content;
    /// A manifest is empty (or only comments).
    FileEmpty = "FILE_EMPTY", Error, Content;
    /// Not valid YAML (or TOML).
    Syntax = "SYNTAX", Error, Content;
    /// A key written twice in one mapping or table.
    DuplicateKey = "DUPLICATE_KEY", Error, Content;
    /// Nesting beyond the depth limit.
    TooDeep = "TOO_DEEP", Error, Content;
    /// Aliases that expand beyond the node budget.
    AliasLimit = "ALIAS_LIMIT", Error, Content;
    /// More than one YAML document where one is expected.
    MultipleDocuments = "MULTIPLE_DOCUMENTS", Error, Content;
    /// A module folder without `module.yaml`.
    ManifestMissing = "MANIFEST_MISSING", Error, Content;
    /// `apiVersion` or `kind` is not `platform/v2` / `Module`.
    SchemaVersion = "SCHEMA_VERSION", Error, Content;
    /// A required field is absent.
    MissingField = "MISSING_FIELD", Error, Content;
    /// A field has the wrong type.
    WrongType = "WRONG_TYPE", Error, Content;
    /// A field has a value outside what it allows.
    InvalidValue = "INVALID_VALUE", Error, Content;
    /// A field the schema does not know (an error under `--strict-v2`).
    UnknownField = "UNKNOWN_FIELD", Warning, Content;
    /// A field that means nothing in this context (compose fields on an external module).
    IgnoredField = "IGNORED_FIELD", Warning, Content;
    /// A `spec.drift.accept` entry whose `until` has passed: the difference counts as drift
    /// again.
    AcceptExpired = "ACCEPT_EXPIRED", Warning, Content;
    /// `metadata.name` differs from the module's folder name.
    NameMismatch = "NAME_MISMATCH", Error, Content;
    /// A name that will reach a shell or an API has characters outside the safe set.
    NameInvalid = "NAME_INVALID", Error, Content;
    /// An `ssh` target or socket path that is not safe to hand to ssh.
    TargetInvalid = "TARGET_INVALID", Error, Content;
    /// `spec.runtime.host` names no host of `platform.toml`.
    HostUnknown = "HOST_UNKNOWN", Error, Content;
    /// A path that leaves the platform repo (absolute, or through `..`).
    PathOutsideRoot = "PATH_OUTSIDE_ROOT", Error, Content;
    /// `compose_file` does not exist.
    ComposeFileMissing = "COMPOSE_FILE_MISSING", Error, Content;
    /// A compose file without a `services` mapping, or a service that is not a mapping.
    ComposeInvalid = "COMPOSE_INVALID", Error, Content;
    /// `compose_service` is not a service of `compose_file`.
    ComposeServiceMissing = "COMPOSE_SERVICE_MISSING", Error, Content;
    /// Two modules claim the same compose service.
    ComposeServiceClaimed = "COMPOSE_SERVICE_CLAIMED", Error, Content;
    /// A compose file's `name:` differs from platform.toml's `compose_project`.
    ComposeProjectMismatch = "COMPOSE_PROJECT_MISMATCH", Error, Content;
    /// A compose service no module claims.
    ComposeServiceUnclaimed = "COMPOSE_SERVICE_UNCLAIMED", Warning, Content;
    /// A `${VAR}` expression that cannot be interpolated.
    Interpolation = "INTERPOLATION", Error, Content;
    /// A variable used in a compose value is not set and becomes empty.
    VariableUnset = "VARIABLE_UNSET", Warning, Content;
    /// A `.env` file that cannot be read as KEY=VALUE lines.
    DotenvInvalid = "DOTENV_INVALID", Error, Content;
    /// An image reference that does not parse.
    ImageInvalid = "IMAGE_INVALID", Error, Content;
    /// `artifact.reference` and the compose `image:` name different images.
    ArtifactMismatch = "ARTIFACT_MISMATCH", Error, Content;
    /// `image_digest_pinned_in_compose` disagrees with the compose file.
    DigestPinMismatch = "DIGEST_PIN_MISMATCH", Error, Content;
    /// The module's `container_name` disagrees with the compose service's.
    ContainerNameMismatch = "CONTAINER_NAME_MISMATCH", Error, Content;
    /// Two modules on one host expect the same container name.
    ContainerNameDuplicate = "CONTAINER_NAME_DUPLICATE", Error, Content;
    /// A value that looks like a credential. The message never repeats it.
    Secret = "SECRET", Error, Content;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One thing wrong with the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the platform root.
    pub file: PathBuf,
    /// 1-based line (1 when the file has no better place).
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// How many characters the problem spans on its line (for the caret underline).
    #[serde(skip)]
    pub width: u32,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The module the finding belongs to, when it belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The source line must not be shown (it holds a secret).
    #[serde(skip)]
    pub redact: bool,
    /// A second place in the same file that explains the finding (where an unclosed `[` opened,
    /// where a duplicate key was first written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<Box<Related>>,
}

/// A second place in a finding's file, with what it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Related {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is there, e.g. `the flow sequence opened here`.
    pub message: String,
}

impl Finding {
    /// A finding with the code's default severity, at `pos` in `file`.
    pub fn new(code: Code, file: impl Into<PathBuf>, pos: Pos, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: code.default_severity(),
            file: file.into(),
            line: pos.line.max(1),
            column: pos.col.max(1),
            width: 1,
            message: message.into(),
            hint: None,
            module: None,
            redact: false,
            related: None,
        }
    }

    /// Adds a second place in the same file that explains the finding.
    pub fn related(mut self, pos: Pos, message: impl Into<String>) -> Self {
        self.related = Some(Box::new(Related {
            line: pos.line.max(1),
            column: pos.col.max(1),
            message: message.into(),
        }));
        self
    }

    /// A finding about a whole file (line 1, column 1).
    pub fn at_file(code: Code, file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::new(code, file, Pos::new(1, 1), message)
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the underline width.
    pub fn width(mut self, width: u32) -> Self {
        self.width = width.max(1);
        self
    }

    /// Attributes the finding to a module.
    pub fn module(mut self, name: impl Into<String>) -> Self {
        self.module = Some(name.into());
        self
    }

    /// Marks the source line as not to be shown.
    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    /// The position.
    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    /// Whether this finding is in `file`.
    pub fn is_in(&self, file: &Path) -> bool {
        self.file == file
    }
}

/// Findings in a stable order: by file, line, column, code.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
}
