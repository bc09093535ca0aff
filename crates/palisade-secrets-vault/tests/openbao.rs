//! The Vault source against a real server: OpenBao (the open-source fork of Vault, same HTTP
//! API), the shared dev server of `cargo xtask services up`, or a private one a test starts
//! when it seals the server or needs TLS with the server's own CA. KV v2 versions and fields,
//! namespaces, token lookup and renewal with real TTLs, revoked and narrow tokens, a sealed
//! server and TLS, each as the server itself answers.
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
use palisade_secrets_vault::{VaultConfigError, VaultOptions, VaultSource};
use palisade_test::{FakeClock, OpenBao, unique_name};
use serde_json::{Value, json};

/// Calls the server's HTTP API as an operator would (with the root token).
struct Operator<'a> {
    bao: &'a OpenBao,
    http: reqwest::Client,
}

impl<'a> Operator<'a> {
    fn new(bao: &'a OpenBao) -> Self {
        let mut http = reqwest::Client::builder();
        if let Some(ca) = bao.ca_certificate() {
            let pem = std::fs::read(ca).unwrap();
            http = http.tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).unwrap());
        }
        Self {
            bao,
            http: http.build().unwrap(),
        }
    }

    /// `method path` with `body` in `namespace` (empty: the root); the answer's JSON.
    async fn call(&self, method: &str, namespace: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/v1/{path}", self.bao.url());
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .header("X-Vault-Token", self.bao.root_token());
        if !namespace.is_empty() {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Writes a new version of `secret/PATH` in `namespace`.
    async fn put(&self, namespace: &str, path: &str, data: Value) {
        self.call(
            "POST",
            namespace,
            &format!("secret/data/{path}"),
            json!({ "data": data }),
        )
        .await;
    }

    /// A token with `policies`, a one-hour TTL, renewable or not.
    async fn token(&self, policies: &[&str], renewable: bool) -> String {
        let answer = self
            .call(
                "POST",
                "",
                "auth/token/create",
                json!({ "policies": policies, "ttl": "1h", "renewable": renewable }),
            )
            .await;
        answer["auth"]["client_token"].as_str().unwrap().to_owned()
    }

    /// A policy that may read `secret/data/PREFIX*` only.
    async fn reader_of(&self, prefix: &str) -> String {
        let name = unique_name("reader");
        let policy = format!("path \"secret/data/{prefix}*\" {{ capabilities = [\"read\"] }}");
        self.call(
            "PUT",
            "",
            &format!("sys/policies/acl/{name}"),
            json!({ "policy": policy }),
        )
        .await;
        name
    }

    /// What the server knows about `token` now.
    async fn lookup(&self, token: &str) -> Value {
        self.call("POST", "", "auth/token/lookup", json!({ "token": token }))
            .await["data"]
            .take()
    }
}

/// A token file, as a Vault Agent sink keeps it, removed on drop.
struct TokenFile(PathBuf);

impl TokenFile {
    fn holding(token: &str) -> Self {
        let path = std::env::temp_dir().join(unique_name("bao-token"));
        std::fs::write(&path, format!("{token}\n")).unwrap();
        Self(path)
    }

    fn write(&self, token: &str) {
        std::fs::write(&self.0, format!("{token}\n")).unwrap();
    }

    fn options(&self, bao: &OpenBao) -> VaultOptions {
        let reference = format!("file:{}", self.0.display());
        let options = VaultOptions::new(
            bao.url(),
            reference.parse().unwrap(),
            Arc::new(FileSource::new()),
        );
        match bao.ca_certificate() {
            Some(ca) => options.ca_certificate(ca),
            None => options,
        }
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn reference(text: &str) -> SecretRef {
    text.parse().unwrap()
}

async fn source(options: VaultOptions, clock: &FakeClock) -> VaultSource {
    VaultSource::connect(options)
        .await
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

#[tokio::test]
async fn versions_and_fields_are_read_as_the_server_keeps_them() {
    let bao = OpenBao::shared();
    let operator = Operator::new(&bao);
    let path = unique_name("db");
    operator
        .put("", &path, json!({ "username": "app", "password": "first" }))
        .await;
    operator
        .put(
            "",
            &path,
            json!({ "username": "app", "password": "second", "port": 5432 }),
        )
        .await;
    let token = TokenFile::holding(bao.root_token());
    let source = source(token.options(&bao), &FakeClock::new()).await;

    let whole = source
        .fetch(&reference(&format!("vault:secret/{path}")))
        .await
        .unwrap();
    let object: Value = serde_json::from_slice(whole.expose_bytes()).unwrap();
    assert_eq!(
        object,
        json!({ "username": "app", "password": "second", "port": 5432 })
    );
    assert_eq!(whole.metadata().version.as_deref(), Some("2"));
    let port = source
        .fetch(&reference(&format!("vault:secret/{path}#port")))
        .await
        .unwrap();
    assert_eq!(port.expose_str(), Some("5432"));
    for spelling in [
        format!("vault:secret/{path}#password?version=1"),
        format!("vault:secret/{path}?version=1#password"),
    ] {
        let old = source.fetch(&reference(&spelling)).await.unwrap();
        assert_eq!(old.expose_str(), Some("first"), "{spelling}");
        assert_eq!(old.metadata().version.as_deref(), Some("1"));
    }

    let failure = |text: String| {
        let source = &source;
        async move { source.fetch(&reference(&text)).await.unwrap_err() }
    };
    assert!(
        failure(format!("vault:secret/{path}-nothing"))
            .await
            .is_not_found()
    );
    assert!(
        failure(format!("vault:secret/{path}?version=7"))
            .await
            .is_not_found()
    );
    assert!(
        failure(format!("vault:nomount/{path}"))
            .await
            .is_not_found()
    );
    assert!(matches!(
        failure(format!("vault:secret/{path}#token")).await,
        SecretError::FieldMissing { .. }
    ));
    // A version the operator deleted is gone for readers too.
    operator
        .call(
            "POST",
            "",
            &format!("secret/delete/{path}"),
            json!({ "versions": [1] }),
        )
        .await;
    let deleted = failure(format!("vault:secret/{path}?version=1")).await;
    assert!(deleted.is_not_found(), "{deleted:?}");
}

#[tokio::test]
async fn a_namespace_reads_its_own_mount() {
    let bao = OpenBao::shared();
    let operator = Operator::new(&bao);
    let namespace = unique_name("team");
    operator
        .call(
            "POST",
            "",
            &format!("sys/namespaces/{namespace}"),
            Value::Null,
        )
        .await;
    operator
        .call(
            "POST",
            &namespace,
            "sys/mounts/secret",
            json!({ "type": "kv", "options": { "version": "2" } }),
        )
        .await;
    let path = unique_name("db");
    operator
        .put(&namespace, &path, json!({ "password": "the team's" }))
        .await;
    operator
        .put("", &path, json!({ "password": "the root's" }))
        .await;
    let token = TokenFile::holding(bao.root_token());
    let clock = FakeClock::new();
    let secret = reference(&format!("vault:secret/{path}#password"));

    let team = source(token.options(&bao).namespace(namespace.as_str()), &clock).await;
    assert_eq!(
        team.fetch(&secret).await.unwrap().expose_str(),
        Some("the team's")
    );
    let root = source(token.options(&bao), &clock).await;
    assert_eq!(
        root.fetch(&secret).await.unwrap().expose_str(),
        Some("the root's")
    );
}

#[tokio::test]
async fn a_renewable_token_is_renewed_on_the_server_after_two_thirds_of_its_ttl() {
    let bao = OpenBao::shared();
    let operator = Operator::new(&bao);
    let path = unique_name("db");
    operator.put("", &path, json!({ "password": "pw" })).await;
    let reader = operator.reader_of(&path).await;
    let renewable = operator.token(&["default", &reader], true).await;
    let fixed = operator.token(&["default", &reader], false).await;
    let secret = reference(&format!("vault:secret/{path}#password"));
    let clock = FakeClock::new();

    for token in [&renewable, &fixed] {
        let file = TokenFile::holding(token);
        let source = source(file.options(&bao), &clock).await;
        source.fetch(&secret).await.unwrap();
        // 2,300 s of 3,600: not due yet.
        clock.advance(Duration::from_secs(2300));
        source.fetch(&secret).await.unwrap();
        let lease = operator.lookup(token).await;
        assert!(
            lease["last_renewal_time"].is_null(),
            "renewed before it was due: {lease}"
        );
        clock.advance(Duration::from_secs(200));
        source.fetch(&secret).await.unwrap();
        let lease = operator.lookup(token).await;
        if token == &renewable {
            assert!(lease["last_renewal_time"].is_number(), "{lease}");
            let ttl = lease["ttl"].as_u64().unwrap();
            assert!(ttl > 3500, "renewed by its creation TTL: {ttl} s left");
        } else {
            assert!(lease["last_renewal_time"].is_null(), "{lease}");
        }
    }
}

#[tokio::test]
async fn a_revoked_token_is_read_again_and_a_token_refused_again_is_access_denied() {
    let bao = OpenBao::shared();
    let operator = Operator::new(&bao);
    let path = unique_name("db");
    operator.put("", &path, json!({ "password": "pw" })).await;
    let reader = operator.reader_of(&path).await;
    let first = operator.token(&["default", &reader], true).await;
    let file = TokenFile::holding(&first);
    let clock = FakeClock::new();
    let cache = Cached::with_clock(
        source(file.options(&bao), &clock).await,
        CachePolicy::new(Duration::from_secs(60))
            .unwrap()
            .with_max_stale(Duration::from_secs(600))
            .unwrap(),
        Arc::new(clock.clone()),
    );
    let secret = reference(&format!("vault:secret/{path}#password"));
    cache.get(&secret).await.unwrap();

    // The operator revokes the token and the agent writes a new one.
    operator
        .call("POST", "", "auth/token/revoke", json!({ "token": first }))
        .await;
    let second = operator.token(&["default", &reader], true).await;
    file.write(&second);
    clock.advance(Duration::from_secs(61));
    let value = cache.get(&secret).await.unwrap();
    assert_eq!(value.value().expose_str(), Some("pw"));
    assert!(!value.is_stale());

    // Revoked with no new token: denied, and no stale value hides it.
    operator
        .call("POST", "", "auth/token/revoke", json!({ "token": second }))
        .await;
    clock.advance(Duration::from_secs(61));
    let error = cache.get(&secret).await.unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_path_the_policy_does_not_grant_is_access_denied() {
    let bao = OpenBao::shared();
    let operator = Operator::new(&bao);
    let allowed = unique_name("app");
    let forbidden = unique_name("billing");
    operator
        .put("", &allowed, json!({ "password": "allowed" }))
        .await;
    operator
        .put("", &forbidden, json!({ "password": "forbidden" }))
        .await;
    let reader = operator.reader_of(&allowed).await;
    let narrow = operator.token(&["default", &reader], true).await;
    let file = TokenFile::holding(&narrow);
    let source = source(file.options(&bao), &FakeClock::new()).await;
    let value = source
        .fetch(&reference(&format!("vault:secret/{allowed}#password")))
        .await
        .unwrap();
    assert_eq!(value.expose_str(), Some("allowed"));
    let error = source
        .fetch(&reference(&format!("vault:secret/{forbidden}")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_sealed_server_is_an_outage_the_cache_rides_out_with_its_stale_value() {
    let bao = OpenBao::start_own(false);
    let operator = Operator::new(&bao);
    operator.put("", "db", json!({ "password": "pw" })).await;
    let file = TokenFile::holding(bao.root_token());
    let clock = FakeClock::new();
    let policy = CachePolicy::new(Duration::from_secs(60))
        .unwrap()
        .with_max_stale(Duration::from_secs(600))
        .unwrap();
    let cache = Cached::with_clock(
        source(file.options(&bao), &clock).await,
        policy,
        Arc::new(clock.clone()),
    );
    let secret = reference("vault:secret/db#password");
    cache.get(&secret).await.unwrap();

    operator.call("PUT", "", "sys/seal", Value::Null).await;
    clock.advance(Duration::from_secs(61));
    let stale = cache.get(&secret).await.unwrap();
    assert!(stale.is_stale());
    assert_eq!(stale.value().expose_str(), Some("pw"));
    clock.advance(Duration::from_secs(600));
    let error = cache.get(&secret).await.unwrap_err();
    assert!(error.is_outage(), "{error:?}");
    assert_eq!(
        std::error::Error::source(&error).map(ToString::to_string),
        Some("Vault answered HTTP 503".to_owned())
    );
}

#[tokio::test]
async fn tls_needs_the_servers_ca() {
    let bao = OpenBao::start_own(true);
    let operator = Operator::new(&bao);
    operator
        .put("", "db", json!({ "password": "over tls" }))
        .await;
    let file = TokenFile::holding(bao.root_token());
    let clock = FakeClock::new();
    let secret = reference("vault:secret/db#password");

    let trusting = source(file.options(&bao), &clock).await;
    assert_eq!(
        trusting.fetch(&secret).await.unwrap().expose_str(),
        Some("over tls")
    );
    let reference_text = format!("file:{}", file.0.display());
    let untrusting = source(
        VaultOptions::new(
            bao.url(),
            reference_text.parse().unwrap(),
            Arc::new(FileSource::new()),
        ),
        &clock,
    )
    .await;
    let error = untrusting.fetch(&secret).await.unwrap_err();
    assert!(
        error.is_outage(),
        "an untrusted certificate is a failed connection: {error:?}"
    );

    let not_pem = file.0.with_extension("pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let refused = VaultSource::connect(file.options(&bao).ca_certificate(&not_pem))
        .await
        .unwrap_err();
    std::fs::remove_file(&not_pem).unwrap();
    assert_eq!(
        refused,
        VaultConfigError::CaCertificate {
            path: not_pem,
            reason: "it holds no PEM certificate"
        }
    );
}
