//! Key-independent detectors: private key blocks, well-known token formats,
//! JWTs and URLs with an embedded password.
//!
//! Every rule is a regex plus cheap post-checks (boundaries, "does the body
//! look random"). Rules only run when one of their trigger literals occurs in
//! the input; the trigger literals are compiled into a single alternation,
//! which the regex crate turns into a SIMD/Aho-Corasick literal search, so a
//! value with no trigger costs one fast scan.

use std::sync::LazyLock;

use regex::Regex;

use crate::literal;
use crate::{SecretHit, SecretKind};

/// What a rule reports.
#[derive(Clone, Copy)]
enum Report {
    PrivateKey,
    Token(&'static str),
    Jwt,
    UrlCredentials,
}

/// Characters that may not immediately precede a match.
#[derive(Clone, Copy)]
enum Left {
    /// Anything may precede.
    Any,
    /// Not an ASCII letter or digit.
    NotAlnum,
    /// Not an ASCII letter, digit, `_` or `-`.
    NotWord,
    /// Not an ASCII digit.
    NotDigit,
}

/// Characters that may not immediately follow a match.
#[derive(Clone, Copy)]
enum Right {
    Any,
    /// Not an ASCII letter or digit.
    NotAlnum,
    /// Not an ASCII letter, digit, `_` or `-`.
    NotWord,
}

/// Post-check on the body (named group `b`, or the secret span).
#[derive(Clone, Copy)]
enum Check {
    None,
    /// Not a placeholder: at least 6 distinct characters.
    Varied,
    /// Varied, and contains an ASCII digit and an ASCII letter somewhere.
    DigitAndLetter,
    /// Varied, and some run of ASCII alphanumerics of length >= 12 contains
    /// both a digit and a letter (rules out long kebab-case names).
    RandomRun,
    /// Varied and not one of AWS's documentation example key ids.
    AwsKeyId,
    /// The password position of a URL: not empty, not a reference or a
    /// placeholder.
    UrlPassword,
}

struct Rule {
    report: Report,
    /// The regex. Named group `s` is the secret span (default: whole match);
    /// named group `b` is the body the check looks at (default: the span).
    pattern: &'static str,
    triggers: &'static [&'static str],
    left: Left,
    right: Right,
    check: Check,
    /// A cheap test on the whole input, run before the regex.
    precheck: Option<fn(&str) -> bool>,
}

const fn tok(
    name: &'static str,
    pattern: &'static str,
    triggers: &'static [&'static str],
    left: Left,
    right: Right,
    check: Check,
) -> Rule {
    Rule {
        report: Report::Token(name),
        pattern,
        triggers,
        left,
        right,
        check,
        precheck: None,
    }
}

use Check as C;
use Left as L;
use Right as R;

