//! The ssh command fallback: ONE remote command, built from a fixed template, that prints the
//! project's containers (`docker inspect`), a separator line, and the images they run
//! (`docker image inspect`).
//!
//! Used when the ssh server refuses to forward the Docker socket (`AllowStreamLocalForwarding
//! no`, `DisableForwarding yes`) or when the operator asks for it ([`crate::SshMode`]).
//!
//! The script is a compile-time constant ([`SCRIPT`]) that reads its two inputs as positional
//! parameters (`$1` the socket, `$2` the project). The inputs never become part of the script:
//! they are validated ([`crate::validate`]) and passed as single-quoted words after it:
//!
//! ```text
//! sh -c '<SCRIPT>' platformctl-observe '/var/run/docker.sock' 'home-platform'
//! ```
//!
//! sshd hands that line to the user's login shell (`$SHELL -c …`), which may not be a POSIX
//! shell, so the script holds no single quote, no backslash (fish reads `\\` and `\'` inside
//! single quotes), no `!` (csh history expansion works even inside single quotes) and no line
//! break (csh refuses a newline inside quotes). A unit test keeps it that way.

use crate::error::{ObserveError, clip};

/// The line between the two JSON arrays.
pub(crate) const SEPARATOR: &str = "----platformctl-observe-separator----";

/// The whole remote program. `docker ps` (ids only) and `docker inspect`/`docker image
/// inspect`: nothing else. Exit codes 101-104 say which step failed.
pub(crate) const SCRIPT: &str = concat!(
    r#"H="unix://$1"; "#,
    r#"ids=$(docker -H "$H" ps -aq --no-trunc --filter "label=com.docker.compose.project=$2") || exit 101; "#,
    r#"if [ -n "$ids" ]; then "#,
    r#"docker -H "$H" inspect --type container $ids || exit 102; "#,
    r#"imgs=$(docker -H "$H" inspect --type container --format "{{.Image}}" $ids) || exit 103; "#,
    r#"imgs=$(for i in $imgs; do echo "$i"; done | sort -u); "#,
    r#"else echo "[]"; imgs=""; fi; "#,
    r#"echo ----platformctl-observe-separator----; "#,
    r#"if [ -n "$imgs" ]; then docker -H "$H" image inspect $imgs || exit 104; else echo "[]"; fi"#,
);

/// `'…'` with every `'` written as `'\''`: one shell word, whatever `s` holds.
pub(crate) fn sh_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The command line sent to the host. Callers validate `socket` and `project` first; the
/// quoting keeps them single words even if they did not.
pub(crate) fn command_line(socket: &str, project: &str) -> String {
    format!(
        "sh -c {} platformctl-observe {} {}",
        sh_quote(SCRIPT),
        sh_quote(socket),
        sh_quote(project)
    )
}

