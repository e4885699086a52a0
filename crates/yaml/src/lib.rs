//! YAML documents into a positioned tree, safely.
//!
//! Every YAML file platformctl reads (module manifests, compose files, the task blocks and
//! frontmatter of workplans) goes through this crate. It turns text into a [`Node`] tree in
//! which every node knows the line and column it was written at, so that every later finding
//! can point at the exact place an operator has to fix.
//!
//! It is deliberately strict and bounded, because manifests come from people and from agents:
//!
//! - **duplicate keys** are an error (YAML says keys are unique; silently keeping one hides a
//!   mistake);
//! - **merge keys** (`<<: *base`, `<<: [*a, *b]`) are resolved the way Docker Compose resolves
//!   them: keys written in the mapping win, then earlier merged mappings win over later ones;
//! - **aliases** are expanded within a budget of nodes, so a "billion laughs" document is an
//!   error and not an out-of-memory kill;
//! - **nesting** is limited in depth, so a 20,000-deep document is an error and not a stack
//!   overflow;
//! - input that is not UTF-8 is reported with the line and column of the first bad byte.
//!
//! Scalars keep their text and their quoting style; [`Scalar::kind`] resolves them with the
//! YAML 1.2 core schema (`yes` is a string, `true` is a boolean), which is what a schema check
//! needs to say "expected a boolean, found the string `yes`".
//!
//! ```
//! use platformctl_yaml::{parse, Limits};
//!
//! let src = "base: &b {restart: always}\nweb:\n  <<: *b\n  image: redis:7\n";
//! let doc = parse(src, &Limits::default()).unwrap().unwrap();
//! let web = doc.get("web").unwrap();
//! assert_eq!(web.get("restart").unwrap().as_str(), Some("always"));
//! assert_eq!(web.get("image").unwrap().pos.line, 4);
//! ```

mod build;
mod node;
pub mod words;

pub use build::{Error, ErrorKind, Limits, parse};
pub use node::{Map, Node, Scalar, ScalarKind, Style, Value};
/// Positions, and decoding bytes into text, are the workspace's one diagnostics foundation
/// (`platformctl-diagnostics`); re-exported so YAML users need not name it.
pub use platformctl_diagnostics::{DecodeError, Pos, decode_utf8};
