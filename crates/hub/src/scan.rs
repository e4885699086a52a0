//! Reading the repos' workplans for the hub: every file parsed and linted, and each one
//! either taken or skipped with its reason (a malformed workplan never blocks the others).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use platformctl_diagnostics::{Bom, ReadError, read_text};
use platformctl_workplan::{
    Code, Finding, Loc, MAX_FILE_BYTES, Workplan, load_file, parse, sort_findings, workplan_files,
};

use crate::HubError;

/// A repo: a folder holding `workplans/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repo {
    /// The folder as given (paths shown are under it).
    pub root: PathBuf,
    /// Its name: the folder's own name (after resolving `.` and symlinks). The hub tells
    /// repos apart by it.
    pub name: String,
}

impl Repo {
    /// Checks that `root` is a folder with a `workplans/` folder, and names it.
    pub fn new(root: &Path) -> Result<Repo, HubError> {
        let canon = root.canonicalize().map_err(|e| HubError::Io {
            path: root.to_path_buf(),
            source: e,
        })?;
        if !canon.join("workplans").is_dir() {
            return Err(HubError::Usage(format!(
                "{} holds no workplans/ folder; a REPO is a repository root with workplans/",
                root.display()
            )));
        }
        let name = canon
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| HubError::Usage(format!("{}: a repo needs a name", root.display())))?;
        Ok(Repo {
            root: root.to_path_buf(),
            name,
        })
    }
}

/// One workplan file as the hub sees it.
#[derive(Clone, Debug)]
pub struct ScannedFile {
    /// Index into [`Scan::repos`].
    pub repo: usize,
    /// The path relative to the repo root, with `/` (`workplans/OPS-WP-0007-….md`): what the
    /// hub stores.
    pub rel_path: String,
    /// The file as shown (under [`Repo::root`]).
    pub path: PathBuf,
    /// The parsed workplan (ids normalised to lowercase UUIDs when valid).
    pub workplan: Workplan,
    /// The text exactly as read; `None` when it could not be read as text.
    pub source: Option<String>,
    /// Why the hub does not take this file, when it does not: it is reported and skipped,
    /// and its rows in the hub are left as they are.
    pub skip: Option<String>,
}

/// Every workplan of the repos, with everything `workplan lint` says about them.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// The repos, in the order given.
    pub repos: Vec<Repo>,
    /// Their workplan files, repo by repo, sorted by name.
    pub files: Vec<ScannedFile>,
    /// Lint findings (C-01 … C-09, C-13) across all files, plus hub ids that are not UUIDs
    /// (C-01 for a workstream id, C-03 for a task id). Sorted.
    pub findings: Vec<Finding>,
    /// Files that could not be read at all (I/O): reported, skipped, and exit 2.
    pub io_errors: Vec<String>,
}

/// Codes that make a file unfit for the hub: it cannot be read as a workplan (C-01, C-03),
/// its ids collide with another file's (C-02, C-04), or it holds a secret that must not be
/// copied into the hub (C-13).
const SKIPPING: &[Code] = &[Code::C01, Code::C02, Code::C03, Code::C04, Code::C13];

/// Reads and lints every workplan of `repos`.
pub fn scan(repos: &[Repo]) -> Result<Scan, HubError> {
    let mut out = Scan {
        repos: repos.to_vec(),
        ..Scan::default()
    };
    let mut loaded: Vec<(Workplan, Vec<Finding>)> = Vec::new();
    for (ri, repo) in repos.iter().enumerate() {
        let dir = repo.root.join("workplans");
        let files = workplan_files(std::slice::from_ref(&dir)).map_err(|e| HubError::Io {
            path: dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        for path in files {
            let rel_path = match path.strip_prefix(&repo.root) {
                Ok(r) => r
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                Err(_) => path.display().to_string(),
            };
            let (mut wp, mut findings, source, io) = read_one(&path);
            wp.repo = Some(repo.name.clone());
            findings.extend(normalise_ids(&mut wp));
            if let Some(e) = &io {
                out.io_errors.push(e.clone());
            }
            out.files.push(ScannedFile {
                repo: ri,
                rel_path,
                path: path.clone(),
                workplan: wp.clone(),
                source,
                skip: io,
            });
            loaded.push((wp, findings));
        }
    }
    let mut findings = platformctl_workplan::lint_all(&loaded);
    sort_findings(&mut findings);
    for f in &mut out.files {
        if f.skip.is_some() {
            continue;
        }
        let mut codes: BTreeSet<Code> = BTreeSet::new();
        let mut first: Option<&Finding> = None;
        for x in findings.iter().filter(|x| x.file == f.path) {
            if SKIPPING.contains(&x.code) {
                codes.insert(x.code);
                first.get_or_insert(x);
            }
        }
        if let Some(x) = first {
            let list: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            f.skip = Some(format!(
                "{} (first at line {}: {})",
                list.join(", "),
                x.line,
                x.code.summary()
            ));
        }
    }
    out.findings = findings;
    Ok(out)
}

/// Reads one file: (workplan, parse findings, text, I/O error).
fn read_one(path: &Path) -> (Workplan, Vec<Finding>, Option<String>, Option<String>) {
    // The BOM is kept: ids are written back by byte offsets into the file as it is.
    match read_text(path, MAX_FILE_BYTES, Bom::Keep) {
        Ok(text) => {
            let (wp, findings) = parse(&text, path);
            (wp, findings, Some(text), None)
        }
        // Too large or not text: the workplan crate words the finding.
        Err(ReadError::TooLarge { .. } | ReadError::NotText { .. }) => match load_file(path) {
            Ok((wp, findings)) => (wp, findings, None, None),
            Err(e) => (
                Workplan::empty(path.to_path_buf()),
                Vec::new(),
                None,
                Some(e.to_string()),
            ),
        },
        Err(e) => (
            Workplan::empty(path.to_path_buf()),
            Vec::new(),
            None,
            Some(e.to_string()),
        ),
    }
}

/// Lowercases the hub ids a file carries when they are UUIDs, and reports those that are not.
fn normalise_ids(wp: &mut Workplan) -> Vec<Finding> {
    let mut out = Vec::new();
    let file = wp.file.clone();
    if let Some(id) = wp.state_hub_workstream_id.take() {
        match uuid::Uuid::parse_str(&id) {
            Ok(u) => wp.state_hub_workstream_id = Some(u.hyphenated().to_string()),
            Err(_) => out.push(
                Finding::new(
                    Code::C01,
                    &file,
                    wp.locs.state_hub_workstream_id.unwrap_or(Loc::new(1, 1)),
                    "`state_hub_workstream_id` is not a UUID",
                )
                .hint("remove the line: `hub sync` writes the id it registers"),
            ),
        }
    }
    for t in &mut wp.tasks {
        if let Some(id) = t.state_hub_task_id.take() {
            match uuid::Uuid::parse_str(&id) {
                Ok(u) => t.state_hub_task_id = Some(u.hyphenated().to_string()),
                Err(_) => out.push(
                    Finding::new(
                        Code::C03,
                        &file,
                        t.locs
                            .state_hub_task_id
                            .unwrap_or(Loc::new(t.heading_line, 1)),
                        "`state_hub_task_id` is not a UUID",
                    )
                    .hint("remove the line: `hub sync` writes the id it registers"),
                ),
            }
        }
    }
    out
}
