//! Helpers shared by the test files.
#![allow(dead_code)]

use platformctl_workplan::{Code, Finding, Workplan, lint_all, parse};

/// A workplan with frontmatter `front` (without the `---` lines) and `body`.
pub fn doc(front: &str, body: &str) -> String {
    format!("---\n{front}---\n{body}")
}

/// The usual valid frontmatter for id `WP-1` with `status`.
pub fn front(status: &str) -> String {
    format!("id: WP-1\ntype: workplan\ntitle: Test plan\nstatus: {status}\n")
}

/// A task section with a block.
pub fn task(title: &str, id: &str, status: &str) -> String {
    format!("## Task: {title}\n```task\nid: {id}\nstatus: {status}\n```\n")
}

pub fn parse_str(text: &str) -> (Workplan, Vec<Finding>) {
    parse(text, "wp.md".as_ref())
}

/// Parse findings plus lint findings of one text.
pub fn all_findings(text: &str) -> Vec<Finding> {
    lint_all(&[parse_str(text)])
}

pub fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

pub fn has(findings: &[Finding], code: Code) -> bool {
    findings.iter().any(|f| f.code == code)
}

pub fn headings(wp: &Workplan) -> Vec<&str> {
    wp.tasks.iter().map(|t| t.heading.as_str()).collect()
}
