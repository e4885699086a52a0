//! compose-go's own interpolation and `.env` test cases (github.com/compose-spec/compose-go,
//! `template/template_test.go`, `dotenv/parser_test.go`, `dotenv/godotenv_test.go` and the
//! fixtures under `dotenv/fixtures`, ported as data into `tests/conformance/*.json`) run
//! against [`interpolate`] and [`parse_dotenv`].
//!
//! Cases the crate deliberately answers otherwise are listed with their reason in
//! `tests/conformance/compose-go.exceptions` (and docs/conformance.md). The run fails if an
//! unlisted case fails **or a listed case starts passing**, and prints
//! `compose-go template: P/N passed, E listed exceptions` and the same for `dotenv`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::ExitCode;

use platformctl_interpolate::{InterpolationErrorKind, Vars, interpolate, parse_dotenv};
use serde_json::Value as Json;

fn vars_of(v: Option<&Json>) -> Vars {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// One `Substitute(template, mapping)` call of template_test.go.
fn check_template(c: &Json, defaults: &Vars) -> Result<(), String> {
    let template = c["template"].as_str().unwrap_or_default();
    let vars = match &c["env"] {
        Json::String(s) if s == "defaults" => defaults.clone(),
        other => vars_of(Some(other)),
    };
    let got = interpolate(template, &vars);
    match c.get("error").and_then(Json::as_str) {
        None => {
            let out = got.map_err(|e| format!("error: {e}"))?;
            eq(
                "value",
                out.value.as_str(),
                c["value"].as_str().unwrap_or_default(),
            )?;
            match c.get("warnings").and_then(Json::as_u64) {
                Some(n) => eq("unset-variable warnings", out.unset.len() as u64, n),
                None => Ok(()),
            }
        }
        // compose-go: `Invalid template: …`; the crate's syntax errors.
        Some("Invalid template") => match got {
            Ok(_) => Err("accepted, want an invalid-template error".into()),
            Err(e) => match e.kind {
                InterpolationErrorKind::Required { .. } => {
                    Err(format!("required-variable error, want a syntax error: {e}"))
                }
                _ => Ok(()),
            },
        },
        // compose-go's MissingRequiredError{Variable, Reason}.
        Some(_) => match got {
            Ok(_) => Err("accepted, want a required-variable error".into()),
            Err(e) => match e.kind {
                InterpolationErrorKind::Required { name, message, .. } => {
                    eq(
                        "variable",
                        name.as_str(),
                        c["variable"].as_str().unwrap_or_default(),
                    )?;
                    eq(
                        "reason",
                        message.as_str(),
                        c["reason"].as_str().unwrap_or_default(),
                    )
                }
                other => Err(format!("{other:?}, want a required-variable error")),
            },
        },
    }
}

/// One Parse/Read/Load call of the dotenv tests.
fn check_dotenv(c: &Json, fixtures: &serde_json::Map<String, Json>) -> Result<(), String> {
    let env = vars_of(c.get("env"));
    let text = |c: &Json| -> String {
        match c.get("fixture").and_then(Json::as_str) {
            Some(f) => fixtures[f].as_str().expect("fixture text").to_string(),
            None => c["input"].as_str().unwrap_or_default().to_string(),
        }
    };
    let op = c["op"].as_str().unwrap_or_default();
    let result: Result<HashMap<String, String>, String> = match op {
        // Parse / Read / ReadWithLookup(env): the file's own map.
        "parse" => parse_dotenv(&text(c), &env)
            .map(|p| p.into_iter().collect())
            .map_err(|e| format!("{e}\u{0}{}", e.line)),
        // Load with presets: the environment wins over the file.
        "load" => parse_dotenv(&text(c), &env)
            .map(|p| Vars::layered(env_pairs(c), p))
            .map(|v| {
                v.names()
                    .map(|n| (n.to_string(), v.get(n).unwrap_or_default().to_string()))
                    .collect()
            })
            .map_err(|e| format!("{e}\u{0}{}", e.line)),
        // GetEnvFromFile(env, files): each file read with the environment as its lookup,
        // later files overriding earlier ones.
        "files" => {
            let mut all = HashMap::new();
            for input in c["inputs"].as_array().expect("inputs") {
                let pairs = parse_dotenv(input.as_str().unwrap_or_default(), &env)
                    .map_err(|e| format!("{e}\u{0}{}", e.line))?;
                all.extend(pairs);
            }
            Ok(all)
        }
        other => return Err(format!("no mapping for op {other}")),
    };
    // Read/ReadWithLookup drop keys that start with a digit (godotenv.go's
    // startsWithDigitRegex); GetEnvFromFile, which compose reads a project's `.env` with and
    // which the crate follows, keeps them.
    let result = result.map(|mut m| {
        if c.get("api").and_then(Json::as_str) == Some("Read") {
            m.retain(|k, _| !k.trim_start().starts_with(|ch: char| ch.is_ascii_digit()));
        }
        m
    });
    match c.get("error") {
        Some(_) => match result {
            Ok(_) => Err("parsed, want an error".into()),
            Err(e) => {
                let (msg, line) = e.split_once('\u{0}').unwrap_or((&e, ""));
                match c.get("error_line").and_then(Json::as_u64) {
                    Some(want) => eq(
                        &format!("error line ({msg})"),
                        line,
                        want.to_string().as_str(),
                    ),
                    None => Ok(()),
                }
            }
        },
        None => {
            let got = result.map_err(|e| format!("error: {}", e.replace('\u{0}', " at line ")))?;
            if let Some(want) = c.get("expected").and_then(Json::as_object) {
                for (k, v) in want {
                    eq(
                        &format!("value of {k:?}"),
                        got.get(k).map(String::as_str),
                        v.as_str(),
                    )?;
                }
            }
            if let Some(absent) = c.get("absent").and_then(Json::as_array) {
                for k in absent.iter().filter_map(Json::as_str) {
                    eq(&format!("{k:?} present"), got.contains_key(k), false)?;
                }
            }
            match c.get("count").and_then(Json::as_u64) {
                Some(n) => eq("number of keys", got.len() as u64, n),
                None => Ok(()),
            }
        }
    }
}

fn env_pairs(c: &Json) -> Vec<(String, String)> {
    c.get("env")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs one suite, returns its problems, prints its count.
fn run(
    label: &str,
    prefix: &str,
    cases: &[Json],
    listed: &BTreeMap<String, String>,
    check: &dyn Fn(&Json) -> Result<(), String>,
) -> Vec<String> {
    let mut passed = 0;
    let mut problems = Vec::new();
    let mut ids = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let id = format!("{prefix}#{i}");
        match (check(c), listed.get(&id)) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(reason)) => problems.push(format!(
                "{id}: listed as an exception ({reason}) but now passes: take it off the list"
            )),
            (Err(_), Some(_)) => {}
            (Err(why), None) => problems.push(format!("{id} {c}: {why}")),
        }
        ids.push(id);
    }
    let mine: Vec<&String> = listed
        .keys()
        .filter(|k| k.starts_with(&format!("{prefix}#")))
        .collect();
    for id in &mine {
        if !ids.contains(id) {
            problems.push(format!("{id}: listed, but there is no such case"));
        }
    }
    // harness = false: cargo test passes this straight to its output.
    println!(
        "{label}: {passed}/{} passed, {} listed exceptions",
        cases.len(),
        mine.len()
    );
    problems
}

