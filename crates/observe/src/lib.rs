//! Read-only observation of Docker hosts, locally or over SSH.
//!
//! This is the **only** crate of platformctl that talks to hosts. Every other crate is pure:
//! the catalog reads the platform repo, [`platformctl_evidence`] decodes answers, compare judges
//! drift. Give [`observe`] the hosts of platform.toml as [`Target`]s and a compose project, and
//! it returns one [`HostReport`] per host, in target order: the project's containers and the
//! images they run ([`HostEvidence`]), or why that host could not be observed
//! ([`ObserveError`]), how long it took and which path answered ([`Via`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use platformctl_observe::{Options, Target, TargetKind, observe_blocking};
//!
//! let targets = vec![
//!     Target {
//!         host: "rs2000".into(),
//!         kind: TargetKind::Ssh { destination: "deploy@rs2000".into(), config_file: None },
//!         docker_socket: "/var/run/docker.sock".into(),
//!         connect_timeout: Duration::from_secs(10),
//!     },
//!     Target::local("laptop", "/run/user/1000/docker.sock"),
//! ];
//! for report in observe_blocking(targets, "home-platform", &Options::default())? {
//!     match &report.outcome {
//!         Ok(evidence) => println!("{}: {} containers", report.host, evidence.containers.len()),
//!         Err(e) => println!("{}: {} ({})", report.host, e, e.kind),
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How a host is observed
//!
//! One batched observation per host: one `GET /_ping`, whose `API-Version` header fixes the
//! Engine API version (the engine's newest, capped at 1.52; an engine below 1.41, Docker 20.10,
//! is refused with "upgrade Docker"), then the Engine API's container list filtered by the
//! label `com.docker.compose.project=PROJECT` (`all=1`, so stopped containers too) and its image
//! list (`digests=1`), asked concurrently. Two connections: the first carries the ping and then,
//! kept alive, the containers list; the second the images list. Three requests, two of them
//! Engine API calls, whatever version the engine speaks (ADR 0008).
//!
//! - **local** hosts: over the host's `docker_socket`, with hyper's HTTP/1 client connection
//!   behind this crate's one GET-only request function.
//! - **ssh** hosts: one OpenSSH master connection per host for the whole run (the system `ssh`,
//!   so the user's ssh config, agent and known_hosts apply, plus `[ssh] config`), driven by the
//!   `openssh` crate's native mux client. The master forwards a unix socket in a private
//!   `0700` directory to the remote `docker_socket`, and the same HTTP client talks through it
//!   ([`Via::SshForward`]). When the ssh server refuses that forward
//!   (`AllowStreamLocalForwarding no`), **one** remote command prints `docker inspect` of the
//!   project's containers and `docker image inspect` of their images
//!   ([`Via::SshCommand`]); [`SshMode::CommandOnly`] goes there directly. The master is closed
//!   at the end, and killed if the observation is cancelled or times out: no ssh process and no
//!   control socket outlives [`observe`]. (Only a SIGKILL of the calling process itself can
//!   leave a master behind; the master is a plain child in the caller's process group, so a
//!   terminal's Ctrl-C reaches it too.)
//!
//! Both paths yield the same evidence for the same host, with one known difference: once the
//! tag a container was created from has moved to another image, the Engine API's list reports
//! the image ID as the container's `image_ref`, while `docker inspect` keeps the original
//! reference (`Config.Image`). The image ID, and so the image's RepoTags and RepoDigests, agree.
//!
//! Hosts are observed concurrently, at most [`Options::concurrency`] at a time; each host has
//! its own [`Options::host_timeout`] (and ssh its `connect_timeout`), so a dead or silent host
//! costs its own timeout and never delays the others' results. The host timeout becomes one
//! deadline when the host starts; connecting, forwarding, every HTTP request and the fallback
//! command all end by that instant (no step gets a fresh budget).
//!
//! # Read-only by construction
//!
//! Observation can only read; this is a property of the code, not a promise of its callers:
//!
//! - **One HTTP request function, and it can only GET.** The HTTP client's only request
//!   function takes an endpoint from a closed enum (ping, containers of a project, images) and
//!   builds the request with `Request::get` and an empty body, in one place; one other place
//!   hands it to hyper. No method, path, header or body can be passed in, so no Engine API call
//!   that changes anything is reachable.
//! - **One remote command, from a fixed template.** The ssh fallback runs a compile-time
//!   constant script calling only `docker ps -aq`, `docker inspect` and `docker image
//!   inspect`; the socket path and project name reach it as validated, single-quoted
//!   positional parameters, never as script text.
//! - **No other process.** The only local program this crate starts is `ssh`, with options that
//!   clear any forwarding, agent forwarding, `LocalCommand` and `RemoteCommand` the user's
//!   config may set for that host, and that never accept an unknown or changed host key.
//! - **Inputs are checked first.** Project names, socket paths and ssh destinations outside a
//!   small character set are refused ([`ObserveErrorKind::Invalid`]) before any process starts.
//!
//! A test (`tests/readonly_audit.rs`) scans this crate's sources and fails if an HTTP method
//! other than GET, a second place that builds or sends a request (or any other way to build
//! one), a process other than `ssh`, or a mutating docker subcommand appears in them;
//! the real-parts test (`tests/realparts.rs`) records `docker events` on the engines for the
//! whole run and fails on any container, image, network or volume event.
//!
//! # Tests
//!
//! `cargo test -p platformctl-observe` runs unit tests (the HTTP client against raw and fake
//! unix-socket engines, counting requests and connections, the remote template through a real `sh` with a fake `docker`), the
//! read-only audit, and `tests/realparts.rs`: private Docker engines, sshds, a closed port and a
//! silent host from `scripts/e2e/realparts.sh` (root only, about a minute; without root its
//! tests are reported as ignored with the reason, and `PLATFORMCTL_E2E_REQUIRED=1` makes that a
//! failure).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;

