//! One OpenSSH master connection per host, driven through the `openssh` crate's native mux
//! client: a local unix-socket forward to the remote Docker socket, or one remote command.
//!
//! # Why the master is started here and not by `openssh::SessionBuilder`
//!
//! `SessionBuilder::launch_master` runs `ssh -f -o ControlPersist=yes …`: ssh forks into the
//! background after authenticating, so the process id is lost. If the observation is cancelled
//! (per-host timeout, Ctrl-C of a caller, a dropped future) while ssh is still connecting, that
//! ssh keeps going and, once authenticated, leaves a master behind that persists forever. So
//! this module starts the very same `ssh -M -N` itself (same options, plus the ones below), in
//! the foreground (`ControlPersist=no`, no `-f`), as a child it owns with `kill_on_drop`, and
//! hands the control socket to [`openssh::Session::resume_mux`]. Everything after that (the
//! forward, the remote command, `close`) is the openssh crate's native mux client.
//!
//! The master always gets:
//! - `-F <[ssh] config>` when platform.toml names one (otherwise the user's own
//!   `~/.ssh/config` and `/etc/ssh/ssh_config` apply), the user's agent and known_hosts;
//! - `StrictHostKeyChecking=yes` (never `accept-new`: an unknown or changed host key is an
//!   error that says to check known_hosts) and `UpdateHostKeys=no` (known_hosts is only read);
//! - `BatchMode=yes` (never a prompt), `ConnectTimeout=<connect_timeout_s>`;
//! - `ClearAllForwardings=yes`, `ForwardAgent=no`, `ForwardX11=no`, `PermitLocalCommand=no`,
//!   `RemoteCommand=none`: whatever the user's config says for that host, the connection opens
//!   no port on either side, lends no agent and runs nothing but what this crate asks for;
//! - `LogLevel=INFO` (its log goes to a private file that this crate reads to explain a
//!   failure: at the `ERROR` level many configs set, a refused channel is not logged);
//! - a private control directory (a fresh `0700` temporary directory holding the control
//!   socket, the forwarded socket and ssh's log), removed at the end.

use std::ffi::OsString;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use openssh::{ForwardType, Session};
use tempfile::TempDir;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

use crate::error::{ObserveError, clip, secs};

/// Every private control directory is a temporary directory whose name starts with this.
pub const CONTROL_DIR_PREFIX: &str = "platformctl-ssh-";

/// How long a graceful close may take before the master is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How often the start of the master is checked.
const POLL: Duration = Duration::from_millis(5);
/// The most stderr kept from a remote command.
const MAX_STDERR: usize = 64 << 10;

/// What the master needs to know.
pub(crate) struct Connect<'a> {
    pub(crate) host: &'a str,
    pub(crate) destination: &'a str,
    pub(crate) config_file: Option<&'a Path>,
    pub(crate) connect_timeout: Duration,
}

/// A running master. Dropping it without [`Master::close`] kills the ssh process (SIGKILL) and
/// removes the private directory.
pub(crate) struct Master {
    host: String,
    child: Option<Child>,
    session: Option<Session>,
    /// Dropped last (fields drop in order, after `Drop::drop`): the sockets and the log go.
    dir: TempDir,
}

