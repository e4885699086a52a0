//! Text into a [`Workplan`]: frontmatter, `## Task:` sections, task blocks, notes.

use std::path::Path;

use platformctl_diagnostics::{LineIndex, did_you_mean};
use platformctl_yaml::{Limits, Node, Pos, Value};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::finding::{Code, Finding};
use crate::model::{
    Block, ByteSpan, LineEnding, Loc, Priority, Task, TaskLocs, TaskStatus, Workplan,
    WorkplanStatus,
};
use crate::secrets;
use crate::text::{is_valid_id, lines_in, parse_date};

/// Bounds for the YAML of frontmatter and task blocks: both are small, flat mappings.
pub(crate) fn yaml_limits() -> Limits {
    Limits {
        max_depth: 32,
        max_alias_nodes: 10_000,
    }
}

/// Keys of the frontmatter this crate reads (others are allowed and ignored).
const FRONTMATTER_KEYS: &[&str] = &[
    "id",
    "type",
    "title",
    "status",
    "owner",
    "planning_priority",
    "planning_order",
    "created",
    "updated",
    "state_hub_workstream_id",
];

/// Keys of a task block this crate reads (others are allowed and ignored).
const TASK_KEYS: &[&str] = &[
    "id",
    "status",
    "priority",
    "state_hub_task_id",
    "needs_human",
    "needs_human_reason",
];

/// Parses one workplan. Pure: no I/O. `text` is the file exactly as read (a UTF-8 BOM and
/// CRLF line ends are fine and stay in the byte offsets); `file` is only used in findings.
///
/// The findings are those one file shows on its own: C-01 (frontmatter), C-03 (task
/// sections and blocks) and C-13 (secrets). The rules that need the model or several files
/// are [`crate::lint`].
pub fn parse(text: &str, file: &Path) -> (Workplan, Vec<Finding>) {
    let mut p = P {
        text,
        file,
        idx: LineIndex::new(text),
        findings: Vec::new(),
        yaml_spans: Vec::new(),
    };
    let mut wp = Workplan::empty(file.to_path_buf());
    wp.source_len = text.len();
    wp.bom = text.starts_with('\u{FEFF}');
    wp.line_ending = match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => LineEnding::Crlf,
        _ => LineEnding::Lf,
    };
    let start = if wp.bom { 3 } else { 0 };

    let body_start = match p.frontmatter(start) {
        Fm::Closed(block, body_start) => {
            wp.frontmatter = Some(block);
            p.read_frontmatter(&block, &mut wp);
            body_start
        }
        Fm::Unclosed(body_start) => body_start,
        Fm::Missing => start,
    };

    let scan = p.scan_body(body_start);
    for draft in scan.tasks {
        let task = p.read_task(draft);
        wp.tasks.push(task);
    }
    secrets::scan(&mut p.findings, text, file, &p.idx, &p.yaml_spans);
    (wp, p.findings)
}

enum Fm {
    Missing,
    /// Opening fence found, no closing one: the body starts after the opening line.
    Unclosed(usize),
    /// The block and where the body starts.
    Closed(Block, usize),
}

struct TaskDraft {
    heading: String,
    heading_line: u32,
    heading_loc: Loc,
    /// End of the heading line, line end included.
    heading_next: usize,
    section: ByteSpan,
    block: Option<Block>,
}

struct BodyScan {
    tasks: Vec<TaskDraft>,
}

struct P<'a> {
    text: &'a str,
    file: &'a Path,
    idx: LineIndex<'a>,
    findings: Vec<Finding>,
    /// Parsed YAML regions with their trees, for the secret scan (content span, line of the
    /// first content line, tree).
    yaml_spans: Vec<(ByteSpan, u32, Node)>,
}

impl<'a> P<'a> {
    fn push(&mut self, code: Code, loc: Loc, msg: impl Into<String>) -> &mut Finding {
        self.findings.push(Finding::new(code, self.file, loc, msg));
        let n = self.findings.len();
        &mut self.findings[n - 1]
    }

    fn line_ending_before(&self, offset: usize) -> LineEnding {
        let b = self.text.as_bytes();
        if offset >= 2 && b[offset - 1] == b'\n' && b[offset - 2] == b'\r' {
            LineEnding::Crlf
        } else {
            LineEnding::Lf
        }
    }

