//! The catalog's documents: `validate`, `modules list`, `modules show`, `coverage`.

use std::path::{Path, PathBuf};

use platformctl_catalog::{Catalog, Finding, LoadError, LoadOptions, Module, Severity};
use platformctl_diagnostics::Renderer;
use serde_json::{Value, json};

use crate::diag::{catalog_sources, render};
use crate::{Failure, OK};

/// `validate`'s schema.
pub const VALIDATE_SCHEMA: &str = "platformctl/validate/v1";
/// `modules list`'s schema.
pub const MODULES_LIST_SCHEMA: &str = "platformctl/modules-list/v1";
/// `modules show`'s schema.
pub const MODULES_SHOW_SCHEMA: &str = "platformctl/modules-show/v2";
/// `coverage`'s schema.
pub const COVERAGE_SCHEMA: &str = "platformctl/coverage/v1";
/// `validate`'s exit code when the catalog has error findings.
pub const VALIDATE_FINDINGS: u8 = 1;

/// Loads the catalog at `root`; a failure's message shows the finding at its file:line:col
/// (in colour when `color`).
pub fn load(
    root: &Path,
    strict: bool,
    env: Vec<(String, String)>,
    color: bool,
) -> Result<Catalog, Failure> {
    let opts = LoadOptions { strict, env };
    Catalog::load(root, &opts).map_err(|e| {
        let f = match e {
            LoadError::Platform(f) | LoadError::Modules(f) => f,
        };
        let mut sources = catalog_sources(root, [&f]);
        let message = render(&f, &mut sources, &Renderer::new(color));
        Failure {
            message: format!("cannot load the platform at {}:\n{message}", root.display()),
            finding: Some(Box::new(f)),
        }
    })
}

/// The catalog for a command that contacts hosts: a platform.toml with error findings stops
/// here, before any connection, with every one of those findings shown at its file:line:col.
pub fn ready_for_hosts(catalog: Catalog, color: bool) -> Result<Catalog, Failure> {
    let errors = platformctl_catalog::Platform::errors_in(&catalog.findings);
    if errors.is_empty() {
        return Ok(catalog);
    }
    let mut sources = catalog_sources(&catalog.root, errors.iter().copied());
    let renderer = Renderer::new(color);
    let rendered: Vec<String> = errors
        .iter()
        .map(|f| render(f, &mut sources, &renderer))
        .collect();
    Err(Failure {
        message: format!(
            "platform.toml does not validate ({} error{}); no host was contacted:\n{}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            rendered.join("\n")
        ),
        finding: errors.first().map(|f| Box::new((*f).clone())),
    })
}

/// The image a module intends to run: the artifact, else the audit snapshot.
pub fn desired_image(m: &Module) -> Option<&str> {
    m.artifact
        .as_ref()
        .and_then(|a| a.reference.as_deref())
        .map(String::as_str)
        .or(m.runtime.image_observed.as_deref().map(String::as_str))
}

/// `modules list --json`.
pub fn modules_list(catalog: &Catalog) -> Value {
    let modules: Vec<_> = catalog
        .modules
        .iter()
        .map(|lm| match &lm.module {
            Some(m) => json!({
                "name": m.name,
                "tier": m.tier,
                "host": m.runtime.host,
                "orchestrator": m.runtime.orchestrator,
                "composeFile": m.runtime.compose_file,
                "composeService": m.runtime.compose_service,
                "desiredState": m.runtime.desired_state,
                "stateful": m.stateful,
                "image": desired_image(m),
                "source": m.source.is_some(),
                "artifact": m.artifact.is_some(),
                "update": m.update.is_some(),
                "valid": !catalog.module_has_errors(&lm.dir),
            }),
            None => json!({ "name": lm.dir, "valid": false }),
        })
        .collect();
    json!({
        "schema": MODULES_LIST_SCHEMA,
        "exitCode": OK,
        "modules": modules,
    })
}

/// The module folder `name`, or a failure naming the closest one.
pub fn find_module<'c>(
    catalog: &'c Catalog,
    name: &str,
) -> Result<&'c platformctl_catalog::LoadedModule, Failure> {
    catalog
        .modules
        .iter()
        .find(|m| m.dir == name)
        .ok_or_else(|| {
            let known: Vec<&str> = catalog.modules.iter().map(|m| m.dir.as_str()).collect();
            let hint = platformctl_diagnostics::did_you_mean(name, &known)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            Failure::new(format!("no module `{name}` in the catalog{hint}"))
        })
}

