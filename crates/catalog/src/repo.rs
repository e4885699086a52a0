//! The platform repo: finding its root and loading the whole catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::compose::{ComposeFile, load_compose};
use crate::finding::{Code, Finding, Severity, sort_findings};
use crate::module::{LoadedModule, Module, load_module};
use crate::platform::{PLATFORM_FILE, Platform, PlatformError, load_platform};
use crate::validate;

/// Walks up from `start` to the first folder holding `platform.toml`.
pub fn discover_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(PLATFORM_FILE).is_file())
        .map(Path::to_path_buf)
}

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--strict-v2`: unknown fields are errors.
    pub strict: bool,
    /// The process environment, for compose interpolation (it wins over `.env`).
    pub env: Vec<(String, String)>,
}

/// Why the catalog could not be loaded at all.
#[derive(Clone, Debug)]
pub enum LoadError {
    /// platform.toml is missing, unreadable or not TOML.
    Platform(Finding),
    /// The modules folder cannot be listed.
    Modules(Finding),
}

impl LoadError {
    /// The finding that says what is wrong.
    pub fn finding(&self) -> &Finding {
        match self {
            LoadError::Platform(f) | LoadError::Modules(f) => f,
        }
    }
}

/// The loaded catalog: inventory, modules, compose files, and every finding.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// The platform root.
    pub root: PathBuf,
    /// The inventory.
    pub platform: Platform,
    /// Every module folder, sorted by folder name.
    pub modules: Vec<LoadedModule>,
    /// Compose files by path (relative to the root); `None` when missing or unparseable.
    pub compose: BTreeMap<PathBuf, Option<ComposeFile>>,
    /// Every finding, sorted by file and position.
    pub findings: Vec<Finding>,
}

impl Catalog {
    /// Loads and validates everything under `root`.
    pub fn load(root: &Path, opts: &LoadOptions) -> Result<Catalog, LoadError> {
        let (platform, mut findings) =
            load_platform(root, opts.strict).map_err(|PlatformError(f)| LoadError::Platform(f))?;
        let dirs = module_dirs(root, &mut findings)?;

        let loaded: Vec<(LoadedModule, Vec<Finding>)> = dirs
            .par_iter()
            .map(|dir| {
                let mut out = Vec::new();
                let m = load_module(root, dir, opts.strict, &mut out);
                (m, out)
            })
            .collect();
        let mut modules = Vec::with_capacity(loaded.len());
        for (m, f) in loaded {
            modules.push(m);
            findings.extend(f);
        }

        let mut paths: BTreeSet<PathBuf> = discover_compose_files(root);
        for m in modules.iter().filter_map(|m| m.module.as_ref()) {
            if let Some(cf) = &m.runtime.compose_file
                && crate::names::check_rel_path(cf).is_ok()
            {
                paths.insert(PathBuf::from(&cf.value));
            }
        }
        let composed: Vec<(PathBuf, Option<ComposeFile>, Vec<Finding>)> = paths
            .into_par_iter()
            .map(|p| {
                let mut out = Vec::new();
                let f = load_compose(root, &p, &opts.env, &mut out);
                (p, f, out)
            })
            .collect();
        let mut compose = BTreeMap::new();
        for (p, f, out) in composed {
            compose.insert(p, f);
            findings.extend(out);
        }

        findings.extend(validate::cross_check(&validate::Loaded {
            root,
            platform: &platform,
            modules: &modules,
            compose: &compose,
        }));
        sort_findings(&mut findings);
        Ok(Catalog {
            root: root.to_path_buf(),
            platform,
            modules,
            compose,
            findings,
        })
    }

    /// The modules whose manifests parsed.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().filter_map(|m| m.module.as_ref())
    }

    /// The module called `name`.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.dir == name)
            .and_then(|m| m.module.as_ref())
    }

    /// The findings about module `name` (its manifest and the cross-checks on it).
    pub fn findings_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings
            .iter()
            .filter(move |f| f.module.as_deref() == Some(name))
    }

    /// Whether module `name` has an error finding (drift commands report it as `error`).
    pub fn module_has_errors(&self, name: &str) -> bool {
        self.findings_of(name)
            .any(|f| f.severity == Severity::Error)
    }

    /// The compose file a module points at, when it loaded.
    pub fn compose_of(&self, m: &Module) -> Option<&ComposeFile> {
        let cf = m.runtime.compose_file.as_ref()?;
        self.compose.get(Path::new(&cf.value))?.as_ref()
    }
}

/// Lists `modules/*` folders (following symlinks); unreadable entries become findings.
fn module_dirs(root: &Path, findings: &mut Vec<Finding>) -> Result<Vec<String>, LoadError> {
    let modules = root.join("modules");
    let rel = Path::new("modules");
    let entries = match std::fs::read_dir(&modules) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            findings.push(
                Finding::at_file(
                    Code::ManifestMissing,
                    rel,
                    "the platform has no modules/ folder",
                )
                .hint("create modules/<name>/module.yaml for each module"),
            );
            return Ok(Vec::new());
        }
        Err(e) => return Err(LoadError::Modules(crate::source::io_finding(rel, &e))),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                findings.push(crate::source::io_finding(rel, &e));
                continue;
            }
        };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            findings.push(Finding::at_file(
                Code::NameInvalid,
                rel.join(name.to_string_lossy().as_ref()),
                "a module folder whose name is not UTF-8",
            ));
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // readdir's file type needs no stat; only a symlink is followed to see what it is.
        match entry.file_type() {
            Ok(t) if t.is_dir() => dirs.push(name.to_string()),
            Ok(t) if t.is_symlink() => match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_dir() => dirs.push(name.to_string()),
                Ok(_) => {}
                Err(e) => findings.push(crate::source::io_finding(&rel.join(name), &e)),
            },
            Ok(_) => {}
            Err(e) => findings.push(crate::source::io_finding(&rel.join(name), &e)),
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// `compose/<stack>/{compose,docker-compose}.{yaml,yml}`.
fn discover_compose_files(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let Ok(stacks) = std::fs::read_dir(root.join("compose")) else {
        return out;
    };
    for stack in stacks.flatten() {
        let Some(stack_name) = stack.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !stack.path().is_dir() || stack_name.starts_with('.') {
            continue;
        }
        for file in [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yaml",
            "docker-compose.yml",
        ] {
            let rel = Path::new("compose").join(&stack_name).join(file);
            if root.join(&rel).exists() {
                out.insert(rel);
            }
        }
    }
    out
}