    // ---------------------------------------------------------------- frontmatter

    fn frontmatter(&mut self, start: usize) -> Fm {
        let text = self.text;
        let mut lines = lines_in(text, start, text.len());
        let Some((s0, e0, n0)) = lines.next() else {
            self.push(Code::C01, Loc::new(1, 1), "empty file: no frontmatter")
                .hint = Some(fm_hint());
            return Fm::Missing;
        };
        if text[s0..e0].trim_end() != "---" {
            // A frontmatter further down (after a blank line or a title) is not one.
            let later = lines_in(text, start, text.len())
                .take(20)
                .skip(1)
                .find(|&(s, e, _)| &text[s..e] == "---")
                .map(|(s, _, _)| self.idx.line(s));
            let f = self.push(
                Code::C01,
                Loc::new(1, 1),
                "no frontmatter: a workplan starts with a `---` line",
            );
            f.hint = Some(match later {
                Some(l) => format!(
                    "the `---` on line {l} is not at the very start of the file; move the \
                     frontmatter to line 1"
                ),
                None => fm_hint(),
            });
            return Fm::Missing;
        }
        for (s, e, n) in lines {
            let t = text[s..e].trim_end();
            if t == "---" || t == "..." {
                let close_line = self.idx.line(s);
                let block = Block {
                    open_line: 1,
                    close_line: Some(close_line),
                    span: ByteSpan::new(s0, e),
                    content: ByteSpan::new(n0, s),
                    line_ending: if s > n0 {
                        self.line_ending_before(s)
                    } else {
                        self.line_ending_before(n0)
                    },
                };
                return Fm::Closed(block, n);
            }
        }
        self.push(
            Code::C01,
            Loc::new(1, 1),
            "the frontmatter is not closed: no `---` line after it",
        )
        .hint = Some("end the frontmatter with a line holding only `---`".into());
        Fm::Unclosed(n0)
    }

    fn read_frontmatter(&mut self, block: &Block, wp: &mut Workplan) {
        let Some(root) = self.parse_yaml(block, Code::C01, "frontmatter") else {
            return;
        };
        if root.as_map().is_none() {
            let loc = yaml_loc(block, root.pos);
            self.push(
                Code::C01,
                loc,
                format!("the frontmatter is {}, not a mapping", root.type_name()),
            )
            .hint = Some(fm_hint());
            return;
        }
        let mut f = Fields {
            p: self,
            block: *block,
            root: &root,
            code: Code::C01,
            what: "frontmatter",
            known: FRONTMATTER_KEYS,
        };

        if let Some((v, loc)) = f.scalar("type")
            && v != "workplan"
        {
            f.report(
                loc,
                format!("`type` is `{v}`; a workplan has `type: workplan`"),
            );
        }
        if let Some((v, loc)) = f.required("id") {
            if is_valid_id(&v) {
                wp.id = Some(v);
            } else {
                f.report(
                    loc,
                    "`id` may only hold letters, digits, `.`, `_` and `-` (e.g. `OPS-WP-0007`)",
                );
            }
            wp.locs.id = Some(loc);
        }
        if let Some((v, loc)) = f.required("title") {
            if v.trim().is_empty() {
                f.report(loc, "`title` is empty");
            } else {
                wp.title = Some(v);
            }
        }
        if let Some((v, loc)) = f.required("status") {
            wp.locs.status = Some(loc);
            match v.parse::<WorkplanStatus>() {
                Ok(s) => wp.status = Some(s),
                Err(()) => f.unknown_word(
                    loc,
                    "status",
                    &v,
                    &WorkplanStatus::allowed(),
                    workplan_status_alias(&v),
                ),
            }
        }
        if let Some((v, _)) = f.scalar("owner") {
            wp.owner = Some(v);
        }
        if let Some((v, loc)) = f.scalar("planning_priority") {
            match v.parse::<Priority>() {
                Ok(p) => wp.planning_priority = Some(p),
                Err(()) => f.unknown_word(loc, "planning_priority", &v, &Priority::allowed(), None),
            }
        }
        if let Some(node) = f.node("planning_order") {
            match node.as_int() {
                Some(i) => wp.planning_order = Some(i),
                None => {
                    let loc = yaml_loc(block, node.pos);
                    f.report(
                        loc,
                        format!(
                            "`planning_order` must be an integer, found {}",
                            node.type_name()
                        ),
                    );
                }
            }
        }
        for key in ["created", "updated"] {
            if let Some((v, loc)) = f.scalar(key) {
                if let Some(date) = parse_date(&v) {
                    if key == "created" {
                        wp.created = Some(date);
                    } else {
                        wp.updated = Some(date);
                    }
                } else {
                    f.report(loc, format!("`{key}` must be a date `YYYY-MM-DD`"));
                }
            }
        }
        if let (Some(c), Some(u)) = (&wp.created, &wp.updated)
            && u < c
        {
            let loc = f.loc_of("updated").unwrap_or(Loc::new(1, 1));
            f.report(loc, format!("`updated` ({u}) is before `created` ({c})"));
        }
        if let Some((v, loc)) = f.scalar("state_hub_workstream_id") {
            wp.locs.state_hub_workstream_id = Some(loc);
            if !v.is_empty() {
                wp.state_hub_workstream_id = Some(v);
            }
        }
        self.yaml_spans
            .push((block.content, block.open_line + 1, root));
    }

