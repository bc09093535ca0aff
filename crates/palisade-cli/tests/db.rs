//! `palisade db verify` against the PostgreSQL and MariaDB of `cargo xtask services up` and
//! the logins they provision: exit 0 for a credential that is exactly what is expected, 1
//! with one line per excess, 2 for a DSN that does not resolve, a refused login or an
//! unreachable server; text and JSON; the DSN's password never printed (R-SQL-5).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use palisade_test::{Canary, Service};
use serde_json::Value;

const DATABASE: &str = "palisade_privileges";

/// Runs `palisade db verify --dsn env:DSN` with `dsn` in the environment.
fn verify(dsn: &str, args: &[&str]) -> (i32, String, String) {
    let mut argv = vec!["db", "verify", "--dsn", "env:DSN"];
    argv.extend_from_slice(args);
    common::run(&argv, &[("DSN", dsn)], None, "")
}

#[test]
fn each_credential_gets_its_exit_code_and_lines() {
    // A password the trust rule ignores, so it can be looked for in the output.
    let canary = Canary::new();
    let ro = Service::Postgres.url_as("palisade_ro", Some(canary.value()), DATABASE, "");
    let (code, out, err) = verify(&ro, &["--expect", "read-only"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("role: palisade_ro\ntls: TLS_"), "{out}");
    assert!(out.ends_with("exactly as expected\n"), "{out}");
    canary.assert_absent("stdout", &out);
    canary.assert_absent("stderr", &err);

    let stray = Service::Postgres.url_as("palisade_stray", Some(canary.value()), DATABASE, "");
    let (code, out, _) = verify(&stray, &["--expect", "read-only"]);
    assert_eq!(code, 1, "{out}");
    let excesses: Vec<&str> = out.lines().filter(|l| l.starts_with("excess: ")).collect();
    assert_eq!(
        excesses,
        ["excess: the role has INSERT on public.accounts"],
        "{out}"
    );
    canary.assert_absent("stdout", &out);
    let (code, out, _) = verify(&stray, &["--expect", "read-write", "--table", "accounts"]);
    assert_eq!(code, 0, "{out}");

    let (code, out, _) = verify(
        &Service::Postgres.url_as("palisade_member", None, DATABASE, ""),
        &["--expect", "read-only", "--format", "json"],
    );
    assert_eq!(code, 1, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["exact"], false);
    let kinds: Vec<(&str, &str)> = json["excesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["table"].as_str().unwrap(),
                e["privilege"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("public.orders", "INSERT"), ("public.orders", "UPDATE")]
    );

    // MariaDB: a SUPER grant, over verified TLS to the name on the certificate.
    let ca = Service::Mariadb.field("tls_ca").unwrap();
    let sup = Service::Mariadb
        .url_as(
            "palisade_super",
            Some("palisade_super"),
            DATABASE,
            &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
        )
        .replacen("@127.0.0.1:", "@localhost:", 1);
    let (code, out, err) = verify(&sup, &["--expect", "read-only", "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["role"], "palisade_super@127.0.0.1");
    assert!(
        json["tls_cipher"].as_str().unwrap().starts_with("TLS_"),
        "{json}"
    );
    assert_eq!(json["excesses"][0]["kind"], "privilege");
    assert_eq!(json["excesses"][0]["privilege"], "SUPER");
    assert!(!out.contains("palisade_super:"), "{out}");
}

#[test]
fn what_cannot_be_checked_exits_2_and_names_why() {
    let canary = Canary::new();
    // A wrong password.
    let wrong = Service::Mariadb.url_as("palisade_ro", Some(canary.value()), DATABASE, "");
    let (code, out, err) = verify(&wrong, &["--expect", "read-only"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        "palisade: the database server refused the login (code 28000)\n"
    );
    canary.assert_absent("stderr", &err);
    // A TLS-only login without TLS.
    let plain = Service::Postgres.url_as(
        "palisade_tls_only",
        Some(canary.value()),
        DATABASE,
        "sslmode=disable",
    );
    let (code, _, err) = verify(&plain, &["--expect", "read-only"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refused the login"), "{err}");
    canary.assert_absent("stderr", &err);
    // Nothing listens.
    let nowhere = format!("postgres://palisade_ro:{}@127.0.0.1:1/x", canary.value());
    let (code, _, err) = verify(&nowhere, &["--expect", "read-only"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be reached"), "{err}");
    canary.assert_absent("stderr", &err);
    // Catalogs the role may not read.
    let denied = Service::Postgres.url_as("palisade_ro", None, "palisade_no_catalog", "");
    let (code, _, err) = verify(&denied, &["--expect", "read-only"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("may not read the catalogs"), "{err}");
    // A reference that does not resolve, a DSN of another engine, a usage mistake.
    let (code, _, err) = common::run(
        &[
            "db",
            "verify",
            "--dsn",
            "env:PALISADE_NO_SUCH_DSN",
            "--expect",
            "read-only",
        ],
        &[],
        None,
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read the DSN"), "{err}");
    let (code, _, err) = verify(
        &format!("mongodb://u:{}@127.0.0.1/x", canary.value()),
        &["--expect", "read-only"],
    );
    assert_eq!(code, 2, "{err}");
    canary.assert_absent("stderr", &err);
    let (code, _, _) = verify(
        "postgres://x@127.0.0.1/x",
        &["--expect", "read-only", "--table", "t"],
    );
    assert_eq!(code, 2);
    // Options the driver refuses.
    let bogus = Service::Mariadb.url_as(
        "palisade_ro",
        Some(canary.value()),
        DATABASE,
        "ssl-mode=bogus",
    );
    let (code, _, err) = verify(&bogus, &["--expect", "read-only"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("options are not valid"), "{err}");
    canary.assert_absent("stderr", &err);
}

#[test]
fn a_server_that_never_answers_ends_at_the_timeout() {
    // Accepts and holds every connection, answering nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    for scheme in ["postgres", "mysql"] {
        let dsn = format!("{scheme}://u:p@127.0.0.1:{port}/x");
        let (code, _, err) = verify(&dsn, &["--expect", "read-only", "--timeout", "1"]);
        assert_eq!(code, 2, "{scheme}: {err}");
        assert_eq!(
            err, "palisade: the database server did not answer within 1 s\n",
            "{scheme}"
        );
    }
}
