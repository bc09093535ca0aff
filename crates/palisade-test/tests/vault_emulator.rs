//! Conformance of the Vault emulator to Vault's documented HTTP API. Each test pins a request
//! and response shape from the documentation, so clients tested against the emulator are
//! tested against the contract:
//!
//! - KV v2 (read, write with `cas`, read a version, metadata, delete, undelete, destroy):
//!   <https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2>
//! - Tokens (`lookup-self`, `renew-self`): <https://developer.hashicorp.com/vault/api-docs/auth/token>
//! - Authentication headers (`X-Vault-Token`, `Authorization: Bearer`), status codes and the
//!   `{"errors": [...]}` body: <https://developer.hashicorp.com/vault/api-docs#authentication>
//!   and <https://developer.hashicorp.com/vault/api-docs#http-status-codes>
//! - Namespaces (`X-Vault-Namespace`): <https://developer.hashicorp.com/vault/api-docs#namespaces>
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::sync::Arc;
use std::time::Duration;

use palisade_test::FakeClock;
use palisade_test::emulators::TestCertificate;
use palisade_test::emulators::vault::{TokenSpec, VaultEmulator};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "hvs.conformance";

struct Fixture {
    vault: VaultEmulator,
    clock: Arc<FakeClock>,
    http: Client,
}

async fn fixture() -> Fixture {
    let clock = Arc::new(FakeClock::new());
    let vault = VaultEmulator::start(clock.clone()).await.unwrap();
    vault.enable_kv2("", "secret");
    vault.add_token(TOKEN, TokenSpec::renewable(Duration::from_secs(3600)));
    Fixture {
        vault,
        clock,
        http: Client::new(),
    }
}

