//! Timestamps: RFC 3339 in UTC with milliseconds (`2026-06-10T08:15:00.000Z`), which sort as
//! text. The calendar is jiff's: no hand-written date arithmetic, and a date that does not
//! exist (`2026-02-31`) is refused, never rolled over.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The variable that fixes "now" (an RFC 3339 timestamp) for reproducible output.
pub const NOW_ENV: &str = "PLATFORMCTL_NOW";

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`; `PLATFORMCTL_NOW` overrides the clock when it holds a
/// valid timestamp (reproducible checkpoints and tests).
pub fn now() -> String {
    let now = std::env::var(NOW_ENV)
        .ok()
        .and_then(|v| parse(&v))
        .unwrap_or_else(Timestamp::now);
    format(now)
}

/// `ts` minus `days` days of 24 hours, in the same format; `None` when `ts` is not a
/// timestamp.
pub fn minus_days(ts: &str, days: u32) -> Option<String> {
    let back = SignedDuration::from_hours(24 * i64::from(days));
    Some(format(parse(ts)?.checked_sub(back).ok()?))
}

/// A timestamp as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds truncated).
pub fn format(ts: Timestamp) -> String {
    format!("{ts:.3}")
}

/// Reads a timestamp: RFC 3339 with an offset (`Z`, `+00:00`, `+02:00` …, converted to
/// UTC), or a date and time without one, or a date alone (both taken as UTC). Seconds and
/// fractions are optional; `T` or a space separates date and time.
pub fn parse(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil = match s.parse::<DateTime>() {
        Ok(dt) => dt,
        Err(_) => s
            .parse::<Date>()
            .ok()?
            .to_datetime(jiff::civil::Time::midnight()),
    };
    TimeZone::UTC.to_timestamp(civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(ts: &str) -> Option<String> {
        parse(ts).map(format)
    }

    #[test]
    fn round_trips() {
        for ts in [
            "1970-01-01T00:00:00.000Z",
            "2026-06-10T08:15:00.123Z",
            "2000-02-29T23:59:59.999Z",
            "2100-03-01T00:00:00.000Z",
        ] {
            assert_eq!(round(ts).as_deref(), Some(ts));
        }
        assert_eq!(parse("2026-06-10"), parse("2026-06-10T00:00Z"));
        assert_eq!(
            parse("2026-06-10 08:15"),
            parse("2026-06-10T08:15:00+00:00")
        );
        assert_eq!(
            round("2026-06-10T08:15:00.1239Z").as_deref(),
            Some("2026-06-10T08:15:00.123Z"),
            "milliseconds, truncated"
        );
        assert_eq!(
            minus_days("2026-03-01T00:00:00.000Z", 1).as_deref(),
            Some("2026-02-28T00:00:00.000Z")
        );
        assert_eq!(parse("2026-13-01"), None);
        assert_eq!(parse("yesterday"), None);
    }

    /// The hand-written calendar this replaced turned `2026-02-31` into March 3.
    #[test]
    fn a_date_that_does_not_exist_is_refused() {
        for bad in [
            "2026-02-31",
            "2026-02-31T08:00:00Z",
            "2025-02-29T00:00:00.000Z",
            "2026-04-31 12:00",
            "2026-06-10T24:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(parse("2024-02-29T00:00:00Z").is_some());
    }

    /// An offset is honoured (converted to UTC), not dropped: the hub records UTC only.
    #[test]
    fn an_offset_is_converted_to_utc() {
        assert_eq!(
            round("2026-06-10T08:15:00+02:00").as_deref(),
            Some("2026-06-10T06:15:00.000Z")
        );
    }
}
