//! Prometheus metrics of a drift run (and of the last `updates` answer), in the text format,
//! for `serve`'s `/metrics` and `drift-check --metrics-file`.
//!
//! Low cardinality by design: labels are module, host, status, change code and registry names
//! only, never a digest, a message, or a value. One series per module for its status (the
//! status it has, value 1), one per module and change code, one per host.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use platformctl_drift::DriftCheckDoc;
use platformctl_drift::registry::UpdatesDoc;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// What the metrics are made of.
#[derive(Default)]
pub struct Input<'a> {
    /// The last drift run's document.
    pub drift: Option<&'a DriftCheckDoc>,
    /// How long that run took, in seconds.
    pub run_seconds: Option<f64>,
    /// When it finished (Unix seconds).
    pub finished_at: Option<f64>,
    /// The last `updates` document, if any.
    pub updates: Option<&'a UpdatesDoc>,
    /// Host observations made by this process, per host (`serve`).
    pub observations: Option<&'a BTreeMap<String, u64>>,
    /// Drift runs made by this process (`serve`).
    pub runs: Option<u64>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// Now, in Unix seconds (the unit of `finished_at`).
pub fn now_seconds() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// The leading number of a `RateLimit-Remaining` value (`99;w=21600` is 99).
fn leading_number(s: &str) -> Option<f64> {
    let n: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    n.parse().ok()
}

/// The moment an acknowledgement `until` (a date, inclusive) runs out: the next midnight, UTC.
fn expiry_seconds(until: &str) -> Option<f64> {
    let d: jiff::civil::Date = until.parse().ok()?;
    let next = d.tomorrow().ok()?;
    let ts = jiff::tz::TimeZone::UTC
        .to_timestamp(next.to_datetime(jiff::civil::Time::midnight()))
        .ok()?;
    Some(ts.as_second() as f64)
}

