//! `.env` parsing: syntax, quoting, interpolation, errors and their positions.

use platformctl_interpolate::{
    DotenvError, DotenvErrorKind as D, InterpolationErrorKind as K, Missing, Vars, parse_dotenv,
};

fn parse(text: &str) -> Vec<(String, String)> {
    parse_with(text, &Vars::new())
}

fn parse_with(text: &str, vars: &Vars) -> Vec<(String, String)> {
    match parse_dotenv(text, vars) {
        Ok(pairs) => pairs,
        Err(e) => panic!("{text:?} failed: {e}"),
    }
}

fn fail(text: &str) -> DotenvError {
    match parse_dotenv(text, &Vars::new()) {
        Ok(pairs) => panic!("{text:?} should fail, got {} pairs", pairs.len()),
        Err(e) => e,
    }
}

/// The value of `key` when `text` is a single statement.
fn one(text: &str) -> String {
    let pairs = parse(text);
    assert_eq!(pairs.len(), 1, "{text:?} gave {pairs:?}");
    pairs.into_iter().next().unwrap().1
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn key_value_basics() {
    assert_eq!(
        parse("ONE=1\nTWO='2'\nTHREE = \"3\""),
        pairs(&[("ONE", "1"), ("TWO", "2"), ("THREE", "3")])
    );
    assert_eq!(one("FOO =bar"), "bar");
    assert_eq!(one("FOO= bar"), "bar");
    assert_eq!(one("  FOO=bar"), "bar");
    assert_eq!(one("\tFOO=bar"), "bar");
    assert_eq!(one("FOO=foobar="), "foobar=");
    assert_eq!(one("FOO="), "");
    assert_eq!(one("FOO=   "), "");
    assert_eq!(one("OPTION_A=1:B"), "1:B");
    assert_eq!(
        one("URL=postgres://localhost:5432/db?sslmode=disable"),
        "postgres://localhost:5432/db?sslmode=disable"
    );
    assert_eq!(one("FOO=a b  c  "), "a b  c");
}

#[test]
fn compose_key_characters() {
    assert_eq!(
        parse("VAR-WITH-DASHES=dashes\nVAR.WITH.DOTS=dots\nVAR_U=u\nA[0]=x\nclé=v\n9LIVES=cat"),
        pairs(&[
            ("VAR-WITH-DASHES", "dashes"),
            ("VAR.WITH.DOTS", "dots"),
            ("VAR_U", "u"),
            ("A[0]", "x"),
            ("clé", "v"),
            ("9LIVES", "cat"),
        ])
    );
}

#[test]
fn yaml_style_separator() {
    assert_eq!(one("OPTION_A: 1"), "1");
    assert_eq!(one("OPTION_A: Foo=bar"), "Foo=bar");
}

#[test]
fn export_prefix() {
    assert_eq!(parse("export OPTION_A=2"), pairs(&[("OPTION_A", "2")]));
    assert_eq!(parse("export\tOPTION_A=2"), pairs(&[("OPTION_A", "2")]));
    assert_eq!(parse("  export   OPTION_A=2"), pairs(&[("OPTION_A", "2")]));
    assert_eq!(parse("export exportFoo=2"), pairs(&[("exportFoo", "2")]));
    assert_eq!(parse("exportFOO=2"), pairs(&[("exportFOO", "2")]));
    assert_eq!(parse("export_FOO =2"), pairs(&[("export_FOO", "2")]));
    assert_eq!(parse("export.FOO= 2"), pairs(&[("export.FOO", "2")]));
    assert_eq!(parse("export=1"), pairs(&[("export", "1")]));
    assert_eq!(parse("export = 1"), pairs(&[("export", "1")]));
    assert_eq!(
        parse(r#"export OPTION_A="export A""#),
        pairs(&[("OPTION_A", "export A")])
    );
}

#[test]
fn blank_lines_and_comments() {
    let text = "\n# comment\n   \n\t # indented comment\nA=1\n\n\n#B=2\nC=3 # trailing\n#";
    assert_eq!(parse(text), pairs(&[("A", "1"), ("C", "3")]));
    assert!(parse("").is_empty());
    assert!(parse("\n\r\n  \t").is_empty());
    assert!(parse("# only a comment").is_empty());
}

#[test]
fn unquoted_inline_comments() {
    assert_eq!(one("FOO=bar # this is foo"), "bar");
    assert_eq!(one("FOO=bar #this is foo"), "bar");
    // Only a space before `#` starts a comment, as in compose-go (issue 9: `KEY=a<TAB>#c`).
    assert_eq!(one("FOO=bar\t# tab"), "bar\t# tab");
    assert_eq!(one("KEY=a\t#c"), "a\t#c");
    assert_eq!(one("FOO=bar #"), "bar");
    // `#` not preceded by whitespace is part of the value.
    assert_eq!(one("FOO=123#not-a-comment"), "123#not-a-comment");
    assert_eq!(one("FOO=#start"), "#start");
    // Whitespace then `#` right after `=`: compose-go trims the whitespace first, so the
    // `#` is the value's first character.
    assert_eq!(one("FOO= # not a comment"), "# not a comment");
}

#[test]
fn single_quoted_values_are_literal() {
    assert_eq!(one("FOO='bar'"), "bar");
    assert_eq!(one("FOO='ba#r' # comment"), "ba#r");
    assert_eq!(one("FOO='quote $FOO ${X:?boom}'"), "quote $FOO ${X:?boom}");
    assert_eq!(one(r"FOO='\n\t\\'"), r"\n\t\\");
    assert_eq!(one(r#"FOO='"d"'"#), r#""d""#);
    // compose: `\'` does not close a single-quoted value.
    assert_eq!(one(r"FOO='it\'s'"), "it's");
    assert_eq!(one("FOO='  padded  '"), "  padded  ");
    assert_eq!(one("FOO=''"), "");
    assert_eq!(one("FOO='line1\nline2'"), "line1\nline2");
    assert_eq!(one("FOO='line1\r\nline2'\r\n"), "line1\nline2");
}

#[test]
fn double_quoted_escapes() {
    assert_eq!(one(r#"FOO="bar""#), "bar");
    assert_eq!(one(r#"FOO="escaped\"bar""#), r#"escaped"bar"#);
    assert_eq!(one(r#"FOO="\"quoted\"""#), r#""quoted""#);
    assert_eq!(one(r#"FOO="'d'""#), "'d'");
    assert_eq!(one(r#"FOO="bar\nbaz""#), "bar\nbaz");
    assert_eq!(one(r#"FOO="a\tb""#), "a\tb");
    assert_eq!(one(r#"FOO="back\\slash""#), r"back\slash");
    assert_eq!(one(r#"FOO="bar\nbaz\\""#), "bar\nbaz\\");
    assert_eq!(
        one(r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#),
        "Z\x07Z\x08Z\x0cZ\nZ\rZ\tZ\x0bZ\\ZSZ"
    );
    // Unknown escapes keep their backslash.
    assert_eq!(one(r#"FOO="bar\n\ b\az""#), "bar\n\\ b\x07z");
    assert_eq!(one(r#"KEY="\x07""#), r"\x07");
    assert_eq!(one(r#"KEY="\u12e4""#), r"\u12e4");
    // compose-go rewrites `\0DDD` to Go's `\DDD`: three octal digits are a character,
    // anything else stays as written without its `0` (issue 9: `"\0"`).
    assert_eq!(one(r#"KEY="\0""#), r"\");
    assert_eq!(one(r#"KEY="\09""#), r"\9");
    assert_eq!(one(r#"KEY="\044""#), r"\44");
    assert_eq!(one(r#"KEY="\0101""#), "A");
    assert_eq!(one(r#"FOO="bar#baz" # comment"#), "bar#baz");
    assert_eq!(one(r##"FOO="bar#baz"#"##), "bar#baz");
    assert_eq!(one(r#"FOO="""#), "");
}

#[test]
fn double_quoted_dollar_escapes() {
    let mut v = Vars::new();
    v.set("BAR", "nope");
    assert_eq!(
        parse_with(r#"FOO="foo\$BAR""#, &v),
        pairs(&[("FOO", "foo$BAR")])
    );
    assert_eq!(
        parse_with(r#"FOO="foo\${BAR}""#, &v),
        pairs(&[("FOO", "foo${BAR}")])
    );
    assert_eq!(
        parse_with(r#"FOO="foo$${BAR}""#, &v),
        pairs(&[("FOO", "foo${BAR}")])
    );
    // `\0044` is an octal `$`: also literal.
    assert_eq!(
        parse_with(r#"FOO="\0044BAR""#, &v),
        pairs(&[("FOO", "$BAR")])
    );
    assert_eq!(
        parse_with("FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"", &v),
        pairs(&[("FOO", "test"), ("BAR", "foo${FOO} test")])
    );
}

#[test]
fn multi_line_double_quoted() {
    let text = "OPTION_J=\"first line\nsecond line\nthird line\nand so on\"\nOPTION_Z=last value";
    assert_eq!(
        parse(text),
        pairs(&[
            ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
            ("OPTION_Z", "last value"),
        ])
    );
    assert_eq!(
        one("TEST_URLS=\"stratum+tcp://a:3333\nstratum+tcp://b:443\""),
        "stratum+tcp://a:3333\nstratum+tcp://b:443"
    );
    // CRLF inside the value becomes LF.
    assert_eq!(one("K=\"a\r\nb\"\r\n"), "a\nb");
}

#[test]
fn crlf_and_bom() {
    let text = "\u{feff}A=1\r\nB = 2 \r\n# c\r\n\r\nC=\"3\"\r\nD='4'\r\nE\r\nF=\r\n";
    let mut v = Vars::new();
    v.set("E", "from-env");
    assert_eq!(
        parse_with(text, &v),
        pairs(&[
            ("A", "1"),
            ("B", "2"),
            ("C", "3"),
            ("D", "4"),
            ("E", "from-env"),
            ("F", ""),
        ])
    );
    assert_eq!(parse("\u{feff}"), pairs(&[]));
    assert_eq!(parse("\u{feff}export A=1"), pairs(&[("A", "1")]));
}

#[test]
fn interpolation_in_values() {
    assert_eq!(
        parse("FOO=test\nBAR=$FOO\nBAZ=${FOO}bar\nQ=\"quote $FOO\"\nS='quote $FOO'"),
        pairs(&[
            ("FOO", "test"),
            ("BAR", "test"),
            ("BAZ", "testbar"),
            ("Q", "quote test"),
            ("S", "quote $FOO"),
        ])
    );
    // Unset: empty, not an error.
    assert_eq!(one("BAR=$FOO"), "");
    assert_eq!(one("BAR=${FOO:-dflt}"), "dflt");
    assert_eq!(one("BAR=a$$b"), "a$b");
    assert_eq!(one("PRICE=5$"), "5$");
}

#[test]
fn environment_wins_over_earlier_keys() {
    // compose-go TestSubstitutionsWithEnvFilePrecedence: the lookup (the environment) is
    // asked before the file's own earlier keys (issue 9: `TAG=1.27`, `IMAGE=nginx:${TAG}`
    // with `TAG=1.28` exported is `nginx:1.28`).
    let mut env = Vars::new();
    env.set("OPTION_A", "5");
    env.set("HOME", "/home/op");
    let text = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_A\nOPTION_D=${OPTION_A}_${OPTION_A}\nOPTION_E=${NONE}\nOPTION_F=$HOME/x";
    assert_eq!(
        parse_with(text, &env),
        pairs(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "5"),
            ("OPTION_C", "5"),
            ("OPTION_D", "5_5"),
            ("OPTION_E", ""),
            ("OPTION_F", "/home/op/x"),
        ])
    );
    let mut env = Vars::new();
    env.set("TAG", "1.28");
    assert_eq!(
        parse_with("TAG=1.27\nIMAGE=nginx:${TAG}\n", &env),
        pairs(&[("TAG", "1.27"), ("IMAGE", "nginx:1.28")])
    );
    // Without the environment the file's earlier key counts.
    assert_eq!(
        parse("TAG=1.27\nIMAGE=nginx:${TAG}\n"),
        pairs(&[("TAG", "1.27"), ("IMAGE", "nginx:1.27")])
    );
    // A key can extend the variable of the same name from the environment.
    let mut env = Vars::new();
    env.set("PATH", "/usr/bin");
    assert_eq!(
        parse_with("PATH=${PATH}:/opt/bin\nP2=$PATH", &env),
        pairs(&[("PATH", "/usr/bin:/opt/bin"), ("P2", "/usr/bin")])
    );
    // Later keys are not visible to earlier ones.
    assert_eq!(
        parse("A=${B:-unset}\nB=1"),
        pairs(&[("A", "unset"), ("B", "1")])
    );
}

#[test]
fn key_alone_is_inherited_from_vars() {
    let mut env = Vars::new();
    env.set("FROM_ENV", "value");
    env.set("EMPTY_ENV", "");
    assert_eq!(
        parse_with(
            "FROM_ENV\nNOT_IN_ENV\nfoo=bar\nEMPTY_ENV\nexport FROM_ENV # c\n  FROM_ENV  ",
            &env
        ),
        pairs(&[("FROM_ENV", "value"), ("foo", "bar"), ("EMPTY_ENV", "")])
    );
    // At the end of the file too.
    assert_eq!(
        parse_with("FROM_ENV", &env),
        pairs(&[("FROM_ENV", "value")])
    );
    assert!(parse("NOT_IN_ENV").is_empty());
    // Only the given vars count, not earlier keys (as compose).
    assert_eq!(parse("A=1\nB\n"), pairs(&[("A", "1")]));
}

#[test]
fn duplicate_keys_keep_first_position_and_last_value() {
    assert_eq!(
        parse("A=1\nB=2\nA=3\nC=$A"),
        pairs(&[("A", "3"), ("B", "2"), ("C", "3")])
    );
}

fn at(e: &DotenvError) -> (usize, usize) {
    (e.line, e.column)
}

#[test]
fn malformed_lines() {
    let e = fail("lol$wut");
    assert_eq!((at(&e), &e.kind), ((1, 4), &D::InvalidKeyChar));
    assert_eq!(e.key, None);

    let e = fail("A=1\nFOO BAR=x");
    assert_eq!((at(&e), &e.kind), ((2, 4), &D::ExpectedSeparator));

    let e = fail("A=1\n\njust some words");
    assert_eq!((at(&e), &e.kind), ((3, 5), &D::ExpectedSeparator));

    // compose-go reads `="value"` as the empty key (issue 9).
    assert_eq!(parse("=\"value\""), pairs(&[("", "value")]));
    assert_eq!(parse("  : x"), pairs(&[("", "x")]));

    let e = fail("ok=1\n\"quoted\"=x");
    assert_eq!((at(&e), &e.kind), ((2, 1), &D::InvalidKeyChar));

    let e = fail("KEY#x=1");
    assert_eq!((at(&e), &e.kind), ((1, 4), &D::InvalidKeyChar));

    // Columns count characters, not bytes; the BOM is not a column.
    let e = fail("\u{feff}clé!=1");
    assert_eq!((at(&e), &e.kind), ((1, 4), &D::InvalidKeyChar));
}

#[test]
fn unterminated_quotes() {
    for (text, quote) in [
        (r#"KEY=""#, '"'),
        (r#"KEY="value"#, '"'),
        (r#"KEY="value\""#, '"'),
        (r#"KEY="value'"#, '"'),
        (r#"KEY="value\"#, '"'),
        ("KEY='", '\''),
        ("KEY='value", '\''),
        (r"KEY='value\'", '\''),
        (r#"KEY='value""#, '\''),
    ] {
        let e = fail(text);
        assert_eq!(e.kind, D::UnterminatedQuote { quote }, "{text:?}");
        assert_eq!(at(&e), (1, 5), "{text:?}");
        assert_eq!(e.key.as_deref(), Some("KEY"));
    }
    let e = fail("A=1\nB=  \"open\nmore\nlines");
    assert_eq!(at(&e), (2, 5));
}

#[test]
fn text_after_closing_quote_is_the_next_statement() {
    // As compose-go: `KEY="a" junk` is KEY=a and then `junk` alone (inherited when set).
    assert_eq!(parse("A=\"x\" y"), pairs(&[("A", "x")]));
    let mut env = Vars::new();
    env.set("y", "from-env");
    assert_eq!(
        parse_with("A=\"x\" y\nB=2", &env),
        pairs(&[("A", "x"), ("y", "from-env"), ("B", "2")])
    );
    assert_eq!(parse("A='x'y=1"), pairs(&[("A", "x"), ("y", "1")]));
    let e = fail("A=\"x\" two words");
    assert_eq!(e.kind, D::ExpectedSeparator);
    assert_eq!(one("A=\"x\"   "), "x");
    assert_eq!(one("A='x'\t# c"), "x");
}

#[test]
fn interpolation_errors_point_into_the_file() {
    let e = fail("A=1\nB=abc ${");
    assert_eq!(at(&e), (2, 7));
    assert_eq!(e.kind, D::Interpolation(K::Unterminated));
    assert_eq!(e.key.as_deref(), Some("B"));

    let e = fail("B=${VAR:x}");
    assert_eq!(at(&e), (1, 9));
    assert_eq!(
        e.kind,
        D::Interpolation(K::UnknownModifier { name: "VAR".into() })
    );

    // Escapes before the error do not shift the column.
    let e = fail(r#"B="\n\t\"é ${1}""#);
    assert_eq!(at(&e), (1, 14));
    assert_eq!(e.kind, D::Interpolation(K::InvalidName));

    // Multi-line double-quoted value.
    let e = fail("A=1\nB=\"line\r\n  x ${}\n\"");
    assert_eq!(at(&e), (3, 5));
    assert_eq!(e.kind, D::Interpolation(K::EmptyName));

    let e = fail("B=\"${NEEDED:?set NEEDED}\"");
    assert_eq!(at(&e), (1, 4));
    assert_eq!(
        e.kind,
        D::Interpolation(K::Required {
            name: "NEEDED".into(),
            message: "set NEEDED".into(),
            missing: Missing::Unset,
        })
    );
    // The comment is cut before interpolation, as in compose.
    let e = fail("B=${X:-a #b}");
    assert_eq!(e.kind, D::Interpolation(K::Unterminated));
}

#[test]
fn errors_never_contain_value_text() {
    let secret = "hunter2s3cr3t";
    let mut env = Vars::new();
    env.set("SECRET", secret);
    for text in [
        "PASSWORD=\"hunter2s3cr3t${\"",
        "PASSWORD=hunter2s3cr3t${1}",
        "PASSWORD='hunter2s3cr3t",
        "PASSWORD=\"hunter2s3cr3t",
        "PASSWORD=\"hunter2s3cr3t\" hunter2s3cr3t hunter2s3cr3t",
        "hunter2s3cr3t hunter2s3cr3t",
        "hunter2s3cr3t!",
        "A=${SECRET} ${",
        "A=${SECRET:?${SECRET}}\nB=${NOPE:?$SECRET}",
    ] {
        let e = parse_dotenv(text, &env).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{text:?}: {shown}");
    }
}

#[test]
fn error_display() {
    let e = fail("A=1\nB=\"open");
    assert_eq!(
        e.to_string(),
        "line 2, column 3 (value of B): unterminated double-quoted value: add the closing `\"` \
         (a `\\\"` inside the value does not close it)"
    );
    let e = fail("FOO BAR=x");
    assert_eq!(
        e.to_string(),
        "line 1, column 4: expected `=` after the key (keys cannot contain spaces); \
         lines look like `KEY=VALUE`"
    );
    let e = fail("B=${X:?needed}");
    assert!(
        e.to_string()
            .starts_with("line 1, column 3 (value of B): required variable X is not set: needed"),
        "{e}"
    );
}
