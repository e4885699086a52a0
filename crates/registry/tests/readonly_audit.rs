//! Read-only audit of this crate's own sources: fails if someone adds a way to change a
//! registry.
//!
//! The crate's code (everything in `src/` before a file's `#[cfg(test)]` module; comments are
//! ignored, string literals are not) must contain:
//! - no HTTP method other than GET and HEAD, as a word of code or of a literal;
//! - exactly two requests built, `Request::get(…)` and `Request::head(…)`, both in
//!   `src/http.rs`, and no other way to build one (`Request::builder`, `.method(…)`,
//!   `Method::from_bytes`, …); no request body but `Empty`;
//! - exactly one place that sends a request (`.request(`, the pooled client's), in
//!   `src/http.rs`; no hyper, socket or request outside `src/http.rs`;
//! - no process started (credential helpers run inside the `docker_credential` crate, which
//!   only reads), no file written but the cache's (`cache.rs`).
//!
//! Each rule is also run against a planted violation, so a rule that silently stopped
//! matching would fail here too.

use std::path::{Path, PathBuf};

use regex::Regex;

const FORBIDDEN: [&str; 7] = [
    "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

struct Source {
    path: PathBuf,
    code: String,
    literals: Vec<String>,
}

/// Splits a file into code (comments and string literals removed) and its literals.
fn lex(path: &Path, text: &str) -> Source {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut code = String::new();
    let mut literals = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |e| e + 2);
        } else if rest.starts_with("r#\"") {
            let end = rest
                .get(3..)
                .and_then(|r| r.find("\"#"))
                .map_or(rest.len(), |e| e + 3);
            literals.push(rest[3..end].to_owned());
            code.push_str("\"\"");
            i += (end + 2).min(rest.len());
        } else if rest.starts_with('"') {
            let mut j = 1;
            let rb = rest.as_bytes();
            let mut lit = String::new();
            while j < rb.len() && rb[j] != b'"' {
                if rb[j] == b'\\' && j + 1 < rb.len() {
                    lit.push(char::from(rb[j + 1]));
                    j += 2;
                } else {
                    let ch = rest[j..].chars().next().unwrap();
                    lit.push(ch);
                    j += ch.len_utf8();
                }
            }
            literals.push(lit);
            code.push_str("\"\"");
            i += j + 1;
        } else if let Some(after) = rest.strip_prefix('\'') {
            if let Some(ch) = after.chars().next()
                && ch != '\\'
                && after[ch.len_utf8()..].starts_with('\'')
            {
                i += 2 + ch.len_utf8();
            } else if after.starts_with('\\') {
                let close = after[2..].find('\'').map_or(0, |e| e + 1);
                i += 3 + close;
            } else {
                code.push('\'');
                i += 1;
            }
        } else {
            let ch = rest.chars().next().unwrap();
            code.push(ch);
            i += ch.len_utf8();
        }
    }
    Source {
        path: path.to_owned(),
        code,
        literals,
    }
}

fn sources() -> Vec<Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    paths.sort();
    let out: Vec<Source> = paths
        .iter()
        .map(|p| lex(p, &std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(out.iter().any(|s| s.path.ends_with("src/http.rs")));
    out
}

fn violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    let mut flag = |what: String| v.push(format!("{}: {what}", s.path.display()));
    for m in FORBIDDEN {
        let word = Regex::new(&format!(r"\b{m}\b")).unwrap();
        if word.is_match(&s.code) {
            flag(format!("HTTP method {m} in code"));
        }
        for lit in &s.literals {
            if word.is_match(lit) {
                flag(format!("HTTP method {m} in {lit:?}"));
            }
        }
    }
    let constructors = Regex::new(r"\bRequest\s*::\s*(?:<[^>]*>\s*::\s*)?([A-Za-z_]+)").unwrap();
    for c in constructors.captures_iter(&s.code) {
        if !matches!(&c[1], "get" | "head") {
            flag(format!("builds a request with Request::{}", &c[1]));
        }
    }
    for (pattern, what) in [
        (r"\.\s*method\s*\(", "sets a request method"),
        (r"\bMethod\s*::", "names a method"),
        (
            r"\b(?:Full|StreamBody|BoxBody|UnsyncBoxBody)\s*(?:<|::\s*new)",
            "a request body that can hold data",
        ),
        (r"\bCommand\s*::\s*new\b", "starts a process"),
        (r"\bstd::process::Command\b", "starts a process"),
    ] {
        if Regex::new(pattern).unwrap().is_match(&s.code) {
            flag(what.to_owned());
        }
    }
    if !s.path.ends_with("src/http.rs") {
        for (pattern, what) in [
            (r"\bhyper(?:_util|_rustls)?\b", "uses hyper outside http.rs"),
            (r"\bRequest\s*::", "builds a request outside http.rs"),
            (r"\.\s*request\s*\(", "sends a request outside http.rs"),
            (
                r"\b(?:TcpStream|UnixStream|UdpSocket)\b",
                "opens a socket outside http.rs",
            ),
        ] {
            if Regex::new(pattern).unwrap().is_match(&s.code) {
                flag(what.to_owned());
            }
        }
    }
    if !s.path.ends_with("src/cache.rs")
        && Regex::new(r"\bfs\s*::\s*(?:write|rename|create_dir_all|remove_file|File\s*::\s*create|OpenOptions)")
            .unwrap()
            .is_match(&s.code)
    {
        flag("writes a file outside cache.rs".to_owned());
    }
    v
}

fn sites(s: &Source) -> (usize, usize, usize) {
    let count = |p: &str| Regex::new(p).unwrap().find_iter(&s.code).count();
    (
        count(r"\bRequest\s*::\s*get\s*\("),
        count(r"\bRequest\s*::\s*head\s*\("),
        count(r"\.\s*request\s*\("),
    )
}

#[test]
fn the_crate_can_only_get_and_head() {
    let sources = sources();
    let mut all = Vec::new();
    let mut total = (0, 0, 0);
    for s in &sources {
        all.extend(violations(s));
        let (g, h, r) = sites(s);
        total = (total.0 + g, total.1 + h, total.2 + r);
    }
    assert!(
        all.is_empty(),
        "read-only audit failed:\n  {}",
        all.join("\n  ")
    );
    assert_eq!(total, (1, 1, 1), "one GET, one HEAD built, one send site");
    let http = sources
        .iter()
        .find(|s| s.path.ends_with("src/http.rs"))
        .unwrap();
    assert_eq!(sites(http), (1, 1, 1), "all in http.rs");
}

#[test]
fn the_audit_catches_planted_violations() {
    let planted = |code: &str| lex(Path::new("src/planted.rs"), code);
    for code in [
        r#"let r = Request::put(uri).body(Empty::new());"#,
        r#"let r = Request::builder().uri(u).body(Empty::new());"#,
        r#"let r = Request::get(u).method(m);"#,
        r#"let m = Method::from_bytes(b"X");"#,
        r#"const M: &str = "DELETE";"#,
        r#"let r = Request::get(u).body(Full::new(b));"#,
        r#"let c = hyper_util::client::legacy::Client::builder(e);"#,
        r#"let r = client.request(req).await;"#,
        r#"std::fs::write(p, token);"#,
        r#"let c = Command::new("docker");"#,
        r#"let s = format!("POST /v2/{}/blobs/uploads/", n);"#,
    ] {
        assert!(!violations(&planted(code)).is_empty(), "missed: {code}");
    }
    let fine = planted(
        r#"// POST in a comment
        fn f() { let x = "GET and HEAD only"; }"#,
    );
    assert!(violations(&fine).is_empty());
}