    /// Parses a block's YAML; reports syntax errors with `code`. `None` when there is no
    /// tree to read (error or empty).
    fn parse_yaml(&mut self, block: &Block, code: Code, what: &str) -> Option<Node> {
        let src = &self.text[block.content.range()];
        match platformctl_yaml::parse(src, &yaml_limits()) {
            Ok(Some(node)) => Some(node),
            Ok(None) => {
                self.push(
                    code,
                    Loc::new(block.open_line, 1),
                    format!("the {what} is empty"),
                )
                .hint = Some(if code == Code::C01 {
                    fm_hint()
                } else {
                    task_hint()
                });
                None
            }
            Err(e) => {
                let loc = yaml_loc(block, e.pos);
                self.push(
                    code,
                    loc,
                    format!("the {what} is not valid YAML: {}", e.message),
                );
                None
            }
        }
    }

    // ---------------------------------------------------------------- body

    fn scan_body(&mut self, body_start: usize) -> BodyScan {
        let text = self.text;
        let body = &text[body_start..];
        let opts = Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_FOOTNOTES;
        let mut tasks: Vec<TaskDraft> = Vec::new();
        // Index into `tasks` of the task whose section is open.
        let mut current: Option<usize> = None;
        // The last heading that ends a section, or a `### Task:` one: its level and whether
        // it looks like a task heading written wrong (for the hint on an orphan block).
        let mut last_heading: Option<(HeadingLevel, bool)> = None;
        let mut depth: usize = 0;
        let mut nested_task_fences: Vec<usize> = Vec::new();

        for (ev, r) in Parser::new_ext(body, opts).into_offset_iter() {
            let (rs, re) = (r.start + body_start, r.end + body_start);
            match ev {
                Event::Start(
                    Tag::BlockQuote(_) | Tag::List(_) | Tag::Item | Tag::FootnoteDefinition(_),
                ) => depth += 1,
                Event::End(
                    TagEnd::BlockQuote(_)
                    | TagEnd::List(_)
                    | TagEnd::Item
                    | TagEnd::FootnoteDefinition,
                ) => depth = depth.saturating_sub(1),
                Event::Start(Tag::Heading { level, .. }) if depth == 0 => {
                    let line_start = line_start_of(text, rs);
                    let (_, line_end, next) = lines_in(text, line_start, text.len())
                        .next()
                        .unwrap_or((line_start, line_start, line_start));
                    let raw = &text[line_start..line_end];
                    let atx = raw.trim_start().starts_with('#');
                    let title = if atx { task_title(raw) } else { None };
                    if level <= HeadingLevel::H2 {
                        if let Some(i) = current.take() {
                            tasks[i].section.end = line_start;
                        }
                        last_heading = Some((level, title.is_some() || looks_like_task(raw)));
                    } else if title.is_some() && current.is_none() {
                        last_heading = Some((level, true));
                    }
                    if level == HeadingLevel::H2
                        && let Some(title) = title
                    {
                        let loc = Loc::from(self.idx.pos(rs));
                        tasks.push(TaskDraft {
                            heading: title,
                            heading_line: loc.line,
                            heading_loc: loc,
                            heading_next: next,
                            section: ByteSpan::new(line_start, text.len()),
                            block: None,
                        });
                        current = Some(tasks.len() - 1);
                    }
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                    let lang = info.split_whitespace().next().unwrap_or("");
                    let block = self.fenced_block(rs, re);
                    if depth == 0 && !block.is_closed() {
                        self.unclosed_fence(&block, lang);
                    }
                    if lang != "task" {
                        continue;
                    }
                    if depth > 0 {
                        nested_task_fences.push(rs);
                        continue;
                    }
                    match current {
                        Some(i) if tasks[i].block.is_none() => tasks[i].block = Some(block),
                        Some(i) => {
                            let first = tasks[i].block.map_or(0, |b| b.open_line);
                            self.push(
                                Code::C03,
                                Loc::new(block.open_line, 1),
                                format!(
                                    "a second task block in the task section `{}`; only the \
                                     first (line {first}) is read",
                                    tasks[i].heading
                                ),
                            )
                            .hint = Some(
                                "one task per `## Task:` section: give this block its own \
                                 heading, or merge it into the first"
                                    .into(),
                            );
                        }
                        None => {
                            let hint = match last_heading {
                                Some((level, true)) if level != HeadingLevel::H2 => format!(
                                    "the heading above is level {}; a task heading is level 2: \
                                     `## Task: <title>`",
                                    level as usize
                                ),
                                Some((_, true)) => "the heading above is not read as a task: \
                                                       write it `## Task: <title>`"
                                    .into(),
                                _ => "put a `## Task: <title>` heading above the block".into(),
                            };
                            self.push(
                                Code::C03,
                                Loc::new(block.open_line, 1),
                                "a task block outside a `## Task:` section",
                            )
                            .hint = Some(hint);
                        }
                    }
                }
                _ => {}
            }
        }
        // Task fences nested in a list or quote are not blocks; say so for tasks without one.
        for t in &tasks {
            if t.block.is_none()
                && let Some(&off) = nested_task_fences
                    .iter()
                    .find(|&&o| o >= t.section.start && o < t.section.end)
            {
                let line = self.idx.line(off);
                self.push(
                    Code::C03,
                    Loc::new(line, 1),
                    format!(
                        "the task block of `{}` is inside a list or quote, where it is not read",
                        t.heading
                    ),
                )
                .hint = Some("start the ```task fence at the beginning of a line".into());
            }
        }
        BodyScan { tasks }
    }

