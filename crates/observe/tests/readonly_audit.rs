//! Read-only audit of this crate's own sources: fails if someone adds a way to change a host.
//!
//! The crate's code (everything in `src/` and `examples/` before a file's `#[cfg(test)]`
//! module; comments are ignored, string literals and code are not) must contain:
//! - no HTTP method other than GET; exactly one request built (`Request::get(…)`, in
//!   `src/http.rs`) and exactly one place that sends one (`send_request`, in `src/http.rs`); no
//!   other way to build a request (`Request::builder`, `.method(…)`, `Method::from_bytes`, …),
//!   no request body but `Empty`, no hand-written request line, and no socket, hyper or
//!   request outside `src/http.rs`;
//! - no process started other than `ssh` (`Command::new("ssh")`, once);
//! - remote commands only from `remote::command_line(…)`;
//! - no docker invocation other than `ps`, `inspect` and `image inspect`, and in the remote
//!   script template no mutating docker word at all (run, create, start, stop, rm, …).
//!
//! Each rule is also run against a planted violation, so a rule that silently stopped
//! matching would fail here too.

use std::path::{Path, PathBuf};

use regex::Regex;

const METHODS: [&str; 8] = [
    "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
];

/// docker subcommands (and compose verbs) that change something on an engine.
const MUTATING: &[&str] = &[
    "run",
    "create",
    "start",
    "stop",
    "restart",
    "kill",
    "rm",
    "rmi",
    "pull",
    "push",
    "exec",
    "update",
    "pause",
    "unpause",
    "rename",
    "tag",
    "prune",
    "up",
    "down",
    "commit",
    "cp",
    "attach",
    "build",
    "load",
    "import",
    "save",
    "export",
    "login",
    "logout",
    "wait",
    "network",
    "volume",
    "system",
    "swarm",
    "service",
    "stack",
    "secret",
    "config",
    "plugin",
    "compose",
    "buildx",
    "builder",
    "checkpoint",
    "context",
    "trust",
    "node",
    "manifest",
    "scale",
    "remove",
    "delete",
];

/// One source file, split into code (comments and literals removed) and its string literals.
struct Source {
    path: PathBuf,
    code: String,
    literals: Vec<String>,
}

