//! Both directions for every kind: what must be flagged, and what must not.

mod common;

use common::*;
use platformctl_secrets::{SecretHit, SecretKind, scan_pair, scan_text, scan_value};

/// The flagged span of `input`.
fn span<'a>(input: &'a str, hit: &SecretHit) -> &'a str {
    &input[hit.offset..hit.end()]
}

#[track_caller]
fn assert_value_hit(value: &str, kind: &SecretKind, secret: &str) {
    let hit = scan_value(value).unwrap_or_else(|| panic!("not flagged: {value:?}"));
    assert_eq!(&hit.kind, kind, "{value:?}");
    assert_eq!(span(value, &hit), secret, "{value:?}");
}

#[track_caller]
fn assert_clean(value: &str) {
    assert_eq!(scan_value(value), None, "scan_value flagged {value:?}");
    assert_eq!(
        scan_pair("value", value),
        None,
        "scan_pair flagged {value:?}"
    );
    assert_eq!(scan_text(value), Vec::new(), "scan_text flagged {value:?}");
}

// ---------------------------------------------------------------- private keys

#[test]
fn flags_private_key_blocks() {
    for label in [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let block = pem_block(label);
        assert_value_hit(&block, &SecretKind::PrivateKey, &block);
        // Header alone (a Markdown line), and inside a YAML block scalar.
        let header = pem_header(label);
        assert_value_hit(&header, &SecretKind::PrivateKey, &header);
        let yaml = format!("key: |\n  {}\n", block.replace('\n', "\n  "));
        let hits = scan_text(&yaml);
        assert_eq!(hits.len(), 1, "{label}");
        assert_eq!(hits[0].kind, SecretKind::PrivateKey);
        assert!(span(&yaml, &hits[0]).starts_with(&header));
    }
    let putty = format!(
        "{}-Key-File-3: ssh-ed25519\nEncryption: none",
        cat(&["PuTTY", "-User"])
    );
    assert_eq!(scan_value(&putty).unwrap().kind, SecretKind::PrivateKey);
}

#[test]
fn does_not_flag_public_keys_and_certificates() {
    for label in [
        "CERTIFICATE",
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "PGP PUBLIC KEY BLOCK",
        "CERTIFICATE REQUEST",
    ] {
        assert_clean(&pem_block(label));
    }
    assert_clean(&format!(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} ops@example.com",
        rnd(3, 43, ALNUM)
    ));
    assert_clean("the key starts with BEGIN and ends with END");
}

// ---------------------------------------------------------------- known tokens

#[test]
fn flags_known_token_formats() {
    for (name, token) in known_tokens() {
        let kind = SecretKind::KnownToken { name };
        // For webhook URLs the secret is the path after the fixed part.
        let secret = match name {
            "Slack webhook URL" => token.split_once("/services/").unwrap().1,
            "Discord webhook URL" => token.rsplit_once('/').unwrap().1,
            _ => token.as_str(),
        };
        assert_value_hit(&token, &kind, secret);
        // Embedded in various syntaxes, whatever the key.
        for wrapped in [
            format!("Bearer {token}"),
            format!("\"{token}\""),
            format!("TOKEN={token}"),
            format!("--token={token} --verbose"),
            format!("`{token}`"),
        ] {
            assert_value_hit(&wrapped, &kind, secret);
            assert_eq!(
                scan_pair("description", &wrapped).map(|h| h.kind),
                Some(kind.clone())
            );
            let hits = scan_text(&wrapped);
            assert_eq!(hits.len(), 1, "{name}: {wrapped:?} -> {hits:?}");
            assert_eq!(span(&wrapped, &hits[0]), secret);
        }
    }
}

#[test]
fn token_under_credential_key_is_reported_as_the_token() {
    let token = cat(&["gh", "p_", &rnd(90, 36, ALNUM)]);
    let hit = scan_pair("GITHUB_TOKEN", &token).unwrap();
    assert_eq!(
        hit.kind,
        SecretKind::KnownToken {
            name: "GitHub personal access token"
        }
    );
    let text = format!("GITHUB_TOKEN={token}\n");
    let hits = scan_text(&text);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].kind, hit.kind);
}

