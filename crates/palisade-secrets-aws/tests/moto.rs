//! The AWS source through the real SDK against moto's server from `cargo xtask services up`:
//! string, JSON-field and binary secrets, rotation with staging labels and version ids, a
//! missing secret, and the palisade cache on top (rotation seen after a refresh, one call for a
//! thousand concurrent gets of an expired entry).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_sdk_secretsmanager::primitives::Blob;
use palisade_secrets::{CachePolicy, Cached, SecretError, SecretRef, SecretSource, SecretValue};
use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource, StaticCredentials};
use palisade_test::secrets::{Counting, get_at_once};
use palisade_test::{Canary, FakeClock, Service, unique_name};
use secrecy::SecretString;

const REGION: &str = "us-east-1";

async fn source() -> AwsSecretsManagerSource {
    AwsSecretsManagerSource::connect(
        AwsOptions::new()
            .region(REGION)
            .endpoint(Service::Aws.url())
            .credentials(StaticCredentials::new(
                "testing",
                SecretString::from("testing"),
            )),
    )
    .await
    .unwrap()
}

/// The SDK client the tests use to create and rotate secrets, as an operator would.
async fn admin() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(Service::Aws.url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    Client::new(&config)
}

/// A secret name no other test (or earlier run) uses.
fn name(test: &str) -> String {
    unique_name(&format!("palisade/{test}"))
}

/// The error `source` gives for `text`.
async fn failure(source: &AwsSecretsManagerSource, text: &str) -> SecretError {
    source.fetch(&reference(text)).await.unwrap_err()
}

/// Reads `aws-sm:{locator}` through `source`.
async fn read(source: &AwsSecretsManagerSource, locator: &str) -> SecretValue {
    source
        .fetch(&reference(&format!("aws-sm:{locator}")))
        .await
        .unwrap()
}

/// Creates a string secret and returns its version id.
async fn create(admin: &Client, name: &str, text: &str) -> String {
    admin
        .create_secret()
        .name(name)
        .secret_string(text)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned()
}

/// Puts a new string version (it becomes AWSCURRENT) and returns its version id.
async fn rotate(admin: &Client, name: &str, text: &str) -> String {
    admin
        .put_secret_value()
        .secret_id(name)
        .secret_string(text)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned()
}