pub use platformctl_evidence::HostEvidence;

mod engine;
mod error;
mod http;
mod remote;
mod ssh;
mod validate;

pub use error::{ObserveError, ObserveErrorKind};
pub use ssh::CONTROL_DIR_PREFIX;

/// The ssh `ConnectTimeout` used when platform.toml sets no `connect_timeout_s`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default bound on hosts observed at the same time.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The default overall time one host may take (connect, ask, close).
pub const DEFAULT_HOST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer accepted from a host (each of the two Engine API answers, or the whole
/// output of the ssh command fallback).
const MAX_ANSWER: usize = http::MAX_BODY;

/// One host to observe (the CLI maps platform.toml's `[hosts.NAME]` to these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host's name in platform.toml (used in messages and reports).
    pub host: String,
    /// How to reach it.
    pub kind: TargetKind,
    /// The Docker socket on that host (`/var/run/docker.sock`).
    pub docker_socket: String,
    /// ssh's `ConnectTimeout` (`connect_timeout_s`); rounded up to whole seconds. Not used for
    /// local targets.
    pub connect_timeout: Duration,
}

impl Target {
    /// A local target with the default connect timeout.
    pub fn local(host: impl Into<String>, docker_socket: impl Into<String>) -> Self {
        Target {
            host: host.into(),
            kind: TargetKind::Local,
            docker_socket: docker_socket.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// An ssh target with the default connect timeout and the user's own ssh configuration.
    pub fn ssh(
        host: impl Into<String>,
        destination: impl Into<String>,
        docker_socket: impl Into<String>,
    ) -> Self {
        Target {
            host: host.into(),
            kind: TargetKind::Ssh {
                destination: destination.into(),
                config_file: None,
            },
            docker_socket: docker_socket.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// How a host is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// The Docker socket is on this machine.
    Local,
    /// Over ssh.
    Ssh {
        /// Anything ssh accepts: an alias, `user@host`, `ssh://user@host:port`.
        destination: String,
        /// `[ssh] config` of platform.toml (absolute, or relative to the working directory):
        /// passed as `ssh -F`, so it replaces the user's `~/.ssh/config` for this run.
        config_file: Option<PathBuf>,
    },
}

/// Which path produced a host's answer (or was being tried when it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// The local Docker socket.
    Local,
    /// The remote Docker socket, forwarded over the ssh master.
    SshForward,
    /// The ssh command fallback (`docker inspect` on the host).
    SshCommand,
}

impl Via {
    /// `local`, `ssh-forward` or `ssh-command`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Local => "local",
            Via::SshForward => "ssh-forward",
            Via::SshCommand => "ssh-command",
        }
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How ssh hosts are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SshMode {
    /// Forward the Docker socket; fall back to the remote command if the server refuses.
    #[default]
    Auto,
    /// Only the remote command (for servers known to refuse forwarding: saves one round trip).
    CommandOnly,
}

/// Something that happened while observing, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The host's observation started (its inputs were valid).
    Started {
        /// The host.
        host: String,
    },
    /// The ssh forward gave no answer; the remote command is tried next.
    Fallback {
        /// The host.
        host: String,
        /// Why the forward was given up.
        reason: String,
    },
    /// The host's observation ended.
    Finished {
        /// The host.
        host: String,
        /// The path that answered or was being tried.
        via: Via,
        /// Time since the host's start.
        elapsed: Duration,
        /// Whether evidence was obtained.
        ok: bool,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

/// How to observe.
#[derive(Clone)]
pub struct Options {
    /// At most this many hosts at a time (0 counts as 1). Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// The overall time one host may take (connecting, asking, closing). Default
    /// [`DEFAULT_HOST_TIMEOUT`].
    pub host_timeout: Duration,
    /// Called from the observing task as hosts start, fall back and finish.
    pub progress: Option<ProgressFn>,
    /// How ssh hosts are asked. Default [`SshMode::Auto`].
    pub ssh_mode: SshMode,
    /// Also ask each engine its platform (`GET /version`, one more request on the first
    /// connection) into [`HostEvidence::platform`], for registry truth. Default off.
    pub platform: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: DEFAULT_CONCURRENCY,
            host_timeout: DEFAULT_HOST_TIMEOUT,
            progress: None,
            ssh_mode: SshMode::Auto,
            platform: false,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("concurrency", &self.concurrency)
            .field("host_timeout", &self.host_timeout)
            .field(
                "progress",
                &self.progress.as_ref().map(|_| "Fn(ProgressEvent)"),
            )
            .field("ssh_mode", &self.ssh_mode)
            .finish()
    }
}

impl Options {
    fn emit(&self, event: ProgressEvent) {
        if let Some(p) = &self.progress {
            p(event);
        }
    }
}

/// The result for one host.
#[derive(Debug, Clone)]
pub struct HostReport {
    /// The host's name.
    pub host: String,
    /// The evidence, or why there is none.
    pub outcome: Result<HostEvidence, ObserveError>,
    /// How long the host took (zero when its inputs were refused).
    pub elapsed: Duration,
    /// The path that answered, or was being tried when it failed.
    pub via: Via,
}

/// Observes `targets` concurrently (at most `opts.concurrency` at a time) and returns one
/// report per target, in target order.
///
/// An invalid `project` is refused for every host before anything runs; an invalid socket path
/// or ssh destination is refused for its host. Must run inside a tokio runtime with I/O, time
/// and process support (see [`observe_blocking`] otherwise).
pub async fn observe(targets: Vec<Target>, project: &str, opts: &Options) -> Vec<HostReport> {
    if let Err(e) = validate::project(project) {
        return targets
            .into_iter()
            .map(|t| HostReport {
                via: first_via(&t.kind),
                host: t.host,
                outcome: Err(e.clone()),
                elapsed: Duration::ZERO,
            })
            .collect();
    }
    let mut reports: Vec<(usize, HostReport)> =
        futures::stream::iter(targets.into_iter().enumerate())
            .map(|(i, t)| async move { (i, observe_host(t, project, opts).await) })
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// [`observe`] on a runtime of its own (current-thread): for callers without one. Fails only
/// if the runtime cannot be built, or when called from inside a tokio runtime (use
/// `observe(…).await` there).
pub fn observe_blocking(
    targets: Vec<Target>,
    project: &str,
    opts: &Options,
) -> std::io::Result<Vec<HostReport>> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(std::io::Error::other(
            "observe_blocking was called inside a tokio runtime: use observe(…).await there",
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(observe(targets, project, opts)))
}

fn first_via(kind: &TargetKind) -> Via {
    match kind {
        TargetKind::Local => Via::Local,
        TargetKind::Ssh { .. } => Via::SshForward,
    }
}

/// Where a host's observation is, for the report's `via` and for timeout messages.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    Local = 0,
    SshConnecting = 1,
    SshForward = 2,
    SshCommand = 3,
}

struct PhaseCell(AtomicU8);

impl PhaseCell {
    fn new(p: Phase) -> Self {
        PhaseCell(AtomicU8::new(p as u8))
    }
    fn set(&self, p: Phase) {
        self.0.store(p as u8, Ordering::Relaxed);
    }
    fn get(&self) -> Phase {
        match self.0.load(Ordering::Relaxed) {
            0 => Phase::Local,
            1 => Phase::SshConnecting,
            2 => Phase::SshForward,
            _ => Phase::SshCommand,
        }
    }
    fn via(&self) -> Via {
        match self.get() {
            Phase::Local => Via::Local,
            Phase::SshConnecting | Phase::SshForward => Via::SshForward,
            Phase::SshCommand => Via::SshCommand,
        }
    }
}

async fn observe_host(t: Target, project: &str, opts: &Options) -> HostReport {
    let start = Instant::now();
    let phase = PhaseCell::new(match t.kind {
        TargetKind::Local => Phase::Local,
        TargetKind::Ssh { .. } => Phase::SshConnecting,
    });
    let checked = validate::host_name(&t.host)
        .and_then(|()| validate::socket(&t.host, &t.docker_socket))
        .and_then(|()| match &t.kind {
            TargetKind::Local => Ok(()),
            TargetKind::Ssh { destination, .. } => validate::destination(&t.host, destination),
        });
    if let Err(e) = checked {
        return HostReport {
            via: phase.via(),
            host: t.host,
            outcome: Err(e),
            elapsed: Duration::ZERO,
        };
    }
    opts.emit(ProgressEvent::Started {
        host: t.host.clone(),
    });
    // The host's one deadline: everything below (ssh, the forward, each HTTP request, the
    // remote command) ends by it; nothing below starts a budget of its own.
    let deadline = http::Deadline::after(opts.host_timeout);
    let outcome =
        match tokio::time::timeout_at(deadline.at, run_host(&t, project, deadline, &phase, opts))
            .await
        {
            Ok(r) => r,
            Err(_) => Err(ObserveError::timeout(format!(
                "host {}: no complete observation within {} (host timeout) while {}",
                t.host,
                error::secs(opts.host_timeout),
                match phase.get() {
                    Phase::Local => "asking the local Docker socket",
                    Phase::SshConnecting => "connecting over ssh",
                    Phase::SshForward => "asking the Docker engine over the ssh forward",
                    Phase::SshCommand => "running the docker command over ssh",
                }
            ))),
        };
    let elapsed = start.elapsed();
    let via = phase.via();
    opts.emit(ProgressEvent::Finished {
        host: t.host.clone(),
        via,
        elapsed,
        ok: outcome.is_ok(),
    });
    HostReport {
        host: t.host,
        outcome,
        elapsed,
        via,
    }
}

async fn run_host(
    t: &Target,
    project: &str,
    deadline: http::Deadline,
    phase: &PhaseCell,
    opts: &Options,
) -> Result<HostEvidence, ObserveError> {
    match &t.kind {
        TargetKind::Local => {
            let place = engine::Place {
                host: &t.host,
                docker_socket: &t.docker_socket,
                via: Via::Local,
                platform: opts.platform,
            };
            engine::observe(
                std::path::Path::new(&t.docker_socket),
                project,
                deadline,
                &place,
            )
            .await
            .map_err(|e| e.error)
        }
        TargetKind::Ssh {
            destination,
            config_file,
        } => {
            let master = ssh::Master::connect(&ssh::Connect {
                host: &t.host,
                destination,
                config_file: config_file.as_deref(),
                connect_timeout: t.connect_timeout,
            })
            .await?;
            let result = observe_over_ssh(&master, t, project, deadline, phase, opts).await;
            master.close().await;
            result
        }
    }
}

async fn observe_over_ssh(
    master: &ssh::Master,
    t: &Target,
    project: &str,
    deadline: http::Deadline,
    phase: &PhaseCell,
    opts: &Options,
) -> Result<HostEvidence, ObserveError> {
    let mut forward_failure = None;
    if opts.ssh_mode == SshMode::Auto {
        phase.set(Phase::SshForward);
        let place = engine::Place {
            host: &t.host,
            docker_socket: &t.docker_socket,
            via: Via::SshForward,
            platform: opts.platform,
        };
        let reason = match master.forward(&t.docker_socket).await {
            Ok(local) => match engine::observe(&local, project, deadline, &place).await {
                Ok(evidence) => return Ok(evidence),
                Err(e) if e.no_answer => forward_refusal(master, &t.docker_socket, &e.error),
                Err(e) => return Err(e.error),
            },
            Err(e) => format!("the ssh master did not set up the forward: {e}"),
        };
        opts.emit(ProgressEvent::Fallback {
            host: t.host.clone(),
            reason: reason.clone(),
        });
        forward_failure = Some(reason);
    }
    phase.set(Phase::SshCommand);
    let out = master
        .run(&remote::command_line(&t.docker_socket, project), MAX_ANSWER)
        .await;
    let with_context = |mut e: ObserveError| {
        if let Some(reason) = &forward_failure {
            e.message = format!("{} (after the socket forward failed: {reason})", e.message);
        }
        e
    };
    let out = out.map_err(with_context)?;
    if out.code != Some(0) {
        return Err(with_context(remote::failure(
            &t.host,
            &t.docker_socket,
            out.code,
            &out.stderr,
        )));
    }
    let (containers, images) = remote::split_output(&out.stdout).ok_or_else(|| {
        with_context(ObserveError::protocol(format!(
            "host {}: the docker command's output lacks its separator line (is something printing on the ssh user's shell startup?)",
            t.host
        )))
    })?;
    HostEvidence::from_cli(containers, images).map_err(|e| {
        ObserveError::decode(format!(
            "host {}: the docker inspect output could not be decoded: {e}",
            t.host
        ))
    })
}

/// Why the forward gave no answer, from what the master logged. sshd answers a refused
/// stream-local forward (`AllowStreamLocalForwarding no`) with the same "connect failed" as a
/// socket nobody listens on, so the message names both; `administratively prohibited` comes
/// from `restrict`/`permitopen`-style limits.
fn forward_refusal(master: &ssh::Master, socket: &str, e: &ObserveError) -> String {
    let diag = master.diagnostics().to_ascii_lowercase();
    if diag.contains("administratively prohibited") {
        format!(
            "the ssh server refused to forward {socket} (administratively prohibited: see the restrictions on the key or in sshd_config)"
        )
    } else if diag.contains("open failed") {
        format!(
            "the ssh server refused or could not connect the forward to {socket} (AllowStreamLocalForwarding no, or nothing listens there)"
        )
    } else {
        e.message.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_observe_future_is_send() {
        // The CLI may spawn it on a multi-thread runtime.
        let opts = Options::default();
        let fut = observe(Vec::new(), "p", &opts);
        assert_send(&fut);
    }

    #[tokio::test]
    async fn an_invalid_project_is_refused_for_every_host_before_anything_runs() {
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let s = started.clone();
        let opts = Options {
            progress: Some(Arc::new(move |_| {
                s.fetch_add(1, Ordering::Relaxed);
            })),
            ..Options::default()
        };
        let targets = vec![
            Target::local("a", "/nonexistent/docker.sock"),
            Target::ssh("b", "deploy@b", "/var/run/docker.sock"),
        ];
        let r = observe(targets, "x;id", &opts).await;
        assert_eq!(r.len(), 2);
        for (h, name) in r.iter().zip(["a", "b"]) {
            assert_eq!(h.host, name);
            assert_eq!(
                h.outcome.as_ref().unwrap_err().kind,
                ObserveErrorKind::Invalid
            );
        }
        assert_eq!(r[1].via, Via::SshForward);
        assert_eq!(started.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn reports_keep_target_order_and_a_missing_socket_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let targets: Vec<Target> = (0..5)
            .map(|i| {
                Target::local(
                    format!("h{i}"),
                    dir.path().join(format!("s{i}.sock")).to_string_lossy(),
                )
            })
            .collect();
        let opts = Options {
            concurrency: 2,
            ..Options::default()
        };
        let r = observe(targets, "p", &opts).await;
        let hosts: Vec<&str> = r.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, ["h0", "h1", "h2", "h3", "h4"]);
        for h in &r {
            let e = h.outcome.as_ref().unwrap_err();
            assert_eq!(e.kind, ObserveErrorKind::Unreachable, "{e}");
            assert_eq!(h.via, Via::Local);
        }
    }

    #[test]
    fn the_defaults_agree() {
        // ssh's connect timeout must fit in the host's budget, or a slow connect would read as
        // a host timeout; the constructors and Options use the named defaults.
        assert!(DEFAULT_CONNECT_TIMEOUT < DEFAULT_HOST_TIMEOUT);
        assert_eq!(Options::default().host_timeout, DEFAULT_HOST_TIMEOUT);
        assert_eq!(Options::default().concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(
            Target::local("h", "/s").connect_timeout,
            DEFAULT_CONNECT_TIMEOUT
        );
        assert_eq!(
            Target::ssh("h", "d", "/s").connect_timeout,
            DEFAULT_CONNECT_TIMEOUT
        );
    }

    #[tokio::test]
    async fn a_silent_local_engine_costs_the_host_timeout_once() {
        // One deadline: the ping, the reconnects and the lists share it.
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                held.push(listener.accept().await.unwrap().0);
            }
        });
        let opts = Options {
            host_timeout: Duration::from_millis(300),
            ..Options::default()
        };
        let r = observe(vec![Target::local("h", sock.to_string_lossy())], "p", &opts).await;
        let e = r[0].outcome.as_ref().unwrap_err();
        assert_eq!(e.kind, ObserveErrorKind::Timeout, "{e}");
        assert!(e.message.contains("300 ms (host timeout)"), "{e}");
        assert!(
            r[0].elapsed >= Duration::from_millis(290) && r[0].elapsed < Duration::from_millis(700),
            "{:?}",
            r[0].elapsed
        );
        hold.abort();
    }

    #[test]
    fn observe_blocking_runs_without_a_runtime() {
        let r = observe_blocking(vec![], "p", &Options::default()).unwrap();
        assert!(r.is_empty());
    }
}