#[test]
fn flags_http_authorization_headers() {
    let cred = rnd(91, 32, ALNUM);
    for text in [
        format!("curl -H \"Authorization: Bearer {cred}\" https://api.example.com"),
        format!("authorization: Basic {cred}"),
    ] {
        let hit = scan_value(&text).unwrap();
        assert_eq!(
            hit.kind,
            SecretKind::KnownToken {
                name: "HTTP Authorization header credential"
            }
        );
        assert_eq!(span(&text, &hit), cred);
    }
    assert_clean("curl -H \"Authorization: Bearer ${API_TOKEN}\" https://api.example.com");
    assert_clean("Authorization: Bearer xxxxxxxxxxxxxxxx");
}

#[test]
fn does_not_flag_token_lookalikes() {
    for v in [
        // Placeholders in documentation.
        cat(&["gh", "p_", &"x".repeat(36)]),
        cat(&["gh", "p_", &"X".repeat(40)]),
        cat(&["AK", "IA", "IOSFODNN7", "EXAMPLE"]),
        cat(&["AK", "IA", &"X".repeat(16)]),
        cat(&["sk", "-", &"x".repeat(48)]),
        // Too short, or prefix inside a longer word.
        cat(&["gh", "p_", "abc123"]),
        cat(&["gl", "pat-", "short"]),
        cat(&["AK", "IA", "SHORT"]),
        cat(&["x", "AK", "IA", &rnd(4, 16, UPPER_ALNUM)]),
        cat(&["AK", "IA", &rnd(5, 20, UPPER_ALNUM)]),
        // `sk-` / `hf_` / `npm_` inside ordinary names.
        "task-runner-for-the-internationalization-service".to_owned(),
        "disk-0123456789abcdef0123456789abcdef".to_owned(),
        cat(&["sk", "-internationalization-localization-v2"]),
        cat(&["use", "_hf_", &rnd(6, 34, ALNUM)]),
        cat(&["np", "m_config_cache_directory_for_the_build_step"]),
        cat(&["ts", "key-rotation-policy-document"]),
        "xoxo-hugs-and-kisses".to_owned(),
        "a JWT looks like eyJhbGciOi...".to_owned(),
        cat(&["ey", "Jabc.def.ghi"]),
        "SG.something.short".to_owned(),
    ] {
        assert_clean(&v);
    }
}

// ---------------------------------------------------------------- JWT

#[test]
fn flags_jwts() {
    let token = jwt(60);
    assert_value_hit(&token, &SecretKind::Jwt, &token);
    let header = format!("Bearer {token}");
    assert_value_hit(&header, &SecretKind::Jwt, &token);
    let url = format!("https://grafana.example.com/login?auth_token={token}&x=1");
    assert_value_hit(&url, &SecretKind::Jwt, &token);
}

#[test]
fn does_not_flag_jwt_lookalikes() {
    // Two segments only, and an unsigned token with an empty signature.
    let two = cat(&["ey", "JhbGciOiJIUzI1NiJ9.", "eyJzdWIiOiIxMjM0NTY3ODkwIn0"]);
    assert_clean(&two);
    assert_clean(&format!("{two}."));
}

// ---------------------------------------------------------------- URLs

#[test]
fn flags_url_credentials() {
    for (url, password) in [
        ("postgres://app:s3cr3t-Pa55@db:5432/app", "s3cr3t-Pa55"),
        (
            "postgresql://app:hunter2@db.internal/app?sslmode=require",
            "hunter2",
        ),
        ("mysql://root:changeme@mariadb:3306/", "changeme"),
        ("redis://:Zq8rT1vX@redis:6379/0", "Zq8rT1vX"),
        ("mongodb+srv://svc:p%40ss@cluster0.example.net/db", "p%40ss"),
        ("amqp://guest:guest@rabbitmq:5672/", "guest"),
        ("https://admin:admin@grafana.example.com/", "admin"),
        ("smtp://mailer:pa:ss@mail.example.com:587", "pa:ss"),
        ("jdbc:postgresql://u:pw123456@db/app", "pw123456"),
    ] {
        assert_value_hit(url, &SecretKind::UrlCredentials, password);
        let text = format!("DATABASE_URL=\"{url}\"");
        let hits = scan_text(&text);
        assert_eq!(hits.len(), 1, "{text}");
        assert_eq!(span(&text, &hits[0]), password);
    }
    // A token in the password position is reported as that token.
    let glpat = cat(&["gl", "pat-", &rnd(61, 20, ALNUM)]);
    let url = format!("https://oauth2:{glpat}@gitlab.example.com/group/repo.git");
    assert_eq!(
        scan_value(&url).unwrap().kind,
        SecretKind::KnownToken {
            name: "GitLab personal access token"
        }
    );
}

