//! Observe hosts from the command line (a development aid):
//!
//! ```text
//! cargo run -p platformctl-observe --example observe -- PROJECT local:NAME:SOCKET ssh:NAME:DEST:SOCKET[:CONFIG] …
//! ```
//!
//! Environment: `OBSERVE_CONNECT_TIMEOUT_S`, `OBSERVE_HOST_TIMEOUT_S`, `OBSERVE_COMMAND_ONLY=1`.

use std::sync::Arc;
use std::time::Duration;

use platformctl_observe::{Options, SshMode, Target, TargetKind, observe_blocking};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(project) = args.next() else {
        eprintln!("usage: observe PROJECT local:NAME:SOCKET | ssh:NAME:DEST:SOCKET[:CONFIG] …");
        std::process::exit(2);
    };
    let secs = |var: &str, default: u64| {
        Duration::from_secs(
            std::env::var(var)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default),
        )
    };
    let targets: Vec<Target> = args
        .map(|a| {
            let parts: Vec<&str> = a.split(':').collect();
            match parts.as_slice() {
                ["local", name, sock] => Target::local(*name, *sock),
                ["ssh", name, dest, sock, rest @ ..] => Target {
                    host: (*name).into(),
                    kind: TargetKind::Ssh {
                        destination: (*dest).into(),
                        config_file: rest.first().map(Into::into),
                    },
                    docker_socket: (*sock).into(),
                    connect_timeout: secs("OBSERVE_CONNECT_TIMEOUT_S", 10),
                },
                _ => {
                    eprintln!("bad target {a}");
                    std::process::exit(2);
                }
            }
        })
        .collect();
    let opts = Options {
        host_timeout: secs("OBSERVE_HOST_TIMEOUT_S", 60),
        progress: Some(Arc::new(|e| eprintln!("progress: {e:?}"))),
        ssh_mode: if std::env::var("OBSERVE_COMMAND_ONLY").as_deref() == Ok("1") {
            SshMode::CommandOnly
        } else {
            SshMode::Auto
        },
        ..Options::default()
    };
    let reports = observe_blocking(targets, &project, &opts).expect("a runtime");
    for r in reports {
        match &r.outcome {
            Ok(ev) => {
                println!(
                    "{} via {} in {:?}: {} containers, {} images",
                    r.host,
                    r.via,
                    r.elapsed,
                    ev.containers.len(),
                    ev.images.len()
                );
                for c in &ev.containers {
                    println!("  {} {} {} {}", c.name, c.state, c.image_ref, c.image_id);
                }
            }
            Err(e) => println!(
                "{} via {} in {:?}: {} error: {}",
                r.host, r.via, r.elapsed, e.kind, e.message
            ),
        }
    }
}
