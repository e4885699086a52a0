//! `serve` on real parts (issue 14): a platform of 100 modules on two private Docker engines
//! reached over ssh, plus a silent host that makes every drift run last its connect timeout.
//! The drift and updates routes give the CLI's documents (a real registry answers), and 200
//! concurrent requests — 50 of them asking for a fresh drift run — are all answered correctly
//! while one run is under way, with one observation per host for all of them (the server's own
//! counters in /metrics), and the reads answered before the run ends.
//!
//! Needs root (dockerd); without it the test says SKIPPED, and fails when
//! PLATFORMCTL_E2E_REQUIRED is set (CI).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::realparts::{Parts, is_root};
use support::server::{self, get, steady};

fn cli_json(root: &Path, args: &[&str], cache: &Path) -> Value {
    server::cli_json(root, args, &[("XDG_CACHE_HOME", cache)]).1
}

const AS_RUN: &str = "    command: [\"sleep\", \"100000\"]\n    network_mode: none\n";

/// `platformctl_host_observations_total{host="…"} N` by host, and the runs counter.
fn counters(metrics: &str) -> (BTreeMap<String, u64>, u64) {
    let mut obs = BTreeMap::new();
    let mut runs = 0;
    for line in metrics.lines() {
        if let Some(rest) = line.strip_prefix("platformctl_host_observations_total{host=\"") {
            let (host, n) = rest.split_once("\"} ").unwrap();
            obs.insert(host.to_string(), n.trim().parse().unwrap());
        } else if let Some(n) = line.strip_prefix("platformctl_drift_runs_total ") {
            runs = n.trim().parse().unwrap();
        }
    }
    (obs, runs)
}

fn platform(p: &Parts) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("ops")).unwrap();
    std::fs::copy(p.get("SSH_CONFIG"), root.join("ops/ssh_config")).unwrap();
    let (e1, e2) = (p.get("E1_SOCK"), p.get("E2_SOCK"));
    std::fs::write(
        root.join("platform.toml"),
        format!(
            "[platform]\nname = \"load\"\ncompose_project = \"load\"\n\n\
             [ssh]\nconfig = \"ops/ssh_config\"\n\n\
             [hosts.e1]\ntransport = \"ssh\"\nssh = \"e2e-host\"\ndocker_socket = \"{e1}\"\nconnect_timeout_s = 5\n\n\
             [hosts.e2]\ntransport = \"ssh\"\nssh = \"e2e-host\"\ndocker_socket = \"{e2}\"\nconnect_timeout_s = 5\n\n\
             [hosts.silent]\ntransport = \"ssh\"\nssh = \"e2e-silent\"\nconnect_timeout_s = 6\n"
        ),
    )
    .unwrap();
    let api = p.get("IMG_API_306");
    let mut compose = String::from("services:\n");
    for i in 0..100 {
        let name = format!("m{i:02}");
        let host = match i {
            0..45 => "e1",
            45..90 => "e2",
            _ => "silent",
        };
        compose.push_str(&format!("  {name}:\n    image: {api}\n{AS_RUN}"));
        let d = root.join("modules").join(&name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("module.yaml"),
            format!(
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  description: load\n  tier: app\n\
                 spec:\n  runtime:\n    host: {host}\n    orchestrator: docker-compose\n    compose_file: compose/compose.yaml\n    \
                 compose_service: {name}\n    image_observed: {api}\n    image_digest_pinned_in_compose: false\n  \
                 artifact:\n    type: oci-image\n    reference: {api}\n"
            ),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("compose")).unwrap();
    std::fs::write(root.join("compose/compose.yaml"), compose).unwrap();
    // Some modules run (in sync), the rest are missing (drift): a fleet with both.
    for i in [0, 1, 2, 3, 4] {
        p.container("e1", "load", &format!("m{i:02}"), api);
    }
    for i in [45, 46, 47] {
        p.container("e2", "load", &format!("m{i:02}"), api);
    }
    dir
}

