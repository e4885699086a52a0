//! `platformctl serve` and `platformctl mcp`: argument handling only; the servers are
//! `platformctl-serve` and `platformctl-mcp`, which build every document with the same library
//! calls as the other commands.

use std::time::Duration;

use platformctl_hub::HubUrl;

use crate::cli::{Cli, McpArgs, ServeArgs};
use crate::output::{self, ERROR, Fatal, OK};

/// The platform root and the hub (`--hub`, else the root's `state/hub.sqlite3`).
fn platform(cli: &Cli, hub: Option<&str>) -> Result<(std::path::PathBuf, HubUrl), Fatal> {
    let root = output::root(cli)?;
    let hub = match hub {
        Some(u) => HubUrl::parse(u).map_err(|e| Fatal::new(format!("--hub: {e}")))?,
        None => HubUrl::default_for_root(&root),
    };
    Ok((root, hub))
}

fn fail(f: &Fatal) -> u8 {
    eprintln!("platformctl: {}", f.message.trim_end());
    ERROR
}

/// `serve`.
pub fn serve(cli: &Cli, args: &ServeArgs) -> u8 {
    let (root, hub) = match platform(cli, args.hub.as_deref()) {
        Ok(x) => x,
        Err(f) => return fail(&f),
    };
    let token = match &args.token_file {
        Some(p) => match platformctl_serve::read_token(p) {
            Ok(t) => Some(t),
            Err(e) => return fail(&Fatal::new(e)),
        },
        None => None,
    };
    let cfg = platformctl_serve::Config {
        root,
        hub,
        env: output::env_pairs(),
        listen: args.listen,
        token,
        refresh: args.refresh.map(|s| Duration::from_secs(s.max(1))),
        timeout: args.timeout,
        concurrency: args.concurrency,
        registry: args.no_registry.then_some(false),
    };
    match platformctl_serve::run(cfg) {
        Ok(()) => OK,
        Err(e) => fail(&Fatal::new(e)),
    }
}

/// `mcp`.
pub fn mcp(cli: &Cli, args: &McpArgs) -> u8 {
    let (root, hub) = match platform(cli, args.hub.as_deref()) {
        Ok(x) => x,
        Err(f) => return fail(&f),
    };
    let cfg = platformctl_mcp::Config {
        root,
        hub,
        env: output::env_pairs(),
    };
    match platformctl_mcp::run(cfg) {
        Ok(()) => OK,
        Err(e) => fail(&Fatal::new(e)),
    }
}
