//! `platformctl metadata derive`: source, artifact and update metadata from evidence (SPEC §8,
//! docs/derive.md). A dry run unless `--write`.

use std::collections::BTreeMap;

use platformctl_catalog::{Module, Part, Tier};
use platformctl_derive::{From, Live, Options, Policy, Report, derive};
use platformctl_drift::FleetOptions;
use serde_json::json;

use crate::cli::{Cli, DeriveFrom, DerivePolicy, MetadataCommand, MetadataDeriveArgs, MissingPart};
use crate::output::{self, ERROR, Fatal, OK};
use crate::style::Style;

const SCHEMA: &str = "platformctl/metadata-derive/v1";
/// Proposals not written (dry run), or modules refused.
const PENDING: u8 = 1;

pub fn run(cli: &Cli, cmd: &MetadataCommand) -> u8 {
    match cmd {
        MetadataCommand::Derive(args) => run_derive(cli, args),
    }
}

fn fatal(args: &MetadataDeriveArgs, message: String) -> u8 {
    output::fatal(
        SCHEMA,
        args.json,
        &Fatal {
            message,
            finding: None,
        },
        ERROR,
    )
}

fn run_derive(cli: &Cli, args: &MetadataDeriveArgs) -> u8 {
    let loaded = if args.from == DeriveFrom::Live {
        output::load_for_hosts(cli)
    } else {
        output::load(cli, false)
    };
    let catalog = match loaded {
        Ok(c) => c,
        Err(f) => return output::fatal(SCHEMA, args.json, &f, ERROR),
    };
    let mut selected: Vec<&Module> = if args.all {
        catalog.modules().collect()
    } else {
        let mut v = Vec::new();
        for name in &args.modules {
            match platformctl_drift::module(&catalog, name) {
                Ok(m) => v.push(m),
                Err(e) => return fatal(args, e.to_string()),
            }
        }
        v
    };
    if let Some(t) = &args.tier {
        let tier = Tier::parse(t);
        selected.retain(|m| m.tier == tier);
    }
    if args.stateful {
        selected.retain(|m| m.stateful);
    }
    let parts: Vec<Part> = if args.missing.is_empty() {
        Part::ALL.to_vec()
    } else {
        args.missing
            .iter()
            .map(|p| match p {
                MissingPart::Source => Part::Source,
                MissingPart::Artifact => Part::Artifact,
                MissingPart::Update => Part::Update,
            })
            .collect()
    };
    let opts = Options {
        parts,
        policy: match args.policy {
            DerivePolicy::Manual => Policy::Manual,
            DerivePolicy::Notify => Policy::Notify,
        },
        from: match args.from {
            DeriveFrom::Compose => From::Compose,
            DeriveFrom::Live => From::Live,
        },
        today: jiff::tz::TimeZone::UTC
            .to_datetime(jiff::Timestamp::now())
            .date(),
    };
    let live: BTreeMap<String, Live> = if args.from == DeriveFrom::Live {
        // Only the modules that lack a requested part need their container looked at.
        let needed: Vec<&Module> = selected
            .iter()
            .copied()
            .filter(|m| opts.parts.iter().any(|p| !p.present(m)))
            .collect();
        platformctl_derive::live::observe(
            &catalog,
            &needed,
            &FleetOptions::from_flags(args.timeout, None),
        )
    } else {
        BTreeMap::new()
    };
    let report = derive(&catalog, &selected, &opts, &live);

    let mut written = Vec::new();
    let mut write_errors = Vec::new();
    if args.write {
        for p in &report.proposals {
            let path = catalog.root.join(&p.file);
            match platformctl_diagnostics::write_atomic(&path, p.after.as_bytes()) {
                Ok(()) => written.push(p.file.display().to_string()),
                Err(e) => write_errors.push(format!("{}: {e}", p.file.display())),
            }
        }
    }
    let code = if !write_errors.is_empty() {
        ERROR
    } else if (!args.write && !report.proposals.is_empty()) || !report.refusals.is_empty() {
        PENDING
    } else {
        OK
    };
    for e in &write_errors {
        eprintln!("platformctl: cannot write {e}");
    }
    if args.json {
        let mut doc = serde_json::to_value(&report).unwrap_or_default();
        if let Some(m) = doc.as_object_mut() {
            m.insert("schema".into(), json!(SCHEMA));
            m.insert("exitCode".into(), json!(code));
            m.insert("platform".into(), json!(catalog.platform.name));
            m.insert("from".into(), json!(opts.from));
            m.insert("write".into(), json!(args.write));
            m.insert("written".into(), json!(written));
        }
        output::print_json(&doc);
    } else {
        output::print(&human(&report, args.write, &Style::new(cli.color)));
    }
    code
}

fn human(r: &Report, write: bool, st: &Style) -> String {
    let mut out = String::new();
    for p in &r.proposals {
        for line in p.diff.lines() {
            let line = line.trim_end_matches('\r');
            let shown = if line.starts_with("+++") || line.starts_with("---") {
                st.bold(line)
            } else if line.starts_with('+') {
                st.green(line)
            } else if line.starts_with('-') {
                st.red(line)
            } else if line.starts_with("@@") {
                st.dim(line)
            } else {
                line.to_string()
            };
            out.push_str(&shown);
            out.push('\n');
        }
    }
    if !r.refusals.is_empty() {
        out.push_str(&format!(
            "\n{} ({}): the mapping is not clean; nothing is invented\n",
            st.bold("Refused"),
            r.refusals.len()
        ));
        let w = r.refusals.iter().map(|x| x.module.len()).max().unwrap_or(0);
        for x in &r.refusals {
            out.push_str(&format!(
                "  {:w$}  {}  {}\n",
                x.module,
                st.yellow(x.code.as_str()),
                x.reason
            ));
        }
    }
    let (b, a) = (r.coverage_before, r.coverage_after);
    out.push_str(&format!(
        "\nCoverage of {} modules: source {} → {}, artifact {} → {}, update {} → {}\n",
        b.total, b.source, a.source, b.artifact, a.artifact, b.update, a.update
    ));
    let n = r.proposals.len();
    out.push_str(&if n == 0 {
        "Nothing to derive.\n".to_string()
    } else if write {
        format!("Wrote {n} manifest{}.\n", if n == 1 { "" } else { "s" })
    } else {
        format!(
            "{n} manifest{} would change (dry run: nothing written; add --write).\n",
            if n == 1 { "" } else { "s" }
        )
    });
    out
}
