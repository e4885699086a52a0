//! The typed model of a workplan: what `parse` produces and every later stage consumes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

/// A half-open byte range `[start, end)` into the file's text exactly as it was read
/// (a UTF-8 byte-order mark, when present, is bytes 0..3; CRLF line ends are kept).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ByteSpan {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl ByteSpan {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Self {
        ByteSpan { start, end }
    }

    /// Whether the span holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// As a range, for slicing.
    pub const fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// How a file's lines end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    /// `\n`
    #[default]
    Lf,
    /// `\r\n`
    Crlf,
}

impl LineEnding {
    /// The bytes of the line end.
    pub const fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::Crlf => "\r\n",
        }
    }
}

/// A fenced YAML block: the frontmatter (between `---` lines) or a task block (between
/// ```` ```task ```` and ```` ``` ````). Lines are 1-based; bytes index the file as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    /// Line of the opening fence (`---` or ```` ```task ````).
    pub open_line: u32,
    /// Line of the closing fence; `None` when the block is never closed (it then runs to the
    /// end of the file, and is reported).
    pub close_line: Option<u32>,
    /// The whole block, from the first byte of the opening fence's line to the end of the
    /// closing fence (its line end excluded).
    pub span: ByteSpan,
    /// The YAML between the fences: from the start of the line after the opening fence to the
    /// start of the closing fence's line. A new last key is inserted at `content.end`.
    pub content: ByteSpan,
    /// The line end the block's lines use (what an inserted line must end with).
    pub line_ending: LineEnding,
}

impl Block {
    /// Whether the closing fence was found.
    pub const fn is_closed(&self) -> bool {
        self.close_line.is_some()
    }
}

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $text:literal ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum $name {
            $( $(#[$vdoc])* #[serde(rename = $text)] $variant, )*
        }

        impl $name {
            /// Every value, in the documented order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The word as written in a workplan.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The words allowed, for messages: `a | b | c`.
            pub fn allowed() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(" | ")
            }
        }

        impl FromStr for $name {
            type Err = ();
            /// Exactly one of the documented words (lowercase).
            fn from_str(s: &str) -> Result<Self, ()> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum! {
    /// A workplan's `status`.
    WorkplanStatus {
        /// Planned, not started.
        Backlog = "backlog",
        /// Being worked on.
        Active = "active",
        /// Blocked on something outside the workplan (a person, a vendor, another workplan).
        Wait = "wait",
        /// The work is finished; a final review or write-up may remain.
        Finished = "finished",
        /// Done and closed.
        Done = "done",
        /// Abandoned.
        Cancel = "cancel",
    }
}

impl WorkplanStatus {
    /// `done` and `finished`: statuses that say no task may still be open (C-06).
    pub const fn claims_complete(self) -> bool {
        matches!(self, WorkplanStatus::Done | WorkplanStatus::Finished)
    }
}

word_enum! {
    /// A task's `status`. `ALL` is in the order `open_state_line` prints.
    TaskStatus {
        /// Blocked: waiting for someone or something.
        Wait = "wait",
        /// Being worked on.
        Progress = "progress",
        /// Not started.
        Todo = "todo",
        /// Finished.
        Done = "done",
        /// Will not be done.
        Cancel = "cancel",
    }
}

impl TaskStatus {
    /// `todo`, `wait` and `progress`: the task still needs work.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            TaskStatus::Todo | TaskStatus::Wait | TaskStatus::Progress
        )
    }
}

word_enum! {
    /// `planning_priority` of a workplan and `priority` of a task. Orders high first.
    Priority {
        /// First.
        High = "high",
        /// Second.
        Medium = "medium",
        /// Third.
        Low = "low",
    }
}

/// Where a value was written: 1-based line and column (in characters) in the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Loc {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Loc {
    /// A location.
    pub const fn new(line: u32, column: u32) -> Self {
        Loc { line, column }
    }
}

/// Where the frontmatter's fields were written (the value's position), for findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WorkplanLocs {
    /// `id:` value.
    pub id: Option<Loc>,
    /// `status:` value.
    pub status: Option<Loc>,
    /// `state_hub_workstream_id:` value.
    pub state_hub_workstream_id: Option<Loc>,
}

/// Where a task block's fields were written (the value's position), for findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TaskLocs {
    /// `id:` value.
    pub id: Option<Loc>,
    /// `status:` value.
    pub status: Option<Loc>,
    /// `needs_human:` value.
    pub needs_human: Option<Loc>,
    /// `state_hub_task_id:` value.
    pub state_hub_task_id: Option<Loc>,
}