/// The output of the remote command.
pub(crate) struct RemoteOutput {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

fn private_dir() -> io::Result<TempDir> {
    // Unix socket paths are short (108 bytes): ssh adds a 17-byte suffix to the control path
    // while it binds, so a long $TMPDIR falls back to /tmp.
    let mut base = std::env::temp_dir();
    if base.as_os_str().len() > 60 {
        base = PathBuf::from("/tmp");
    }
    let dir = tempfile::Builder::new()
        .prefix(CONTROL_DIR_PREFIX)
        .tempdir_in(base)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    Ok(dir)
}

/// ssh's arguments for the master (see the module documentation).
pub(crate) fn master_args(
    ctl: &Path,
    log: &Path,
    destination: &str,
    config_file: Option<&Path>,
    connect_timeout: Duration,
) -> Vec<OsString> {
    let timeout_s = connect_timeout.as_secs() + u64::from(connect_timeout.subsec_nanos() > 0);
    let mut a: Vec<OsString> = vec!["-M".into(), "-N".into(), "-S".into(), ctl.into()];
    a.extend(["-E".into(), log.into()]);
    for o in [
        "ControlPersist=no".to_owned(),
        "BatchMode=yes".to_owned(),
        "StrictHostKeyChecking=yes".to_owned(),
        "UpdateHostKeys=no".to_owned(),
        format!("ConnectTimeout={}", timeout_s.max(1)),
        "ClearAllForwardings=yes".to_owned(),
        "ForwardAgent=no".to_owned(),
        "ForwardX11=no".to_owned(),
        "PermitLocalCommand=no".to_owned(),
        "RemoteCommand=none".to_owned(),
        // The log goes to the private directory only; this crate reads it to explain failures.
        "LogLevel=INFO".to_owned(),
    ] {
        a.push("-o".into());
        a.push(o.into());
    }
    if let Some(f) = config_file {
        a.push("-F".into());
        a.push(f.into());
    }
    a.push("--".into());
    a.push(destination.into());
    a
}

impl Master {
    /// Starts `ssh -M -N` and waits until its control socket exists (connected and
    /// authenticated) or it exits (then its diagnostics become the error).
    pub(crate) async fn connect(c: &Connect<'_>) -> Result<Master, ObserveError> {
        let host = c.host;
        let dir = private_dir().map_err(|e| {
            ObserveError::unreachable(format!(
                "ssh to {host}: cannot create a private control directory: {e}"
            ))
        })?;
        let ctl = dir.path().join("ctl");
        let log = dir.path().join("log");
        let stderr_path = dir.path().join("stderr");
        let stderr = std::fs::File::create(&stderr_path).map_err(|e| {
            ObserveError::unreachable(format!("ssh to {host}: cannot create its log: {e}"))
        })?;
        let mut cmd = Command::new("ssh");
        cmd.args(master_args(
            &ctl,
            &log,
            c.destination,
            c.config_file,
            c.connect_timeout,
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                ObserveError::unreachable(format!(
                    "ssh to {host}: no `ssh` client in PATH: install OpenSSH's client"
                ))
            } else {
                ObserveError::unreachable(format!("ssh to {host}: cannot start ssh: {e}"))
            }
        })?;
        let mut master = Master {
            host: host.to_owned(),
            child: Some(child),
            session: None,
            dir,
        };
        loop {
            let exited = match master.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some(status.code()),
                Some(Ok(None)) => None,
                Some(Err(e)) => {
                    return Err(ObserveError::unreachable(format!(
                        "ssh to {host}: cannot watch the ssh process: {e}"
                    )));
                }
                None => Some(None),
            };
            if let Some(code) = exited {
                master.child = None;
                let diag = master.diagnostics();
                return Err(connect_failure(c, code, &diag));
            }
            if ctl.exists() {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        master.session = Some(Session::resume_mux(
            ctl.into_boxed_path(),
            Some(log.into_boxed_path()),
        ));
        Ok(master)
    }

    /// What ssh wrote to its log and stderr so far.
    pub(crate) fn diagnostics(&self) -> String {
        let mut s = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        s.push_str(&std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default());
        s
    }

    fn session(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a connected master has a session")
    }

    /// Asks the master to listen on a unix socket in the private directory and forward each
    /// connection to `remote_socket` on the host. Returns the local socket.
    pub(crate) async fn forward(&self, remote_socket: &str) -> Result<PathBuf, String> {
        let local = self.dir.path().join("docker.sock");
        self.session()
            .request_port_forward(
                ForwardType::Local,
                local.clone(),
                PathBuf::from(remote_socket),
            )
            .await
            .map_err(|e| error_chain(&e))?;
        Ok(local)
    }

