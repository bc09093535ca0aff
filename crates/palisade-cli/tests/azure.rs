//! `palisade secret check azure-kv:...` takes its credential from Azure's environment chain.
//! A Key Vault host cannot be pointed at the emulator from outside the process (no DNS
//! override, no extra CA for the CLI), so the full read is tested in `palisade-secrets-azure`.
//! Here the CLI shows that `AZURE_CLIENT_SECRET` selects the client secret credential (whose
//! tenant id the SDK validates), and that a vault it cannot reach is an outage, reported
//! without the secret.
#![cfg(feature = "azure")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;

const REFERENCE: &str = "azure-kv:https://myvault.vault.azure.net/db-password";
const CLIENT_SECRET: &str = "client-secret-canary-7f3a";

fn check(tenant: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["secret", "check", REFERENCE])
        .env_clear()
        .env("AZURE_TENANT_ID", tenant)
        .env("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")
        .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
        // No DNS here: the vault's host cannot be reached.
        .env("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains(CLIENT_SECRET), "{stderr}");
    (out.status.code().unwrap(), stderr)
}

#[test]
fn the_client_secret_credential_is_chosen_from_the_environment() {
    let (code, stderr) = check("not a tenant/id");
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "palisade: the Azure credential could not be set up: check the tenant and client ids\n"
    );
}

#[test]
fn a_vault_that_cannot_be_reached_is_an_outage() {
    let (code, stderr) = check("00000000-0000-0000-0000-000000000001");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        format!("palisade: secret source for {REFERENCE} is unavailable\n")
    );
}
