//! Read-only by construction, across the workspace (SPEC §10, issue 13 item 6): the code that
//! changes a host lives in `platformctl-apply` alone, and nothing `plan`, `drift-check`,
//! `updates`, `serve` and `mcp` run can reach it.
//!
//! - No crate but the CLI depends on `platformctl-apply`; in the CLI only `commands/apply.rs`
//!   calls it (and `commands/schema.rs` its pure `apply_schema`).
//! - Outside `platformctl-apply`, a process is started only as allowed: `ssh` by observe
//!   (its own audit, crates/observe/tests/readonly_audit.rs, pins the command template) and
//!   `git rev-parse` / `git status` by drift's binding (the platform repo's commit).
//! - In the crates that reach hosts or registries (observe, registry, drift), compose's and
//!   docker's mutating verbs appear only in drift's binding, which describes the commands of a
//!   saved plan as data and runs nothing. (The catalog and compare name compose keys such as
//!   `build:` and `restart:`; they start no process and open no socket, by the rule above and
//!   observe's own audit.)
//!
//! - `serve` and `mcp` (and the report crate they share with the CLI) route only reads: the
//!   server registers GET routes alone, neither writes a file, and the one file the report
//!   crate can write is `drift-check --metrics-file`'s, called by the CLI only.
//!
//! Each rule also runs against a planted violation, so a rule that stopped matching fails.

use std::path::{Path, PathBuf};

use regex::Regex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(crate dir name, file, source before its `#[cfg(test)]` module)` of every crate's `src/`.
fn sources() -> Vec<(String, PathBuf, String)> {
    let mut out = Vec::new();
    for c in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let c = c.unwrap().path();
        let name = c.file_name().unwrap().to_string_lossy().to_string();
        let mut stack = vec![c.join("src")];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    out.push((name.clone(), p, code_only(&text)));
                }
            }
        }
    }
    out
}

/// The text before `#[cfg(test)]`, without `//` comments.
fn code_only(text: &str) -> String {
    let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..cut]
        .lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crates whose `[dependencies]` name `platformctl-apply`.
fn dependents(manifests: &[(String, String)]) -> Vec<String> {
    let dep = Regex::new(r"(?m)^platformctl-apply\b").unwrap();
    manifests
        .iter()
        .filter(|(_, text)| dep.is_match(text))
        .map(|(n, _)| n.clone())
        .collect()
}

fn manifests() -> Vec<(String, String)> {
    std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .filter_map(|c| {
            let c = c.unwrap().path();
            let text = std::fs::read_to_string(c.join("Cargo.toml")).ok()?;
            Some((c.file_name()?.to_string_lossy().to_string(), text))
        })
        .collect()
}

#[test]
fn only_the_cli_depends_on_the_apply_crate() {
    let mut found = dependents(&manifests());
    found.sort();
    assert_eq!(found, ["cli"], "crates depending on platformctl-apply");
    let planted = vec![(
        "drift".to_string(),
        "[dependencies]\nplatformctl-apply.workspace = true\n".to_string(),
    )];
    assert_eq!(dependents(&planted), ["drift"]);
}

/// Files of the CLI that use the apply crate, with what they use.
fn apply_users(srcs: &[(String, PathBuf, String)]) -> Vec<(String, Vec<String>)> {
    let used = Regex::new(r"platformctl_apply::(\{[^}]*\}|[A-Za-z_]+)").unwrap();
    srcs.iter()
        .filter(|(c, _, _)| c == "cli")
        .filter_map(|(_, p, text)| {
            let items: Vec<String> = used.captures_iter(text).map(|c| c[1].to_string()).collect();
            (!items.is_empty())
                .then(|| (p.file_name().unwrap().to_string_lossy().to_string(), items))
        })
        .collect()
}

#[test]
fn in_the_cli_only_the_apply_command_calls_the_apply_crate() {
    let srcs = sources();
    for (file, items) in apply_users(&srcs) {
        match file.as_str() {
            "apply.rs" => {}
            "schema.rs" => assert_eq!(items, ["apply_schema"], "schema.rs uses {items:?}"),
            other => panic!("{other} uses platformctl_apply: {items:?}"),
        }
    }
    let planted = vec![(
        "cli".to_string(),
        PathBuf::from("drift.rs"),
        "platformctl_apply::apply(&c, &p, &o, &mut y, &mut q);".to_string(),
    )];
    assert_eq!(
        apply_users(&planted),
        [("drift.rs".to_string(), vec!["apply".to_string()])]
    );
}

