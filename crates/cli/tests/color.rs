//! Colour is decided for the stream actually written (issue 8, item 3): `NO_COLOR`,
//! `CLICOLOR`, `CLICOLOR_FORCE` and `--color` are respected, and a message printed to stderr
//! is coloured when stderr is a terminal, whatever stdout is (and the other way round).

mod support;

use std::process::Command;

use support::*;

const ESC: char = '\x1b';

fn validate_broken(envs: &[(&str, &str)], extra: &[&str]) -> String {
    let mut c = assert_cmd::Command::cargo_bin("platformctl").unwrap();
    c.env_remove("PLATFORM_ROOT")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color");
    for (k, v) in envs {
        c.env(k, v);
    }
    let root = example("broken");
    let out = c
        .args(["--root", root.to_str().unwrap()])
        .args(extra)
        .args(["validate", "modules/unknown-host"])
        .output()
        .unwrap();
    assert_no_panic(&out);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn environment_decides_for_a_pipe() {
    // A pipe is no terminal: plain unless forced.
    assert!(!validate_broken(&[], &[]).contains(ESC));
    assert!(validate_broken(&[("CLICOLOR_FORCE", "1")], &[]).contains(ESC));
    // NO_COLOR wins over CLICOLOR_FORCE; an explicit --color=always wins over both.
    assert!(!validate_broken(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")], &[]).contains(ESC));
    assert!(validate_broken(&[("NO_COLOR", "1")], &["--color=always"]).contains(ESC));
    assert!(!validate_broken(&[("CLICOLOR_FORCE", "1")], &["--color=never"]).contains(ESC));
    // The human text is the same, colour aside, and keeps file:line:col.
    let plain = validate_broken(&[], &[]);
    assert!(
        plain.contains("--> modules/unknown-host/module.yaml:11:11"),
        "{plain}"
    );
}

/// Runs `shell` under `script`, so that whatever it leaves on stdout/stderr is a terminal.
/// `None` when `script` (util-linux) is not installed.
fn on_a_terminal(shell: &str) -> Option<String> {
    let out = Command::new("script")
        .args(["-q", "-e", "-c", shell, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("PLATFORM_ROOT")
        .env_remove("CI")
        .env("TERM", "xterm-256color")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn exe() -> String {
    assert_cmd::cargo::cargo_bin("platformctl")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn stderr_on_a_terminal_is_coloured_while_stdout_goes_to_a_file() {
    let p = mini_platform();
    std::fs::write(p.path().join("platform.toml"), "[hosts.box\nssh = 1\n").unwrap();
    let stdout_file = p.path().join("stdout.txt");
    let shell = format!(
        "{} --root {} validate > {}",
        exe(),
        p.path().display(),
        stdout_file.display()
    );
    let Some(terminal) = on_a_terminal(&shell) else {
        return; // no `script` here
    };
    // The load error (a finding rendered for stderr) reached the terminal, coloured.
    assert!(terminal.contains("platform.toml:1:"), "{terminal:?}");
    assert!(terminal.contains(ESC), "stderr is a terminal: {terminal:?}");
    let stdout = std::fs::read_to_string(&stdout_file).unwrap();
    assert!(!stdout.contains(ESC), "{stdout:?}");
}

#[test]
fn stdout_on_a_terminal_is_coloured_while_stderr_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let stderr_file = dir.path().join("stderr.txt");
    let shell = format!(
        "{} --root {} validate modules/unknown-host 2> {}",
        exe(),
        example("broken").display(),
        stderr_file.display()
    );
    let Some(terminal) = on_a_terminal(&shell) else {
        return;
    };
    assert!(terminal.contains("module.yaml:11:11"), "{terminal:?}");
    assert!(terminal.contains(ESC), "stdout is a terminal: {terminal:?}");
    let stderr = std::fs::read_to_string(&stderr_file).unwrap();
    assert!(!stderr.contains(ESC), "{stderr:?}");
}
