//! `crud-api --check-config`: passes on the services, and names each fault without a secret.

use std::process::Command;

use palisade_test::Canary;

use crate::common::{database_name, secret_file, settings_env};

/// `crud-api --check-config` with `env`: its exit code and output.
fn check_config(env: &[(String, String)]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_crud-api"))
        .arg("--check-config")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn check_config_passes_on_the_services_and_names_every_fault() {
    let base = settings_env(&database_name());
    let (code, out) = check_config(&base);
    assert_eq!(code, 0, "{out}");
    for name in [
        "MONGO_URL",
        "REDIS_URL",
        "DATABASE_URL",
        "DATABASE_READ_ONLY_URL",
    ] {
        assert!(out.contains(&format!("ok    {name}")), "{name}: {out}");
    }

    let with = |changes: &[(&str, String)]| {
        let mut env = base.clone();
        for (key, value) in changes {
            env.retain(|(k, _)| k != key);
            env.push(((*key).to_owned(), value.clone()));
        }
        check_config(&env)
    };
    let password = Canary::new();
    // The read-write login where the read-only one belongs: it can write.
    let writer = base
        .iter()
        .find(|(k, _)| k == "DATABASE_URL")
        .unwrap()
        .1
        .clone();
    let (code, out) = with(&[("DATABASE_READ_ONLY_URL", writer)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL  DATABASE_READ_ONLY_URL: crud_api can do more than it should"),
        "{out}"
    );
    // Nothing listening; a missing secret; a password written into a setting.
    let (code, out) = with(&[("REDIS_URL", "redis://127.0.0.1:1/".to_owned())]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  REDIS_URL"), "{out}");
    let (code, out) = with(&[("JWT_SECRET", "env:CRUD_API_NO_SUCH_VARIABLE".to_owned())]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  JWT_SECRET"), "{out}");
    // A field key that is not 32 bytes.
    let (code, out) = with(&[("FIELD_KEY", secret_file("not a key"))]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL  FIELD_KEY") && !out.contains("not a key"),
        "{out}"
    );
    let (code, out) = with(&[(
        "DATABASE_URL",
        format!(
            "postgres://crud_api:{}@127.0.0.1:55432/crud_api",
            password.value()
        ),
    )]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DATABASE_URL: holds a password"), "{out}");
    password.assert_absent("check-config output", &out);
    // Production: a database on another machine without verified TLS is refused.
    let (code, out) = with(&[
        ("MODE", "prod".to_owned()),
        (
            "JWT_SECRET",
            secret_file("a production key of thirty-two bytes or more"),
        ),
        ("AUDIT_LOG_DIR", std::env::temp_dir().display().to_string()),
        (
            "AUDIT_KEY",
            secret_file("an audit key of thirty-two bytes or more"),
        ),
        (
            "FIELD_KEY",
            secret_file("1f2e3d4c5b6a79880f1e2d3c4b5a69781f2e3d4c5b6a79880f1e2d3c4b5a6978"),
        ),
        (
            "FIELD_INDEX_KEY",
            secret_file("8f7e6d5c4b3a29180f1e2d3c4b5a69788f7e6d5c4b3a29180f1e2d3c4b5a6978"),
        ),
        ("MONGO_URL", "mongodb://db.example.com:27017/".to_owned()),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL  MONGO_URL") && out.contains("TLS"),
        "{out}"
    );
}
