//! Fixtures shared by the integration tests.
//!
//! Token-shaped fixtures are assembled at run time from a prefix and a
//! deterministic pseudo-random body, so that no file in the repository
//! contains a string that looks like a real credential (and secret scanners
//! such as push protection stay quiet).

#![allow(dead_code)]

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const HEX: &str = "0123456789abcdef";
pub const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `n` characters from `alphabet`, pseudo-random but fixed for a `seed`.
pub fn rnd(seed: u64, n: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            chars[((state >> 33) % chars.len() as u64) as usize]
        })
        .collect()
}

/// Joins parts, so prefixes like `gh` + `p_` never appear whole in source.
pub fn cat(parts: &[&str]) -> String {
    parts.concat()
}

pub fn pem_header(label: &str) -> String {
    cat(&["-----", "BEGIN ", label, "-----"])
}

pub fn pem_block(label: &str) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        pem_header(label),
        rnd(1, 64, ALNUM),
        rnd(2, 40, ALNUM),
        cat(&["-----", "END ", label, "-----"])
    )
}

pub fn jwt(seed: u64) -> String {
    // `{"alg":"HS256","typ":"JWT"}` and a payload, base64url-encoded.
    format!(
        "{}.{}.{}",
        cat(&["ey", "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"]),
        cat(&["ey", "JzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6ImFwcCJ9"]),
        rnd(seed, 43, B64URL)
    )
}

/// A token-shaped fixture for each known format: (what it is, the token).
pub fn known_tokens() -> Vec<(&'static str, String)> {
    vec![
        (
            "GitHub personal access token",
            cat(&["gh", "p_", &rnd(10, 36, ALNUM)]),
        ),
        (
            "GitHub OAuth access token",
            cat(&["gh", "o_", &rnd(11, 36, ALNUM)]),
        ),
        (
            "GitHub user-to-server token",
            cat(&["gh", "u_", &rnd(12, 36, ALNUM)]),
        ),
        (
            "GitHub server-to-server token",
            cat(&["gh", "s_", &rnd(13, 36, ALNUM)]),
        ),
        (
            "GitHub refresh token",
            cat(&["gh", "r_", &rnd(14, 36, ALNUM)]),
        ),
        (
            "GitHub fine-grained personal access token",
            cat(&[
                "github",
                "_pat_",
                &rnd(15, 22, ALNUM),
                "_",
                &rnd(16, 59, ALNUM),
            ]),
        ),
        (
            "GitLab personal access token",
            cat(&["gl", "pat-", &rnd(17, 20, ALNUM)]),
        ),
        ("GitLab token", cat(&["gl", "rt-", &rnd(18, 20, ALNUM)])),
        (
            "Slack token",
            cat(&[
                "xo",
                "xb-",
                "123456789012-1234567890123-",
                &rnd(19, 24, ALNUM),
            ]),
        ),
        (
            "Slack token",
            cat(&[
                "xo",
                "xp-",
                "123456789012-1234567890123-",
                &rnd(20, 24, ALNUM),
            ]),
        ),
        (
            "Slack webhook URL",
            cat(&[
                "https://hooks.",
                "slack.com/services/T0",
                &rnd(21, 8, UPPER_ALNUM),
                "/B0",
                &rnd(22, 8, UPPER_ALNUM),
                "/",
                &rnd(23, 24, ALNUM),
            ]),
        ),
        (
            "Discord webhook URL",
            cat(&[
                "https://discord.com/api/",
                "webhooks/123456789012345678/",
                &rnd(24, 68, B64URL),
            ]),
        ),
        (
            "AWS access key ID",
            cat(&["AK", "IA", &rnd(25, 16, UPPER_ALNUM)]),
        ),
        (
            "AWS access key ID",
            cat(&["AS", "IA", &rnd(26, 16, UPPER_ALNUM)]),
        ),
        ("Google API key", cat(&["AI", "za", &rnd(27, 35, B64URL)])),
        (
            "Stripe API key",
            cat(&["sk", "_live_", &rnd(28, 24, ALNUM)]),
        ),
        (
            "Stripe API key",
            cat(&["rk", "_live_", &rnd(29, 24, ALNUM)]),
        ),
        (
            "Stripe webhook signing secret",
            cat(&["wh", "sec_", &rnd(30, 32, ALNUM)]),
        ),
        (
            "OpenAI-style API key",
            cat(&["sk", "-", &rnd(31, 48, ALNUM)]),
        ),
        (
            "OpenAI-style API key",
            cat(&[
                "sk",
                "-proj-",
                &rnd(32, 74, B64URL),
                "T3Blbk",
                &rnd(33, 74, B64URL),
            ]),
        ),
        (
            "Anthropic API key",
            cat(&["sk", "-ant-api03-", &rnd(34, 93, B64URL), "AA"]),
        ),
        ("Hugging Face token", cat(&["h", "f_", &rnd(35, 34, ALNUM)])),
        ("npm access token", cat(&["np", "m_", &rnd(36, 36, ALNUM)])),
        (
            "Docker Hub access token",
            cat(&["dckr", "_pat_", &rnd(37, 27, B64URL)]),
        ),
        (
            "Tailscale key",
            cat(&[
                "ts",
                "key-auth-",
                &rnd(38, 12, ALNUM),
                "CNTRL-",
                &rnd(39, 33, ALNUM),
            ]),
        ),
        (
            "HashiCorp Vault token",
            cat(&["hv", "s.", &rnd(40, 90, B64URL)]),
        ),
        (
            "age secret key",
            cat(&["AGE-SECRET", "-KEY-1", &rnd(41, 58, UPPER_ALNUM)]),
        ),
        (
            "SendGrid API key",
            cat(&["S", "G.", &rnd(42, 22, B64URL), ".", &rnd(43, 43, B64URL)]),
        ),
        (
            "DigitalOcean token",
            cat(&["do", "p_v1_", &rnd(44, 64, HEX)]),
        ),
        (
            "Grafana service account token",
            cat(&["gl", "sa_", &rnd(45, 32, ALNUM), "_", &rnd(46, 8, HEX)]),
        ),
        (
            "PyPI API token",
            cat(&["pypi-", "AgEIcHlwaS5vcmc", &rnd(47, 70, B64URL)]),
        ),
        (
            "Shopify access token",
            cat(&["shp", "at_", &rnd(48, 32, HEX)]),
        ),
        (
            "Telegram bot token",
            cat(&["123456789", ":AA", &rnd(49, 33, B64URL)]),
        ),
    ]
}
