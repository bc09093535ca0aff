//! Every default detector in the kind of line it turns up in, the masks, the clean path, and
//! the invariants: redacting twice changes nothing, and no finding survives redaction.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::borrow::Cow;

use palisade_redact::{Finding, Redactor};
use proptest::prelude::*;

fn redact(text: &str) -> String {
    Redactor::new().redact(text).into_owned()
}

fn detectors(text: &str) -> Vec<&'static str> {
    Redactor::new()
        .find(text)
        .into_iter()
        .map(|f| f.detector)
        .collect()
}

/// Vendor tokens are built at run time, so this file holds nothing a secret scanner flags.
fn token(prefix: &str, body: &str, len: usize) -> String {
    format!(
        "{prefix}{}",
        body.repeat(len.div_ceil(body.len())).get(..len).unwrap()
    )
}

#[test]
fn dsn_and_url_credentials_keep_everything_but_the_password() {
    assert_eq!(
        redact("db error at postgres://app:s3cr3t@db.internal:5432/app?sslmode=require"),
        "db error at postgres://app:***@db.internal:5432/app?sslmode=require"
    );
    assert_eq!(
        redact("fetching https://deploy:ghx-9f@git.example.com/repo.git"),
        "fetching https://deploy:***@git.example.com/repo.git"
    );
    assert_eq!(
        redact("Server=db;Database=app;User Id=app;Password=hunter2;Encrypt=true"),
        "Server=db;Database=app;User Id=app;Password=***;Encrypt=true"
    );
}

