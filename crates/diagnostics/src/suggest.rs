//! "Did you mean": the one rule for suggesting a known word for a mistyped one.

/// Words longer than this get no suggestion (edit distance is quadratic; a long word is no
/// typo of a short one anyway).
const MAX_WORD: usize = 64;

/// The candidate closest to `word`, when it is close enough to be a typo of it.
///
/// The distance is Levenshtein's, in characters ([`strsim::levenshtein`]), compared without
/// regard to ASCII case, so `Running` suggests `running`. A candidate qualifies when the
/// distance is at most `max(2, len / 4)` of the candidate's length and smaller than that
/// length (two edits do not turn `zz` into `id`). Ties go to the earlier candidate, so callers
/// list the likelier words first. A word equal to a candidate gets no suggestion.
///
/// ```
/// use platformctl_diagnostics::did_you_mean;
/// assert_eq!(did_you_mean("runing", &["running", "stopped"]), Some("running"));
/// assert_eq!(did_you_mean("xyzzy", &["running", "stopped"]), None);
/// ```
pub fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.chars().count() > MAX_WORD || candidates.contains(&word) {
        return None;
    }
    let w = word.to_ascii_lowercase();
    let mut best: Option<(usize, &'c str)> = None;
    for &c in candidates {
        let len = c.chars().count();
        let d = strsim::levenshtein(&w, &c.to_ascii_lowercase());
        if d <= 2.max(len / 4) && d < len && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(
            did_you_mean("runing", &["stopped", "running"]),
            Some("running")
        );
        assert_eq!(
            did_you_mean("stauts", &["id", "status", "priority"]),
            Some("status")
        );
        assert_eq!(
            did_you_mean("compose_servce", &["compose_service", "host"]),
            Some("compose_service")
        );
        assert_eq!(
            did_you_mean("rs3000", &["laptop", "nas", "rs2000"]),
            Some("rs2000")
        );
    }

    #[test]
    fn case_only_differences_suggest_the_right_case() {
        assert_eq!(did_you_mean("Running", &["running"]), Some("running"));
        assert_eq!(did_you_mean("running", &["running"]), None);
    }

    #[test]
    fn far_or_short_words_get_none() {
        assert_eq!(did_you_mean("xyzzy", &["running", "stopped"]), None);
        assert_eq!(did_you_mean("zz", &["id"]), None);
        assert_eq!(did_you_mean("zzz", &["id", "status"]), None);
        let long = "a".repeat(65);
        assert_eq!(did_you_mean(&long, &[&"a".repeat(64)]), None);
    }

    #[test]
    fn multi_byte_is_counted_in_characters() {
        assert_eq!(did_you_mean("naïve", &["naive"]), Some("naive"));
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(did_you_mean("bat", &["cat", "hat"]), Some("cat"));
        assert_eq!(did_you_mean("bat", &["hat", "cat"]), Some("hat"));
    }
}
