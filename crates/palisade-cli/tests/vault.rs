//! `palisade secret check vault:...` against a real Vault API (OpenBao's dev server of
//! `cargo xtask services up`, set up with its own `bao` command line), configured the way
//! users configure the `vault` CLI: `VAULT_ADDR`, `VAULT_TOKEN` (or `~/.vault-token`),
//! `VAULT_NAMESPACE`.
#![cfg(feature = "vault")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;

use palisade_test::{Canary, OpenBao, unique_name};

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

#[test]
fn a_vault_secret_is_checked_through_the_vault_environment() {
    let bao = OpenBao::shared();
    let namespace = unique_name("cli");
    let _ = bao.cli(&["namespace", "create", &namespace]);
    let _ = bao.cli(&[
        "secrets",
        "enable",
        &format!("-namespace={namespace}"),
        "-path=secret",
        "kv-v2",
    ]);
    let password = Canary::new();
    for _ in 0..2 {
        let _ = bao.cli(&[
            "kv",
            "put",
            &format!("-namespace={namespace}"),
            "-mount=secret",
            "db",
            &format!("password={}", password.value()),
        ]);
    }
    let token = bao.root_token();
    let env = [
        ("VAULT_ADDR", bao.url()),
        ("VAULT_TOKEN", token),
        ("VAULT_NAMESPACE", namespace.as_str()),
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
        assert!(!text.contains(token), "the token reached the CLI output");
        password.assert_absent("CLI output", text);
    }
}

#[test]
fn the_token_file_of_vault_login_is_used_without_vault_token() {
    let bao = OpenBao::shared();
    let path = unique_name("app");
    let _ = bao.cli(&["kv", "put", "-mount=secret", &path, "key=value"]);
    let home = std::env::temp_dir().join(unique_name("vault-home"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".vault-token"), bao.root_token()).unwrap();
    let env = [("VAULT_ADDR", bao.url()), ("HOME", home.to_str().unwrap())];
    let reference = format!("vault:secret/{path}#key");
    let (code, stdout, stderr) = palisade(&["secret", "check", &reference], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!("{reference}: found (source vault, version 1")),
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
