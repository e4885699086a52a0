//! The finding catalog in docs/findings.md lists every code the tool can report.

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/findings.md"),
    )
    .expect("docs/findings.md");
    for code in platformctl_catalog::Code::ALL {
        assert!(
            doc.contains(&format!("| `{code}` |")),
            "docs/findings.md lacks a row for {code}"
        );
    }
}