/// One workplan file.
///
/// Every field read from YAML is `None` when it is absent or invalid (the parse findings say
/// which). Byte offsets index the file's text exactly as read, so ids can be written back
/// without changing any other byte (see [`crate::id_edit`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workplan {
    /// The file, as given or found.
    pub file: PathBuf,
    /// The repository the workplan belongs to: the name of the folder that holds its
    /// `workplans/` folder; `None` when the file is not in a `workplans/` folder.
    pub repo: Option<String>,
    /// `id` (e.g. `OPS-WP-0007`).
    pub id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `status`.
    pub status: Option<WorkplanStatus>,
    /// `owner`.
    pub owner: Option<String>,
    /// `planning_priority`.
    pub planning_priority: Option<Priority>,
    /// `planning_order` (lower first).
    pub planning_order: Option<i64>,
    /// `created` (`YYYY-MM-DD`; serialised in that form).
    pub created: Option<jiff::civil::Date>,
    /// `updated` (`YYYY-MM-DD`; serialised in that form).
    pub updated: Option<jiff::civil::Date>,
    /// `state_hub_workstream_id`, once hub sync has registered the workplan.
    pub state_hub_workstream_id: Option<String>,
    /// The `## Task:` sections, in file order.
    pub tasks: Vec<Task>,
    /// Where the frontmatter is; `None` when the file has none (or it is not closed).
    pub frontmatter: Option<Block>,
    /// Where the frontmatter's fields are.
    pub locs: WorkplanLocs,
    /// The file starts with a UTF-8 byte-order mark (kept in the byte offsets).
    pub bom: bool,
    /// The line end of the file's first line.
    pub line_ending: LineEnding,
    /// Length in bytes of the text the offsets index (a cheap guard against editing a file
    /// that changed since it was parsed).
    pub source_len: usize,
}

/// The repository name for a workplan file: the folder holding its `workplans/` folder,
/// read from the path alone (`None` for `workplans/x.md` given relative to that folder's
/// parent: [`crate::load_paths`] resolves that case).
pub fn repo_of(file: &Path) -> Option<String> {
    let dir = file.parent()?;
    if dir.file_name()? != "workplans" {
        return None;
    }
    Some(dir.parent()?.file_name()?.to_string_lossy().into_owned())
}

impl Workplan {
    /// An empty workplan for `file` (nothing could be read).
    pub fn empty(file: PathBuf) -> Self {
        Workplan {
            repo: repo_of(&file),
            file,
            id: None,
            title: None,
            status: None,
            owner: None,
            planning_priority: None,
            planning_order: None,
            created: None,
            updated: None,
            state_hub_workstream_id: None,
            tasks: Vec::new(),
            frontmatter: None,
            locs: WorkplanLocs::default(),
            bom: false,
            line_ending: LineEnding::Lf,
            source_len: 0,
        }
    }

    /// The first and last line of the frontmatter (its fences), when it is closed.
    pub fn frontmatter_lines(&self) -> Option<(u32, u32)> {
        let fm = self.frontmatter?;
        Some((fm.open_line, fm.close_line?))
    }

    /// Task counts per status.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for t in &self.tasks {
            match t.status {
                Some(TaskStatus::Wait) => c.wait += 1,
                Some(TaskStatus::Progress) => c.progress += 1,
                Some(TaskStatus::Todo) => c.todo += 1,
                Some(TaskStatus::Done) => c.done += 1,
                Some(TaskStatus::Cancel) => c.cancel += 1,
                None => c.unknown += 1,
            }
        }
        c
    }
}

/// One `## Task:` section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Task {
    /// The title after `## Task:`, as written (Markdown kept, closing `#`s removed, trimmed).
    pub heading: String,
    /// Line of the `## Task:` heading.
    pub heading_line: u32,
    /// The section: from the heading to the next heading of level 1 or 2 (or the end).
    pub section: ByteSpan,
    /// The task block, when the section has one.
    pub block: Option<Block>,
    /// `id` (e.g. `OPS-WP-0007-T01`).
    pub id: Option<String>,
    /// `status`.
    pub status: Option<TaskStatus>,
    /// `priority`.
    pub priority: Option<Priority>,
    /// `state_hub_task_id`, once hub sync has registered the task.
    pub state_hub_task_id: Option<String>,
    /// `needs_human`.
    pub needs_human: Option<bool>,
    /// `needs_human_reason`: what the human has to do or decide.
    pub needs_human_reason: Option<String>,
    /// The section's free text without the heading and the task block: progress notes and
    /// anything else. Line ends are `\n` whatever the file uses; leading and trailing blank
    /// lines are dropped.
    pub notes: String,
    /// First and last line of `notes`; `None` when there are none.
    pub notes_lines: Option<(u32, u32)>,
    /// Where the block's fields are.
    pub locs: TaskLocs,
}

impl Task {
    /// Line of the ```` ```task ```` fence, when there is a block.
    pub fn block_line(&self) -> Option<u32> {
        self.block.map(|b| b.open_line)
    }

    /// `needs_human: true`.
    pub fn needs_human(&self) -> bool {
        self.needs_human == Some(true)
    }
}

/// How many tasks of a workplan are in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// `wait`
    pub wait: usize,
    /// `progress`
    pub progress: usize,
    /// `todo`
    pub todo: usize,
    /// `done`
    pub done: usize,
    /// `cancel`
    pub cancel: usize,
    /// No valid status (missing block, missing or unknown `status`).
    pub unknown: usize,
}

impl Counts {
    /// Tasks still needing work: wait + progress + todo.
    pub const fn open(&self) -> usize {
        self.wait + self.progress + self.todo
    }

    /// All tasks.
    pub const fn total(&self) -> usize {
        self.open() + self.done + self.cancel + self.unknown
    }

    /// The count for one status.
    pub const fn get(&self, s: TaskStatus) -> usize {
        match s {
            TaskStatus::Wait => self.wait,
            TaskStatus::Progress => self.progress,
            TaskStatus::Todo => self.todo,
            TaskStatus::Done => self.done,
            TaskStatus::Cancel => self.cancel,
        }
    }
}
