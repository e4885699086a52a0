//! `apply PLANFILE`: the gated change of one module (SPEC §10). The work is
//! `platformctl-apply`'s; this parses, asks for a yes on a terminal, and renders.

use std::io::{BufRead, IsTerminal, Write};

use platformctl_apply::{APPLY_SCHEMA, ApplyDoc, Options, exit};

use crate::cli::{ApplyArgs, Cli};
use crate::commands::drift::fleet_options;
use crate::output;

/// `user@machine`, for the audit log.
fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(user_of_uid)
        .unwrap_or_else(|| "unknown".into());
    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{machine}")
}

/// The name of this process's user in /etc/passwd (a service or container without $USER).
fn user_of_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    })
}

/// `apply PLANFILE [--approve] [--wait] [--json]`.
pub fn run(cli: &Cli, args: &ApplyArgs) -> u8 {
    let catalog = match output::load_for_hosts(cli) {
        Ok(c) => c,
        Err(f) => return output::fatal(APPLY_SCHEMA, args.json, &f, exit::ERROR),
    };
    let hub = match &args.hub {
        Some(u) => match platformctl_hub::HubUrl::parse(u) {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("platformctl apply: --hub: {e}");
                return exit::ERROR;
            }
        },
        None => {
            let default = platformctl_hub::HubUrl::default_for_root(&catalog.root);
            match &default {
                platformctl_hub::HubUrl::Sqlite(p) if p.exists() => Some(default),
                _ => None,
            }
        }
    };
    let opts = Options {
        approved: args.approve,
        wait: args.wait,
        fleet: fleet_options(args.timeout, None),
        who: who(),
        hub,
    };
    // A yes typed on a terminal; without one (a script, CI, an agent) nothing is approved.
    let mut confirm = |b: &platformctl_drift::binding::SavedBinding| {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return false;
        }
        eprint!("{}Type yes to apply: ", platformctl_apply::preview(b));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "yes"
    };
    let mut progress = |m: &str| eprintln!("  {m}");
    let doc = platformctl_apply::apply(&catalog, &args.plan, &opts, &mut confirm, &mut progress);
    if args.json {
        output::print_json(&doc);
    } else {
        output::print(&render(&doc));
    }
    doc.exit_code
}

fn render(d: &ApplyDoc) -> String {
    let mut s = String::new();
    for c in &d.commands {
        let status = c
            .exit_status
            .map_or("killed".to_string(), |n| n.to_string());
        s.push_str(&format!("ran   {}  (exit {status})\n", c.line));
        if let Some(e) = &c.stderr {
            for l in e.lines().take(20) {
                s.push_str(&format!("      {l}\n"));
            }
        }
    }
    for f in &d.stale {
        s.push_str(&format!(
            "stale {}: planned {} — now {}\n",
            f.fact, f.planned, f.now
        ));
    }
    for r in &d.remaining {
        s.push_str(&format!("still {r}\n"));
    }
    let code = d
        .code
        .as_deref()
        .map_or(String::new(), |c| format!("{c}: "));
    s.push_str(&format!(
        "{}: {code}{}\nexit {}\n",
        d.result, d.message, d.exit_code
    ));
    s
}
