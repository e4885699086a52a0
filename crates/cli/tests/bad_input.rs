//! Bad input (issue 2, item 8): every case ends in a clear finding or error with the right
//! exit code, never a panic, and within a bounded address space (2 GiB under prlimit).

mod support;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use support::*;

fn assert_position(f: &serde_json::Value, file: &str, line: i64) {
    assert_eq!(f["file"], file, "{f:#}");
    assert_eq!(f["line"].as_i64(), Some(line), "{f:#}");
    assert!(f["column"].as_i64().unwrap_or(0) >= 1, "{f:#}");
}

#[test]
fn the_mini_platform_is_valid() {
    let p = mini_platform();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(codes(&doc), Vec::<String>::new());
}

#[test]
fn yaml_syntax_error() {
    let p = mini_platform();
    write_manifest(
        p.path(),
        "web",
        "apiVersion: platform/v2\nkind: [Module\nmetadata:\n",
    );
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, "SYNTAX");
    assert_eq!(f["file"], "modules/web/module.yaml");
    assert!(f["line"].as_i64().unwrap() >= 2);
}

/// An unclosed flow collection names where it opened (issue 9, item 5): the JSON finding
/// carries `related` at the `[`, and the human rendering shows that line with a secondary
/// label. A syntax error outside any flow collection has no such place.
#[test]
fn an_unclosed_flow_collection_names_where_it_opened() {
    let p = mini_platform();
    let text = manifest("web", "web", "nginx:1.27")
        .replace("  tier: app\n", "  tier: app\n  labels: [a, b,\n    c\n");
    write_manifest(p.path(), "web", &text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, "SYNTAX");
    let open_line = text.lines().position(|l| l.contains("labels: [")).unwrap() + 1;
    assert_eq!(
        f["related"]["line"].as_u64(),
        Some(open_line as u64),
        "{f:#}"
    );
    assert_eq!(f["related"]["column"].as_u64(), Some(11), "{f:#}");
    assert!(f["line"].as_u64().unwrap() > open_line as u64, "{f:#}");
    let out = bin()
        .args(["--root"])
        .arg(p.path())
        .args(["validate", "all"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let human =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("the flow collection opened here"), "{human}");
    assert!(human.contains("labels: [a, b,"), "{human}");

    // Must not be: a syntax error with no open flow collection has no related place.
    write_manifest(
        p.path(),
        "web",
        "apiVersion: platform/v2\nkind: Module\n  metadata: x\n",
    );
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert!(finding(&doc, "SYNTAX").get("related").is_none(), "{doc:#}");
}

/// A manifest that does not parse adds no follow-on findings (issue 9, item 5): its compose
/// service is not also "unclaimed", whether it is named by the folder or by a
/// `compose_service:` line; a service no manifest mentions still is.
#[test]
fn a_manifest_that_does_not_parse_adds_no_follow_on_findings() {
    let p = mini_platform();
    write_manifest(
        p.path(),
        "web",
        "apiVersion: platform/v2\nkind: [Module\nmetadata:\n",
    );
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&doc), ["SYNTAX"], "{doc:#}");

    // Folder `kv`, service `cache`, found on its `compose_service:` line.
    std::fs::remove_dir_all(p.path().join("modules/cache")).unwrap();
    let text =
        manifest("kv", "\"cache\"  # the redis", "redis:7.4.1").replace("tier: app", "tier: [app");
    write_manifest(p.path(), "kv", text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&doc), ["SYNTAX", "SYNTAX"], "{doc:#}");

    // Must be a finding: a service that no manifest, parsed or not, claims.
    std::fs::remove_dir_all(p.path().join("modules/kv")).unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&doc),
        ["COMPOSE_SERVICE_UNCLAIMED", "SYNTAX"],
        "{doc:#}"
    );
    assert_eq!(
        finding(&doc, "COMPOSE_SERVICE_UNCLAIMED")["message"],
        "compose service `cache` has no module"
    );
}

