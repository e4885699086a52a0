//! `cargo run --release -p platformctl-hub --example gen_workplans -- DIR [N]`: writes a repo
//! `DIR/workplans/` of N generated workplans (default 1,000) of 10 tasks each, for the
//! whole-command benchmarks (`scripts/bench-workplan.sh`).
//!
//! Each workplan looks like a real one: frontmatter, a context table, and per task a block,
//! a numbered list, a bash fence (holding a `## Task:` line that is not a task) and three
//! progress notes. Half of them already carry hub ids; all lint clean.

use std::fmt::Write as _;
use std::path::Path;

fn workplan(i: usize) -> String {
    let statuses = [
        "todo", "wait", "progress", "done", "cancel", "todo", "done", "done", "progress", "todo",
    ];
    let with_ids = i.is_multiple_of(2);
    let mut s = String::new();
    let _ = write!(
        s,
        "---\nid: GEN-WP-{i:04}\ntype: workplan\ntitle: \"Generated plan {i}\"\nstatus: active\n\
         owner: ops\nplanning_priority: {}\nplanning_order: {}\ncreated: \"2026-05-01\"\n\
         updated: \"2026-06-01\"\n",
        ["high", "medium", "low"][i % 3],
        i % 50
    );
    if with_ids {
        let _ = writeln!(
            s,
            "state_hub_workstream_id: \"611b1f37-9b58-4e0e-b599-{i:012}\""
        );
    }
    let _ = write!(
        s,
        "---\n# GEN-WP-{i:04} - Generated plan\n\nContext with a table:\n\n| module | state |\n\
         |---|---|\n| postgres | ok |\n| immich | todo |\n\n"
    );
    for (t, st) in statuses.iter().enumerate() {
        let _ = write!(
            s,
            "## Task: Step {t} of plan {i}\n```task\nid: GEN-WP-{i:04}-T{t:02}\nstatus: {st}\n\
             priority: medium\n"
        );
        if with_ids {
            let _ = writeln!(
                s,
                "state_hub_task_id: \"789b9d63-520e-4892-9d71-{i:08}{t:04}\""
            );
        }
        if *st == "wait" {
            let _ = writeln!(
                s,
                "needs_human: true\nneeds_human_reason: \"decide step {t}\""
            );
        }
        let _ = write!(
            s,
            "```\nSteps:\n\n1. restore\n   - check size\n2. verify\n\n```bash\n\
             restic snapshots --latest 1\necho '## Task: not a task'\n```\n\n\
             Progress 2026-06-02: restored the dump in 3m12s.\n\
             Progress 2026-06-03: POSTGRES_PASSWORD variable read from the secret file.\n\
             Completed 2026-06-04: verified against production counts.\n\n"
        );
    }
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: gen_workplans DIR [N]");
        std::process::exit(2);
    };
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let wp = Path::new(&dir).join("workplans");
    if let Err(e) = std::fs::create_dir_all(&wp) {
        eprintln!("gen_workplans: {}: {e}", wp.display());
        std::process::exit(1);
    }
    for i in 0..n {
        let path = wp.join(format!("GEN-WP-{i:04}-generated-plan.md"));
        if let Err(e) = std::fs::write(&path, workplan(i)) {
            eprintln!("gen_workplans: {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
