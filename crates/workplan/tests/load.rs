//! Files and folders: what is read, what is a finding, what is an error.

use std::path::PathBuf;

use platformctl_workplan::{Code, Error, MAX_FILE_BYTES, load_paths, workplan_files};

const WP: &str = "---\nid: WP-1\ntitle: t\nstatus: backlog\n---\n## Task: a\n```task\nid: WP-1-T01\nstatus: todo\n```\n";

#[test]
fn folders_files_readme_and_repo_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("my-repo");
    let dir = repo.join("workplans");
    std::fs::create_dir_all(dir.join("archive")).unwrap();
    std::fs::write(dir.join("b.md"), WP.replace("WP-1", "WP-2")).unwrap();
    std::fs::write(dir.join("a.md"), WP).unwrap();
    std::fs::write(dir.join("README.md"), "# not a workplan").unwrap();
    std::fs::write(dir.join("notes.txt"), "not markdown").unwrap();
    std::fs::write(dir.join("archive/old.md"), WP).unwrap();

    let files = workplan_files(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(files, [dir.join("a.md"), dir.join("b.md")]);
    // A repo root stands for its workplans/ folder; the same file twice is read once.
    let files = workplan_files(&[repo.clone(), dir.join("a.md")]).unwrap();
    assert_eq!(files, [dir.join("a.md"), dir.join("b.md")]);
    // An explicit file is read whatever its name.
    let files = workplan_files(&[dir.join("README.md")]).unwrap();
    assert_eq!(files.len(), 1);

    let loaded = load_paths(&[repo]).unwrap();
    assert_eq!(loaded.len(), 2);
    assert!(loaded.iter().all(|(_, f)| f.is_empty()));
    assert_eq!(loaded[0].0.repo.as_deref(), Some("my-repo"));
}

#[test]
fn content_problems_are_findings_io_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("latin1.md"), b"---\nid: WP-1\ntitle: caf\xe9\n---\n").unwrap();
    std::fs::write(d.join("binary.md"), b"\x00\x01\x02").unwrap();
    let big = "x".repeat(usize::try_from(MAX_FILE_BYTES).unwrap() + 1);
    std::fs::write(d.join("big.md"), big).unwrap();
    std::fs::write(d.join("bom.md"), format!("\u{FEFF}{WP}")).unwrap();
    let loaded = load_paths(&[d.to_path_buf()]).unwrap();
    let by_name = |n: &str| {
        loaded
            .iter()
            .find(|(w, _)| w.file.file_name().unwrap() == n)
            .unwrap()
    };
    let (_, f) = by_name("latin1.md");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, Code::C01);
    assert_eq!((f[0].line, f[0].column), (3, 11));
    assert!(f[0].message.contains("not UTF-8"));
    let (_, f) = by_name("binary.md");
    assert_eq!(f[0].code, Code::C01);
    let (_, f) = by_name("big.md");
    assert!(f[0].message.contains("bytes"));
    let (w, f) = by_name("bom.md");
    assert!(f.is_empty());
    assert!(w.bom);
    assert_eq!(w.source_len, WP.len() + 3);

    let missing = load_paths(&[PathBuf::from("/nonexistent/workplans")]);
    assert!(matches!(missing, Err(Error::NotFound(_))));
    let e = missing.unwrap_err().to_string();
    assert!(e.contains("no such file"), "{e}");
}
