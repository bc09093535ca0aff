//! The Key Vault source through the Azure SDK against the Key Vault emulator of
//! `palisade-test` (whose own conformance tests pin it to Azure's REST documentation), over
//! TLS with the emulator's certificate trusted and `*.vault.azure.net` resolved to it: the
//! SDK's bearer challenge, versions, disabled and expired secrets, access tokens from a
//! reference and from a client secret, and the palisade cache on top.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::error::Error as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_clock::Clock as _;
use palisade_secrets::{CachePolicy, Cached, FileSource, SecretError, SecretRef, SecretSource};
use palisade_secrets_azure::{AzureConfigError, AzureKeyVaultSource, AzureOptions};
use palisade_test::emulators::key_vault::{Attributes, KeyVaultEmulator, TENANT};
use palisade_test::secrets::get_at_once;
use palisade_test::{Canary, FakeClock, LogCapture, unique_name};

const HOUR: Duration = Duration::from_secs(3600);
const VAULT: &str = "palisade";

/// An emulator, a directory with its CA and a token file, and the clock they share.
struct Fixture {
    vault: KeyVaultEmulator,
    clock: FakeClock,
    dir: PathBuf,
    ca: PathBuf,
}

impl Fixture {
    async fn new() -> Self {
        let clock = FakeClock::new();
        let vault = KeyVaultEmulator::start(Arc::new(clock.clone()))
            .await
            .unwrap();
        let dir = std::env::temp_dir().join(unique_name("key-vault"));
        let ca = vault.certificate().write_pem(&dir).unwrap();
        let fixture = Self {
            vault,
            clock,
            dir,
            ca,
        };
        fixture.issue("first-token", true);
        fixture
    }

    /// Accepts `token` and writes it to the token file (as a sidecar would).
    fn issue(&self, token: &str, may_get: bool) {
        self.vault.add_token(token, may_get, HOUR);
        std::fs::write(self.dir.join("token"), token).unwrap();
    }

    fn token_reference(&self) -> SecretRef {
        format!("file:{}", self.dir.join("token").display())
            .parse()
            .unwrap()
    }

    /// Options that reach the emulator: its CA trusted, the vault's host resolved to it.
    fn reach(&self, options: AzureOptions) -> AzureOptions {
        options
            .ca_certificate(&self.ca)
            .resolve(format!("{VAULT}.vault.azure.net"), self.vault.address())
            .resolve("login.emulated.test", self.vault.address())
    }

    async fn source(&self) -> AzureKeyVaultSource {
        let options = self.reach(AzureOptions::access_token(
            self.token_reference(),
            Arc::new(FileSource::new()),
        ));
        AzureKeyVaultSource::connect(options)
            .await
            .unwrap()
            .with_clock(Arc::new(self.clock.clone()))
    }

    /// A cache with `ttl` over a new source, on the shared clock.
    async fn cache(&self, ttl: Duration) -> Cached<AzureKeyVaultSource> {
        let policy = CachePolicy::new(ttl).unwrap();
        Cached::with_clock(self.source().await, policy, Arc::new(self.clock.clone()))
    }

    fn reference(&self, secret: &str) -> SecretRef {
        format!("azure-kv:{}/{secret}", self.vault.vault_url(VAULT))
            .parse()
            .unwrap()
    }

    fn statuses(&self) -> Vec<u16> {
        self.vault.requests().iter().map(|r| r.status).collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_dir_all(&self.dir);
    }
}

