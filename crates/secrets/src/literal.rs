//! Literal passwords: which keys hold credentials, and which values under
//! them are literals rather than references, paths, names or placeholders.

/// How sure a key is to hold a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strength {
    /// `password`, `token`, `secret`, `api_key`, …: any literal is flagged.
    Strong,
    /// `auth`, `authorization`, `credentials`: these often hold a method or
    /// a profile name (`auth: oidc`), so only credential-shaped literals are
    /// flagged (`user:pass`, `Bearer …`, random-looking strings, `changeme`).
    Weak,
}

/// Whether `s` mentions anything a credential key would contain: `pass`,
/// `pwd`, `secret`, `token`, `key`, `auth`, `credential`, in any ASCII case.
/// The cheap prefilter in front of key classification and of the search for
/// assignments inside values.
pub(crate) fn mentions_credential(s: &str) -> bool {
    let b = s.as_bytes();
    let fold = |c: u8| c | 0x20;
    (1..b.len()).any(|i| {
        let needle: &[u8] = match (fold(b[i - 1]), fold(b[i])) {
            (b'p', b'a') => b"pass",
            (b'p', b'w') => b"pwd",
            (b's', b'e') => b"secret",
            (b't', b'o') => b"token",
            (b'k', b'e') => b"key",
            (b'a', b'u') => b"auth",
            (b'c', b'r') => b"credential",
            _ => return false,
        };
        let rest = &b[i - 1..];
        rest.len() >= needle.len() && needle.iter().zip(rest).all(|(n, c)| *n == fold(*c))
    })
}

/// Splits a key into words on anything that is not an ASCII letter or digit
/// (`_`, `-`, `.`, space, `[`, …) and on camelCase boundaries
/// (`adminPassword` → `admin`, `Password`; `APIKey` → `API`, `Key`).
fn split_words(key: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for part in key.split(|c: char| !c.is_ascii_alphanumeric()) {
        if part.is_empty() {
            continue;
        }
        let b = part.as_bytes();
        let mut start = 0;
        for i in 1..b.len() {
            let (p, c) = (b[i - 1], b[i]);
            let lower_to_upper =
                (p.is_ascii_lowercase() || p.is_ascii_digit()) && c.is_ascii_uppercase();
            let acronym_end = p.is_ascii_uppercase()
                && c.is_ascii_uppercase()
                && b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            if lower_to_upper || acronym_end {
                words.push(&part[start..i]);
                start = i;
            }
        }
        words.push(&part[start..]);
    }
    words
}

/// Trailing words that qualify a credential without changing what it is:
/// `token_value`, `secret_key_base`, `password_b64`, `token_old`.
const QUALIFIERS: &[&str] = &[
    "value",
    "val",
    "base",
    "b64",
    "base64",
    "hex",
    "plain",
    "plaintext",
    "raw",
    "literal",
    "string",
    "str",
    "old",
    "new",
    "current",
    "prev",
    "previous",
];

/// Words that make a key a credential when they are its last word.
const STRONG_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passwort",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "token",
    "tokens",
    "apikey",
    "requirepass",
    "masterauth",
];

/// A last word ending with one of these is a credential too
/// (`adminpassword`, `clientsecret`, `accesstoken`, `authkey`).
const STRONG_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "secretkey",
    "privatekey",
    "accesskey",
    "authkey",
    "signingkey",
];

/// `<first>_key` is a credential for these first words.
const KEY_COMPOUNDS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "signing",
    "encryption",
    "master",
    "auth",
    "session",
];

const WEAK_WORDS: &[&str] = &["auth", "authorization", "credential", "credentials"];