#[test]
fn does_not_flag_urls_without_passwords() {
    for url in [
        "https://example.com/path?query=1#frag",
        "https://user@example.com/",
        "ssh://git@github.com:22/acme/platform.git",
        "git@github.com:acme/platform.git",
        "postgres://app@db:5432/app",
        "postgres://app:@db:5432/app",
        "postgres://app:${POSTGRES_PASSWORD}@db:5432/app",
        "postgres://${DB_USER}:${DB_PASSWORD:-x}@db/app",
        "postgres://app:$DB_PASSWORD@db/app",
        "postgres://app:$${DB_PASSWORD}@db/app",
        "postgres://app:{{ .Values.pw }}@db/app",
        "postgres://app:<password>@db/app",
        "postgres://app:***@db/app",
        "postgres://%s:%s@%s/app",
        "http://localhost:8080/health",
        "http://[::1]:8080/",
        "https://registry.example.com:5000/v2/app/manifests/sha256:abc",
        "https://host:8443/path@v1",
        "docker://registry:5000/app@sha256:0123",
        "mailto:ops@example.com",
    ] {
        assert_clean(url);
    }
}

// ---------------------------------------------------------------- literals

#[test]
fn flags_literal_passwords_under_credential_keys() {
    for (key, value) in [
        ("password", "hunter2"),
        ("POSTGRES_PASSWORD", "s3cr3t"),
        ("MYSQL_ROOT_PASSWORD", "changeme"),
        ("db_password", "CHANGE_ME"),
        ("DB_PASS", "mydbpass"),
        ("DB_PWD", "mydbpass"),
        ("smtp.passwd", "mailer-pw"),
        ("adminPassword", "Adm1n!"),
        ("client_secret", "550e8400-e29b-41d4-a716-446655440000"),
        ("clientSecret", "whatever"),
        ("secret", "admin"),
        ("JWT_SECRET", "supersecretvalue"),
        ("SECRET_KEY", "django-insecure-abc"),
        ("SECRET_KEY_BASE", "0123456789abcdef0123456789abcdef"),
        ("api_key", "0123456789abcdef0123456789abcdef"),
        ("apiKey", "k-123"),
        ("APIKEY", "k-123"),
        ("access_key", "minioadmin"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "private_key",
            "0x4c0883a69102937d6231471b5dbb6204fe512961708279f7a3e8a1b4c2d3e4f5",
        ),
        ("token", "3f786850e387550fdab836ed7e6dc881de23001b"),
        ("GITEA_RUNNER_REGISTRATION_TOKEN", "abcdefabcdef"),
        ("auth_token", "t0k3n"),
        ("token_value", "t0k3n"),
        ("credentials", "admin:hunter2"),
        ("basic_auth", "admin:hunter2"),
        ("auth", "Zq8rT1vXk29LmN0p"),
        ("authorization", "Bearer abcdefgh12345678"),
        ("passphrase", "correct horse battery staple"),
        ("requirepass", "redis-pw"),
        ("services.db.environment.POSTGRES_PASSWORD", "hunter2"),
        ("password", "  'quoted'  "),
    ] {
        let hit = scan_pair(key, value).unwrap_or_else(|| panic!("not flagged: {key}: {value}"));
        assert_eq!(
            hit.kind,
            SecretKind::LiteralPassword {
                key: key.to_owned()
            },
            "{key}"
        );
        assert_eq!(span(value, &hit), value.trim().trim_matches('\''), "{key}");
        // The same pair written as YAML, as an env file line, as TOML. (In
        // free text an unquoted value after `: ` must be a single word:
        // `passphrase: correct horse …` reads as prose.)
        let mut texts = vec![format!("{key}=\"{value}\""), format!("{key} = \"{value}\"")];
        if !value.trim().contains(' ') {
            texts.push(format!("{key}: {value}\n"));
        }
        for text in texts {
            let hits = scan_text(&text);
            assert_eq!(hits.len(), 1, "{text:?} -> {hits:?}");
            // `authorization="Bearer …"` in text is caught as a header first.
            let header = SecretKind::KnownToken {
                name: "HTTP Authorization header credential",
            };
            assert!(
                matches!(hits[0].kind, SecretKind::LiteralPassword { .. })
                    || hits[0].kind == header,
                "{text:?} -> {hits:?}"
            );
        }
    }
}