fn unix(time: SystemTime) -> i64 {
    i64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

#[tokio::test]
async fn the_sdk_answers_the_bearer_challenge_then_reads_with_its_token() {
    let f = Fixture::new().await;
    let version = f.vault.set("db-password", "s3cret", &Attributes::default());
    let source = f.source().await;
    let value = source.fetch(&f.reference("db-password")).await.unwrap();
    assert_eq!(value.expose_str(), Some("s3cret"));
    assert_eq!(value.metadata().version.as_deref(), Some(version.as_str()));
    assert_eq!(
        f.statuses(),
        [401, 200],
        "unauthenticated first, then with the token"
    );
    source.fetch(&f.reference("db-password")).await.unwrap();
    assert_eq!(
        f.statuses(),
        [401, 200, 200],
        "the token is sent at once afterwards"
    );
}

#[tokio::test]
async fn a_version_and_a_json_field_are_selected() {
    let f = Fixture::new().await;
    let first = f.vault.set(
        "db",
        r#"{"user": "app", "password": "one"}"#,
        &Attributes::default(),
    );
    f.vault.set(
        "db",
        r#"{"user": "app", "password": "two"}"#,
        &Attributes::default(),
    );
    let source = f.source().await;
    let latest = source.fetch(&f.reference("db#password")).await.unwrap();
    assert_eq!(latest.expose_str(), Some("two"));
    let old = source
        .fetch(&f.reference(&format!("db/{first}#password")))
        .await
        .unwrap();
    assert_eq!(old.expose_str(), Some("one"));
    assert_eq!(old.metadata().version.as_deref(), Some(first.as_str()));
    let missing = source.fetch(&f.reference("db#token")).await.unwrap_err();
    assert!(
        matches!(missing, SecretError::FieldMissing { .. }),
        "{missing:?}"
    );
}

#[tokio::test]
async fn missing_disabled_expired_and_not_yet_valid_secrets_are_reported_as_such() {
    let f = Fixture::new().await;
    let now = unix(f.clock.system_now());
    let disabled = f.vault.set("disabled", "v", &Attributes::default());
    assert!(f.vault.set_enabled("disabled", &disabled, false));
    f.vault.set(
        "expired",
        "v",
        &Attributes {
            expires: Some(now - 1),
            ..Attributes::default()
        },
    );
    f.vault.set(
        "early",
        "v",
        &Attributes {
            not_before: Some(now + 3600),
            ..Attributes::default()
        },
    );
    f.vault.set(
        "later",
        "v",
        &Attributes {
            expires: Some(now + 60),
            ..Attributes::default()
        },
    );
    let source = f.source().await;
    let failure = |name: &'static str| {
        let (source, reference) = (&source, f.reference(name));
        async move { source.fetch(&reference).await.unwrap_err() }
    };
    assert!(failure("nothing").await.is_not_found());
    assert!(matches!(
        failure("disabled").await,
        SecretError::Disabled { .. }
    ));
    assert!(matches!(
        failure("expired").await,
        SecretError::Expired { .. }
    ));
    assert!(matches!(
        failure("early").await,
        SecretError::NotYetValid { .. }
    ));
    assert!(source.fetch(&f.reference("later")).await.is_ok());
    f.clock.advance(Duration::from_secs(61));
    let expired = failure("later").await;
    assert_eq!(
        expired.to_string(),
        format!("secret {} has expired", f.reference("later"))
    );
}

