//! The dependency graph of the workspace has no cycles: not between crates (counting
//! dev-dependencies, which cargo allows to loop) and not between the modules of any crate.
//!
//! A module *depends on* another when its code names it: `use crate::other::…`,
//! `crate::other::Item` in a type or an expression, `super::…` that leaves the module, or
//! `crate::Item` that the crate root re-exports from `other`. The graph is checked twice:
//! with submodules folded into their top-level module (`store::sqlite` is part of `store`),
//! and module by module (`commands::drift` and `commands::hub` must not import each other),
//! where a module's edges to its own parent or children do not count (a parent declares its
//! children, and a child may use what its parent defines). `#[cfg(test)]` code is left out:
//! a test module that reads `use super::*` is not a dependency. The crate root (`lib.rs`,
//! `main.rs`) is a node of its own; its `pub use` re-exports are its facade, not a dependency.
//!
//! The rule the test holds: no module imports another that imports it back, directly or
//! through others. A failure lists each cycle with the file:line of every edge in it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::Visit;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// An edge `from → to` and where it was written.
type Edges = BTreeMap<(String, String), Vec<String>>;

/// Strongly connected components with more than one node, by Tarjan's algorithm.
fn cycles(nodes: &BTreeSet<String>, edges: &Edges) -> Vec<Vec<String>> {
    struct State<'a> {
        adj: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn strong<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.adj.get(v).cloned().unwrap_or_default() {
            if !s.index.contains_key(w) {
                strong(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        adj.entry(from).or_default().push(to);
    }
    let mut s = State {
        adj,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v.as_str()) {
            strong(&mut s, v);
        }
    }
    s.out
}

fn describe(cycles: &[Vec<String>], edges: &Edges) -> String {
    let mut text = String::new();
    for component in cycles {
        text.push_str(&format!("cycle among {}:\n", component.join(", ")));
        for ((from, to), places) in edges {
            if component.contains(from) && component.contains(to) {
                let mut places = places.clone();
                places.dedup();
                text.push_str(&format!("  {from} -> {to} at {}\n", places.join(", ")));
            }
        }
    }
    text
}

const ROOT: &str = "(crate root)";

/// The module a source file is, as a path of names (`[]` for the crate root).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    let is_root = parts.is_empty() && matches!(stem, "lib" | "main");
    if stem != "mod" && !is_root {
        parts.push(stem.to_string());
    }
    parts
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let tokens = a.meta.require_list().map(|l| l.tokens.to_string());
            tokens.is_ok_and(|t| {
                t.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == "test")
            })
        }
    })
}

/// Collects the absolute module paths one file names.
struct Refs<'a> {
    here: &'a [String],
    found: Vec<(Vec<String>, usize)>,
}

impl Refs<'_> {
    /// `crate::a::b`, `super::x`, `self::y` → an absolute path, or `None` for other roots.
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        match first.as_str() {
            "crate" => Some(segments[1..].to_vec()),
            "super" | "self" => {
                let mut base = self.here.to_vec();
                let mut rest = segments;
                while let Some(s) = rest.first() {
                    match s.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            _ => None,
        }
    }

    fn record(&mut self, segments: &[String], line: usize) {
        if let Some(path) = self.absolute(segments) {
            self.found.push((path, line));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, line);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.record(&prefix.clone(), line);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.record(&prefix.clone(), line);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.record(&prefix.clone(), line),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t, line);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = u.span().start().line;
        self.use_tree(&mut Vec::new(), &u.tree, line);
    }
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.record(&segments, path.span().start().line);
        syn::visit::visit_path(self, path);
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module graph of one crate: its top-level modules and the edges between them.
fn module_graph(crate_dir: &Path, level: Level) -> (BTreeSet<String>, Edges) {
    let src = crate_dir.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let parsed: Vec<(PathBuf, Vec<String>, syn::File)> = files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let path = module_path(&src, &f);
            (f, path, ast)
        })
        .collect();
    let top: BTreeSet<String> = parsed
        .iter()
        .filter_map(|(_, p, _)| p.first().cloned())
        .collect();

    // What the crate root re-exports, by name: `pub use module::{Item, …}`.
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for (_, path, ast) in &parsed {
        if !path.is_empty() {
            continue;
        }
        for item in &ast.items {
            if let syn::Item::Use(u) = item
                && matches!(u.vis, syn::Visibility::Public(_))
            {
                let mut leaves = Vec::new();
                collect_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                for (name, from) in leaves {
                    if let Some(module) = from.first().filter(|m| top.contains(*m)) {
                        reexports.insert(name, module.clone());
                    }
                }
            }
        }
    }

    // Every module a file is, by its full path (`store::sqlite`).
    let all: BTreeSet<Vec<String>> = parsed.iter().map(|(_, p, _)| p.clone()).collect();
    let name = |p: &[String]| {
        if p.is_empty() {
            ROOT.to_string()
        } else {
            p.join("::")
        }
    };
    let mut nodes: BTreeSet<String> = BTreeSet::new();
    let mut edges = Edges::new();
    for (file, path, ast) in &parsed {
        let from_path: Vec<String> = match level {
            Level::TopLevel => path.iter().take(1).cloned().collect(),
            Level::Nested => path.clone(),
        };
        let from = name(&from_path);
        nodes.insert(from.clone());
        let mut refs = Refs {
            here: path,
            found: Vec::new(),
        };
        for item in &ast.items {
            // The root's `pub use` lines and `mod` declarations are its facade.
            if path.is_empty()
                && matches!(item, syn::Item::Use(u) if matches!(u.vis, syn::Visibility::Public(_)))
            {
                continue;
            }
            refs.visit_item(item);
        }
        for (target, line) in refs.found {
            // The module the path names: its longest prefix that is a module, or, for an item
            // the crate root re-exports, the module it comes from.
            let mut to_path: Vec<String> = (0..=target.len())
                .rev()
                .map(|n| target[..n].to_vec())
                .find(|p| all.contains(p))
                .unwrap_or_default();
            if to_path.is_empty()
                && let Some(m) = target.first().and_then(|f| reexports.get(f))
            {
                to_path = vec![m.clone()];
            }
            if level == Level::TopLevel {
                to_path.truncate(1);
            }
            // A module and its own submodules are one unit: `mod` declares the child, and the
            // child may use what its parent defines.
            let nested = to_path.starts_with(&from_path) || from_path.starts_with(&to_path);
            if level == Level::Nested && nested && !(from_path.is_empty() || to_path.is_empty()) {
                continue;
            }
            let to = name(&to_path);
            if to != from {
                let rel = file.strip_prefix(workspace_root()).unwrap_or(file);
                edges
                    .entry((from.clone(), to))
                    .or_default()
                    .push(format!("{}:{line}", rel.display()));
            }
        }
    }
    (nodes, edges)
}