#[test]
fn duplicate_keys() {
    let p = mini_platform();
    let text = manifest("web", "web", "nginx:1.27.3")
        .replace("  tier: app\n", "  tier: app\n  tier: core\n");
    write_manifest(p.path(), "web", text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_position(finding(&doc, "DUPLICATE_KEY"), "modules/web/module.yaml", 7);
}

#[test]
fn wrong_types() {
    let p = mini_platform();
    let text = manifest("web", "web", "nginx:1.27.3")
        .replace("  tier: app\n", "  tier: app\n  stateful: \"yes\"\n")
        .replace("    host: box\n", "    host: [box]\n");
    write_manifest(p.path(), "web", text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let wrong: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "WRONG_TYPE")
        .collect();
    assert_eq!(wrong.len(), 2, "{doc:#}");
    assert_position(wrong[0], "modules/web/module.yaml", 7);
    assert!(wrong[0]["message"].as_str().unwrap().contains("boolean"));
    assert_position(wrong[1], "modules/web/module.yaml", 10);
}

#[test]
fn unknown_fields_warn_and_fail_under_strict_v2() {
    let p = mini_platform();
    let text = manifest("web", "web", "nginx:1.27.3").replace(
        "    compose_service: web\n",
        "    compose_service: web\n    compose_servce: web\n",
    );
    write_manifest(p.path(), "web", text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 0, "a warning alone is exit 0: {doc:#}");
    let f = finding(&doc, "UNKNOWN_FIELD");
    assert_eq!(f["severity"], "warning");
    assert!(f["hint"].as_str().unwrap().contains("compose_service"));
    let (code, doc) = validate_json(p.path(), &["--strict-v2"]);
    assert_eq!(code, 1);
    assert_eq!(finding(&doc, "UNKNOWN_FIELD")["severity"], "error");
}

#[test]
fn alias_bomb() {
    let p = mini_platform();
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    write_manifest(p.path(), "web", text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        finding(&doc, "ALIAS_LIMIT")["file"],
        "modules/web/module.yaml"
    );
}

#[test]
fn twenty_thousand_deep_nesting() {
    let p = mini_platform();
    // Flow style, sequences: [[[[…]]]]
    let flow_seq = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    write_manifest(p.path(), "web", flow_seq);
    // Flow style, mappings: {a: {a: {…}}}
    let flow_map = format!("{}1{}", "{a: ".repeat(20_000), "}".repeat(20_000));
    write_manifest(p.path(), "cache", flow_map);
    // Block style, compact sequences: - - - - x
    let block = format!("{}x\n", "- ".repeat(20_000));
    write_manifest(p.path(), "block", block);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    for file in ["web", "cache", "block"] {
        let f = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == format!("modules/{file}/module.yaml"))
            .unwrap_or_else(|| panic!("no finding for {file}: {doc:#}"));
        assert_eq!(f["code"], "TOO_DEEP", "{f:#}");
        assert_eq!(f["line"], 1);
    }
}

#[test]
fn fifty_megabyte_file() {
    let p = mini_platform();
    let path = write_manifest(p.path(), "web", "");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    std::fs::write(&path, "a: b\n".repeat(10 * 1024 * 1024)).unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_position(
        finding(&doc, "FILE_TOO_LARGE"),
        "modules/web/module.yaml",
        1,
    );
}

#[test]
fn a_huge_compose_file_is_refused_too() {
    let p = mini_platform();
    let path = p.path().join("compose/apps/compose.yaml");
    std::fs::write(&path, "x: y\n".repeat(10 * 1024 * 1024)).unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        finding(&doc, "FILE_TOO_LARGE")["file"],
        "compose/apps/compose.yaml"
    );
}

#[test]
fn binary_and_non_utf8_content() {
    let p = mini_platform();
    write_manifest(
        p.path(),
        "web",
        b"apiVersion: platform/v2\nkind: Mod\xe9le\n",
    );
    write_manifest(p.path(), "cache", b"\x7fELF\x02\x01\x01\x00\x00\x00binary");
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let by_file = |file: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == file)
            .cloned()
            .unwrap()
    };
    let latin1 = by_file("modules/web/module.yaml");
    assert_eq!(latin1["code"], "FILE_NOT_TEXT");
    assert_eq!(latin1["line"], 2);
    assert_eq!(latin1["column"], 10);
    assert_eq!(
        by_file("modules/cache/module.yaml")["code"],
        "FILE_NOT_TEXT"
    );
}

#[test]
fn empty_files() {
    let p = mini_platform();
    write_manifest(p.path(), "web", "");
    write_manifest(p.path(), "cache", "# nothing but a comment\n");
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&doc).iter().filter(|c| *c == "FILE_EMPTY").count(), 2);
}

#[test]
fn module_folder_without_manifest() {
    let p = mini_platform();
    std::fs::create_dir_all(p.path().join("modules/orphan")).unwrap();
    std::fs::write(p.path().join("modules/orphan/README.md"), "notes").unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, "MANIFEST_MISSING");
    assert_position(f, "modules/orphan", 1);
    assert_eq!(f["module"], "orphan");
}

#[test]
fn name_differs_from_folder() {
    let p = mini_platform();
    write_manifest(p.path(), "web", manifest("website", "web", "nginx:1.27.3"));
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, "NAME_MISMATCH");
    assert_position(f, "modules/web/module.yaml", 4);
    assert!(f["hint"].as_str().unwrap().contains("name: web"));
}

