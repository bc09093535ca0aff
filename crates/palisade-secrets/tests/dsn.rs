//! `Dsn`: known answers for every form, refusals that never quote the DSN, byte-exact
//! round trips and redaction, as known-answer files and properties.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use palisade_secrets::{Dsn, Host, SecretValue, TlsPolicy, TlsVerdict};
use palisade_test::Canary;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use secrecy::ExposeSecret;
use serde_json::Value;

fn data(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The verdict under the Production policy: TLS that verifies the server, or a refusal.
fn verdict_text(dsn: &Dsn) -> String {
    verdict_under(dsn, TlsPolicy::Production)
}

fn verdict_under(dsn: &Dsn, policy: TlsPolicy) -> String {
    match dsn.check_tls(policy) {
        Ok(TlsVerdict::Local) => "local".to_owned(),
        Ok(TlsVerdict::Encrypted { by }) => format!("encrypted by {by}"),
        Ok(TlsVerdict::Verified { by }) => format!("verified by {by}"),
        Ok(other) => format!("{other:?}"),
        Err(err) => format!("error: {err}"),
    }
}

#[test]
fn every_form_parses_to_its_known_answer() {
    let cases = data("dsn_known_answers.json");
    assert!(cases.len() >= 25);
    for case in cases {
        let text = case["dsn"].as_str().unwrap();
        let dsn = Dsn::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
        assert_eq!(format!("{:?}", dsn.engine()), case["engine"], "{text}");
        assert_eq!(
            dsn.to_string(),
            case["redacted"].as_str().unwrap(),
            "{text}"
        );
        assert_eq!(dsn.expose_secret(), text, "byte for byte");
        assert_eq!(dsn.username().as_deref(), case["user"].as_str(), "{text}");
        assert_eq!(
            dsn.password().as_ref().map(ExposeSecret::expose_secret),
            case["password"].as_str(),
            "{text}"
        );
        let hosts: Vec<Host> = case["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|host| Host {
                name: host[0].as_str().unwrap().to_owned(),
                port: host[1].as_u64().map(|port| u16::try_from(port).unwrap()),
            })
            .collect();
        assert_eq!(dsn.hosts(), hosts, "{text}");
        assert_eq!(
            dsn.database().as_deref(),
            case["database"].as_str(),
            "{text}"
        );
        if let Some(params) = case.get("params") {
            let expected: Vec<(String, String)> = params
                .as_array()
                .unwrap()
                .iter()
                .map(|pair| {
                    (
                        pair[0].as_str().unwrap().to_owned(),
                        pair[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let actual: Vec<(String, String)> = dsn
                .params()
                .into_iter()
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            assert_eq!(actual, expected, "{text}");
        }
        assert_eq!(
            verdict_text(&dsn),
            case["production"].as_str().unwrap(),
            "{text}"
        );
        if let Some(password) = dsn.password() {
            assert!(
                !dsn.to_string().contains(password.expose_secret()),
                "{text}"
            );
            assert!(
                !format!("{dsn:?}").contains(password.expose_secret()),
                "{text}"
            );
        }
        let reparsed = Dsn::parse(&dsn.to_string()).unwrap();
        assert_eq!(
            reparsed.hosts(),
            dsn.hosts(),
            "the redacted form still parses: {text}"
        );
    }
}

#[test]
fn malformed_dsns_are_refused_by_part_without_quoting_it() {
    for case in data("dsn_refusals.json") {
        let text = case["dsn"].as_str().unwrap();
        let err = Dsn::parse(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert_eq!(err.to_string(), case["error"].as_str().unwrap(), "{text}");
        assert!(!err.to_string().contains("hunter2"), "{text}");
        assert!(!format!("{err:?}").contains("hunter2"), "{text}");
    }
}

#[test]
fn debug_is_pinned_and_every_output_hides_the_password() {
    let canary = Canary::new();
    let text = format!(
        "postgres://app:{}@db.example.com/app?sslmode=require",
        canary.value()
    );
    let dsn = Dsn::parse(&text).unwrap();
    assert_eq!(
        format!("{dsn:?}"),
        r#"Dsn("postgres://app:***@db.example.com/app?sslmode=require")"#
    );
    canary.assert_not_in_debug(&dsn);
    canary.assert_not_in_display(&dsn);
    canary.assert_not_in_debug(&dsn.clone());
    canary.assert_not_in_debug(&dsn.params());
    canary.assert_not_in_debug(&dsn.hosts());
    assert_eq!(dsn.clone().expose_secret(), text);

    let in_param = format!("postgres://db.example.com/app?password={}", canary.value());
    let dsn = Dsn::parse(&in_param).unwrap();
    canary.assert_not_in_display(&dsn);
    assert_eq!(dsn.param("password").as_deref(), Some("***"));
    assert_eq!(dsn.password().unwrap().expose_secret(), canary.value());

    let encoded_key = format!(
        "postgres://db.example.com/app?pass%77ord={}",
        canary.value()
    );
    canary.assert_not_in_display(&Dsn::parse(&encoded_key).unwrap());

    let ado = format!("Server=db;Password={};", canary.value());
    canary.assert_not_in_debug(&Dsn::parse(&ado).unwrap());

    let bad = format!("postgres://app:{}@db:99999/app", canary.value());
    let err = Dsn::parse(&bad).unwrap_err();
    canary.assert_not_in_error(&err);
    canary.assert_not_in_debug(&err);
}

#[test]
fn a_dsn_is_read_from_a_secret_value() {
    let value = SecretValue::from_string("mysql://app:pw@localhost/shop".to_owned());
    let dsn = Dsn::from_secret(&value).unwrap();
    assert_eq!(dsn.to_string(), "mysql://app:***@localhost/shop");
    let binary = SecretValue::from_bytes(vec![0xff, 0xfe]);
    assert_eq!(
        Dsn::from_secret(&binary).unwrap_err().to_string(),
        "the secret holding the DSN is not UTF-8"
    );
}

#[test]
fn development_policy_reports_without_refusing() {
    let dsn = Dsn::parse("mongodb://app:pw@mongo.example.com/?tlsInsecure=true").unwrap();
    assert_eq!(
        dsn.check_tls(TlsPolicy::Development),
        Ok(TlsVerdict::Unencrypted)
    );
    assert!(dsn.check_tls(TlsPolicy::Production).is_err());
}

fn scheme() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "mssql",
        "mongodb",
    ])
}

/// Passwords from characters no other generated part uses, so "the display does not contain
/// the password" cannot pass or fail by coincidence.
fn password() -> impl Strategy<Value = String> {
    "[A-Z!#$&'()*+,;=@:/?\\[\\] é€]{6,24}"
}

fn host() -> impl Strategy<Value = (String, Option<u16>)> {
    (
        prop_oneof![
            "[a-z][a-z0-9-]{0,10}(\\.[a-z0-9]{1,8}){0,2}",
            Just("[2001:db8::7]".to_owned())
        ],
        prop::option::of(1u16..),
    )
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-z_]{1,12}", "[a-z0-9=%,._-]{0,16}"), 0..5)
}

proptest! {
    #[test]
    fn parse_and_print_round_trip_with_the_password_hidden(
        scheme in scheme(),
        user in "[a-z][a-z0-9_]{0,10}",
        password in password(),
        hosts in prop::collection::vec(host(), 1..4),
        database in "[a-z0-9_]{0,12}",
        params in params(),
    ) {
        let encoded = utf8_percent_encode(&password, NON_ALPHANUMERIC).to_string();
        let host_list: Vec<String> = hosts
            .iter()
            .map(|(name, port)| port.map_or_else(|| name.clone(), |port| format!("{name}:{port}")))
            .collect();
        let query: Vec<String> = params.iter().map(|(key, value)| format!("{key}={value}")).collect();
        let mut text = format!("{scheme}://{user}:{encoded}@{}/{database}", host_list.join(","));
        if !query.is_empty() {
            text = format!("{text}?{}", query.join("&"));
        }
        let dsn = Dsn::parse(&text).unwrap();
        prop_assert_eq!(dsn.expose_secret(), text.as_str());
        let decoded_password = dsn.password().unwrap();
        prop_assert_eq!(decoded_password.expose_secret(), password.as_str());
        let decoded_user = dsn.username();
        prop_assert_eq!(decoded_user.as_deref(), Some(user.as_str()));
        let display = dsn.to_string();
        prop_assert!(!display.contains(&encoded));
        prop_assert!(!display.contains(&password));
        let debug = format!("{dsn:?}");
        prop_assert!(!debug.contains(&encoded));
        prop_assert_eq!(display.replace(":***@", &format!(":{encoded}@")), text.clone());
        let names: Vec<String> = dsn.hosts().into_iter().map(|host| host.name).collect();
        let expected: Vec<String> = hosts
            .iter()
            .map(|(name, _)| name.trim_start_matches('[').trim_end_matches(']').to_owned())
            .collect();
        prop_assert_eq!(names, expected);
        let expected_params: Vec<(String, String)> = params
            .iter()
            .map(|(key, value)| {
                let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
                let masked = ["password", "pwd", "pass", "sslpassword"].contains(&key.as_str());
                (key.clone(), if masked { "***".to_owned() } else { value })
            })
            .collect();
        let actual_params: Vec<(String, String)> = dsn
            .params()
            .into_iter()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        prop_assert_eq!(actual_params, expected_params);
        prop_assert_eq!(Dsn::parse(&display).unwrap().to_string(), display);
    }

    #[test]
    fn arbitrary_text_never_panics_and_never_echoes_in_errors(text in "\\PC{0,80}") {
        match Dsn::parse(&text) {
            Ok(dsn) => {
                let _ = dsn.to_string();
                let _ = dsn.hosts();
                let _ = dsn.params();
                let _ = dsn.check_tls(TlsPolicy::Production);
            }
            Err(err) => {
                let message = err.to_string();
                if text.len() >= 12 {
                    prop_assert!(!message.contains(&text));
                }
            }
        }
    }
}

/// Hosts as the drivers read them: a DSN must never be judged local while the driver connects
/// somewhere else (a `#` ends the authority, MySQL's `socket=` serves `localhost` only, an
/// empty host or a `service=` defers to the environment); loopback's short forms are local.
#[test]
fn locality_follows_the_driver() {
    let verdict = |text: &str| verdict_text(&Dsn::parse(text).unwrap());
    let remote =
        "error: PostgreSQL DSN connects to a remote host without TLS; add `sslmode=verify-full`";
    for text in [
        // The environment decides: PGHOST, a service file.
        "postgres:///db",
        "postgres://localhost/db?host=",
        "postgres://localhost/db?service=prod",
        // libpq's empty list entries: PGHOST or the default socket, as the environment says.
        "postgres://u:p@localhost,,127.0.0.1/db",
        "postgresql+psycopg://u:p@,localhost/db",
    ] {
        assert_eq!(verdict(text), remote, "{text}");
    }
    // An `@` past the RFC authority: the `url` crate (sqlx) reads the host before it, libpq,
    // SQLAlchemy and pymongo the host after it. Neither reading is safe to judge: refused.
    for text in [
        "postgres://u:p@evil.example#@localhost/db",
        "postgresql://localhost#@db.example.com/app",
        "postgresql://localhost?@db.example.com/app",
        "mysql://localhost:3306/x@db.example.com/shop",
        "mongodb://localhost/app?x=1@db.example.com",
    ] {
        assert_eq!(
            Dsn::parse(text).err(),
            Some(palisade_secrets::DsnError::UserinfoAmbiguous),
            "{text}"
        );
    }
    assert_eq!(
        verdict("mysql://u:p@db.example/app?socket=/run/mysqld/mysqld.sock"),
        "error: MySQL/MariaDB DSN connects to a remote host without TLS; add `ssl-mode=VERIFY_IDENTITY`"
    );
    for text in [
        "mysql://u:p@localhost/app?socket=/run/mysqld/mysqld.sock",
        "postgres://u:p@127.1/db",
        "postgres://u:p@2130706433/db",
        "postgres://u:p@0x7f.1/db",
        "postgres://u:p@localhost/db#fragment",
        "postgres:///db?host=/var/run/postgresql",
    ] {
        assert_eq!(verdict(text), "local", "{text}");
    }
}

/// PostgreSQL's TLS mode counts only as `sslmode`, the key both libpq and sqlx read: libpq
/// turns `ssl=true` and `requiressl=1` into `require`, but sqlx ignores them (and `SSLMODE`,
/// `ssl_mode`) and stays on `prefer`, which a man in the middle downgrades. Whatever the
/// spelling, the last TLS key decides.
#[test]
fn postgres_tls_counts_only_in_the_spelling_every_driver_reads() {
    // Encryption alone is what is read here (`require`), so the Encrypted policy judges.
    let verdict = |text: &str| verdict_under(&Dsn::parse(text).unwrap(), TlsPolicy::Encrypted);
    let remote =
        "error: PostgreSQL DSN connects to a remote host without TLS; add `sslmode=verify-full`";
    for (query, expected) in [
        ("ssl=true", remote),
        ("requiressl=1", remote),
        ("SSLMODE=require", remote),
        ("ssl_mode=require", remote),
        ("ssl-mode=require", remote),
        ("sslmode=require&ssl=true", remote),
        ("ssl=true&sslmode=require", "encrypted by sslmode"),
        ("sslmode=REQUIRE", "encrypted by sslmode"),
        ("sslmode=disable&ssl=true", remote),
        ("ssl=true&sslmode=disable", remote),
        ("requiressl=1&sslmode=prefer", remote),
        ("sslmode=require&requiressl=0", remote),
        ("ssl=false", remote),
    ] {
        let text = format!("postgres://u:p@db.example.com/app?{query}");
        assert_eq!(verdict(&text), expected, "{text}");
    }
}

/// Every TLS-weakening spelling the drivers accept, and every secret parameter, whatever the
/// case, spaces, `_` or `-` in its key; the last occurrence of an option decides.
#[test]
fn weakening_spellings_and_secret_parameters_are_recognised() {
    let verdict = |text: &str| verdict_text(&Dsn::parse(text).unwrap());
    for (text, param) in [
        (
            "Server=db.example;Database=app;User Id=a;Password=p;Encrypt=yes;Trust Server Certificate=true",
            "TrustServerCertificate",
        ),
        (
            "mongodb://db.example/app?tls=true&sslAllowInvalidCertificates=true",
            "sslAllowInvalidCertificates",
        ),
        (
            "mongodb://db.example/app?ssl=true&sslAllowInvalidHostnames=true",
            "sslAllowInvalidHostnames",
        ),
        (
            "mongodb://db.example/app?ssl=true&sslValidate=false",
            "sslValidate",
        ),
        (
            "mongodb://db.example/app?ssl=true&ssl_cert_reqs=CERT_NONE",
            "ssl_cert_reqs",
        ),
    ] {
        assert_eq!(
            verdict(text),
            format!(
                "error: DSN turns off TLS certificate checks with `{param}`; remove it in production"
            ),
            "{text}"
        );
    }
    // Encryption counts only in the spelling every driver of the scheme reads: sqlx reads
    // `ssl-mode`/`sslmode` and stays on PREFERRED for `ssl_mode` or `ssl=true`; SQLAlchemy's
    // MySQL drivers read `ssl_mode`. Any spelling still decides as the last one.
    let remote = "error: MySQL/MariaDB DSN connects to a remote host without TLS; add `ssl-mode=VERIFY_IDENTITY`";
    for text in [
        "mysql://u:p@db.example/app?ssl_mode=VERIFY_IDENTITY",
        "mysql://u:p@db.example/app?ssl=true",
        "mysql://u:p@db.example/app?SSL-MODE=REQUIRED",
        "mysql://u:p@db.example/app?ssl-mode=REQUIRED&ssl_mode=DISABLED",
        "mysql+pymysql://u:p@db.example/app?ssl-mode=REQUIRED",
    ] {
        assert_eq!(verdict(text), remote, "{text}");
    }
    assert_eq!(
        verdict("mysql://u:p@db.example/app?ssl_mode=DISABLED&ssl-mode=VERIFY_IDENTITY"),
        "verified by ssl-mode"
    );
    assert_eq!(
        verdict_under(
            &Dsn::parse("mysql+mysqldb://u:p@db.example/app?ssl_mode=REQUIRED").unwrap(),
            TlsPolicy::Encrypted
        ),
        "encrypted by ssl_mode"
    );
    assert!(
        verdict("postgres://u:p@db.example/app?sslmode=verify-full&sslmode=disable")
            .starts_with("error")
    );
    let canary = Canary::new();
    for key in [
        "password1",
        "password3",
        "trustStorePassword",
        "clientCertificateKeyStorePassword",
        "sslpassword",
        "key",
        "ssl_passphrase",
    ] {
        let text = format!(
            "mysql://u@db.example/app?{key}={}&ssl-mode=REQUIRED",
            canary.value()
        );
        let dsn = Dsn::parse(&text).unwrap();
        canary.assert_not_in_display(&dsn);
        canary.assert_not_in_debug(&dsn);
    }
}

/// The three policies on the TLS settings of each scheme: Production requires TLS that
/// verifies the server, Encrypted accepts encryption alone (and certificate checks turned
/// off), Development refuses nothing. Known answers per scheme.
#[test]
fn production_requires_a_verified_server_and_encrypted_accepts_encryption_alone() {
    use TlsPolicy::{Development, Encrypted, Production};
    let not_verified = |by: &str, add: &str| {
        format!(
            "error: DSN asks for TLS with `{by}` but does not verify the server's certificate and name, so a man in the middle can answer; set `{add}` (or accept encryption alone with the Encrypted TLS policy)"
        )
    };
    let pg_verify = not_verified("sslmode", "sslmode=verify-full");
    let my_verify = not_verified("ssl-mode", "ssl-mode=VERIFY_IDENTITY");
    let trust = "error: DSN turns off TLS certificate checks with `TrustServerCertificate`; remove it in production";
    let insecure =
        "error: DSN turns off TLS certificate checks with `tlsInsecure`; remove it in production";
    let cases: &[(&str, [&str; 3])] = &[
        (
            "postgres://u:p@db.example.com/app?sslmode=verify-full",
            ["verified by sslmode"; 3],
        ),
        (
            "postgres://u:p@db.example.com/app?sslmode=verify-ca",
            [&pg_verify, "encrypted by sslmode", "encrypted by sslmode"],
        ),
        (
            "postgres://u:p@db.example.com/app?sslmode=require",
            [&pg_verify, "encrypted by sslmode", "encrypted by sslmode"],
        ),
        (
            "mysql://u:p@db.example.com/app?ssl-mode=VERIFY_IDENTITY",
            ["verified by ssl-mode"; 3],
        ),
        (
            "mysql://u:p@db.example.com/app?ssl-mode=VERIFY_CA",
            [&my_verify, "encrypted by ssl-mode", "encrypted by ssl-mode"],
        ),
        (
            "mysql://u:p@db.example.com/app?ssl-mode=REQUIRED",
            [&my_verify, "encrypted by ssl-mode", "encrypted by ssl-mode"],
        ),
        (
            "Server=db.example;Database=app;Encrypt=Strict",
            ["verified by encrypt"; 3],
        ),
        (
            "Server=db.example;Database=app;Encrypt=yes",
            ["verified by encrypt"; 3],
        ),
        (
            "Server=db.example;Database=app;Encrypt=yes;TrustServerCertificate=true",
            [trust, "encrypted by encrypt", "encrypted by encrypt"],
        ),
        (
            "mongodb://db.example.com/app?tls=true",
            ["verified by tls"; 3],
        ),
        (
            "mongodb+srv://cluster0.example.net/app",
            ["verified by mongodb+srv"; 3],
        ),
        (
            "mongodb://db.example.com/app?tls=true&tlsInsecure=true",
            [insecure, "encrypted by tls", "encrypted by tls"],
        ),
    ];
    for (text, [production, encrypted, development]) in cases {
        let dsn = Dsn::parse(text).unwrap();
        assert_eq!(verdict_under(&dsn, Production), *production, "{text}");
        assert_eq!(verdict_under(&dsn, Encrypted), *encrypted, "{text}");
        assert_eq!(verdict_under(&dsn, Development), *development, "{text}");
    }
    let plain = Dsn::parse("postgres://u:p@db.example.com/app").unwrap();
    assert!(
        verdict_under(&plain, Encrypted)
            .starts_with("error: PostgreSQL DSN connects to a remote host without TLS")
    );
    assert_eq!(verdict_under(&plain, Development), "Unencrypted");
}
