//! Every rule of the reference grammar, accepted and rejected, and the
//! normalisation table.

use std::collections::HashSet;

use platformctl_imageref::{Digest, ErrorKind, ImageRef, MAX_REFERENCE_LEN};

const H64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn ok(s: &str) -> ImageRef {
    match ImageRef::parse(s) {
        Ok(r) => r,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

/// The error kind and offset for an input that must be rejected.
fn bad(s: &str) -> (ErrorKind, usize) {
    match ImageRef::parse(s) {
        Ok(r) => panic!("{s:?} should be rejected, parsed as {r:?}"),
        Err(e) => {
            assert!(
                e.offset() <= s.len(),
                "{s:?}: offset {} past end",
                e.offset()
            );
            assert!(
                s.is_char_boundary(e.offset()),
                "{s:?}: offset not on boundary"
            );
            (e.kind().clone(), e.offset())
        }
    }
}

/// input, registry, repository, tag, normalized, familiar
type Row = (
    String,
    &'static str,
    &'static str,
    Option<&'static str>,
    String,
    String,
);

#[test]
fn normalisation_table() {
    let d = format!("sha256:{H64}");
    let table: Vec<Row> = vec![
        (
            "redis".into(),
            "docker.io",
            "library/redis",
            None,
            "docker.io/library/redis:latest".into(),
            "redis:latest".into(),
        ),
        (
            "redis:7".into(),
            "docker.io",
            "library/redis",
            Some("7"),
            "docker.io/library/redis:7".into(),
            "redis:7".into(),
        ),
        (
            "library/redis:7".into(),
            "docker.io",
            "library/redis",
            Some("7"),
            "docker.io/library/redis:7".into(),
            "redis:7".into(),
        ),
        (
            "docker.io/library/redis:7".into(),
            "docker.io",
            "library/redis",
            Some("7"),
            "docker.io/library/redis:7".into(),
            "redis:7".into(),
        ),
        (
            "docker.io/redis:7".into(),
            "docker.io",
            "library/redis",
            Some("7"),
            "docker.io/library/redis:7".into(),
            "redis:7".into(),
        ),
        (
            "index.docker.io/library/redis:7".into(),
            "docker.io",
            "library/redis",
            Some("7"),
            "docker.io/library/redis:7".into(),
            "redis:7".into(),
        ),
        (
            "index.docker.io/redis".into(),
            "docker.io",
            "library/redis",
            None,
            "docker.io/library/redis:latest".into(),
            "redis:latest".into(),
        ),
        (
            "minio/minio:RELEASE.2024-01-16T16-07-38Z".into(),
            "docker.io",
            "minio/minio",
            Some("RELEASE.2024-01-16T16-07-38Z"),
            "docker.io/minio/minio:RELEASE.2024-01-16T16-07-38Z".into(),
            "minio/minio:RELEASE.2024-01-16T16-07-38Z".into(),
        ),
        (
            "ghcr.io/immich-app/immich-server:v1.119.0".into(),
            "ghcr.io",
            "immich-app/immich-server",
            Some("v1.119.0"),
            "ghcr.io/immich-app/immich-server:v1.119.0".into(),
            "ghcr.io/immich-app/immich-server:v1.119.0".into(),
        ),
        (
            "lscr.io/linuxserver/sonarr:4.0.10".into(),
            "lscr.io",
            "linuxserver/sonarr",
            Some("4.0.10"),
            "lscr.io/linuxserver/sonarr:4.0.10".into(),
            "lscr.io/linuxserver/sonarr:4.0.10".into(),
        ),
        (
            format!("127.0.0.1:5000/app:1@{d}"),
            "127.0.0.1:5000",
            "app",
            Some("1"),
            format!("127.0.0.1:5000/app:1@{d}"),
            format!("127.0.0.1:5000/app:1@{d}"),
        ),
        (
            format!("127.0.0.1:5000/app@{d}"),
            "127.0.0.1:5000",
            "app",
            None,
            format!("127.0.0.1:5000/app@{d}"),
            format!("127.0.0.1:5000/app@{d}"),
        ),
        (
            format!("redis@{d}"),
            "docker.io",
            "library/redis",
            None,
            format!("docker.io/library/redis@{d}"),
            format!("redis@{d}"),
        ),
        (
            "localhost/app".into(),
            "localhost",
            "app",
            None,
            "localhost/app:latest".into(),
            "localhost/app:latest".into(),
        ),
        (
            "localhost:5000/team/app:2".into(),
            "localhost:5000",
            "team/app",
            Some("2"),
            "localhost:5000/team/app:2".into(),
            "localhost:5000/team/app:2".into(),
        ),
        (
            "quay.io/prometheus/node-exporter:v1.8.2".into(),
            "quay.io",
            "prometheus/node-exporter",
            Some("v1.8.2"),
            "quay.io/prometheus/node-exporter:v1.8.2".into(),
            "quay.io/prometheus/node-exporter:v1.8.2".into(),
        ),
        (
            "gcr.io/cadvisor/cadvisor:v0.49.1".into(),
            "gcr.io",
            "cadvisor/cadvisor",
            Some("v0.49.1"),
            "gcr.io/cadvisor/cadvisor:v0.49.1".into(),
            "gcr.io/cadvisor/cadvisor:v0.49.1".into(),
        ),
        (
            "[::1]:5000/x:y".into(),
            "[::1]:5000",
            "x",
            Some("y"),
            "[::1]:5000/x:y".into(),
            "[::1]:5000/x:y".into(),
        ),
        (
            "[fe80::1]/x".into(),
            "[fe80::1]",
            "x",
            None,
            "[fe80::1]/x:latest".into(),
            "[fe80::1]/x:latest".into(),
        ),
        (
            "Foo/bar".into(),
            "Foo",
            "bar",
            None,
            "Foo/bar:latest".into(),
            "Foo/bar:latest".into(),
        ),
        (
            "docker.io/library/a/b:1".into(),
            "docker.io",
            "library/a/b",
            Some("1"),
            "docker.io/library/a/b:1".into(),
            "library/a/b:1".into(),
        ),
        (
            "docker.io/library".into(),
            "docker.io",
            "library/library",
            None,
            "docker.io/library/library:latest".into(),
            "library:latest".into(),
        ),
        (
            // No `/`, so `localhost` is the path and `5000` the tag.
            "localhost:5000".into(),
            "docker.io",
            "library/localhost",
            Some("5000"),
            "docker.io/library/localhost:5000".into(),
            "localhost:5000".into(),
        ),
        (
            // Docker's short form would read back as registry `foo.bar`.
            "docker.io/foo.bar/baz:1".into(),
            "docker.io",
            "foo.bar/baz",
            Some("1"),
            "docker.io/foo.bar/baz:1".into(),
            "docker.io/foo.bar/baz:1".into(),
        ),
        (
            "docker.io/localhost/baz".into(),
            "docker.io",
            "localhost/baz",
            None,
            "docker.io/localhost/baz:latest".into(),
            "docker.io/localhost/baz:latest".into(),
        ),
        (
            "registry.example.com:443/a/b/c:1.0-rc.1".into(),
            "registry.example.com:443",
            "a/b/c",
            Some("1.0-rc.1"),
            "registry.example.com:443/a/b/c:1.0-rc.1".into(),
            "registry.example.com:443/a/b/c:1.0-rc.1".into(),
        ),
    ];
    for (input, registry, repository, tag, normalized, familiar) in table {
        let r = ok(&input);
        assert_eq!(r.original(), input);
        assert_eq!(r.registry(), registry, "{input}");
        assert_eq!(r.repository(), repository, "{input}");
        assert_eq!(r.name(), format!("{registry}/{repository}"), "{input}");
        assert_eq!(r.tag(), tag, "{input}");
        assert_eq!(r.normalized(), normalized, "{input}");
        assert_eq!(r.to_string(), normalized, "{input}");
        assert_eq!(r.familiar(), familiar, "{input}");
        assert_eq!(ok(&normalized), r, "{input}: normalized parses back");
        assert_eq!(ok(&familiar), r, "{input}: familiar parses back");
    }
}

#[test]
fn same_image_written_differently_is_equal() {
    let forms = [
        "redis",
        "redis:latest",
        "library/redis",
        "library/redis:latest",
        "docker.io/redis",
        "docker.io/library/redis",
        "docker.io/library/redis:latest",
        "index.docker.io/library/redis:latest",
        "index.docker.io/redis",
    ];
    let refs: Vec<ImageRef> = forms.iter().map(|s| ok(s)).collect();
    let set: HashSet<&ImageRef> = refs.iter().collect();
    assert_eq!(set.len(), 1);
    for r in &refs {
        assert_eq!(r, &refs[0]);
        assert_eq!(r.cmp(&refs[0]), std::cmp::Ordering::Equal);
    }
    // Originals are kept though.
    assert_eq!(refs[3].original(), "library/redis:latest");
}

#[test]
fn different_images_are_not_equal() {
    let distinct = [
        "redis:7",
        "redis:7.0",
        "redis",
        "bitnami/redis:7",
        "ghcr.io/library/redis:7",
        "ghcr.io/redis:7",
        "localhost/redis:7",
        "localhost:5000/redis:7",
        "127.0.0.1:5000/redis:7",
        "Docker.io/library/redis:7",
        "GHCR.io/redis:7",
        // Tags are case-sensitive.
        "redis:V7",
    ];
    let refs: Vec<ImageRef> = distinct.iter().map(|s| ok(s)).collect();
    let set: HashSet<&ImageRef> = refs.iter().collect();
    assert_eq!(set.len(), distinct.len());
    // A digest, with or without a tag, is a different reference.
    let d = format!("sha256:{H64}");
    let by_digest = ok(&format!("redis@{d}"));
    let both = ok(&format!("redis:7@{d}"));
    assert_ne!(by_digest, both);
    assert_ne!(both, ok("redis:7"));
    assert_ne!(by_digest, ok("redis"));
    assert_eq!(by_digest.digest(), both.digest());
}

#[test]
fn tag_and_digest_accessors() {
    let d = format!("sha256:{H64}");
    let r = ok("redis");
    assert_eq!(r.tag(), None);
    assert!(r.tag_is_implied());
    assert_eq!(r.effective_tag(), Some("latest"));
    assert_eq!(r.digest(), None);

    let r = ok("redis:latest");
    assert_eq!(r.tag(), Some("latest"));
    assert!(!r.tag_is_implied());

    let r = ok(&format!("redis@{d}"));
    assert_eq!(r.tag(), None);
    assert!(!r.tag_is_implied());
    assert_eq!(r.effective_tag(), None);
    assert_eq!(r.digest().map(Digest::to_string), Some(d.clone()));

    let r = ok(&format!("ghcr.io/a/b:1.2@{d}"));
    assert_eq!(r.tag(), Some("1.2"));
    assert_eq!(r.effective_tag(), Some("1.2"));
    assert_eq!(r.digest().unwrap().algorithm(), "sha256");
    assert_eq!(r.digest().unwrap().hex(), H64);
    assert_eq!(r.normalized(), format!("ghcr.io/a/b:1.2@{d}"));
}

#[test]
fn engine_answers() {
    // RepoTags, RepoDigests and Config.Image as the engine reports them.
    let d = format!("sha256:{H64}");
    assert_eq!(ok("redis:7"), ok("docker.io/library/redis:7"));
    let rd = ok(&format!("redis@{d}"));
    assert_eq!(rd.name(), "docker.io/library/redis");
    let rd = ok(&format!("127.0.0.1:5000/app@{d}"));
    assert_eq!(rd.name(), "127.0.0.1:5000/app");
    assert!(rd.same_repository(&ok("127.0.0.1:5000/app:1")));
}

#[test]
fn same_repository() {
    assert!(ok("redis:7").same_repository(&ok("docker.io/library/redis:6")));
    assert!(ok("redis").same_repository(&ok(&format!("redis@sha256:{H64}"))));
    assert!(ok("minio/minio:a").same_repository(&ok("index.docker.io/minio/minio:b")));
    assert!(!ok("redis:7").same_repository(&ok("bitnami/redis:7")));
    assert!(!ok("redis:7").same_repository(&ok("ghcr.io/library/redis:7")));
    assert!(!ok("localhost/app").same_repository(&ok("localhost:5000/app")));
    assert!(!ok("a/b").same_repository(&ok("a/b/c")));
}

#[test]
fn familiar_forms() {
    let d = format!("sha256:{H64}");
    for (input, familiar, familiar_name) in [
        ("docker.io/library/redis:7", "redis:7".to_owned(), "redis"),
        ("redis", "redis:latest".to_owned(), "redis"),
        (
            "docker.io/minio/minio:1",
            "minio/minio:1".to_owned(),
            "minio/minio",
        ),
        ("ghcr.io/a/b:1", "ghcr.io/a/b:1".to_owned(), "ghcr.io/a/b"),
        (
            &format!("docker.io/library/redis@{d}"),
            format!("redis@{d}"),
            "redis",
        ),
        (
            "docker.io/library/a/b",
            "library/a/b:latest".to_owned(),
            "library/a/b",
        ),
        (
            "docker.io/a.b/c",
            "docker.io/a.b/c:latest".to_owned(),
            "docker.io/a.b/c",
        ),
        ("docker.io/a.b", "a.b:latest".to_owned(), "a.b"),
        ("index.docker.io/x/y", "x/y:latest".to_owned(), "x/y"),
    ] {
        let r = ok(input);
        assert_eq!(r.familiar(), familiar, "{input}");
        assert_eq!(r.familiar_name(), familiar_name, "{input}");
        assert_eq!(ok(&familiar), r, "{input}");
    }
}

#[test]
fn domain_detection() {
    // Before the first `/`: `.`, `:`, `localhost` or uppercase make a registry.
    assert_eq!(ok("a.b/c").registry(), "a.b");
    assert_eq!(ok("a:1/c").registry(), "a:1");
    assert_eq!(ok("localhost/c").registry(), "localhost");
    assert_eq!(ok("Foo/bar").registry(), "Foo");
    assert_eq!(ok("fOO/bar").registry(), "fOO");
    assert_eq!(ok("LOCALHOST/bar").registry(), "LOCALHOST");
    // Otherwise it is a path component on docker.io.
    assert_eq!(ok("foo/bar").registry(), "docker.io");
    assert_eq!(ok("foo/bar").repository(), "foo/bar");
    assert_eq!(ok("localhostx/bar").registry(), "docker.io");
    assert_eq!(ok("local-host/bar").registry(), "docker.io");
    assert_eq!(ok("foo_bar/baz").repository(), "foo_bar/baz");
    // Without a `/` there is no registry, even for `a.b` or `localhost`.
    assert_eq!(ok("a.b").registry(), "docker.io");
    assert_eq!(ok("a.b").repository(), "library/a.b");
    assert_eq!(ok("localhost").repository(), "library/localhost");
    // `library/` only on docker.io.
    assert_eq!(ok("ghcr.io/redis").repository(), "redis");
    assert_eq!(ok("localhost/redis").repository(), "redis");
    assert_eq!(ok("docker.io.example.com/redis").repository(), "redis");
}

#[test]
fn domain_grammar_accepted() {
    for s in [
        "a.b/c",
        "a-b.c/d",
        "a--b.c/d",
        "1.2.3.4/x",
        "127.0.0.1:5000/x",
        "host:0/x",
        "host:65535/x",
        "sub.domain.example.com:8080/a/b",
        "EXAMPLE.COM/x",
        "x.Y-z/a",
        "[::1]/x",
        "[::]/x",
        "[::1]:5000/x",
        "[2001:DB8::1]:443/x",
        "[fe80::a]/x",
        "a.b-1.c2/x",
    ] {
        ok(s);
    }
}

#[test]
fn domain_grammar_rejected() {
    use ErrorKind::*;
    assert_eq!(bad("-a.b/c"), (RegistryComponentEdge, 0));
    assert_eq!(bad("a-.b/c"), (RegistryComponentEdge, 1));
    assert_eq!(bad("a.-b/c"), (RegistryComponentEdge, 2));
    assert_eq!(bad("a.b-/c"), (RegistryComponentEdge, 3));
    assert_eq!(bad("a..b/c"), (EmptyRegistryComponent, 2));
    assert_eq!(bad(".a/c"), (EmptyRegistryComponent, 0));
    assert_eq!(bad("a./c"), (EmptyRegistryComponent, 2));
    assert_eq!(bad(":5000/c"), (EmptyRegistryComponent, 0));
    assert_eq!(bad("a.:5000/c"), (EmptyRegistryComponent, 2));
    assert_eq!(bad("a_b.c/d"), (InvalidRegistryCharacter('_'), 1));
    assert_eq!(bad("a.b!/d"), (InvalidRegistryCharacter('!'), 3));
    assert_eq!(bad("Foo_/bar"), (InvalidRegistryCharacter('_'), 3));
    assert_eq!(bad("a.b:/c"), (InvalidPort, 4));
    assert_eq!(bad("a.b:50a/c"), (InvalidPort, 6));
    assert_eq!(bad("a.b:5:5/c"), (InvalidPort, 5));
    assert_eq!(bad("a:b/c"), (InvalidPort, 2));
    assert_eq!(bad("localhost:/x"), (InvalidPort, 10));
    assert_eq!(bad("[::1/x"), (InvalidIpv6, 4));
    assert_eq!(bad("[]:5000/x"), (InvalidIpv6, 1));
    assert_eq!(bad("[::g]:5000/x"), (InvalidIpv6, 3));
    assert_eq!(bad("[::1]x:5/x"), (InvalidRegistryCharacter('x'), 5));
    assert_eq!(bad("[::1]:/x"), (InvalidPort, 6));
    assert_eq!(bad("a.[::1]/x"), (InvalidRegistryCharacter('['), 2));
    // A registry with nothing after it.
    assert_eq!(bad("ghcr.io/"), (EmptyPathComponent, 8));
    assert_eq!(bad("ghcr.io/:1"), (EmptyPathComponent, 8));
    // IPv6 needs a `/` and a path too.
    assert!(ImageRef::parse("[::1]:5000").is_err());
}

#[test]
fn path_grammar_accepted() {
    for s in [
        "a",
        "0",
        "a0",
        "a.b",
        "a_b",
        "a__b",
        "a-b",
        "a--b",
        "a---------b",
        "a.b_c__d-e--f",
        "a/b/c/d/e",
        "a1/b2.c3/d_4",
        "x.y/z",
    ] {
        ok(s);
        ok(&format!("ghcr.io/{s}"));
    }
}

#[test]
fn path_grammar_rejected() {
    use ErrorKind::*;
    assert_eq!(bad("Redis"), (Uppercase, 0));
    assert_eq!(bad("redIs:7"), (Uppercase, 3));
    assert_eq!(bad("library/Redis"), (Uppercase, 8));
    assert_eq!(bad("ghcr.io/Owner/app"), (Uppercase, 8));
    assert_eq!(bad("ghcr.io/owner/apP"), (Uppercase, 16));
    assert_eq!(bad("Foo/Bar"), (Uppercase, 4));
    assert_eq!(bad("a_B"), (Uppercase, 2));
    assert_eq!(bad("a.b/c_D"), (Uppercase, 6));
    assert_eq!(bad(".a"), (MisplacedSeparator, 0));
    assert_eq!(bad("_a"), (MisplacedSeparator, 0));
    assert_eq!(bad("-a"), (MisplacedSeparator, 0));
    assert_eq!(bad("a."), (MisplacedSeparator, 1));
    assert_eq!(bad("a_"), (MisplacedSeparator, 1));
    assert_eq!(bad("a__"), (MisplacedSeparator, 1));
    assert_eq!(bad("a--"), (MisplacedSeparator, 1));
    assert_eq!(bad("a..b"), (MisplacedSeparator, 2));
    assert_eq!(bad("a___b"), (MisplacedSeparator, 3));
    assert_eq!(bad("a._b"), (MisplacedSeparator, 2));
    assert_eq!(bad("a_.b"), (MisplacedSeparator, 2));
    assert_eq!(bad("a-.b"), (MisplacedSeparator, 2));
    assert_eq!(bad("a-_b"), (MisplacedSeparator, 2));
    assert_eq!(bad("a.-b"), (MisplacedSeparator, 2));
    assert_eq!(bad("a/.b"), (MisplacedSeparator, 2));
    assert_eq!(bad("x/a./b"), (MisplacedSeparator, 3));
    // Before the first `/`, a `.` makes it a registry.
    assert_eq!(bad("a./b"), (ErrorKind::EmptyRegistryComponent, 2));
    assert_eq!(bad("a//b"), (EmptyPathComponent, 2));
    assert_eq!(bad("/a"), (EmptyPathComponent, 0));
    assert_eq!(bad("a/"), (EmptyPathComponent, 2));
    assert_eq!(bad("a/b/"), (EmptyPathComponent, 4));
    assert_eq!(bad("a!b"), (InvalidPathCharacter('!'), 1));
    assert_eq!(bad("a/b:c/d"), (InvalidPathCharacter(':'), 3));
    assert_eq!(bad("a+b"), (InvalidPathCharacter('+'), 1));
    assert_eq!(bad("a\0b"), (InvalidPathCharacter('\0'), 1));
    assert_eq!(bad("a[b]"), (InvalidPathCharacter('['), 1));
}

#[test]
fn tag_grammar() {
    use ErrorKind::*;
    for t in [
        "7", "_", "latest", "V1", "1.2.3", "1-2_3.4", "a..--__b", "A_b-C.d", "_x", "9.",
    ] {
        assert_eq!(ok(&format!("redis:{t}")).tag(), Some(t));
    }
    let longest = "t".repeat(128);
    assert_eq!(
        ok(&format!("redis:{longest}")).tag(),
        Some(longest.as_str())
    );
    assert_eq!(
        bad(&format!("redis:{longest}x")),
        (TooLongTag { max: 128 }, 134)
    );
    assert_eq!(bad("redis:"), (EmptyTag, 6));
    assert_eq!(bad("redis:@sha256:x"), (EmptyTag, 6));
    assert_eq!(bad("redis:.1"), (InvalidTagStart('.'), 6));
    assert_eq!(bad("redis:-1"), (InvalidTagStart('-'), 6));
    assert_eq!(bad("redis:1+2"), (InvalidTagCharacter('+'), 7));
    assert_eq!(bad("redis:1:2"), (InvalidPathCharacter(':'), 5));
    assert_eq!(bad("redis:a!"), (InvalidTagCharacter('!'), 7));
}

#[test]
fn digest_grammar() {
    use ErrorKind::*;
    let h128 = H64.repeat(2);
    let h96 = &h128[..96];
    ok(&format!("redis@sha256:{H64}"));
    ok(&format!("redis@sha384:{h96}"));
    ok(&format!("redis@sha512:{h128}"));
    // Well-formed digests of algorithms the engine does not support are
    // refused, as `docker pull` refuses them (go-digest's ErrDigestUnsupported).
    assert_eq!(
        bad(&format!("redis@blake3:{}", &H64[..32])),
        (UnsupportedDigestAlgorithm, 6)
    );
    assert_eq!(
        bad(&format!(
            "redis@multihash+base58:{}",
            &H64[..40].to_uppercase()
        )),
        (UnsupportedDigestAlgorithm, 6)
    );
    assert_eq!(
        bad(&format!("redis:7@a.b_c-d+e:{H64}")),
        (UnsupportedDigestAlgorithm, 8)
    );

    assert_eq!(bad("redis@"), (EmptyDigest, 6));
    assert_eq!(bad("redis:7@"), (EmptyDigest, 8));
    assert_eq!(bad("redis@sha256"), (MissingDigestSeparator, 12));
    assert_eq!(
        bad("redis@sha256:abc"),
        (
            DigestLength {
                algorithm: "sha256",
                expected: 64,
                found: 3
            },
            16
        )
    );
    assert_eq!(
        bad(&format!("redis@sha256:{H64}0")).0,
        DigestLength {
            algorithm: "sha256",
            expected: 64,
            found: 65
        }
    );
    assert_eq!(
        bad(&format!("redis@sha512:{H64}")).0,
        DigestLength {
            algorithm: "sha512",
            expected: 128,
            found: 64
        }
    );
    assert_eq!(
        bad(&format!("redis@sha256:{}", H64.to_uppercase())),
        (
            UppercaseDigestHex {
                algorithm: "sha256"
            },
            23
        )
    );
    assert_eq!(
        bad(&format!("redis@SHA256:{H64}")),
        (UppercaseDigestAlgorithm, 6)
    );
    assert_eq!(
        bad(&format!("redis@sha256:{}g", &H64[..63])),
        (InvalidDigestCharacter('g'), 76)
    );
    assert_eq!(
        bad(&format!("redis@blake3:{}", &H64[..31])).0,
        DigestTooShort { min: 32, found: 31 }
    );
    assert_eq!(bad(&format!("redis@1a:{H64}")), (InvalidDigestAlgorithm, 6));
    assert_eq!(bad(&format!("redis@:{H64}")), (InvalidDigestAlgorithm, 6));
    assert_eq!(bad(&format!("redis@a-:{H64}")), (InvalidDigestAlgorithm, 8));
    assert_eq!(
        bad(&format!("redis@a-1:{H64}")),
        (InvalidDigestAlgorithm, 8)
    );
    assert_eq!(
        bad(&format!("redis@sha256:{H64}@x")).0,
        InvalidDigestCharacter('@')
    );
    assert_eq!(
        bad(&format!("redis@sha256:{H64}:x")).0,
        InvalidDigestCharacter(':')
    );
    assert_eq!(bad(&format!("@sha256:{H64}")), (MissingRepository, 0));
    assert_eq!(bad(":7"), (MissingRepository, 0));
}

#[test]
fn image_ids_are_not_references() {
    assert_eq!(bad(&format!("sha256:{H64}")), (ErrorKind::ImageId, 0));
    assert_eq!(bad(H64), (ErrorKind::ImageId, 0));
    // Docker's identifier is lowercase hex; in uppercase it is a repository
    // name, and an invalid one.
    assert_eq!(bad(&H64.to_uppercase()).0, ErrorKind::Uppercase);
    let e = ImageRef::parse(H64).unwrap_err();
    assert!(
        e.to_string().contains("image ID, not an image reference"),
        "{e}"
    );
    // Anything more than the bare ID is a reference, as Docker reads it.
    assert_eq!(
        ok(&format!("{H64}:1")).repository(),
        format!("library/{H64}")
    );
    assert_eq!(ok(&format!("x/{H64}")).repository(), format!("x/{H64}"));
    assert_eq!(ok(&H64[..63]).tag(), None);
    assert_eq!(
        ok(&format!("sha256:{}", &H64[..12])).tag(),
        Some(&H64[..12])
    );
    assert_eq!(
        ok(&format!("docker.io/library/sha256:{H64}")).tag(),
        Some(H64)
    );
}

#[test]
fn whitespace_and_non_ascii() {
    use ErrorKind::*;
    assert_eq!(bad(""), (Empty, 0));
    assert_eq!(bad(" "), (Whitespace, 0));
    assert_eq!(bad(" redis"), (Whitespace, 0));
    assert_eq!(bad("redis "), (Whitespace, 5));
    assert_eq!(bad("redis\n"), (Whitespace, 5));
    assert_eq!(bad("redis:\t7"), (Whitespace, 6));
    assert_eq!(bad("re dis"), (Whitespace, 2));
    assert_eq!(bad("redis\u{a0}:7"), (Whitespace, 5));
    assert_eq!(bad("redis\u{3000}"), (Whitespace, 5));
    assert_eq!(bad("rédis"), (NonAscii, 1));
    assert_eq!(bad("redis:7€"), (NonAscii, 7));
    assert_eq!(bad("ghcr.io/🦀"), (NonAscii, 8));
}

#[test]
fn length_limits() {
    use ErrorKind::*;
    // The repository path counts, the registry does not (Docker since
    // distribution/reference v0.6.0). `library/` is 8 bytes, so 247 is the
    // longest official name.
    let p = "a".repeat(247);
    assert_eq!(ok(&p).repository().len(), 255);
    assert_eq!(
        bad(&format!("{p}a")),
        (NameTooLong { max: 255, len: 256 }, 247)
    );
    let p = format!("a/{}", "b".repeat(253));
    assert_eq!(ok(&p).repository().len(), 255);
    assert_eq!(bad(&format!("{p}b")).0, NameTooLong { max: 255, len: 256 });
    // A registry does not count, however long.
    let p = format!("ghcr.io/{}", "c".repeat(255));
    assert_eq!(ok(&p).name().len(), 263);
    assert_eq!(
        bad(&format!("{p}c")),
        (NameTooLong { max: 255, len: 256 }, 263)
    );
    let host = format!("{}.io", "h".repeat(300));
    assert_eq!(ok(&format!("{host}/x")).registry(), host);
    // Whole-input limit.
    let huge = "a".repeat(10 * 1024 * 1024);
    assert_eq!(
        bad(&huge),
        (
            TooLong {
                max: MAX_REFERENCE_LEN
            },
            MAX_REFERENCE_LEN
        )
    );
    let huge = "é".repeat(MAX_REFERENCE_LEN);
    assert_eq!(
        bad(&huge).0,
        TooLong {
            max: MAX_REFERENCE_LEN
        }
    );
}

#[test]
fn error_messages_say_what_to_do() {
    let e = ImageRef::parse("ghcr.io/Owner/app").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("repository names must be lowercase"),
        "{msg}"
    );
    assert!(msg.ends_with("(at byte 8)"), "{msg}");
    let e: Box<dyn std::error::Error> = Box::new(e);
    assert!(!e.to_string().is_empty());
    for s in ["", " x", "redis:", "a//b", "a.b:x/c", "redis@sha256:ab"] {
        let msg = ImageRef::parse(s).unwrap_err().to_string();
        assert!(msg.contains("(at byte"), "{s}: {msg}");
    }
}

#[test]
fn from_str_and_debug() {
    let r: ImageRef = "redis:7".parse().unwrap();
    assert_eq!(r, ok("redis:7"));
    let dbg = format!("{r:?}");
    assert!(
        dbg.contains("redis:7") && dbg.contains("library/redis"),
        "{dbg}"
    );
    assert!("Redis".parse::<ImageRef>().is_err());
    let d: Digest = format!("sha256:{H64}").parse().unwrap();
    assert_eq!(Some(&d), ok(&format!("redis@{d}")).digest());
}