    /// Runs one command line on the host through the master; stdout is bounded by `max_stdout`.
    pub(crate) async fn run(
        &self,
        command_line: &str,
        max_stdout: usize,
    ) -> Result<RemoteOutput, ObserveError> {
        let host = &self.host;
        let mut child = self
            .session()
            .raw_command(command_line)
            .stdin(openssh::Stdio::null())
            .stdout(openssh::Stdio::piped())
            .stderr(openssh::Stdio::piped())
            .spawn()
            .await
            .map_err(|e| {
                if self.dir.path().join("ctl").exists() {
                    ObserveError::refused(format!(
                        "host {host}: the ssh server did not run the observation command: {}",
                        error_chain(&e)
                    ))
                } else {
                    ObserveError::unreachable(format!(
                        "host {host}: the ssh connection was lost ({})",
                        last_line(&self.diagnostics())
                    ))
                }
            })?;
        let out = child.stdout().take();
        let err = child.stderr().take();
        let (stdout, stderr) =
            tokio::join!(read_capped(out, max_stdout), read_capped(err, MAX_STDERR));
        let stdout = stdout.map_err(|e| {
            ObserveError::protocol(format!("host {host}: reading the command's output: {e}"))
        })?;
        let stderr = stderr.unwrap_or_default();
        if stdout.1 {
            return Err(ObserveError::protocol(format!(
                "host {host}: the command's output is larger than {} MiB",
                max_stdout >> 20
            )));
        }
        let code = match child.wait().await {
            Ok(status) => status.code(),
            Err(openssh::Error::RemoteProcessTerminated) => None,
            Err(e) => {
                return Err(ObserveError::unreachable(format!(
                    "host {host}: the ssh connection failed while the command ran: {}",
                    error_chain(&e)
                )));
            }
        };
        Ok(RemoteOutput {
            code,
            stdout: stdout.0,
            stderr: stderr.0,
        })
    }

    /// Closes the master: the mux "stop listening" request (the openssh crate's
    /// `Session::close`), then waits for ssh to exit; kills it if it does not within
    /// [`CLOSE_GRACE`].
    pub(crate) async fn close(mut self) {
        if let Some(session) = self.session.take() {
            let _ = tokio::time::timeout(CLOSE_GRACE, session.close()).await;
        }
        if let Some(mut child) = self.child.take()
            && tokio::time::timeout(CLOSE_GRACE, child.wait())
                .await
                .is_err()
        {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(CLOSE_GRACE, child.wait()).await;
        }
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        // Not closed (cancelled, timed out, or an error path): kill ssh now, and reap it in the
        // background when a runtime is around (`kill_on_drop` and tokio's orphan reaping cover
        // the rest).
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = tokio::time::timeout(CLOSE_GRACE, child.wait()).await;
                });
            }
        }
    }
}

/// Reads up to `cap` bytes; `true` when there was more (the rest is drained and dropped).
async fn read_capped<R: AsyncRead + Unpin>(
    r: Option<R>,
    cap: usize,
) -> io::Result<(Vec<u8>, bool)> {
    let Some(mut r) = r else {
        return Ok((Vec::new(), false));
    };
    let mut kept = Vec::new();
    let mut more = false;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, more));
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        more |= n > room;
    }
}

/// An error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    clip(&s, 300)
}

/// The meaningful last line of ssh's diagnostics.
fn last_line(diag: &str) -> String {
    diag.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(|l| clip(l, 240))
        .unwrap_or_else(|| "no diagnostics".into())
}