    /// The block of a fenced code block pulldown-cmark reported at `rs..re`.
    fn fenced_block(&self, rs: usize, re: usize) -> Block {
        let text = self.text;
        let open_start = line_start_of(text, rs);
        let (_, open_end, open_next) = lines_in(text, open_start, text.len())
            .next()
            .unwrap_or((open_start, open_start, open_start));
        let fence = text[rs..open_end].trim_start();
        let fence_char = fence.chars().next().unwrap_or('`');
        let fence_len = fence.chars().take_while(|&c| c == fence_char).count();

        let mut e = re.min(text.len());
        while e > open_next && matches!(text.as_bytes()[e - 1], b'\n' | b'\r') {
            e -= 1;
        }
        let last_start = line_start_of(text, e);
        let mut close = None;
        if last_start >= open_next {
            let line = &text[last_start..e];
            let indent = line.len() - line.trim_start_matches(' ').len();
            let t = line.trim_start_matches(' ').trim_end();
            if indent <= 3
                && t.len() >= fence_len
                && !t.is_empty()
                && t.chars().all(|c| c == fence_char)
            {
                let end = last_start + indent + t.len();
                close = Some((last_start, end));
            }
        }
        let open_line = self.idx.line(open_start);
        match close {
            Some((cs, ce)) => Block {
                open_line,
                close_line: Some(self.idx.line(cs)),
                span: ByteSpan::new(open_start, ce),
                content: ByteSpan::new(open_next, cs),
                line_ending: self.line_ending_before(if cs > open_next { cs } else { open_next }),
            },
            None => Block {
                open_line,
                close_line: None,
                span: ByteSpan::new(open_start, re.min(text.len())),
                content: ByteSpan::new(open_next.min(re), re.min(text.len())),
                line_ending: self.line_ending_before(open_next),
            },
        }
    }

