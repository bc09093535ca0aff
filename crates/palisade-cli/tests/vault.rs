//! `palisade secret check vault:...` against the Vault emulator, configured the way users
//! configure the `vault` CLI: `VAULT_ADDR`, `VAULT_TOKEN` (or `~/.vault-token`),
//! `VAULT_NAMESPACE`.
#![cfg(feature = "vault")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;
use std::sync::Arc;

use palisade_test::emulators::vault::{TokenSpec, VaultEmulator};
use palisade_test::{Canary, FakeClock, unique_name};
use serde_json::json;

fn palisade(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

// The CLI runs while the emulator serves, so the emulator needs worker threads of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_vault_secret_is_checked_through_the_vault_environment() {
    let vault = VaultEmulator::start(Arc::new(FakeClock::new()))
        .await
        .unwrap();
    let token = Canary::new();
    let password = Canary::new();
    vault.enable_kv2("team-a", "secret");
    vault.add_token(token.value(), TokenSpec::root());
    for _ in 0..2 {
        vault
            .put(
                "team-a",
                "secret",
                "db",
                json!({ "password": password.value() }),
            )
            .unwrap();
    }
    let url = vault.url();
    let env = [
        ("VAULT_ADDR", url.as_str()),
        ("VAULT_TOKEN", token.value()),
        ("VAULT_NAMESPACE", "team-a"),
    ];

    let reference = "vault:secret/db#password";
    let (code, stdout, stderr) = palisade(&["secret", "check", reference], &env);
    assert_eq!(code, 0, "{stderr}");
    let length = password.value().len();
    assert_eq!(
        stdout,
        format!("{reference}: found (source vault, version 2, {length} bytes)\n")
    );

    let (code, _, stderr) = palisade(&["secret", "check", "vault:secret/missing"], &env);
    assert_eq!(code, 1);
    assert_eq!(stderr, "palisade: secret vault:secret/missing not found\n");

    let (code, _, stderr) = palisade(&["secret", "check", reference], &env[..1]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "palisade: no Vault token: set VAULT_TOKEN or run `vault login`\n"
    );

    for text in [&stdout, &stderr] {
        token.assert_absent("CLI output", text);
        password.assert_absent("CLI output", text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn the_token_file_of_vault_login_is_used_without_vault_token() {
    let vault = VaultEmulator::start(Arc::new(FakeClock::new()))
        .await
        .unwrap();
    vault.enable_kv2("", "secret");
    vault.add_token("hvs.from-login", TokenSpec::root());
    vault
        .put("", "secret", "app", json!({ "key": "value" }))
        .unwrap();
    let home = std::env::temp_dir().join(unique_name("vault-home"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".vault-token"), "hvs.from-login").unwrap();
    let url = vault.url();
    let env = [
        ("VAULT_ADDR", url.as_str()),
        ("HOME", home.to_str().unwrap()),
    ];
    let (code, stdout, stderr) = palisade(&["secret", "check", "vault:secret/app#key"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("vault:secret/app#key: found (source vault, version 1"),
        "{stdout}"
    );

    let (code, _, stderr) = palisade(
        &["secret", "check", "vault:secret/app"],
        &[("HOME", "/nonexistent")],
    );
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "palisade: VAULT_ADDR is not set: it names the Vault server\n"
    );
    std::fs::remove_dir_all(&home).unwrap();
}
