//! Diagnostics and text I/O, once for the whole workspace.
//!
//! Every platformctl check ends in a finding that names a file, a line and a column, and
//! every one of them needs the same small set of tools. They live here, and only here:
//!
//! - [`Pos`]: a 1-based line and column as shown to people;
//! - [`LineIndex`]: byte offsets of a text to [`Pos`], aware of a leading byte-order mark and
//!   counting columns in characters (see [`index`] for why characters);
//! - [`read_text`]: the bounded file reader (size cap, UTF-8 check, an error that names the
//!   file and, for bad bytes, the line and column);
//! - [`write_atomic`]: the atomic file replacement (a temporary file in the target's folder,
//!   flushed, then renamed over it with [`tempfile::NamedTempFile::persist`]);
//! - [`did_you_mean`]: the one "did you mean" rule (edit distance from `strsim`);
//! - [`Renderer`]: the one renderer of file:line:col findings, in the format cargo and rustc
//!   use (through `annotate-snippets`), with colour decided for the stream actually written
//!   ([`color`]) and the one rule that a line holding a secret is never shown ([`Sources`]).
//!
//! ```
//! use platformctl_diagnostics::{Diagnostic, Level, LineIndex, Pos, Renderer, Sources};
//!
//! let text = "name: web\nhost: rs3000\n";
//! let at = LineIndex::new(text).pos(text.find("rs3000").unwrap());
//! assert_eq!(at, Pos::new(2, 7));
//!
//! let mut sources = Sources::new(".");
//! sources.insert("module.yaml", text);
//! let d = Diagnostic::new(Level::Error, "HOST_UNKNOWN", "host `rs3000` is not in platform.toml")
//!     .at("module.yaml", at)
//!     .width(6)
//!     .help("did you mean `rs2000`?");
//! let shown = Renderer::plain().render(&d, &mut sources);
//! assert!(shown.contains("--> module.yaml:2:7"));
//! assert!(shown.contains("^^^^^^"));
//! ```

pub mod color;
pub mod index;
mod read;
mod render;
mod suggest;
mod write;

pub use color::{ColorChoice, Stream, use_color};
pub use index::{LineIndex, Pos};
pub use read::{Bom, DecodeError, ReadError, decode_utf8, describe_io_error, read_text};
pub use render::{Diagnostic, Label, Level, Renderer, Sources, Width, may_show_line};
pub use suggest::did_you_mean;
pub use write::{TEMP_SUFFIX, remove_stale_temp_files, write_atomic};