#[test]
fn does_not_flag_references_paths_names_and_placeholders() {
    for (key, value) in [
        ("password", "${DB_PASSWORD}"),
        ("password", "${DB_PASSWORD:-x}"),
        ("password", "${DB_PASSWORD:?must be set}"),
        ("password", "$DB_PASSWORD"),
        ("POSTGRES_PASSWORD", "$${POSTGRES_PASSWORD}"),
        ("password", "{{ .Values.db.password }}"),
        ("password", "{{ secret \"db\" }}"),
        ("password", "DB_PASSWORD"),
        ("password", "POSTGRES_PASSWORD_FILE"),
        ("password", "/run/secrets/db_password"),
        ("password", "./secrets/db_password.txt"),
        ("password", "secrets/db_password.txt"),
        ("private_key", "tls.key"),
        ("private_key", "~/.ssh/id_ed25519"),
        ("password", "file:/run/secrets/db"),
        ("password", "env:DB_PASSWORD"),
        ("password", "vault:secret/data/db#password"),
        ("password", "op://Platform/Postgres/password"),
        ("token", "https://vault.example.com/v1/auth/token"),
        ("password", ""),
        ("password", "   "),
        ("password", "<redacted>"),
        ("password", "***"),
        ("password", "REDACTED"),
        ("password", "[hidden]"),
        ("password", "<your-password-here>"),
        ("token", "your-token-here"),
        ("password", "|"),
        ("enable_password", "true"),
        ("password", "false"),
        ("pass", "0"),
        ("token", "3600"),
        ("auth", "oidc"),
        ("auth", "basic"),
        ("credentials", "default"),
        ("authorization", "required"),
        // Keys that describe a credential rather than hold it.
        ("password_file", "/run/secrets/db"),
        ("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres"),
        ("password_path", "kv/app/db"),
        ("token_env", "GITEA_TOKEN"),
        ("secret_name", "db-credentials"),
        ("secretName", "db-credentials"),
        ("secret_ref", "vault/kv/app"),
        ("secretKeyRef", "db/password"),
        ("token_id", "root@pam!ci"),
        ("client_id", "platformctl"),
        ("access_key_id", "minio"),
        ("token_ttl", "1h"),
        ("token_type", "bearer"),
        ("auth_method", "oidc"),
        ("password_min_length", "12"),
        ("password_policy", "strong"),
        ("secrets", "db_password"),
        ("key", "app.kubernetes.io/name"),
        ("ssh_key", "ssh-ed25519 AAAAC3Nza ops@example"),
        ("pass_host_header", "yes"),
        (
            "password_hash",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        ),
        (
            "traefik.http.middlewares.auth.basicauth.users",
            "admin:$$apr1$$H6uskkkW$$IgXLP6ewTrSuBkTrqE8wj/",
        ),
        ("KEYCLOAK_ADMIN", "admin"),
        ("POSTGRES_USER", "app"),
    ] {
        assert_eq!(scan_pair(key, value), None, "{key}: {value}");
        let line = format!("{key}: {value}");
        assert_eq!(scan_text(&line), Vec::new(), "{line}");
    }
}

