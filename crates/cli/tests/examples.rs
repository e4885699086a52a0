//! The bundled example platforms, end to end through the binary.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use saphyr::{LoadableYamlNode, ScalarOwned, YamlOwned};
use serde_json::{Value, json};
use support::*;

fn run(args: &[&str]) -> std::process::Output {
    let out = bin().args(args).output().expect("runs");
    assert_no_panic(&out);
    out
}

fn home() -> String {
    example("home-platform").to_str().unwrap().to_string()
}

#[test]
fn home_platform_validates_clean() {
    let out = run(&["--root", &home(), "validate", "all", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "--json keeps stderr quiet on success"
    );
    let doc = json(&out);
    assert_eq!(doc["schema"], "platformctl/validate/v1");
    assert_eq!(doc["exitCode"], 0);
    assert_eq!(doc["findings"], json!([]));
    assert_eq!(doc["summary"]["modules"], 88);
    // --strict-v2 too: the example has no unknown fields.
    let out = run(&["--root", &home(), "validate", "--strict-v2", "--json"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn platform_root_is_found_by_walking_up_and_by_env() {
    let sub = example("home-platform").join("modules/minio");
    let out = bin()
        .current_dir(&sub)
        .args(["validate", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .current_dir(std::env::temp_dir())
        .env("PLATFORM_ROOT", home())
        .args(["validate", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn validate_paths_narrow_the_report() {
    let broken = example("broken");
    let root = broken.to_str().unwrap();
    let all = json(&run(&["--root", root, "validate", "all", "--json"]));
    let all_n = all["findings"].as_array().unwrap().len();
    let dir = broken.join("modules/unknown-host");
    let some = run(&["--root", root, "validate", dir.to_str().unwrap(), "--json"]);
    let doc = json(&some);
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty() && findings.len() < all_n);
    assert!(
        findings.iter().all(|f| f["module"] == "unknown-host"),
        "{doc:#}"
    );
    // A path that does not exist is a usage error.
    let out = run(&[
        "--root",
        root,
        "validate",
        "modules/no-such-module",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["exitCode"], 2);
}

#[test]
fn broken_has_every_content_finding_with_positions() {
    let out = run(&[
        "--root",
        example("broken").to_str().unwrap(),
        "validate",
        "all",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["exitCode"], 1);
    let findings = doc["findings"].as_array().unwrap();
    for f in findings {
        assert!(f["file"].as_str().is_some_and(|s| !s.is_empty()), "{f:#}");
        assert!(f["line"].as_u64().is_some_and(|l| l >= 1), "{f:#}");
        assert!(f["column"].as_u64().is_some_and(|c| c >= 1), "{f:#}");
        assert!(
            f["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{f:#}"
        );
    }
    let seen: std::collections::BTreeSet<String> = codes(&doc).into_iter().collect();
    for code in platformctl_catalog::Code::ALL {
        // These need file-system states git cannot hold; bad_input.rs covers them.
        if matches!(code.as_str(), "IO_ERROR" | "FILE_TOO_LARGE") {
            continue;
        }
        assert!(seen.contains(code.as_str()), "examples/broken lacks {code}");
    }
}

#[test]
fn secrets_are_never_printed() {
    let root = example("broken");
    let human = run(&["--root", root.to_str().unwrap(), "validate"]);
    let machine = run(&["--root", root.to_str().unwrap(), "validate", "--json"]);
    let doc = json(&machine);
    let secret_files: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SECRET")
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    assert!(!secret_files.is_empty());
    let all = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&human.stdout),
        String::from_utf8_lossy(&human.stderr),
        String::from_utf8_lossy(&machine.stdout),
        String::from_utf8_lossy(&machine.stderr)
    );
    for file in secret_files {
        let text = std::fs::read_to_string(root.join(&file)).unwrap();
        for f in doc["findings"].as_array().unwrap() {
            if f["code"] != "SECRET" || f["file"] != file.as_str() {
                continue;
            }
            let line = text
                .lines()
                .nth(f["line"].as_u64().unwrap() as usize - 1)
                .unwrap();
            let col = f["column"].as_u64().unwrap() as usize - 1;
            let value: String = line.chars().skip(col).collect();
            let value = value.trim().trim_matches('"');
            if value.len() >= 8 {
                assert!(!all.contains(value), "a secret from {file} was printed");
            }
        }
    }
}

/// YAML → JSON through a different YAML library than the tool's own.
fn to_json(y: &YamlOwned) -> Value {
    match y {
        YamlOwned::Value(s) => match s {
            ScalarOwned::Null => Value::Null,
            ScalarOwned::Boolean(b) => json!(b),
            ScalarOwned::Integer(i) => json!(i),
            ScalarOwned::FloatingPoint(f) => json!(f.into_inner()),
            ScalarOwned::String(s) => json!(s),
        },
        YamlOwned::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        YamlOwned::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        YamlOwned::Value(ScalarOwned::String(s)) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn manifests(example_name: &str) -> BTreeMap<String, Value> {
    let dir = example(example_name).join("modules");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path().join("module.yaml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let docs = YamlOwned::load_from_str(&text).expect("the example parses");
        out.insert(
            e.file_name().to_string_lossy().to_string(),
            to_json(&docs[0]),
        );
    }
    out
}

#[test]
fn coverage_counts_match_an_independent_count() {
    let out = run(&["--root", &home(), "coverage", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["schema"], "platformctl/coverage/v1");
    let m = manifests("home-platform");
    assert_eq!(doc["totalModules"], m.len());
    for part in ["source", "artifact", "update"] {
        let mut missing: Vec<&String> = m
            .iter()
            .filter(|(_, v)| v["spec"].get(part).is_none())
            .map(|(k, _)| k)
            .collect();
        missing.sort();
        assert_eq!(
            doc["parts"][part]["with"],
            m.len() - missing.len(),
            "{part}"
        );
        assert_eq!(doc["parts"][part]["missing"], missing.len(), "{part}");
        assert_eq!(
            doc["parts"][part]["missingModules"],
            json!(missing),
            "{part}"
        );
        let stateful: Vec<&&String> = missing
            .iter()
            .filter(|k| m[**k]["metadata"]["stateful"] == json!(true))
            .collect();
        assert_eq!(
            doc["parts"][part]["missingStateful"],
            json!(stateful),
            "{part}"
        );
    }
    for tier in ["core", "infra", "edge", "app"] {
        let of_tier: Vec<&Value> = m
            .values()
            .filter(|v| v["metadata"]["tier"] == tier)
            .collect();
        assert_eq!(doc["byTier"][tier]["total"], of_tier.len(), "{tier}");
        let with_artifact = of_tier
            .iter()
            .filter(|v| v["spec"].get("artifact").is_some())
            .count();
        assert_eq!(doc["byTier"][tier]["artifact"], with_artifact, "{tier}");
    }
    let stateful = m
        .values()
        .filter(|v| v["metadata"]["stateful"] == json!(true))
        .count();
    assert_eq!(doc["byStatefulness"]["stateful"]["total"], stateful);
    assert_eq!(
        doc["byStatefulness"]["stateless"]["total"],
        m.len() - stateful
    );
    // And the figures the example was written to have.
    assert_eq!(doc["totalModules"], 88);
    assert_eq!(doc["parts"]["source"]["with"], 12);
    assert_eq!(doc["parts"]["artifact"]["with"], 10);
    assert_eq!(doc["parts"]["update"]["with"], 13);
}

#[test]
fn coverage_human_and_markdown() {
    let out = run(&["--root", &home(), "coverage"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Total modules: 88\n"), "{text}");
    assert!(text.contains("Missing artifact metadata: 78\n"));
    insta::assert_snapshot!("coverage_human", text);
    let out = run(&["--root", &home(), "coverage", "--markdown"]);
    insta::assert_snapshot!("coverage_markdown", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn broken_human_output() {
    let out = run(&["--root", example("broken").to_str().unwrap(), "validate"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(
        "validate_broken_human",
        String::from_utf8(out.stdout).unwrap()
    );
}

#[test]
fn modules_list_and_show() {
    let out = run(&["--root", &home(), "modules", "list", "--json"]);
    let doc = json(&out);
    assert_eq!(doc["schema"], "platformctl/modules-list/v1");
    assert_eq!(doc["modules"].as_array().unwrap().len(), 88);
    let out = run(&["--root", &home(), "modules", "show", "honcho-api", "--json"]);
    let doc = json(&out);
    assert_eq!(
        doc["module"]["runtime"]["imageObserved"],
        "ghcr.io/plastic-labs/honcho:3.0.3"
    );
    assert_eq!(doc["expectedContainerName"], "home-platform-honcho-api-1");
    assert_eq!(
        doc["compose"]["image"]["value"],
        "ghcr.io/plastic-labs/honcho:3.0.6"
    );
    let out = run(&["--root", &home(), "modules", "show", "honcho-apx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `honcho-api`"));
    let out = run(&["--root", &home(), "modules", "list"]);
    insta::assert_snapshot!("modules_list", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn the_json_schema_accepts_every_example_and_rejects_mistakes() {
    let out = run(&["schema", "module"]);
    let schema: Value = json(&out);
    // The copy the example's manifests point their editors at is up to date.
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(example("home-platform").join("schema/module.schema.json"))
            .expect("examples/home-platform/schema/module.schema.json exists"),
    )
    .unwrap();
    assert_eq!(
        committed, schema,
        "regenerate: platformctl schema module > examples/home-platform/schema/module.schema.json"
    );
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    for (name, m) in manifests("home-platform") {
        let errors: Vec<String> = validator.iter_errors(&m).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    let base = manifests("home-platform")["minio"].clone();
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        validator.is_valid(&v)
    };
    assert!(mutate(&|_| {}));
    assert!(!mutate(&|v| v["metadata"]["tier"] = json!("backend")));
    assert!(!mutate(&|v| v["metadata"]["stateful"] = json!("yes")));
    assert!(!mutate(
        &|v| v["spec"]["runtime"]["compose_servce"] = json!("x")
    ));
    assert!(!mutate(&|v| {
        v["spec"]["runtime"].as_object_mut().unwrap().remove("host");
    }));
    assert!(!mutate(&|v| v["metadata"]["name"] = json!("minio;id")));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("validate"));
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["validate", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let root = home();
    let out = run(&["--root", &root, "coverage", "--json", "--markdown"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(Path::new(&root).exists());
}