/// The rules, most specific first: on equal offsets the earlier rule wins.
static RULES: &[Rule] = &[
    Rule {
        report: Report::PrivateKey,
        pattern: r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
        triggers: &["-----BEGIN"],
        left: L::Any,
        right: R::Any,
        check: C::None,
        precheck: None,
    },
    Rule {
        report: Report::PrivateKey,
        pattern: r"PuTTY-User-Key-File-[0-9]+:",
        triggers: &["PuTTY-User-Key-File-"],
        left: L::Any,
        right: R::Any,
        check: C::None,
        precheck: None,
    },
    tok(
        "age secret key",
        r"AGE-SECRET-KEY-1(?P<b>[0-9A-Z]{58})",
        &["AGE-SECRET-KEY-1"],
        L::NotAlnum,
        R::NotAlnum,
        C::Varied,
    ),
    tok(
        "GitHub personal access token",
        r"ghp_(?P<b>[A-Za-z0-9]{36,251})",
        &["ghp_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitHub OAuth access token",
        r"gho_(?P<b>[A-Za-z0-9]{36,251})",
        &["gho_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitHub user-to-server token",
        r"ghu_(?P<b>[A-Za-z0-9]{36,251})",
        &["ghu_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitHub server-to-server token",
        r"ghs_(?P<b>[A-Za-z0-9]{36,251})",
        &["ghs_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitHub refresh token",
        r"ghr_(?P<b>[A-Za-z0-9]{36,251})",
        &["ghr_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitHub fine-grained personal access token",
        r"github_pat_(?P<b>[A-Za-z0-9_]{40,251})",
        &["github_pat_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitLab personal access token",
        r"glpat-(?P<b>[A-Za-z0-9_-]{20,})",
        &["glpat-"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "GitLab token",
        r"gl(?:rt|dt|ptt|ft|soat|cbt)-(?P<b>[A-Za-z0-9_-]{20,})",
        &["glrt-", "gldt-", "glptt-", "glft-", "glsoat-", "glcbt-"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Slack token",
        r"xox[abposr]-(?P<b>[0-9A-Za-z-]{10,})",
        &["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"],
        L::NotAlnum,
        R::Any,
        C::DigitAndLetter,
    ),
    tok(
        "Slack webhook URL",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9_/-]{20,})",
        &["hooks.slack.com/"],
        L::Any,
        R::Any,
        C::DigitAndLetter,
    ),
    tok(
        "Discord webhook URL",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{5,}/(?P<s>[A-Za-z0-9_-]{20,})",
        &["/api/webhooks/"],
        L::Any,
        R::Any,
        C::Varied,
    ),
    tok(
        "AWS access key ID",
        r"(?:AKIA|ASIA)(?P<b>[A-Z0-9]{16})",
        &["AKIA", "ASIA"],
        L::NotAlnum,
        R::NotAlnum,
        C::AwsKeyId,
    ),
    tok(
        "Google API key",
        r"AIza(?P<b>[0-9A-Za-z_-]{35})",
        &["AIza"],
        L::NotAlnum,
        R::NotWord,
        C::Varied,
    ),
    tok(
        "Stripe API key",
        r"(?:sk|rk)_(?:live|test)_(?P<b>[0-9A-Za-z]{16,})",
        &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Stripe webhook signing secret",
        r"whsec_(?P<b>[0-9A-Za-z+/=]{24,})",
        &["whsec_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Anthropic API key",
        r"sk-ant-(?P<b>[A-Za-z0-9_-]{32,})",
        &["sk-"],
        L::NotWord,
        R::Any,
        C::RandomRun,
    ),
    tok(
        "OpenAI-style API key",
        r"sk-(?:proj-|svcacct-|admin-)?(?P<b>[A-Za-z0-9_-]{32,})",
        &["sk-"],
        L::NotWord,
        R::Any,
        C::RandomRun,
    ),
    tok(
        "Hugging Face token",
        r"hf_(?P<b>[A-Za-z0-9]{30,})",
        &["hf_"],
        L::NotWord,
        R::Any,
        C::RandomRun,
    ),
    tok(
        "npm access token",
        r"npm_(?P<b>[A-Za-z0-9]{36,})",
        &["npm_"],
        L::NotWord,
        R::Any,
        C::RandomRun,
    ),
    tok(
        "Docker Hub access token",
        r"dckr_(?:pat|oat)_(?P<b>[A-Za-z0-9_-]{20,})",
        &["dckr_pat_", "dckr_oat_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Tailscale key",
        r"tskey-(?P<b>[A-Za-z0-9-]{16,})",
        &["tskey-"],
        L::NotWord,
        R::Any,
        C::DigitAndLetter,
    ),
    tok(
        "HashiCorp Vault token",
        r"hv[sbr]\.(?P<b>[A-Za-z0-9_-]{24,})",
        &["hvs.", "hvb.", "hvr."],
        L::NotWord,
        R::Any,
        C::DigitAndLetter,
    ),
    tok(
        "SendGrid API key",
        r"SG\.(?P<b>[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})",
        &["SG."],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "DigitalOcean token",
        r"do[opr]_v1_(?P<b>[a-f0-9]{64})",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Grafana service account token",
        r"glsa_(?P<b>[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
        &["glsa_"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Grafana Cloud token",
        r"glc_(?P<b>[A-Za-z0-9+/=]{32,})",
        &["glc_"],
        L::NotAlnum,
        R::Any,
        C::DigitAndLetter,
    ),
    tok(
        "PyPI API token",
        r"pypi-AgEIcHlwaS5vcmc(?P<b>[A-Za-z0-9_-]{50,})",
        &["pypi-AgEIcHlwaS5vcmc"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    tok(
        "Shopify access token",
        r"shp(?:at|ca|pa|ss)_(?P<b>[a-fA-F0-9]{32})",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        L::NotAlnum,
        R::NotAlnum,
        C::Varied,
    ),
    tok(
        "Telegram bot token",
        r"[0-9]{8,10}:(?P<b>AA[0-9A-Za-z_-]{33})",
        &[":AA"],
        L::NotDigit,
        R::NotWord,
        C::Varied,
    ),
    tok(
        "HTTP Authorization header credential",
        r#"(?i:authorization)["']?[ \t]*[:=][ \t]*["']?(?i:bearer|basic|token)[ \t]+(?P<s>[A-Za-z0-9._~+/=-]{8,})"#,
        &["uthorization", "UTHORIZATION"],
        L::NotAlnum,
        R::Any,
        C::Varied,
    ),
    Rule {
        report: Report::Jwt,
        pattern: r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        triggers: &["eyJ"],
        left: L::NotAlnum,
        right: R::Any,
        check: C::Varied,
        precheck: None,
    },
    Rule {
        report: Report::UrlCredentials,
        // scheme://user:password@host — user may be empty (`redis://:pw@h`).
        pattern: r#"[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s/?#@:'"<>]*:(?P<s>[^\s/?#@'"]+)@[^\s/?#@'"]"#,
        triggers: &["://"],
        left: L::NotAlnum,
        right: R::Any,
        check: C::UrlPassword,
        precheck: Some(url_with_literal_password),
    },
];

/// Trigger literals sharing their first two bytes, each with the bitmask of
/// rules it enables.
type TriggerGroup = Vec<(&'static [u8], u64)>;

struct Compiled {
    rules: Vec<Regex>,
    /// Bitset over byte pairs: bit `(a << 8) | b` is set when some trigger
    /// literal starts with the bytes `a`, `b`.
    pairs: Box<[u64; 1024]>,
    /// Trigger literals grouped by their first two bytes (sorted by pair),
    /// each with the bitmask of rules it enables.
    by_pair: Vec<(u16, TriggerGroup)>,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    assert!(RULES.len() <= 64, "rule bitmask is a u64");
    let rules = RULES
        .iter()
        .map(|r| Regex::new(r.pattern).expect("rule pattern compiles"))
        .collect();
    let mut pairs = Box::new([0u64; 1024]);
    let mut by_pair: Vec<(u16, TriggerGroup)> = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        for &t in rule.triggers {
            let t = t.as_bytes();
            assert!(t.len() >= 2, "trigger literals have at least two bytes");
            let pair = u16::from_be_bytes([t[0], t[1]]);
            pairs[usize::from(pair) / 64] |= 1 << (pair % 64);
            let slot = match by_pair.iter().position(|(p, _)| *p == pair) {
                Some(j) => &mut by_pair[j].1,
                None => {
                    by_pair.push((pair, Vec::new()));
                    &mut by_pair.last_mut().expect("just pushed").1
                }
            };
            match slot.iter_mut().find(|(lit, _)| *lit == t) {
                Some((_, mask)) => *mask |= 1 << i,
                None => slot.push((t, 1 << i)),
            }
        }
    }
    by_pair.sort_by_key(|(p, _)| *p);
    Compiled {
        rules,
        pairs,
        by_pair,
    }
});

/// The shortest input any rule can match (`a://b:c@d`).
const MIN_SECRET_LEN: usize = 9;

/// Bitmask of the rules whose trigger literals occur in `text`. A bitset of
/// the literals' first two bytes rules out almost every position; only the
/// rest are compared. On the short scalars that make up most of a catalog
/// this beats a general multi-literal search, whose per-call setup
/// dominates.
fn triggered_rules(text: &str) -> u64 {
    let b = text.as_bytes();
    if b.len() < MIN_SECRET_LEN {
        return 0;
    }
    let compiled = &*COMPILED;
    let mut mask = 0;
    for i in 1..b.len() {
        let pair = u16::from_be_bytes([b[i - 1], b[i]]);
        if compiled.pairs[usize::from(pair) / 64] & (1 << (pair % 64)) == 0 {
            continue;
        }
        let Ok(j) = compiled.by_pair.binary_search_by_key(&pair, |(p, _)| *p) else {
            continue;
        };
        let rest = &b[i - 1..];
        for (lit, bits) in &compiled.by_pair[j].1 {
            if rest.len() >= lit.len() && lit.iter().zip(rest).all(|(x, y)| x == y) {
                mask |= bits;
            }
        }
    }
    mask
}

/// Some `scheme://` in `text` is followed by `user:password@` whose
/// password is not a placeholder. Mirrors the URL rule's regex (the
/// authority ends at `/ ? #`, whitespace or a quote; the user ends at the
/// first `:`, the password at the first `@`), so that the regex only runs on
/// URLs it will report. Most URLs have no userinfo, and in a clean catalog
/// the rest carry `${VAR}` passwords.
fn url_with_literal_password(text: &str) -> bool {
    text.match_indices("://").any(|(i, _)| {
        let rest = &text[i + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '\'' | '"'))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let Some((userinfo, _host)) = authority.split_once('@') else {
            return false;
        };
        userinfo
            .split_once(':')
            .is_some_and(|(_, password)| !literal::is_placeholder_password(password))
    })
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

fn left_ok(left: Left, prev: Option<char>) -> bool {
    let Some(c) = prev else { return true };
    match left {
        Left::Any => true,
        Left::NotAlnum => !c.is_ascii_alphanumeric(),
        Left::NotWord => !(c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        Left::NotDigit => !c.is_ascii_digit(),
    }
}

fn right_ok(right: Right, next: Option<char>) -> bool {
    let Some(c) = next else { return true };
    match right {
        Right::Any => true,
        Right::NotAlnum => !c.is_ascii_alphanumeric(),
        Right::NotWord => !(c.is_ascii_alphanumeric() || c == '_' || c == '-'),
    }
}

/// At least `min` distinct characters: rules out `XXXXXXXX…` placeholders.
fn varied(body: &str, min: usize) -> bool {
    let mut seen: Vec<char> = Vec::with_capacity(min);
    for c in body.chars() {
        if !seen.contains(&c) {
            seen.push(c);
            if seen.len() >= min {
                return true;
            }
        }
    }
    false
}

fn digit_and_letter(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

fn random_run(body: &str) -> bool {
    body.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|run| run.len() >= 12 && digit_and_letter(run))
}

fn check_ok(check: Check, body: &str) -> bool {
    match check {
        Check::None => true,
        Check::Varied => varied(body, 6),
        Check::DigitAndLetter => varied(body, 6) && digit_and_letter(body),
        Check::RandomRun => varied(body, 6) && random_run(body),
        Check::AwsKeyId => varied(body, 6) && !body.ends_with("EXAMPLE"),
        Check::UrlPassword => !literal::is_placeholder_password(body),
    }
}

/// End of a private key block whose header ends at `header_end`: the end of
/// the next `-----END …-----` marker, or the end of the text.
fn private_key_end(text: &str, header_end: usize) -> usize {
    let rest = &text[header_end..];
    if let Some(end) = rest.find("-----END") {
        let after = header_end + end + "-----END".len();
        if let Some(close) = text[after..].find("-----") {
            return after + close + "-----".len();
        }
    }
    text.len()
}

fn kind_of(report: Report) -> SecretKind {
    match report {
        Report::PrivateKey => SecretKind::PrivateKey,
        Report::Token(name) => SecretKind::KnownToken { name },
        Report::Jwt => SecretKind::Jwt,
        Report::UrlCredentials => SecretKind::UrlCredentials,
    }
}

/// All key-independent hits in `text`, sorted by offset, non-overlapping.
/// With `first_only`, stops looking once the earliest hit is certain enough
/// (every triggered rule has reported its first match).
pub(crate) fn value_hits(text: &str, first_only: bool) -> Vec<SecretHit> {
    let mask = triggered_rules(text);
    if mask == 0 {
        return Vec::new();
    }
    let compiled = &*COMPILED;

    // (offset, rule index, hit)
    let mut found: Vec<(usize, usize, SecretHit)> = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        if mask & (1 << i) == 0 || rule.precheck.is_some_and(|pre| !pre(text)) {
            continue;
        }
        let re = &compiled.rules[i];
        for caps in re.captures_iter(text) {
            let whole = caps.get(0).expect("group 0 always participates");
            if !left_ok(rule.left, char_before(text, whole.start()))
                || !right_ok(rule.right, char_after(text, whole.end()))
            {
                continue;
            }
            let span = caps.name("s").unwrap_or(whole);
            let body = caps.name("b").unwrap_or(span);
            if !check_ok(rule.check, body.as_str()) {
                continue;
            }
            let end = match rule.report {
                Report::PrivateKey => private_key_end(text, whole.end()),
                _ => span.end(),
            };
            found.push((
                span.start(),
                i,
                SecretHit {
                    kind: kind_of(rule.report),
                    offset: span.start(),
                    len: end - span.start(),
                },
            ));
            if first_only {
                break;
            }
        }
    }
    found.sort_by_key(|(offset, rule, _)| (*offset, *rule));
    let mut hits: Vec<SecretHit> = Vec::with_capacity(found.len());
    let mut covered_until = 0;
    for (_, _, hit) in found {
        if !hits.is_empty() && hit.offset < covered_until {
            continue;
        }
        covered_until = hit.offset + hit.len;
        hits.push(hit);
        if first_only {
            break;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_has_a_trigger() {
        assert_eq!(COMPILED.rules.len(), RULES.len());
        for rule in RULES {
            assert!(!rule.triggers.is_empty(), "{}", rule.pattern);
        }
    }

    #[test]
    fn no_trigger_no_work() {
        assert!(value_hits("postgres:16-alpine", false).is_empty());
        assert!(value_hits("", false).is_empty());
    }

    #[test]
    fn private_key_span_covers_the_block() {
        let text =
            "x: |\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\ny";
        let hits = value_hits(text, false);
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(&text[h.offset..h.offset + h.len], &text[5..text.len() - 2]);
    }

    #[test]
    fn helpers() {
        assert!(!varied("xxxxxxxxxxxxxxxxxxxxxxxx", 6));
        assert!(varied("abcdef", 6));
        assert!(random_run("abcdef123456"));
        assert!(!random_run("internationalization-v2-x"));
    }
}