#[test]
fn flags_assignments_inside_values() {
    for value in [
        "POSTGRES_PASSWORD=hunter2",
        "redis-server --requirepass=hunter2 --appendonly yes",
        "host=db user=app password=hunter2 dbname=app",
        "Server=db;Database=app;User Id=sa;Password=Secr3t!;",
        "[client]\nuser = app\npassword = \"hunter2\"\n",
        "smtp:\n  host: mail\n  password: hunter2\n",
        "redis-server --requirepass hunter2 --appendonly yes",
        "app serve --db-password hunter2",
        "{\"password\":\"hunter2\"}",
    ] {
        let hit = scan_pair("environment", value).unwrap_or_else(|| panic!("{value:?}"));
        assert!(matches!(hit.kind, SecretKind::LiteralPassword { .. }));
        assert!(
            span(value, &hit).starts_with("hunter2") || span(value, &hit) == "Secr3t!",
            "{value:?}"
        );
    }
    for value in [
        "POSTGRES_PASSWORD=${POSTGRES_PASSWORD}",
        "POSTGRES_PASSWORD_FILE=/run/secrets/postgres",
        "redis-server --appendonly yes",
        "TZ=Europe/Berlin",
        "app --password-file /run/secrets/db",
        "app --password --stdin",
        "app --password \"${DB_PASSWORD}\"",
        "sh -c 'echo $$PASSWORD'",
        "mysqladmin ping -u root -p$$MYSQL_ROOT_PASSWORD",
    ] {
        assert_eq!(scan_pair("environment", value), None, "{value:?}");
    }
}

// ---------------------------------------------------------------- ordinary values

#[test]
fn does_not_flag_ordinary_manifest_values() {
    let sha256 = rnd(70, 64, HEX);
    let git_sha = rnd(71, 40, HEX);
    let values = [
        // UUIDs v4.
        "550e8400-e29b-41d4-a716-446655440000".to_owned(),
        "f47ac10b-58cc-4372-a567-0e02b2c3d479".to_owned(),
        "F47AC10B-58CC-4372-A567-0E02B2C3D479".to_owned(),
        // Digests, SHAs, image references.
        format!("sha256:{sha256}"),
        git_sha.clone(),
        format!("ghcr.io/acme/api@sha256:{sha256}"),
        format!("registry.example.com:5000/team/app:1.2.3@sha256:{sha256}"),
        "docker.io/library/redis:7.2-alpine".to_owned(),
        "minio/minio:RELEASE.2024-01-16T16-07-38Z".to_owned(),
        "RELEASE.2024-01-16T16-07-38Z".to_owned(),
        "quay.io/keycloak/keycloak:24.0.1".to_owned(),
        // Dates and versions.
        "2024-01-16".to_owned(),
        "2024-01-16T16:07:38Z".to_owned(),
        "2024-01-16T16:07:38.123+01:00".to_owned(),
        "v1.2.3".to_owned(),
        "1.2.3-rc.1+build.5".to_owned(),
        // Env var names, interpolations, paths.
        "POSTGRES_PASSWORD".to_owned(),
        "${DB_PASSWORD}".to_owned(),
        "${VAR:-x}".to_owned(),
        "${POSTGRES_PASSWORD:?set it in .env}".to_owned(),
        "/run/secrets/db_password".to_owned(),
        "./data/postgres:/var/lib/postgresql/data:rw".to_owned(),
        "C:\\ProgramData\\app\\config.yml".to_owned(),
        // URLs, hosts, ports, misc.
        "https://auth.example.com/realms/platform/.well-known/openid-configuration".to_owned(),
        "traefik.http.routers.api.rule=Host(`api.example.com`)".to_owned(),
        "0.0.0.0:8080:80".to_owned(),
        "127.0.0.1".to_owned(),
        "Europe/Berlin".to_owned(),
        "CMD-SHELL pg_isready -U postgres".to_owned(),
        "rotates the postgres password weekly".to_owned(),
        "The password is stored in Vault; see secret_ref.".to_owned(),
        "Use a token from the password manager.".to_owned(),
        // Random-looking but not a credential format, under a neutral key.
        rnd(72, 44, ALNUM),
        format!("{}==", rnd(73, 42, ALNUM)),
        "non-ASCII: Passwort vergessen? Schlüssel ✓ 🔑".to_owned(),
    ];
    for v in &values {
        assert_clean(v);
    }
    for (key, v) in [
        ("image", values[5].as_str()),
        ("commit", git_sha.as_str()),
        ("id", values[0].as_str()),
        ("digest", values[3].as_str()),
        ("description", "rotates the postgres password weekly"),
        ("description", "Set the token: it is read from the vault."),
        ("tag", "RELEASE.2024-01-16T16-07-38Z"),
    ] {
        assert_eq!(scan_pair(key, v), None, "{key}: {v}");
    }
}

