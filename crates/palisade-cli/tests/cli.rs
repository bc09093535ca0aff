//! The exit-code contract of the `palisade` binary.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use std::process::Command;

mod common;

fn palisade(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn version_exits_zero() {
    let (code, stdout, _) = palisade(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("palisade {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let (code, _, stderr) = palisade(&["no-such-command"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("'no-such-command'"), "{stderr}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let (code, _, stderr) = palisade(&["--no-such-flag"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unexpected argument '--no-such-flag'"),
        "{stderr}"
    );
}

#[test]
fn no_arguments_prints_usage_and_fails() {
    let (code, _, stderr) = palisade(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Usage: palisade"), "{stderr}");
}

/// Runs `palisade` with extra environment variables and stdin.
fn palisade_with(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    common::run(args, env, None, stdin)
}

#[test]
fn secret_check_reports_source_and_length_never_the_value() {
    let canary = palisade_test::Canary::new();
    let env = [("PALISADE_CLI_SECRET", canary.value())];
    let (code, stdout, stderr) =
        palisade_with(&["secret", "check", "env:PALISADE_CLI_SECRET"], &env, "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "env:PALISADE_CLI_SECRET: found (source env, version none, 36 bytes)\n"
    );
    canary.assert_absent("stdout", &stdout);
    canary.assert_absent("stderr", &stderr);

    let (code, stdout, _) = palisade_with(
        &[
            "secret",
            "check",
            "env:PALISADE_CLI_SECRET",
            "--format",
            "json",
        ],
        &env,
        "",
    );
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"kind": "secret", "reference": "env:PALISADE_CLI_SECRET", "source": "env", "version": null, "length": 36})
    );

    let (code, stdout, _) = palisade_with(
        &["secret", "check", "env:PALISADE_CLI_SECRET", "--reveal"],
        &env,
        "",
    );
    assert_eq!(code, 0);
    assert_eq!(stdout, canary.value(), "--reveal prints exactly the value");
}

#[test]
fn secret_check_of_a_missing_secret_is_a_finding_and_a_bad_reference_a_usage_error() {
    let (code, stdout, stderr) = palisade(&["secret", "check", "env:PALISADE_SURELY_UNSET"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "palisade: secret env:PALISADE_SURELY_UNSET not found\n"
    );

    let (code, _, stderr) = palisade(&["secret", "check", "postgres://app:hunter2@db/app"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("palisade: not a secret reference:"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn dsn_check_prints_the_redacted_dsn_and_refuses_plaintext_in_production() {
    let canary = palisade_test::Canary::new();
    let dsn = format!("postgres://app:{}@db.example.com:5432/app", canary.value());
    let env = [("PALISADE_CLI_DSN", dsn.as_str())];
    let (code, stdout, stderr) = palisade_with(
        &["dsn", "check", "env:PALISADE_CLI_DSN", "--production"],
        &env,
        "",
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stdout,
        "dsn: postgres://app:***@db.example.com:5432/app\n\
         engine: PostgreSQL\n\
         hosts: db.example.com:5432\n\
         database: app\n\
         tls: refused: PostgreSQL DSN connects to a remote host without TLS; add `sslmode=verify-full`\n"
    );
    canary.assert_absent("stdout", &stdout);
    canary.assert_absent("stderr", &stderr);

    let (code, stdout, _) = palisade_with(&["dsn", "check", "env:PALISADE_CLI_DSN"], &env, "");
    assert_eq!(
        code, 0,
        "without --production the verdict is reported, not enforced"
    );
    assert!(stdout.ends_with("tls: unencrypted\n"), "{stdout}");
}

#[test]
fn dsn_check_reads_stdin_and_speaks_json() {
    let canary = palisade_test::Canary::new();
    let dsn = format!(
        "mongodb+srv://app:{}@cluster0.example.net/app?retryWrites=true\n",
        canary.value()
    );
    let (code, stdout, stderr) = palisade_with(
        &["dsn", "check", "-", "--production", "--format", "json"],
        &[],
        &dsn,
    );
    assert_eq!(code, 0, "{stderr}");
    canary.assert_absent("stdout", &stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({
            "kind": "dsn",
            "dsn": "mongodb+srv://app:***@cluster0.example.net/app?retryWrites=true",
            "engine": "MongoDB",
            "hosts": [{"name": "cluster0.example.net", "port": null}],
            "database": "app",
            "tls": "verified",
            "tls_by": "mongodb+srv",
            "refusal": null,
            "policy": "production",
        })
    );
}

#[test]
fn a_malformed_dsn_is_an_input_error_that_does_not_quote_it() {
    let (code, stdout, stderr) = palisade_with(
        &["dsn", "check", "-"],
        &[],
        "postgres://app:hunter2@db:99999/app",
    );
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "palisade: DSN port of host 1 is not a number from 1 to 65535\n"
    );
}

#[test]
fn password_hash_then_verify_reads_the_password_from_stdin() {
    let canary = palisade_test::Canary::new();
    let (code, stdout, stderr) = palisade_with(&["password", "hash"], &[], canary.value());
    assert_eq!(code, 0, "{stderr}");
    let hash = stdout.trim();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    canary.assert_absent("hash", hash);

    let (code, stdout, _) = palisade_with(&["password", "verify", hash], &[], canary.value());
    assert_eq!((code, stdout.as_str()), (0, "ok\n"));
    let (code, stdout, _) = palisade_with(&["password", "verify", hash], &[], "wrong\n");
    assert_eq!((code, stdout.as_str()), (1, "mismatch\n"));
    let (code, stdout, _) = palisade_with(
        &["password", "verify", hash, "--format", "json"],
        &[],
        "wrong",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "{\"kind\":\"password-verify\",\"result\":\"mismatch\"}\n"
    );
}

#[test]
fn password_verify_of_a_legacy_hash_prints_the_upgrade() {
    let weaker = palisade_password::Policy::argon2id(7_168, 5, 1).unwrap();
    let old = palisade_password::Passwords::new(weaker)
        .unwrap()
        .hash("hunter22")
        .unwrap();
    let (code, stdout, _) = palisade_with(&["password", "verify", &old], &[], "hunter22\n");
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"ok, rehash due"));
    assert!(
        lines
            .get(1)
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    let (code, stdout, _) = palisade_with(
        &["password", "verify", &old, "--format", "json"],
        &[],
        "hunter22",
    );
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["kind"], "password-verify");
    assert_eq!(report["result"], "ok");
    assert_eq!(report["scheme"], "argon2id");
    assert_eq!(report["rehash_due"], true);
    assert_eq!(report["reason"], "weaker-parameters");
    let upgraded = report["upgraded_hash"].as_str().unwrap();
    let (code, stdout, _) = palisade_with(&["password", "verify", upgraded], &[], "hunter22");
    assert_eq!((code, stdout.as_str()), (0, "ok\n"));
}

#[test]
fn password_verify_of_a_malformed_hash_is_an_input_error_that_does_not_quote_it() {
    let canary = palisade_test::Canary::new();
    let stored = format!("$2b$12${}", canary.value());
    let (code, stdout, stderr) = palisade_with(&["password", "verify", &stored], &[], "pw");
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "palisade: stored bcrypt hash is malformed: it is not a 60-character bcrypt hash\n"
    );
    canary.assert_absent("stderr", &stderr);
    let (code, _, stderr) = palisade_with(&["password", "hash"], &[], &"p".repeat(5000));
    assert_eq!(code, 2);
    assert_eq!(stderr, "palisade: password is longer than 4096 bytes\n");
}

#[test]
fn ratelimit_explain_prints_burst_and_refill_or_points_at_the_error() {
    let (code, stdout, _) = palisade(&["ratelimit", "explain", "5 per minute; 10 per 30 seconds"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "spec: 5/minute; 10/30 seconds\n\
         5/minute: burst 5, then 1 more every 12s (window 60s)\n\
         10/30 seconds: burst 10, then 1 more every 3s (window 30s)\n"
    );
    let (code, stdout, _) = palisade(&["ratelimit", "explain", "3/second", "--format", "json"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["kind"], "ratelimit");
    assert_eq!(report["spec"], "3/second");
    assert_eq!(report["limits"][0]["burst"], 3);
    assert_eq!(report["limits"][0]["period_seconds"], 1);

    let (code, stdout, stderr) = palisade(&["ratelimit", "explain", "5/minute; 100 per fortnight"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "palisade: rate limit spec has an unknown unit `fortnight` at bytes 18..27\n\
         palisade:   5/minute; 100 per fortnight\n                              ^^^^^^^^^\n"
    );
}

#[test]
fn mongo_check_guards_and_scopes_filters_from_stdin() {
    let (code, stdout, stderr) = palisade_with(
        &["mongo", "check", "--format", "json"],
        &[],
        r#"{"$or": [{"a": 1}, {"name": {"$where": "sleep(100)"}}]}"#,
    );
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["result"], "rejected");
    assert_eq!(report["status"], 400);
    assert_eq!(report["path"], "filter.$or[1].name.$where");
    assert!(
        !stdout.contains("sleep"),
        "the report quotes the filter: {stdout}"
    );

    let (code, stdout, _) = palisade_with(
        &[
            "mongo",
            "check",
            "--lines",
            "--scope-user",
            "u-1",
            "--scalar-field",
            "password",
        ],
        &[],
        "{\"status\": \"open\", \"_id\": {\"$oid\": \"65a1b2c3d4e5f60718293a4b\"}}\n\n{\"password\": {\"$ne\": null}}\n",
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r#"ok {"$and":[{"status":"open","_id":{"$oid":"65a1b2c3d4e5f60718293a4b"}}],"user_id":"u-1"}"#,
            "rejected: filter.password takes a plain value (string, number, boolean, id or date), not an operator or a document",
        ]
    );

    let (code, _, stderr) = palisade_with(&["mongo", "check"], &[], "{not json");
    assert_eq!(code, 2);
    assert!(stderr.contains("the filter is not JSON"), "{stderr}");
}

#[test]
fn sql_quote_ident_quotes_per_dialect_or_refuses() {
    for (dialect, name, quoted) in [
        ("postgres", r#"a"b"#, r#""a""b""#),
        ("mariadb", "a`b", "`a``b`"),
        ("sqlite", "order", "`order`"),
        ("mssql", "x]y", "[x]]y]"),
    ] {
        let (code, stdout, stderr) =
            palisade_with(&["sql", "quote-ident", "--dialect", dialect, name], &[], "");
        assert_eq!(
            (code, stdout.trim_end()),
            (0, quoted),
            "{dialect}: {stderr}"
        );
    }
    let (code, stdout, _) = palisade_with(
        &[
            "sql",
            "quote-ident",
            "--dialect",
            "postgres",
            "--qualified",
            "billing.in voices",
        ],
        &[],
        "",
    );
    assert_eq!((code, stdout.trim_end()), (0, r#""billing"."in voices""#));

    let long = "a".repeat(64);
    let (code, stdout, _) = palisade_with(
        &[
            "sql",
            "quote-ident",
            "--dialect",
            "postgres",
            "--format",
            "json",
            &long,
        ],
        &[],
        "",
    );
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["result"], "refused");
    assert_eq!(report["rule"], "too-long");
    assert!(
        !stdout.contains(&long),
        "the report quotes the name: {stdout}"
    );
    let (code, stdout, _) = palisade_with(
        &["sql", "quote-ident", "--dialect", "mysql", "trailing "],
        &[],
        "",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stdout.trim_end(),
        "refused: identifier ends with a space (MySQL refuses it)"
    );
}

#[test]
fn sql_check_and_fingerprint_never_print_the_sql() {
    let (code, stdout, stderr) = palisade_with(
        &[
            "sql",
            "check",
            "--dialect",
            "postgres",
            "--read-only",
            "--param",
            "id",
            "--lines",
            "--format",
            "json",
        ],
        &[],
        "SELECT name FROM users WHERE id = :id\n\nSELECT name FROM users WHERE id = 'zq-secret-7' OR 1=1\n",
    );
    assert_eq!(code, 1, "{stderr}");
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["result"], "ok");
    assert_eq!(reports[0]["tables"], serde_json::json!(["users"]));
    assert_eq!(reports[1]["statement"], 3);
    assert_eq!(reports[1]["rule"], "tautology");
    assert_eq!(
        (reports[1]["line"].as_u64(), reports[1]["column"].as_u64()),
        (Some(1), Some(30))
    );
    assert!(
        !stdout.contains("zq-secret-7"),
        "the report quotes the SQL: {stdout}"
    );

    let dir = std::env::temp_dir().join(palisade_test::unique_name("sql-allow-list"));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("shapes.jsonl");
    let list_arg = list.to_str().unwrap();
    let (code, stdout, _) = palisade_with(
        &[
            "sql",
            "fingerprint",
            "--dialect",
            "postgres",
            "--lines",
            "--learn",
            list_arg,
        ],
        &[],
        "SELECT name FROM users WHERE id = 7\nSELECT name FROM users WHERE id IN (1, 2)\n",
    );
    assert_eq!(code, 0);
    let shapes: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_once(' ').unwrap().1)
        .collect();
    assert_eq!(
        shapes,
        [
            "SELECT name FROM users WHERE id = ?",
            "SELECT name FROM users WHERE id IN (?)"
        ]
    );
    let (code, stdout, _) = palisade_with(
        &[
            "sql",
            "check",
            "--dialect",
            "postgres",
            "--positional",
            "1",
            "--allow-list",
            list_arg,
            "--lines",
        ],
        &[],
        "SELECT name FROM users WHERE id = $1\nSELECT name FROM users WHERE id = $1 AND org = $1\n",
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("statement 1: ok "), "{stdout}");
    assert_eq!(
        lines[1],
        "statement 2: refused: a statement shape outside the allow-list (shape-not-allowed)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn password_input_is_bounded_and_an_empty_password_is_refused() {
    let long = "a".repeat(100_000);
    let (code, stdout, stderr) = palisade_with(&["password", "hash"], &[], &long);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(stderr, "palisade: password is longer than 4096 bytes\n");
    let (code, _, stderr) = palisade_with(&["password", "hash"], &[], "\n");
    assert_ne!(code, 0, "{stderr}");
    let (code, _, stderr) = palisade_with(&["password", "hash"], &[], "short\n");
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("shorter than 8"), "{stderr}");
}

#[test]
fn mongo_check_caps_its_input_and_escapes_control_characters() {
    let (code, _, stderr) = palisade_with(
        &["mongo", "check", "--max-input-bytes", "64"],
        &[],
        &format!("{{\"a\": \"{}\"}}", "x".repeat(100)),
    );
    assert_eq!(code, 2);
    assert_eq!(stderr, "palisade: the input is longer than 64 bytes\n");
    // A key that holds a line break cannot forge a line of the report.
    let (code, stdout, _) = palisade_with(
        &["mongo", "check"],
        &[],
        "{\"a\\nok {}\": {\"$where\": \"1\"}}",
    );
    assert_eq!(code, 1);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("rejected: "), "{stdout}");
}

/// `--production` wants TLS that verifies the server; `--encrypted` takes encryption alone.
#[test]
fn dsn_check_production_wants_a_verified_server() {
    let require = "postgres://app@db.example.com/app?sslmode=require\n";
    let (code, stdout, _) = palisade_with(&["dsn", "check", "-", "--production"], &[], require);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("set `sslmode=verify-full`"), "{stdout}");
    let (code, stdout, _) = palisade_with(&["dsn", "check", "-", "--encrypted"], &[], require);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.ends_with("tls: encrypted (required by sslmode)\n"),
        "{stdout}"
    );
    let full = "postgres://app@db.example.com/app?sslmode=verify-full\n";
    let (code, stdout, _) = palisade_with(&["dsn", "check", "-", "--production"], &[], full);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.ends_with("tls: verified (required by sslmode)\n"),
        "{stdout}"
    );
}
