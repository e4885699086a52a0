//! Docker's own image-reference test tables (github.com/distribution/reference, Apache-2.0:
//! `reference_test.go`, `normalize_test.go`, `regexp_test.go`, ported as data into
//! `tests/conformance/*.json`) run against [`ImageRef::parse`].
//!
//! Docker parses a compose `image:` with `ParseNormalizedNamed`, which is `Parse` after
//! `splitDockerDomain` (normalize.go). The crate has that one entry point, so every table is
//! mapped onto it; [`docker_name`] is normalize.go's rule, written out here as the oracle for
//! tables that state the *un*-normalised answer of `Parse` or of a regular expression. Each
//! table's mapping is written at its arm in [`check`].
//!
//! Cases the crate deliberately answers otherwise are listed with their reason in
//! `tests/conformance/distribution-reference.exceptions` (and docs/conformance.md). The run
//! fails if an unlisted case fails **or a listed case starts passing**, and prints
//! `distribution/reference: P/N passed, E listed exceptions`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use platformctl_imageref::{ErrorKind, ImageRef};
use serde_json::Value as Json;

const FILES: [&str; 3] = [
    "reference_test.json",
    "normalize_test.json",
    "regexp_test.json",
];

/// What normalize.go makes of a name (no tag, no digest): `(domain, path)`, or `None` when the
/// normalised path is longer than Docker's 255 bytes (`ErrNameTooLong`).
fn docker_name(name: &str) -> Option<(String, String)> {
    let (domain, remote) = match name.split_once('/') {
        None => ("docker.io", name.to_string()),
        Some((d, rest)) => {
            if d == "localhost" || d.contains(['.', ':']) || d.to_lowercase() != d {
                (
                    if d == "index.docker.io" {
                        "docker.io"
                    } else {
                        d
                    },
                    rest.to_string(),
                )
            } else {
                ("docker.io", name.to_string())
            }
        }
    };
    let remote = if domain == "docker.io" && !remote.contains('/') {
        format!("library/{remote}")
    } else {
        remote
    };
    (remote.len() <= 255).then(|| (domain.to_string(), remote))
}

/// Go's `String()` of what `ParseNormalizedNamed` returns: the name, then the tag and digest
/// as written (no implied `latest`).
fn go_string(r: &ImageRef) -> String {
    let mut s = r.name();
    if let Some(t) = r.tag() {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = r.digest() {
        s.push('@');
        s.push_str(&d.to_string());
    }
    s
}

fn str_field<'a>(c: &'a Json, k: &str) -> &'a str {
    c.get(k).and_then(Json::as_str).unwrap_or("")
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Whether our error is the one Go names. `ErrReferenceInvalidFormat` and the others without
/// a counterpart accept any error.
fn same_error(go: &str, ours: &ErrorKind) -> bool {
    match go {
        "ErrNameEmpty" => *ours == ErrorKind::Empty,
        "ErrNameContainsUppercase" => *ours == ErrorKind::Uppercase,
        "ErrNameTooLong" => matches!(ours, ErrorKind::NameTooLong { .. }),
        "digest.ErrDigestInvalidLength" => matches!(ours, ErrorKind::DigestLength { .. }),
        "digest.ErrDigestUnsupported" => *ours == ErrorKind::UnsupportedDigestAlgorithm,
        _ => true,
    }
}

fn expect_ok(input: &str) -> Result<ImageRef, String> {
    ImageRef::parse(input).map_err(|e| format!("refused: {e}"))
}

fn expect_err(input: &str) -> Result<ErrorKind, String> {
    match ImageRef::parse(input) {
        Ok(r) => Err(format!("accepted as {r}")),
        Err(e) => Ok(e.kind().clone()),
    }
}

fn eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// The name (as normalize.go would make it), tag and digest of a parse.
fn expect_parts(r: &ImageRef, name: &str, tag: &str, digest: &str) -> Result<(), String> {
    match docker_name(name) {
        Some((d, p)) => {
            eq("registry", r.registry(), d.as_str())?;
            eq("repository", r.repository(), p.as_str())?;
        }
        None => {
            return Err(format!(
                "accepted, but {name:?} is too long once normalised"
            ));
        }
    }
    eq("tag", r.tag(), opt(tag))?;
    eq(
        "digest",
        r.digest().map(|d| d.to_string()),
        opt(digest).map(str::to_string),
    )
}

