//! Twelve real compose files (tests/data/upstream-compose/, sources and licences in its
//! SOURCES.md) through the catalog's compose loader, as the platform reads a module's compose
//! file: each must load with **zero findings** (no false finding), and every service's image,
//! after interpolation, must equal the answer compose-go gives, recorded by hand in each
//! project's `expected-images.txt` (`service image`, or `service -` for a service without
//! `image:`).

use std::path::Path;

use platformctl_catalog::compose::load_compose;
use platformctl_imageref::ImageRef;

const PROJECTS: [&str; 12] = [
    "authentik",
    "immich",
    "mailcow",
    "mastodon",
    "netbox",
    "nextcloud-aio",
    "paperless",
    "penpot",
    "plausible",
    "sentry",
    "supabase",
    "zammad",
];

#[test]
fn upstream_compose_files_load_as_compose_reads_them() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream-compose");
    let mut problems = Vec::new();
    let mut services = 0;
    for project in PROJECTS {
        let root = data.join(project);
        let mut findings = Vec::new();
        let file = load_compose(&root, Path::new("compose.yaml"), &[], &mut findings);
        for f in &findings {
            problems.push(format!(
                "{project}: false finding {} at {}:{}: {}",
                f.code.as_str(),
                f.line,
                f.column,
                f.message
            ));
        }
        let Some(file) = file else {
            problems.push(format!("{project}: not loaded"));
            continue;
        };
        let got: Vec<String> = file
            .services
            .iter()
            .map(|s| {
                let image = s.image.as_ref().map_or("-", |i| i.value.as_str());
                format!("{} {image}", s.name)
            })
            .collect();
        for s in &file.services {
            if let Some(i) = &s.image
                && let Err(e) = ImageRef::parse(&i.value)
            {
                problems.push(format!(
                    "{project}: {}: image {:?} refused: {e}",
                    s.name, i.value
                ));
            }
        }
        let expected_text = std::fs::read_to_string(root.join("expected-images.txt"))
            .unwrap_or_else(|e| panic!("{project}/expected-images.txt: {e}"));
        let expected: Vec<String> = expected_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        if got != expected {
            problems.push(format!(
                "{project}: services and images differ from compose-go's\n  got:      {got:?}\n  expected: {expected:?}"
            ));
        }
        services += got.len();
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    println!(
        "upstream compose files: {} projects, {services} services, 0 findings",
        PROJECTS.len()
    );
}

/// As the platform loads them: the process environment wins over the `.env` beside the file,
/// and a `.env`'s `COMPOSE_PROJECT_NAME` is read (compose takes it over `name:`).
#[test]
fn upstream_env_precedence_and_project_name() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream-compose");
    let env = [(
        "SNUBA_IMAGE".to_string(),
        "ghcr.io/getsentry/snuba:25.1.0".to_string(),
    )];
    let mut findings = Vec::new();
    let sentry = load_compose(
        &data.join("sentry"),
        Path::new("compose.yaml"),
        &env,
        &mut findings,
    )
    .expect("sentry loads");
    assert!(findings.is_empty(), "{findings:?}");
    let image = |name: &str| {
        sentry
            .service(name)
            .and_then(|s| s.image.as_ref())
            .map(|i| i.value.clone())
    };
    assert_eq!(
        image("snuba-api").as_deref(),
        Some("ghcr.io/getsentry/snuba:25.1.0")
    );
    assert_eq!(
        image("relay").as_deref(),
        Some("ghcr.io/getsentry/relay:nightly")
    );
    assert_eq!(
        sentry.dotenv_project.as_ref().map(|p| p.value.as_str()),
        Some("sentry-self-hosted")
    );
    let paperless = load_compose(
        &data.join("paperless"),
        Path::new("compose.yaml"),
        &[],
        &mut findings,
    )
    .expect("paperless loads");
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(
        paperless.dotenv_project.as_ref().map(|p| p.value.as_str()),
        Some("paperless")
    );
}
