//! `platformctl validate [all | PATH…] [--strict-v2] [--json]`.

use std::path::{Path, PathBuf};

use platformctl_catalog::Catalog;

use crate::cli::{Cli, ValidateArgs};
use crate::diag::{catalog_sources, render};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

use platformctl_report::catalog::{Selection, VALIDATE_SCHEMA as SCHEMA};

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
    let v = platformctl_report::catalog::validation(&catalog, selection.as_ref());
    let (findings, errors, warnings, io, code) =
        (&v.findings, v.errors, v.warnings, v.io, v.exit_code);
    let modules = catalog.modules.len();
    let compose_files = catalog.compose.len();
    if args.json {
        output::print_json(&platformctl_report::catalog::validate(
            &catalog,
            &v,
            args.strict_v2,
        ));
    } else {
        let st = Style::new(cli.color);
        let mut sources = catalog_sources(&catalog.root, &catalog.findings);
        let mut text = String::new();
        for f in findings {
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
    Ok(Some(Selection::new(catalog, paths)))
}