/// Turns the exit of a master that never came up into an operator-facing error.
pub(crate) fn connect_failure(c: &Connect<'_>, code: Option<i32>, diag: &str) -> ObserveError {
    let host = c.host;
    let lower = diag.to_ascii_lowercase();
    let last = last_line(diag);
    if lower.contains("host key verification failed")
        || lower.contains("remote host identification has changed")
        || lower.contains("host key is known for")
    {
        ObserveError::refused(format!(
            "ssh to {host}: host key verification failed: check known_hosts (platformctl never accepts an unknown or changed host key; verify it and connect once with ssh to record it)"
        ))
    } else if lower.contains("permission denied")
        || lower.contains("too many authentication failures")
    {
        ObserveError::refused(format!(
            "ssh to {host}: authentication failed ({last}): check the key in your agent or the IdentityFile for {}",
            c.destination
        ))
    } else if lower.contains("timed out") || lower.contains("timeout") {
        ObserveError::timeout(format!(
            "ssh to {host} timed out after {} (connect_timeout_s)",
            secs(Duration::from_secs(
                c.connect_timeout.as_secs() + u64::from(c.connect_timeout.subsec_nanos() > 0)
            ))
        ))
    } else if lower.contains("connection refused") {
        ObserveError::unreachable(format!(
            "ssh to {host}: connection refused: nothing listens on its ssh port (is sshd running? is the port in the ssh config right?)"
        ))
    } else if lower.contains("could not resolve hostname")
        || lower.contains("name or service not known")
        || lower.contains("temporary failure in name resolution")
    {
        ObserveError::unreachable(format!(
            "ssh to {host}: cannot resolve {}: check the ssh destination in platform.toml and your ssh config ({last})",
            c.destination
        ))
    } else if lower.contains("no route to host") || lower.contains("network is unreachable") {
        ObserveError::unreachable(format!(
            "ssh to {host}: {last}: is the network (tailnet, VPN) up?"
        ))
    } else if lower.contains("bad configuration option")
        || lower.contains("bad configuration options")
        || lower.contains("can't open user config file")
        || lower.contains("missing argument")
    {
        ObserveError::invalid(format!(
            "ssh to {host}: ssh rejected its configuration: {last}"
        ))
    } else if lower.contains("connection closed by") || lower.contains("connection reset") {
        ObserveError::unreachable(format!(
            "ssh to {host}: the server closed the connection ({last}): check sshd's logs on {host}"
        ))
    } else {
        ObserveError::unreachable(format!(
            "ssh to {host} failed ({}): {last}",
            code.map_or("killed by a signal".to_owned(), |c| format!("exit {c}"))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c() -> Connect<'static> {
        Connect {
            host: "rs2000",
            destination: "deploy@rs2000",
            config_file: None,
            connect_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn master_arguments() {
        let a = master_args(
            Path::new("/tmp/d/ctl"),
            Path::new("/tmp/d/log"),
            "ssh://deploy@rs2000:2222",
            Some(Path::new("/repo/ops/ssh_config")),
            Duration::from_millis(2500),
        );
        let a: Vec<String> = a.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        let line = a.join(" ");
        assert!(
            line.starts_with("-M -N -S /tmp/d/ctl -E /tmp/d/log "),
            "{line}"
        );
        for must in [
            "-o StrictHostKeyChecking=yes",
            "-o BatchMode=yes",
            "-o ControlPersist=no",
            "-o ConnectTimeout=3",
            "-o UpdateHostKeys=no",
            "-o ClearAllForwardings=yes",
            "-o ForwardAgent=no",
            "-o PermitLocalCommand=no",
            "-o RemoteCommand=none",
            "-F /repo/ops/ssh_config",
        ] {
            assert!(line.contains(must), "missing {must}: {line}");
        }
        assert!(!line.contains("accept-new"));
        assert!(
            !a.iter().any(|x| x == "-f"),
            "the master must stay in the foreground: {line}"
        );
        assert_eq!(&a[a.len() - 2..], ["--", "ssh://deploy@rs2000:2222"]);
    }

    #[test]
    fn connect_failures_say_what_to_do() {
        let e = connect_failure(
            &c(),
            Some(255),
            "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Refused);
        assert!(
            e.message
                .contains("host key verification failed: check known_hosts"),
            "{e}"
        );
        let e = connect_failure(
            &c(),
            Some(255),
            "Connection timed out during banner exchange\r\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Timeout);
        assert_eq!(
            e.message,
            "ssh to rs2000 timed out after 5 s (connect_timeout_s)"
        );
        let e = connect_failure(
            &c(),
            Some(255),
            "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Unreachable);
        let e = connect_failure(
            &c(),
            Some(255),
            "root@127.0.0.1: Permission denied (publickey).\r\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Refused);
        let e = connect_failure(
            &c(),
            Some(255),
            "ssh: Could not resolve hostname nope: Name or service not known\r\n",
        );
        assert_eq!(e.kind, crate::ObserveErrorKind::Unreachable);
        assert!(e.message.contains("cannot resolve deploy@rs2000"));
    }

    #[test]
    fn private_dirs_are_0700() {
        let d = private_dir().unwrap();
        let mode = std::fs::metadata(d.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(
            d.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(CONTROL_DIR_PREFIX)
        );
    }
}
