//! Names that reach the outside world, checked against a strict character set.
//!
//! Module, host, compose service and container names end up in ssh command lines, Docker API
//! filters and file names. Rather than quoting them correctly everywhere, platformctl refuses
//! anything outside a small safe set, so a shell metacharacter in a manifest is a validation
//! error long before anything runs.

/// The pattern of a module name (also in the JSON Schema).
pub const MODULE_NAME_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,62}$";
/// The pattern of a host, compose service or container name (also in the JSON Schema).
pub const IDENT_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

pub(crate) fn describe_bad(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        '\n' | '\r' => "a line break".into(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c if "$`;|&<>()\\'\"*?[]{}!#~".contains(c) => format!("the shell metacharacter `{c}`"),
        c => format!("the character `{c}`"),
    }
}

fn check_charset(s: &str, max: usize, lower_only: bool, what: &str) -> Result<(), String> {
    let allowed = |c: char| {
        c.is_ascii_digit()
            || c.is_ascii_lowercase()
            || (!lower_only && c.is_ascii_uppercase())
            || matches!(c, '.' | '_' | '-')
    };
    if s.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if let Some(bad) = s.chars().find(|&c| !allowed(c)) {
        let set = if lower_only {
            "a-z 0-9 . _ -"
        } else {
            "A-Z a-z 0-9 . _ -"
        };
        if lower_only && bad.is_ascii_uppercase() {
            return Err(format!("{what} must be lowercase"));
        }
        return Err(format!(
            "{what} contains {}; only {set} are allowed",
            describe_bad(bad)
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("{what} must start with a letter or digit"));
    }
    if s.len() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    Ok(())
}

/// A module name: `^[a-z0-9][a-z0-9._-]{0,62}$`.
pub fn check_module_name(s: &str) -> Result<(), String> {
    check_charset(s, 63, true, "a module name")
}

/// A host, compose service or container name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`.
pub fn check_ident(s: &str) -> Result<(), String> {
    check_charset(s, 128, false, "the name")
}

/// A path relative to the platform root that stays inside it.
pub fn check_rel_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the path must not be empty".into());
    }
    if s.starts_with('/') || s.starts_with('~') || s.contains('\\') {
        return Err("the path must be relative to the platform root".into());
    }
    if s.split('/').any(|part| part == "..") {
        return Err("the path must not leave the platform root (`..`)".into());
    }
    if let Some(bad) = s.chars().find(|c| c.is_control()) {
        return Err(format!("the path contains {}", describe_bad(bad)));
    }
    Ok(())
}

/// An ssh destination from platform.toml: `host`, `user@host`, `ssh://user@host:port`.
/// Refuses anything ssh could read as an option (`-oProxyCommand=…`) or a shell could read.
pub fn check_ssh_target(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the ssh target must not be empty".into());
    }
    if s.starts_with('-') {
        return Err(
            "the ssh target must not start with `-` (ssh would read it as an option)".into(),
        );
    }
    let rest = s.strip_prefix("ssh://").unwrap_or(s);
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    if let Some(u) = user {
        check_charset(u, 64, false, "the ssh user")?;
    }
    let host = if let Some(inner) = hostport.strip_prefix('[') {
        // [ipv6]:port
        let (addr, after) = inner
            .split_once(']')
            .ok_or("an IPv6 address needs its closing `]`")?;
        if !addr
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("not an IPv6 address inside `[…]`".into());
        }
        check_port(after)?;
        return Ok(());
    } else {
        match hostport.split_once(':') {
            Some((h, port)) if s.starts_with("ssh://") => {
                check_port(&format!(":{port}"))?;
                h
            }
            Some(_) => {
                return Err("a port goes in an ssh:// URL (ssh://user@host:2222)".into());
            }
            None => hostport,
        }
    };
    check_charset(host, 253, false, "the ssh host")
}

fn check_port(after: &str) -> Result<(), String> {
    if after.is_empty() {
        return Ok(());
    }
    let port = after
        .strip_prefix(':')
        .ok_or("expected `:port` after the address")?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("`{port}` is not a port number")),
    }
}

/// The Docker socket path on a host: absolute, plain characters.
pub fn check_socket_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("the docker socket must be an absolute path".into());
    }
    if let Some(bad) = s
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-')))
    {
        return Err(format!(
            "the docker socket path contains {}",
            describe_bad(bad)
        ));
    }
    if s.split('/').any(|p| p == "..") {
        return Err("the docker socket path must not contain `..`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert!(check_module_name("minio").is_ok());
        assert!(check_module_name("honcho-api").is_ok());
        assert!(check_module_name("a.b_c-1").is_ok());
        assert!(check_module_name("Minio").is_err());
        assert!(check_module_name("-x").is_err());
        assert!(check_module_name("").is_err());
        assert!(check_module_name(&"a".repeat(64)).is_err());
        for bad in [
            "a;rm -rf /",
            "a$(id)",
            "a`id`",
            "a|b",
            "a b",
            "a&b",
            "a>b",
            "a\nb",
        ] {
            let e = check_module_name(bad).unwrap_err();
            assert!(e.contains("only"), "{bad}: {e}");
        }
    }

    #[test]
    fn idents() {
        assert!(check_ident("home-platform-minio-1").is_ok());
        assert!(check_ident("Web_1").is_ok());
        assert!(
            check_ident("web;ls")
                .unwrap_err()
                .contains("shell metacharacter `;`")
        );
        assert!(check_ident("web$(x)").is_err());
    }

    #[test]
    fn rel_paths() {
        assert!(check_rel_path("compose/apps/compose.yaml").is_ok());
        assert!(check_rel_path("/etc/passwd").is_err());
        assert!(check_rel_path("../x").is_err());
        assert!(check_rel_path("compose/../../x").is_err());
        assert!(check_rel_path("~/x").is_err());
    }

    #[test]
    fn ssh_targets() {
        for ok in [
            "rs2000",
            "deploy@rs2000",
            "ssh://admin@nas.tailnet.internal:2222",
            "ssh://[::1]:22",
            "deploy@100.64.0.10",
        ] {
            assert!(check_ssh_target(ok).is_ok(), "{ok}");
        }
        for bad in [
            "-oProxyCommand=touch /tmp/x",
            "host;id",
            "user@host name",
            "$(id)@host",
            "host:22",
            "ssh://host:99999",
            "",
        ] {
            assert!(check_ssh_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sockets() {
        assert!(check_socket_path("/var/run/docker.sock").is_ok());
        assert!(check_socket_path("var/run/docker.sock").is_err());
        assert!(check_socket_path("/tmp/x;id").is_err());
        assert!(check_socket_path("/a/../b").is_err());
    }
}