fn is_in(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn ends_with_ci(word: &str, suffix: &str) -> bool {
    word.len() >= suffix.len()
        && word.as_bytes()[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Whether `key` names a credential, and how strongly.
///
/// The decision rests on the key's *last* word (after dropping qualifiers
/// such as `_value` or `_b64` and trailing numbers), so `password_file`,
/// `token_ttl`, `auth_method`, `secret_ref`, `token_id` and `client_id` are
/// not credential keys while `db_password`, `clientSecret`, `API_KEY`,
/// `secret_key_base` and `token2` are.
pub(crate) fn classify_key(key: &str) -> Option<Strength> {
    if !mentions_credential(key) {
        return None;
    }
    let mut words = split_words(key);
    while let Some(last) = words.last() {
        if last.bytes().all(|b| b.is_ascii_digit()) || is_in(last, QUALIFIERS) {
            words.pop();
        } else {
            break;
        }
    }
    let last = words.last()?.trim_end_matches(|c: char| c.is_ascii_digit());
    if last.eq_ignore_ascii_case("key") {
        let prev = words.len().checked_sub(2).map(|i| words[i])?;
        return is_in(prev, KEY_COMPOUNDS).then_some(Strength::Strong);
    }
    if is_in(last, STRONG_WORDS) || STRONG_SUFFIXES.iter().any(|s| ends_with_ci(last, s)) {
        return Some(Strength::Strong);
    }
    if is_in(last, WEAK_WORDS) {
        return Some(Strength::Weak);
    }
    None
}

/// Alphanumerics only, lowercased: `Change_Me!` → `changeme`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `changeme`, `CHANGE_ME`, `change-it`, `changethis123`: a well-known
/// default password. Always a literal password, whatever else it looks like.
fn is_changeme(s: &str) -> bool {
    if s.len() > 40 {
        return false;
    }
    let mut buf = [0u8; 40];
    let mut n = 0;
    for b in s.bytes().filter(u8::is_ascii_alphanumeric) {
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let q = &buf[..n];
    [&b"changeme"[..], b"changeit", b"changethis"]
        .iter()
        .any(|w| q.windows(w.len()).any(|x| x == *w))
}

/// `${VAR}`, `$VAR`, `$$VAR`, `{{ .Values.x }}`, `%(ENV)s`, `!secret name`,
/// `@Microsoft.KeyVault(...)`, and anything with an interpolation inside.
fn is_reference(s: &str) -> bool {
    if s.contains("${") || s.contains("{{") || s.contains("}}") || s.contains("%(") {
        return true;
    }
    let b = s.as_bytes();
    if b[0] == b'$' {
        return matches!(b.get(1), Some(c) if c.is_ascii_alphabetic() || matches!(c, b'_' | b'{' | b'(' | b'$'));
    }
    if b[0] == b'!' {
        // A YAML tag such as `!secret db_password` or `!ENV ${X}`.
        let tag_len = b[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        return tag_len > 0 && b.get(1 + tag_len).is_some_and(|c| *c == b' ');
    }
    s.starts_with("@Microsoft.KeyVault(")
}

/// Schemes of secret-manager references.
const REF_SCHEMES: &[&str] = &[
    "file:",
    "env:",
    "vault:",
    "op:",
    "sops:",
    "secret:",
    "secretref:",
    "awssm:",
    "aws-sm:",
    "gcpsm:",
    "gcp-sm:",
    "azkv:",
    "azure-kv:",
    "keyring:",
    "bw:",
    "bws:",
    "doppler:",
    "infisical:",
    "k8s:",
    "kubernetes:",
    "ref+",
];

fn is_ref_scheme(s: &str) -> bool {
    REF_SCHEMES
        .iter()
        .any(|p| s.len() > p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
}

/// `scheme://…`: a URL (credentials inside one are the URL rule's business).
fn is_url(s: &str) -> bool {
    let Some(i) = s.find("://") else { return false };
    let scheme = &s[..i];
    !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        && s.len() > i + 3
}

/// File extensions that make a bare name a file name.
const FILE_EXTENSIONS: &[&str] = &[
    "pem", "key", "crt", "cer", "der", "p12", "pfx", "jks", "keystore", "txt", "json", "yaml",
    "yml", "toml", "env", "conf", "cfg", "ini", "asc", "gpg", "pgp", "age", "enc", "sops", "pub",
    "kdbx", "htpasswd", "secret", "secrets", "token",
];

fn is_path(s: &str) -> bool {
    if s.starts_with('/') || s.starts_with("./") || s.starts_with("../") || s.starts_with("~/") {
        return true;
    }
    let b = s.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/') {
        return true; // C:\secrets\db.txt
    }
    // A relative path or bare file name with a telling extension:
    // `secrets/db.txt`, `db-password.txt`, `tls.key`.
    let name_ok = s.split('/').all(|seg| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'@'))
    });
    name_ok
        && s.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && !stem.ends_with('/') && is_in(ext, FILE_EXTENSIONS)
        })
}