fn reference(text: &str) -> SecretRef {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_string_secret_is_read_with_its_version() {
    let admin = admin().await;
    let name = name("string");
    let version = create(&admin, &name, "s3cr3t-value").await;
    let value = read(&source().await, &name).await;
    assert_eq!(value.expose_str(), Some("s3cr3t-value"));
    assert_eq!(value.metadata().version.as_deref(), Some(version.as_str()));
}

#[tokio::test]
async fn a_field_of_a_json_secret_is_selected() {
    let admin = admin().await;
    let name = name("json");
    create(
        &admin,
        &name,
        r#"{"username": "app", "password": "pa55", "port": 5432}"#,
    )
    .await;
    let source = source().await;
    let password = read(&source, &format!("{name}#password")).await;
    assert_eq!(password.expose_str(), Some("pa55"));
    let missing = failure(&source, &format!("aws-sm:{name}#token")).await;
    assert!(
        matches!(missing, SecretError::FieldMissing { .. }),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_binary_secret_is_read_as_bytes() {
    let admin = admin().await;
    let name = name("binary");
    let bytes = vec![0_u8, 159, 146, 150, 255];
    admin
        .create_secret()
        .name(&name)
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .unwrap();
    let value = read(&source().await, &name).await;
    assert_eq!(value.expose_bytes(), bytes.as_slice());
    assert_eq!(value.expose_str(), None);
}

#[tokio::test]
async fn rotation_moves_awscurrent_and_old_versions_stay_readable() {
    let admin = admin().await;
    let name = name("rotation");
    let first = create(&admin, &name, "first").await;
    let second = rotate(&admin, &name, "second").await;
    assert_ne!(first, second);
    let source = source().await;
    let current = read(&source, &name).await;
    assert_eq!(current.expose_str(), Some("second"));
    assert_eq!(current.metadata().version.as_deref(), Some(second.as_str()));
    let previous = read(&source, &format!("{name}@AWSPREVIOUS")).await;
    assert_eq!(previous.expose_str(), Some("first"));
    let by_id = read(&source, &format!("{name}@{first}")).await;
    assert_eq!(by_id.expose_str(), Some("first"));
    assert_eq!(by_id.metadata().version.as_deref(), Some(first.as_str()));
}

#[tokio::test]
async fn a_missing_secret_is_not_found_and_an_outage_is_unavailable() {
    let source = source().await;
    let missing = reference(&format!("aws-sm:{}", name("missing")));
    let err = source.fetch(&missing).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let nowhere = AwsSecretsManagerSource::connect(
        AwsOptions::new()
            .region(REGION)
            .endpoint("http://127.0.0.1:9")
            .credentials(StaticCredentials::new(
                "testing",
                SecretString::from("testing"),
            )),
    )
    .await
    .unwrap();
    let err = nowhere.fetch(&missing).await.unwrap_err();
    assert!(err.is_outage(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("secret source for {missing} is unavailable")
    );
}

#[tokio::test]
async fn other_schemes_are_refused() {
    let err = failure(&source().await, "env:HOME").await;
    assert!(
        matches!(err, SecretError::SchemeUnsupported { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn errors_and_debug_never_show_the_secret_or_the_credentials() {
    let canary = Canary::new();
    let admin = admin().await;
    let name = name("canary");
    create(&admin, &name, &format!("{{\"a\": \"{}\"}}", canary.value())).await;
    let source = source().await;
    let err = failure(&source, &format!("aws-sm:{name}#b")).await;
    canary.assert_not_in_error(&err);
    let not_object = reference(&format!("aws-sm:{name}#a.b"));
    if let Err(err) = source.fetch(&not_object).await {
        canary.assert_not_in_error(&err);
    }
    let credentials =
        StaticCredentials::new("AKIDEXAMPLE", SecretString::from(canary.value().to_owned()));
    assert_eq!(format!("{credentials:?}"), "StaticCredentials { .. }");
    assert_eq!(
        format!("{source:?}"),
        format!(
            "AwsSecretsManagerSource {{ region: Some(\"{REGION}\"), endpoint: Some({:?}), .. }}",
            Service::Aws.url()
        )
    );
}

const TTL: Duration = Duration::from_secs(300);

async fn cached() -> (Arc<Cached<Counting<AwsSecretsManagerSource>>>, FakeClock) {
    let clock = FakeClock::new();
    // Each fetch that reaches the source is one `GetSecretValue`.
    let source = Counting::new(source().await);
    let cache = Cached::with_clock(
        source,
        CachePolicy::new(TTL).unwrap(),
        Arc::new(clock.clone()),
    );
    (Arc::new(cache), clock)
}

#[tokio::test]
async fn the_cache_sees_a_rotation_after_its_ttl() {
    let admin = admin().await;
    let name = name("cached-rotation");
    let first = create(&admin, &name, "v1").await;
    let (cache, clock) = cached().await;
    let secret = reference(&format!("aws-sm:{name}"));
    let hit = cache.get(&secret).await.unwrap();
    assert_eq!(
        hit.value().metadata().version.as_deref(),
        Some(first.as_str())
    );
    let second = rotate(&admin, &name, "v2").await;
    // Within the TTL the cache answers without asking AWS.
    assert_eq!(
        cache.get(&secret).await.unwrap().value().expose_str(),
        Some("v1")
    );
    assert_eq!(cache.source().calls(), 1);
    clock.advance(TTL + Duration::from_secs(1));
    let after = cache.get(&secret).await.unwrap();
    assert_eq!(after.value().expose_str(), Some("v2"));
    assert_eq!(
        after.value().metadata().version.as_deref(),
        Some(second.as_str())
    );
    assert_eq!(cache.source().calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_gets_of_an_expired_secret_make_one_call_to_aws() {
    let admin = admin().await;
    let name = name("single-flight");
    create(&admin, &name, "v1").await;
    let (cache, clock) = cached().await;
    let secret = reference(&format!("aws-sm:{name}"));
    cache.get(&secret).await.unwrap();
    rotate(&admin, &name, "v2").await;
    clock.advance(TTL + Duration::from_secs(1));
    for value in get_at_once(&cache, &secret, 1_000).await {
        assert_eq!(value.unwrap().expose_str(), Some("v2"));
    }
    assert_eq!(
        cache.source().calls(),
        2,
        "one call to fill the cache, one for all thousand refreshes"
    );
}