// ---------------------------------------------------------------- free text

#[test]
fn scans_markdown_workplans() {
    let token = cat(&["gh", "p_", &rnd(80, 36, ALNUM)]);
    let text = format!(
        "# Workplan: rotate the postgres password\n\
         \n\
         The password: see the runbook. Rotate the token: weekly, or on leak.\n\
         Set `POSTGRES_PASSWORD_FILE=/run/secrets/postgres` and never `POSTGRES_PASSWORD=hunter2`.\n\
         \n\
         ```yaml\n\
         services:\n\
         \x20 db:\n\
         \x20   image: postgres:16@sha256:{sha}\n\
         \x20   environment:\n\
         \x20     POSTGRES_PASSWORD: changeme\n\
         \x20     POSTGRES_USER: app\n\
         \x20     GITHUB_TOKEN: {token}\n\
         \x20     DB_URL: postgres://app:${{POSTGRES_PASSWORD}}@db/app\n\
         ```\n\
         Password: required\n",
        sha = rnd(81, 64, HEX),
    );
    let hits = scan_text(&text);
    let spans: Vec<&str> = hits.iter().map(|h| span(&text, h)).collect();
    assert_eq!(spans, ["hunter2", "changeme", token.as_str()]);
    assert!(hits.windows(2).all(|w| w[0].end() <= w[1].offset));
    assert_eq!(
        hits[2].kind,
        SecretKind::KnownToken {
            name: "GitHub personal access token"
        }
    );
}

#[test]
fn scan_text_prose_is_clean() {
    for text in [
        "We rotate the postgres password weekly.",
        "The password: see the runbook.",
        "Password: must be at least 16 characters long",
        "Token: none yet",
        "Secret: TBD",
        "1. Create the token: Settings → Developer settings → Tokens.",
        "if password == expected { ok }",
        "Use `password_file: /run/secrets/db` instead of a literal.",
        "`DB_PASSWORD=${DB_PASSWORD:-x}` is interpolated by compose.",
        "auth: oidc # via keycloak",
    ] {
        assert_eq!(scan_text(text), Vec::new(), "{text}");
    }
}

#[test]
fn scan_text_markdown_shapes() {
    for (text, secret) in [
        ("**Password:** hunter2", "hunter2"),
        ("**Password**: hunter2", "hunter2"),
        ("- password: `hunter2`", "hunter2"),
        ("{\"password\":\"hunter2\"}", "hunter2"),
        ("PASSWORD = 'x' # one character is still a password", "x"),
        ("> # password: hunter2", "hunter2"),
    ] {
        let hits = scan_text(text);
        assert_eq!(hits.len(), 1, "{text}");
        assert_eq!(span(text, &hits[0]), secret, "{text}");
    }
    // CLI flags with a separate argument are only read inside values: in
    // prose `--password` is usually followed by an English word.
    assert_eq!(scan_text("use --password to set it"), Vec::new());
    assert!(scan_pair("command", "redis-server --requirepass hunter2").is_some());
}

#[test]
fn weak_keys_need_credential_shaped_values() {
    for v in [
        "oidc",
        "ldap:ou=people,dc=example",
        "google:profile/default",
        "none",
        "basic",
    ] {
        assert_eq!(scan_pair("auth", v), None, "{v}");
    }
    for v in [
        "admin:hunter2",
        "Bearer abcdef1234567890",
        "changeme",
        "Zq8rT1vXk29LmN0p",
    ] {
        assert!(scan_pair("auth", v).is_some(), "{v}");
    }
    // One `x` may be a password; a run of them is a placeholder.
    assert!(scan_pair("password", "x").is_some());
    assert_eq!(scan_pair("password", "xxx"), None);
}
