//! Test hooks: pause a sync between its phases, so tests can kill a real process there or
//! make two syncs overlap. Inert unless `PLATFORMCTL_HUB_TEST_PAUSE` is set.
//!
//! `PLATFORMCTL_HUB_TEST_PAUSE=POINT[:MS][,POINT[:MS]…]`: at `POINT` the process writes
//! `platformctl: test pause at POINT (pid N)` to stderr and sleeps `MS` milliseconds (default:
//! an hour, i.e. until it is killed). The points, in order: `locked` (the hub's write lock is
//! held, nothing read yet), `file-written` (after the first file with new ids was renamed into
//! place), `files-written` (every file written, no row yet), `rows-written` (rows and history
//! inserted, not committed), `committed`.

use std::io::Write;
use std::time::Duration;

/// The variable read.
pub const PAUSE_ENV: &str = "PLATFORMCTL_HUB_TEST_PAUSE";

/// Pauses here when `PLATFORMCTL_HUB_TEST_PAUSE` names `name`.
pub fn point(name: &str) {
    let Ok(spec) = std::env::var(PAUSE_ENV) else {
        return;
    };
    for item in spec.split(',') {
        let (p, ms) = match item.split_once(':') {
            Some((p, ms)) => (p.trim(), ms.trim().parse::<u64>().ok()),
            None => (item.trim(), None),
        };
        if p == name {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "platformctl: test pause at {name} (pid {})",
                std::process::id()
            );
            let _ = err.flush();
            drop(err);
            std::thread::sleep(Duration::from_millis(ms.unwrap_or(3_600_000)));
        }
    }
}