/// Every `Command::new(...)` outside the apply crate, as (crate, file name, program).
fn spawns(srcs: &[(String, PathBuf, String)]) -> Vec<(String, String, String)> {
    let re = Regex::new(r"Command::new\(\s*([^)]*)\)").unwrap();
    srcs.iter()
        .filter(|(c, _, _)| c != "apply")
        .flat_map(|(c, p, text)| {
            re.captures_iter(text)
                .map(|m| {
                    (
                        c.clone(),
                        p.file_name().unwrap().to_string_lossy().to_string(),
                        m[1].trim().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn outside_the_apply_crate_only_ssh_and_git_are_started() {
    let allowed = [
        ("observe", "ssh.rs", "\"ssh\""),
        ("drift", "binding.rs", "\"git\""),
    ];
    for (c, f, prog) in spawns(&sources()) {
        assert!(
            allowed.contains(&(c.as_str(), f.as_str(), prog.as_str())),
            "{c}/{f} starts {prog}"
        );
    }
    let planted = vec![(
        "drift".to_string(),
        PathBuf::from("lib.rs"),
        "let c = Command::new(\"docker\");".to_string(),
    )];
    assert_eq!(
        spawns(&planted),
        [("drift".into(), "lib.rs".into(), "\"docker\"".into())]
    );
}

/// String literals that are compose or docker verbs that change an engine, by file.
fn mutating_words(srcs: &[(String, PathBuf, String)]) -> Vec<(String, String, String)> {
    let re = Regex::new(
        r#""(pull|up|down|stop|start|restart|kill|rm|run|create|exec|push|rmi|build|scale)""#,
    )
    .unwrap();
    srcs.iter()
        .filter(|(c, _, _)| {
            ["observe", "registry", "drift", "serve", "mcp", "report"].contains(&c.as_str())
        })
        .flat_map(|(c, p, text)| {
            re.captures_iter(text)
                .map(|m| {
                    (
                        c.clone(),
                        p.file_name().unwrap().to_string_lossy().to_string(),
                        m[1].to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn mutating_verbs_appear_only_in_the_plan_description() {
    for (c, f, w) in mutating_words(&sources()) {
        assert!(
            c == "drift" && f == "binding.rs",
            "{c}/{f} names the mutating verb {w:?}"
        );
    }
    let planted = vec![(
        "observe".to_string(),
        PathBuf::from("remote.rs"),
        "args.push(\"restart\");".to_string(),
    )];
    assert_eq!(mutating_words(&planted).len(), 1);
}

/// Writes (files or non-GET routes) in the crates behind `serve` and `mcp`, as (crate, file,
/// what).
fn writes(srcs: &[(String, PathBuf, String)]) -> Vec<(String, String, String)> {
    let re = Regex::new(
        r"(std::fs::(write|rename|remove_file|remove_dir_all|create_dir_all|copy)|File::create|OpenOptions|routing::(post|put|patch|delete)|\b(post|put|patch|delete)\()",
    )
    .unwrap();
    srcs.iter()
        .filter(|(c, _, _)| ["serve", "mcp", "report"].contains(&c.as_str()))
        .flat_map(|(c, p, text)| {
            re.captures_iter(text)
                .map(|m| {
                    (
                        c.clone(),
                        p.file_name().unwrap().to_string_lossy().to_string(),
                        m[1].to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Callers of the report crate's one file writer.
fn metrics_file_writers(srcs: &[(String, PathBuf, String)]) -> Vec<(String, String)> {
    srcs.iter()
        .filter(|(_, _, text)| text.contains("metrics::write_file("))
        .map(|(c, p, _)| {
            (
                c.clone(),
                p.file_name().unwrap().to_string_lossy().to_string(),
            )
        })
        .collect()
}

#[test]
fn serve_and_mcp_only_read() {
    let srcs = sources();
    for (c, f, what) in writes(&srcs) {
        assert!(c == "report" && f == "metrics.rs", "{c}/{f} writes: {what}");
    }
    assert_eq!(
        metrics_file_writers(&srcs),
        [("cli".to_string(), "drift.rs".to_string())],
        "who writes the metrics file"
    );
    let planted = vec![
        (
            "serve".to_string(),
            PathBuf::from("lib.rs"),
            ".route(\"/api/v1/apply\", post(apply))".to_string(),
        ),
        (
            "mcp".to_string(),
            PathBuf::from("lib.rs"),
            "std::fs::write(&p, b)".to_string(),
        ),
    ];
    assert_eq!(writes(&planted).len(), 2);
    let planted = vec![(
        "serve".to_string(),
        PathBuf::from("lib.rs"),
        "platformctl_report::metrics::write_file(&p, &t)".to_string(),
    )];
    assert_eq!(
        metrics_file_writers(&planted),
        [("serve".to_string(), "lib.rs".to_string())]
    );
}
