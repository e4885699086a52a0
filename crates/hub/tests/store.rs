//! The SQLite store on its own: migrations, the write lock's rollback, the append-only
//! history. (The same behaviour on PostgreSQL, and everything through the binary, is
//! crates/cli/tests/workplan_hub.rs.)

use platformctl_hub::{
    ApplyRow, Entity, HistoryQuery, HistoryRow, HubError, HubUrl, Repo, SyncOptions, WorkstreamRow,
    Writes, check, open, sync,
};

fn row(id: &str) -> WorkstreamRow {
    WorkstreamRow {
        id: id.parse().unwrap(),
        workplan_id: "WP-1".into(),
        repo: "r".into(),
        path: "workplans/WP-1.md".into(),
        title: "t".into(),
        status: platformctl_workplan::WorkplanStatus::Active,
        owner: None,
        priority: None,
        planning_order: None,
        created_at: "2026-06-10T08:00:00.000Z".into(),
        updated_at: "2026-06-10T08:00:00.000Z".into(),
        removed_at: None,
    }
}

#[test]
fn a_failed_body_writes_nothing_and_history_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/hub.sqlite3");
    let url = HubUrl::parse(&format!("sqlite:{}", path.display())).unwrap();
    let mut hub = open(&url).unwrap();
    assert!(path.is_file(), "created with its folder");
    let id = "0b7c4d1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f";
    let err = hub
        .write_locked(&mut |_| Err(HubError::Usage("no".into())))
        .unwrap_err();
    assert_eq!(err.to_string(), "no");
    hub.write_locked(&mut |state| {
        assert!(state.workstreams.is_empty());
        Ok(Writes {
            workstreams: vec![row(id)],
            tasks: vec![],
            history: vec![HistoryRow {
                seq: 0,
                at: "2026-06-10T08:00:00.000Z".into(),
                actor: "t".into(),
                entity: Entity::Workstream,
                entity_id: id.parse().unwrap(),
                entity_key: "WP-1".into(),
                field: "created".into(),
                old: None,
                new: Some("workplans/WP-1.md".into()),
            }],
        })
    })
    .unwrap();
    assert_eq!(hub.read().unwrap().workstreams, vec![row(id)]);
    let h = hub.history(&HistoryQuery::default()).unwrap();
    assert_eq!((h.len(), h[0].seq), (1, 1));
    drop(hub);

    // Reopening migrates nothing twice.
    let mut hub = open(&url).unwrap();
    assert_eq!(hub.migrations().unwrap().len(), 2);
    // Apply attempts (SPEC §10) are history too.
    let apply = ApplyRow {
        seq: 0,
        at: "2026-06-10T09:00:00.000Z".into(),
        actor: "ops@box".into(),
        module: "api".into(),
        host: "e1".into(),
        result: "applied".into(),
        record: r#"{"schema":"platformctl/audit/v1"}"#.into(),
    };
    hub.append_apply(&apply).unwrap();
    let rows = hub.applies().unwrap();
    assert_eq!(rows, vec![ApplyRow { seq: 1, ..apply }]);
    drop(hub);

    // The history refuses UPDATE and DELETE.
    let conn = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE history SET actor = 'x'",
        "DELETE FROM history",
        "UPDATE applies SET actor = 'x'",
        "DELETE FROM applies",
    ] {
        let e = conn.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }

    // Rows are typed when read: a stored word that is not a status is an error naming it.
    conn.execute("UPDATE workstreams SET status = 'bogus'", [])
        .unwrap();
    drop(conn);
    let e = open(&url).unwrap().read().unwrap_err().to_string();
    assert!(e.contains("`bogus` is not a WorkplanStatus"), "{e}");
}

#[test]
fn sync_then_check_is_clean_and_ids_are_written_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let wp = dir.path().join("repo/workplans");
    std::fs::create_dir_all(&wp).unwrap();
    let text = "---\r\nid: WP-1\r\ntitle: t\r\nstatus: active\r\n---\r\n\r\n## Task: a\r\n```task\r\nid: WP-1-T01\r\nstatus: todo\r\n```\r\nnotes\r\n";
    std::fs::write(wp.join("WP-1.md"), text).unwrap();
    let url = HubUrl::parse(&format!("sqlite:{}", dir.path().join("h.db").display())).unwrap();
    let mut hub = open(&url).unwrap();
    let repos = [Repo::new(&dir.path().join("repo")).unwrap()];
    let opts = SyncOptions {
        plan: false,
        prune: false,
        actor: "t".into(),
    };
    let r = sync(hub.as_mut(), &repos, &opts).unwrap();
    assert_eq!(r.rec.changes.len(), 2);
    let after = std::fs::read_to_string(wp.join("WP-1.md")).unwrap();
    let st = hub.read().unwrap();
    let expected = text
        .replace(
            "status: active\r\n---",
            &format!(
                "status: active\r\nstate_hub_workstream_id: \"{}\"\r\n---",
                st.workstreams[0].id
            ),
        )
        .replace(
            "status: todo\r\n```",
            &format!(
                "status: todo\r\nstate_hub_task_id: \"{}\"\r\n```",
                st.tasks[0].id
            ),
        );
    assert_eq!(after, expected);
    assert_eq!(st.tasks[0].notes, "notes");
    assert!(check(hub.as_mut(), &repos).unwrap().findings.is_empty());
}

/// A PostgreSQL password never shows, in either form: `p%40ss` as written or `p@ss` as the
/// client decodes it (the port is closed, so the connection fails at once).
#[test]
fn a_postgres_password_never_shows_in_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = HubUrl::parse(&format!(
        "postgres://hub:p%40ss@127.0.0.1:{port}/hub?connect_timeout=5"
    ))
    .unwrap();
    let e = open(&url).err().expect("nothing listens").to_string();
    assert!(e.contains(&format!("hub:***@127.0.0.1:{port}/hub")), "{e}");
    assert!(!e.contains("p@ss") && !e.contains("p%40ss"), "{e}");
}