impl Fixture {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(TOKEN, &[], method, path, body).await
    }

    async fn call_as(
        &self,
        token: &str,
        headers: &[(&str, &str)],
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.vault.url()))
            .header("X-Vault-Token", token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn create_then_read_have_the_documented_shapes() {
    let f = fixture().await;
    // "Create/Update secret" sample request.
    let (status, written) = f
        .call(
            Method::POST,
            "/v1/secret/data/my-secret",
            Some(json!({ "options": { "cas": 0 }, "data": { "foo": "bar", "zip": "zap" } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&written["data"]),
        [
            "created_time",
            "custom_metadata",
            "deletion_time",
            "destroyed",
            "version"
        ]
    );
    assert_eq!(written["data"]["version"], 1);
    assert_eq!(written["data"]["deletion_time"], "");
    assert_eq!(written["data"]["destroyed"], false);

    // "Read secret version" sample response.
    let (status, read) = f.call(Method::GET, "/v1/secret/data/my-secret", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["data"]["data"], json!({ "foo": "bar", "zip": "zap" }));
    assert_eq!(
        keys(&read["data"]["metadata"]),
        [
            "created_time",
            "custom_metadata",
            "deletion_time",
            "destroyed",
            "version"
        ]
    );
    assert_eq!(read["data"]["metadata"]["version"], 1);
    let created = read["data"]["metadata"]["created_time"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "created_time is RFC 3339"
    );
    // The common response envelope.
    for field in [
        "request_id",
        "lease_id",
        "renewable",
        "lease_duration",
        "wrap_info",
        "warnings",
        "auth",
    ] {
        assert!(read.get(field).is_some(), "{field} is missing");
    }
}

#[tokio::test]
async fn versions_are_numbered_and_readable_by_number() {
    let f = fixture().await;
    for value in ["one", "two", "three"] {
        let (status, _) = f
            .call(
                Method::POST,
                "/v1/secret/data/app",
                Some(json!({ "data": { "v": value } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, latest) = f.call(Method::GET, "/v1/secret/data/app", None).await;
    assert_eq!(latest["data"]["data"]["v"], "three");
    assert_eq!(latest["data"]["metadata"]["version"], 3);
    let (_, first) = f
        .call(Method::GET, "/v1/secret/data/app?version=1", None)
        .await;
    assert_eq!(first["data"]["data"]["v"], "one");
    assert_eq!(first["data"]["metadata"]["version"], 1);
    let (status, body) = f
        .call(Method::GET, "/v1/secret/data/app?version=9", None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({ "errors": [] }))
    );

    // "Read secret metadata".
    let (status, metadata) = f.call(Method::GET, "/v1/secret/metadata/app", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metadata["data"]["current_version"], 3);
    assert_eq!(keys(&metadata["data"]["versions"]), ["1", "2", "3"]);
    assert_eq!(
        keys(&metadata["data"]["versions"]["2"]),
        ["created_time", "deletion_time", "destroyed"]
    );
}

#[tokio::test]
async fn check_and_set_refuses_a_stale_version() {
    let f = fixture().await;
    let write = |cas: u64| json!({ "options": { "cas": cas }, "data": { "k": "v" } });
    assert_eq!(
        f.call(Method::POST, "/v1/secret/data/cas", Some(write(0)))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = f
        .call(Method::POST, "/v1/secret/data/cas", Some(write(0)))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "cas 0 writes only when the key does not exist"
    );
    assert_eq!(
        body,
        json!({ "errors": ["check-and-set parameter did not match the current version"] })
    );
    assert_eq!(
        f.call(Method::POST, "/v1/secret/data/cas", Some(write(1)))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn delete_undelete_and_destroy_follow_the_documentation() {
    let f = fixture().await;
    for v in ["a", "b"] {
        f.call(
            Method::POST,
            "/v1/secret/data/d",
            Some(json!({ "data": { "v": v } })),
        )
        .await;
    }
    // "Delete latest version of secret": 204, then a read is 404 with metadata and null data.
    let (status, _) = f.call(Method::DELETE, "/v1/secret/data/d", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = f.call(Method::GET, "/v1/secret/data/d", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["data"]["data"], Value::Null);
    assert_ne!(body["data"]["metadata"]["deletion_time"], "");
    // "Undelete secret versions".
    let (status, _) = f
        .call(
            Method::POST,
            "/v1/secret/undelete/d",
            Some(json!({ "versions": [2] })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        f.call(Method::GET, "/v1/secret/data/d", None).await.0,
        StatusCode::OK
    );
    // "Delete secret versions" and "Destroy secret versions".
    f.call(
        Method::POST,
        "/v1/secret/delete/d",
        Some(json!({ "versions": [1] })),
    )
    .await;
    assert_eq!(
        f.call(Method::GET, "/v1/secret/data/d?version=1", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    f.call(
        Method::PUT,
        "/v1/secret/destroy/d",
        Some(json!({ "versions": [2] })),
    )
    .await;
    let (status, body) = f.call(Method::GET, "/v1/secret/data/d", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["data"]["metadata"]["destroyed"], true);
}

#[tokio::test]
async fn errors_use_the_documented_status_codes_and_body() {
    let f = fixture().await;
    // 403: missing or invalid token.
    let response = f
        .http
        .get(format!("{}/v1/secret/data/x", f.vault.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "errors": ["permission denied"] })
    );
    let (status, _) = f
        .call_as("hvs.unknown", &[], Method::GET, "/v1/secret/data/x", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // 404: nothing at the path, with an empty error list.
    let (status, body) = f.call(Method::GET, "/v1/secret/data/missing", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({ "errors": [] }))
    );
    // 404: no such mount.
    let (status, body) = f.call(Method::GET, "/v1/nomount/data/x", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("no handler for route")
    );
    // 400: a body that is not JSON.
    let response = f
        .http
        .post(format!("{}/v1/secret/data/x", f.vault.url()))
        .header("X-Vault-Token", TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_sealed_vault_answers_503() {
    let f = fixture().await;
    f.vault.seal();
    let (status, body) = f
        .call(Method::GET, "/v1/auth/token/lookup-self", None)
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "errors": ["Vault is sealed"] })
        )
    );
    f.vault.unseal();
    assert_eq!(
        f.call(Method::GET, "/v1/auth/token/lookup-self", None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_bearer_authorization_header_is_a_token_too() {
    let f = fixture().await;
    let response = f
        .http
        .get(format!("{}/v1/auth/token/lookup-self", f.vault.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_restricted_to_paths_is_refused_elsewhere() {
    let f = fixture().await;
    f.vault
        .add_token("hvs.narrow", TokenSpec::root().only(&["secret/app/"]));
    f.vault
        .put("", "secret", "app/db", json!({ "k": "v" }))
        .unwrap();
    f.vault
        .put("", "secret", "other", json!({ "k": "v" }))
        .unwrap();
    let (ok, _) = f
        .call_as(
            "hvs.narrow",
            &[],
            Method::GET,
            "/v1/secret/data/app/db",
            None,
        )
        .await;
    assert_eq!(ok, StatusCode::OK);
    let (status, body) = f
        .call_as(
            "hvs.narrow",
            &[],
            Method::GET,
            "/v1/secret/data/other",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("permission denied")
    );
}

#[tokio::test]
async fn lookup_self_reports_the_ttl_and_renew_self_extends_it() {
    let f = fixture().await;
    f.clock.advance(Duration::from_secs(600));
    // "Lookup a token (self)" sample response fields.
    let (status, lookup) = f
        .call(Method::GET, "/v1/auth/token/lookup-self", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for field in [
        "accessor",
        "creation_time",
        "creation_ttl",
        "display_name",
        "entity_id",
        "expire_time",
        "explicit_max_ttl",
        "id",
        "identity_policies",
        "issue_time",
        "meta",
        "num_uses",
        "orphan",
        "path",
        "policies",
        "renewable",
        "ttl",
    ] {
        assert!(
            lookup["data"].get(field).is_some(),
            "lookup-self lacks {field}"
        );
    }
    assert_eq!(lookup["data"]["creation_ttl"], 3600);
    assert_eq!(lookup["data"]["ttl"], 3000);
    assert_eq!(lookup["data"]["renewable"], true);

    // "Renew a token (self)": the increment is a duration string.
    let (status, renewed) = f
        .call(
            Method::POST,
            "/v1/auth/token/renew-self",
            Some(json!({ "increment": "1h" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renewed["auth"]["lease_duration"], 3600);
    assert_eq!(renewed["auth"]["renewable"], true);
    assert_eq!(renewed["auth"]["client_token"], TOKEN);
    assert_eq!(f.vault.token_ttl(TOKEN), Some(3600));

    // Past its TTL a token is refused.
    f.clock.advance(Duration::from_secs(3601));
    let (status, _) = f
        .call(Method::GET, "/v1/auth/token/lookup-self", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn renewal_is_capped_by_the_explicit_max_ttl_and_refused_when_not_renewable() {
    let f = fixture().await;
    let capped = TokenSpec {
        explicit_max_ttl: Duration::from_secs(5000),
        ..TokenSpec::renewable(Duration::from_secs(3600))
    };
    f.vault.add_token("hvs.capped", capped);
    f.clock.advance(Duration::from_secs(3000));
    let (_, renewed) = f
        .call_as(
            "hvs.capped",
            &[],
            Method::POST,
            "/v1/auth/token/renew-self",
            Some(json!({ "increment": 3600 })),
        )
        .await;
    assert_eq!(
        renewed["auth"]["lease_duration"], 2000,
        "5000 s max minus 3000 s lived"
    );

    f.vault.add_token(
        "hvs.fixed",
        TokenSpec {
            renewable: false,
            ..TokenSpec::renewable(Duration::from_secs(60))
        },
    );
    let (status, body) = f
        .call_as(
            "hvs.fixed",
            &[],
            Method::POST,
            "/v1/auth/token/renew-self",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({ "errors": ["lease is not renewable"] }));
}

#[tokio::test]
async fn namespaces_keep_secrets_and_tokens_apart() {
    let f = fixture().await;
    f.vault.enable_kv2("team-a", "secret");
    f.vault
        .put("team-a", "secret", "db", json!({ "k": "in team-a" }))
        .unwrap();
    f.vault
        .add_token("hvs.team-a", TokenSpec::root().in_namespace("team-a"));
    let in_team_a = [("X-Vault-Namespace", "team-a/")];
    let (status, body) = f
        .call_as(
            "hvs.team-a",
            &in_team_a,
            Method::GET,
            "/v1/secret/data/db",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["data"]["k"], "in team-a");
    // The root namespace's `secret` mount does not have it.
    assert_eq!(
        f.call(Method::GET, "/v1/secret/data/db", None).await.0,
        StatusCode::NOT_FOUND
    );
    // A token made in team-a is refused in the root namespace.
    let (status, _) = f
        .call_as("hvs.team-a", &[], Method::GET, "/v1/secret/data/db", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A root-namespace token may work in a child namespace.
    let (status, _) = f
        .call_as(TOKEN, &in_team_a, Method::GET, "/v1/secret/data/db", None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_request_log_counts_what_reached_the_server() {
    let f = fixture().await;
    f.vault
        .put("", "secret", "counted", json!({ "k": "v" }))
        .unwrap();
    for _ in 0..3 {
        f.call(Method::GET, "/v1/secret/data/counted", None).await;
    }
    f.call(Method::GET, "/v1/auth/token/lookup-self", None)
        .await;
    assert_eq!(f.vault.reads_of("secret", "counted"), 3);
    assert_eq!(f.vault.calls_to("/v1/auth/token/lookup-self"), 1);
}

#[tokio::test]
async fn tls_is_served_with_a_certificate_the_client_must_trust() {
    let certificate = TestCertificate::for_localhost().unwrap();
    let vault = VaultEmulator::start_tls(Arc::new(FakeClock::new()), &certificate)
        .await
        .unwrap();
    vault.add_token(TOKEN, TokenSpec::root());
    assert!(vault.url().starts_with("https://localhost:"));
    let url = format!("{}/v1/auth/token/lookup-self", vault.url());
    let untrusting = Client::new();
    assert!(
        untrusting
            .get(&url)
            .header("X-Vault-Token", TOKEN)
            .send()
            .await
            .is_err()
    );
    let trusting = Client::builder()
        .tls_certs_merge(
            reqwest::Certificate::from_pem_bundle(certificate.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let response = trusting
        .get(&url)
        .header("X-Vault-Token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
