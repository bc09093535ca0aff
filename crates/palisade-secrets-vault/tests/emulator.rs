//! The Vault source through vaultrs against the Vault emulator of `palisade-test` (whose own
//! conformance tests pin it to Vault's API documentation), for what a real server cannot show:
//! exactly which requests were sent and how often (renewal at two thirds of the TTL on the
//! fake clock, one re-read of the token after a 403, one read for a thousand concurrent
//! misses), and what needs no server at all. Everything a real server can answer is tested
//! against OpenBao in `openbao.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use palisade_secrets::{CachePolicy, Cached, FileSource, SecretError, SecretRef, SecretSource};
use palisade_secrets_vault::{VaultOptions, VaultSource};
use palisade_test::emulators::vault::{TokenSpec, VaultEmulator};
use palisade_test::secrets::get_at_once;
use palisade_test::{Canary, FakeClock, LogCapture, unique_name};
use serde_json::json;

const HOUR: Duration = Duration::from_secs(3600);

/// A Vault emulator with a `secret` mount, a token file holding a renewable one-hour token,
/// and the clock both share.
struct Fixture {
    vault: VaultEmulator,
    clock: FakeClock,
    token_file: PathBuf,
}

impl Fixture {
    async fn new() -> Self {
        let clock = FakeClock::new();
        let vault = VaultEmulator::start(Arc::new(clock.clone())).await.unwrap();
        vault.enable_kv2("", "secret");
        let fixture = Self {
            vault,
            clock,
            token_file: std::env::temp_dir().join(unique_name("vault-token")),
        };
        fixture.issue("hvs.first", TokenSpec::renewable(HOUR));
        fixture
    }

    /// Issues `token` and writes it to the token file (as a Vault Agent sink would).
    fn issue(&self, token: &str, spec: TokenSpec) {
        self.vault.add_token(token, spec);
        std::fs::write(&self.token_file, format!("{token}\n")).unwrap();
    }

    fn options(&self) -> VaultOptions {
        let token = format!("file:{}", self.token_file.display());
        VaultOptions::new(
            self.vault.url(),
            token.parse().unwrap(),
            Arc::new(FileSource::new()),
        )
    }

    async fn source(&self) -> VaultSource {
        self.source_with(self.options()).await
    }

    async fn source_with(&self, options: VaultOptions) -> VaultSource {
        VaultSource::connect(options)
            .await
            .unwrap()
            .with_clock(Arc::new(self.clock.clone()))
    }

    /// A cache with `ttl` over a new source, on the shared clock.
    async fn cache(&self, ttl: Duration) -> Cached<VaultSource> {
        let policy = CachePolicy::new(ttl).unwrap();
        Cached::with_clock(self.source().await, policy, Arc::new(self.clock.clone()))
    }

    fn put(&self, path: &str, data: serde_json::Value) -> u64 {
        self.vault.put("", "secret", path, data).unwrap()
    }

    /// How many times a token was taken into use (each new session looks itself up).
    fn token_reads(&self) -> usize {
        self.vault.calls_to("/v1/auth/token/lookup-self")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_file(&self.token_file);
    }
}

fn reference(text: &str) -> SecretRef {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_renewable_token_is_renewed_after_two_thirds_of_its_ttl() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let source = f.source().await;
    let secret = reference("vault:secret/db#password");
    source.fetch(&secret).await.unwrap();
    f.clock.advance(Duration::from_secs(2300));
    source.fetch(&secret).await.unwrap();
    assert_eq!(
        f.vault.calls_to("/v1/auth/token/renew-self"),
        0,
        "not yet due at 2300 of 3600 s"
    );

    f.clock.advance(Duration::from_secs(200));
    source.fetch(&secret).await.unwrap();
    assert_eq!(f.vault.calls_to("/v1/auth/token/renew-self"), 1);
    assert_eq!(
        f.vault.token_ttl("hvs.first"),
        Some(3600),
        "renewed by its creation TTL"
    );

    // Past the original expiry the renewed token still works, without reading it again.
    f.clock.advance(Duration::from_secs(1500));
    source.fetch(&secret).await.unwrap();
    assert_eq!(f.token_reads(), 1);
}

#[tokio::test]
async fn a_refused_token_is_read_again_from_its_source_and_the_request_retried() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let source = f.source().await;
    let secret = reference("vault:secret/db#password");
    source.fetch(&secret).await.unwrap();
    // The operator revokes the token and the agent writes a new one.
    f.vault.revoke_token("hvs.first");
    f.issue("hvs.second", TokenSpec::renewable(HOUR));
    let value = source.fetch(&secret).await.unwrap();
    assert_eq!(value.expose_str(), Some("pw"));
    assert_eq!(f.token_reads(), 2, "the token was taken into use twice");
    let statuses: Vec<u16> = f.vault.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 200, 403, 200, 200],
        "lookup, read, refused read, lookup, read"
    );
}

