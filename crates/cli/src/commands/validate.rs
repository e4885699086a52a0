//! `platformctl validate [all | PATH…] [--strict-v2] [--json]`.

use std::path::{Path, PathBuf};

use platformctl_catalog::{Catalog, Finding, Severity};
use serde_json::json;

use crate::cli::{Cli, ValidateArgs};
use crate::diag::{catalog_sources, render};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

const SCHEMA: &str = "platformctl/validate/v1";
/// Exit code: the catalog has error findings.
const FINDINGS: u8 = 1;

pub fn run(cli: &Cli, args: &ValidateArgs) -> u8 {
    let catalog = match output::load(cli, args.strict_v2) {
        Ok(c) => c,
        Err(f) => return output::fatal(SCHEMA, args.json, &f, ERROR),
    };
    let selection = match select(&catalog, &args.paths) {
        Ok(s) => s,
        Err(msg) => {
            return output::fatal(
                SCHEMA,
                args.json,
                &Fatal {
                    message: msg,
                    finding: None,
                },
                ERROR,
            );
        }
    };
    let findings: Vec<&Finding> = catalog
        .findings
        .iter()
        .filter(|f| selection.as_ref().is_none_or(|s| s.keeps(f)))
        .collect();
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let io = findings.iter().any(|f| f.code.is_io());
    let code = if io {
        ERROR
    } else if errors > 0 {
        FINDINGS
    } else {
        OK
    };
    let modules = catalog.modules.len();
    let compose_files = catalog.compose.len();
    if args.json {
        output::print_json(&json!({
            "schema": SCHEMA,
            "exitCode": code,
            "root": catalog.root,
            "strictV2": args.strict_v2,
            "summary": {
                "modules": modules,
                "composeFiles": compose_files,
                "errors": errors,
                "warnings": warnings,
            },
            "findings": findings,
        }));
    } else {
        let st = Style::new(cli.color);
        let mut sources = catalog_sources(&catalog.root, &catalog.findings);
        let mut text = String::new();
        for f in &findings {
            text.push_str(&render(f, &mut sources, &st.renderer()));
            text.push('\n');
        }
        let verdict = if code == OK {
            st.green("valid")
        } else if io {
            st.red("could not read every file")
        } else {
            st.red("invalid")
        };
        text.push_str(&format!(
            "{verdict}: {modules} modules, {compose_files} compose files; {} {}, {} {}\n",
            errors,
            plural(errors, "error"),
            warnings,
            plural(warnings, "warning"),
        ));
        output::print(&text);
    }
    code
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// What `validate PATH…` reports on: findings in these files/folders, and findings about the
/// modules in them.
struct Selection {
    paths: Vec<PathBuf>,
    modules: Vec<String>,
}

impl Selection {
    fn keeps(&self, f: &Finding) -> bool {
        self.paths.iter().any(|p| f.file.starts_with(p))
            || f.module
                .as_ref()
                .is_some_and(|m| self.modules.iter().any(|s| s == m))
    }
}

fn select(catalog: &Catalog, args: &[PathBuf]) -> Result<Option<Selection>, String> {
    if args.is_empty() || args.iter().any(|p| p == Path::new("all")) {
        if args.len() > 1 {
            return Err("`all` cannot be combined with paths".into());
        }
        return Ok(None);
    }
    let mut paths = Vec::new();
    for p in args {
        paths.push(output::relative_to_root(&catalog.root, p)?);
    }
    let modules = catalog
        .modules
        .iter()
        .filter(|m| {
            let dir = Path::new("modules").join(&m.dir);
            paths
                .iter()
                .any(|p| dir.starts_with(p) || p.starts_with(&dir))
        })
        .map(|m| m.dir.clone())
        .collect();
    Ok(Some(Selection { paths, modules }))
}