/// How finely [`module_graph`] looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// Top-level modules, each with its submodules folded in.
    TopLevel,
    /// Every module by its full path; a module's edges to its own ancestors and descendants
    /// are left out (a parent declares its children).
    Nested,
}

/// `(leaf name, path before it)` for every name a use tree brings in.
fn collect_leaves(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            collect_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push((n.ident.to_string(), prefix.clone())),
        syn::UseTree::Rename(r) => out.push((r.rename.to_string(), prefix.clone())),
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => {
            for t in &g.items {
                collect_leaves(t, prefix, out);
            }
        }
    }
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut report = String::new();
    for dir in crate_dirs() {
        for level in [Level::TopLevel, Level::Nested] {
            let (nodes, edges) = module_graph(&dir, level);
            let found = cycles(&nodes, &edges);
            if !found.is_empty() {
                report.push_str(&format!(
                    "crate {} ({level:?}):\n{}",
                    dir.display(),
                    describe(&found, &edges)
                ));
            }
        }
    }
    assert!(report.is_empty(), "module cycles:\n{report}");
}

#[test]
fn no_crate_depends_on_a_crate_that_depends_on_it_back() {
    let mut nodes = BTreeSet::new();
    let mut edges = Edges::new();
    for dir in crate_dirs() {
        let manifest_path = dir.join("Cargo.toml");
        let manifest: toml::Table = std::fs::read_to_string(&manifest_path)
            .unwrap()
            .parse()
            .unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_string();
        nodes.insert(name.clone());
        for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = manifest.get(table).and_then(|t| t.as_table()) {
                for dep in deps.keys().filter(|d| d.starts_with("platformctl-")) {
                    edges
                        .entry((name.clone(), dep.clone()))
                        .or_default()
                        .push(format!("{} [{table}]", manifest_path.display()));
                }
            }
        }
    }
    let found = cycles(&nodes, &edges);
    assert!(
        found.is_empty(),
        "crate cycles:\n{}",
        describe(&found, &edges)
    );
}

/// `compare` is pure: it reads the module model, not the loader that fills it.
#[test]
fn compare_depends_on_the_model_not_the_loader() {
    let path = workspace_root().join("crates/compare/Cargo.toml");
    let manifest: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let deps = manifest["dependencies"].as_table().unwrap();
    assert!(deps.contains_key("platformctl-model"));
    assert!(
        !deps.contains_key("platformctl-catalog"),
        "{}",
        path.display()
    );
}

/// The checker itself finds a cycle when there is one.
#[test]
fn the_checker_sees_a_planted_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\npub use a::Thing;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::inner::Other;\npub struct Thing;\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "pub mod inner;\n").unwrap();
    std::fs::write(
        src.join("b/inner.rs"),
        "pub struct Other(super::super::Thing);\n#[cfg(test)]\nmod tests { use crate::a; }\n",
    )
    .unwrap();
    let (nodes, edges) = module_graph(dir.path(), Level::TopLevel);
    let found = cycles(&nodes, &edges);
    assert_eq!(
        found,
        vec![vec!["a".to_string(), "b".to_string()]],
        "{edges:?}"
    );
    let (nodes, edges) = module_graph(dir.path(), Level::Nested);
    let found = cycles(&nodes, &edges);
    assert_eq!(
        found,
        vec![vec!["a".to_string(), "b::inner".to_string()]],
        "{edges:?}"
    );
}

/// Sibling submodules that import each other are a cycle too; a child using its parent is not.
#[test]
fn the_checker_sees_a_cycle_between_submodules() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("commands")).unwrap();
    std::fs::write(src.join("main.rs"), "mod commands;\n").unwrap();
    std::fs::write(
        src.join("commands/mod.rs"),
        "pub mod drift;\npub mod hub;\npub struct Ctx;\npub fn run() { drift::go() }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("commands/drift.rs"),
        "use super::Ctx;\npub fn go() { super::hub::url() }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("commands/hub.rs"),
        "pub fn url() { crate::commands::drift::go() }\n",
    )
    .unwrap();
    let (nodes, edges) = module_graph(dir.path(), Level::TopLevel);
    assert_eq!(
        cycles(&nodes, &edges),
        Vec::<Vec<String>>::new(),
        "{edges:?}"
    );
    let (nodes, edges) = module_graph(dir.path(), Level::Nested);
    assert_eq!(
        cycles(&nodes, &edges),
        vec![vec![
            "commands::drift".to_string(),
            "commands::hub".to_string()
        ]],
        "{edges:?}"
    );
}