#[tokio::test]
async fn a_missing_token_file_is_access_denied_and_an_empty_one_too() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let missing = VaultOptions::new(
        f.vault.url(),
        reference("file:/nonexistent/vault-token"),
        Arc::new(FileSource::new()),
    );
    let error = f
        .source_with(missing)
        .await
        .fetch(&reference("vault:secret/db"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
    std::fs::write(&f.token_file, "\n").unwrap();
    let error = f
        .source()
        .await
        .fetch(&reference("vault:secret/db"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
    assert_eq!(
        f.vault.requests().len(),
        0,
        "nothing was sent without a token"
    );
}

#[tokio::test]
async fn the_cache_sees_a_rotation_after_its_ttl_and_after_a_forced_refresh() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "v1" }));
    let cache = f.cache(Duration::from_secs(300)).await;
    let secret = reference("vault:secret/db#password");
    assert_eq!(
        cache.get(&secret).await.unwrap().value().expose_str(),
        Some("v1")
    );

    f.put("db", json!({ "password": "v2" }));
    assert_eq!(
        cache.get(&secret).await.unwrap().value().expose_str(),
        Some("v1"),
        "within the TTL"
    );
    assert_eq!(f.vault.reads_of("secret", "db"), 1);
    // The database refused the old password: the application forces a refresh.
    let refreshed = cache.refresh_now(&secret).await.unwrap();
    assert_eq!(refreshed.value().expose_str(), Some("v2"));
    assert_eq!(refreshed.value().metadata().version.as_deref(), Some("2"));

    f.put("db", json!({ "password": "v3" }));
    f.clock.advance(Duration::from_secs(301));
    let after = cache.get(&secret).await.unwrap();
    assert_eq!(after.value().expose_str(), Some("v3"));
    assert_eq!(after.value().metadata().version.as_deref(), Some("3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_gets_of_an_expired_secret_make_one_read() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "v1" }));
    let cache = Arc::new(f.cache(Duration::from_secs(300)).await);
    let secret = reference("vault:secret/db#password");
    cache.get(&secret).await.unwrap();
    f.put("db", json!({ "password": "v2" }));
    f.clock.advance(Duration::from_secs(301));
    for value in get_at_once(&cache, &secret, 1_000).await {
        assert_eq!(value.unwrap().expose_str(), Some("v2"));
    }
    assert_eq!(
        f.vault.reads_of("secret", "db"),
        2,
        "one read to fill, one for all thousand"
    );
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let options = VaultOptions::new(
        "http://vault.example.com:8200",
        reference("env:VAULT_TOKEN"),
        Arc::new(FileSource::new()),
    );
    let error = VaultSource::connect(options).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the Vault address is not usable: plain http is allowed only on loopback; use https"
    );
}

#[tokio::test]
async fn neither_the_token_nor_a_secret_reaches_debug_errors_or_logs() {
    let token = Canary::new();
    let password = Canary::new();
    let capture = LogCapture::start();
    let f = Fixture::new().await;
    f.issue(token.value(), TokenSpec::renewable(HOUR));
    f.put("db", json!({ "password": password.value() }));
    let source = f.source_with(f.options().namespace("team-a")).await;
    assert_eq!(
        format!("{source:?}"),
        format!(
            "VaultSource {{ address: {:?}, namespace: Some(\"team-a\"), token: \"file:{}\", .. }}",
            f.vault.url(),
            f.token_file.display()
        )
    );
    let plain = f.source().await;
    let value = plain
        .fetch(&reference("vault:secret/db#password"))
        .await
        .unwrap();
    assert_eq!(value.expose_str(), Some(password.value()));
    f.clock.advance(Duration::from_secs(3000));
    plain.fetch(&reference("vault:secret/db")).await.unwrap();
    f.vault.revoke_token(token.value());
    let error = plain
        .fetch(&reference("vault:secret/db#password"))
        .await
        .unwrap_err();
    for canary in [&token, &password] {
        canary.assert_not_in_debug(&plain);
        canary.assert_not_in_debug(&value);
        canary.assert_not_in_error(&error);
        canary.assert_absent("logs", &capture.text());
    }
    assert!(
        capture.text().contains("Vault refused the token"),
        "the refusal is logged"
    );
}
