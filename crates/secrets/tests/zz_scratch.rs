use platformctl_secrets::*;
#[test]
fn scratch() {
    let pairs: &[(&str, &str)] = &[
        ("password", "password"),
        ("password", "secret"),
        ("password", "$1abc"),
        ("password", "!Passw0rd"),
        ("password", "!secret db"),
        ("password", "n/a"),
        ("password", "-"),
        ("password", "sphere"),
        ("password", "1.2.3"),
        ("password", "0x1F"),
        ("password", "Y"),
        ("token", "yes please"),
        ("PGPASSWORD", "hunter2"),
        ("MARIADB_ROOT_PASSWORD", "x"),
        ("pass", "sphere"),
        ("auth", "ldap:ou=people"),
        ("auth", "none"),
        ("credentials", "/etc/creds.json"),
        ("secret", "my-app-secret"),
        ("webhook_secret", "whsec"),
        ("MINIO_ROOT_USER", "admin"),
        ("GF_SECURITY_ADMIN_PASSWORD__FILE", "/run/secrets/x"),
        ("GF_SECURITY_ADMIN_PASSWORD", "admin"),
        ("token_endpoint", "https://x"),
        ("passwordless", "true"),
        ("password_reset_enabled", "yes"),
        ("x-api-key", "abcdef"),
        ("X-Auth-Token", "abc"),
        ("secret.key", "abc"),
        ("command", "redis-server --requirepass hunter2"),
        ("entrypoint", "sh -c 'echo $$PASSWORD'"),
        ("environment", "PASSWORD"),
        ("environment", "PASSWORD="),
        ("environment", "PASSWORD=\"\""),
        (
            "labels",
            "traefik.http.middlewares.a.basicauth.users=admin:$$apr1$$x",
        ),
        ("description", "Password: hunter2"),
        ("description", "password=hunter2"),
        ("url", "http://user:pass@host"),
        (
            "healthcheck",
            "mysqladmin ping -h localhost -u root -p$$MYSQL_ROOT_PASSWORD",
        ),
        ("test", "[\"CMD\", \"pg_isready\", \"-U\", \"postgres\"]"),
    ];
    for (k, v) in pairs {
        println!(
            "{k:>40} {v:<50} => {:?}",
            scan_pair(k, v).map(|h| h.to_string())
        );
    }
    for t in [
        "**Password:** hunter2",
        "- password: `hunter2`",
        "| password | hunter2 |",
        "PASSWORD = 'x' # toml",
        "token: abc, user: b",
        "echo password=$PASSWORD",
        "set -e; export AWS_SECRET_ACCESS_KEY=abc/def+ghi",
        "key: value",
        "The token=abc is wrong",
        "password=...",
        "<password>hunter2</password>",
        "  password: \"\"",
        "password: ''",
        "password: null",
        "db password: hunter2",
        "See https://example.com/reset?token=${TOKEN}",
        "https://example.com/cb?code=x&state=y&token=abc123def",
        "\"password\":\"hunter2\"",
        "Passwort: geheim",
        "clé: 🔑 password: ü",
        "password: ü",
    ] {
        let hits = scan_text(t);
        println!(
            "{t:<60} => {:?}",
            hits.iter()
                .map(|h| (h.to_string(), &t[h.offset..h.end()]))
                .collect::<Vec<_>>()
        );
    }
}
