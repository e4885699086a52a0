//! Findings: a consistency rule broken, where, and what to do.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::model::Loc;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $what:literal; )*) => {
        /// The consistency codes of SPEC §8. The string form (`C-01`) is the contract.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable string form, e.g. `C-03`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// What the code means, as in SPEC §8's table.
            pub const fn summary(self) -> &'static str {
                match self { $(Code::$variant => $what,)* }
            }
        }
    };
}

codes! {
    /// Frontmatter missing or invalid (also: a file that is not UTF-8 text, or too large).
    C01 = "C-01", "frontmatter missing or invalid";
    /// Duplicate workplan id (across every file checked together).
    C02 = "C-02", "duplicate workplan id";
    /// Task block invalid: a `## Task:` without a block, a block outside a task section, no
    /// id or status, an unknown status, bad YAML.
    C03 = "C-03", "task block invalid";
    /// Duplicate task id (across every file checked together).
    C04 = "C-04", "duplicate task id";
    /// Task id does not start with its workplan id.
    C05 = "C-05", "task id does not start with its workplan id";
    /// Workplan says done/finished while tasks are still open.
    C06 = "C-06", "workplan done/finished while tasks are open";
    /// Active workplan with no tasks.
    C07 = "C-07", "active workplan with no tasks";
    /// Every task done or cancelled, but the workplan is still active.
    C08 = "C-08", "all tasks closed but the workplan is still active";
    /// `needs_human` still set on a done or cancelled task.
    C09 = "C-09", "needs_human set on a closed task";
    /// Hub row differs from its file (a State Hub rule; not produced by this crate).
    C10 = "C-10", "hub row differs from its file";
    /// Not registered in the hub (a State Hub rule; not produced by this crate).
    C11 = "C-11", "not registered in the hub";
    /// Orphan hub row (a State Hub rule; not produced by this crate).
    C12 = "C-12", "orphan hub row";
    /// A secret-looking value in a workplan (the finding never repeats it).
    C13 = "C-13", "secret-looking value";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One broken rule, at a file, 1-based line and 1-based column (in characters; 1 when the
/// whole line is meant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `C-01` … `C-13`.
    pub code: Code,
    /// The workplan file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong. Never contains a secret value.
    pub message: String,
    /// What to do, when there is something specific to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    /// A finding at a location.
    pub fn new(code: Code, file: &Path, loc: Loc, message: impl Into<String>) -> Self {
        Finding {
            code,
            file: file.to_path_buf(),
            line: loc.line.max(1),
            column: loc.column.max(1),
            message: message.into(),
            hint: None,
        }
    }

    /// The same finding with a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Finding {
    /// `file:line:column: C-03 message (hint: …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} {}",
            self.file.display(),
            self.line,
            self.column,
            self.code,
            self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// Sorts findings by file, line, column and code, and drops exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.code, &b.message))
    });
    findings.dedup();
}

/// The exit code of `workplan lint` for a complete run: 0 when there are no findings, 1
/// otherwise. (An I/O error, [`crate::Error`], is exit 2 and never reaches this.)
pub fn exit_code(findings: &[Finding]) -> i32 {
    i32::from(!findings.is_empty())
}
