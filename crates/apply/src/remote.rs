//! Running the plan's commands on a host: through one OpenSSH master connection for an ssh
//! host (`ssh -M -N`, the same hardening options as observation's, then every command over its
//! control socket), or directly for a local host.
//!
//! A command is an argument vector. Over ssh the remote shell gets one line in which every word
//! is quoted ([`platformctl_drift::binding::shell_line`]), so no value — a service name with
//! `;` in it, say — can become shell syntax; locally no shell is involved at all.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use platformctl_catalog::{Catalog, Host, Transport};
use platformctl_drift::binding::shell_line;

/// How a command ended.
pub struct Output {
    /// Its exit status (`None`: killed by a signal).
    pub status: Option<i32>,
    /// What it printed.
    pub stdout: Vec<u8>,
    /// What it printed on stderr.
    pub stderr: Vec<u8>,
}

/// A connection to run commands on one host.
pub enum Runner {
    /// The host is this machine.
    Local,
    /// An ssh master and how to reach it.
    Ssh {
        /// The master (killed when dropped).
        master: Child,
        /// Its control socket.
        ctl: PathBuf,
        /// The ssh destination.
        destination: String,
        /// `-F` file.
        config: Option<PathBuf>,
        /// The private directory of the control socket.
        _dir: tempfile::TempDir,
    },
}

fn hardening(connect_timeout_s: u64) -> Vec<String> {
    [
        "BatchMode=yes".to_string(),
        "StrictHostKeyChecking=yes".to_string(),
        "UpdateHostKeys=no".to_string(),
        format!("ConnectTimeout={connect_timeout_s}"),
        "ClearAllForwardings=yes".to_string(),
        "ForwardAgent=no".to_string(),
        "ForwardX11=no".to_string(),
        "PermitLocalCommand=no".to_string(),
        "RemoteCommand=none".to_string(),
        "LogLevel=ERROR".to_string(),
    ]
    .into_iter()
    .flat_map(|o| ["-o".to_string(), o])
    .collect()
}

impl Runner {
    /// Connects to `host` (an ssh master, ready when its control socket exists).
    pub fn open(catalog: &Catalog, host: &Host) -> Result<Runner, String> {
        if host.transport == Transport::Local {
            return Ok(Runner::Local);
        }
        let destination = host
            .ssh
            .clone()
            .ok_or_else(|| format!("host {} has no ssh destination", host.name))?;
        let config = catalog.platform.ssh_config_file(&catalog.root);
        let dir = tempfile::Builder::new()
            .prefix("platformctl-apply-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("cannot create a private directory: {e}"))?;
        let ctl = dir.path().join("ctl");
        let timeout = host.connect_timeout_s.unwrap_or(10);
        let mut cmd = Command::new("ssh");
        cmd.args(["-M", "-N", "-S"])
            .arg(&ctl)
            .args(["-o", "ControlPersist=no"])
            .args(hardening(timeout));
        if let Some(f) = &config {
            cmd.arg("-F").arg(f);
        }
        cmd.arg("--").arg(&destination);
        let mut master = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start ssh: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(timeout + 5);
        while !ctl.exists() {
            if let Ok(Some(status)) = master.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = master.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!(
                    "ssh to {} ({destination}) failed ({status}): {}",
                    host.name,
                    err.trim()
                ));
            }
            if Instant::now() > deadline {
                let _ = master.kill();
                let _ = master.wait();
                return Err(format!("ssh to {} timed out", host.name));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Runner::Ssh {
            master,
            ctl,
            destination,
            config,
            _dir: dir,
        })
    }

    /// Runs `argv` on the host and waits for it.
    pub fn run(&self, argv: &[String]) -> Result<Output, String> {
        let mut cmd = match self {
            Runner::Local => {
                let (first, rest) = argv.split_first().ok_or("an empty command")?;
                let mut c = Command::new(first);
                c.args(rest);
                c
            }
            Runner::Ssh {
                ctl,
                destination,
                config,
                ..
            } => {
                let mut c = Command::new("ssh");
                c.arg("-S").arg(ctl).args(["-o", "ControlMaster=no"]);
                c.args(hardening(10));
                if let Some(f) = config {
                    c.arg("-F").arg(f);
                }
                c.arg("--").arg(destination).arg(shell_line(argv));
                c
            }
        };
        let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
            format!(
                "cannot run {}: {e}",
                argv.first().map_or("", String::as_str)
            )
        })?;
        Ok(Output {
            status: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    /// The bytes of a file on the host (`cat -- PATH`).
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, String> {
        let out = self.run(&["cat".to_string(), "--".to_string(), path.to_string()])?;
        if out.status == Some(0) {
            Ok(out.stdout)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Runner::Ssh { master, .. } = self {
            let _ = master.kill();
            let _ = master.wait();
        }
    }
}
