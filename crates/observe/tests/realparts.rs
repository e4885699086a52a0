//! Observation against real parts: two private Docker engines, an sshd that forwards, a second
//! sshd that refuses stream-local forwarding, a closed port and a silent host, all on
//! 127.0.0.1 (`scripts/e2e/realparts.sh`; never the machine's own Docker daemon).
//!
//! One `realparts.sh up` serves every test (libtest-mimic, `harness = false`). The binary runs
//! twice: the parent brings the parts up, runs itself again as the child that runs the tests,
//! and runs `down` whatever the child did (failed, crashed, interrupted). Tests run one at a
//! time, in order: the last two check the whole run (no `docker events` on the engines, no ssh
//! process or control directory left behind).
//!
//! Without root, or when the engines cannot start, every test is reported as ignored with the
//! reason (never a silent pass); set `PLATFORMCTL_E2E_REQUIRED=1` to make that a failure.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use platformctl_evidence::{ContainerState, HostEvidence};
use platformctl_observe::{
    CONTROL_DIR_PREFIX, HostReport, ObserveErrorKind, Options, ProgressEvent, SshMode, Target,
    TargetKind, Via, observe, observe_blocking,
};

const PROJECT: &str = "home-platform";
const BULK_PROJECT: &str = "bulk";
const MOVED_PROJECT: &str = "moved";
const BULK: usize = 25;

type TestFn = fn(&Env) -> Result<(), Failed>;

const TESTS: &[(&str, TestFn)] = &[
    (
        "local_transport_returns_exactly_the_project",
        local_transport,
    ),
    (
        "local_transport_other_project_is_empty",
        local_other_project,
    ),
    ("ssh_forward_e1_and_e2_match_the_local_view", ssh_forward),
    (
        "one_ping_two_lists_and_the_inspects_on_two_connections",
        counted_requests,
    ),
    (
        "ssh_command_fallback_when_sshd_refuses_forwarding",
        ssh_fallback,
    ),
    ("ssh_command_only_mode", ssh_command_only),
    ("ssh_command_fallback_with_no_containers", ssh_command_empty),
    ("tag_moved_image_ref_differs_between_api_and_cli", tag_moved),
    ("closed_port_is_unreachable_fast", closed_port),
    ("silent_host_times_out_while_the_others_arrive", silent_host),
    ("hosts_run_in_parallel_under_the_bound", parallel_hosts),
    (
        "host_timeout_cancels_the_connect_and_kills_ssh",
        host_timeout_kills_ssh,
    ),
    (
        "unsafe_inputs_are_refused_before_anything_runs",
        unsafe_inputs,
    ),
    (
        "unknown_host_key_is_refused_and_not_recorded",
        unknown_host_key,
    ),
    ("observe_blocking_works_outside_a_runtime_only", blocking),
    ("timings", timings),
    ("no_engine_events_during_the_run", no_engine_events),
    ("no_leftover_ssh_processes_or_control_dirs", no_leftovers),
];

/// Set in the child process that runs the tests: the real parts' DIR.
const CHILD_DIR: &str = "PLATFORMCTL_REALPARTS_DIR";
/// Set in the child: the `docker events --since` of the run.
const CHILD_SINCE: &str = "PLATFORMCTL_REALPARTS_SINCE";

