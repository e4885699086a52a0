//! Test helpers: modules loaded from tiny manifests through the catalog's own loader, and
//! host evidence written by hand.

#![allow(dead_code)]

use std::collections::BTreeMap;

use platformctl_catalog::{Module, Severity};
use platformctl_evidence::{Container, ContainerState, Health, HostEvidence, Image, labels};

pub const PROJECT: &str = "home-platform";

/// Loads a module.yaml text through the catalog's own manifest check
/// (`platformctl_catalog::module::check_manifest`, what `Catalog::load` runs on each manifest,
/// without the file system); panics on any error finding, so that every test module is a valid
/// manifest (`--strict-v2`).
pub fn load(yaml: &str) -> Module {
    let name = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: "))
        .expect("the manifest has metadata.name")
        .trim()
        .to_string();
    let mut findings = Vec::new();
    let module = platformctl_catalog::module::check_manifest(yaml, &name, true, &mut findings);
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}:{}: {}", f.line, f.column, f.message))
        .collect();
    assert!(
        errors.is_empty(),
        "test manifest invalid: {errors:#?}\n{yaml}"
    );
    module.expect("the manifest parsed")
}

/// A manifest, built field by field.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub name: String,
    pub service: String,
    pub container_name: Option<String>,
    pub desired_state: Option<&'static str>,
    pub image_observed: Option<String>,
    pub image_observed_at: Option<String>,
    pub pinned: Option<bool>,
    pub artifact: Option<String>,
    pub external: bool,
}

/// A module named `name` whose compose service is also `name`.
pub fn manifest(name: &str) -> Manifest {
    Manifest {
        name: name.to_string(),
        service: name.to_string(),
        container_name: None,
        desired_state: None,
        image_observed: None,
        image_observed_at: None,
        pinned: None,
        artifact: None,
        external: false,
    }
}

impl Manifest {
    pub fn service(mut self, s: &str) -> Self {
        self.service = s.to_string();
        self
    }
    pub fn container_name(mut self, s: &str) -> Self {
        self.container_name = Some(s.to_string());
        self
    }
    pub fn stopped(mut self) -> Self {
        self.desired_state = Some("stopped");
        self
    }
    pub fn observed(mut self, r: &str) -> Self {
        self.image_observed = Some(r.to_string());
        self.image_observed_at = Some("2026-05-04".to_string());
        self
    }
    pub fn pinned(mut self, p: bool) -> Self {
        self.pinned = Some(p);
        self
    }
    pub fn artifact(mut self, r: &str) -> Self {
        self.artifact = Some(r.to_string());
        self
    }
    pub fn external(mut self) -> Self {
        self.external = true;
        self
    }

    pub fn yaml(&self) -> String {
        let mut y = format!(
            "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {}\n  description: test module\n  tier: app\nspec:\n  runtime:\n",
            self.name
        );
        if self.external {
            y.push_str("    orchestrator: external\n");
        } else {
            y.push_str(&format!(
                "    host: rs2000\n    orchestrator: docker-compose\n    compose_file: compose/apps/compose.yaml\n    compose_service: '{}'\n",
                self.service
            ));
        }
        if let Some(n) = &self.container_name {
            y.push_str(&format!("    container_name: '{n}'\n"));
        }
        if let Some(s) = self.desired_state {
            y.push_str(&format!("    desired_state: {s}\n"));
        }
        if let Some(o) = &self.image_observed {
            y.push_str(&format!("    image_observed: '{o}'\n"));
        }
        if let Some(d) = &self.image_observed_at {
            y.push_str(&format!("    image_observed_at: '{d}'\n"));
        }
        if let Some(p) = self.pinned {
            y.push_str(&format!("    image_digest_pinned_in_compose: {p}\n"));
        }
        if let Some(a) = &self.artifact {
            y.push_str(&format!(
                "  artifact:\n    type: oci-image\n    reference: '{a}'\n"
            ));
        }
        y
    }

    pub fn load(&self) -> Module {
        load(&self.yaml())
    }
}

/// 64 hex digits made of one repeated digit.
pub fn hex(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

/// `sha256:` and 64 times `c`.
pub fn sha(c: char) -> String {
    format!("sha256:{}", hex(c))
}

/// A running compose v2 container of `service` (replica 1) in [`PROJECT`].
pub fn container(service: &str, image_ref: &str, image_id: &str) -> Container {
    let mut l = BTreeMap::new();
    l.insert(labels::PROJECT.to_string(), PROJECT.to_string());
    l.insert(labels::SERVICE.to_string(), service.to_string());
    l.insert(labels::NUMBER.to_string(), "1".to_string());
    l.insert(labels::ONEOFF.to_string(), "False".to_string());
    l.insert(
        "com.docker.compose.version".to_string(),
        "2.29.7".to_string(),
    );
    Container {
        id: format!("{:0>64}", service.len()),
        name: format!("{PROJECT}-{service}-1"),
        labels: l,
        state: ContainerState::Running,
        health: None,
        image_ref: image_ref.to_string(),
        image_id: image_id.to_string(),
        config: None,
    }
}

pub trait ContainerExt {
    fn named(self, n: &str) -> Self;
    fn state(self, s: ContainerState) -> Self;
    fn health(self, h: Health) -> Self;
    fn label(self, k: &str, v: &str) -> Self;
    fn no_labels(self) -> Self;
    fn number(self, n: u32) -> Self;
}

impl ContainerExt for Container {
    fn named(mut self, n: &str) -> Self {
        self.name = n.to_string();
        self
    }
    fn state(mut self, s: ContainerState) -> Self {
        self.state = s;
        self
    }
    fn health(mut self, h: Health) -> Self {
        self.health = Some(h);
        self
    }
    fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.to_string(), v.to_string());
        self
    }
    fn no_labels(mut self) -> Self {
        self.labels.clear();
        self
    }
    fn number(mut self, n: u32) -> Self {
        self.labels
            .insert(labels::NUMBER.to_string(), n.to_string());
        let service = self.service().unwrap_or("x").to_string();
        self.name = format!("{PROJECT}-{service}-{n}");
        self
    }
}

pub fn image(id: &str, tags: &[&str], digests: &[&str]) -> Image {
    Image {
        id: id.to_string(),
        repo_tags: tags.iter().map(|s| s.to_string()).collect(),
        repo_digests: digests.iter().map(|s| s.to_string()).collect(),
        source_url: None,
        config: None,
    }
}

pub fn host(containers: Vec<Container>, images: Vec<Image>) -> HostEvidence {
    HostEvidence::new(containers, images)
}
