//! Writing hub ids back: only the inserted bytes change, CRLF stays CRLF, a BOM stays.

mod common;

use std::path::Path;

use common::*;
use platformctl_workplan::{
    IdEdit, IdEditError, IdTarget, Workplan, apply_edits, id_edit, load_paths, parse,
};

const WS: &str = "611b1f37-9b58-4e0e-b599-74576406fb3a";
const TK: &str = "789b9d63-520e-4892-9d71-4ecd47585ca4";

/// Removes the inserted/replaced text again: what is left must be the original.
fn undo(out: &str, edits: &[IdEdit], original: &str) {
    let mut sorted: Vec<_> = edits.to_vec();
    sorted.sort_by_key(|e| e.span.start);
    let mut rebuilt = String::new();
    let mut pos_out = 0;
    let mut pos_orig = 0;
    for e in &sorted {
        let keep = e.span.start - pos_orig;
        rebuilt.push_str(&out[pos_out..pos_out + keep]);
        rebuilt.push_str(&original[e.span.start..e.span.end]);
        pos_out += keep + e.text.len();
        pos_orig = e.span.end;
    }
    rebuilt.push_str(&out[pos_out..]);
    assert_eq!(rebuilt, original);
}

fn write_all_ids(text: &str, wp: &Workplan) -> (String, Vec<IdEdit>) {
    let mut edits = Vec::new();
    let ws = wp.state_hub_workstream_id.clone().unwrap_or(WS.into());
    if let Some(e) = id_edit(text, wp, IdTarget::Workstream, &ws).unwrap() {
        edits.push(e);
    }
    for (i, t) in wp.tasks.iter().enumerate() {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        let want = t.state_hub_task_id.clone().unwrap_or(id.clone());
        if let Some(e) = id_edit(text, wp, IdTarget::Task(i), &want).unwrap() {
            edits.push(e);
        }
    }
    (apply_edits(text, &edits), edits)
}

#[test]
fn inserts_before_closing_fences_in_lf_crlf_and_bom_files() {
    let lf = doc(
        &front("active"),
        &(task("A", "WP-1-T01", "todo") + "notes\n" + &task("B", "WP-1-T02", "done")),
    );
    for text in [
        lf.clone(),
        lf.replace('\n', "\r\n"),
        format!("\u{FEFF}{}", lf.replace('\n', "\r\n")),
    ] {
        let (wp, _) = parse_str(&text);
        let (out, edits) = write_all_ids(&text, &wp);
        assert_eq!(edits.len(), 3);
        undo(&out, &edits, &text);
        if text.contains('\r') {
            assert!(
                !out.replace("\r\n", "").contains('\n'),
                "every line end stays CRLF"
            );
        } else {
            assert!(!out.contains('\r'));
        }
        assert_eq!(out.starts_with('\u{FEFF}'), text.starts_with('\u{FEFF}'));
        let (again, f) = parse_str(&out);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(again.state_hub_workstream_id.as_deref(), Some(WS));
        assert_eq!(
            again.tasks[1].state_hub_task_id.as_deref(),
            Some("00000000-0000-4000-8000-000000000001")
        );
        assert_eq!(again.tasks[0].notes, wp.tasks[0].notes);
        // Writing again is a no-op.
        let (same, edits) = write_all_ids(&out, &again);
        assert!(edits.is_empty());
        assert_eq!(same, out);
    }
}

#[test]
fn exact_bytes_of_an_insertion() {
    let text = doc(
        &front("active"),
        "## Task: A\n```task\n  id: WP-1-T01\n  status: todo\n```\n",
    );
    let (wp, _) = parse_str(&text);
    let e = id_edit(&text, &wp, IdTarget::Task(0), TK).unwrap().unwrap();
    assert!(e.span.is_empty());
    assert_eq!(
        e.text,
        format!("  state_hub_task_id: \"{TK}\"\n"),
        "indented like the keys"
    );
    assert!(text[e.span.start..].starts_with("```\n"));
    let out = apply_edits(&text, &[e]);
    assert!(out.ends_with(&format!(
        "  status: todo\n  state_hub_task_id: \"{TK}\"\n```\n"
    )));
}