/// Splits the command's stdout into (containers JSON, images JSON). Anything a login shell
/// printed before the first array (a chatty `.bashrc`) is skipped.
pub(crate) fn split_output(stdout: &[u8]) -> Option<(&[u8], &[u8])> {
    let sep = format!("\n{SEPARATOR}\n");
    let at = find(stdout, sep.as_bytes())?;
    let (first, rest) = (&stdout[..at + 1], &stdout[at + sep.len()..]);
    let start = if first.trim_ascii_start().starts_with(b"[") {
        0
    } else {
        find(first, b"\n[")? + 1
    };
    Some((&first[start..], rest))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Turns a failed run (exit status, stderr) into an operator-facing error.
pub(crate) fn failure(host: &str, socket: &str, code: Option<i32>, stderr: &[u8]) -> ObserveError {
    let text = String::from_utf8_lossy(stderr);
    let lower = text.to_ascii_lowercase();
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| clip(l, 240))
        .unwrap_or_else(|| "no diagnostics".into());
    let exit = code.map_or("killed by a signal".to_owned(), |c| format!("exit {c}"));
    if code == Some(127)
        || lower.contains("docker: not found")
        || lower.contains("docker: command not found")
    {
        ObserveError::refused(format!(
            "host {host}: the docker CLI is not available to the ssh user, and the ssh command fallback needs it: install it, or allow the forward in sshd (AllowStreamLocalForwarding yes) ({first})"
        ))
    } else if lower.contains("cannot connect to the docker daemon") {
        ObserveError::unreachable(format!(
            "host {host}: no Docker engine answers at {socket}: is Docker running there? (docker_socket in platform.toml)"
        ))
    } else if lower.contains("permission denied") {
        ObserveError::refused(format!(
            "host {host}: the ssh user may not use {socket} (permission denied): add it to the docker group ({first})"
        ))
    } else if lower.contains("client version") {
        ObserveError::refused(format!(
            "host {host}: the Docker engine at {socket} refused the docker CLI's API version: {first}"
        ))
    } else if lower.contains("no such container") || lower.contains("no such object") {
        ObserveError::protocol(format!(
            "host {host}: a container or image went away while it was observed ({first}): run again"
        ))
    } else {
        ObserveError::protocol(format!(
            "host {host}: the remote docker command failed ({exit}): {first}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    #[test]
    fn the_script_survives_any_login_shell() {
        for bad in ['\'', '\\', '!', '\n', '\r', '`'] {
            assert!(!SCRIPT.contains(bad), "SCRIPT must not contain {bad:?}");
        }
        assert!(SCRIPT.contains(SEPARATOR));
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("home-platform"), "'home-platform'");
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(
            command_line("/var/run/docker.sock", "home-platform"),
            format!("sh -c '{SCRIPT}' platformctl-observe '/var/run/docker.sock' 'home-platform'")
        );
    }

    #[test]
    fn split_with_and_without_noise() {
        let out = format!("[\n  {{\"a\": 1}}\n]\n{SEPARATOR}\n[]\n");
        let (c, i) = split_output(out.as_bytes()).unwrap();
        assert_eq!(c, b"[\n  {\"a\": 1}\n]\n");
        assert_eq!(i, b"[]\n");
        let noisy = format!("Welcome [motd]\nhello\n[]\n{SEPARATOR}\n[]\n");
        let (c, _) = split_output(noisy.as_bytes()).unwrap();
        assert_eq!(c, b"[]\n");
        assert!(split_output(b"[]\n").is_none());
    }

    #[test]
    fn failures_say_what_to_do() {
        let e = failure("h", "/s", Some(127), b"sh: 1: docker: not found\n");
        assert_eq!(e.kind, crate::ObserveErrorKind::Refused);
        let e = failure(
            "h",
            "/s",
            Some(101),
            b"Cannot connect to the Docker daemon at unix:///s. Is the docker daemon running?\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Unreachable);
        assert!(e.message.contains("is Docker running"));
        let e = failure(
            "h",
            "/s",
            Some(101),
            b"permission denied while trying to connect\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Refused);
        let e = failure("h", "/s", Some(104), b"weird\n");
        assert_eq!(e.kind, crate::ObserveErrorKind::Protocol);
        assert!(e.message.contains("exit 104"));
    }

    /// Runs the real command line through a local `sh -c` (standing in for the login shell)
    /// against a fake `docker` that logs its arguments: checks the output format, the
    /// no-container case, and that only read-only subcommands are called.
    fn run_with_fake_docker(project: &str, ids: &str) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls");
        let fake = dir.path().join("docker");
        let mut f = std::fs::File::create(&fake).unwrap();
        write!(
            f,
            r#"#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  *" ps -aq --no-trunc --filter label=com.docker.compose.project={project}") printf '%s' "{ids}" ;;
  *" inspect --type container --format {{{{.Image}}}} "*) for i in "$@"; do case "$i" in c[0-9]*) echo sha256:img;; esac; done ;;
  *" inspect --type container "*) echo '[{{"Id":"c1"}}]' ;;
  *" image inspect "*) echo '[{{"Id":"sha256:img"}}]' ;;
  *) echo "unexpected: $*" >&2; exit 9 ;;
esac
"#,
            log = log.display()
        )
        .unwrap();
        drop(f);
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(command_line("/run/docker.sock", project))
            .env("PATH", path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let calls = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        (String::from_utf8(out.stdout).unwrap(), calls)
    }

    #[test]
    fn the_template_runs_and_only_reads() {
        let (out, calls) = run_with_fake_docker("home-platform", "c1\nc2\n");
        let (c, i) = split_output(out.as_bytes()).unwrap();
        assert_eq!(c, b"[{\"Id\":\"c1\"}]\n");
        assert_eq!(i, b"[{\"Id\":\"sha256:img\"}]\n");
        assert_eq!(
            calls,
            [
                "-H unix:///run/docker.sock ps -aq --no-trunc --filter label=com.docker.compose.project=home-platform",
                "-H unix:///run/docker.sock inspect --type container c1 c2",
                "-H unix:///run/docker.sock inspect --type container --format {{.Image}} c1 c2",
                "-H unix:///run/docker.sock image inspect sha256:img",
            ]
        );
        for call in &calls {
            let sub: Vec<&str> = call.split(' ').skip(2).take(2).collect();
            assert!(
                matches!(
                    sub.as_slice(),
                    ["ps", _] | ["inspect", _] | ["image", "inspect"]
                ),
                "not a read-only docker call: {call}"
            );
        }
    }

    #[test]
    fn the_template_handles_no_containers() {
        let (out, calls) = run_with_fake_docker("empty", "");
        assert_eq!(
            split_output(out.as_bytes()).unwrap(),
            (&b"[]\n"[..], &b"[]\n"[..])
        );
        assert_eq!(calls.len(), 1, "{calls:?}");
    }

    #[test]
    fn hostile_inputs_stay_single_words() {
        // Validation refuses these long before; the quoting alone must still hold.
        let marker = tempfile::tempdir().unwrap();
        let file = marker.path().join("pwned");
        let project = format!("x'; touch {}; echo '", file.display());
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {}", sh_quote(&project)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), project);
        assert!(!file.exists());
    }
}