fn lex(path: &Path, text: &str) -> Source {
    // Only what precedes the file's test module is the crate's code.
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    let raw_start = Regex::new(r##"^b?r(#*)""##).unwrap();
    let b = text.as_bytes();
    let mut code = String::new();
    let mut literals = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |e| e + 2);
        } else if let Some(caps) = (rest.starts_with('r') || rest.starts_with("br"))
            .then(|| code.chars().last())
            .filter(|prev| !prev.is_some_and(|c| c.is_alphanumeric() || c == '_'))
            .and_then(|_| raw_start.captures(rest))
        {
            let hashes = caps[1].len();
            let start = caps[0].len();
            let close = format!("\"{}", "#".repeat(hashes));
            let end = rest[start..].find(&close).map_or(rest.len(), |e| start + e);
            literals.push(rest[start..end].to_owned());
            code.push_str("\"\"");
            i += (end + close.len()).min(rest.len());
        } else if rest.starts_with('"') || rest.starts_with("b\"") {
            let start = if rest.starts_with('"') { 1 } else { 2 };
            let mut j = start;
            let mut lit = String::new();
            let rb = rest.as_bytes();
            while j < rb.len() && rb[j] != b'"' {
                if rb[j] == b'\\' && j + 1 < rb.len() {
                    match rb[j + 1] {
                        b'n' => lit.push('\n'),
                        b'r' => lit.push('\r'),
                        b't' => lit.push('\t'),
                        b'\n' => {
                            // line continuation: skip the newline and leading whitespace
                            j += 2;
                            while j < rb.len() && (rb[j] == b' ' || rb[j] == b'\n') {
                                j += 1;
                            }
                            continue;
                        }
                        c => lit.push(char::from(c)),
                    }
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
            // char literal or lifetime
            if let Some(escaped) = after.strip_prefix('\\') {
                // `'\''`, `'\n'`, `'\u{…}'`: the escaped character, then up to the closing quote
                let close = escaped.get(1..).and_then(|e| e.find('\''));
                i += 3 + close.map_or(0, |e| e + 1);
            } else if let Some(ch) = after.chars().next()
                && after[ch.len_utf8()..].starts_with('\'')
            {
                i += 2 + ch.len_utf8();
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["src", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push(lex(&p, &text));
        }
    }
    assert!(
        out.iter().any(|s| s.path.ends_with("src/http.rs")),
        "the audit found no sources"
    );
    out
}

fn method_violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    for m in METHODS {
        let word = Regex::new(&format!(r"\b{m}\b")).unwrap();
        if word.is_match(&s.code) {
            v.push(format!("{}: HTTP method {m} in code", s.path.display()));
        }
        for lit in &s.literals {
            if word.is_match(lit) {
                v.push(format!("{}: HTTP method {m} in {lit:?}", s.path.display()));
            }
        }
    }
    // hyper writes the request line; a hand-written one (whatever its method) bypasses it.
    let request_line = Regex::new(r"([A-Za-z]+) +\S+ +HTTP/1\.[01]\r\n").unwrap();
    for lit in &s.literals {
        for c in request_line.captures_iter(lit) {
            v.push(format!(
                "{}: a hand-written request line with method {}",
                s.path.display(),
                &c[1]
            ));
        }
    }
    v
}

/// How requests are built and sent: only `Request::get`, only in http.rs, bodiless.
fn http_violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    let mut flag = |what: &str| v.push(format!("{}: {what}", s.path.display()));
    let constructors = Regex::new(r"\bRequest\s*::\s*(?:<[^>]*>\s*::\s*)?([A-Za-z_]+)").unwrap();
    for c in constructors.captures_iter(&s.code) {
        if &c[1] != "get" {
            flag(&format!("builds a request with Request::{}", &c[1]));
        }
    }
    for (pattern, what) in [
        (r"\.\s*method\s*\(", "sets a request method"),
        (
            r"\bMethod\s*::\s*(?:from_bytes|from_str|from)\b",
            "makes a method from data",
        ),
        (
            r"\bBuilder\s*::\s*new\s*\(\s*\)\s*\.\s*(?:method|uri)\b",
            "builds a request by hand",
        ),
        (r"\btry_send_request\b", "sends with try_send_request"),
        (
            r"\b(?:Full|StreamBody|BoxBody|UnsyncBoxBody|Incoming)\s*(?:<|::\s*new)",
            "a request body that can hold data",
        ),
    ] {
        if Regex::new(pattern).unwrap().is_match(&s.code) {
            flag(what);
        }
    }
    if !s.path.ends_with("src/http.rs") {
        for (pattern, what) in [
            (r"\bhyper(?:_util)?\b", "uses hyper outside http.rs"),
            (r"\bhttp_body_util\b", "uses http-body-util outside http.rs"),
            (r"\bsend_request\b", "sends a request outside http.rs"),
            (r"\bRequest\s*::", "builds a request outside http.rs"),
            (
                r"\b(?:UnixStream|TcpStream|UdpSocket)\b",
                "opens a socket outside http.rs",
            ),
        ] {
            if Regex::new(pattern).unwrap().is_match(&s.code) {
                flag(what);
            }
        }
    }
    v
}

/// (requests built, places that send one).
fn request_sites(s: &Source) -> (usize, usize) {
    let built = Regex::new(r"\bRequest\s*::\s*get\s*\(")
        .unwrap()
        .find_iter(&s.code)
        .count();
    let sent = Regex::new(r"\.\s*send_request\s*\(")
        .unwrap()
        .find_iter(&s.code)
        .count();
    (built, sent)
}

fn process_violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    let any = Regex::new(r"Command::new\s*\(([^)]*)\)").unwrap();
    for c in any.captures_iter(&s.code) {
        // literals were replaced by "" in `code`: look the argument up among the literals
        if c[1].trim() != "\"\"" {
            v.push(format!(
                "{}: Command::new with a non-literal program",
                s.path.display()
            ));
        }
    }
    let spawned = any.captures_iter(&s.code).count();
    let ssh_literals = s.literals.iter().filter(|l| l.as_str() == "ssh").count();
    if spawned > ssh_literals {
        v.push(format!(
            "{}: {spawned} Command::new but only {ssh_literals} \"ssh\" literals",
            s.path.display()
        ));
    }
    for forbidden in ["std::process::Command", "process::Command::new", ".shell("] {
        if s.code.contains(forbidden) {
            v.push(format!("{}: uses {forbidden}", s.path.display()));
        }
    }
    v
}

