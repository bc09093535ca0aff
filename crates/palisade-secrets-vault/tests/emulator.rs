//! The Vault source through vaultrs against the Vault emulator of `palisade-test` (whose own
//! conformance tests pin it to Vault's API documentation): reads, versions, namespaces, TLS,
//! the token lifecycle (renewal, re-reading after a 403) and the palisade cache on top.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::error::Error as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use palisade_secrets::{CachePolicy, Cached, FileSource, SecretError, SecretRef, SecretSource};
use palisade_secrets_vault::{VaultConfigError, VaultOptions, VaultSource};
use palisade_test::emulators::TestCertificate;
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
        VaultOptions::new(self.vault.url(), token.parse().unwrap())
    }

    fn source(&self) -> VaultSource {
        self.source_with(self.options())
    }

    fn source_with(&self, options: VaultOptions) -> VaultSource {
        VaultSource::new(options, Arc::new(FileSource::new()))
            .unwrap()
            .with_clock(Arc::new(self.clock.clone()))
    }

    /// A cache with `ttl` over a new source, on the shared clock.
    fn cache(&self, ttl: Duration) -> Cached<VaultSource> {
        let policy = CachePolicy::new(ttl).unwrap();
        Cached::with_clock(self.source(), policy, Arc::new(self.clock.clone()))
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
async fn a_secret_is_read_whole_or_by_field_with_its_version() {
    let f = Fixture::new().await;
    f.put("db", json!({ "username": "app", "password": "first" }));
    f.put(
        "db",
        json!({ "username": "app", "password": "second", "port": 5432 }),
    );
    let source = f.source();

    let whole = source.fetch(&reference("vault:secret/db")).await.unwrap();
    let object: serde_json::Value = serde_json::from_slice(whole.expose_bytes()).unwrap();
    assert_eq!(
        object,
        json!({ "username": "app", "password": "second", "port": 5432 })
    );
    assert_eq!(whole.metadata().version.as_deref(), Some("2"));

    let password = source
        .fetch(&reference("vault:secret/db#password"))
        .await
        .unwrap();
    assert_eq!(password.expose_str(), Some("second"));
    let port = source
        .fetch(&reference("vault:secret/db#port"))
        .await
        .unwrap();
    assert_eq!(port.expose_str(), Some("5432"));

    for spelling in [
        "vault:secret/db#password?version=1",
        "vault:secret/db?version=1#password",
    ] {
        let old = source.fetch(&reference(spelling)).await.unwrap();
        assert_eq!(old.expose_str(), Some("first"), "{spelling}");
        assert_eq!(old.metadata().version.as_deref(), Some("1"));
    }
    assert_eq!(
        f.vault
            .requests()
            .iter()
            .filter(|r| r.query.as_deref() == Some("version=1"))
            .count(),
        2
    );
}

#[tokio::test]
async fn missing_secrets_versions_fields_and_mounts_are_not_found() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let source = f.source();
    let failure = |text: &'static str| {
        let source = &source;
        async move { source.fetch(&reference(text)).await.unwrap_err() }
    };
    assert!(failure("vault:secret/nothing").await.is_not_found());
    assert!(failure("vault:secret/db?version=7").await.is_not_found());
    assert!(failure("vault:other/db").await.is_not_found());
    assert!(matches!(
        failure("vault:secret/db#token").await,
        SecretError::FieldMissing { .. }
    ));
    assert!(matches!(
        failure("env:HOME").await,
        SecretError::SchemeUnsupported { .. }
    ));
}

#[tokio::test]
async fn a_namespace_is_sent_with_every_request() {
    let f = Fixture::new().await;
    f.vault.enable_kv2("team-a", "secret");
    f.vault
        .put("team-a", "secret", "db", json!({ "password": "team-a's" }))
        .unwrap();
    f.put("db", json!({ "password": "root's" }));
    let source = f.source_with(f.options().namespace("team-a"));
    let value = source
        .fetch(&reference("vault:secret/db#password"))
        .await
        .unwrap();
    assert_eq!(value.expose_str(), Some("team-a's"));
}

#[tokio::test]
async fn a_renewable_token_is_renewed_after_two_thirds_of_its_ttl() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let source = f.source();
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
async fn a_token_that_is_not_renewable_is_never_renewed() {
    let f = Fixture::new().await;
    f.issue(
        "hvs.fixed",
        TokenSpec {
            renewable: false,
            ..TokenSpec::renewable(HOUR)
        },
    );
    f.put("db", json!({ "password": "pw" }));
    let source = f.source();
    for _ in 0..3 {
        source.fetch(&reference("vault:secret/db")).await.unwrap();
        f.clock.advance(Duration::from_secs(1000));
    }
    assert_eq!(f.vault.calls_to("/v1/auth/token/renew-self"), 0);
}

