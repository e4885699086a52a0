//! platform.toml is never silently dropped (issue 9, item 4): one that does not validate stops
//! `plan` (exit 2) and `drift-check` (exit 1) before any connection, showing its findings at
//! file:line:col; an `[ssh] config` that is absolute or `~/…` is accepted and handed to ssh.
//!
//! Hosts are a fake engine on a unix socket (`local`) and an `ssh` host whose `ssh` client is
//! a shim on PATH that records its arguments and fails, so "no connection attempted" and
//! "which -F file ssh got" are both observable without root, Docker or sshd.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use platformctl_drift::fake_engine::{FakeEngine, FixtureModule, container, image, write_platform};
use serde_json::{Value, json};
use support::bin;

const P: &str = "fixture";
const NGINX: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

struct World {
    dir: tempfile::TempDir,
    engine: FakeEngine,
}

impl World {
    fn root(&self) -> PathBuf {
        self.dir.path().join("platform")
    }
    /// Where the ssh shim writes the arguments of every run (absent: ssh never ran).
    fn ssh_log(&self) -> PathBuf {
        self.dir.path().join("ssh-args.log")
    }
    fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }
    /// Appends `extra` to platform.toml.
    fn add_to_platform(&self, extra: &str) {
        let p = self.root().join("platform.toml");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(p, format!("{text}\n{extra}")).unwrap();
    }
    /// Runs platformctl with the ssh shim first on PATH and HOME at `home` (or the tempdir).
    fn run(&self, args: &[&str], home: Option<&Path>) -> (i32, Value, String) {
        let path = format!(
            "{}:{}",
            self.bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = bin()
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env("PATH", path)
            .env("HOME", home.unwrap_or(self.dir.path()))
            .output()
            .unwrap();
        support::assert_no_panic(&out);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap(),
            doc,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Module `web` on local host `a` (a fake engine, in sync) and module `remote` on ssh host
/// `s` (`deploy@s`), which the ssh shim never lets answer.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("a.sock");
    let engine = FakeEngine::start(
        &sock,
        json!([container(
            P,
            "web",
            "fixture-web-1",
            "nginx:1.27",
            NGINX,
            "running"
        )]),
        json!([image(
            NGINX,
            &["nginx:1.27"],
            &[&format!("nginx@sha256:{}", "3".repeat(64))]
        )]),
    )
    .unwrap();
    let root = dir.path().join("platform");
    write_platform(
        &root,
        P,
        &[("a", &sock)],
        &[
            FixtureModule {
                name: "web",
                host: Some("a"),
                image: "nginx:1.27",
            },
            FixtureModule {
                name: "remote",
                host: Some("s"),
                image: "nginx:1.27",
            },
        ],
    )
    .unwrap();
    std::fs::create_dir_all(root.join("compose/s")).unwrap();
    std::fs::write(
        root.join("compose/s/compose.yaml"),
        format!("name: {P}\n\nservices:\n  remote:\n    image: nginx:1.27\n"),
    )
    .unwrap();
    let w = World { dir, engine };
    std::fs::create_dir_all(w.bin_dir()).unwrap();
    let shim = w.bin_dir().join("ssh");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\necho 'ssh: connect to host s port 22: Connection refused' >&2\nexit 255\n",
            w.ssh_log().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    w
}

fn ssh_host(config: Option<&str>) -> String {
    let ssh = config.map_or(String::new(), |c| format!("[ssh]\nconfig = \"{c}\"\n\n"));
    format!("{ssh}[hosts.s]\ntransport = \"ssh\"\nssh = \"deploy@s\"\nconnect_timeout_s = 2\n")
}

/// Asserts that nothing was contacted: no request reached the engine, ssh never ran.
fn assert_nothing_contacted(w: &World) {
    assert_eq!(
        w.engine.requests(),
        Vec::<String>::new(),
        "the engine was asked"
    );
    assert!(!w.ssh_log().exists(), "ssh was started");
}

/// platform.toml line:col of the first line holding `needle`, and of its value.
fn line_of(w: &World, needle: &str) -> usize {
    let text = std::fs::read_to_string(w.root().join("platform.toml")).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn rejected_ssh_config_stops_plan_and_drift_check_before_any_connection() {
    let w = world();
    w.add_to_platform(&ssh_host(Some("../elsewhere/ssh_config")));
    let line = line_of(&w, "../elsewhere");
    let at = format!("platform.toml:{line}:10");

    let (code, _, stderr) = w.run(&["drift-check"], None);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("platform.toml does not validate"),
        "{stderr}"
    );
    assert!(stderr.contains("PATH_OUTSIDE_ROOT"), "{stderr}");
    assert!(stderr.contains(&at), "{at} in {stderr}");
    assert!(!stderr.contains("cannot resolve"), "{stderr}");

    let (code, doc, _) = w.run(&["drift-check", "--json"], None);
    assert_eq!((code, doc["exitCode"].as_u64()), (1, Some(1)), "{doc:#}");
    assert_eq!(
        doc["error"]["finding"]["code"], "PATH_OUTSIDE_ROOT",
        "{doc:#}"
    );
    assert_eq!(doc["error"]["finding"]["line"], line, "{doc:#}");

    let (code, doc, stderr) = w.run(&["plan", "web", "--json"], None);
    assert_eq!((code, doc["exitCode"].as_u64()), (2, Some(2)), "{stderr}");
    assert!(stderr.contains(&at), "{stderr}");
    let (code, _, _) = w.run(&["plan", "remote"], None);
    assert_eq!(code, 2);

    assert_nothing_contacted(&w);
    // validate still reports the same finding (exit 1), and nothing else about `remote`.
    let (code, doc, _) = w.run(&["validate", "--json"], None);
    assert_eq!(code, 1);
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["PATH_OUTSIDE_ROOT"], "{doc:#}");
}