/// What `modules show` says of one module: its folder and manifest, its findings, the
/// container compose names for it and its compose service.
pub struct ModuleFacts<'c> {
    /// The module folder (with its manifest, if it parses).
    pub loaded: &'c platformctl_catalog::LoadedModule,
    /// Its findings.
    pub findings: Vec<&'c Finding>,
    /// `<project>-<service>-1` (or `container_name`).
    pub expected_container: Option<String>,
    /// Its compose service.
    pub compose: Option<&'c platformctl_catalog::Service>,
}

/// The facts of module `name` (a failure naming the closest module if there is none).
pub fn module_facts<'c>(catalog: &'c Catalog, name: &str) -> Result<ModuleFacts<'c>, Failure> {
    let loaded = find_module(catalog, name)?;
    let m = loaded.module.as_ref();
    Ok(ModuleFacts {
        loaded,
        findings: catalog.findings_of(&loaded.dir).collect(),
        expected_container: m
            .and_then(|m| m.expected_container_name(&catalog.platform.compose_project)),
        compose: m.and_then(|m| {
            catalog
                .compose_of(m)?
                .service(m.runtime.compose_service.as_deref()?)
        }),
    })
}

/// `modules show NAME --json`.
pub fn modules_show(catalog: &Catalog, name: &str) -> Result<Value, Failure> {
    let f = module_facts(catalog, name)?;
    Ok(json!({
        "schema": MODULES_SHOW_SCHEMA,
        "exitCode": OK,
        "module": f.loaded.module,
        "expectedContainerName": f.expected_container,
        "compose": f.compose,
        "valid": !f.findings.iter().any(|f| f.severity == Severity::Error),
        "findings": f.findings,
    }))
}

/// `coverage --json`.
pub fn coverage(catalog: &Catalog) -> Value {
    let cov = platformctl_catalog::coverage(catalog);
    let mut doc = serde_json::to_value(&cov).unwrap_or_default();
    if let Some(m) = doc.as_object_mut() {
        m.insert("schema".into(), json!(COVERAGE_SCHEMA));
        m.insert("exitCode".into(), json!(OK));
        m.insert("platform".into(), json!(catalog.platform.name));
    }
    doc
}

/// What `validate PATH…` reports on: findings in these files/folders (relative to the root),
/// and findings about the modules in them.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    paths: Vec<PathBuf>,
    modules: Vec<String>,
}

impl Selection {
    /// The findings under `paths` (relative to the catalog's root) and of the modules there.
    pub fn new(catalog: &Catalog, paths: Vec<PathBuf>) -> Selection {
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
        Selection { paths, modules }
    }

    fn keeps(&self, f: &Finding) -> bool {
        self.paths.iter().any(|p| f.file.starts_with(p))
            || f.module
                .as_ref()
                .is_some_and(|m| self.modules.iter().any(|s| s == m))
    }
}

/// `validate`'s verdict: the findings kept, their counts and the exit code.
pub struct Validation<'c> {
    /// The findings reported.
    pub findings: Vec<&'c Finding>,
    /// Error findings among them.
    pub errors: usize,
    /// Warnings among them.
    pub warnings: usize,
    /// Whether a file could not be read.
    pub io: bool,
    /// 0 valid, 1 error findings, 2 a file could not be read.
    pub exit_code: u8,
}

/// Judges the catalog (or the selected part of it).
pub fn validation<'c>(catalog: &'c Catalog, selection: Option<&Selection>) -> Validation<'c> {
    let findings: Vec<&Finding> = catalog
        .findings
        .iter()
        .filter(|f| selection.is_none_or(|s| s.keeps(f)))
        .collect();
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let io = findings.iter().any(|f| f.code.is_io());
    let exit_code = if io {
        crate::ERROR
    } else if errors > 0 {
        VALIDATE_FINDINGS
    } else {
        OK
    };
    Validation {
        findings,
        errors,
        warnings,
        io,
        exit_code,
    }
}

/// `validate --json`.
pub fn validate(catalog: &Catalog, v: &Validation<'_>, strict_v2: bool) -> Value {
    json!({
        "schema": VALIDATE_SCHEMA,
        "exitCode": v.exit_code,
        "root": catalog.root,
        "strictV2": strict_v2,
        "summary": {
            "modules": catalog.modules.len(),
            "composeFiles": catalog.compose.len(),
            "errors": v.errors,
            "warnings": v.warnings,
        },
        "findings": v.findings,
    })
}