/// Two processes: the parent brings the parts up, runs this same binary as a child that runs
/// the tests (with a private `TMPDIR` under DIR, so the ssh control directories it leaves, if
/// any, are its own), and brings the parts down whatever the child did: failed, crashed, or
/// was interrupted (Ctrl-C reaches both; the parent waits for the child, then runs `down`).
fn main() {
    let mut args = Arguments::from_args();
    // One after the other, in order: timings must not overlap, and the last two tests judge
    // the whole run.
    args.test_threads = Some(1);
    if args.list {
        let trials = TESTS
            .iter()
            .map(|(name, _)| Trial::test(*name, || Ok(())))
            .collect();
        libtest_mimic::run(&args, trials).exit();
    }
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        let since = std::env::var(CHILD_SINCE).unwrap_or_default();
        let env = match Env::load(PathBuf::from(dir), since) {
            Ok(env) => Arc::new(env),
            Err(e) => {
                eprintln!("realparts: the test child cannot read the parts: {e}");
                std::process::exit(1);
            }
        };
        let trials = TESTS
            .iter()
            .map(|(name, f)| {
                let env = env.clone();
                let f = *f;
                Trial::test(*name, move || f(&env))
            })
            .collect();
        let conclusion = libtest_mimic::run(&args, trials);
        let notes = env.notes.lock().unwrap().clone();
        if !notes.is_empty() {
            println!("\n---- realparts notes ----");
            for n in notes {
                println!("{n}");
            }
        }
        conclusion.exit();
    }
    match Parts::up() {
        Err(why) => {
            eprintln!("realparts: real parts unavailable: {why}");
            if std::env::var("PLATFORMCTL_E2E_REQUIRED").as_deref() == Ok("1") {
                eprintln!("realparts: PLATFORMCTL_E2E_REQUIRED=1: failing");
                std::process::exit(1);
            }
            eprintln!("realparts: every test is reported as ignored");
            let trials = TESTS
                .iter()
                .map(|(name, _)| {
                    let why = why.clone();
                    Trial::ignorable_test(*name, move || {
                        Ok(Completion::ignored_with(format!(
                            "real parts unavailable: {why}"
                        )))
                    })
                })
                .collect();
            libtest_mimic::run(&args, trials).exit();
        }
        Ok(parts) => {
            let code = parts.run_tests_in_child();
            drop(parts); // `down`, before exit (which runs no destructors)
            std::process::exit(code);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the parts

/// The running parts; dropping it stops what this test started and runs `realparts.sh down`.
struct Parts {
    env: Env,
    realparts: PathBuf,
    nofwd_sshd: Option<Child>,
}

/// What the tests see.
struct Env {
    dir: PathBuf,
    vars: Arc<HashMap<String, String>>,
    /// DIR/observe/ssh_config: the harness's aliases plus e2e-nofwd and e2e-unknown-key.
    ssh_config: PathBuf,
    /// The (empty) known_hosts of e2e-unknown-key.
    empty_known_hosts: PathBuf,
    /// `docker events --since` for the last checks.
    since: String,
    control_dirs_before: Arc<HashSet<PathBuf>>,
    notes: Arc<Mutex<Vec<String>>>,
}

impl Env {
    /// The child's view: DIR/env plus what `Parts::setup` wrote under DIR/observe.
    fn load(dir: PathBuf, since: String) -> Result<Env, String> {
        let tmp = std::env::temp_dir();
        if !tmp.starts_with(&dir) {
            return Err(format!(
                "TMPDIR {} is not under {}",
                tmp.display(),
                dir.display()
            ));
        }
        Ok(Env {
            vars: Arc::new(read_env(&dir)?),
            ssh_config: dir.join("observe/ssh_config"),
            empty_known_hosts: dir.join("observe/empty_known_hosts"),
            since,
            control_dirs_before: Arc::new(control_dirs()),
            notes: Arc::new(Mutex::new(Vec::new())),
            dir,
        })
    }

    fn var(&self, k: &str) -> &str {
        self.vars
            .get(k)
            .unwrap_or_else(|| panic!("{k} missing from DIR/env"))
    }

    fn note(&self, s: String) {
        println!("    {s}");
        self.notes.lock().unwrap().push(s);
    }

    fn docker(&self, engine: &str) -> Command {
        let mut c = Command::new("docker");
        c.arg("-H")
            .arg(format!("unix://{}", self.var(&format!("{engine}_SOCK"))))
            .env("DOCKER_CONFIG", self.var("DOCKER_CONFIG"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        c
    }

    fn ssh_target(&self, host: &str, alias: &str, engine_sock: &str) -> Target {
        Target {
            host: host.into(),
            kind: TargetKind::Ssh {
                destination: alias.into(),
                config_file: Some(self.ssh_config.clone()),
            },
            docker_socket: self.var(engine_sock).into(),
            connect_timeout: Duration::from_secs(5),
        }
    }

    fn local_target(&self, host: &str, engine_sock: &str) -> Target {
        Target::local(host, self.var(engine_sock))
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now_unix() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// The private control directories in this process's temporary directory (the child's
/// `TMPDIR`, under DIR: nobody else's).
fn control_dirs() -> HashSet<PathBuf> {
    let mut out = HashSet::new();
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(CONTROL_DIR_PREFIX)
            {
                out.insert(e.path());
            }
        }
    }
    out
}

fn read_env(dir: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(dir.join("env")).map_err(|e| format!("DIR/env: {e}"))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

impl Parts {
    fn up() -> Result<Parts, String> {
        let uid = run(Command::new("id").arg("-u")).map_err(|e| format!("cannot run id: {e}"))?;
        if uid.trim() != "0" {
            return Err(format!(
                "not root (uid {}): the private dockerd engines need root",
                uid.trim()
            ));
        }
        let e2e = repo_root().join("scripts/e2e");
        run(&mut Command::new(e2e.join("install-deps.sh")))
            .map_err(|e| format!("scripts/e2e/install-deps.sh failed: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("pc-")
            .tempdir_in("/tmp")
            .map_err(|e| e.to_string())?
            .keep();
        let realparts = e2e.join("realparts.sh");
        eprintln!(
            "realparts: up {} (by hand: {} down {0})",
            dir.display(),
            realparts.display()
        );
        let t = Instant::now();
        if let Err(e) = run(Command::new(&realparts).arg("up").arg(&dir)) {
            // `up` cleans up after itself on failure.
            let _ = std::fs::remove_dir(&dir);
            return Err(format!(
                "realparts.sh up failed (can dockerd start here?): {e}"
            ));
        }
        let up_time = t.elapsed();
        let vars = match read_env(&dir) {
            Ok(v) => v,
            Err(e) => {
                let _ = Command::new(&realparts).arg("down").arg(&dir).status();
                return Err(e);
            }
        };
        let mut parts = Parts {
            env: Env {
                dir: dir.clone(),
                vars: Arc::new(vars),
                ssh_config: dir.join("observe/ssh_config"),
                empty_known_hosts: dir.join("observe/empty_known_hosts"),
                since: String::new(),
                control_dirs_before: Arc::new(HashSet::new()),
                notes: Arc::new(Mutex::new(Vec::new())),
            },
            realparts,
            nofwd_sshd: None,
        };
        // From here on, dropping `parts` brings everything down.
        parts
            .setup()
            .map_err(|e| format!("setting up the real parts failed: {e}"))?;
        parts.env.note(format!(
            "realparts up in {:.1} s, setup (containers, second sshd) in {:.1} s",
            up_time.as_secs_f64(),
            t.elapsed().as_secs_f64() - up_time.as_secs_f64()
        ));
        Ok(parts)
    }

    fn setup(&mut self) -> Result<(), String> {
        let env = &self.env;
        // Compose-labelled containers, as scripts/e2e/smoke.sh makes them.
        let c = |engine: &str, how: &str, name: &str, service: &str, image: &str| {
            let mut cmd = env.docker(engine);
            cmd.arg(how);
            if how == "run" {
                cmd.arg("-d");
            }
            cmd.args(["--network", "none", "--name", name])
                .args(["--label", &format!("com.docker.compose.project={PROJECT}")])
                .args(["--label", &format!("com.docker.compose.service={service}")])
                .args(["--label", "com.docker.compose.container-number=1"])
                .args(["--label", "org.example.other=not-kept"])
                .args([image, "sleep", "100000"]);
            run(&mut cmd).map(drop)
        };
        c(
            "E1",
            "run",
            "home-platform-web-1",
            "web",
            env.var("IMG_WEB"),
        )?;
        c(
            "E1",
            "run",
            "home-platform-api-1",
            "api",
            env.var("IMG_API_306"),
        )?;
        c(
            "E1",
            "run",
            "home-platform_worker_1",
            "worker",
            env.var("IMG_WORKER"),
        )?;
        c(
            "E1",
            "create",
            "home-platform-tool-1",
            "tool",
            env.var("IMG_LOCAL"),
        )?;
        c(
            "E2",
            "run",
            "home-platform-api-1",
            "api",
            env.var("IMG_API_303"),
        )?;
        c(
            "E2",
            "create",
            "home-platform-db-1",
            "db",
            env.var("IMG_API_306"),
        )?;
        run(env.docker("E1").args([
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "unrelated-1",
            env.var("IMG_LOCAL"),
            "sleep",
            "100000",
        ]))?;
        // "Tag moved": moved-web-1 runs REG/moved:1 as it was (honcho-web), then the tag is
        // moved to another image. The list API then reports the image ID as `Image`, while
        // `docker inspect` keeps `Config.Image`.
        let moved = format!("{}/moved:1", env.var("REGISTRY"));
        run(env.docker("E1").args(["tag", env.var("IMG_WEB"), &moved]))?;
        run(env.docker("E1").args([
            "create",
            "--network",
            "none",
            "--name",
            "moved-web-1",
            "--label",
            &format!("com.docker.compose.project={MOVED_PROJECT}"),
            "--label",
            "com.docker.compose.service=web",
            &moved,
            "sleep",
            "100000",
        ]))?;
        run(env
            .docker("E1")
            .args(["tag", env.var("IMG_API_306"), &moved]))?;
        // A bigger project on e2 for the timings: created, never started.
        let images = ["IMG_API_303", "IMG_API_306", "IMG_WORKER", "IMG_LOCAL"];
        let children: Vec<Child> = (0..BULK)
            .map(|i| {
                env.docker("E2")
                    .args(["create", "--network", "none", "--name"])
                    .arg(format!("bulk-svc{i}-1"))
                    .args([
                        "--label",
                        &format!("com.docker.compose.project={BULK_PROJECT}"),
                    ])
                    .args(["--label", &format!("com.docker.compose.service=svc{i}")])
                    .arg(env.var(images[i % images.len()]))
                    .args(["sleep", "100000"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        for mut ch in children {
            let st = ch.wait().map_err(|e| e.to_string())?;
            if !st.success() {
                let mut err = String::new();
                let _ = ch.stderr.take().unwrap().read_to_string(&mut err);
                return Err(format!("docker create (bulk) failed: {err}"));
            }
        }

        // A second sshd that refuses stream-local forwarding: the command fallback for real.
        let obs = env.dir.join("observe");
        std::fs::create_dir_all(&obs).map_err(|e| e.to_string())?;
        let port = free_port();
        let base =
            std::fs::read_to_string(env.dir.join("ssh/sshd_config")).map_err(|e| e.to_string())?;
        let mut cfg = String::new();
        for line in base.lines() {
            let key = line.split_whitespace().next().unwrap_or("");
            cfg.push_str(&match key {
                "Port" => format!("Port {port}"),
                "PidFile" => format!("PidFile {}", obs.join("sshd-nofwd.pid").display()),
                "AllowStreamLocalForwarding" => "AllowStreamLocalForwarding no".into(),
                _ => line.to_owned(),
            });
            cfg.push('\n');
        }
        if !cfg.contains("AllowStreamLocalForwarding no") {
            return Err("the harness's sshd_config has no AllowStreamLocalForwarding line".into());
        }
        let cfg_path = obs.join("sshd_nofwd_config");
        std::fs::write(&cfg_path, cfg).map_err(|e| e.to_string())?;
        let sshd = ["/usr/sbin/sshd", "/sbin/sshd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .ok_or("no sshd")?;
        run(Command::new(sshd).arg("-t").arg("-f").arg(&cfg_path))?;
        let log = std::fs::File::create(obs.join("sshd-nofwd.log")).map_err(|e| e.to_string())?;
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| e.to_string())?;
        self.nofwd_sshd = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("the second sshd did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let env = &self.env;
        let host_key = std::fs::read_to_string(env.dir.join("ssh/host_ed25519.pub"))
            .map_err(|e| e.to_string())?;
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        let known = obs.join("known_hosts");
        std::fs::write(
            &known,
            format!(
                "[127.0.0.1]:{} {}\n[127.0.0.1]:{port} {}\n",
                env.var("SSH_PORT"),
                host_key.join(" "),
                host_key.join(" ")
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(&env.empty_known_hosts, "").map_err(|e| e.to_string())?;
        let mut ssh_config =
            std::fs::read_to_string(env.var("SSH_CONFIG")).map_err(|e| e.to_string())?;
        for (alias, p, kh) in [
            ("e2e-nofwd", port.to_string(), known.clone()),
            (
                "e2e-unknown-key",
                env.var("SSH_PORT").to_owned(),
                env.empty_known_hosts.clone(),
            ),
        ] {
            ssh_config.push_str(&format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {p}\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n\n",
                env.var("SSH_KEY"),
                kh.display()
            ));
        }
        std::fs::write(&env.ssh_config, ssh_config).map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(50));
        self.env.since = now_unix();
        Ok(())
    }
}

impl Parts {
    /// Runs this test binary again, with the same arguments, as the child that runs the tests.
    /// Returns its exit code.
    fn run_tests_in_child(&self) -> i32 {
        let tmp = self.env.dir.join("observe/tmp");
        if let Err(e) = std::fs::create_dir_all(&tmp) {
            eprintln!("realparts: cannot create {}: {e}", tmp.display());
            return 1;
        }
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                eprintln!("realparts: cannot find this test binary: {e}");
                return 1;
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            // Registered before the child starts: the child then gets the default SIGINT
            // disposition even when this process was started with SIGINT ignored (a
            // non-interactive shell's background job), so Ctrl-C stops both.
            let mut interrupt =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("realparts: cannot watch SIGINT: {e}");
                        return 1;
                    }
                };
            let mut child = match tokio::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env(CHILD_DIR, &self.env.dir)
                .env(CHILD_SINCE, &self.env.since)
                .env("TMPDIR", &tmp)
                .spawn()
            {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("realparts: cannot start the test child: {e}");
                    return 1;
                }
            };
            let status = tokio::select! {
                status = child.wait() => status,
                _ = interrupt.recv() => {
                    eprintln!("realparts: interrupted: waiting for the tests to stop, then down");
                    match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
                        Ok(status) => status,
                        Err(_) => {
                            let _ = child.start_kill();
                            child.wait().await
                        }
                    }
                }
            };
            match status {
                Ok(s) => s.code().unwrap_or_else(|| {
                    eprintln!("realparts: the test child was killed by a signal ({s})");
                    101
                }),
                Err(e) => {
                    eprintln!("realparts: waiting for the test child: {e}");
                    101
                }
            }
        })
    }
}

impl Drop for Parts {
    fn drop(&mut self) {
        if let Some(mut child) = self.nofwd_sshd.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let t = Instant::now();
        match Command::new(&self.realparts)
            .arg("down")
            .arg(&self.env.dir)
            .status()
        {
            Ok(s) if s.success() => eprintln!(
                "realparts: down {} in {:.1} s",
                self.env.dir.display(),
                t.elapsed().as_secs_f64()
            ),
            other => eprintln!(
                "realparts: down {} FAILED ({other:?}): run it by hand",
                self.env.dir.display()
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn observe_now(targets: Vec<Target>, project: &str, opts: &Options) -> Vec<HostReport> {
    rt().block_on(observe(targets, project, opts))
}

fn opts() -> Options {
    Options {
        host_timeout: Duration::from_secs(30),
        ..Options::default()
    }
}

/// Records progress events with their time.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Instant, ProgressEvent)>>>);

impl Recorder {
    fn options(&self, base: Options) -> Options {
        let r = self.0.clone();
        Options {
            progress: Some(Arc::new(move |e| {
                r.lock().unwrap().push((Instant::now(), e))
            })),
            ..base
        }
    }
    fn events(&self) -> Vec<(Instant, ProgressEvent)> {
        self.0.lock().unwrap().clone()
    }
    fn finished_at(&self, host: &str) -> Option<Instant> {
        self.events().into_iter().find_map(|(t, e)| match e {
            ProgressEvent::Finished { host: h, .. } if h == host => Some(t),
            _ => None,
        })
    }
    fn fallbacks(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|(_, e)| match e {
                ProgressEvent::Fallback { reason, .. } => Some(reason),
                _ => None,
            })
            .collect()
    }
}

fn ok(r: &HostReport) -> Result<&HostEvidence, Failed> {
    r.outcome
        .as_ref()
        .map_err(|e| format!("{}: {} error: {}", r.host, e.kind, e.message).into())
}

fn check(cond: bool, msg: impl Into<String>) -> Result<(), Failed> {
    if cond { Ok(()) } else { Err(msg.into().into()) }
}

fn eq<T: PartialEq + std::fmt::Debug>(got: T, want: T, what: &str) -> Result<(), Failed> {
    check(got == want, format!("{what}: got {got:?}, want {want:?}"))
}

fn names(ev: &HostEvidence) -> Vec<String> {
    let mut n: Vec<String> = ev.containers.iter().map(|c| c.name.clone()).collect();
    n.sort();
    n
}

/// ssh client processes of this run still alive (not zombies): master or otherwise.
fn live_ssh_processes(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    let dir = env.dir.to_string_lossy().into_owned();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let p = e.path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim() != "ssh" {
            continue;
        }
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
        if matches!(state, Some('Z') | Some('X') | None) {
            continue;
        }
        let cmdline = std::fs::read(p.join("cmdline"))
            .unwrap_or_default()
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        if cmdline.contains(CONTROL_DIR_PREFIX) && cmdline.contains(&dir) {
            out.push(format!("{name}: {cmdline}"));
        }
    }
    out
}

fn assert_no_ssh_left(env: &Env, within: Duration) -> Result<(), Failed> {
    let deadline = Instant::now() + within;
    loop {
        let live = live_ssh_processes(env);
        if live.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("ssh processes left behind: {live:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------------------------
// tests

fn local_transport(env: &Env) -> Result<(), Failed> {
    let r = observe_now(vec![env.local_target("e1", "E1_SOCK")], PROJECT, &opts());
    eq(r.len(), 1, "reports")?;
    eq(r[0].via, Via::Local, "via")?;
    let ev = ok(&r[0])?;
    eq(
        names(ev),
        vec![
            "home-platform-api-1".to_owned(),
            "home-platform-tool-1".into(),
            "home-platform-web-1".into(),
            "home-platform_worker_1".into(),
        ],
        "containers of the project on e1 (not unrelated-1)",
    )?;
    // The docker CLI's own view of the same filter.
    let cli = run(env.docker("E1").args([
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={PROJECT}"),
        "--format",
        "{{.ID}}",
        "--no-trunc",
    ]))?;
    let mut cli_ids: Vec<&str> = cli.lines().collect();
    cli_ids.sort();
    let mut ids: Vec<&str> = ev.containers.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    eq(ids, cli_ids, "container ids vs docker ps")?;
    let want: BTreeMap<&str, (&str, ContainerState, &str, &str)> = [
        (
            "home-platform-web-1",
            ("web", ContainerState::Running, "IMG_WEB", "IMAGE_ID_WEB"),
        ),
        (
            "home-platform-api-1",
            (
                "api",
                ContainerState::Running,
                "IMG_API_306",
                "IMAGE_ID_API_306",
            ),
        ),
        (
            "home-platform_worker_1",
            (
                "worker",
                ContainerState::Running,
                "IMG_WORKER",
                "IMAGE_ID_WORKER",
            ),
        ),
        (
            "home-platform-tool-1",
            (
                "tool",
                ContainerState::Created,
                "IMG_LOCAL",
                "IMAGE_ID_LOCAL_E1",
            ),
        ),
    ]
    .into_iter()
    .collect();
    for c in &ev.containers {
        let (service, state, img, id) = &want[c.name.as_str()];
        eq(
            c.project(),
            Some(PROJECT),
            &format!("{} project label", c.name),
        )?;
        eq(
            c.service(),
            Some(*service),
            &format!("{} service label", c.name),
        )?;
        eq(c.number(), Some(1), &format!("{} container-number", c.name))?;
        check(
            !c.labels.contains_key("org.example.other"),
            "only compose labels are kept",
        )?;
        eq(&c.state, state, &format!("{} state", c.name))?;
        eq(
            c.image_ref.as_str(),
            env.var(img),
            &format!("{} image ref", c.name),
        )?;
        eq(
            c.image_id.as_str(),
            env.var(id),
            &format!("{} image id", c.name),
        )?;
        check(
            ev.image_of(c).is_some(),
            format!("{}: its image is in the evidence", c.name),
        )?;
    }
    eq(ev.images.len(), 4, "images the containers run")?;
    let worker = ev.image(env.var("IMAGE_ID_WORKER")).unwrap();
    eq(
        worker.repo_digests.len(),
        3,
        "worker RepoDigests (mirror, repo, index)",
    )?;
    let reg = env.var("REGISTRY");
    for d in [
        format!(
            "{reg}/aaa-mirror/honcho-worker@{}",
            env.var("DIGEST_WORKER")
        ),
        format!("{reg}/honcho-worker@{}", env.var("DIGEST_WORKER")),
        format!("{reg}/honcho-worker@{}", env.var("DIGEST_WORKER_INDEX")),
    ] {
        check(
            worker.repo_digests.contains(&d),
            format!("worker digests lack {d}"),
        )?;
    }
    let local = ev.image(env.var("IMAGE_ID_LOCAL_E1")).unwrap();
    check(
        local.repo_digests.is_empty(),
        "the local image has no RepoDigests",
    )?;
    env.note(format!(
        "local e1: {} containers in {}",
        ev.containers.len(),
        ms(r[0].elapsed)
    ));
    Ok(())
}

fn local_other_project(env: &Env) -> Result<(), Failed> {
    let r = observe_now(
        vec![env.local_target("e1", "E1_SOCK")],
        "no-such-project",
        &opts(),
    );
    let ev = ok(&r[0])?;
    eq(
        (ev.containers.len(), ev.images.len()),
        (0, 0),
        "an unknown project",
    )
}

fn ssh_forward(env: &Env) -> Result<(), Failed> {
    let rec = Recorder::default();
    let r = observe_now(
        vec![
            env.ssh_target("e1", "e2e-host", "E1_SOCK"),
            env.ssh_target("e2", "e2e-host", "E2_SOCK"),
        ],
        PROJECT,
        &rec.options(opts()),
    );
    let local = observe_now(
        vec![
            env.local_target("e1", "E1_SOCK"),
            env.local_target("e2", "E2_SOCK"),
        ],
        PROJECT,
        &opts(),
    );
    for (i, host) in ["e1", "e2"].into_iter().enumerate() {
        eq(r[i].host.as_str(), host, "target order")?;
        eq(r[i].via, Via::SshForward, &format!("{host} via"))?;
        eq(
            ok(&r[i])?,
            ok(&local[i])?,
            &format!("{host}: ssh forward vs local evidence"),
        )?;
    }
    eq(
        names(ok(&r[1])?),
        vec![
            "home-platform-api-1".to_owned(),
            "home-platform-db-1".into(),
        ],
        "e2 containers",
    )?;
    check(
        rec.fallbacks().is_empty(),
        "no fallback when forwarding is allowed",
    )?;
    env.note(format!(
        "ssh-forward: e1 (4 containers) {}, e2 (2 containers) {} (connect + ping + 2 requests on 2 connections + close)",
        ms(r[0].elapsed),
        ms(r[1].elapsed)
    ));
    assert_no_ssh_left(env, Duration::ZERO)
}

/// A unix-socket proxy in front of an engine socket that counts the connections made to it and
/// records the request line of every request (the crate only sends bodiless GETs, so a request
/// ends at its blank line).
struct CountingProxy {
    path: PathBuf,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl CountingProxy {
    fn start(path: PathBuf, upstream: PathBuf) -> CountingProxy {
        use std::os::unix::net::{UnixListener, UnixStream};
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, r, st) = (connections.clone(), requests.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let upstream = UnixStream::connect(&upstream).unwrap();
                let (mut down_r, mut down_w) = (client.try_clone().unwrap(), client);
                let (mut up_r, mut up_w) = (upstream.try_clone().unwrap(), upstream);
                let requests = r.clone();
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 8192];
                    loop {
                        let n = match down_r.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        head.extend_from_slice(&buf[..n]);
                        while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                            let text = String::from_utf8_lossy(&head[..end]).into_owned();
                            requests
                                .lock()
                                .unwrap()
                                .push(text.lines().next().unwrap_or("").to_owned());
                            head.drain(..end + 4);
                        }
                        if std::io::Write::write_all(&mut up_w, &buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = up_w.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_r, &mut down_w);
                    let _ = down_w.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        CountingProxy {
            path,
            connections,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    /// (connections, request lines) since the last call.
    fn take(&self) -> (usize, Vec<String>) {
        use std::sync::atomic::Ordering;
        (
            self.connections.swap(0, Ordering::SeqCst),
            std::mem::take(&mut *self.requests.lock().unwrap()),
        )
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The acceptance figure on a real engine, counted at the socket: per host one `GET /_ping`,
/// the two lists, then one inspect per project container and one per image they run (config
/// drift, SPEC §9), all at the version the engine named, over two connections for a project of
/// this size (over the forward: two ssh channels).
fn counted_requests(env: &Env) -> Result<(), Failed> {
    let engine_api = run(env
        .docker("E1")
        .args(["version", "--format", "{{.Server.APIVersion}}"]))?;
    let engine_api = engine_api.trim();
    let proxy = CountingProxy::start(
        env.dir.join("observe-counted.sock"),
        PathBuf::from(env.var("E1_SOCK")),
    );
    let sock = proxy.path.to_string_lossy().into_owned();
    let mut over_ssh = env.ssh_target("e1", "e2e-host", "E1_SOCK");
    over_ssh.docker_socket = sock.clone();
    let mut figures = Vec::new();
    for (label, target, via) in [
        ("local", Target::local("e1", sock.as_str()), Via::Local),
        ("ssh-forward", over_ssh, Via::SshForward),
    ] {
        let r = observe_now(vec![target], PROJECT, &opts());
        eq(r[0].via, via, label)?;
        let ev = ok(&r[0])?;
        eq(ev.containers.len(), 4, label)?;
        let mut image_ids: Vec<&str> = ev.containers.iter().map(|c| c.image_id.as_str()).collect();
        image_ids.sort_unstable();
        image_ids.dedup();
        check(
            ev.containers.iter().all(|c| c.config.is_some()),
            format!("{label}: every container's config was read"),
        )?;
        let (connections, mut requests) = proxy.take();
        eq(
            requests.first().map(String::as_str),
            Some("GET /_ping HTTP/1.1"),
            &format!("{label}: the ping comes first"),
        )?;
        requests.sort();
        eq(
            requests.len(),
            3 + 4 + image_ids.len(),
            &format!("{label}: requests {requests:?}"),
        )?;
        let versioned: Vec<&String> = requests
            .iter()
            .filter(|l| l.starts_with("GET /v"))
            .collect();
        check(
            versioned
                .iter()
                .all(|l| l.starts_with(&format!("GET /v{engine_api}/"))),
            format!("{label}: all at the engine's API {engine_api}: {versioned:?}"),
        )?;
        let lists: Vec<&&String> = versioned
            .iter()
            .filter(|l| l.contains("/containers/json?") || l.contains("/images/json?"))
            .collect();
        check(
            lists.len() == 2
                && lists[0].starts_with(&format!(
                    "GET /v{engine_api}/containers/json?all=1&filters="
                ))
                && *lists[1] == &format!("GET /v{engine_api}/images/json?digests=1 HTTP/1.1"),
            format!("{label}: the two lists: {versioned:?}"),
        )?;
        let inspects = |kind: &str| {
            versioned
                .iter()
                .filter(|l| l.contains(kind) && l.ends_with("/json HTTP/1.1"))
                .count()
        };
        eq(
            inspects("/containers/"),
            4,
            &format!("{label}: container inspects"),
        )?;
        eq(
            inspects("/images/sha256"),
            image_ids.len(),
            &format!("{label}: image inspects"),
        )?;
        eq(connections, 2, &format!("{label}: connections"))?;
        figures.push(format!(
            "{label}: {connections} connections, {} requests",
            requests.len()
        ));
    }
    env.note(format!(
        "counted at the socket (engine API {engine_api}): {}",
        figures.join("; ")
    ));
    drop(proxy);
    assert_no_ssh_left(env, Duration::ZERO)
}

fn ssh_fallback(env: &Env) -> Result<(), Failed> {
    let rec = Recorder::default();
    let r = observe_now(
        vec![env.ssh_target("e1", "e2e-nofwd", "E1_SOCK")],
        PROJECT,
        &rec.options(opts()),
    );
    let local = observe_now(vec![env.local_target("e1", "E1_SOCK")], PROJECT, &opts());
    eq(r[0].via, Via::SshCommand, "via")?;
    eq(ok(&r[0])?, ok(&local[0])?, "ssh command vs local evidence")?;
    let fb = rec.fallbacks();
    eq(fb.len(), 1, "one fallback event")?;
    check(
        fb[0].contains("AllowStreamLocalForwarding"),
        format!("the fallback reason names the sshd setting: {}", fb[0]),
    )?;
    let log = std::fs::read_to_string(env.dir.join("observe/sshd-nofwd.log")).unwrap_or_default();
    check(
        log.contains("refused streamlocal port forward"),
        "the second sshd really refused the forward",
    )?;
    env.note(format!(
        "ssh-command (forward refused by sshd, then fallback): e1 (4 containers) {}",
        ms(r[0].elapsed)
    ));
    assert_no_ssh_left(env, Duration::ZERO)
}

fn ssh_command_only(env: &Env) -> Result<(), Failed> {
    let rec = Recorder::default();
    let o = Options {
        ssh_mode: SshMode::CommandOnly,
        ..rec.options(opts())
    };
    let r = observe_now(
        vec![env.ssh_target("e2", "e2e-host", "E2_SOCK")],
        PROJECT,
        &o,
    );
    let local = observe_now(vec![env.local_target("e2", "E2_SOCK")], PROJECT, &opts());
    eq(r[0].via, Via::SshCommand, "via")?;
    eq(ok(&r[0])?, ok(&local[0])?, "ssh command vs local evidence")?;
    check(
        rec.fallbacks().is_empty(),
        "CommandOnly does not try the forward",
    )?;
    assert_no_ssh_left(env, Duration::ZERO)
}

fn ssh_command_empty(env: &Env) -> Result<(), Failed> {
    let r = observe_now(
        vec![env.ssh_target("e1", "e2e-nofwd", "E1_SOCK")],
        "no-such-project",
        &opts(),
    );
    eq(r[0].via, Via::SshCommand, "via")?;
    let ev = ok(&r[0])?;
    eq(
        (ev.containers.len(), ev.images.len()),
        (0, 0),
        "no containers over the command",
    )?;
    assert_no_ssh_left(env, Duration::ZERO)
}

/// Every transport yields the same evidence once the tag a container was created from moved to
/// another image: the Engine API's list then reports the image ID as the container's `Image`,
/// so the API path reads that container's own inspect (`Config.Image`), which is what
/// `docker inspect` gives the command path. Local socket, ssh forward and ssh command agree.
fn tag_moved(env: &Env) -> Result<(), Failed> {
    let api = observe_now(
        vec![env.local_target("e1", "E1_SOCK")],
        MOVED_PROJECT,
        &opts(),
    );
    let fwd = observe_now(
        vec![env.ssh_target("e1", "e2e-host", "E1_SOCK")],
        MOVED_PROJECT,
        &opts(),
    );
    let o = Options {
        ssh_mode: SshMode::CommandOnly,
        ..opts()
    };
    let cli = observe_now(
        vec![env.ssh_target("e1", "e2e-host", "E1_SOCK")],
        MOVED_PROJECT,
        &o,
    );
    eq(fwd[0].via, Via::SshForward, "forward path")?;
    let (api, fwd, cli) = (ok(&api[0])?, ok(&fwd[0])?, ok(&cli[0])?);
    eq(api.containers.len(), 1, "api containers")?;
    eq(cli.containers.len(), 1, "cli containers")?;
    let (a, c) = (&api.containers[0], &cli.containers[0]);
    let moved = format!("{}/moved:1", env.var("REGISTRY"));
    eq(a.image_id.as_str(), env.var("IMAGE_ID_WEB"), "api image id")?;
    eq(c.image_id.as_str(), env.var("IMAGE_ID_WEB"), "cli image id")?;
    eq(
        c.image_ref.as_str(),
        moved.as_str(),
        "cli image ref (Config.Image)",
    )?;
    eq(
        a.image_ref.as_str(),
        moved.as_str(),
        "api image ref (Config.Image from the container's inspect, not the list's image ID)",
    )?;
    eq(api, cli, "api and command evidence")?;
    eq(api, fwd, "local and forwarded evidence")?;
    env.note(format!(
        "tag moved: API, forward and command paths all read image_ref = {moved}"
    ));
    Ok(())
}

fn closed_port(env: &Env) -> Result<(), Failed> {
    let r = observe_now(
        vec![env.ssh_target("closed", "e2e-closed", "E1_SOCK")],
        PROJECT,
        &opts(),
    );
    let e = r[0]
        .outcome
        .as_ref()
        .err()
        .ok_or("a closed port answered")?;
    eq(e.kind, ObserveErrorKind::Unreachable, "kind")?;
    check(e.message.contains("connection refused"), e.message.clone())?;
    check(
        r[0].elapsed < Duration::from_secs(1),
        format!("a closed port fails fast: {:?}", r[0].elapsed),
    )?;
    env.note(format!(
        "closed port: unreachable in {} ({})",
        ms(r[0].elapsed),
        e.message
    ));
    assert_no_ssh_left(env, Duration::ZERO)
}

fn silent_host(env: &Env) -> Result<(), Failed> {
    let rec = Recorder::default();
    let mut silent = env.ssh_target("silent", "e2e-silent", "E1_SOCK");
    silent.connect_timeout = Duration::from_secs(2);
    let t = Instant::now();
    let r = observe_now(
        vec![
            silent,
            env.local_target("e1", "E1_SOCK"),
            env.ssh_target("e2", "e2e-host", "E2_SOCK"),
        ],
        PROJECT,
        &rec.options(opts()),
    );
    let wall = t.elapsed();
    eq(
        r.iter().map(|r| r.host.as_str()).collect::<Vec<_>>(),
        vec!["silent", "e1", "e2"],
        "reports in target order",
    )?;
    let e = r[0]
        .outcome
        .as_ref()
        .err()
        .ok_or("the silent host answered")?;
    eq(e.kind, ObserveErrorKind::Timeout, "kind")?;
    eq(
        e.message.as_str(),
        "ssh to silent timed out after 2 s (connect_timeout_s)",
        "message",
    )?;
    check(
        r[0].elapsed >= Duration::from_millis(1800) && r[0].elapsed < Duration::from_millis(3500),
        format!(
            "the silent host costs its connect timeout: {:?}",
            r[0].elapsed
        ),
    )?;
    ok(&r[1])?;
    ok(&r[2])?;
    for i in [1, 2] {
        check(
            rec.finished_at(&r[i].host).unwrap() < rec.finished_at("silent").unwrap(),
            format!("{} finished before the silent host", r[i].host),
        )?;
    }
    check(
        wall < r[0].elapsed + Duration::from_millis(500),
        format!("wall {wall:?} ≈ the slowest host {:?}", r[0].elapsed),
    )?;
    env.note(format!(
        "silent host: timeout in {} (connect_timeout 2 s); e1 local {} and e2 ssh {} arrived first; wall {}",
        ms(r[0].elapsed),
        ms(r[1].elapsed),
        ms(r[2].elapsed),
        ms(wall)
    ));
    assert_no_ssh_left(env, Duration::ZERO)
}

fn parallel_hosts(env: &Env) -> Result<(), Failed> {
    let targets = || {
        let mut s1 = env.ssh_target("silent-a", "e2e-silent", "E1_SOCK");
        s1.connect_timeout = Duration::from_secs(2);
        let mut s2 = env.ssh_target("silent-b", "e2e-silent", "E2_SOCK");
        s2.connect_timeout = Duration::from_secs(2);
        vec![s1, s2, env.ssh_target("e1", "e2e-host", "E1_SOCK")]
    };
    let t = Instant::now();
    let r = observe_now(targets(), PROJECT, &opts());
    let wall = t.elapsed();
    let sum: Duration = r.iter().map(|r| r.elapsed).sum();
    let max = r.iter().map(|r| r.elapsed).max().unwrap();
    ok(&r[2])?;
    check(
        wall < max + Duration::from_millis(500) && wall < sum,
        format!("parallel: wall {wall:?}, max {max:?}, sum {sum:?}"),
    )?;
    let t = Instant::now();
    let serial = observe_now(
        targets(),
        PROJECT,
        &Options {
            concurrency: 1,
            ..opts()
        },
    );
    let serial_wall = t.elapsed();
    ok(&serial[2])?;
    check(
        serial_wall >= Duration::from_millis(3600),
        format!("concurrency 1 runs the hosts one by one: {serial_wall:?}"),
    )?;
    env.note(format!(
        "parallel: 2 silent hosts (2 s each) + e1 over ssh: wall {} (max {}, sum {}); with concurrency 1: {}",
        ms(wall),
        ms(max),
        ms(sum),
        ms(serial_wall)
    ));
    assert_no_ssh_left(env, Duration::ZERO)
}

fn host_timeout_kills_ssh(env: &Env) -> Result<(), Failed> {
    let mut silent = env.ssh_target("silent", "e2e-silent", "E1_SOCK");
    silent.connect_timeout = Duration::from_secs(30);
    let o = Options {
        host_timeout: Duration::from_secs(1),
        ..Options::default()
    };
    let runtime = rt();
    let r = runtime.block_on(async {
        let r = observe(vec![silent.clone()], PROJECT, &o).await;
        // Right after the timeout, while the runtime still runs: ssh must be gone already.
        (r, live_ssh_processes(env))
    });
    let (r, live_right_after) = r;
    let e = r[0]
        .outcome
        .as_ref()
        .err()
        .ok_or("the silent host answered")?;
    eq(e.kind, ObserveErrorKind::Timeout, "kind")?;
    check(
        e.message.contains("host timeout") && e.message.contains("connecting over ssh"),
        e.message.clone(),
    )?;
    check(
        r[0].elapsed >= Duration::from_millis(950) && r[0].elapsed < Duration::from_millis(1500),
        format!("host_timeout 1 s: {:?}", r[0].elapsed),
    )?;
    assert_no_ssh_left(env, Duration::from_millis(500)).map_err(|f| {
        Failed::from(format!(
            "{} (right after the timeout: {live_right_after:?})",
            f.message().unwrap_or("")
        ))
    })?;
    // Cancelling the observe future itself (a caller's own timeout) kills ssh too.
    let cancelled = runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_millis(500),
            observe(vec![silent], PROJECT, &Options::default()),
        )
        .await
        .is_err()
    });
    check(cancelled, "the outer timeout fired")?;
    drop(runtime);
    assert_no_ssh_left(env, Duration::from_millis(500))?;
    env.note(format!(
        "host_timeout 1 s on a silent host with connect_timeout 30 s: timeout after {}, ssh killed ({} live right after)",
        ms(r[0].elapsed),
        live_right_after.len()
    ));
    Ok(())
}

fn unsafe_inputs(env: &Env) -> Result<(), Failed> {
    let marker = env.dir.join("observe/pwned");
    let m = marker.display().to_string();
    let rec = Recorder::default();
    let o = rec.options(opts());
    for project in [
        format!("home-platform; touch {m}"),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x' ; touch {m}; '"),
        "Home-Platform".into(),
        String::new(),
    ] {
        let r = observe_now(
            vec![
                env.local_target("e1", "E1_SOCK"),
                env.ssh_target("e2", "e2e-host", "E2_SOCK"),
            ],
            &project,
            &o,
        );
        for h in &r {
            let e = h
                .outcome
                .as_ref()
                .err()
                .ok_or("an unsafe project was observed")?;
            eq(
                e.kind,
                ObserveErrorKind::Invalid,
                &format!("{project:?} kind"),
            )?;
            eq(h.elapsed, Duration::ZERO, "refused before anything ran")?;
        }
    }
    check(rec.events().is_empty(), "no host was even started")?;
    let mut bad_socket = env.ssh_target("e2", "e2e-host", "E2_SOCK");
    bad_socket.docker_socket = format!("{};touch {m}", env.var("E2_SOCK"));
    let mut bad_local = env.local_target("e1", "E1_SOCK");
    bad_local.docker_socket = format!("/tmp/$(touch {m})");
    let mut bad_dest = env.ssh_target("e3", "e2e-host", "E1_SOCK");
    bad_dest.kind = TargetKind::Ssh {
        destination: format!("-oProxyCommand=touch {m}"),
        config_file: Some(env.ssh_config.clone()),
    };
    let r = observe_now(
        vec![
            bad_socket,
            bad_local,
            bad_dest,
            env.local_target("good", "E1_SOCK"),
        ],
        PROJECT,
        &o,
    );
    for h in &r[..3] {
        let e = h
            .outcome
            .as_ref()
            .err()
            .ok_or("an unsafe target was observed")?;
        eq(
            e.kind,
            ObserveErrorKind::Invalid,
            &format!("{} kind", h.host),
        )?;
        check(e.message.contains("nothing was run"), e.message.clone())?;
    }
    ok(&r[3])?;
    let started: Vec<String> = rec
        .events()
        .into_iter()
        .filter_map(|(_, e)| match e {
            ProgressEvent::Started { host } => Some(host),
            _ => None,
        })
        .collect();
    eq(
        started,
        vec!["good".to_owned()],
        "only the valid host started",
    )?;
    check(!marker.exists(), "an injected command ran")?;
    assert_no_ssh_left(env, Duration::ZERO)
}

fn unknown_host_key(env: &Env) -> Result<(), Failed> {
    let r = observe_now(
        vec![env.ssh_target("stranger", "e2e-unknown-key", "E1_SOCK")],
        PROJECT,
        &opts(),
    );
    let e = r[0]
        .outcome
        .as_ref()
        .err()
        .ok_or("an unknown host key was accepted")?;
    eq(e.kind, ObserveErrorKind::Refused, "kind")?;
    check(
        e.message
            .contains("host key verification failed: check known_hosts"),
        e.message.clone(),
    )?;
    let kh = std::fs::read_to_string(&env.empty_known_hosts)?;
    eq(
        kh.as_str(),
        "",
        "known_hosts was not written (no accept-new)",
    )?;
    env.note(format!("unknown host key: {}", e.message));
    assert_no_ssh_left(env, Duration::ZERO)
}

fn blocking(env: &Env) -> Result<(), Failed> {
    let o = Options {
        concurrency: 0,
        ..opts()
    };
    let r = observe_blocking(
        vec![
            env.local_target("e1", "E1_SOCK"),
            env.ssh_target("e2", "e2e-host", "E2_SOCK"),
        ],
        PROJECT,
        &o,
    )?;
    ok(&r[0])?;
    ok(&r[1])?;
    let inside = rt().block_on(async { observe_blocking(vec![], PROJECT, &o).is_err() });
    check(inside, "observe_blocking refuses to run inside a runtime")?;
    assert_no_ssh_left(env, Duration::ZERO)
}

fn timings(env: &Env) -> Result<(), Failed> {
    const RUNS: usize = 5;
    let command_only = Options {
        ssh_mode: SshMode::CommandOnly,
        ..opts()
    };
    let cases: Vec<(&str, &str, Target, &Options, Via)> = vec![
        (
            "local",
            PROJECT,
            env.local_target("e1", "E1_SOCK"),
            &OPTS,
            Via::Local,
        ),
        (
            "ssh-forward",
            PROJECT,
            env.ssh_target("e1", "e2e-host", "E1_SOCK"),
            &OPTS,
            Via::SshForward,
        ),
        (
            "ssh-command (CommandOnly)",
            PROJECT,
            env.ssh_target("e1", "e2e-host", "E1_SOCK"),
            &command_only,
            Via::SshCommand,
        ),
        (
            "ssh-command (refused forward, fallback)",
            PROJECT,
            env.ssh_target("e1", "e2e-nofwd", "E1_SOCK"),
            &OPTS,
            Via::SshCommand,
        ),
        (
            "local",
            BULK_PROJECT,
            env.local_target("e2", "E2_SOCK"),
            &OPTS,
            Via::Local,
        ),
        (
            "ssh-forward",
            BULK_PROJECT,
            env.ssh_target("e2", "e2e-host", "E2_SOCK"),
            &OPTS,
            Via::SshForward,
        ),
        (
            "ssh-command (CommandOnly)",
            BULK_PROJECT,
            env.ssh_target("e2", "e2e-host", "E2_SOCK"),
            &command_only,
            Via::SshCommand,
        ),
        (
            "ssh-command (refused forward, fallback)",
            BULK_PROJECT,
            env.ssh_target("e2", "e2e-nofwd", "E2_SOCK"),
            &OPTS,
            Via::SshCommand,
        ),
    ];
    let runtime = rt();
    for (label, project, target, o, via) in cases {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..RUNS {
            let r = runtime.block_on(observe(vec![target.clone()], project, o));
            eq(r[0].via, via, label)?;
            n = ok(&r[0])?.containers.len();
            times.push(r[0].elapsed);
        }
        env.note(format!(
            "timing {label:<40} host {} ({n:>2} containers): median {}, min {} over {RUNS} runs",
            target.host,
            ms(median(times.clone())),
            ms(*times.iter().min().unwrap())
        ));
    }
    // For scale: a plain `ssh host true` (connect, authenticate, run, close).
    let mut plain = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        run(Command::new("ssh")
            .arg("-F")
            .arg(&env.ssh_config)
            .args(["e2e-host", "true"]))?;
        plain.push(t.elapsed());
    }
    env.note(format!(
        "timing reference: `ssh e2e-host true` median {}",
        ms(median(plain))
    ));
    assert_no_ssh_left(env, Duration::ZERO)
}

static OPTS: std::sync::LazyLock<Options> = std::sync::LazyLock::new(opts);

fn no_engine_events(env: &Env) -> Result<(), Failed> {
    let until = now_unix();
    let mut summary = Vec::new();
    for engine in ["E1", "E2"] {
        let out = run(env.docker(engine).args([
            "events",
            "--since",
            &env.since,
            "--until",
            &until,
            "--format",
            "{{json .}}",
        ]))?;
        let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in out.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let ty = v["Type"].as_str().unwrap_or("?").to_owned();
            let action = v["Action"].as_str().unwrap_or("?").to_owned();
            by_type.entry(ty).or_default().push(action);
        }
        for ty in ["container", "image", "network", "volume"] {
            if let Some(actions) = by_type.get(ty) {
                return Err(
                    format!("{engine}: {ty} events during observation: {actions:?}").into(),
                );
            }
        }
        summary.push(format!(
            "{engine}: {} events {by_type:?}",
            out.lines().count()
        ));
    }
    // Positive control, after the window: the same query does see a change when there is one.
    std::thread::sleep(Duration::from_millis(20));
    let control_since = now_unix();
    run(env.docker("E1").args([
        "create",
        "--network",
        "none",
        "--name",
        "events-control",
        env.var("IMG_LOCAL"),
        "true",
    ]))?;
    let out = run(env.docker("E1").args([
        "events",
        "--since",
        &control_since,
        "--until",
        &now_unix(),
        "--format",
        "{{json .}}",
    ]))?;
    check(
        out.contains("\"Action\":\"create\"") && out.contains("events-control"),
        format!("the events query missed a real change: {out}"),
    )?;
    env.note(format!(
        "docker events {}..{}: {} (positive control after the window: the create of events-control was seen)",
        env.since,
        until,
        summary.join("; ")
    ));
    Ok(())
}

fn no_leftovers(env: &Env) -> Result<(), Failed> {
    assert_no_ssh_left(env, Duration::from_millis(200))?;
    let new: Vec<PathBuf> = control_dirs()
        .difference(&env.control_dirs_before)
        .cloned()
        .collect();
    check(
        new.is_empty(),
        format!("control directories left behind: {new:?}"),
    )
}
