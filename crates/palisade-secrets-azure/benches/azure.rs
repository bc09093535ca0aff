//! palisade-secrets-azure benchmark, against a peer in the same run:
//! - a cached hit on a Key Vault-backed secret (warmed from the Key Vault emulator, through the
//!   Azure SDK over TLS) vs a cached hit on an in-memory source holding the same value and
//!   version (target: <= 1.1x: the backend is off the hot path).
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up fails loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_secrets::{CachePolicy, Cached, FileSource, SecretRef};
use palisade_secrets_azure::{AzureKeyVaultSource, AzureOptions};
use palisade_test::emulators::key_vault::{Attributes, KeyVaultEmulator};
use palisade_test::secrets::cached_hit_against_in_memory;
use palisade_test::{FakeClock, unique_name};

/// A value of realistic length (a DSN-sized string).
const VALUE: &str = "postgresql://app:s3cr3t-passw0rd@db.internal.example.com:5432/app";

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(unique_name("key-vault-bench"));
    let (_vault, cache, reference) = runtime.block_on(async {
        let vault = KeyVaultEmulator::start(Arc::new(FakeClock::new()))
            .await
            .unwrap();
        vault.add_token("bench-token", true, Duration::from_secs(3600));
        vault.set("db-dsn", VALUE, &Attributes::default());
        let ca = vault.certificate().write_pem(&dir).unwrap();
        std::fs::write(dir.join("token"), "bench-token").unwrap();
        let token: SecretRef = format!("file:{}", dir.join("token").display())
            .parse()
            .unwrap();
        let options = AzureOptions::access_token(token, Arc::new(FileSource::new()))
            .ca_certificate(ca)
            .resolve("bench.vault.azure.net", vault.address());
        let source = AzureKeyVaultSource::connect(options).await.unwrap();
        let cache = Cached::new(source, CachePolicy::DEFAULT);
        let reference: SecretRef = format!("azure-kv:{}/db-dsn", vault.vault_url("bench"))
            .parse()
            .unwrap();
        cache.get(&reference).await.unwrap();
        (vault, cache, reference)
    });
    std::fs::remove_dir_all(&dir).unwrap();
    cached_hit_against_in_memory("palisade-secrets-azure", "Key Vault", &cache, &reference);
}
