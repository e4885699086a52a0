//! The imageref crate parses and normalises OCI/Docker image references the
//! way the Docker engine does.
//!
//! platformctl compares the images a platform should run (a module
//! manifest's `artifact.reference`, a compose file's `image:`) with the
//! images a Docker host says it runs (a container's `Config.Image`, an
//! image's `RepoTags` and `RepoDigests`). Those are written in different
//! forms: a compose file says `redis:7` where the engine may say
//! `docker.io/library/redis:7`, and both mean the same image. Comparing the
//! strings would report drift that is not there; comparing them carelessly
//! (ignoring the registry, say) would hide drift that is. This crate turns
//! each form into one normalised identity — registry, repository, tag and
//! digest — following Docker's `distribution/reference` grammar, so that
//! equal references compare equal and different ones do not.
//!
//! The crate is pure: it does no I/O and has no dependencies. It never
//! panics, whatever the input, and keeps no more than the input and its
//! normalised parts.
//!
//! # Example: comparing desired and running images
//!
//! ```
//! use platformctl_imageref::ImageRef;
//!
//! // What the compose file says, and what the engine reports.
//! let desired = ImageRef::parse("redis:7")?;
//! let running = ImageRef::parse("docker.io/library/redis:7")?;
//! assert_eq!(desired, running);
//! assert_eq!(desired.normalized(), "docker.io/library/redis:7");
//! assert_eq!(running.familiar(), "redis:7");
//!
//! // No tag means `latest`; a different registry is a different image.
//! let latest = ImageRef::parse("redis")?;
//! assert!(latest.tag_is_implied());
//! assert_eq!(latest.effective_tag(), Some("latest"));
//! assert_ne!(latest, desired);
//! assert!(latest.same_repository(&desired));
//! assert!(!ImageRef::parse("ghcr.io/library/redis:7")?.same_repository(&desired));
//! # Ok::<(), platformctl_imageref::RefError>(())
//! ```
//!
//! # Example: engine digests and errors
//!
//! An image's `RepoDigests` entries name a manifest by digest. They carry no
//! tag, so [`ImageRef::effective_tag`] is `None`. An image ID is not a
//! reference at all, and parsing one says so.
//!
//! ```
//! use platformctl_imageref::{ErrorKind, ImageRef};
//!
//! let hex = "3f1a".repeat(16);
//! let repo_digest = ImageRef::parse(&format!("127.0.0.1:5000/app@sha256:{hex}"))?;
//! assert_eq!(repo_digest.registry(), "127.0.0.1:5000");
//! assert_eq!(repo_digest.effective_tag(), None);
//! assert_eq!(repo_digest.digest().unwrap().hex(), hex);
//!
//! let err = ImageRef::parse(&format!("sha256:{hex}")).unwrap_err();
//! assert_eq!(err.kind(), &ErrorKind::ImageId);
//!
//! let err = ImageRef::parse("ghcr.io/Owner/app:1").unwrap_err();
//! assert_eq!(err.kind(), &ErrorKind::Uppercase);
//! assert_eq!(err.offset(), 8);
//! assert!(err.to_string().starts_with("repository names must be lowercase"));
//! # Ok::<(), platformctl_imageref::RefError>(())
//! ```
//!
//! # Normalisation
//!
//! A reference is `[registry/]path[:tag][@digest]`.
//!
//! * The part before the first `/` is a registry if it contains `.` or `:`,
//!   is `localhost`, or contains an uppercase letter; otherwise the registry
//!   is `docker.io`. `index.docker.io` becomes `docker.io`. The registry is
//!   otherwise kept as written.
//! * On `docker.io`, a one-component path gets `library/` in front
//!   (`redis` is `docker.io/library/redis`); on other registries it never
//!   does.
//! * With neither tag nor digest the tag is `latest`. With a digest and no
//!   tag there is no tag. With both, both are kept.
//!
//! [`ImageRef::normalized`] writes everything out
//! (`docker.io/library/redis:latest`); [`ImageRef::familiar`] writes the
//! short form Docker prints (`redis:latest`). Both parse back to an equal
//! reference.
//!
//! # Grammar
//!
//! * Path components are `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`, joined
//!   by `/`; uppercase is an error.
//! * A registry is hostname components `[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?`
//!   joined by `.`, or an IPv6 address in brackets (`[::1]`), then an
//!   optional `:port`.
//! * The repository path, once normalised (`library/redis`), is at most
//!   [`MAX_NAME_LEN`] bytes; the registry does not count (as in Docker since
//!   `distribution/reference` v0.6.0).
//! * A tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
//! * A digest is `algorithm:hex` with an algorithm the engine supports
//!   (`sha256`, `sha384`, `sha512`); see [`Digest`].

mod digest;
mod error;
mod reference;
mod scan;

pub use crate::digest::{Digest, MIN_DIGEST_HEX_LEN};
pub use crate::error::{ErrorKind, RefError};
pub use crate::reference::{DEFAULT_REGISTRY, DEFAULT_TAG, ImageRef, MAX_NAME_LEN, MAX_TAG_LEN};
pub use crate::scan::MAX_REFERENCE_LEN;