#[tokio::test]
async fn a_refused_token_is_read_again_from_its_source_and_the_request_retried() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let source = f.source();
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
async fn a_token_refused_again_is_access_denied_and_the_cache_serves_nothing_stale() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let cache = f.cache(Duration::from_secs(60));
    let secret = reference("vault:secret/db#password");
    cache.get(&secret).await.unwrap();
    f.vault.revoke_token("hvs.first");
    f.clock.advance(Duration::from_secs(61));
    let error = cache.get(&secret).await.unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_token_not_allowed_the_path_is_access_denied_after_one_reread() {
    let f = Fixture::new().await;
    f.issue("hvs.narrow", TokenSpec::root().only(&["secret/app/"]));
    f.put("app/db", json!({ "password": "allowed" }));
    f.put("billing/db", json!({ "password": "forbidden" }));
    let source = f.source();
    assert_eq!(
        source
            .fetch(&reference("vault:secret/app/db#password"))
            .await
            .unwrap()
            .expose_str(),
        Some("allowed")
    );
    let error = source
        .fetch(&reference("vault:secret/billing/db"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
    assert_eq!(f.token_reads(), 2);
}

#[tokio::test]
async fn a_missing_token_file_is_access_denied_and_an_empty_one_too() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let missing = VaultOptions::new(f.vault.url(), reference("file:/nonexistent/vault-token"));
    let error = f
        .source_with(missing)
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
    let cache = f.cache(Duration::from_secs(300));
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
    let cache = Arc::new(f.cache(Duration::from_secs(300)));
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
async fn an_outage_serves_the_stale_value_within_max_stale() {
    let f = Fixture::new().await;
    f.put("db", json!({ "password": "pw" }));
    let policy = CachePolicy::new(Duration::from_secs(60))
        .unwrap()
        .with_max_stale(Duration::from_secs(600))
        .unwrap();
    let cache = Cached::with_clock(f.source(), policy, Arc::new(f.clock.clone()));
    let secret = reference("vault:secret/db#password");
    cache.get(&secret).await.unwrap();
    f.vault.seal();
    f.clock.advance(Duration::from_secs(61));
    let stale = cache.get(&secret).await.unwrap();
    assert!(stale.is_stale());
    assert_eq!(stale.value().expose_str(), Some("pw"));
    f.clock.advance(Duration::from_secs(600));
    let error = cache.get(&secret).await.unwrap_err();
    assert!(error.is_outage(), "{error:?}");
    assert_eq!(
        error.source().unwrap().to_string(),
        "Vault answered HTTP 503"
    );
    f.vault.unseal();
    assert!(!cache.get(&secret).await.unwrap().is_stale());
}

#[tokio::test]
async fn tls_needs_the_vault_ca_and_checks_it() {
    let certificate = TestCertificate::for_localhost().unwrap();
    let clock = FakeClock::new();
    let vault = VaultEmulator::start_tls(Arc::new(clock.clone()), &certificate)
        .await
        .unwrap();
    vault.enable_kv2("", "secret");
    vault.add_token("hvs.tls", TokenSpec::root());
    vault
        .put("", "secret", "db", json!({ "password": "over tls" }))
        .unwrap();
    let dir = std::env::temp_dir().join(unique_name("vault-tls"));
    let ca = certificate.write_pem(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "hvs.tls").unwrap();
    let options = || {
        VaultOptions::new(
            vault.url(),
            reference(&format!("file:{}", token_file.display())),
        )
    };
    let source = |options| VaultSource::new(options, Arc::new(FileSource::new())).unwrap();

    let trusting = source(options().ca_certificate(&ca));
    let value = trusting
        .fetch(&reference("vault:secret/db#password"))
        .await
        .unwrap();
    assert_eq!(value.expose_str(), Some("over tls"));

    let untrusting = source(options());
    let error = untrusting
        .fetch(&reference("vault:secret/db#password"))
        .await
        .unwrap_err();
    assert!(
        error.is_outage(),
        "an untrusted certificate is a failed connection: {error:?}"
    );

    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    assert_eq!(
        VaultSource::new(
            options().ca_certificate(&not_pem),
            Arc::new(FileSource::new())
        )
        .unwrap_err(),
        VaultConfigError::CaCertificate {
            path: not_pem,
            reason: "it holds no PEM certificate"
        }
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let options = VaultOptions::new(
        "http://vault.example.com:8200",
        reference("env:VAULT_TOKEN"),
    );
    let error = VaultSource::new(options, Arc::new(FileSource::new())).unwrap_err();
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
    let source = f.source_with(f.options().namespace("team-a"));
    assert_eq!(
        format!("{source:?}"),
        format!(
            "VaultSource {{ address: {:?}, namespace: Some(\"team-a\"), token: \"file:{}\", .. }}",
            f.vault.url(),
            f.token_file.display()
        )
    );
    let plain = f.source();
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
