//! `workplan status|lint` and `hub sync|check|human|checkpoint` through the binary (issue 4).
//!
//! A libtest-mimic harness (`harness = false`): the hub scenarios are registered twice,
//! `sqlite::NAME` and `postgres::NAME`, and run the same code against an SQLite file and
//! against a real PostgreSQL server (Debian's `postgresql`, installed by
//! `scripts/e2e/install-pg.sh`) that this binary starts itself — `initdb` into a temporary
//! folder, `postgres` on 127.0.0.1 and a private socket folder, as an unprivileged user when
//! run as root — and stops by its pid at the end. One database per scenario. Both backends
//! compare against the same snapshots. Without PostgreSQL binaries the postgres scenarios
//! fail under CI (or with PLATFORMCTL_PG_REQUIRED set) and are ignored otherwise, with the
//! reason on stderr — never reported as passed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use platformctl_hub::{HistoryQuery, HubUrl, Store};
use serde_json::Value;
use support::{assert_no_panic, bin, example, json};

const NOW: &str = "2026-06-10T08:00:00.000Z";
const LATER: &str = "2026-06-11T09:30:00.000Z";

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL server.

struct Pg {
    dir: PathBuf,
    child: Mutex<Option<Child>>,
    port: u16,
    password: String,
    next_db: AtomicUsize,
}

