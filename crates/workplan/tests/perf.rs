//! Throughput: 1,000 generated workplans × 10 tasks, parse + lint + status table.
//!
//! Ignored by default (debug timings mean little). Run with
//! `cargo test --release -p platformctl-workplan --test perf -- --ignored --nocapture`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use platformctl_workplan::{lint_all, open_state_line, parse, status_table};

fn workplan(i: usize) -> String {
    let statuses = [
        "todo", "wait", "progress", "done", "cancel", "todo", "done", "done", "progress", "todo",
    ];
    let mut s = format!(
        "---\nid: GEN-WP-{i:04}\ntype: workplan\ntitle: \"Generated plan {i}\"\nstatus: active\n\
         owner: ops\nplanning_priority: {}\nplanning_order: {}\ncreated: \"2026-05-01\"\n\
         updated: \"2026-06-01\"\nstate_hub_workstream_id: \"611b1f37-9b58-4e0e-b599-{i:012}\"\n---\n\
         # GEN-WP-{i:04} - Generated plan\n\nContext with a table:\n\n| module | state |\n|---|---|\n\
         | postgres | ok |\n| immich | todo |\n\n",
        ["high", "medium", "low"][i % 3],
        i % 50
    );
    for (t, st) in statuses.iter().enumerate() {
        s += &format!(
            "## Task: Step {t} of plan {i}\n```task\nid: GEN-WP-{i:04}-T{t:02}\nstatus: {st}\n\
             priority: medium\nstate_hub_task_id: \"789b9d63-520e-4892-9d71-{t:012}\"\n```\n\
             Steps:\n\n1. restore\n   - check size\n2. verify\n\n```bash\nrestic snapshots --latest 1\n\
             echo '## Task: not a task'\n```\n\nProgress 2026-06-02: restored the dump in 3m12s.\n\
             Progress 2026-06-03: POSTGRES_PASSWORD variable read from the secret file.\n\
             Completed 2026-06-04: verified against production counts.\n\n"
        );
    }
    s
}

#[test]
#[ignore = "timing; run in release"]
fn thousand_workplans_parse_and_status_fast() {
    let texts: Vec<(PathBuf, String)> = (0..1000)
        .map(|i| {
            (
                PathBuf::from(format!("repo/workplans/GEN-WP-{i:04}.md")),
                workplan(i),
            )
        })
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let loaded: Vec<_> = texts.iter().map(|(p, t)| parse(t, p)).collect();
        let findings = lint_all(&loaded);
        let wps: Vec<_> = loaded.into_iter().map(|(w, _)| w).collect();
        let rows = status_table(&wps);
        let lines: usize = wps.iter().map(|w| open_state_line(w).len()).sum();
        let took = start.elapsed();
        assert!(
            findings.is_empty(),
            "{:?}",
            &findings[..findings.len().min(3)]
        );
        assert_eq!(rows.len(), 1000);
        assert_eq!(wps.iter().map(|w| w.tasks.len()).sum::<usize>(), 10_000);
        assert!(lines > 0);
        best = best.min(took);
    }
    eprintln!(
        "1000 workplans, 10000 tasks, {:.1} MiB: parse + lint + status in {:?} (best of 3)",
        bytes as f64 / 1048576.0,
        best
    );
    assert!(best < Duration::from_millis(500), "{best:?}");
}
