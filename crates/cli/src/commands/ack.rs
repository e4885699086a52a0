//! `ack MODULE CODE [--field F] --reason R [--until DATE]`: acknowledge a current difference
//! (SPEC §9). The module is observed read-only (the same plan `plan` makes), the matching
//! change is found (`platformctl_drift::ack_target`), and the entry is written into the
//! module's manifest with the surgical editor (`platformctl_derive::ack`), atomically.

use platformctl_catalog::schema::ACCEPT_MAX_DAYS;
use platformctl_derive::ack::{AcceptWrite, add_accept};
use serde_json::json;

use crate::cli::{AckArgs, Cli};
use crate::commands::drift::fleet_options;
use crate::output;

/// The schema name of `ack --json`.
pub const ACK_SCHEMA: &str = "platformctl/ack/v1";

fn fail(args: &AckArgs, message: String) -> u8 {
    if args.json {
        output::print_json(&json!({
            "schema": ACK_SCHEMA,
            "exitCode": 2,
            "error": {"message": message},
        }));
    } else {
        eprintln!("platformctl ack: {message}");
    }
    2
}

/// `ack`.
pub fn run(cli: &Cli, args: &AckArgs) -> u8 {
    if args.reason.trim().is_empty() {
        return fail(
            args,
            "--reason must say why the difference is accepted".into(),
        );
    }
    let today = platformctl_catalog::module::today();
    let until = match &args.until {
        None => today.saturating_add(jiff::Span::new().days(30)),
        Some(u) => match u.parse::<jiff::civil::Date>() {
            Ok(d) => d,
            Err(_) => return fail(args, format!("--until {u}: not a date (YYYY-MM-DD)")),
        },
    };
    let days = i64::from((until - today).get_days());
    if days < 0 {
        return fail(
            args,
            format!("--until {until} has passed (today is {today})"),
        );
    }
    if days > ACCEPT_MAX_DAYS {
        return fail(
            args,
            format!("--until {until} is {days} days ahead; at most {ACCEPT_MAX_DAYS}"),
        );
    }
    let catalog = match output::load_for_hosts(cli) {
        Ok(c) => c,
        Err(f) => return output::fatal(ACK_SCHEMA, args.json, &f, 2),
    };
    let run =
        match platformctl_drift::plan(&catalog, &args.module, &fleet_options(args.timeout, None)) {
            Ok(r) => r,
            Err(e) => return fail(args, e.to_string()),
        };
    let (field, observed) =
        match platformctl_drift::ack_target(&run, &args.code, args.field.as_deref()) {
            Ok(t) => t,
            Err(e) => return fail(args, e),
        };
    let Ok(m) = platformctl_drift::module(&catalog, &args.module) else {
        return fail(args, format!("no module {}", args.module));
    };
    let path = catalog.root.join(&m.file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return fail(args, format!("{}: {e}", path.display())),
    };
    let entry = AcceptWrite {
        code: args.code.clone(),
        field: Some(field.clone()),
        reason: args.reason.trim().to_string(),
        until: until.to_string(),
        observed,
    };
    let new = match add_accept(&text, &entry) {
        Ok(t) => t,
        Err(e) => return fail(args, format!("{}: {e}", m.file.display())),
    };
    if let Err(e) = platformctl_diagnostics::write_atomic(&path, new.as_bytes()) {
        return fail(args, format!("{}: {e}", path.display()));
    }
    if args.json {
        output::print_json(&json!({
            "schema": ACK_SCHEMA,
            "exitCode": 0,
            "module": args.module,
            "file": m.file,
            "accepted": {
                "code": args.code,
                "field": field,
                "reason": entry.reason,
                "until": entry.until,
                "daysLeft": days,
            },
        }));
    } else {
        eprintln!(
            "{}: accepted {} {} until {until} ({days} days): {}",
            m.file.display(),
            args.code,
            field,
            entry.reason
        );
    }
    0
}
