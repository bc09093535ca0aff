//! palisade-secrets-vault benchmark, against a peer in the same run:
//! - a cached hit on a Vault-backed secret (warmed from the Vault emulator) vs a cached hit on
//!   an in-memory source holding the same value and version (target: <= 1.1x: the backend is
//!   off the hot path).
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up fails loudly"
)]

use std::sync::Arc;

use palisade_secrets::{CachePolicy, Cached, FileSource, SecretRef};
use palisade_secrets_vault::{VaultOptions, VaultSource};
use palisade_test::emulators::vault::{TokenSpec, VaultEmulator};
use palisade_test::secrets::cached_hit_against_in_memory;
use palisade_test::{FakeClock, unique_name};

/// A value of realistic length (a DSN-sized string).
const VALUE: &str = "postgresql://app:s3cr3t-passw0rd@db.internal.example.com:5432/app";

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_vault, cache, reference) = runtime.block_on(async {
        let vault = VaultEmulator::start(Arc::new(FakeClock::new()))
            .await
            .unwrap();
        vault.enable_kv2("", "secret");
        vault.add_token("hvs.bench", TokenSpec::root());
        vault
            .put("", "secret", "db", serde_json::json!({ "dsn": VALUE }))
            .unwrap();
        let token_file = std::env::temp_dir().join(unique_name("vault-bench-token"));
        std::fs::write(&token_file, "hvs.bench").unwrap();
        let token: SecretRef = format!("file:{}", token_file.display()).parse().unwrap();
        let source = VaultSource::connect(VaultOptions::new(
            vault.url(),
            token,
            Arc::new(FileSource::new()),
        ))
        .await
        .unwrap();
        let cache = Cached::new(source, CachePolicy::DEFAULT);
        let reference: SecretRef = "vault:secret/db#dsn".parse().unwrap();
        cache.get(&reference).await.unwrap();
        std::fs::remove_file(&token_file).unwrap();
        (vault, cache, reference)
    });
    cached_hit_against_in_memory("palisade-secrets-vault", "Vault", &cache, &reference);
}