#[tokio::test]
async fn an_identity_without_get_permission_is_access_denied() {
    let f = Fixture::new().await;
    f.issue("reader-without-get", false);
    f.vault.set("db", "v", &Attributes::default());
    let error = f
        .source()
        .await
        .fetch(&f.reference("db"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_token_the_vault_does_not_accept_is_access_denied_and_nothing_stale_is_served() {
    let f = Fixture::new().await;
    f.vault.set("db", "v", &Attributes::default());
    let cache = f.cache(Duration::from_secs(60)).await;
    cache.get(&f.reference("db")).await.unwrap();
    std::fs::write(f.dir.join("token"), "not-a-token-the-vault-knows").unwrap();
    f.clock.advance(HOUR + Duration::from_secs(1));
    let error = cache.get(&f.reference("db")).await.unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_rotated_access_token_is_used_from_the_next_request_on() {
    let f = Fixture::new().await;
    f.vault.set("db", "v", &Attributes::default());
    let source = f.source().await;
    source.fetch(&f.reference("db")).await.unwrap();
    f.clock.advance(HOUR + Duration::from_secs(1));
    f.issue("second-token", true);
    let value = source.fetch(&f.reference("db")).await.unwrap();
    assert_eq!(value.expose_str(), Some("v"));
    assert_eq!(
        f.statuses(),
        [401, 200, 200],
        "the new token was read before the request"
    );
}

#[tokio::test]
async fn a_client_secret_gets_its_token_from_entra_id() {
    let f = Fixture::new().await;
    f.vault.add_client(TENANT, "app-id", "app-secret");
    f.vault
        .set("db", "through a service principal", &Attributes::default());
    let secret_file = f.dir.join("client-secret");
    std::fs::write(&secret_file, "app-secret").unwrap();
    let secret: SecretRef = format!("file:{}", secret_file.display()).parse().unwrap();
    let options = |client: &str| {
        f.reach(
            AzureOptions::client_secret(
                TENANT,
                client,
                secret.clone(),
                Arc::new(FileSource::new()),
            )
            .authority_host(f.vault.authority_url()),
        )
    };
    let source = AzureKeyVaultSource::connect(options("app-id"))
        .await
        .unwrap();
    let value = source.fetch(&f.reference("db")).await.unwrap();
    assert_eq!(value.expose_str(), Some("through a service principal"));
    let token_requests = f
        .vault
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .count();
    assert_eq!(token_requests, 1);

    let stranger = AzureKeyVaultSource::connect(options("unknown-app"))
        .await
        .unwrap();
    let error = stranger.fetch(&f.reference("db")).await.unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_cache_sees_a_rotation_after_its_ttl_and_after_a_forced_refresh() {
    let f = Fixture::new().await;
    f.vault.set("db", "v1", &Attributes::default());
    let cache = f.cache(Duration::from_secs(300)).await;
    let secret = f.reference("db");
    assert_eq!(
        cache.get(&secret).await.unwrap().value().expose_str(),
        Some("v1")
    );
    let v2 = f.vault.set("db", "v2", &Attributes::default());
    assert_eq!(
        cache.get(&secret).await.unwrap().value().expose_str(),
        Some("v1")
    );
    let refreshed = cache.refresh_now(&secret).await.unwrap();
    assert_eq!(refreshed.value().expose_str(), Some("v2"));
    assert_eq!(
        refreshed.value().metadata().version.as_deref(),
        Some(v2.as_str())
    );
    let v3 = f.vault.set("db", "v3", &Attributes::default());
    f.clock.advance(Duration::from_secs(301));
    let after = cache.get(&secret).await.unwrap();
    assert_eq!(
        after.value().metadata().version.as_deref(),
        Some(v3.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_gets_of_an_expired_secret_make_one_request() {
    let f = Fixture::new().await;
    f.vault.set("db", "v1", &Attributes::default());
    let cache = Arc::new(f.cache(Duration::from_secs(300)).await);
    let secret = f.reference("db");
    cache.get(&secret).await.unwrap();
    let before = f.vault.gets_of("db");
    f.vault.set("db", "v2", &Attributes::default());
    f.clock.advance(Duration::from_secs(301));
    for value in get_at_once(&cache, &secret, 1_000).await {
        assert_eq!(value.unwrap().expose_str(), Some("v2"));
    }
    assert_eq!(
        f.vault.gets_of("db") - before,
        1,
        "one request for all thousand"
    );
}

#[tokio::test]
async fn an_outage_serves_the_stale_value_within_max_stale() {
    let f = Fixture::new().await;
    f.vault.set("db", "pw", &Attributes::default());
    let policy = CachePolicy::new(Duration::from_secs(60))
        .unwrap()
        .with_max_stale(Duration::from_secs(600))
        .unwrap();
    let cache = Cached::with_clock(f.source().await, policy, Arc::new(f.clock.clone()));
    let secret = f.reference("db");
    cache.get(&secret).await.unwrap();
    f.vault.fail(true);
    f.clock.advance(Duration::from_secs(61));
    let stale = cache.get(&secret).await.unwrap();
    assert!(stale.is_stale());
    f.clock.advance(Duration::from_secs(600));
    let error = cache.get(&secret).await.unwrap_err();
    assert!(error.is_outage(), "{error:?}");
    assert_eq!(
        error.source().unwrap().to_string(),
        "Key Vault answered HTTP 503 ServiceUnavailable"
    );
}

#[tokio::test]
async fn unusable_settings_are_refused_before_anything_is_sent() {
    let f = Fixture::new().await;
    let not_pem = f.dir.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let token = || AzureOptions::access_token(f.token_reference(), Arc::new(FileSource::new()));
    let error = AzureKeyVaultSource::connect(token().ca_certificate(&not_pem))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        AzureConfigError::CaCertificate {
            path: not_pem,
            reason: "it holds no PEM certificate"
        }
    );
    let error = AzureKeyVaultSource::connect(token().authority_host("http://login.example"))
        .await
        .unwrap_err();
    assert_eq!(error, AzureConfigError::AuthorityHostInvalid);
    let missing: SecretRef = "file:/nonexistent/client-secret".parse().unwrap();
    let error = AzureKeyVaultSource::connect(AzureOptions::client_secret(
        TENANT,
        "app",
        missing.clone(),
        Arc::new(FileSource::new()),
    ))
    .await
    .unwrap_err();
    assert_eq!(
        error,
        AzureConfigError::ClientSecretUnreadable { reference: missing }
    );
    assert!(f.vault.requests().is_empty());
}

#[tokio::test]
async fn neither_the_token_nor_a_secret_reaches_debug_errors_or_logs() {
    let token = Canary::new();
    let value = Canary::new();
    let capture = LogCapture::start();
    let f = Fixture::new().await;
    f.issue(token.value(), true);
    f.vault.set("db", value.value(), &Attributes::default());
    let source = f.source().await;
    let read = source.fetch(&f.reference("db")).await.unwrap();
    assert_eq!(read.expose_str(), Some(value.value()));
    let error = source.fetch(&f.reference("missing")).await.unwrap_err();
    assert_eq!(
        format!("{source:?}"),
        "AzureKeyVaultSource { vaults: 1, .. }"
    );
    for canary in [&token, &value] {
        canary.assert_not_in_debug(&source);
        canary.assert_not_in_debug(&read);
        canary.assert_not_in_error(&error);
        canary.assert_absent("logs", &capture.text());
    }
}
