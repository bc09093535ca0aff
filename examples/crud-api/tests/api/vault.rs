//! The token key read from Vault (OpenBao, a private server this test seals) at run time
//! through the secret cache: a rotation in Vault reaches the service without a restart; while
//! Vault is sealed the cached key keeps serving for `SECRETS_MAX_STALE`, then sign-in and
//! every authenticated route answer 503 (never a 500, never a token checked against a key
//! nobody can confirm); unsealed, it serves again.

use std::sync::Arc;
use std::time::Duration;

use palisade_test::{FakeClock, OpenBao, unique_name};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{bind, call, database_name, secret_file, serve_with_clock, sign_up};

#[tokio::test]
async fn the_token_key_follows_vault_and_fails_closed_when_vault_stays_sealed() {
    let bao = OpenBao::start_own(false);
    let _ = bao.cli(&[
        "kv",
        "put",
        "secret/crud-api",
        "jwt=the first token key, thirty-two bytes or more",
    ]);
    let clock = FakeClock::new();
    let started = serve_with_clock(
        bind().await,
        &database_name(),
        &[
            ("VAULT_ADDR", bao.url().to_owned()),
            ("VAULT_TOKEN", secret_file(bao.root_token())),
            ("JWT_SECRET", "vault:secret/crud-api#jwt".to_owned()),
            ("SECRETS_CACHE_TTL", "60".to_owned()),
            ("SECRETS_MAX_STALE", "600".to_owned()),
        ],
        Arc::new(clock.clone()),
    )
    .await;
    let base = &started.base;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("vault"));
    let token = sign_up(&http, base, &email, "a long enough password").await;
    let clients = || http.get(format!("{base}/clients")).bearer_auth(&token);
    assert_eq!(call(clients()).await.0, StatusCode::OK);

    // Rotated in Vault: after the cache's lifetime, tokens are signed with the new key (and,
    // with no previous key configured, the old token is refused).
    let _ = bao.cli(&[
        "kv",
        "put",
        "secret/crud-api",
        "jwt=the second token key, thirty-two bytes or more",
    ]);
    assert_eq!(
        call(clients()).await.0,
        StatusCode::OK,
        "cached until its lifetime ends"
    );
    clock.advance(Duration::from_secs(61));
    assert_eq!(call(clients()).await.0, StatusCode::UNAUTHORIZED);
    let signin = || {
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": "a long enough password"}))
    };
    let (status, body) = call(signin()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let clients = || http.get(format!("{base}/clients")).bearer_auth(&token);
    assert_eq!(call(clients()).await.0, StatusCode::OK);

    // Sealed: the last good key serves within SECRETS_MAX_STALE...
    let _ = bao.cli(&["operator", "seal"]);
    clock.advance(Duration::from_secs(61));
    assert_eq!(call(clients()).await.0, StatusCode::OK);
    clock.advance(Duration::from_secs(500));
    assert_eq!(call(clients()).await.0, StatusCode::OK);
    // ...then the service answers 503, with problem details.
    clock.advance(Duration::from_secs(120));
    let (status, body) = call(clients()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], 503);
    let (status, _) = call(signin()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Unsealed: the next read after the cache's retry pause serves again.
    bao.unseal();
    clock.advance(Duration::from_secs(2));
    assert_eq!(call(clients()).await.0, StatusCode::OK);
}
