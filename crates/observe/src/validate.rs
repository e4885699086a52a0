//! Inputs that reach ssh's argument vector, a remote shell or an Engine API URL, checked again
//! here (the catalog already checks them) so this crate is safe on its own: anything outside a
//! small character set is refused before a process is started or a socket is opened.

use crate::error::ObserveError;

/// Longest unix socket path (`sun_path` is 108 bytes on Linux, with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// A compose project name (`com.docker.compose.project`): compose itself allows
/// `^[a-z0-9][a-z0-9_-]*$`; the dot is allowed too (older compose versions kept it).
pub(crate) fn project(p: &str) -> Result<(), ObserveError> {
    let ok = !p.is_empty()
        && p.len() <= 128
        && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ObserveError::invalid(format!(
            "refusing compose project {:?}: only a-z 0-9 _ - . are allowed (starting with a letter or digit); nothing was run",
            crate::error::clip(p, 80)
        )))
    }
}

/// A Docker socket path: absolute, `A-Z a-z 0-9 . _ - /`, short enough for a unix socket.
pub(crate) fn socket(host: &str, s: &str) -> Result<(), ObserveError> {
    let ok = s.starts_with('/')
        && s.len() <= MAX_SOCKET_PATH
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(ObserveError::invalid(format!(
            "refusing docker_socket {:?} of host {host}: it must be an absolute path of at most {MAX_SOCKET_PATH} bytes made of A-Z a-z 0-9 . _ - /; nothing was run",
            crate::error::clip(s, 120)
        )))
    }
}

/// An ssh destination (`alias`, `user@host`, `ssh://user@host:port`, `user@[::1]`): it goes
/// into ssh's argument vector after `--`, never through a shell; still, nothing that could be
/// read as an option or that holds whitespace, quotes or shell metacharacters is accepted.
pub(crate) fn destination(host: &str, d: &str) -> Result<(), ObserveError> {
    let ok = !d.is_empty()
        && d.len() <= 300
        && !d.starts_with('-')
        && d.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | ':' | '/' | '[' | ']')
        });
    if ok {
        Ok(())
    } else {
        Err(ObserveError::invalid(format!(
            "refusing ssh destination {:?} of host {host}: use an alias, user@host or ssh://user@host:port (no leading `-`, no spaces or shell metacharacters); nothing was run",
            crate::error::clip(d, 120)
        )))
    }
}

/// A host name as it appears in messages and progress events.
pub(crate) fn host_name(h: &str) -> Result<(), ObserveError> {
    let ok = !h.is_empty()
        && h.len() <= 128
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ObserveError::invalid(format!(
            "refusing host name {:?}: only A-Z a-z 0-9 . _ - are allowed; nothing was run",
            crate::error::clip(h, 80)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects() {
        for ok in ["home-platform", "a", "x_y.z-1", "0abc"] {
            assert!(project(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Home",
            "-x",
            "a b",
            "a;rm -rf /",
            "a'b",
            "$(id)",
            "a`b`",
            "a\nb",
            "a\"b",
            "a\\b",
            "a|b",
            "a&b",
            "a>b",
            "a=b",
            "a/b",
        ] {
            let e = project(bad).unwrap_err();
            assert_eq!(e.kind, crate::ObserveErrorKind::Invalid, "{bad:?}");
        }
    }

    #[test]
    fn sockets() {
        for ok in [
            "/var/run/docker.sock",
            "/run/user/1000/docker.sock",
            "/tmp/pc-Ab12/e1/docker.sock",
        ] {
            assert!(socket("h", ok).is_ok(), "{ok}");
        }
        let long = format!("/{}", "a".repeat(107));
        for bad in [
            "",
            "docker.sock",
            "/var/run/docker.sock;reboot",
            "/var/run/$(id).sock",
            "/a b",
            "/a'b",
            "/a\"b",
            "/a\\b",
            "/a\nb",
            long.as_str(),
        ] {
            assert!(socket("h", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn destinations() {
        for ok in [
            "rs2000",
            "deploy@rs2000",
            "ssh://admin@nas.tailnet.internal:2222",
            "root@[::1]",
            "e2e-host",
        ] {
            assert!(destination("h", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-oProxyCommand=touch /tmp/x",
            "-F/etc/passwd",
            "host;id",
            "host id",
            "a$(id)",
            "a'b",
        ] {
            assert!(destination("h", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_names() {
        assert!(host_name("rs2000").is_ok());
        assert!(host_name("a b").is_err());
        assert!(host_name("").is_err());
    }
}