/// The metrics in the Prometheus text format (ends with `# EOF`).
pub fn render(input: &Input<'_>) -> String {
    let mut reg = Registry::default();
    let status = Family::<Labels, Gauge>::default();
    let changes = Family::<Labels, Gauge>::default();
    let accepted = Family::<Labels, Gauge>::default();
    let expiry = Family::<Labels, FloatGauge>::default();
    let reachable = Family::<Labels, Gauge>::default();
    let updates = Family::<Labels, Gauge>::default();
    let rate = Family::<Labels, FloatGauge>::default();
    let observations = Family::<Labels, Counter>::default();
    let duration = FloatGauge::default();
    let last_run = FloatGauge::default();
    let exit_code = Gauge::<i64>::default();
    let runs = Counter::<u64>::default();

    let mut newer_by_module: BTreeMap<String, usize> = BTreeMap::new();
    let mut rate_by_registry: BTreeMap<String, f64> = BTreeMap::new();
    if let Some(d) = input.drift {
        for m in &d.modules {
            let host = m.host.as_deref().unwrap_or("");
            status
                .get_or_create(&labels(&[
                    ("module", &m.module),
                    ("host", host),
                    ("status", &m.status),
                ]))
                .set(1);
            let mut by_code: BTreeMap<&str, i64> = BTreeMap::new();
            for c in &m.changes {
                *by_code.entry(c.code.as_str()).or_default() += 1;
            }
            for (code, n) in by_code {
                changes
                    .get_or_create(&labels(&[("module", &m.module), ("code", code)]))
                    .set(n);
            }
            let mut acc: BTreeMap<&str, (i64, Option<f64>)> = BTreeMap::new();
            for a in &m.accepted {
                let e = acc.entry(a.code.as_str()).or_default();
                e.0 += 1;
                let t = expiry_seconds(&a.until);
                e.1 = match (e.1, t) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
            }
            for (code, (n, t)) in acc {
                let l = labels(&[("module", &m.module), ("code", code)]);
                accepted.get_or_create(&l).set(n);
                if let Some(t) = t {
                    expiry.get_or_create(&l).set(t);
                }
            }
            if let Some(r) = &m.registry {
                newer_by_module.insert(m.module.clone(), r.newer.len());
            }
        }
        for h in &d.hosts {
            reachable
                .get_or_create(&labels(&[("host", &h.name)]))
                .set(i64::from(h.reachable));
        }
        for r in d.registries.iter().flatten() {
            if let Some(n) = r.rate_limit_remaining.as_deref().and_then(leading_number) {
                rate_by_registry.insert(r.registry.clone(), n);
            }
        }
        exit_code.set(i64::from(d.exit_code));
    }
    if let Some(u) = input.updates {
        for m in &u.modules {
            if let Some(r) = &m.registry {
                newer_by_module.insert(m.module.clone(), r.newer.len());
            }
        }
        for r in &u.registries {
            if let Some(n) = r.rate_limit_remaining.as_deref().and_then(leading_number) {
                rate_by_registry.insert(r.registry.clone(), n);
            }
        }
    }
    for (m, n) in &newer_by_module {
        updates
            .get_or_create(&labels(&[("module", m)]))
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    for (r, n) in &rate_by_registry {
        rate.get_or_create(&labels(&[("registry", r)])).set(*n);
    }
    if let Some(obs) = input.observations {
        for (h, n) in obs {
            observations
                .get_or_create(&labels(&[("host", h)]))
                .inc_by(*n);
        }
    }

    reg.register(
        "platformctl_module_status",
        "A module's drift status in the last run (the status it has is 1)",
        status,
    );
    reg.register(
        "platformctl_drift_changes",
        "Changes of a module in the last run, by change code",
        changes,
    );
    reg.register(
        "platformctl_drift_accepted",
        "Acknowledged (accepted) drift of a module in the last run, by change code",
        accepted,
    );
    reg.register(
        "platformctl_drift_accepted_expiry_timestamp_seconds",
        "When the earliest acknowledgement of a module's change code runs out (Unix time)",
        expiry,
    );
    reg.register(
        "platformctl_host_reachable",
        "Whether a host answered in the last run (1) or not (0)",
        reachable,
    );
    reg.register(
        "platformctl_registry_updates_available",
        "Newer releases the registry offers for a module's image",
        updates,
    );
    reg.register(
        "platformctl_registry_rate_limit_remaining",
        "The registry's RateLimit-Remaining at its last answer",
        rate,
    );
    if input.drift.is_some() {
        if let Some(s) = input.run_seconds {
            duration.set(s);
            reg.register(
                "platformctl_run_duration_seconds",
                "How long the last drift run took",
                duration,
            );
        }
        if let Some(t) = input.finished_at {
            last_run.set(t);
            reg.register(
                "platformctl_last_run_timestamp_seconds",
                "When the last drift run finished (Unix time)",
                last_run,
            );
        }
        reg.register(
            "platformctl_drift_exit_code",
            "The last drift run's exit code (0 in sync, 2 drift, 5 unreachable, 8 partial)",
            exit_code,
        );
    }
    if let Some(n) = input.runs {
        runs.inc_by(n);
        reg.register("platformctl_drift_runs", "Drift runs made", runs);
        reg.register(
            "platformctl_host_observations",
            "Host observations made (one per host per drift run)",
            observations,
        );
    }
    let mut out = String::new();
    let _ = encode(&mut out, &reg);
    to_text_format(&out)
}

/// prometheus-client writes OpenMetrics; Prometheus' own text format (0.0.4) is what
/// node_exporter's textfile collector reads and `promtool check metrics` lints. The two
/// differ, for these metrics, only in a counter's HELP/TYPE name (OpenMetrics names the family
/// `x` and its sample `x_total`; the text format names both `x_total`) and the `# EOF` line.
fn to_text_format(open_metrics: &str) -> String {
    let lines: Vec<&str> = open_metrics.lines().collect();
    let counters: std::collections::HashSet<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len());
    for line in lines {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The Content-Type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes the metrics to `path` atomically (a temporary file beside it, then a rename), for
/// node_exporter's textfile collector, which must never read a half-written file.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("--metrics-file names no file"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_and_expiry_are_read() {
        assert_eq!(leading_number("99;w=21600"), Some(99.0));
        assert_eq!(leading_number("x"), None);
        // 2026-12-03 inclusive runs out at 2026-12-04T00:00:00Z.
        assert_eq!(expiry_seconds("2026-12-03"), Some(1_796_342_400.0));
        assert_eq!(expiry_seconds("soon"), None);
    }

    #[test]
    fn counters_are_named_as_the_text_format_names_them() {
        let obs = BTreeMap::from([("nas".to_string(), 2)]);
        let text = render(&Input {
            observations: Some(&obs),
            runs: Some(2),
            ..Default::default()
        });
        assert!(
            text.contains("# TYPE platformctl_drift_runs_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP platformctl_drift_runs_total "),
            "{text}"
        );
        assert!(
            text.contains("platformctl_host_observations_total{host=\"nas\"} 2\n"),
            "{text}"
        );
    }

    /// A drift-check document as the CLI prints it: one module in sync, one with two image
    /// changes and an acknowledged config change, one on an unreachable host, a registry with
    /// a rate limit and a newer release.
    fn doc() -> DriftCheckDoc {
        serde_json::from_value(serde_json::json!({
            "schema": "platformctl/drift-check/v2",
            "exitCode": 2,
            "summary": {"total": 3, "inSync": 1, "drift": 1, "unreachable": 1, "skipped": 0, "error": 0},
            "hosts": [
                {"name": "rs2000", "reachable": true, "elapsedMs": 12, "via": "ssh-forward", "containers": 2},
                {"name": "nas", "reachable": false, "error": "no answer", "errorKind": "unreachable", "elapsedMs": 5000, "via": "ssh-forward", "containers": null}
            ],
            "modules": [
                {"module": "redis", "host": "rs2000", "status": "in-sync", "changes": [], "warnings": []},
                {"module": "api", "host": "rs2000", "status": "drift",
                 "changes": [
                    {"field": "image", "code": "IMAGE_TAG_MISMATCH", "desired": "api:3.0.6", "observed": "api:3.0.3"},
                    {"field": "image.digest", "code": "IMAGE_TAG_MISMATCH", "desired": "sha256:aaaa", "observed": "sha256:bbbb"}
                 ],
                 "warnings": [],
                 "accepted": [
                    {"field": "ports", "code": "CONFIG_PORTS", "desired": "80", "observed": "8080", "reason": "migration", "until": "2026-12-03", "daysLeft": 0}
                 ],
                 "registry": {"reference": "api:3.0.6", "status": "current", "newer": [{"tag": "3.0.7", "kind": "patch"}]}},
                {"module": "jellyfin", "host": "nas", "status": "unreachable", "changes": [], "warnings": [], "error": "no answer"}
            ],
            "registries": [
                {"registry": "docker.io", "answered": true, "heads": 1, "gets": 0, "tokens": 1, "cached": 0, "rateLimitRemaining": "99;w=21600", "rateLimitLimit": "100;w=21600"}
            ]
        }))
        .expect("a drift-check/v2 document")
    }

    #[test]
    fn a_run_becomes_low_cardinality_series() {
        let d = doc();
        let text = render(&Input {
            drift: Some(&d),
            run_seconds: Some(1.5),
            finished_at: Some(1_796_342_400.0),
            ..Default::default()
        });
        let has = |line: &str| {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            )
        };
        has("platformctl_module_status{module=\"redis\",host=\"rs2000\",status=\"in-sync\"} 1");
        has("platformctl_module_status{module=\"api\",host=\"rs2000\",status=\"drift\"} 1");
        has("platformctl_module_status{module=\"jellyfin\",host=\"nas\",status=\"unreachable\"} 1");
        has("platformctl_drift_changes{module=\"api\",code=\"IMAGE_TAG_MISMATCH\"} 2");
        has("platformctl_drift_accepted{module=\"api\",code=\"CONFIG_PORTS\"} 1");
        has(
            "platformctl_drift_accepted_expiry_timestamp_seconds{module=\"api\",code=\"CONFIG_PORTS\"} 1796342400.0",
        );
        has("platformctl_host_reachable{host=\"rs2000\"} 1");
        has("platformctl_host_reachable{host=\"nas\"} 0");
        has("platformctl_registry_updates_available{module=\"api\"} 1");
        has("platformctl_registry_rate_limit_remaining{registry=\"docker.io\"} 99.0");
        has("platformctl_run_duration_seconds 1.5");
        has("platformctl_last_run_timestamp_seconds 1796342400.0");
        has("platformctl_drift_exit_code 2");
        // The other direction: a module in sync has no change series, and a module's status
        // is one series (no zero-valued series for the statuses it does not have).
        assert!(
            !text.contains("platformctl_drift_changes{module=\"redis\""),
            "{text}"
        );
        assert_eq!(
            text.matches("platformctl_module_status{module=\"api\"")
                .count(),
            1
        );
        // Never a digest, a message or a value.
        for never in ["sha256:", "no answer", "api:3.0.3", "8080", "migration"] {
            assert!(!text.contains(never), "`{never}` in the metrics");
        }
    }

    #[test]
    fn no_run_gives_only_metadata() {
        let text = render(&Input::default());
        assert!(!text.contains("# EOF"), "{text}");
        assert!(!text.contains("platformctl_run_duration_seconds"));
    }
}