    /// An unclosed top-level fence runs to the end of the file. Report it when it is a task
    /// block, or when it hides `## Task:` headings.
    fn unclosed_fence(&mut self, block: &Block, lang: &str) {
        let hidden: Vec<u32> = lines_in(self.text, block.content.start, block.content.end)
            .filter(|&(s, e, _)| task_title(&self.text[s..e]).is_some())
            .map(|(s, _, _)| self.idx.line(s))
            .collect();
        if lang != "task" && hidden.is_empty() {
            return;
        }
        let what = if lang.is_empty() {
            "a code fence".to_string()
        } else {
            format!("a ```{lang} fence")
        };
        let mut msg = format!(
            "{what} is never closed: everything after line {} is read as its content",
            block.open_line
        );
        if !hidden.is_empty() {
            let list: Vec<String> = hidden.iter().take(5).map(u32::to_string).collect();
            msg.push_str(&format!(
                ", hiding {} `## Task:` heading(s) (line {}{})",
                hidden.len(),
                list.join(", "),
                if hidden.len() > 5 { ", …" } else { "" }
            ));
        }
        self.push(Code::C03, Loc::new(block.open_line, 1), msg).hint =
            Some("close the fence with a line of ``` (as many backticks as it opened with)".into());
    }

    // ---------------------------------------------------------------- tasks

    fn read_task(&mut self, d: TaskDraft) -> Task {
        let mut task = Task {
            heading: d.heading,
            heading_line: d.heading_line,
            section: d.section,
            block: d.block,
            id: None,
            status: None,
            priority: None,
            state_hub_task_id: None,
            needs_human: None,
            needs_human_reason: None,
            notes: String::new(),
            notes_lines: None,
            locs: TaskLocs::default(),
        };
        if task.heading.is_empty() {
            self.push(
                Code::C03,
                d.heading_loc,
                "a `## Task:` heading without a title",
            );
        }
        self.notes(&mut task, d.heading_next);
        let Some(block) = task.block else {
            self.push(
                Code::C03,
                d.heading_loc,
                format!("the task `{}` has no ```task block", task.heading),
            )
            .hint = Some(task_hint());
            return task;
        };
        let Some(root) = self.parse_yaml(&block, Code::C03, "task block") else {
            return task;
        };
        if root.as_map().is_none() {
            let loc = yaml_loc(&block, root.pos);
            self.push(
                Code::C03,
                loc,
                format!("the task block is {}, not a mapping", root.type_name()),
            )
            .hint = Some(task_hint());
            return task;
        }
        let mut f = Fields {
            p: self,
            block,
            root: &root,
            code: Code::C03,
            what: "task block",
            known: TASK_KEYS,
        };
        if let Some((v, loc)) = f.required("id") {
            task.locs.id = Some(loc);
            if is_valid_id(&v) {
                task.id = Some(v);
            } else {
                f.report(
                    loc,
                    "`id` may only hold letters, digits, `.`, `_` and `-` (e.g. `OPS-WP-0007-T01`)",
                );
            }
        }
        if let Some((v, loc)) = f.required("status") {
            task.locs.status = Some(loc);
            match v.parse::<TaskStatus>() {
                Ok(s) => task.status = Some(s),
                Err(()) => f.unknown_word(
                    loc,
                    "status",
                    &v,
                    &["todo", "wait", "progress", "done", "cancel"].join(" | "),
                    task_status_alias(&v),
                ),
            }
        }
        if let Some((v, loc)) = f.scalar("priority") {
            match v.parse::<Priority>() {
                Ok(p) => task.priority = Some(p),
                Err(()) => f.unknown_word(loc, "priority", &v, &Priority::allowed(), None),
            }
        }
        if let Some((v, loc)) = f.scalar("state_hub_task_id") {
            task.locs.state_hub_task_id = Some(loc);
            if !v.is_empty() {
                task.state_hub_task_id = Some(v);
            }
        }
        if let Some(node) = f.node("needs_human") {
            let loc = yaml_loc(&block, node.pos);
            task.locs.needs_human = Some(loc);
            match node.as_bool() {
                Some(b) => task.needs_human = Some(b),
                None => f.report(
                    loc,
                    format!(
                        "`needs_human` must be true or false, found {}",
                        describe_node(node)
                    ),
                ),
            }
        }
        if let Some((v, _)) = f.scalar("needs_human_reason")
            && !v.trim().is_empty()
        {
            task.needs_human_reason = Some(v);
        }
        self.yaml_spans
            .push((block.content, block.open_line + 1, root));
        task
    }