#[test]
fn key_value_pairs_in_text_json_and_yaml() {
    assert_eq!(
        redact(r#"{"user":"ann","password":"hunter2","n":1}"#),
        r#"{"user":"ann","password":"***","n":1}"#
    );
    assert_eq!(redact("api_key: abcdef123456"), "api_key: ***");
    assert_eq!(
        redact("login failed user=ann passwd=letmein"),
        "login failed user=ann passwd=***"
    );
    assert_eq!(
        redact("CLIENT_SECRET=xyz789 next"),
        "CLIENT_SECRET=*** next"
    );
    // A quoted value runs to its closing quote, spaces and separators included.
    assert_eq!(
        redact(r#"{"password": "correct horse&battery;staple", "n": 1}"#),
        r#"{"password": "***", "n": 1}"#
    );
    assert_eq!(redact("db_password = 'a b&c'"), "db_password = '***'");
    // An unquoted one stops at a query-string separator; a quote left open is still masked.
    assert_eq!(redact("?token=abc123&next=/home"), "?token=***&next=/home");
    assert_eq!(redact(r#"password="unterminated"#), r#"password="***"#);
    // An escaped quote left open (found by the fuzzer): masked once, then stable.
    let once = redact(r#"{:password":\"b","#);
    assert_eq!(once, r#"{:password":\"***","#);
    assert_eq!(redact(&once), once);
    // A key long enough to look like a base64 run stays context on the second pass.
    let key = format!("{}Vz2c1password=\"x1\"", "D".repeat(70));
    let once = redact(&key);
    assert!(once.ends_with("password=\"***\""), "{once}");
    assert_eq!(redact(&once), once);
}

#[test]
fn prose_after_an_auth_word_is_not_a_credential() {
    for prose in [
        "Fix basic functionality of the parser",
        "token interpretation changed",
        "Bearer authentication",
    ] {
        assert_eq!(redact(prose), prose);
    }
}

#[test]
fn authorization_values_and_jwts() {
    assert_eq!(
        redact("GET /api Authorization: Bearer abcDEF123456.xyz"),
        "GET /api Authorization: Bearer ***"
    );
    assert_eq!(
        redact("Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
        "Authorization: Basic ***"
    );
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_eq!(
        redact(&format!("session {jwt} expired")),
        "session *** expired"
    );
    assert_eq!(detectors(&format!("session {jwt}")), ["jwt"]);
}

#[test]
fn cloud_and_vendor_tokens() {
    let aws = "aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    assert_eq!(
        redact(aws),
        "aws_access_key_id=*** aws_secret_access_key=***"
    );
    let cases = [
        (token("ghp_", "aB3", 36), "github-token"),
        (token("github_pat_", "11AbC_", 82), "github-token"),
        (token("glpat-", "xY9_", 20), "gitlab-token"),
        (token("xoxb-", "123456789012-", 40), "slack-token"),
        (
            token("sk_live_", "4eC39HqLyjWDarjtT1zdp7dc", 24),
            "stripe-key",
        ),
    ];
    for (secret, detector) in cases {
        let line = format!("config loaded: {secret} ok");
        assert_eq!(detectors(&line), [detector], "{line}");
        assert_eq!(redact(&line), "config loaded: *** ok");
    }
}

#[test]
fn pem_private_keys_are_masked_whole() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----";
    assert_eq!(
        redact(&format!("key: {pem}\nnext line")),
        "key: -----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\nnext line"
    );
}

#[test]
fn card_numbers_and_ssns_are_validated() {
    assert_eq!(
        redact("paid with 4111 1111 1111 1111 today"),
        "paid with *** today"
    );
    assert_eq!(redact("card 5555-5555-5555-4444"), "card ***");
    assert_eq!(
        redact("order 4111 1111 1111 1112 today"),
        "order 4111 1111 1111 1112 today",
        "bad Luhn digit"
    );
    assert_eq!(redact("ssn 536-90-4399"), "ssn ***");
    assert_eq!(
        redact("ssn 666-90-4399"),
        "ssn 666-90-4399",
        "area 666 is never issued"
    );
}

#[test]
fn base64_payloads_keep_seven_characters() {
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    assert_eq!(
        redact(&format!("<img src=\"data:image/png;base64,{png}\">")),
        "<img src=\"data:image/png;base64,iVBORw0...\">"
    );
    assert_eq!(redact(&format!("blob {png} end")), "blob iVBORw0... end");
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(
        redact(&format!("digest {sha256}")),
        format!("digest {sha256}")
    );
}

#[test]
fn findings_name_the_detector_and_span_only() {
    let text = "password=hunter2";
    let findings = Redactor::new().find(text);
    assert_eq!(
        findings,
        [Finding {
            detector: "secret-pair",
            span: 9..16
        }]
    );
    assert!(!format!("{findings:?}").contains("hunter2"));
}

#[test]
fn clean_text_is_borrowed() {
    let redactor = Redactor::new();
    for line in [
        "GET /index.html 200 1532 \"Mozilla/5.0\"",
        "INFO started worker 7 in 1.25s",
        "ünïcödé text with no secrets at all: 12345",
        "",
    ] {
        assert!(matches!(redactor.redact(line), Cow::Borrowed(_)), "{line}");
    }
}

proptest! {
    #[test]
    fn redaction_is_idempotent_and_leaves_no_finding(
        parts in proptest::collection::vec(
            prop_oneof![
                "[ -~]{0,20}",
                Just("password=hunter2".to_owned()),
                Just("postgres://u:p4ss@h/db".to_owned()),
                Just("4111 1111 1111 1111".to_owned()),
                Just("536-90-4399".to_owned()),
                Just("Bearer abcdefgh12345".to_owned()),
                Just("AKIAIOSFODNN7EXAMPLE".to_owned()),
            ],
            0..8,
        )
    ) {
        let redactor = Redactor::new();
        let text = parts.join(" ");
        let once = redactor.redact(&text).into_owned();
        prop_assert_eq!(redactor.redact(&once).into_owned(), once.clone());
        prop_assert!(redactor.find(&once).is_empty(), "left in {:?}", once);
    }
}

#[test]
fn any_serialize_value_is_masked_at_every_depth() {
    #[derive(serde::Serialize)]
    struct Login<'a> {
        user: &'a str,
        #[serde(rename = "Password")]
        password: &'a str,
        attempts: Vec<Attempt<'a>>,
    }
    #[derive(serde::Serialize)]
    struct Attempt<'a> {
        api_key: Option<&'a str>,
        from: &'a str,
    }
    let login = Login {
        user: "ann",
        password: "hunter2",
        attempts: vec![
            Attempt {
                api_key: Some("k-1"),
                from: "10.0.0.1",
            },
            Attempt {
                api_key: None,
                from: "card 4111 1111 1111 1111",
            },
        ],
    };
    let masked = palisade_redact::FieldMasker::new()
        .mask_serialize(&login)
        .unwrap();
    assert_eq!(
        masked,
        serde_json::json!({
            "user": "ann",
            "Password": "***",
            "attempts": [
                { "api_key": "***", "from": "10.0.0.1" },
                { "api_key": null, "from": "card ***" },
            ],
        })
    );
}

#[test]
fn a_stream_is_redacted_line_by_line_even_when_writes_split_lines() {
    use std::io::Write as _;
    let redactor = Redactor::new();
    let log = "a password=hunter2 b\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAKCAQ==\n-----END RSA PRIVATE KEY-----\nclean line\ncard 4111 1111 1111 1111";
    let expected = "a password=*** b\n-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----\nclean line\ncard ***";
    // Byte by byte: a secret split across writes is still caught.
    let mut writer = palisade_redact::RedactingWriter::new(Vec::new(), &redactor);
    for byte in log.as_bytes() {
        writer.write_all(std::slice::from_ref(byte)).unwrap();
    }
    assert_eq!(
        String::from_utf8(writer.finish().unwrap()).unwrap(),
        expected
    );
    // Through a reader.
    let mut out = Vec::new();
    let read = palisade_redact::redact_stream(&redactor, &mut log.as_bytes(), &mut out).unwrap();
    assert_eq!(read, log.len() as u64);
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn a_stream_keeps_memory_bounded_on_endless_lines() {
    use std::io::Write as _;
    let redactor = Redactor::new();
    let mut writer = palisade_redact::RedactingWriter::with_max_line(Vec::new(), &redactor, 64);
    let long = "x".repeat(1000);
    writer.write_all(long.as_bytes()).unwrap();
    writer.write_all(b" password=hunter2\n").unwrap();
    let out = String::from_utf8(writer.finish().unwrap()).unwrap();
    assert_eq!(out.len(), 1000 + " password=***\n".len());
    assert!(out.ends_with(" password=***\n"), "{}", &out[990..]);
}

#[test]
fn a_pair_whose_value_has_an_auth_scheme_masks_the_credential() {
    assert_eq!(redact("token=Bearer abc123def456"), "token=Bearer ***");
    assert_eq!(
        redact(r#""auth_token": "Basic YWxhZGRpbjpvcGVu""#),
        r#""auth_token": "Basic ***""#
    );
}

/// The vendor families with a fixed prefix or structure, masked whole: no tail survives.
#[test]
fn vendor_keys_are_masked_whole() {
    let b62 = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz";
    let hex = "0123456789abcdef";
    let cases = [
        ("openai-key", format!("sk-proj-{}", token("", b62, 48))),
        (
            "openai-key",
            format!("sk-{}T3BlbkFJ{}", token("", b62, 20), token("", b62, 20)),
        ),
        (
            "anthropic-key",
            format!("sk-ant-api03-{}", token("", b62, 93)),
        ),
        ("huggingface-token", token("hf_", "aBcDeFgHiJ", 34)),
        ("npm-token", token("npm_", b62, 36)),
        ("pypi-token", token("pypi-AgEIcHlwaS5vcmc", b62, 60)),
        (
            "sendgrid-key",
            format!("SG.{}.{}", token("", b62, 22), token("", b62, 43)),
        ),
        ("twilio-key", token("SK", hex, 32)),
        ("google-api-key", token("AIza", b62, 35)),
        ("google-oauth-secret", token("GOCSPX-", b62, 28)),
        (
            "azure-ad-client-secret",
            format!("abc8Q~{}", token("", b62, 34)),
        ),
        (
            "discord-bot-token",
            format!(
                "M{}.{}.{}",
                token("", b62, 24),
                token("", b62, 6),
                token("", b62, 27)
            ),
        ),
        (
            "telegram-bot-token",
            format!("123456789:AA{}", token("", b62, 33)),
        ),
    ];
    for (detector, secret) in cases {
        let line = format!("config value {secret} loaded");
        assert_eq!(detectors(&line), [detector], "{detector}");
        assert_eq!(redact(&line), "config value *** loaded", "{detector}");
    }
    let key = format!("{}==", token("", "AbC+/12", 86));
    assert_eq!(
        redact(&format!(
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey={key};EndpointSuffix=x"
        )),
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;EndpointSuffix=x"
    );
    let sig = token("", "AbCd%2B12", 44);
    assert_eq!(
        redact(&format!(
            "GET https://a.blob.core.windows.net/c/b?sv=2022&sp=r&sig={sig} 200"
        )),
        "GET https://a.blob.core.windows.net/c/b?sv=2022&sp=r&sig=*** 200"
    );
    let amz = token("", hex, 64);
    assert_eq!(
        redact(&format!(
            "https://b.s3.amazonaws.com/k?X-Amz-Expires=60&X-Amz-Signature={amz}"
        )),
        "https://b.s3.amazonaws.com/k?X-Amz-Expires=60&X-Amz-Signature=***"
    );
    let hook = format!(
        "T{}/B{}/{}",
        token("", "ABC123", 10),
        token("", "DEF456", 10),
        token("", b62, 24)
    );
    assert_eq!(
        redact(&format!(
            "posting to https://hooks.slack.com/services/{hook}"
        )),
        "posting to https://hooks.slack.com/services/***"
    );
    let block = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n-----END PGP PRIVATE KEY BLOCK-----",
        token("", b62, 64)
    );
    assert_eq!(
        redact(&block),
        "-----BEGIN PGP PRIVATE KEY BLOCK-----***-----END PGP PRIVATE KEY BLOCK-----"
    );
}

/// Credentials outside vendor formats, in the places they leak: no tail of the secret may
/// survive.
#[test]
fn credentials_in_configs_command_lines_headers_and_markup() {
    let s = token("", "Zq9xW2vB7", 18);
    let cases = [
        (
            format!(r#"{{"auths":{{"reg.io":{{"auth":"{s}"}}}}}}"#),
            r#"{"auths":{"reg.io":{"auth":"***"}}}"#.to_owned(),
        ),
        (
            format!("machine api.example.com login ann password {s}"),
            "machine api.example.com login ann password ***".to_owned(),
        ),
        (
            format!("machine api.example.com\n  login ann\n  password {s}\n"),
            "machine api.example.com\n  login ann\n  password ***\n".to_owned(),
        ),
        (
            format!("Cookie: theme=dark; session={s}"),
            "Cookie: ***".to_owned(),
        ),
        (
            format!("Set-Cookie: sessionid={s}; Path=/; HttpOnly"),
            "Set-Cookie: sessionid=***; Path=/; HttpOnly".to_owned(),
        ),
        (
            format!("<db><password>{s}</password></db>"),
            "<db><password>***</password></db>".to_owned(),
        ),
        (
            format!(r#"<add key="ClearTextPassword" value="{s}" />"#),
            r#"<add key="ClearTextPassword" value="***" />"#.to_owned(),
        ),
        (format!("pass: {s}"), "pass: ***".to_owned()),
        (
            format!("ssl_passphrase: {s}"),
            "ssl_passphrase: ***".to_owned(),
        ),
        (
            format!("mysql -u root -p{s} app"),
            "mysql -u root -p*** app".to_owned(),
        ),
        (
            format!("pg_dump --password {s} app"),
            "pg_dump --password *** app".to_owned(),
        ),
        (
            format!("GET /login?user=ann&pass={s} 200"),
            "GET /login?user=ann&pass=*** 200".to_owned(),
        ),
        (
            format!(r#"{{"body":"{{\"password\":\"{s}\",\"user\":\"ann\"}}"}}"#),
            r#"{"body":"{\"password\":\"***\",\"user\":\"ann\"}"}"#.to_owned(),
        ),
        (
            format!("postgres://app:p@ss#w0rd{s}@db/app"),
            "postgres://app:***@db/app".to_owned(),
        ),
        (
            format!("mysql://app:two  spaces{s}@db/app"),
            "mysql://app:***@db/app".to_owned(),
        ),
        (
            format!("Driver={{X}};Server=db;Uid=a;Pwd={{a;b{s}}};"),
            "Driver={X};Server=db;Uid=a;Pwd={***};".to_owned(),
        ),
        (
            format!("Password={s} x;Server=db;User Id=app"),
            "Password=***;Server=db;User Id=app".to_owned(),
        ),
    ];
    let mut missed = Vec::new();
    for (line, expected) in &cases {
        let got = redact(line);
        if &got != expected || got.contains(&s[4..12]) {
            missed.push(format!("{line}\n  got      {got}\n  expected {expected}"));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

/// A secret found after context (the character before a base64 run, a key) goes to a more
/// specific detector matching the whole of it: a Twitter bearer token after a quote is
/// masked whole, not cut to seven characters as a base64 run, and keeps no tail.
#[test]
fn a_specific_detector_takes_a_secret_found_after_context() {
    let bearer = token(&"A".repeat(22), "x7Kq9%Zt", 104);
    let line = format!("twitter = \"{bearer}\"");
    assert_eq!(redact(&line), "twitter = \"***\"");
    assert_eq!(detectors(&line), ["vendor-token"]);
    let yandex = token("t1.", "Ab9_", 20) + "." + &token("", "Zq8-", 88) + "==";
    assert_eq!(redact(&format!("yandex: {yandex}")), "yandex: ***");
}

/// A custom detector whose pattern does not compile is named in the error, which is this
/// crate's own type (no regex engine type in the public API).
#[test]
fn a_broken_custom_pattern_names_its_detector() {
    use palisade_redact::{Detector, Mask, PatternError};
    let broken = Detector {
        id: "broken",
        pattern: "(?P<s>[a-",
        mask: Mask::Replace,
        check: |_| true,
    };
    let error: PatternError = Redactor::with_detectors(vec![broken]).unwrap_err();
    assert_eq!(error.detector(), "broken");
    assert!(
        error
            .to_string()
            .starts_with("the pattern of detector broken does not compile")
    );
}
