//! `platformctl serve` and `platformctl mcp`: argument handling only; the servers are
//! `platformctl-serve` and `platformctl-mcp`, which build every document with the same library
//! calls as the other commands.

use std::time::Duration;

use platformctl_hub::HubUrl;

use crate::cli::{Cli, McpArgs, ServeArgs};
use crate::output::{self, ERROR, Fatal, OK};

fn hub_url(hub: Option<&str>, root: &std::path::Path) -> Result<HubUrl, Fatal> {
    match hub {
        Some(u) => HubUrl::parse(u).map_err(|e| Fatal::new(format!("--hub: {e}"))),
        None => Ok(HubUrl::default_for_root(root)),
    }
}

fn fail(f: &Fatal) -> u8 {
    eprintln!("platformctl: {}", f.message.trim_end());
    ERROR
}

/// `serve`.
pub fn serve(cli: &Cli, args: &ServeArgs) -> u8 {
    let root = match output::root(cli) {
        Ok(r) => r,
        Err(f) => return fail(&f),
    };
    let hub = match hub_url(args.hub.as_deref(), &root) {
        Ok(h) => h,
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
    let root = match output::root(cli) {
        Ok(r) => r,
        Err(f) => return fail(&f),
    };
    let hub = match hub_url(args.hub.as_deref(), &root) {
        Ok(h) => h,
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