fn remote_command_violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    let calls =
        Regex::new(r"\.(raw_command|command|subsystem|arc_command|arc_raw_command|shell)\s*\(")
            .unwrap();
    let n = calls.find_iter(&s.code).count();
    if n > 0 && !s.path.ends_with("src/ssh.rs") {
        v.push(format!(
            "{}: starts remote commands outside ssh.rs",
            s.path.display()
        ));
    }
    let runs = Regex::new(r"\.run\s*\(")
        .unwrap()
        .find_iter(&s.code)
        .count();
    let templated = Regex::new(r"\.run\s*\(\s*&remote::command_line\s*\(")
        .unwrap()
        .find_iter(&s.code)
        .count();
    if runs != templated {
        v.push(format!(
            "{}: a remote command not built by remote::command_line",
            s.path.display()
        ));
    }
    v
}

/// Every `docker …` invocation in literals: its subcommand must be ps, inspect or image inspect.
fn docker_violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    let re = Regex::new(
        r#"\bdocker((?:\s+(?:-H|--host|--context|-c)\s+\S+)*)\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?"#,
    )
    .unwrap();
    for lit in &s.literals {
        for c in re.captures_iter(lit) {
            let sub = &c[2];
            let next = c.get(3).map_or("", |m| m.as_str());
            let ok = matches!(sub, "ps" | "inspect") || (sub == "image" && next == "inspect");
            // Prose such as "the docker CLI" or "docker command" is not an invocation.
            let prose = c[1].is_empty()
                && matches!(
                    sub,
                    "engine" | "command" | "socket" | "group" | "daemon" | "answers" | "inspect"
                );
            if !ok && !prose {
                v.push(format!(
                    "{}: docker invocation `docker {sub} {next}` in {:?}",
                    s.path.display(),
                    lit.chars().take(120).collect::<String>()
                ));
            }
        }
    }
    v
}

