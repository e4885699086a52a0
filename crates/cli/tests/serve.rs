//! `platformctl serve` (issue 14): a real server on 127.0.0.1 over a copy of the example
//! platform with a real State Hub (SQLite, filled by `hub sync`). Every API route's body is
//! compared with the matching `--json` command's output; the token gate, the refusal to serve
//! beyond loopback without a token, the web view in headless Chromium (pages without any script) and
//! `/metrics` with promtool are checked on the same server.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::server::{self, get, steady};

fn cli_json(root: &Path, args: &[&str]) -> (String, Value) {
    server::cli_json(root, args, &[])
}

/// A copy of the example platform with its workplans registered in a hub and one human gate.
fn platform() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    server::copy_tree(&support::example("home-platform"), dir.path());
    let root = dir.path();
    let out = support::bin()
        .current_dir(root)
        .args(["hub", "sync"])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "hub sync: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, tasks) = cli_json(root, &["hub", "tasks", "--open", "--json"]);
    // The same rows for people: a header and one line per workstream / task.
    let (_, ws) = cli_json(root, &["hub", "workstreams", "--json"]);
    for (args, doc, key, head) in [
        (
            &["hub", "workstreams"][..],
            &ws,
            "workstreams",
            "WORKPLAN  ",
        ),
        (&["hub", "tasks", "--open"][..], &tasks, "tasks", "TASK  "),
    ] {
        let out = support::bin()
            .current_dir(root)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let rows = doc[key].as_array().unwrap();
        assert!(text.starts_with(head), "{args:?}:\n{text}");
        assert_eq!(text.lines().count(), rows.len() + 1, "{args:?}:\n{text}");
        for r in rows {
            let id = r["workplanId"].as_str().unwrap();
            let first = if key == "tasks" {
                r["taskKey"].as_str().unwrap()
            } else {
                id
            };
            assert!(
                text.lines().any(|l| l.starts_with(first)),
                "{first} not listed"
            );
        }
    }
    let key = tasks["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["needsHuman"] == false))
        .and_then(|t| t["taskKey"].as_str())
        .expect("an open task")
        .to_string();
    let out = support::bin()
        .current_dir(root)
        .args([
            "hub",
            "human",
            "set",
            &key,
            "--reason",
            "approve the restore window",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn api_bodies_are_the_cli_documents() {
    let dir = platform();
    let root = dir.path();
    // Canaries: secrets the compose file interpolates, given in its .env file. No route, page
    // or metric may ever carry either value.
    let dotenv = root.join("compose/apps/.env");
    let mut text = std::fs::read_to_string(&dotenv).unwrap();
    text.push_str(
        "\nIMMICH_DB_PASSWORD=canary-s3cr3t-7f3a9\nPAPERLESS_SECRET_KEY=canary-env-9b1c\n",
    );
    std::fs::write(&dotenv, text).unwrap();
    let srv = server::start(root, &["--timeout", "2", "--no-registry"], &[]);
    let mut served: Vec<String> = Vec::new();
    let (_, status) = cli_json(root, &["workplan", "status", "--json"]);
    let wp = status["workplans"][0]["id"]
        .as_str()
        .expect("a workplan id")
        .to_string();
    let show = format!("/api/v1/workplans/{wp}");
    let routes: Vec<(&str, Vec<&str>)> = vec![
        ("/api/v1/modules", vec!["modules", "list", "--json"]),
        (
            "/api/v1/modules/grafana",
            vec!["modules", "show", "grafana", "--json"],
        ),
        ("/api/v1/coverage", vec!["coverage", "--json"]),
        ("/api/v1/validate", vec!["validate", "--json"]),
        ("/api/v1/workplans", vec!["workplan", "status", "--json"]),
        (show.as_str(), vec!["workplan", "show", &wp, "--json"]),
        (
            "/api/v1/hub/workstreams",
            vec!["hub", "workstreams", "--json"],
        ),
        ("/api/v1/hub/tasks", vec!["hub", "tasks", "--json"]),
        (
            "/api/v1/hub/tasks?open=true",
            vec!["hub", "tasks", "--open", "--json"],
        ),
        ("/api/v1/hub/human", vec!["hub", "human", "--json"]),
        (
            "/api/v1/hub/checkpoint",
            vec!["hub", "checkpoint", "--json"],
        ),
        (
            "/api/v1/hub/checkpoint?days=30&picks=3",
            vec![
                "hub",
                "checkpoint",
                "--days",
                "30",
                "--picks",
                "3",
                "--json",
            ],
        ),
        (
            "/api/v1/drift",
            vec!["drift-check", "--json", "--timeout", "2", "--no-registry"],
        ),
        (
            "/api/v1/drift?fresh=true",
            vec!["drift-check", "--json", "--timeout", "2", "--no-registry"],
        ),
    ];
    for (route, args) in &routes {
        let resp = get(srv.addr, route, None);
        served.push(resp.body.clone());
        assert_eq!(resp.status, 200, "{route}: {}", resp.body);
        assert_eq!(
            resp.header("content-type"),
            Some("application/json"),
            "{route}"
        );
        let (text, doc) = cli_json(root, args);
        let served = resp.json();
        assert_eq!(
            steady(served.clone()),
            steady(doc.clone()),
            "{route} differs from `platformctl {}`",
            args.join(" ")
        );
        if steady(doc.clone()) == doc {
            // Nothing volatile: the very bytes the CLI prints.
            assert_eq!(resp.body, text, "{route}");
        }
    }
    // The hub really holds what the pages and metrics show.
    let human = get(srv.addr, "/api/v1/hub/human", None).json();
    assert!(
        human["gates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["reason"] == "approve the restore window"),
        "{human}"
    );
    // Errors are the CLI's error documents, with a status to match.
    let missing = get(srv.addr, "/api/v1/modules/grafanna", None);
    assert_eq!(missing.status, 404);
    let (_, cli_missing) = cli_json(root, &["modules", "show", "grafanna", "--json"]);
    assert_eq!(missing.json(), cli_missing);
    assert!(
        missing.body.contains("did you mean `grafana`"),
        "{}",
        missing.body
    );
    let unknown = get(srv.addr, "/api/v2/nothing", None);
    assert_eq!(unknown.status, 404);
    // Only reads exist: anything but GET is refused.
    let mut s = std::net::TcpStream::connect(srv.addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "POST /api/v1/drift HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");

    for page in [
        "/",
        "/modules/paperless-ngx",
        "/modules/immich-server",
        "/coverage",
        "/workstreams",
        "/human",
        "/metrics",
    ] {
        served.push(get(srv.addr, page, None).body);
    }
    for body in &served {
        for canary in ["canary-s3cr3t-7f3a9", "canary-env-9b1c"] {
            assert!(!body.contains(canary), "a secret value was served");
        }
    }

    web_view(&srv, root);
    metrics(&srv, root);
}

#[test]
fn refresh_runs_drift_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    server::copy_tree(&support::example("home-platform"), root);
    let srv = server::start(
        root,
        &["--refresh", "1", "--timeout", "2", "--no-registry"],
        &[],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let m = get(srv.addr, "/metrics", None).body;
        let runs: u64 = m
            .lines()
            .find_map(|l| l.strip_prefix("platformctl_drift_runs_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        if runs >= 2 && m.contains("platformctl_last_run_timestamp_seconds ") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no second run by itself:\n{m}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The pages in headless Chromium with JavaScript off: each holds the expected rows; the
/// fleet page's screenshot is kept under target/.
fn web_view(srv: &server::Server, root: &Path) {
    let Some(chromium) = server::tool("chromium") else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let browse = |path: &str, extra: &[String]| -> String {
        let out = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("http://{}{path}", srv.addr))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "chromium {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Works with JavaScript off: no page carries a script (Chromium's --dump-dom itself needs
    // scripting on, so the check is on what is served).
    let dom = |path: &str| {
        let served = get(srv.addr, path, None);
        assert_eq!(served.status, 200, "{path}");
        assert!(
            !served.body.to_ascii_lowercase().contains("<script"),
            "{path} has a script"
        );
        browse(path, &["--dump-dom".to_string()])
    };
    let count = |html: &str, needle: &str| html.matches(needle).count();

    let drift = get(srv.addr, "/api/v1/drift", None).json();
    let fleet = dom("/");
    let modules = drift["modules"].as_array().unwrap();
    assert_eq!(
        count(&fleet, "<tr class=\"module\""),
        modules.len(),
        "fleet rows"
    );
    for m in modules {
        let name = m["module"].as_str().unwrap();
        let status = m["status"].as_str().unwrap();
        assert!(
            fleet.contains(&format!("data-module=\"{name}\" data-status=\"{status}\"")),
            "{name} ({status}) is not on the fleet page"
        );
    }
    for h in drift["hosts"].as_array().unwrap() {
        assert!(fleet.contains(&format!("id=\"host-{}\"", h["name"].as_str().unwrap())));
    }

    let module = dom("/modules/grafana");
    for id in ["id=\"manifest\"", "id=\"compose\"", "id=\"live\""] {
        assert!(module.contains(id), "module page lacks {id}");
    }
    let grafana = get(srv.addr, "/api/v1/modules/grafana", None).json();
    let image = grafana["compose"]["image"]["value"].as_str().unwrap_or("");
    assert!(
        !image.is_empty() && module.contains(image),
        "compose image {image} not shown"
    );

    let coverage = dom("/coverage");
    let cov = get(srv.addr, "/api/v1/coverage", None).json();
    let missing: usize = cov["parts"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["missingModules"].as_array().map_or(0, Vec::len))
        .sum();
    let ul = coverage
        .split("<ul class=\"missing\">")
        .skip(1)
        .map(|s| count(s.split("</ul>").next().unwrap(), "<li>"))
        .sum::<usize>();
    assert_eq!(ul, missing, "missing lists");

    let ws = dom("/workstreams");
    let (_, wdoc) = cli_json(root, &["hub", "workstreams", "--json"]);
    let n = wdoc["workstreams"].as_array().unwrap().len();
    assert!(n > 0);
    assert_eq!(count(&ws, "<tr class=\"workstream\""), n);

    let human = dom("/human");
    let (_, hdoc) = cli_json(root, &["hub", "human", "--json"]);
    assert_eq!(
        count(&human, "<tr class=\"gate\""),
        hdoc["gates"].as_array().unwrap().len()
    );
    assert!(human.contains("approve the restore window"));

    let shot = support::workspace().join("target/serve-fleet.png");
    browse(
        "/",
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=390,1600".to_string(),
        ],
    );
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    eprintln!("fleet page screenshot: {}", shot.display());
}

/// `/metrics` and `drift-check --metrics-file` pass `promtool check metrics`, and say what the
/// last run said.
fn metrics(srv: &server::Server, root: &Path) {
    let resp = get(srv.addr, "/metrics", None);
    assert_eq!(resp.status, 200);
    let text = resp.body;
    let drift = get(srv.addr, "/api/v1/drift", None).json();
    for m in drift["modules"].as_array().unwrap() {
        let line = format!(
            "platformctl_module_status{{module=\"{}\",host=\"{}\",status=\"{}\"}} 1",
            m["module"].as_str().unwrap(),
            m["host"].as_str().unwrap_or(""),
            m["status"].as_str().unwrap()
        );
        assert!(text.contains(&line), "missing {line}");
    }
    for h in drift["hosts"].as_array().unwrap() {
        let line = format!(
            "platformctl_host_reachable{{host=\"{}\"}} {}",
            h["name"].as_str().unwrap(),
            u8::from(h["reachable"] == true)
        );
        assert!(text.contains(&line), "missing {line}");
        // Two runs were asked for (the first, then ?fresh=true): two observations per host.
        let obs = format!(
            "platformctl_host_observations_total{{host=\"{}\"}} 2",
            h["name"].as_str().unwrap()
        );
        assert!(text.contains(&obs), "missing {obs}:\n{text}");
    }
    assert!(text.contains("platformctl_drift_runs_total 2"), "{text}");
    assert!(text.contains("platformctl_run_duration_seconds "), "{text}");
    assert!(
        text.contains("platformctl_last_run_timestamp_seconds "),
        "{text}"
    );
    // Low cardinality: no digest, no message in any label.
    assert!(!text.contains("sha256:"), "a digest in the metrics");

    let file = root.join("state/drift.prom");
    let out = support::bin()
        .current_dir(root)
        .args([
            "drift-check",
            "--timeout",
            "2",
            "--no-registry",
            "--metrics-file",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).expect("the metrics file was written");
    assert!(written.contains("platformctl_module_status{"), "{written}");
    assert!(written.ends_with('\n') && !written.contains("# EOF"));
    let leftovers: Vec<_> = std::fs::read_dir(root.join("state"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "a temporary file was left");

    let Some(promtool) = server::tool("promtool") else {
        return;
    };
    for (what, body) in [
        ("/metrics", text.as_str()),
        ("--metrics-file", written.as_str()),
    ] {
        let mut child = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics rejects {what}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("promtool check metrics: {what} accepted");
    }
}

#[test]
fn a_token_protected_server_answers_only_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    server::copy_tree(&support::example("home-platform"), root);
    let token_file = root.join("token");
    std::fs::write(&token_file, "s3cret-token-value\n").unwrap();
    let srv = server::start(root, &["--token-file", token_file.to_str().unwrap()], &[]);
    for path in ["/api/v1/modules", "/metrics", "/", "/api/v1/hub/human"] {
        let r = get(srv.addr, path, None);
        assert_eq!(r.status, 401, "{path} without a token");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"platformctl\"")
        );
        assert!(!r.body.contains("s3cret"), "the token was served");
        assert_eq!(
            get(srv.addr, path, Some("s3cret-token-valuf")).status,
            401,
            "{path} wrong token"
        );
        assert_eq!(
            get(srv.addr, path, Some("s3cret")).status,
            401,
            "{path} a prefix of the token"
        );
    }
    let ok = get(srv.addr, "/api/v1/modules", Some("s3cret-token-value"));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["schema"], "platformctl/modules-list/v1");
    // No hub yet: reported, never created (serving writes nothing).
    let hub = get(srv.addr, "/api/v1/hub/human", Some("s3cret-token-value"));
    assert_eq!(hub.status, 503, "{}", hub.body);
    let doc = hub.json();
    assert_eq!(doc["schema"], "platformctl/hub-human/v1");
    assert_eq!(doc["exitCode"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hub sync"),
        "{doc}"
    );
    assert!(
        !root.join("state/hub.sqlite3").exists(),
        "serve created a hub"
    );
    let page = get(srv.addr, "/human", Some("s3cret-token-value"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("hub sync"),
        "the page says why there is nothing"
    );
}

#[test]
fn serving_beyond_loopback_needs_a_token() {
    let out = support::bin()
        .args(["--root"])
        .arg(support::example("home-platform"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs --token-file"), "{err}");
    // An empty token file is refused too (it would protect nothing).
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("token");
    std::fs::write(&empty, "\n").unwrap();
    let out = support::bin()
        .args(["--root"])
        .arg(support::example("home-platform"))
        .args(["serve", "--listen", "0.0.0.0:0", "--token-file"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
}