fn load(dir: &Path, file: &str) -> Json {
    let text = std::fs::read_to_string(dir.join(file)).expect("read a case file");
    serde_json::from_str(&text).expect("a case file is JSON")
}

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let listed_text = std::fs::read_to_string(dir.join("compose-go.exceptions"))
        .expect("read the exceptions list");
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for line in listed_text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        listed.insert(id.to_string(), reason.trim().to_string());
    }

    let template = load(&dir, "template_test.json");
    let defaults = vars_of(template.get("defaults"));
    let mut problems = run(
        "compose-go template",
        "template",
        template["cases"].as_array().expect("cases"),
        &listed,
        &|c| check_template(c, &defaults),
    );

    let dotenv = load(&dir, "dotenv_test.json");
    let fixtures = dotenv["fixtures"].as_object().expect("fixtures").clone();
    problems.extend(run(
        "compose-go dotenv",
        "dotenv",
        dotenv["cases"].as_array().expect("cases"),
        &listed,
        &|c| check_dotenv(c, &fixtures),
    ));

    for id in listed.keys() {
        if !(id.starts_with("template#") || id.starts_with("dotenv#")) {
            problems.push(format!("{id}: listed, but names no suite"));
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("  {p}");
        }
        eprintln!("compose-go: {} unexpected result(s)", problems.len());
        ExitCode::FAILURE
    }
}