/// The remote script template: no mutating word at all.
fn template_violations(s: &Source) -> Vec<String> {
    let mut v = Vec::new();
    let Some(start) = s.code.find("const SCRIPT") else {
        return v;
    };
    // The literals of the SCRIPT constant are the ones between `const SCRIPT` and the next `;`
    // of the code: count the "" placeholders before each point.
    let before = s.code[..start].matches("\"\"").count();
    let end = start + s.code[start..].find(';').unwrap();
    let inside = s.code[start..end].matches("\"\"").count();
    let script: String = s.literals[before..before + inside].concat();
    // Shell words, split on blanks and shell punctuation (not on `.`: the label key
    // `com.docker.compose.project` is one word).
    let word = Regex::new(r#"[^\s;|&()$"'=<>{}\[\]`]+"#).unwrap();
    for w in word.find_iter(&script) {
        if MUTATING.contains(&w.as_str()) {
            v.push(format!(
                "{}: mutating word `{}` in the remote script",
                s.path.display(),
                w.as_str()
            ));
        }
    }
    v
}

#[test]
fn the_lexer_separates_code_literals_and_comments() {
    let s = lex(
        Path::new("x.rs"),
        r###"let a = '\''; let b = "x\"y"; // POST in a comment
let c = r#"raw "quoted""#; /* DELETE */ let d: &'static str = "z"; let e = '"';"###,
    );
    assert_eq!(s.literals, ["x\"y", "raw \"quoted\"", "z"]);
    assert!(!s.code.contains("POST") && !s.code.contains("DELETE"));
    assert!(s.code.contains("let e = ;"), "{}", s.code);
}

#[test]
fn the_crate_is_read_only() {
    let sources = sources();
    let mut violations = Vec::new();
    let mut built = 0;
    let mut sent = 0;
    let mut templates = 0;
    for s in &sources {
        violations.extend(method_violations(s));
        violations.extend(http_violations(s));
        violations.extend(process_violations(s));
        violations.extend(remote_command_violations(s));
        violations.extend(docker_violations(s));
        violations.extend(template_violations(s));
        let (b, n) = request_sites(s);
        built += b;
        sent += n;
        templates += usize::from(s.code.contains("const SCRIPT"));
    }
    assert!(
        violations.is_empty(),
        "read-only audit failed:\n  {}",
        violations.join("\n  ")
    );
    assert_eq!(built, 1, "exactly one request built, with Request::get");
    assert_eq!(sent, 1, "exactly one place that sends a request");
    let http = sources
        .iter()
        .find(|s| s.path.ends_with("src/http.rs"))
        .unwrap();
    assert_eq!(request_sites(http), (1, 1), "both in http.rs");
    assert_eq!(templates, 1, "exactly one remote script template");
    let ssh = sources
        .iter()
        .find(|s| s.path.ends_with("src/ssh.rs"))
        .unwrap();
    assert_eq!(
        Regex::new(r"Command::new")
            .unwrap()
            .find_iter(&ssh.code)
            .count(),
        1,
        "ssh.rs starts exactly one process"
    );
}

#[test]
fn the_audit_catches_planted_violations() {
    let planted = |code: &str| lex(Path::new("src/planted.rs"), code);
    type Rule = fn(&Source) -> Vec<String>;
    let cases: &[(&str, Rule)] = &[
        (
            r#"fn r() -> String { format!("POST {} HTTP/1.1\r\nHost: docker\r\n\r\n", p) }"#,
            method_violations,
        ),
        (
            r#"fn r() -> String { format!("GET {} HTTP/1.1\r\nHost: docker\r\n\r\n", p) }"#,
            method_violations,
        ),
        (r#"const M: &str = "DELETE";"#, method_violations),
        (
            r#"let r = Request::post("/containers/x/start").body(Empty::new());"#,
            http_violations,
        ),
        (
            r#"let r = Request::builder().uri(p).body(Empty::new());"#,
            http_violations,
        ),
        (
            r#"let r = Request::<Empty<Bytes>>::delete(p);"#,
            http_violations,
        ),
        (
            r#"let r = Request::get(p).method(m).body(Empty::new());"#,
            http_violations,
        ),
        (
            r#"let m = Method::from_bytes(b"PO" + b"ST");"#,
            http_violations,
        ),
        (r#"let r = sender.try_send_request(req);"#, http_violations),
        (
            r#"let r = Request::get(p).body(Full::new(Bytes::from(x)));"#,
            http_violations,
        ),
        (
            r#"let (s, c) = hyper::client::conn::http1::handshake(io).await?;"#,
            http_violations,
        ),
        (
            r#"let s = tokio::net::UnixStream::connect(p).await?;"#,
            http_violations,
        ),
        (
            r#"let r = conn.sender.send_request(req).await;"#,
            http_violations,
        ),
        (r#"let m = Method::PUT;"#, method_violations),
        (r#"let c = Command::new("docker");"#, process_violations),
        (r#"let c = Command::new(program);"#, process_violations),
        (
            r#"let c = std::process::Command::new("ssh");"#,
            process_violations,
        ),
        (
            r#"session.shell("docker rm -f x");"#,
            remote_command_violations,
        ),
        (
            r#"master.run("docker stop x", 1);"#,
            remote_command_violations,
        ),
        (
            r#"let s = "docker -H \"$H\" rm -f $ids";"#,
            docker_violations,
        ),
        (r#"let s = "docker compose up -d";"#, docker_violations),
        (r#"let s = "docker image rm x";"#, docker_violations),
        (
            r#"let s = r"docker --host unix:///s kill x";"#,
            docker_violations,
        ),
        (
            r#"pub(crate) const SCRIPT: &str = concat!("ids=$(x ps -aq); ", "x start $ids");"#,
            template_violations,
        ),
    ];
    for (code, rule) in cases {
        assert!(
            !rule(&planted(code)).is_empty(),
            "the audit missed a planted violation: {code}"
        );
    }
    // …and accepts what the crate legitimately does.
    let fine = planted(
        r###"fn r() -> String { format!("GET {} and HTTP/1.1 in prose", p) }
           const SCRIPT: &str = concat!(r#"ids=$(docker -H "$H" ps -aq) || exit 101; "#, "docker -H \"$H\" image inspect $i");
           fn x(m: &Master) { m.run(&remote::command_line(a, b), 1); let c = Command::new("ssh"); }
           // docker rm in a comment is fine: comments are not code
           /* POST too */"###,
    );
    for rule in [
        method_violations,
        http_violations,
        process_violations,
        remote_command_violations,
        docker_violations,
        template_violations,
    ] {
        assert_eq!(rule(&fine), Vec::<String>::new());
    }
    assert_eq!(request_sites(&fine), (0, 0));
    let http = lex(
        Path::new("src/http.rs"),
        r###"use hyper::client::conn::http1;
           fn request(e: &Endpoint) -> Result<Request<Empty<Bytes>>, E> {
               Request::get(e.path()).header(HOST, "docker").body(Empty::new())
           }
           async fn f(s: &mut http1::SendRequest<Empty<Bytes>>) { let u = UnixStream::connect(p); s.send_request(req).await; }"###,
    );
    assert_eq!(http_violations(&http), Vec::<String>::new());
    assert_eq!(method_violations(&http), Vec::<String>::new());
    assert_eq!(request_sites(&http), (1, 1));
}