#[test]
fn unknown_transport_is_named_not_read_as_a_missing_host() {
    let w = world();
    w.add_to_platform(&ssh_host(None).replace("\"ssh\"\nssh", "\"telnet\"\nssh"));
    let line = line_of(&w, "telnet");
    let (code, _, stderr) = w.run(&["drift-check", "remote", "web"], None);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("transport `telnet` is not known"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("platform.toml:{line}:")),
        "{stderr}"
    );
    assert!(!stderr.contains("is not in platform.toml"), "{stderr}");
    let (code, _, stderr) = w.run(&["plan", "remote"], None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("transport `telnet` is not known"),
        "{stderr}"
    );
    assert_nothing_contacted(&w);

    let (_, doc, _) = w.run(&["validate", "--json"], None);
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"INVALID_VALUE"), "{codes:?}");
    assert!(!codes.contains(&"HOST_UNKNOWN"), "{codes:?}");
}

#[test]
fn a_valid_platform_toml_is_observed_as_before() {
    let w = world();
    w.add_to_platform(&ssh_host(Some("ops/ssh_config")));
    let (code, doc, stderr) = w.run(&["drift-check", "--json"], None);
    // `web` in sync, `remote` unreachable (the shim refuses): partial, exit 8.
    assert_eq!(code, 8, "{stderr}\n{doc:#}");
    assert!(!w.engine.requests().is_empty());
    let args = std::fs::read_to_string(w.ssh_log()).unwrap();
    let want = format!("-F\n{}\n", w.root().join("ops/ssh_config").display());
    assert!(args.contains(&want), "{want:?} in {args}");
    // Warnings of platform.toml (an unknown field) do not stop anything.
    w.add_to_platform("[hosts.a2]\ntransport = \"local\"\nsocket_path = \"/x\"\n");
    let (code, _, stderr) = w.run(&["plan", "web"], None);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn absolute_and_home_ssh_config_are_accepted_and_used() {
    let w = world();
    let abs = w.dir.path().join("elsewhere/ssh_config");
    w.add_to_platform(&ssh_host(Some(&abs.display().to_string())));
    let (code, _, stderr) = w.run(&["validate"], None);
    assert_eq!(code, 0, "{stderr}");
    let (code, doc, stderr) = w.run(&["plan", "remote", "--json"], None);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(doc["status"], "unreachable", "{doc:#}");
    let args = std::fs::read_to_string(w.ssh_log()).unwrap();
    assert!(args.contains(&format!("-F\n{}\n", abs.display())), "{args}");

    let w = world();
    let home = w.dir.path().join("home");
    w.add_to_platform(&ssh_host(Some("~/.ssh/platform_config")));
    let (code, _, stderr) = w.run(&["validate"], Some(&home));
    assert_eq!(code, 0, "{stderr}");
    let (code, doc, stderr) = w.run(&["drift-check", "remote", "--json"], Some(&home));
    assert_eq!(code, 5, "{stderr}\n{doc:#}");
    let args = std::fs::read_to_string(w.ssh_log()).unwrap();
    let want = format!("-F\n{}\n", home.join(".ssh/platform_config").display());
    assert!(args.contains(&want), "{want:?} in {args}");
}
