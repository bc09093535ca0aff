//! R-CRY-1: palisade-crypt data keys wrapped by AWS KMS, through the real SDK against moto's
//! KMS from `cargo xtask services up`: the encryption context binds each wrapped key, a cold
//! cache makes one `Decrypt` per data key however many decryptions wait on it (counted on the
//! wire, by a proxy in front of moto), shredding holds, and an unreachable KMS is retryable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;
use aws_sdk_kms::Client;
use aws_sdk_kms::config::{Credentials, Region};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use palisade_crypt::{
    Context, CryptError, DataKeyStore, Envelope, KeyName, KeyScope, KeyWrapper, MemoryKeyStore,
};
use palisade_secrets_aws::{AwsKmsKeyWrapper, AwsOptions, StaticCredentials};
use palisade_test::Service;
use secrecy::SecretString;

const REGION: &str = "us-east-1";

/// Counts the KMS operations that pass through it on their way to moto.
#[derive(Clone, Default)]
struct Counts(Arc<Mutex<HashMap<String, u64>>>);

impl Counts {
    fn of(&self, operation: &str) -> u64 {
        self.0.lock().unwrap().get(operation).copied().unwrap_or(0)
    }
}

async fn forward(
    State((counts, client)): State<(Counts, reqwest::Client)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        *counts.0.lock().unwrap().entry(operation).or_default() += 1;
    }
    let url = format!(
        "{}{}",
        Service::Aws.url(),
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = client.request(method, url).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.expect("moto answers");
    let status = response.status();
    let mut out = HeaderMap::new();
    for (name, value) in response.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            out.insert(name, value.clone());
        }
    }
    (status, out, response.bytes().await.unwrap())
}

async fn proxy() -> (String, Counts) {
    let counts = Counts::default();
    let router = axum::Router::new()
        .fallback(forward)
        .with_state((counts.clone(), reqwest::Client::new()));
    let address = palisade_test::serve(router).await;
    (format!("http://{address}"), counts)
}

fn options(endpoint: &str) -> AwsOptions {
    AwsOptions::new()
        .region(REGION)
        .endpoint(endpoint)
        .credentials(StaticCredentials::new(
            "testing",
            SecretString::from("testing"),
        ))
}

/// A fresh symmetric KMS key in moto, as an operator would create it.
async fn kms_key() -> String {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(Service::Aws.url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let key = Client::new(&config)
        .create_key()
        .description("palisade-crypt test")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("moto's KMS did not create a key ({e}); start it with `cargo xtask services up`")
        });
    key.key_metadata.unwrap().key_id
}

fn place(id: &str) -> Context {
    Context::new()
        .with("collection", "patients")
        .unwrap()
        .with("field", "ssn")
        .unwrap()
        .with("id", id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cold_decryptions_make_one_kms_call_per_data_key() {
    let key_id = kms_key().await;
    let (endpoint, counts) = proxy().await;
    let store = Arc::new(MemoryKeyStore::new());
    let writer = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(
            AwsKmsKeyWrapper::connect(options(&endpoint), &key_id)
                .await
                .unwrap(),
        ),
        store.clone(),
    );
    let mut sealed = Vec::new();
    for user in 0..10 {
        let scope = KeyScope::new(format!("user:{user}")).unwrap();
        sealed.push(
            writer
                .encrypt(
                    &scope,
                    &place(&user.to_string()),
                    format!("ssn of {user}").as_bytes(),
                )
                .await
                .unwrap(),
        );
    }
    assert_eq!(counts.of("GenerateDataKey"), 10);
    assert_eq!(counts.of("Decrypt"), 0);

    let wrapper = Arc::new(
        AwsKmsKeyWrapper::connect(options(&endpoint), &key_id)
            .await
            .unwrap(),
    );
    let reader = Arc::new(Envelope::new(
        KeyName::new("pii").unwrap(),
        wrapper.clone(),
        store.clone(),
    ));
    let tasks: Vec<_> = (0..10_000)
        .map(|i| {
            let reader = reader.clone();
            let ciphertext = sealed[i % 10].clone();
            tokio::spawn(async move {
                reader
                    .decrypt(&place(&(i % 10).to_string()), &ciphertext)
                    .await
                    .map(|d| d.plaintext.expose_str().map(str::to_owned))
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(
            task.await.unwrap().unwrap().unwrap(),
            format!("ssn of {}", i % 10)
        );
    }
    assert_eq!(
        counts.of("Decrypt"),
        10,
        "one KMS Decrypt per data key, counted on the wire"
    );
    assert_eq!(wrapper.calls(), 10);
}

#[tokio::test]
async fn the_encryption_context_binds_each_wrapped_key() {
    let key_id = kms_key().await;
    let kms = AwsKmsKeyWrapper::connect(options(&Service::Aws.url()), &key_id)
        .await
        .unwrap();
    let store = Arc::new(MemoryKeyStore::new());
    let envelope = Envelope::new(KeyName::new("pii").unwrap(), Arc::new(kms), store.clone());
    let alice = KeyScope::new("user:alice").unwrap();
    let sealed = envelope
        .encrypt(&alice, &place("1"), b"alice's")
        .await
        .unwrap();
    // The stored key moved to another scope: KMS refuses its context.
    let mut stored = store.load(&sealed.data_key_id()).await.unwrap().unwrap();
    stored.scope = KeyScope::new("user:mallory").unwrap();
    let kms = AwsKmsKeyWrapper::connect(options(&Service::Aws.url()), &key_id)
        .await
        .unwrap();
    let context = palisade_crypt::WrapContext {
        key_name: stored.key_name.clone(),
        data_key: stored.id,
        scope: stored.scope.clone(),
        algorithm: stored.algorithm,
    };
    let err = kms.unwrap_key(&stored.wrapped, &context).await.unwrap_err();
    assert!(matches!(err, CryptError::Undecryptable), "{err:?}");
    // Shredding on real data: a cold instance cannot open the value any more.
    envelope.shred(&alice).await.unwrap();
    let fresh = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(
            AwsKmsKeyWrapper::connect(options(&Service::Aws.url()), &key_id)
                .await
                .unwrap(),
        ),
        store,
    );
    assert!(matches!(
        fresh.decrypt(&place("1"), &sealed).await.unwrap_err(),
        CryptError::KeyDestroyed
    ));
    assert_eq!(
        format!("{kms:?}"),
        format!("AwsKmsKeyWrapper {{ key_id: {key_id:?}, .. }}")
    );
}

#[tokio::test]
async fn an_unknown_key_is_refused_and_an_unreachable_kms_is_retryable() {
    let kms = AwsKmsKeyWrapper::connect(options(&Service::Aws.url()), "alias/does-not-exist")
        .await
        .unwrap();
    let envelope = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(kms),
        Arc::new(MemoryKeyStore::new()),
    );
    let err = envelope
        .encrypt(&KeyScope::new("u").unwrap(), &place("1"), b"x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CryptError::Wrapper {
                wrapper: "aws-kms",
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    let down = AwsKmsKeyWrapper::connect(options("http://127.0.0.1:9"), "alias/x")
        .await
        .unwrap();
    let envelope = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(down),
        Arc::new(MemoryKeyStore::new()),
    );
    let err = envelope
        .encrypt(&KeyScope::new("u").unwrap(), &place("1"), b"x")
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}