fn run_ok(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn pg_bindir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PLATFORMCTL_PG_BINDIR") {
        return Some(PathBuf::from(d));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Pg {
    fn start() -> Result<Pg, String> {
        let bindir = pg_bindir().ok_or(
            "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); run scripts/e2e/install-pg.sh",
        )?;
        let dir = tempfile::Builder::new()
            .prefix("pchub-")
            .tempdir_in("/tmp")
            .map_err(|e| e.to_string())?
            .keep();
        let password = format!("pw-{}-secret", std::process::id());
        std::fs::write(dir.join("pw"), &password).map_err(|e| e.to_string())?;
        // PostgreSQL refuses to run as root: run it as the `postgres` user then.
        let as_user: Vec<String> = if is_root() {
            let uid = run_ok(Command::new("id").args(["-u", "postgres"]))
                .map_err(|e| format!("no `postgres` user to run the server as: {e}"))?;
            let gid = run_ok(Command::new("id").args(["-g", "postgres"]))?;
            run_ok(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:postgres")
                    .arg(&dir),
            )?;
            vec![
                "setpriv".into(),
                format!("--reuid={}", String::from_utf8_lossy(&uid.stdout).trim()),
                format!("--regid={}", String::from_utf8_lossy(&gid.stdout).trim()),
                "--clear-groups".into(),
                "--".into(),
            ]
        } else {
            Vec::new()
        };
        let cmd = |prog: &str| {
            let mut c = if as_user.is_empty() {
                Command::new(bindir.join(prog))
            } else {
                let mut c = Command::new(&as_user[0]);
                c.args(&as_user[1..]).arg(bindir.join(prog));
                c
            };
            c.env_remove("PGDATA").env("LC_ALL", "C");
            c
        };
        run_ok(
            cmd("initdb")
                .arg("-D")
                .arg(dir.join("data"))
                .args(["-U", "platformctl", "-E", "UTF8", "--no-sync"])
                .arg(format!("--pwfile={}", dir.join("pw").display()))
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"]),
        )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let log = std::fs::File::create(dir.join("log")).map_err(|e| e.to_string())?;
        let child = cmd("postgres")
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-k")
            .arg(&dir)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "max_connections=60"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        let pg = Pg {
            dir,
            child: Mutex::new(Some(child)),
            port,
            password,
            next_db: AtomicUsize::new(0),
        };
        let started = Instant::now();
        loop {
            match postgres::Client::connect(&pg.url("postgres"), postgres::NoTls) {
                Ok(_) => break,
                Err(e) if started.elapsed() > Duration::from_secs(30) => {
                    let log = std::fs::read_to_string(pg.dir.join("log")).unwrap_or_default();
                    pg.stop();
                    return Err(format!("postgres did not come up: {e}\n{log}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        Ok(pg)
    }

    fn url(&self, db: &str) -> String {
        format!(
            "postgres://platformctl:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// A fresh, empty database.
    fn new_db(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("hub_{n}");
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("admin connection");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(&name)
    }

    /// Stops the server by its pid (fast shutdown), and removes its folder.
    fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static PG: OnceLock<Result<Pg, String>> = OnceLock::new();

fn pg() -> Result<&'static Pg, Failed> {
    PG.get_or_init(Pg::start)
        .as_ref()
        .map_err(|e| Failed::from(format!("PostgreSQL: {e}")))
}

// ---------------------------------------------------------------------------------------------
// One scenario's world: a repo copied from the example, and an empty hub.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

struct World {
    dir: tempfile::TempDir,
    hub: String,
}

impl World {
    fn new(backend: Backend) -> Result<World, Failed> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        copy_workplans(
            &example("home-platform/workplans"),
            &dir.path().join("home-platform/workplans"),
        );
        let hub = match backend {
            Backend::Sqlite => format!("sqlite:{}", dir.path().join("state/hub.sqlite3").display()),
            Backend::Postgres => pg()?.new_db(),
        };
        Ok(World { dir, hub })
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn repo(&self) -> PathBuf {
        self.root().join("home-platform")
    }

    fn wp(&self, name: &str) -> PathBuf {
        self.repo().join("workplans").join(name)
    }

    fn cmd(&self, now: &str) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(self.root())
            .env("PLATFORMCTL_HUB", &self.hub)
            .env("PLATFORMCTL_ACTOR", "tester")
            .env("PLATFORMCTL_NOW", now)
            .env_remove("PLATFORMCTL_HUB_TEST_PAUSE");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_at(NOW, args)
    }

    fn run_at(&self, now: &str, args: &[&str]) -> Output {
        let out = self.cmd(now).args(args).output().expect("runs");
        assert_no_panic(&out);
        out
    }

    fn store(&self) -> Box<dyn Store> {
        platformctl_hub::open(&HubUrl::parse(&self.hub).unwrap()).expect("hub opens")
    }

    /// The binary started in the background (for kills and concurrency).
    fn spawn(&self, args: &[&str], pause: Option<&str>) -> Child {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("platformctl"));
        c.current_dir(self.root())
            .args(args)
            .env_remove("PLATFORM_ROOT")
            .env("NO_COLOR", "1")
            .env("PLATFORMCTL_HUB", &self.hub)
            .env("PLATFORMCTL_ACTOR", "tester")
            .env("PLATFORMCTL_NOW", NOW)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match pause {
            Some(p) => c.env("PLATFORMCTL_HUB_TEST_PAUSE", p),
            None => c.env_remove("PLATFORMCTL_HUB_TEST_PAUSE"),
        };
        c.spawn().expect("spawns")
    }
}

fn copy_workplans(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Output made comparable across runs and backends: UUIDs (except the example's own ids,
/// which are stable) and hub locations replaced.
fn redact(s: &str) -> String {
    let hub = regex::Regex::new(r"(sqlite:|postgres://)\S+").unwrap();
    let s = hub.replace_all(s, "[HUB]");
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
            .unwrap();
    let known: BTreeSet<String> = example_ids();
    uuid.replace_all(&s, |c: &regex::Captures<'_>| {
        if known.contains(&c[0]) {
            c[0].to_string()
        } else {
            "[NEW-UUID]".to_string()
        }
    })
    .into_owned()
}

/// The ids the example workplans already carry.
fn example_ids() -> BTreeSet<String> {
    let re = regex::Regex::new(r#"state_hub_(?:workstream|task)_id: "([0-9a-f-]{36})""#).unwrap();
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(example("home-platform/workplans"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for c in re.captures_iter(&text) {
            out.insert(c[1].to_string());
        }
    }
    out
}

/// Every `state_hub_*_id` a repo's files carry, with the key they belong to (the workplan's
/// `id:` for the frontmatter, the task's `id:` for a block).
fn file_ids(repo: &Path) -> BTreeMap<String, String> {
    let scan = platformctl_hub::scan(&[platformctl_hub::Repo::new(repo).unwrap()]).unwrap();
    let mut out = BTreeMap::new();
    for f in &scan.files {
        let wp = &f.workplan;
        if let (Some(k), Some(id)) = (&wp.id, &wp.state_hub_workstream_id) {
            assert!(out.insert(k.clone(), id.clone()).is_none(), "key {k} twice");
        }
        for t in &wp.tasks {
            if let (Some(k), Some(id)) = (&t.id, &t.state_hub_task_id) {
                assert!(out.insert(k.clone(), id.clone()).is_none(), "key {k} twice");
            }
        }
    }
    out
}

/// The hub's live rows, key → id, asserting that no key is registered twice.
fn hub_ids(store: &mut dyn Store) -> BTreeMap<String, String> {
    let st = store.read().unwrap();
    let mut out = BTreeMap::new();
    for w in st.workstreams.iter().filter(|w| w.removed_at.is_none()) {
        assert!(
            out.insert(w.workplan_id.clone(), w.id.to_string())
                .is_none(),
            "workstream {} registered twice",
            w.workplan_id
        );
    }
    for t in st.tasks.iter().filter(|t| t.removed_at.is_none()) {
        assert!(
            out.insert(t.task_key.clone(), t.id.to_string()).is_none(),
            "task {} registered twice",
            t.task_key
        );
    }
    out
}

/// Files and hub agree, and every workplan and task of the example is registered once.
fn assert_consistent(w: &World) {
    let files = file_ids(&w.repo());
    let hub = hub_ids(w.store().as_mut());
    assert_eq!(files.len(), 82, "17 workplans + 65 tasks carry ids");
    assert_eq!(files, hub, "file ids = hub ids");
    let out = w.run(&["hub", "check", "home-platform", "--json"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

/// The lines of `new` that are not in `old`, asserting that the rest is byte-identical.
fn inserted_lines(old: &str, new: &str) -> Vec<String> {
    let o: Vec<&str> = old.split_inclusive('\n').collect();
    let n: Vec<&str> = new.split_inclusive('\n').collect();
    let mut added = Vec::new();
    let mut i = 0;
    for line in &n {
        if i < o.len() && o[i] == *line {
            i += 1;
        } else {
            added.push((*line).to_string());
        }
    }
    assert_eq!(i, o.len(), "every original line kept, in order");
    added
}

// ---------------------------------------------------------------------------------------------
// Scenarios on both backends.

fn first_sync_registers_and_writes_ids(b: Backend) -> Result<(), Failed> {
    let w = World::new(b)?;
    let out = w.run(&["hub", "check", "home-platform"]);
    assert_eq!(code(&out), 1);
    let doc = json(&w.run(&["hub", "check", "home-platform", "--json"]));
    assert_eq!(doc["schema"], "platformctl/hub-check/v1");
    assert_eq!(doc["exitCode"], 1);
    assert_eq!(doc["summary"]["byCode"]["C-11"], 82, "{doc:#}");

    let plan = w.run(&["hub", "sync", "home-platform", "--plan"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    let before: BTreeMap<PathBuf, Vec<u8>> = std::fs::read_dir(w.repo().join("workplans"))
        .unwrap()
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    assert!(
        hub_ids(w.store().as_mut()).is_empty(),
        "--plan writes nothing"
    );

    let out = w.run(&["hub", "sync", "home-platform"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    insta::assert_snapshot!("hub_sync_first", redact(&stdout(&out)));

    // Only `state_hub_*_id` lines were added, with the block's own line ends.
    let id_line = regex::Regex::new(
        r#"^state_hub_(workstream|task)_id: "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\r?\n$"#,
    )
    .unwrap();
    let mut added = 0;
    for (path, old) in &before {
        let new = std::fs::read(path).unwrap();
        let (old, new) = (
            String::from_utf8(old.clone()).unwrap(),
            String::from_utf8(new).unwrap(),
        );
        for l in inserted_lines(&old, &new) {
            assert!(
                id_line.is_match(&l),
                "{}: unexpected line {l:?}",
                path.display()
            );
            assert_eq!(l.ends_with("\r\n"), old.contains("\r\n"), "line ends kept");
            added += 1;
        }
    }
    assert_eq!(added, 27);
    assert_consistent(&w);
    // The example's own ids were adopted as they are.
    let hub = hub_ids(w.store().as_mut());
    assert_eq!(hub["OPS-WP-0007"], "611b1f37-9b58-4e0e-b599-74576406fb3a");
    assert_eq!(
        hub["OPS-WP-0007-T01"],
        "789b9d63-520e-4892-9d71-4ecd47585ca4"
    );

    // A second sync has nothing to do and writes no history.
    let n = w.store().history(&HistoryQuery::default()).unwrap().len();
    let again = w.run(&["hub", "sync", "home-platform", "--json"]);
    assert_eq!(code(&again), 0);
    let doc = json(&again);
    assert_eq!(doc["schema"], "platformctl/hub-sync/v1");
    assert_eq!(doc["summary"]["created"], 0);
    assert_eq!(doc["summary"]["updated"], 0);
    assert_eq!(doc["summary"]["idsToWrite"], 0);
    assert_eq!(
        w.store().history(&HistoryQuery::default()).unwrap().len(),
        n
    );
    Ok(())
}

fn round_trip_status_edit(b: Backend) -> Result<(), Failed> {
    let w = World::new(b)?;
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    let f = w.wp("OPS-WP-0007-backup-restore-drills.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let edited = text.replacen(
        "id: OPS-WP-0007-T01\nstatus: progress\n",
        "id: OPS-WP-0007-T01\nstatus: done\n",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&f, edited).unwrap();

    let out = w.run(&["hub", "check", "home-platform"]);
    assert_eq!(code(&out), 1);
    insta::assert_snapshot!("hub_check_c10", redact(&stdout(&out)));
    let plan = w.run(&["hub", "sync", "home-platform", "--plan"]);
    assert_eq!(code(&plan), 0);
    insta::assert_snapshot!("hub_sync_plan_c10", redact(&stdout(&plan)));

    let out = w.run_at(LATER, &["hub", "sync", "home-platform"]);
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!("hub_sync_c10", redact(&stdout(&out)));
    assert_consistent(&w);
    let hist = w
        .store()
        .history(&HistoryQuery {
            since: Some(LATER.into()),
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(hist.len(), 1, "{hist:#?}");
    let h = &hist[0];
    assert_eq!(
        (
            h.entity_key.as_str(),
            h.field.as_str(),
            h.old.as_deref(),
            h.new.as_deref()
        ),
        ("OPS-WP-0007-T01", "status", Some("progress"), Some("done"))
    );
    assert_eq!((h.actor.as_str(), h.at.as_str()), ("tester", LATER));
    Ok(())
}

fn deleted_file_is_an_orphan(b: Backend) -> Result<(), Failed> {
    let w = World::new(b)?;
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    std::fs::remove_file(w.wp("OPS-WP-0023-redis-to-valkey.md")).unwrap();
    // A task removed from a file is an orphan too.
    let f = w.wp("OPS-WP-0007-backup-restore-drills.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let cut = text
        .find("## Task: Write the restore runbook page")
        .unwrap();
    std::fs::write(&f, &text[..cut]).unwrap();

    let out = w.run(&["hub", "check", "home-platform"]);
    assert_eq!(code(&out), 1);
    insta::assert_snapshot!("hub_check_c12", redact(&stdout(&out)));
    let doc = json(&w.run(&["hub", "check", "home-platform", "--json"]));
    let c12: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "C-12")
        .collect();
    assert_eq!(c12.len(), 2, "{doc:#}");
    let msg = c12
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect::<String>();
    assert!(msg.contains("repo `home-platform`"), "{msg}");
    assert!(
        msg.contains("workplans/OPS-WP-0023-redis-to-valkey.md"),
        "{msg}"
    );

    // A plain sync keeps orphans (and says so); --prune retires them, with history.
    let out = w.run(&["hub", "sync", "home-platform"]);
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains("orphan workstream OPS-WP-0023"),
        "{}",
        stdout(&out)
    );
    assert_eq!(code(&w.run(&["hub", "check", "home-platform"])), 1);
    let out = w.run_at(LATER, &["hub", "sync", "home-platform", "--prune"]);
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!("hub_sync_prune", redact(&stdout(&out)));
    let out = w.run(&["hub", "check", "home-platform"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let hist = w
        .store()
        .history(&HistoryQuery {
            since: Some(LATER.into()),
            field: Some("removed_at".into()),
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(
        hist.len(),
        5,
        "1 workstream + 3 of its tasks + 1 task: {hist:#?}"
    );
    // Restoring the file brings the rows back (same ids, from the file).
    std::fs::copy(
        example("home-platform/workplans/OPS-WP-0023-redis-to-valkey.md"),
        w.wp("OPS-WP-0023-redis-to-valkey.md"),
    )
    .unwrap();
    let out = w.run(&["hub", "sync", "home-platform"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("removed_at"), "{}", stdout(&out));
    Ok(())
}

fn two_syncs_at_once_lose_nothing(b: Backend) -> Result<(), Failed> {
    // The same repo, twice at once; each holds the lock a while so that they overlap.
    let w = World::new(b)?;
    let a = w.spawn(&["hub", "sync", "home-platform"], Some("locked:300"));
    let c = w.spawn(&["hub", "sync", "home-platform"], Some("locked:300"));
    for child in [a, c] {
        let out = child.wait_with_output().unwrap();
        assert_no_panic(&out);
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    }
    assert_consistent(&w);
    let hist = w
        .store()
        .history(&HistoryQuery {
            field: Some("created".into()),
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(hist.len(), 82, "each row created once");

    // Two repos into one hub at once: both land.
    let other = w.root().join("other-repo/workplans");
    std::fs::create_dir_all(&other).unwrap();
    for i in 1..=5 {
        std::fs::write(
            other.join(format!("OTH-WP-{i:04}.md")),
            format!(
                "---\nid: OTH-WP-{i:04}\ntitle: other {i}\nstatus: active\n---\n\
                 ## Task: one\n```task\nid: OTH-WP-{i:04}-T01\nstatus: todo\n```\n"
            ),
        )
        .unwrap();
    }
    std::fs::remove_file(w.wp("OPS-WP-0021-paperless-ocr-backfill.md")).unwrap();
    let a = w.spawn(&["hub", "sync", "other-repo"], Some("locked:200"));
    let c = w.spawn(
        &["hub", "sync", "home-platform", "--prune"],
        Some("locked:200"),
    );
    for child in [a, c] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    }
    let st = w.store().read().unwrap();
    let live = |repo: &str| {
        st.workstreams
            .iter()
            .filter(|x| x.repo == repo && x.removed_at.is_none())
            .count()
    };
    assert_eq!((live("home-platform"), live("other-repo")), (16, 5));
    let out = w.run(&["hub", "check", "home-platform", "other-repo"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    Ok(())
}

/// Waits until the child writes the pause marker on stderr (the rest of stderr is drained).
fn wait_for_pause(child: &mut Child, point: &str) {
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(err).lines();
        while let Some(Ok(l)) = lines.next() {
            let _ = tx.send(l);
        }
    });
    let t = Instant::now();
    let marker = format!("test pause at {point}");
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l.contains(&marker) => return,
            Ok(_) => {}
            Err(e) => panic!("no pause at {point} after {:?}: {e}", t.elapsed()),
        }
    }
}

fn killed_sync_is_repaired(b: Backend) -> Result<(), Failed> {
    for point in [
        "locked",
        "file-written",
        "files-written",
        "rows-written",
        "committed",
    ] {
        let w = World::new(b)?;
        let mut child = w.spawn(&["hub", "sync", "home-platform"], Some(point));
        wait_for_pause(&mut child, point);
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();

        // Whatever was written is whole: every file still parses and lints clean, and the
        // ids it carries are a subset of what the sync meant to write.
        let lint = w.run(&["workplan", "lint", "home-platform"]);
        assert_eq!(code(&lint), 0, "{point}: {}", stdout(&lint));
        let leftovers: Vec<String> = std::fs::read_dir(w.repo().join("workplans"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".md"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{point}: temporary files left: {leftovers:?}"
        );
        let files = file_ids(&w.repo());
        let hub = hub_ids(w.store().as_mut());

        // `hub check` explains the state: only C-11 (and nothing after the commit).
        let doc = json(&w.run(&["hub", "check", "home-platform", "--json"]));
        let codes: BTreeSet<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        match point {
            "committed" => {
                assert_eq!(doc["exitCode"], 0, "{point}: {doc:#}");
                assert_eq!(files, hub);
            }
            _ => {
                assert!(hub.is_empty(), "{point}: nothing committed");
                assert_eq!(
                    codes,
                    BTreeSet::from(["C-11".to_string()]),
                    "{point}: {doc:#}"
                );
            }
        }
        if point == "file-written" {
            assert!(
                files.len() > 55 && files.len() < 82,
                "{point}: one file written: {}",
                files.len()
            );
            let carries = doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    f["message"]
                        .as_str()
                        .unwrap()
                        .contains("which the hub does not have")
                })
                .count();
            assert_eq!(
                carries,
                files.len(),
                "{point}: every id a file carries is explained"
            );
        }
        // The next sync repairs it, keeping every id already in a file.
        let out = w.run(&["hub", "sync", "home-platform"]);
        assert_eq!(code(&out), 0, "{point}: {}{}", stdout(&out), stderr(&out));
        assert_consistent(&w);
        let after = file_ids(&w.repo());
        for (k, id) in &files {
            assert_eq!(after.get(k), Some(id), "{point}: {k} kept its id");
        }
    }
    Ok(())
}

fn malformed_workplan_is_skipped(b: Backend) -> Result<(), Failed> {
    let w = World::new(b)?;
    for name in ["C-03.md", "C-13.md"] {
        std::fs::copy(example("workplans-broken").join(name), w.wp(name)).unwrap();
    }
    let broken: Vec<Vec<u8>> = ["C-03.md", "C-13.md"]
        .iter()
        .map(|n| std::fs::read(w.wp(n)).unwrap())
        .collect();
    let out = w.run(&["hub", "sync", "home-platform"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    insta::assert_snapshot!("hub_sync_skipped", redact(&stdout(&out)));
    for (n, bytes) in ["C-03.md", "C-13.md"].iter().zip(&broken) {
        assert_eq!(&std::fs::read(w.wp(n)).unwrap(), bytes, "{n} untouched");
    }
    let hub = hub_ids(w.store().as_mut());
    assert_eq!(hub.len(), 82, "the others synced");
    // No secret reached the hub.
    let st = w.store().read().unwrap();
    assert!(st.tasks.iter().all(|t| !t.notes.contains("hunter2")));
    let out = w.run(&["hub", "check", "home-platform", "--json"]);
    assert_eq!(code(&out), 1);
    let doc = json(&out);
    let codes: BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, BTreeSet::from(["C-03", "C-13"]), "{doc:#}");
    Ok(())
}

fn needs_human_is_owned_by_the_hub(b: Backend) -> Result<(), Failed> {
    let w = World::new(b)?;
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    let out = w.run(&["hub", "human"]);
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!("hub_human", stdout(&out));

    let out = w.run_at(
        LATER,
        &[
            "hub",
            "human",
            "set",
            "OPS-WP-0007-T02",
            "--reason",
            "pick the scratch host",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = w.run_at(LATER, &["hub", "human", "clear", "OPS-WP-0007-T03"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // A flag on a closed task is refused; an unknown task is an error.
    assert_eq!(
        code(&w.run(&["hub", "human", "set", "OPS-WP-0007-T04", "--reason", "x"])),
        2
    );
    assert_eq!(code(&w.run(&["hub", "human", "clear", "NOPE-T01"])), 2);

    // Files that did not change do not undo the hub's flags.
    let out = w.run(&["hub", "sync", "home-platform"]);
    assert_eq!(code(&out), 0);
    let doc = json(&w.run(&["hub", "human", "--json"]));
    assert_eq!(doc["schema"], "platformctl/hub-human/v1");
    let keys: Vec<&str> = doc["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["taskKey"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"OPS-WP-0007-T02") && !keys.contains(&"OPS-WP-0007-T03"),
        "{keys:?}"
    );
    let t02 = doc["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["taskKey"] == "OPS-WP-0007-T02")
        .unwrap();
    assert_eq!(
        (t02["by"].as_str(), t02["at"].as_str()),
        (Some("tester"), Some(LATER))
    );
    assert_eq!(code(&w.run(&["hub", "check", "home-platform"])), 0);

    // A change made in a file is taken over (once: the hub remembers what the file said).
    let f = w.wp("OPS-WP-0007-backup-restore-drills.md");
    let text = std::fs::read_to_string(&f).unwrap();
    let edited = text.replacen(
        "id: OPS-WP-0007-T06\nstatus: todo\n",
        "id: OPS-WP-0007-T06\nstatus: todo\nneeds_human: true\nneeds_human_reason: \"review the runbook\"\n",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&f, edited).unwrap();
    let out = w.run(&["hub", "check", "home-platform"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("task `OPS-WP-0007-T06` needs_human: hub `false`, file `true`"),
        "{}",
        stdout(&out)
    );
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    assert_eq!(code(&w.run(&["hub", "check", "home-platform"])), 0);
    let doc = json(&w.run(&["hub", "human", "--json"]));
    let t06 = doc["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["taskKey"] == "OPS-WP-0007-T06");
    assert_eq!(
        t06.map(|g| g["reason"].clone()),
        Some(serde_json::json!("review the runbook"))
    );
    // Clearing it in the hub sticks: the file still says true, but did not change.
    assert_eq!(
        code(&w.run(&["hub", "human", "clear", "OPS-WP-0007-T06"])),
        0
    );
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    let doc = json(&w.run(&["hub", "human", "--json"]));
    assert!(
        doc["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["taskKey"] != "OPS-WP-0007-T06")
    );
    Ok(())
}

fn checkpoint_markdown(b: Backend) -> Result<(), Failed> {
    let w = World::new(b)?;
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    let f = w.wp("OPS-WP-0007-backup-restore-drills.md");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replacen("status: progress\n", "status: done\n", 1)).unwrap();
    assert_eq!(code(&w.run_at(LATER, &["hub", "sync", "home-platform"])), 0);
    let out = w.run_at(LATER, &["hub", "checkpoint"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    insta::assert_snapshot!("hub_checkpoint", stdout(&out));
    let doc = json(&w.run_at(LATER, &["hub", "checkpoint", "--json", "--picks", "3"]));
    assert_eq!(doc["schema"], "platformctl/hub-checkpoint/v1");
    assert_eq!(doc["exitCode"], 0);
    assert_eq!(doc["next"].as_array().unwrap().len(), 3);
    assert_eq!(doc["completed"][0]["taskKey"], "OPS-WP-0007-T01");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL only.

fn postgres_password_never_printed() -> Result<(), Failed> {
    let pg = pg()?;
    let w = World::new(Backend::Postgres)?;
    let mut outs = vec![
        w.run(&["hub", "sync", "home-platform", "--json"]),
        w.run(&["hub", "check", "home-platform"]),
        w.run(&["hub", "human", "--json"]),
        w.run(&[
            "hub",
            "sync",
            "home-platform",
            "--hub",
            &pg.url("no_such_db"),
        ]),
        w.run(&[
            "hub",
            "check",
            "home-platform",
            "--json",
            "--hub",
            &pg.url("no_such_db"),
        ]),
        w.run(&[
            "hub",
            "check",
            "--hub",
            &pg.url("x").replace("127.0.0.1", "127.0.0.1:notaport"),
        ]),
        w.run(&["hub", "--help"]),
    ];
    outs.push(w.cmd(NOW).args(["hub", "sync", "--help"]).output().unwrap());
    for out in &outs {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(!all.contains(&pg.password), "password printed:\n{all}");
    }
    let bad = &outs[3];
    assert_eq!(code(bad), 2);
    assert!(
        stderr(bad).contains("platformctl:***@127.0.0.1"),
        "{}",
        stderr(bad)
    );
    assert!(stderr(bad).contains("no_such_db"), "{}", stderr(bad));
    assert_eq!(json(&outs[4])["exitCode"], 2);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Backend-free: workplan status and lint.

fn wp_cmd(args: &[&str]) -> Output {
    let out = bin()
        .current_dir(support::workspace())
        .args(args)
        .output()
        .unwrap();
    assert_no_panic(&out);
    out
}

fn status_snapshot() -> Result<(), Failed> {
    let out = wp_cmd(&["workplan", "status", "examples/home-platform"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).is_empty());
    insta::assert_snapshot!("workplan_status", stdout(&out));
    // The platform root's workplans by default.
    let dflt = wp_cmd(&["--root", "examples/home-platform", "workplan", "status"]);
    assert_eq!(stdout(&dflt), stdout(&out));
    let doc = json(&wp_cmd(&[
        "workplan",
        "status",
        "examples/home-platform",
        "--json",
    ]));
    assert_eq!(doc["schema"], "platformctl/workplan-status/v1");
    assert_eq!(doc["exitCode"], 0);
    assert_eq!(doc["summary"]["workplans"], 17);
    assert_eq!(doc["summary"]["lintFindings"], 0);
    let first = &doc["workplans"][0];
    assert_eq!(first["id"], "OPS-WP-0019");
    assert_eq!(first["openState"], "1 wait, 1 todo, 1 done");
    assert_eq!(first["planningPriority"], "high");
    // Broken files are still listed; the lint count goes to stderr.
    let out = wp_cmd(&["workplan", "status", "examples/workplans-broken"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("13 lint findings"),
        "{}",
        stderr(&out)
    );
    Ok(())
}

fn lint_snapshot() -> Result<(), Failed> {
    let out = wp_cmd(&["workplan", "lint", "examples/workplans-broken"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(!text.contains("hunter2"), "C-13 never shows the secret");
    insta::assert_snapshot!("workplan_lint_broken", text);
    let doc = json(&wp_cmd(&[
        "workplan",
        "lint",
        "examples/workplans-broken",
        "--json",
    ]));
    assert_eq!(doc["schema"], "platformctl/workplan-lint/v1");
    assert_eq!(doc["exitCode"], 1);
    let codes: BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = [
        "C-01", "C-02", "C-03", "C-04", "C-05", "C-06", "C-07", "C-08", "C-09", "C-13",
    ]
    .into();
    assert_eq!(codes, want);
    for f in doc["findings"].as_array().unwrap() {
        assert!(f["line"].as_u64().unwrap() >= 1 && f["file"].as_str().unwrap().ends_with(".md"));
    }
    let out = wp_cmd(&["workplan", "lint", "examples/home-platform", "--json"]);
    assert_eq!(code(&out), 0);
    assert_eq!(json(&out)["findings"], serde_json::json!([]));
    // A path that does not exist: exit 2, still one JSON document.
    let out = wp_cmd(&["workplan", "lint", "examples/no-such-folder", "--json"]);
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["exitCode"], 2);
    assert_eq!(json(&out)["schema"], "platformctl/workplan-lint/v1");
    Ok(())
}

fn hub_usage_errors() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = bin()
            .current_dir(dir.path())
            .env_remove("PLATFORMCTL_HUB")
            .args(args)
            .output()
            .unwrap();
        assert_no_panic(&out);
        out
    };
    // No platform root and no --hub.
    assert_eq!(code(&run(&["hub", "human"])), 2);
    // A URL of another kind, never echoed with its password.
    let out = run(&["hub", "human", "--hub", "mysql://u:topsecret@h/db"]);
    assert_eq!(code(&out), 2);
    assert!(!stderr(&out).contains("topsecret"), "{}", stderr(&out));
    // A REPO without workplans/.
    let hub = format!("sqlite:{}", dir.path().join("h.sqlite3").display());
    let out = run(&["hub", "check", ".", "--hub", &hub, "--json"]);
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["schema"], "platformctl/hub-check/v1");
    Ok(())
}

fn sqlite_hub_is_wal_and_migrated_once() -> Result<(), Failed> {
    let w = World::new(Backend::Sqlite)?;
    assert_eq!(code(&w.run(&["hub", "sync", "home-platform"])), 0);
    let path = w.root().join("state/hub.sqlite3");
    assert!(path.is_file(), "created on first use under state/");
    // The file format's read/write versions (bytes 18 and 19) are 2 in WAL mode.
    let header = std::fs::read(&path).unwrap();
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!((header[18], header[19]), (2, 2), "WAL");
    // Opening again applies no migration twice.
    assert_eq!(code(&w.run(&["hub", "check", "home-platform"])), 0);
    let m = w.store().migrations().unwrap();
    assert_eq!(m.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------

/// Apply attempts (issue 13) are history too: appended, read back in order, and the store
/// refuses to change them.
fn apply_history_is_append_only(backend: Backend) -> Result<(), Failed> {
    let w = World::new(backend)?;
    let mut hub = w.store();
    let row = |n: i64, result: &str| platformctl_hub::ApplyRow {
        seq: n,
        at: format!("2026-06-10T09:00:0{n}.000Z"),
        actor: "ops@box".into(),
        module: "api".into(),
        host: "e1".into(),
        result: result.into(),
        record: format!(r#"{{"schema":"platformctl/audit/v1","n":{n}}}"#),
    };
    hub.append_apply(&row(0, "refused"))
        .map_err(|e| e.to_string())?;
    hub.append_apply(&row(0, "applied"))
        .map_err(|e| e.to_string())?;
    let got = hub.applies().map_err(|e| e.to_string())?;
    let results: Vec<&str> = got.iter().map(|r| r.result.as_str()).collect();
    if results != ["refused", "applied"]
        || got[0].seq >= got[1].seq
        || got[1].record != row(0, "applied").record
    {
        return Err(format!("{got:?}").into());
    }
    Ok(())
}

type Scenario = fn(Backend) -> Result<(), Failed>;

fn main() {
    let args = Arguments::from_args();
    let scenarios: &[(&str, Scenario)] = &[
        (
            "first_sync_registers_and_writes_ids",
            first_sync_registers_and_writes_ids,
        ),
        ("round_trip_status_edit", round_trip_status_edit),
        ("deleted_file_is_an_orphan", deleted_file_is_an_orphan),
        (
            "two_syncs_at_once_lose_nothing",
            two_syncs_at_once_lose_nothing,
        ),
        ("killed_sync_is_repaired", killed_sync_is_repaired),
        (
            "malformed_workplan_is_skipped",
            malformed_workplan_is_skipped,
        ),
        (
            "needs_human_is_owned_by_the_hub",
            needs_human_is_owned_by_the_hub,
        ),
        ("checkpoint_markdown", checkpoint_markdown),
        ("apply_history_is_append_only", apply_history_is_append_only),
    ];
    let pg_missing = pg_bindir().is_none();
    let pg_required = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("PLATFORMCTL_PG_REQUIRED").is_some();
    if pg_missing && !pg_required {
        eprintln!(
            "workplan_hub: no PostgreSQL server binaries: the postgres:: scenarios are ignored \
             (scripts/e2e/install-pg.sh installs them)"
        );
    }
    let mut trials: Vec<Trial> = vec![
        Trial::test("workplan_status", status_snapshot),
        Trial::test("workplan_lint", lint_snapshot),
        Trial::test("hub_usage_errors", hub_usage_errors),
        Trial::test(
            "sqlite::hub_file_created_and_migrated",
            sqlite_hub_is_wal_and_migrated_once,
        ),
        Trial::test(
            "postgres::password_never_printed",
            postgres_password_never_printed,
        )
        .with_ignored_flag(pg_missing && !pg_required),
    ];
    for &(name, f) in scenarios {
        trials.push(Trial::test(format!("sqlite::{name}"), move || {
            f(Backend::Sqlite)
        }));
        trials.push(
            Trial::test(format!("postgres::{name}"), move || f(Backend::Postgres))
                .with_ignored_flag(pg_missing && !pg_required),
        );
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Ok(pg)) = PG.get() {
        pg.stop();
    }
    conclusion.exit();
}