    /// The section's text without the heading line and the task block.
    fn notes(&self, task: &mut Task, heading_next: usize) {
        let text = self.text;
        let skip = task.block.map(|b| {
            let end = lines_in(text, b.span.end, text.len())
                .next()
                .map_or(b.span.end, |(_, _, n)| n);
            (b.span.start, end.max(b.span.end))
        });
        let mut kept: Vec<(usize, &str)> = Vec::new();
        let mut after_block = false;
        for (s, e, _) in lines_in(text, heading_next.min(task.section.end), task.section.end) {
            let line = &text[s..e];
            if let Some((a, b)) = skip
                && s >= a
                && s < b
            {
                after_block = true;
                continue;
            }
            // Where the block was cut out, blank lines around it become one.
            let blank = line.trim().is_empty();
            if after_block && blank && kept.last().is_some_and(|(_, l)| l.trim().is_empty()) {
                continue;
            }
            after_block = false;
            kept.push((s, line));
        }
        let first = kept.iter().position(|(_, l)| !l.trim().is_empty());
        let last = kept.iter().rposition(|(_, l)| !l.trim().is_empty());
        if let (Some(a), Some(b)) = (first, last) {
            let lines = &kept[a..=b];
            let mut notes = String::new();
            for (i, (_, l)) in lines.iter().enumerate() {
                if i > 0 {
                    notes.push('\n');
                }
                notes.push_str(l);
            }
            task.notes = notes;
            task.notes_lines = Some((self.idx.line(lines[0].0), self.idx.line(lines[b - a].0)));
        }
    }
}

/// Reads typed fields out of a frontmatter or task block mapping, reporting as it goes.
struct Fields<'p, 'a, 'n> {
    p: &'p mut P<'a>,
    block: Block,
    root: &'n Node,
    code: Code,
    what: &'static str,
    known: &'static [&'static str],
}

impl<'n> Fields<'_, '_, 'n> {
    fn report(&mut self, loc: Loc, msg: impl Into<String>) {
        self.p.push(self.code, loc, msg);
    }

    fn node(&self, key: &str) -> Option<&'n Node> {
        self.root.get(key).filter(|n| !n.is_null())
    }

    fn loc_of(&self, key: &str) -> Option<Loc> {
        self.root.get(key).map(|n| yaml_loc(&self.block, n.pos))
    }

    /// A scalar value (any type, as written). `None` when absent or null; reported when it is
    /// a list or mapping.
    fn scalar(&mut self, key: &str) -> Option<(String, Loc)> {
        let node = self.node(key)?;
        let loc = yaml_loc(&self.block, node.pos);
        match node.scalar_text() {
            Some(t) => Some((t.to_string(), loc)),
            None => {
                let msg = format!("`{key}` must be a single value, found {}", node.type_name());
                self.report(loc, msg);
                None
            }
        }
    }

    /// Like [`Self::scalar`], and reported when missing (with a "did you mean" for a typo).
    fn required(&mut self, key: &str) -> Option<(String, Loc)> {
        if self.node(key).is_some() {
            return self.scalar(key);
        }
        let typo = self.root.as_map().and_then(|m| {
            m.iter().find_map(|(k, _)| {
                let k = k.as_scalar()?.text.as_str();
                (!self.known.contains(&k) && did_you_mean(k, &[key]).is_some())
                    .then(|| (k.to_string(), yaml_loc(&self.block, self.root.pos)))
            })
        });
        let present_empty = self.root.get(key).is_some();
        let loc = self
            .loc_of(key)
            .unwrap_or(Loc::new(self.block.open_line, 1));
        let msg = if present_empty {
            format!("`{key}` in the {} is empty", self.what)
        } else {
            format!("the {} has no `{key}`", self.what)
        };
        let code = self.code;
        let f = self.p.push(code, loc, msg);
        if let Some((k, _)) = typo {
            f.hint = Some(format!("did you mean `{key}` instead of `{k}`?"));
        }
        None
    }

    fn unknown_word(
        &mut self,
        loc: Loc,
        key: &str,
        value: &str,
        allowed: &str,
        alias: Option<&str>,
    ) {
        let code = self.code;
        let f = self
            .p
            .push(code, loc, format!("unknown {key} `{}`", shorten(value)));
        let words: Vec<&str> = allowed.split(" | ").collect();
        let suggestion = alias.or_else(|| did_you_mean(value, &words));
        f.hint = Some(match suggestion {
            Some(s) => format!("did you mean `{s}`? allowed: {allowed}"),
            None => format!("allowed: {allowed}"),
        });
    }
}

