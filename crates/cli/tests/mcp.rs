//! `platformctl mcp` (issue 14): rmcp's own client drives a real `platformctl mcp` child
//! process over stdio — initialize, tools/list, tools/call for every tool — and each tool's
//! structured result is the document the matching `--json` command prints. A command that
//! cannot answer is a tool error carrying the command's error document; stdout carries
//! JSON-RPC only.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};
use support::server::{copy_tree, steady};

fn cli_json(root: &Path, args: &[&str]) -> Value {
    support::server::cli_json(root, args, &[]).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_returns_the_cli_document() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&support::example("home-platform"), root);
    let out = support::bin()
        .current_dir(root)
        .args(["hub", "sync"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "hub sync");

    let exe = assert_cmd::cargo::cargo_bin("platformctl");
    let root_buf = root.to_path_buf();
    let transport = TokioChildProcess::new(tokio::process::Command::new(&exe).configure(|c| {
        c.arg("mcp")
            .current_dir(&root_buf)
            .env_remove("PLATFORM_ROOT")
            .env("NO_COLOR", "1");
    }))
    .expect("platformctl mcp starts");
    let client = ().serve(transport).await.expect("initialize");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("platformctl")
    );

    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "coverage",
            "drift_check",
            "hub_checkpoint",
            "hub_human",
            "modules_list",
            "modules_show",
            "plan",
            "updates",
            "validate",
            "workplan_show",
            "workplan_status"
        ],
        "no apply tool, nothing else"
    );
    for t in &tools {
        let a = t.annotations.as_ref().expect("annotated");
        assert_eq!(a.read_only_hint, Some(true), "{} is not read-only", t.name);
        assert_eq!(
            t.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            t.name
        );
    }
    let show_schema = &tools
        .iter()
        .find(|t| t.name == "modules_show")
        .unwrap()
        .input_schema;
    assert_eq!(show_schema.get("required"), Some(&json!(["name"])));

    let wp = cli_json(root, &["workplan", "status", "--json"])["workplans"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let calls: Vec<(&str, Value, Vec<&str>)> = vec![
        ("validate", json!({}), vec!["validate", "--json"]),
        ("coverage", json!({}), vec!["coverage", "--json"]),
        ("modules_list", json!({}), vec!["modules", "list", "--json"]),
        (
            "modules_show",
            json!({"name": "grafana"}),
            vec!["modules", "show", "grafana", "--json"],
        ),
        (
            "plan",
            json!({"module": "grafana", "timeout": 2}),
            vec!["plan", "grafana", "--json", "--timeout", "2"],
        ),
        (
            "drift_check",
            json!({"host": "laptop", "registry": false, "timeout": 2}),
            vec![
                "drift-check",
                "--host",
                "laptop",
                "--no-registry",
                "--json",
                "--timeout",
                "2",
            ],
        ),
        // Modules with nothing to ask a registry about: no registry off this machine is asked
        // (the registry's answers are compared in the e2e serve test against a real one).
        (
            "updates",
            json!({"modules": ["backblaze-b2", "opnsense"]}),
            vec!["updates", "backblaze-b2", "opnsense", "--json"],
        ),
        (
            "workplan_status",
            json!({}),
            vec!["workplan", "status", "--json"],
        ),
        (
            "workplan_show",
            json!({"workplan": wp}),
            vec!["workplan", "show", &wp, "--json"],
        ),
        ("hub_human", json!({}), vec!["hub", "human", "--json"]),
        (
            "hub_checkpoint",
            json!({"days": 30, "picks": 2}),
            vec![
                "hub",
                "checkpoint",
                "--days",
                "30",
                "--picks",
                "2",
                "--json",
            ],
        ),
    ];
    for (tool, args, cli) in &calls {
        let r = client
            .call_tool(
                CallToolRequestParams::new(tool.to_string())
                    .with_arguments(args.as_object().unwrap().clone()),
            )
            .await
            .unwrap_or_else(|e| panic!("tools/call {tool}: {e}"));
        assert_eq!(r.is_error, Some(false), "{tool}: {r:?}");
        let got = r.structured_content.clone().expect("structured content");
        let want = cli_json(root, cli);
        assert_eq!(
            steady(got),
            steady(want),
            "{tool} differs from `platformctl {}`",
            cli.join(" ")
        );
    }
    // A command that cannot answer: a tool error carrying its error document.
    let r = client
        .call_tool(
            CallToolRequestParams::new("modules_show")
                .with_arguments(json!({"name": "grafanna"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let want = cli_json(root, &["modules", "show", "grafanna", "--json"]);
    assert_eq!(r.structured_content, Some(want.clone()));
    assert_eq!(want["exitCode"], 2);
    // A missing argument is refused by the input schema's rules, not answered.
    let bad = client
        .call_tool(CallToolRequestParams::new("modules_show").with_arguments(Default::default()))
        .await;
    assert!(
        bad.is_err() || bad.as_ref().is_ok_and(|r| r.is_error == Some(true)),
        "{bad:?}"
    );
    client.cancel().await.ok();
}

#[test]
fn stdout_carries_json_rpc_only() {
    let exe = assert_cmd::cargo::cargo_bin("platformctl");
    let mut child = std::process::Command::new(exe)
        .arg("--root")
        .arg(support::example("home-platform"))
        .arg("mcp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let msgs = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"coverage","arguments":{}}}),
    ];
    for m in msgs {
        writeln!(stdin, "{m}").unwrap();
    }
    // Answers come before the end of input closes the session.
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut ids = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
        ids.push(v["id"].clone());
    }
    assert_eq!(ids, [json!(1), json!(2), json!(3)], "{text}");
}
