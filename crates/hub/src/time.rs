//! Timestamps: RFC 3339 in UTC with milliseconds (`2026-06-10T08:15:00.000Z`), which sort as
//! text. No time-zone database is needed: the hub records UTC only.

use std::time::{SystemTime, UNIX_EPOCH};

/// The variable that fixes "now" (an RFC 3339 UTC timestamp) for reproducible output.
pub const NOW_ENV: &str = "PLATFORMCTL_NOW";

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`; `PLATFORMCTL_NOW` overrides the clock when it holds a
/// valid timestamp (reproducible checkpoints and tests).
pub fn now() -> String {
    if let Ok(v) = std::env::var(NOW_ENV)
        && let Some(ms) = parse_ms(&v)
    {
        return format_ms(ms);
    }
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    format_ms(ms)
}

/// `ts` minus `days` days, in the same format; `None` when `ts` is not a timestamp.
pub fn minus_days(ts: &str, days: u32) -> Option<String> {
    Some(format_ms(parse_ms(ts)? - i64::from(days) * 86_400_000))
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or `+00:00` (or nothing) into
/// milliseconds since the epoch. Other offsets are rejected: the hub writes UTC only.
pub fn parse_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let t = t
            .strip_suffix('Z')
            .or_else(|| t.strip_suffix("+00:00"))
            .unwrap_or(t);
        let (hms, frac) = match t.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (t, None),
        };
        let mut tp = hms.split(':');
        let h: i64 = tp.next()?.parse().ok()?;
        let mi: i64 = tp.next()?.parse().ok()?;
        let se: i64 = tp.next().map_or(Some(0), |x| x.parse().ok())?;
        if tp.next().is_some() || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        ms += (h * 3600 + mi * 60 + se) * 1000;
        if let Some(f) = frac {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let f3: String = f.chars().chain("000".chars()).take(3).collect();
            ms += f3.parse::<i64>().ok()?;
        }
    }
    Some(ms)
}

// Howard Hinnant's algorithms (public domain): proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for ts in [
            "1970-01-01T00:00:00.000Z",
            "2026-06-10T08:15:00.123Z",
            "2000-02-29T23:59:59.999Z",
            "2100-03-01T00:00:00.000Z",
        ] {
            assert_eq!(format_ms(parse_ms(ts).unwrap()), ts);
        }
        assert_eq!(
            parse_ms("2026-06-10").unwrap(),
            parse_ms("2026-06-10T00:00Z").unwrap()
        );
        assert_eq!(
            minus_days("2026-03-01T00:00:00.000Z", 1).as_deref(),
            Some("2026-02-28T00:00:00.000Z")
        );
        assert_eq!(parse_ms("2026-13-01"), None);
        assert_eq!(parse_ms("yesterday"), None);
        assert_eq!(parse_ms("2026-06-10T08:15:00+02:00"), None);
    }
}