#[test]
fn fills_an_empty_key_in_place_keeping_comments() {
    for (line, want) in [
        ("state_hub_task_id:", format!("state_hub_task_id: \"{TK}\"")),
        (
            "state_hub_task_id: \"\"",
            format!("state_hub_task_id: \"{TK}\""),
        ),
        (
            "state_hub_task_id: ~   # hub sync fills this",
            format!("state_hub_task_id: \"{TK}\"   # hub sync fills this"),
        ),
        (
            "state_hub_task_id: null",
            format!("state_hub_task_id: \"{TK}\""),
        ),
        (
            "state_hub_task_id:    # later",
            format!("state_hub_task_id: \"{TK}\"    # later"),
        ),
    ] {
        let text = doc(
            &front("active"),
            &format!("## Task: A\n```task\nid: WP-1-T01\n{line}\nstatus: todo\n```\n"),
        )
        .replace('\n', "\r\n");
        let (wp, f) = parse_str(&text);
        assert!(f.is_empty(), "{line}: {f:?}");
        let e = id_edit(&text, &wp, IdTarget::Task(0), TK).unwrap().unwrap();
        let out = apply_edits(&text, std::slice::from_ref(&e));
        assert!(
            out.contains(&format!("\r\n{want}\r\nstatus: todo\r\n")),
            "{line}: {out}"
        );
        undo(&out, &[e], &text);
        assert_eq!(
            parse_str(&out).0.tasks[0].state_hub_task_id.as_deref(),
            Some(TK)
        );
    }
}

#[test]
fn refuses_what_it_cannot_do_byte_exactly() {
    let text = doc(
        &format!("{}state_hub_workstream_id: \"{WS}\"\n", front("active")),
        "## Task: A\n```task\n{id: WP-1-T01, status: todo}\n```\n\
         ## Task: B\n\n## Task: C\n```task\nid: WP-1-T03\nstatus: todo\n",
    );
    let (wp, _) = parse_str(&text);
    assert_eq!(id_edit(&text, &wp, IdTarget::Workstream, WS), Ok(None));
    assert_eq!(
        id_edit(&text, &wp, IdTarget::Workstream, TK),
        Err(IdEditError::AlreadySet {
            existing: WS.into()
        })
    );
    assert_eq!(
        id_edit(&text, &wp, IdTarget::Task(0), TK),
        Err(IdEditError::NotABlockMapping)
    );
    assert_eq!(
        id_edit(&text, &wp, IdTarget::Task(1), TK),
        Err(IdEditError::NoBlock)
    );
    assert_eq!(
        id_edit(&text, &wp, IdTarget::Task(2), TK),
        Err(IdEditError::NoBlock),
        "unclosed"
    );
    assert_eq!(
        id_edit(&text, &wp, IdTarget::Task(9), TK),
        Err(IdEditError::NoTask)
    );
    assert_eq!(
        id_edit(&text, &wp, IdTarget::Task(0), "a\"b"),
        Err(IdEditError::InvalidId)
    );
    assert_eq!(
        id_edit(&format!("{text} "), &wp, IdTarget::Task(0), TK),
        Err(IdEditError::StaleSource)
    );
    let (nofm, _) = parse_str("# no frontmatter\n");
    assert_eq!(
        id_edit("# no frontmatter\n", &nofm, IdTarget::Workstream, WS),
        Err(IdEditError::NoFrontmatter)
    );
}

#[test]
fn every_example_workplan_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/home-platform/workplans");
    for (wp, _) in load_paths(&[dir]).unwrap() {
        let text = std::fs::read_to_string(&wp.file).unwrap();
        let (reparsed, _) = parse(&text, &wp.file);
        assert_eq!(reparsed.tasks.len(), wp.tasks.len());
        let (out, edits) = write_all_ids(&text, &wp);
        undo(&out, &edits, &text);
        let (after, f) = parse(&out, &wp.file);
        assert!(f.is_empty(), "{}: {f:?}", wp.file.display());
        assert!(after.state_hub_workstream_id.is_some());
        assert!(after.tasks.iter().all(|t| t.state_hub_task_id.is_some()));
        for (a, b) in after.tasks.iter().zip(&wp.tasks) {
            assert_eq!(
                (&a.heading, &a.id, a.status, &a.notes),
                (&b.heading, &b.id, b.status, &b.notes)
            );
        }
    }
}