fn shorten(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

fn describe_node(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => format!("{} `{}`", s.kind_name(), shorten(&s.text)),
        _ => node.type_name().to_string(),
    }
}

fn workplan_status_alias(v: &str) -> Option<&'static str> {
    Some(match v.to_ascii_lowercase().as_str() {
        "in-progress" | "in_progress" | "progress" | "open" | "started" | "doing" => "active",
        "waiting" | "blocked" | "on-hold" | "on_hold" | "paused" => "wait",
        "completed" | "complete" | "closed" | "merged" => "done",
        "cancelled" | "canceled" | "abandoned" | "dropped" => "cancel",
        "todo" | "planned" | "new" | "draft" => "backlog",
        _ => return None,
    })
}

fn task_status_alias(v: &str) -> Option<&'static str> {
    Some(match v.to_ascii_lowercase().as_str() {
        "in-progress" | "in_progress" | "doing" | "active" | "wip" | "started" => "progress",
        "waiting" | "blocked" | "on-hold" | "on_hold" | "paused" => "wait",
        "completed" | "complete" | "closed" | "finished" | "merged" => "done",
        "cancelled" | "canceled" | "abandoned" | "dropped" | "wontfix" => "cancel",
        "open" | "new" | "pending" | "planned" | "backlog" => "todo",
        _ => return None,
    })
}

fn fm_hint() -> String {
    "start the file with `---`, then `id:`, `type: workplan`, `title:`, `status:` and the \
     other fields, then `---`"
        .into()
}

fn task_hint() -> String {
    "under the heading, a fenced block: ```task, then `id: <WORKPLAN-ID>-T01` and \
     `status: todo`, then ```"
        .into()
}

/// The file position of a YAML position inside a block's content.
fn yaml_loc(block: &Block, pos: Pos) -> Loc {
    Loc::new(block.open_line + pos.line.max(1), pos.col.max(1))
}

fn line_start_of(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The title of an ATX heading line `## Task: title` (any `#` count, ≤3 spaces of
/// indentation, closing `#`s removed); `None` when the heading text does not start with
/// `Task:` (case-insensitive, blanks allowed before the colon). Level is checked by the
/// caller.
pub(crate) fn task_title(line: &str) -> Option<String> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = line[indent..].trim_start_matches('#');
    let hashes = line.len() - indent - rest.len();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let mut content = rest.trim_matches([' ', '\t', '\r']);
    // Closing sequence: blanks then #s at the end (or the whole content).
    let without = content.trim_end_matches('#');
    if without.is_empty() || without.ends_with([' ', '\t']) {
        content = without.trim_end_matches([' ', '\t']);
    }
    let lower = content.get(..4)?.to_ascii_lowercase();
    if lower != "task" {
        return None;
    }
    let after = content[4..].trim_start_matches([' ', '\t']);
    let title = after.strip_prefix(':')?;
    Some(title.trim_matches([' ', '\t']).to_string())
}

/// `## Task foo` / `## Task - foo`: meant as a task, not written as one.
fn looks_like_task(raw: &str) -> bool {
    let t = raw.trim_start().trim_start_matches('#').trim_start();
    t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("task"))
        && !t.get(4..5).is_some_and(|c| c.eq_ignore_ascii_case("s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_titles() {
        assert_eq!(task_title("## Task: Restore pg"), Some("Restore pg".into()));
        assert_eq!(task_title("## Task:Restore"), Some("Restore".into()));
        assert_eq!(task_title("##  task : x ##"), Some("x".into()));
        assert_eq!(task_title("   ## Task: x"), Some("x".into()));
        assert_eq!(task_title("## Task: C# ##"), Some("C#".into()));
        assert_eq!(task_title("## Task:"), Some(String::new()));
        assert_eq!(task_title("    ## Task: x"), None);
        assert_eq!(task_title("## Tasks: x"), None);
        assert_eq!(task_title("## Task x"), None);
        assert_eq!(task_title("##Task: x"), None);
        assert_eq!(task_title("## Taskforce: x"), None);
    }
}