#[test]
fn serve_under_load_on_real_parts() {
    if !is_root() {
        assert!(!server::required(), "e2e_serve needs root (dockerd)");
        eprintln!("SKIPPED: e2e_serve needs root to start its private dockerd");
        return;
    }
    let parts = Parts::up(&support::workspace()).expect("real parts come up");
    let dir = platform(&parts);
    let root = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let cache_s = cache.path().to_str().unwrap();
    let srv = server::start(root, &["--timeout", "8"], &[("XDG_CACHE_HOME", cache_s)]);

    // drift and updates: the CLI's documents, on real engines and a real registry.
    let want = cli_json(
        root,
        &["drift-check", "--json", "--timeout", "8"],
        cache.path(),
    );
    assert_eq!(want["summary"]["inSync"], 8, "{}", want["summary"]);
    assert_eq!(want["summary"]["drift"], 82, "{}", want["summary"]);
    assert_eq!(want["summary"]["unreachable"], 10, "{}", want["summary"]);
    let got = get(srv.addr, "/api/v1/drift?fresh=true", None);
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(steady(got.json()), steady(want), "/api/v1/drift");
    let want = cli_json(root, &["updates", "--json", "--timeout", "8"], cache.path());
    assert!(
        want["registries"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["answered"] == true)),
        "the registry answered: {}",
        want["registries"]
    );
    let got = get(srv.addr, "/api/v1/updates?fresh=true", None);
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(steady(got.json()), steady(want), "/api/v1/updates");

    // Load: one fresh run under way, 200 requests during it.
    let (obs0, runs0) = counters(&get(srv.addr, "/metrics", None).body);
    let addr = srv.addr;
    let t0 = Instant::now();
    let first = std::thread::spawn(move || {
        let r = get(addr, "/api/v1/drift?fresh=true", None);
        (r, t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let routes: Vec<String> = (0..200)
        .map(|i| match i % 8 {
            0 | 1 => "/api/v1/drift?fresh=true".to_string(),
            2 => "/api/v1/modules".to_string(),
            3 => format!("/api/v1/modules/m{:02}", i % 100),
            4 => "/api/v1/coverage".to_string(),
            5 => "/metrics".to_string(),
            6 => "/api/v1/validate".to_string(),
            _ => format!("/modules/m{:02}", i % 100),
        })
        .collect();
    let gate = Arc::new(Barrier::new(routes.len()));
    let handles: Vec<_> = routes
        .into_iter()
        .map(|route| {
            let gate = gate.clone();
            std::thread::spawn(move || {
                gate.wait();
                let r = get(addr, &route, None);
                (route, r, t0.elapsed())
            })
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (first, first_done) = first.join().unwrap();
    assert_eq!(first.status, 200);
    let run = first.json();
    let mut fresh = 0;
    let mut reads_during_run = 0;
    for (route, r, done) in &answers {
        assert_eq!(r.status, 200, "{route}: {}", r.body);
        if route.starts_with("/api/v1/drift") {
            fresh += 1;
            // Joined the run under way: its very document.
            assert_eq!(r.body, first.body, "{route} got another run's document");
        } else if route.starts_with("/api/") {
            let schema = r.json()["schema"].as_str().unwrap_or("").to_string();
            assert!(schema.starts_with("platformctl/"), "{route}: {schema}");
            if *done < first_done {
                reads_during_run += 1;
            }
        } else if route == "/metrics" {
            assert!(r.body.contains("platformctl_drift_runs_total"), "{route}");
        } else {
            assert!(r.body.contains("id=\"manifest\""), "{route}");
        }
    }
    assert_eq!(fresh, 50);
    assert!(
        reads_during_run >= 100,
        "reads should not wait for the drift run: {reads_during_run} of 100 answered before it ended ({first_done:?})"
    );
    assert_eq!(run["summary"]["total"], 100);
    let metrics = get(srv.addr, "/metrics", None).body;
    // Drift by change code, per module, from the run just made (m10 has no container).
    let m10 = run["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "m10")
        .unwrap();
    let code = m10["changes"][0]["code"]
        .as_str()
        .expect("m10 has a change");
    let line = format!("platformctl_drift_changes{{module=\"m10\",code=\"{code}\"}} 1");
    assert!(metrics.contains(&line), "missing {line}");
    assert!(
        metrics
            .contains("platformctl_module_status{module=\"m00\",host=\"e1\",status=\"in-sync\"} 1")
    );
    assert!(metrics.contains("platformctl_host_reachable{host=\"silent\"} 0"));
    // A module's page shows its live evidence and its changes from the last run.
    let page = get(srv.addr, "/modules/m00", None).body;
    assert!(
        page.contains("load-m00-1") && page.contains("status in-sync"),
        "m00 page"
    );
    let page = get(srv.addr, "/modules/m10", None).body;
    assert!(
        page.contains(&format!("<tr class=\"change\"><td>{code}</td>")),
        "m10 page"
    );
    let fleet = get(srv.addr, "/", None).body;
    assert_eq!(fleet.matches("<tr class=\"module\"").count(), 100);
    let (obs1, runs1) = counters(&metrics);
    assert_eq!(runs1, runs0 + 1, "one drift run for 51 fresh asks");
    for host in ["e1", "e2", "silent"] {
        assert_eq!(
            obs1.get(host).copied().unwrap_or(0),
            obs0.get(host).copied().unwrap_or(0) + 1,
            "observations of {host}: one per host, not per request"
        );
    }
    eprintln!(
        "load: 200 requests answered, 50 fresh drift asks joined one run of {first_done:?}, \
         {reads_during_run} reads answered during it"
    );
    drop(srv);
    drop(parts);
}
