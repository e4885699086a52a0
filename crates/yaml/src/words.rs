//! Checks on the words YAML documents hold, shared by every document checker (manifests,
//! workplans): calendar dates. ("Did you mean" is `platformctl_diagnostics::did_you_mean`.)

/// `YYYY-MM-DD` with a real month and day (leap years included), as a calendar date.
///
/// Exactly that shape: no week or ordinal dates, no basic format (`20260520`), no
/// six-digit years; the calendar itself is jiff's, so `2026-02-31` is refused, never
/// rolled over into March.
pub fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    jiff::civil::Date::strptime("%Y-%m-%d", s).ok()
}

/// Whether `s` is a [`parse_date`] date.
pub fn is_date(s: &str) -> bool {
    parse_date(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2026-05-20"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2026-02-31"), "no rolling over into March");
        assert!(!is_date("2026-04-31"));
        assert!(!is_date("2026-00-10"));
        assert!(!is_date("2026-01-00"));
        assert!(!is_date("+02026-01-01"));
        assert_eq!(
            parse_date("2024-02-29"),
            Some(jiff::civil::date(2024, 2, 29))
        );
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-5-20"));
        assert!(!is_date("06/01/2026"));
        assert!(!is_date("2026-0é-01"));
    }
}