fn is_bool_or_null(s: &str) -> bool {
    is_in(
        s,
        &[
            "true",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "null",
            "none",
            "nil",
            "~",
            "undefined",
        ],
    )
}

/// Decimal numbers (`42`, `-1.5e3`, `1_000`), `.inf`/`.nan`, and durations
/// or sizes (`30s`, `24h`, `512Mi`).
fn is_number_like(s: &str) -> bool {
    if is_in(s, &[".inf", "-.inf", "+.inf", ".nan"]) {
        return true;
    }
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits_end = t
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'_' || b == b'.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(digits_end);
    if num.is_empty() || !num.as_bytes()[0].is_ascii_digit() || num.matches('.').count() > 1 {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        return !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit());
    }
    is_in(
        rest,
        &[
            "ns", "us", "ms", "s", "m", "h", "d", "w", "y", "k", "kb", "mb", "gb", "tb", "ki",
            "mi", "gi", "ti", "%",
        ],
    )
}

/// `DB_PASSWORD`, `AWS_SECRET_ACCESS_KEY`: the *name* of an environment
/// variable (at least one underscore; each word starts with a letter).
fn is_env_var_name(s: &str) -> bool {
    s.len() <= 64
        && s.contains('_')
        && s.split('_').enumerate().all(|(i, w)| {
            !w.is_empty()
                && (i > 0 || w.as_bytes()[0].is_ascii_uppercase())
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

/// Values that say "no value here": `<redacted>`, `***`, `xxxx`, `...`,
/// `[REDACTED]`, `{password}`, `%s`, `TODO`, `your-token-here`.
fn is_placeholder(s: &str) -> bool {
    // `***`, `...`, `-`, `xxxx` (but `x` alone may be a password).
    if s.chars()
        .all(|c| matches!(c, '*' | '.' | '…' | '•' | '-' | '_' | '#' | '?'))
        || (s.len() >= 3 && s.chars().all(|c| matches!(c, 'x' | 'X')))
    {
        return true;
    }
    let b = s.as_bytes();
    let last = b[b.len() - 1];
    if b.len() >= 2
        && matches!(
            (b[0], last),
            (b'<', b'>') | (b'[', b']') | (b'(', b')') | (b'{', b'}')
        )
    {
        return true;
    }
    if matches!(s, "%s" | "%v" | "%q" | "%d" | "{}" | "[]") {
        return true;
    }
    if s.len() > 40 || s.contains(char::is_whitespace) && s.split_whitespace().count() > 4 {
        return false;
    }
    let q = squash(s);
    const WORDS: &[&str] = &[
        "redacted",
        "hidden",
        "masked",
        "omitted",
        "removed",
        "placeholder",
        "required",
        "optional",
        "generated",
        "autogenerated",
        "auto",
        "random",
        "unset",
        "notset",
        "empty",
        "tbd",
        "todo",
        "fixme",
        "na",
        "none",
        "secretplaceholder",
    ];
    if WORDS.contains(&q.as_str()) {
        return true;
    }
    // `your-token-here`, `insert_password_here`, `<api key here>`.
    let names_a_credential = ["pass", "pwd", "token", "secret", "key", "value"]
        .iter()
        .any(|w| q.contains(w));
    q.starts_with("your") || q.starts_with("insert") || (q.ends_with("here") && names_a_credential)
}

/// YAML syntax that a line-based reader may take for a value: block scalar
/// indicators (`|`, `>-`), aliases (`*db_password`), empty flow collections.
fn is_yaml_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    if matches!(b[0], b'|' | b'>') {
        return b[1..]
            .iter()
            .all(|c| matches!(c, b'-' | b'+') || c.is_ascii_digit());
    }
    if b[0] == b'*' && b.len() > 1 {
        return b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    }
    false
}

fn char_classes(s: &str) -> usize {
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    let other = s.chars().any(|c| !c.is_ascii_alphanumeric());
    [lower, upper, digit, other].iter().filter(|x| **x).count()
}

fn looks_random(s: &str) -> bool {
    if s.contains(char::is_whitespace) {
        return false;
    }
    let distinct = {
        let mut seen: Vec<char> = Vec::new();
        for c in s.chars() {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        seen.len()
    };
    (s.len() >= 16
        && distinct >= 8
        && char_classes(s) >= 2
        && s.bytes().any(|b| b.is_ascii_digit()))
        || (s.len() >= 12 && distinct >= 8 && char_classes(s) >= 3)
}

/// Accepted under a weak key: `user:pass`, `Bearer …`/`Basic …`, or a
/// random-looking string.
fn weak_accepts(s: &str) -> bool {
    let mut parts = s.split_whitespace();
    if let (Some(scheme), Some(cred), None) = (parts.next(), parts.next(), parts.next()) {
        return is_in(scheme, &["bearer", "basic", "token"]) && cred.len() >= 8;
    }
    // `user:pass`, but not `ldap:ou=people` or `provider:profile/name`.
    if let Some((user, pass)) = s.split_once(':')
        && !user.is_empty()
        && !pass.is_empty()
        && !s.contains(char::is_whitespace)
        && !pass.contains(['=', '/'])
    {
        return true;
    }
    looks_random(s)
}

/// Whether a URL's password position holds something other than a literal
/// password: empty, a reference, a placeholder.
pub(crate) fn is_placeholder_password(s: &str) -> bool {
    s.is_empty()
        || (!is_changeme(s) && (is_reference(s) || is_placeholder(s)))
        || s.starts_with('%') && s.len() <= 3
}

/// Strips whitespace and one layer of matching quotes; returns the inner
/// text's byte range within `value`.
pub(crate) fn unquote(value: &str) -> (usize, usize) {
    let start = value.len() - value.trim_start().len();
    let end = value.trim_end().len();
    if end <= start {
        return (start, start);
    }
    let inner = &value[start..end];
    let b = inner.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'\'' | b'`') && b[b.len() - 1] == b[0] {
        let s2 = start + 1;
        let e2 = end - 1;
        let inner2 = &value[s2..e2];
        let s3 = s2 + (inner2.len() - inner2.trim_start().len());
        let e3 = s2 + inner2.trim_end().len();
        return (s3, e3.max(s3));
    }
    (start, end)
}

/// If `value` (under a key of the given strength) is a literal credential,
/// the byte range of the literal within `value`.
pub(crate) fn literal_span(value: &str, strength: Strength) -> Option<(usize, usize)> {
    let (start, end) = unquote(value);
    let s = &value[start..end];
    if s.is_empty() {
        return None;
    }
    if is_changeme(s) {
        return Some((start, end));
    }
    if is_reference(s)
        || is_path(s)
        || is_ref_scheme(s)
        || is_url(s)
        || is_bool_or_null(s)
        || is_number_like(s)
        || is_env_var_name(s)
        || is_placeholder(s)
        || is_yaml_syntax(s)
    {
        return None;
    }
    match strength {
        Strength::Strong => Some((start, end)),
        Strength::Weak => weak_accepts(s).then_some((start, end)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        assert_eq!(split_words("adminPassword"), ["admin", "Password"]);
        assert_eq!(split_words("APIKey"), ["API", "Key"]);
        assert_eq!(split_words("db.password-file"), ["db", "password", "file"]);
        assert_eq!(
            split_words("MYSQL_ROOT_PASSWORD"),
            ["MYSQL", "ROOT", "PASSWORD"]
        );
        assert_eq!(split_words("secrets[0]"), ["secrets", "0"]);
        assert_eq!(split_words("__"), Vec::<&str>::new());
    }

    #[test]
    fn classifies_keys() {
        use Strength::*;
        for k in [
            "password",
            "POSTGRES_PASSWORD",
            "db-pass",
            "DB_PWD",
            "adminPassword",
            "clientSecret",
            "client_secret",
            "API_KEY",
            "apiKey",
            "apikey",
            "access_key",
            "aws_secret_access_key",
            "private_key",
            "secret_key_base",
            "token",
            "token2",
            "auth_token",
            "accessToken",
            "TS_AUTHKEY",
            "token_value",
            "requirepass",
            "services.db.environment.POSTGRES_PASSWORD",
            "passphrase",
        ] {
            assert_eq!(classify_key(k), Some(Strong), "{k}");
        }
        for k in ["auth", "basic_auth", "Authorization", "credentials"] {
            assert_eq!(classify_key(k), Some(Weak), "{k}");
        }
        for k in [
            "password_file",
            "POSTGRES_PASSWORD_FILE",
            "password_path",
            "token_env",
            "secret_name",
            "secretName",
            "secret_ref",
            "token_id",
            "client_id",
            "access_key_id",
            "token_ttl",
            "token_type",
            "auth_method",
            "password_min_length",
            "secrets",
            "key",
            "ssh_key",
            "pass_host_header",
            "passthrough",
            "bypass",
            "description",
            "image",
            "keycloak_realm",
            "monkey",
            "password_hash",
            "",
        ] {
            assert_eq!(classify_key(k), None, "{k}");
        }
    }

    #[test]
    fn literal_values() {
        use Strength::*;
        for v in [
            "hunter2",
            "changeme",
            "CHANGE_ME",
            "ChangeMe!",
            "correct horse battery staple",
            "0x4c0883a69102937d6231471b5dbb6204fe512961708279f7a3e8a1b4c2d3e4f5",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "p@ss:w0rd",
            "admin",
            "'quoted-secret'",
        ] {
            assert!(literal_span(v, Strong).is_some(), "{v}");
        }
        for v in [
            "",
            "  ",
            "\"\"",
            "${DB_PASSWORD}",
            "${DB_PASSWORD:-x}",
            "$DB_PASSWORD",
            "$$DB_PASSWORD",
            "{{ .Values.password }}",
            "prefix-${X}",
            "/run/secrets/db",
            "./secrets/db.txt",
            "../db.txt",
            "~/.pgpass",
            "secrets/db_password.txt",
            "db-password.txt",
            "tls.key",
            "C:\\secrets\\db.txt",
            "file:/run/secrets/db",
            "env:DB_PASSWORD",
            "vault:kv/data/app#password",
            "op://vault/item/password",
            "ref+vault://kv/app#pw",
            "https://vault.example.com/v1/kv/app",
            "true",
            "False",
            "yes",
            "null",
            "~",
            "42",
            "-1.5e3",
            "1_000",
            "30s",
            "512Mi",
            "DB_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "<redacted>",
            "<your-password>",
            "[REDACTED]",
            "{password}",
            "***",
            "xxxxxxxx",
            "...",
            "%s",
            "REDACTED",
            "TODO",
            "your-token-here",
            "|",
            ">-",
            "*db_password",
            "!secret db_password",
        ] {
            assert_eq!(literal_span(v, Strong), None, "{v:?}");
        }
    }

    #[test]
    fn weak_values() {
        use Strength::*;
        for v in [
            "admin:s3cret",
            "Bearer abcdefgh12345678",
            "kZ3p9QwErT5yUi8o",
            "changeme",
        ] {
            assert!(literal_span(v, Weak).is_some(), "{v}");
        }
        for v in [
            "oidc",
            "basic",
            "ldap",
            "default",
            "aws-profile-prod",
            "required",
            "https://auth.example.com/",
        ] {
            assert_eq!(literal_span(v, Weak), None, "{v}");
        }
    }

    #[test]
    fn unquote_ranges() {
        assert_eq!(unquote("  \"abc\" "), (3, 6));
        assert_eq!(unquote("'a"), (0, 2));
        assert_eq!(unquote("\" x \""), (2, 3));
        assert_eq!(unquote(""), (0, 0));
    }
}