#[test]
fn symlink_loops() {
    let p = mini_platform();
    // A manifest that links to itself, and a module folder that links to itself.
    let m = p.path().join("modules/loop/module.yaml");
    std::fs::create_dir_all(m.parent().unwrap()).unwrap();
    symlink("module.yaml", &m).unwrap();
    symlink("dirloop", p.path().join("modules/dirloop")).unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 2, "an unreadable file is an I/O error: {doc:#}");
    let io: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "IO_ERROR")
        .collect();
    assert_eq!(io.len(), 2, "{doc:#}");
    assert!(
        io.iter()
            .all(|f| f["message"].as_str().unwrap().contains("symbolic links"))
    );
    // The other modules were still validated.
    assert_eq!(doc["summary"]["modules"], 3);
}

#[test]
fn unreadable_file() {
    let p = mini_platform();
    let path = p.path().join("modules/web/module.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads anything: run as nobody then (the temp folders are world-readable).
    std::fs::set_permissions(p.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("platformctl");
    let root = p.path().to_str().unwrap().to_string();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut cmd = if is_root {
        let mut c = assert_cmd::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&exe);
        c
    } else {
        assert_cmd::Command::new(&exe)
    };
    let out = cmd
        .args(["--root", &root, "validate", "all", "--json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    let f = finding(&doc, "IO_ERROR");
    assert_position(f, "modules/web/module.yaml", 1);
    assert!(f["message"].as_str().unwrap().contains("permission denied"));
}

#[test]
fn a_directory_where_the_manifest_should_be() {
    let p = mini_platform();
    let path = p.path().join("modules/web/module.yaml");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        finding(&doc, "IO_ERROR")["message"]
            .as_str()
            .unwrap()
            .contains("directory")
    );
}

#[test]
fn broken_platform_toml() {
    let p = mini_platform();
    std::fs::write(
        p.path().join("platform.toml"),
        "[platform]\nname = \"mini\"\ncompose_project = \"mini\n\n[hosts.box]\n",
    )
    .unwrap();
    let root = p.path().to_str().unwrap();
    let out = bin_bounded(&["--root", root, "validate", "all", "--json"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["exitCode"], 2);
    assert_eq!(doc["error"]["finding"]["file"], "platform.toml");
    assert_eq!(doc["error"]["finding"]["line"], 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("platform.toml:3:"), "{stderr}");
    assert!(stderr.contains("^"), "a caret under the problem: {stderr}");
}

#[test]
fn no_platform_toml() {
    let d = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(d.path())
        .args(["validate"])
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--root"));
    let out = bin()
        .args(["--root", d.path().to_str().unwrap(), "coverage", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["exitCode"], 2);
}

#[test]
fn shell_metacharacters_in_names() {
    let p = mini_platform();
    std::fs::write(
        p.path().join("compose/apps/compose.yaml"),
        format!("{COMPOSE}  \"evil;touch /tmp/pwned\":\n    image: busybox:1.37\n"),
    )
    .unwrap();
    let text = manifest("web", "web$(id)", "nginx:1.27.3");
    write_manifest(p.path(), "web", text);
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let names: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "NAME_INVALID")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        names.contains(&("compose/apps/compose.yaml".into(), 7)),
        "{names:?}"
    );
    assert!(
        names.contains(&("modules/web/module.yaml".into(), 12)),
        "{names:?}"
    );
}

#[test]
fn hostile_platform_toml_values() {
    let p = mini_platform();
    std::fs::write(
        p.path().join("platform.toml"),
        PLATFORM_TOML.replace("deploy@box", "-oProxyCommand=sh -c 'touch /tmp/x'")
            + "docker_socket = \"/var/run/docker.sock; id\"\n",
    )
    .unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let targets = codes(&doc)
        .iter()
        .filter(|c| *c == "TARGET_INVALID")
        .count();
    assert_eq!(targets, 2, "{doc:#}");
}

#[test]
fn a_manifest_that_is_a_list_or_a_scalar() {
    let p = mini_platform();
    write_manifest(p.path(), "web", "- a\n- b\n");
    write_manifest(p.path(), "cache", "just a string\n");
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&doc).iter().filter(|c| *c == "WRONG_TYPE").count(), 2);
}

#[test]
fn a_compose_file_that_is_missing() {
    let p = mini_platform();
    std::fs::remove_file(p.path().join("compose/apps/compose.yaml")).unwrap();
    let (code, doc) = validate_json(p.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, "COMPOSE_FILE_MISSING");
    assert_position(f, "modules/cache/module.yaml", 11);
}

#[test]
fn nothing_is_written() {
    // validate only reads: the tree is byte-for-byte the same afterwards.
    let p = mini_platform();
    write_manifest(p.path(), "web", "kind: [broken\n");
    let before = snapshot(p.path());
    let _ = validate_json(p.path(), &[]);
    assert_eq!(before, snapshot(p.path()));
}

fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out.sort();
    out
}
