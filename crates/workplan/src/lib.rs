//! Workplans: the operator's Markdown plans, read into a typed, positioned model, summarised
//! and checked (SPEC §8).
//!
//! This crate is what `platformctl workplan status|lint` and the State Hub build on:
//!
//! - [`parse`] reads one workplan (pure, no I/O) into a [`Workplan`] with its per-file
//!   findings (C-01, C-03, C-13); [`load_paths`] reads files and folders;
//! - [`lint`] applies the model rules (C-02 and C-04 across all files, C-05 … C-09 per file),
//!   and [`lint_all`] returns everything `workplan lint` reports; [`exit_code`] is 0 clean,
//!   1 findings (an I/O [`Error`] is 2). C-10 … C-12 compare files with the State Hub and live
//!   with it ([`Code`] already names them);
//! - [`open_state_line`] and [`status_table`] are `workplan status`;
//! - [`id_edit`] computes the byte-exact edit that writes a hub id back into a file.
//!
//! # The format
//!
//! ````markdown
//! ---
//! id: OPS-WP-0007
//! type: workplan
//! title: "Backup restore drills"
//! status: active            # backlog | active | wait | finished | done | cancel
//! owner: ops
//! planning_priority: high   # high | medium | low
//! planning_order: 7
//! created: "2026-06-01"
//! updated: "2026-06-03"
//! state_hub_workstream_id: "…"   # written by hub sync
//! ---
//! # OPS-WP-0007 - Backup restore drills
//!
//! Context, tables, lists, code in any language …
//!
//! ## Task: Restore postgres into a scratch host
//! ```task
//! id: OPS-WP-0007-T01
//! status: progress          # todo | wait | progress | done | cancel
//! priority: high            # optional: high | medium | low
//! state_hub_task_id: "…"    # written by hub sync
//! needs_human: true         # optional
//! needs_human_reason: "approve the scratch host's disk size"   # optional
//! ```
//! Free notes: "Progress 2026-06-02: …", "Completed 2026-06-03: …".
//! ````
//!
//! Decisions (where SPEC §8 is silent):
//!
//! - **Frontmatter** is YAML between a `---` first line (after an optional UTF-8 BOM) and the
//!   next `---` or `...` line. `id`, `title` and `status` are required; `type`, when given,
//!   must be `workplan`; `planning_priority` is `high | medium | low`; `planning_order` an
//!   integer; `created`/`updated` dates `YYYY-MM-DD`, `updated` not before `created`. Other
//!   keys are allowed (operators add `tags:`, `links:`). Problems are C-01.
//! - **The Markdown is read as CommonMark** (with GFM tables, task lists, strikethrough and
//!   footnotes; pulldown-cmark), so the parser sees what a renderer shows: a `## Task:` line
//!   inside a fenced or indented code block, an HTML comment, a list item or a quote is
//!   not a task, and a ```` ```task ```` fence inside another fence is text.
//! - **A task** is a level-2 ATX heading at the top level whose text starts with `Task:`
//!   (case-insensitive, `## Task: <title>`). Its **section** runs to the next heading of level
//!   1 or 2 (`###` headings stay inside). Its **block** is the first top-level fenced code
//!   block with info string `task` in the section; it need not follow the heading directly.
//!   Its **notes** are the rest of the section: everything but the heading line and the block,
//!   trimmed of blank lines at both ends, with `\n` line ends (so CRLF files give the hub
//!   the same notes).
//! - **C-03** covers: a task without a block, a block outside a `## Task:` section (the hint
//!   says when the heading above is `### Task:` or lacks the colon), a second block in one
//!   section, a block inside a list or quote, an empty or untitled task, invalid YAML, a block
//!   that is not a mapping, no `id`, no `status`, an unknown status (with "did you mean":
//!   `in-progress` → `progress`), `needs_human` that is not a boolean, an unknown `priority`,
//!   and a fence that is never closed when it is a task block or hides `## Task:` headings.
//!   Task ids, like workplan ids, are letters, digits, `.`, `_`, `-`.
//! - **C-02 / C-04** report every later occurrence of an id, naming the first (files in the
//!   order given; folders sorted by name). **C-05** wants `<workplan id>-` as the prefix.
//!   **C-06** is one finding at the workplan's `status`, listing the open tasks. **C-08** needs
//!   every task to have a valid closed status. **C-13** scans all text (prose, comments,
//!   fences of any language) with `scan_text` and every YAML scalar with `scan_pair` under its
//!   key; one finding per line, never repeating the value. UUIDs, digests and key names such
//!   as "the POSTGRES_PASSWORD variable" are not secrets.
//! - **Files**: a folder stands for its `*.md` files (not recursive, `README.md` skipped), or
//!   for its `workplans/` folder when it has one; at most [`MAX_FILE_BYTES`]; a file that is
//!   not UTF-8 or too large is a C-01 finding; only I/O is an [`Error`] (exit 2).
//! - **Open state**: `1 wait, 2 progress, 5 todo, 2 done, 1 cancel` — wait, progress, todo,
//!   done, cancel, then `unknown` (no valid status); zero counts omitted; `no tasks` for none.
//! - **Byte offsets** index the file exactly as read (BOM and CRLF included): [`Block`] keeps
//!   the spans of the frontmatter and of every task block, so [`id_edit`] inserts a line
//!   before the closing fence (with the block's own line end) and nothing else changes.
//!
//! ```
//! use platformctl_workplan::{TaskStatus, lint, open_state_line, parse};
//!
//! let text = "---\nid: OPS-WP-0007\ntype: workplan\ntitle: Backup restore drills\n\
//!             status: active\n---\n# OPS-WP-0007\n\
//!             \n## Task: Restore postgres\n```task\nid: OPS-WP-0007-T01\nstatus: progress\n```\n\
//!             Progress 2026-06-02: dump restored.\n\
//!             \n## Task: Restore minio\n```task\nid: OPS-WP-0007-T02\nstatus: todo\n```\n";
//! let (wp, findings) = parse(text, "workplans/OPS-WP-0007.md".as_ref());
//! assert!(findings.is_empty());
//! assert_eq!(wp.tasks[0].status, Some(TaskStatus::Progress));
//! assert_eq!(wp.tasks[0].notes, "Progress 2026-06-02: dump restored.");
//! assert_eq!(wp.tasks[1].heading_line, 16);
//! assert_eq!(open_state_line(&wp), "1 progress, 1 todo");
//! assert!(lint(&[wp]).is_empty());
//! ```

mod finding;
mod lint;
mod load;
mod model;
mod parse;
mod secrets;
mod status;
mod text;
mod writeback;

pub use finding::{Code, Finding, exit_code, sort_findings};
pub use lint::{lint, lint_all};
pub use load::{Error, MAX_FILE_BYTES, load_file, load_paths, workplan_files};
pub use model::{
    Block, ByteSpan, Counts, LineEnding, Loc, Priority, Task, TaskLocs, TaskStatus, Workplan,
    WorkplanLocs, WorkplanStatus,
};
pub use parse::parse;
pub use status::{
    StatusRow, format_counts, format_status_table, open_state_line, repo_of, status_table,
};
pub use writeback::{IdEdit, IdEditError, IdTarget, apply_edits, id_edit};
