//! Conformance of the Key Vault emulator to Azure's documented REST API. Each test pins a
//! request and response shape from the documentation:
//!
//! - Get Secret (`GET {vault}/secrets/{name}/{version}?api-version=...`, the secret bundle,
//!   `SecretNotFound`): <https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret>
//! - Set Secret (`PUT {vault}/secrets/{name}`): <https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/set-secret/set-secret>
//! - Update Secret (`PATCH`, attributes such as `enabled`): <https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/update-secret/update-secret>
//! - The bearer challenge (a first request without a token gets 401 and
//!   `WWW-Authenticate: Bearer authorization="...", resource="https://vault.azure.net"`) and
//!   error bodies (`{"error": {"code", "message", "innererror"}}`):
//!   <https://learn.microsoft.com/en-us/azure/key-vault/general/authentication-requests-and-responses>
//! - Entra ID's client credentials grant (`POST /{tenant}/oauth2/v2.0/token`):
//!   <https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::sync::Arc;
use std::time::Duration;

use palisade_test::FakeClock;
use palisade_test::emulators::key_vault::{Attributes, KeyVaultEmulator, TENANT};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "eyJ.emulated.token";
const API: &str = "api-version=2025-07-01";

struct Fixture {
    vault: KeyVaultEmulator,
    clock: FakeClock,
    http: Client,
    base: String,
}

async fn fixture() -> Fixture {
    let clock = FakeClock::new();
    let vault = KeyVaultEmulator::start(Arc::new(clock.clone()))
        .await
        .unwrap();
    vault.add_token(TOKEN, true, Duration::from_secs(3600));
    let certificate =
        reqwest::Certificate::from_pem_bundle(vault.certificate().pem().as_bytes()).unwrap();
    let http = Client::builder()
        .tls_certs_merge(certificate)
        .resolve("myvault.vault.azure.net", vault.address())
        .resolve("login.emulated.test", vault.address())
        .build()
        .unwrap();
    let base = vault.vault_url("myvault");
    Fixture {
        vault,
        clock,
        http,
        base,
    }
}

impl Fixture {
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(
                self.http
                    .get(format!("{}{path}", self.base))
                    .bearer_auth(TOKEN),
            )
            .await;
        (status, body)
    }
}

