//! Test hooks: pause a sync between its phases, so tests can kill a real process there or
//! make two syncs overlap.
//!
//! The hooks are [`fail`] points, compiled only with the `failpoints` feature: the test
//! builds turn it on (the `platformctl` crate's dev-dependency on this crate asks for it), a
//! release build has neither the points nor the code that reads the variable, and there
//! [`point`] is an empty function.
//!
//! `PLATFORMCTL_HUB_TEST_PAUSE=POINT[:MS][,POINT[:MS]…]`: at `POINT` the process writes
//! `platformctl: test pause at POINT (pid N)` to stderr and sleeps `MS` milliseconds (default:
//! an hour, i.e. until it is killed). The points, in order: `locked` (the hub's write lock is
//! held, nothing read yet), `file-written` (after the first file with new ids was renamed into
//! place), `files-written` (every file written, no row yet), `rows-written` (rows and history
//! inserted, not committed), `committed`. In-process tests can configure the same points
//! with `fail::cfg`.

/// The variable read (with the `failpoints` feature only).
pub const PAUSE_ENV: &str = "PLATFORMCTL_HUB_TEST_PAUSE";

/// The fail point `name`: pauses here when `PLATFORMCTL_HUB_TEST_PAUSE` names it.
#[cfg(feature = "failpoints")]
pub fn point(name: &str) {
    configure_from_env();
    fail::fail_point!(name);
}

/// The fail point `name`: nothing, in a build without the `failpoints` feature.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn point(_name: &str) {}

/// Turns `PLATFORMCTL_HUB_TEST_PAUSE` into fail-point callbacks, once per process.
#[cfg(feature = "failpoints")]
fn configure_from_env() {
    use std::io::Write;
    use std::time::Duration;

    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(spec) = std::env::var(PAUSE_ENV) else {
            return;
        };
        for item in spec.split(',') {
            let (p, ms) = match item.split_once(':') {
                Some((p, ms)) => (p.trim(), ms.trim().parse::<u64>().ok()),
                None => (item.trim(), None),
            };
            let name = p.to_string();
            let _ = fail::cfg_callback(p, move || {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "platformctl: test pause at {name} (pid {})",
                    std::process::id()
                );
                let _ = err.flush();
                drop(err);
                std::thread::sleep(Duration::from_millis(ms.unwrap_or(3_600_000)));
            });
        }
    });
}