/// Runs one case of one table.
fn check(table: &str, c: &Json) -> Result<(), String> {
    let input = str_field(c, "input");
    match table {
        // Parse(input): an error as named, or the parts. Parse's `repository` is the name
        // as written; normalised by normalize.go it must equal ours (and be refused when the
        // normalised path passes 255 bytes, as ParseNormalizedNamed refuses it).
        "TestReferenceParse" => match c.get("err").and_then(Json::as_str) {
            Some(go) => {
                let k = expect_err(input)?;
                if same_error(go, &k) {
                    Ok(())
                } else {
                    Err(format!("refused with {k:?}, want {go}"))
                }
            }
            None => match docker_name(str_field(c, "repository")) {
                None => expect_err(input).map(|_| ()),
                Some(_) => {
                    let r = expect_ok(input)?;
                    expect_parts(
                        &r,
                        str_field(c, "repository"),
                        str_field(c, "tag"),
                        str_field(c, "digest"),
                    )
                }
            },
        },
        // WithName(input) fails: the input is no valid bare name (an error, or a tag or
        // digest is part of it).
        "TestWithNameFailure" => match ImageRef::parse(input) {
            Err(_) => Ok(()),
            Ok(r) if r.tag().is_some() || r.digest().is_some() => Ok(()),
            Ok(r) => Err(format!("accepted as the bare name {}", r.name())),
        },
        // WithName(input): Domain/Path of the raw name; normalised, they must equal ours.
        "TestDomainAndPath" => {
            let r = expect_ok(input)?;
            expect_parts(&r, input, "", "")
        }
        // A reference field unmarshalled from JSON: Parse of `input`.
        "TestSerialization" => {
            if c.get("err").is_some() {
                return expect_err(input).map(|_| ());
            }
            let r = expect_ok(input)?;
            expect_parts(
                &r,
                str_field(c, "name"),
                str_field(c, "tag"),
                str_field(c, "digest"),
            )
        }
        // ParseNamed accepts only a canonical name (one whose normalised form is itself).
        "TestParseNamed" => {
            let r = expect_ok(input)?;
            let canonical = r.name() == input && r.tag().is_none() && r.digest().is_none();
            match c.get("err") {
                Some(_) => eq("canonical", canonical, false),
                None => {
                    eq("canonical", canonical, true)?;
                    eq("registry", r.registry(), str_field(c, "domain"))?;
                    eq("repository", r.repository(), str_field(c, "path"))
                }
            }
        }
        // ParseNormalizedNamed accepts or refuses.
        "TestValidateReferenceName" | "TestValidateRemoteName" => {
            if c["valid"].as_bool() == Some(true) {
                expect_ok(input).map(|_| ())
            } else {
                expect_err(input).map(|_| ())
            }
        }
        // Every way of writing a repository parses to the same one.
        "TestParseRepositoryInfo" => {
            let mut refs = vec![str_field(c, "FamiliarName"), str_field(c, "FullName")];
            if let Some(a) = opt(str_field(c, "AmbiguousName")) {
                refs.push(a);
            }
            for s in refs {
                let r = expect_ok(s).map_err(|e| format!("{s}: {e}"))?;
                let ctx = |e: String| format!("{s}: {e}");
                eq(
                    "familiar name",
                    r.familiar_name().as_str(),
                    str_field(c, "FamiliarName"),
                )
                .map_err(ctx)?;
                eq("full name", r.name().as_str(), str_field(c, "FullName")).map_err(ctx)?;
                eq("domain", r.registry(), str_field(c, "Domain")).map_err(ctx)?;
                eq("remote name", r.repository(), str_field(c, "RemoteName")).map_err(ctx)?;
            }
            Ok(())
        }
        "TestParseReferenceWithTagAndDigest" => {
            let r = expect_ok(input)?;
            eq("String", go_string(&r).as_str(), str_field(c, "String"))?;
            eq(
                "FamiliarString",
                r.familiar().as_str(),
                str_field(c, "FamiliarString"),
            )
        }
        "TestInvalidReferenceComponents" => expect_err(input).map(|_| ()),
        // ParseAnyReference: an image ID gives a digest reference; the crate refuses those as
        // ImageId (they name no registry content). Otherwise as ParseNormalizedNamed.
        "TestParseAnyReference" => {
            let input = str_field(c, "Reference");
            if c.get("Expected").is_some() {
                let k = expect_err(input)?;
                return eq("error", k, ErrorKind::ImageId);
            }
            let r = expect_ok(input)?;
            eq("String", go_string(&r).as_str(), str_field(c, "Equivalent"))
        }
        "TestNormalizedSplitHostname" => {
            let r = expect_ok(input)?;
            eq("domain", r.registry(), str_field(c, "domain"))?;
            eq("path", r.repository(), str_field(c, "path"))
        }
        // ParseDockerRef: the implied `latest` written out, and only the digest when there
        // are both.
        "TestParseDockerRef" => {
            let r = expect_ok(input)?;
            let docker_ref = match r.digest() {
                Some(d) => format!("{}@{d}", r.name()),
                None => r.normalized(),
            };
            eq(
                "ParseDockerRef",
                docker_ref.as_str(),
                str_field(c, "expected"),
            )
        }
        // `domainAndPort` matches `input` exactly when `input/x` parses with `input` as its
        // registry (or, for a host normalize.go does not take for one, such as `a`, as
        // `docker.io/input/x`).
        "TestDomainRegexp" => {
            let s = format!("{input}/x");
            if c["match"].as_bool() == Some(true) {
                let r = expect_ok(&s)?;
                expect_parts(&r, &s, "", "")
            } else {
                expect_err(&s).map(|_| ())
            }
        }
        // `anchoredNameRegexp` matches a bare name: it must parse with no tag or digest, to
        // the normalised form of the whole name (refused past 255 bytes, a rule the regular
        // expression leaves to Parse). A non-match is refused or is no bare name.
        "TestFullNameRegexp" => {
            if c["match"].as_bool() == Some(true) {
                match docker_name(input) {
                    None => match expect_err(input)? {
                        ErrorKind::NameTooLong { .. } => Ok(()),
                        k => Err(format!("refused with {k:?}, want NameTooLong")),
                    },
                    Some(_) => {
                        let r = expect_ok(input)?;
                        expect_parts(&r, input, "", "")
                    }
                }
            } else {
                match ImageRef::parse(input) {
                    Err(_) => Ok(()),
                    Ok(r) if r.tag().is_some() || r.digest().is_some() => Ok(()),
                    Ok(r) => Err(format!("accepted as the bare name {}", r.name())),
                }
            }
        }
        // `ReferenceRegexp` with its three captures: name, tag, digest.
        "TestReferenceRegexp" => {
            if c["match"].as_bool() == Some(true) {
                let subs: Vec<&str> = c["subs"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default();
                let r = expect_ok(input)?;
                expect_parts(&r, subs[0], subs[1], subs[2])
            } else {
                expect_err(input).map(|_| ())
            }
        }
        // `anchoredIdentifierRegexp`: a bare image ID, refused as ImageId.
        "TestIdentifierRegexp" => {
            let is_id = matches!(ImageRef::parse(input), Err(e) if *e.kind() == ErrorKind::ImageId);
            eq(
                "refused as an image ID",
                is_id,
                c["match"].as_bool() == Some(true),
            )
        }
        other => Err(format!("no mapping for table {other}")),
    }
}

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let listed_text = std::fs::read_to_string(dir.join("distribution-reference.exceptions"))
        .expect("read the exceptions list");
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for line in listed_text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        listed.insert(id.to_string(), reason.trim().to_string());
    }
    let mut total = 0;
    let mut passed = 0;
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    for file in FILES {
        let text = std::fs::read_to_string(dir.join(file)).expect("read a table file");
        let data: Json = serde_json::from_str(&text).expect("a table file is JSON");
        let tables = data["tables"].as_object().expect("tables");
        for (table, cases) in tables {
            for (i, c) in cases
                .as_array()
                .expect("a list of cases")
                .iter()
                .enumerate()
            {
                let id = format!("{table}#{i}");
                total += 1;
                let outcome = check(table, c);
                match (outcome, listed.get(&id)) {
                    (Ok(()), None) => passed += 1,
                    (Ok(()), Some(reason)) => problems.push(format!(
                        "{id}: listed as an exception ({reason}) but now passes: take it off \
                         the list"
                    )),
                    (Err(_), Some(_)) => {}
                    (Err(why), None) => problems.push(format!("{id} {c}: {why}")),
                }
                seen.push(id);
            }
        }
    }
    for id in listed.keys() {
        if !seen.contains(id) {
            problems.push(format!("{id}: listed, but the tables have no such case"));
        }
    }
    let line = format!(
        "distribution/reference: {passed}/{total} passed, {} listed exceptions",
        listed.len()
    );
    // harness = false: cargo test passes this straight to its output.
    println!("{line}");
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("  {p}");
        }
        eprintln!(
            "distribution/reference: {} unexpected result(s)",
            problems.len()
        );
        ExitCode::FAILURE
    }
}