#[tokio::test]
async fn an_unauthenticated_request_gets_the_bearer_challenge() {
    let f = fixture().await;
    let (status, headers, body) = f
        .send(f.http.get(format!("{}/secrets/x/?{API}", f.base)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["www-authenticate"],
        format!(
            "Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", resource=\"https://vault.azure.net\""
        )
    );
    assert_eq!(body["error"]["code"], "Unauthorized");
    // An unknown or expired token gets the challenge too.
    let (status, _, _) = f
        .send(
            f.http
                .get(format!("{}/secrets/x/?{API}", f.base))
                .bearer_auth("nope"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    f.clock.advance(Duration::from_secs(3601));
    assert_eq!(
        f.get(&format!("/secrets/x/?{API}")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn set_then_get_have_the_documented_bundle() {
    let f = fixture().await;
    let (status, _, set) = f
        .send(
            f.http
                .put(format!("{}/secrets/db-password?{API}", f.base))
                .bearer_auth(TOKEN)
                .json(&json!({ "value": "mysecretvalue", "attributes": { "enabled": true } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(set["value"], "mysecretvalue");
    let id = set["id"].as_str().unwrap();
    let version = id.rsplit('/').next().unwrap();
    assert_eq!(version.len(), 32, "a version id is 32 hex characters");
    assert!(id.contains("/secrets/db-password/"));

    // Latest: `/secrets/{name}/` with an empty version, as the SDK sends it.
    let (status, latest) = f.get(&format!("/secrets/db-password/?{API}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest["value"], "mysecretvalue");
    assert_eq!(latest["id"], set["id"]);
    for field in ["enabled", "created", "updated", "recoveryLevel"] {
        assert!(
            latest["attributes"].get(field).is_some(),
            "attributes lack {field}"
        );
    }
    // By version, and case-insensitively by name.
    let (status, by_version) = f
        .get(&format!("/secrets/DB-Password/{version}?{API}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_version["value"], "mysecretvalue");
}

#[tokio::test]
async fn a_new_version_becomes_the_latest_and_old_ones_stay_readable() {
    let f = fixture().await;
    let first = f.vault.set("api-key", "one", &Attributes::default());
    let second = f.vault.set("api-key", "two", &Attributes::default());
    assert_ne!(first, second);
    assert_eq!(
        f.get(&format!("/secrets/api-key/?{API}")).await.1["value"],
        "two"
    );
    assert_eq!(
        f.get(&format!("/secrets/api-key/{first}?{API}")).await.1["value"],
        "one"
    );
}

#[tokio::test]
async fn errors_have_the_documented_codes() {
    let f = fixture().await;
    let (status, body) = f.get(&format!("/secrets/missing/?{API}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "SecretNotFound");

    let (status, body) = f.get("/secrets/missing/").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "api-version is required");
    assert_eq!(body["error"]["code"], "BadParameter");

    f.vault
        .add_token("no-get", false, Duration::from_secs(3600));
    f.vault.set("x", "v", &Attributes::default());
    let (_, _, body) = f
        .send(
            f.http
                .get(format!("{}/secrets/x/?{API}", f.base))
                .bearer_auth("no-get"),
        )
        .await;
    assert_eq!(body["error"]["code"], "Forbidden");
    assert_eq!(body["error"]["innererror"]["code"], "AccessDenied");
}

#[tokio::test]
async fn a_disabled_secret_is_forbidden_and_update_toggles_it() {
    let f = fixture().await;
    let version = f.vault.set("db", "pw", &Attributes::default());
    let (status, _, updated) = f
        .send(
            f.http
                .patch(format!("{}/secrets/db/{version}?{API}", f.base))
                .bearer_auth(TOKEN)
                .json(&json!({ "attributes": { "enabled": false } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["attributes"]["enabled"], false);
    assert!(
        updated.get("value").is_none(),
        "Update does not return the value"
    );
    let (status, body) = f.get(&format!("/secrets/db/?{API}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["innererror"]["code"], "SecretDisabled");
    assert!(f.vault.set_enabled("db", &version, true));
    assert_eq!(
        f.get(&format!("/secrets/db/?{API}")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn expiry_is_an_attribute_the_service_reports_but_does_not_enforce() {
    let f = fixture().await;
    f.vault.set(
        "old",
        "v",
        &Attributes {
            expires: Some(1_000),
            ..Attributes::default()
        },
    );
    let (status, body) = f.get(&format!("/secrets/old/?{API}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["attributes"]["exp"], 1_000);
}

#[tokio::test]
async fn the_client_credentials_grant_issues_a_token_for_key_vault() {
    let f = fixture().await;
    f.vault.add_client(TENANT, "app-id", "app-secret");
    let token_url = format!("{}/{TENANT}/oauth2/v2.0/token", f.vault.authority_url());
    let form = |secret: &str| {
        format!(
            "client_id=app-id&client_secret={secret}&grant_type=client_credentials&scope=https%3A%2F%2Fvault.azure.net%2F.default"
        )
    };
    let request = |secret: &str| {
        f.http
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(secret))
    };
    let (status, _, body) = f.send(request("app-secret")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    f.vault.set("x", "v", &Attributes::default());
    let (status, _, _) = f
        .send(
            f.http
                .get(format!("{}/secrets/x/?{API}", f.base))
                .bearer_auth(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, body) = f.send(request("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn an_outage_is_503_and_the_request_log_counts_gets() {
    let f = fixture().await;
    f.vault.set("x", "v", &Attributes::default());
    f.get(&format!("/secrets/x/?{API}")).await;
    f.vault.fail(true);
    assert_eq!(
        f.get(&format!("/secrets/x/?{API}")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    f.vault.fail(false);
    assert_eq!(f.vault.gets_of("x"), 2);
}
