//! The real parts of `scripts/e2e/realparts.sh` (two private Docker engines, a registry, an
//! sshd, a closed port and a silent host on 127.0.0.1) for one test binary; `down` runs when
//! dropped. The machine's own Docker daemon is never touched.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Parts {
    pub dir: PathBuf,
    env: BTreeMap<String, String>,
    workspace: PathBuf,
}

impl Parts {
    /// Installs what is missing (idempotent) and starts every part.
    pub fn up(workspace: &Path) -> Result<Parts, String> {
        let deps = Command::new(workspace.join("scripts/e2e/install-deps.sh"))
            .output()
            .map_err(|e| format!("install-deps.sh: {e}"))?;
        if !deps.status.success() {
            return Err(format!(
                "install-deps.sh failed: {}",
                String::from_utf8_lossy(&deps.stderr)
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("pc-")
            .tempdir_in("/tmp")
            .map_err(|e| e.to_string())?
            .keep();
        // Made first, so that a failed `up` is taken down too (Drop).
        let mut parts = Parts {
            dir: dir.clone(),
            env: BTreeMap::new(),
            workspace: workspace.to_path_buf(),
        };
        let up = Command::new(workspace.join("scripts/e2e/realparts.sh"))
            .arg("up")
            .arg(&dir)
            .output()
            .map_err(|e| format!("realparts.sh: {e}"))?;
        if !up.status.success() {
            return Err(format!(
                "realparts.sh up failed:\n{}",
                String::from_utf8_lossy(&up.stderr)
            ));
        }
        let text = std::fs::read_to_string(dir.join("env")).map_err(|e| e.to_string())?;
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.trim_matches('"').trim_matches('\'').to_string(),
                )
            })
            .collect();
        parts.env = env;
        Ok(parts)
    }

    pub fn get(&self, k: &str) -> &str {
        self.env.get(k).map_or("", String::as_str)
    }

    /// The docker CLI against engine `e1` or `e2`.
    pub fn docker(&self, engine: &str, args: &[&str]) -> Output {
        let sock = self.get(if engine == "e1" { "E1_SOCK" } else { "E2_SOCK" });
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{sock}"))
            .args(args)
            .env("DOCKER_CONFIG", self.get("DOCKER_CONFIG"))
            .output()
            .expect("docker CLI")
    }

    pub fn docker_ok(&self, engine: &str, args: &[&str]) -> String {
        let out = self.docker(engine, args);
        assert!(
            out.status.success(),
            "docker {args:?} on {engine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A compose-labelled container of project `project` running `sleep`.
    pub fn container(&self, engine: &str, project: &str, service: &str, image: &str) {
        let name = format!("{project}-{service}-1");
        let p = format!("com.docker.compose.project={project}");
        let s = format!("com.docker.compose.service={service}");
        self.docker_ok(
            engine,
            &[
                "run",
                "-d",
                "--network",
                "none",
                "--name",
                &name,
                "--label",
                &p,
                "--label",
                &s,
                "--label",
                "com.docker.compose.container-number=1",
                image,
                "sleep",
                "100000",
            ],
        );
    }
}

impl Drop for Parts {
    fn drop(&mut self) {
        let _ = Command::new(self.workspace.join("scripts/e2e/realparts.sh"))
            .arg("down")
            .arg(&self.dir)
            .status();
    }
}

/// Whether this process may start dockerd (root).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
