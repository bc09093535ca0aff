//! The extractors in a real axum service on loopback, read with reqwest: `Bearer` answers
//! every missing or refused token one opaque 401 (with the security headers of palisade-web's
//! layer) and puts the token's subject into the request context; `Turnstile` answers 400 or
//! 503 and never passes by accident; a refused one-time code is a 400 problem.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Query};
use axum::routing::{get, post};
use palisade_auth::{
    Bearer, MemoryCodes, OneTimeCodes, OwnAlgorithm, RedeemError, SigningKey, TokenIssuer,
    TokenVerifier, Turnstile, TurnstileVerifier,
};
use palisade_secrets::SecretValue;
use palisade_test::emulators::turnstile::{Fault, TurnstileEmulator};
use palisade_test::{FakeClock, LogCapture, serve};
use palisade_web::SecurityHeaders;
use palisade_web::context::{self, RequestContextLayer};
use serde_json::{Value, json};

#[derive(Clone)]
struct AppState {
    tokens: TokenVerifier,
    turnstile: TurnstileVerifier,
    codes: Arc<OneTimeCodes<MemoryCodes>>,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.tokens.clone()
    }
}

impl FromRef<AppState> for TurnstileVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.turnstile.clone()
    }
}

async fn me(bearer: Bearer<Value>) -> axum::Json<Value> {
    let seen = context::current()
        .ok()
        .and_then(|c| c.user().map(str::to_owned));
    axum::Json(
        json!({"subject": bearer.subject(), "context_user": seen, "role": bearer.claims["role"]}),
    )
}

async fn exchange(
    axum::extract::State(state): axum::extract::State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<String, RedeemError> {
    let code = query
        .get("session_code")
        .map(String::as_str)
        .unwrap_or_default();
    let payload = state.codes.redeem(code, None).await?;
    Ok(String::from_utf8_lossy(payload.expose_bytes()).into_owned())
}

async fn app(
    turnstile_url: &str,
) -> (
    std::net::SocketAddr,
    TokenIssuer,
    Arc<OneTimeCodes<MemoryCodes>>,
) {
    let secret = SecretValue::from_string("a served-test secret of at least 32 bytes".into());
    let key = SigningKey::new("k1", OwnAlgorithm::Hs256, &secret).unwrap();
    let clock = Arc::new(FakeClock::new());
    let issuer = TokenIssuer::new(key.clone())
        .audience("crud")
        .clock(clock.clone());
    let codes = Arc::new(OneTimeCodes::new(MemoryCodes::default()));
    let state = AppState {
        tokens: TokenVerifier::new([key.verifying_key()])
            .audience("crud")
            .clock(clock),
        turnstile: TurnstileVerifier::new(SecretValue::from_string("0x4AAAAAAAserved".into()))
            .unwrap()
            .endpoint(turnstile_url)
            .unwrap()
            .timeout(std::time::Duration::from_millis(300))
            .unwrap(),
        codes: Arc::clone(&codes),
    };
    let router = Router::new()
        .route("/me", get(me))
        .route("/signin", post(|_: Turnstile| async { "welcome" }))
        .route("/session", get(exchange))
        .with_state(state)
        .layer(RequestContextLayer::new())
        .layer(SecurityHeaders::api().layer());
    (serve(router).await, issuer, codes)
}

#[tokio::test]
async fn bearer_refusals_are_one_opaque_401_with_the_security_headers() {
    let emulator = TurnstileEmulator::start(Arc::new(FakeClock::new()), "0x4AAAAAAAserved")
        .await
        .unwrap();
    let (address, issuer, _) = app(&emulator.siteverify_url()).await;
    let client = reqwest::Client::new();
    let token = issuer.issue("u-42", &json!({"role": "editor"})).unwrap();
    let good: Value = client
        .get(format!("http://{address}/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        good,
        json!({"subject": "u-42", "context_user": "u-42", "role": "editor"})
    );

    let capture = LogCapture::start();
    let tampered = format!("{}x", token);
    for (authorization, challenge) in [
        (None, "Bearer"),
        (Some("Basic dXNlcjpwYXNz".to_owned()), "Bearer"),
        (
            Some(format!("Bearer {tampered}")),
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some("Bearer not.a.token".to_owned()),
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(format!("bearer {}", "e".repeat(9000))),
            "Bearer error=\"invalid_token\"",
        ),
    ] {
        let mut request = client.get(format!("http://{address}/me"));
        if let Some(authorization) = &authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], challenge);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["type"], "urn:palisade:problem:auth/unauthenticated");
    }
    let logs = capture.text();
    assert!(
        !logs.contains(&tampered[..40]),
        "a token reached the logs: {logs}"
    );
}

#[tokio::test]
async fn turnstile_refusals_are_400_and_outages_503() {
    let emulator = TurnstileEmulator::start(Arc::new(FakeClock::new()), "0x4AAAAAAAserved")
        .await
        .unwrap();
    let (address, _, _) = app(&emulator.siteverify_url()).await;
    let client = reqwest::Client::new();
    let signin = |token: Option<String>| {
        let mut request = client.post(format!("http://{address}/signin"));
        if let Some(token) = token {
            request = request.header("cf-turnstile-token", token);
        }
        request.send()
    };
    let token = emulator.issue_token("app.example.com", "signin");
    assert_eq!(signin(Some(token.clone())).await.unwrap().status(), 200);
    assert_eq!(signin(Some(token)).await.unwrap().status(), 400, "spent");
    assert_eq!(signin(None).await.unwrap().status(), 400, "missing");
    emulator.set_fault(Fault::Hang);
    let token = emulator.issue_token("app.example.com", "signin");
    let outage = signin(Some(token)).await.unwrap();
    assert_eq!(outage.status(), 503);
    assert_eq!(outage.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn a_session_code_is_exchanged_once() {
    let emulator = TurnstileEmulator::start(Arc::new(FakeClock::new()), "0x4AAAAAAAserved")
        .await
        .unwrap();
    let (address, _, codes) = app(&emulator.siteverify_url()).await;
    let code = codes.issue(b"session for u-42", None).await.unwrap();
    let url = format!("http://{address}/session?session_code={}", code.expose());
    let first = reqwest::get(&url).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.unwrap(), "session for u-42");
    let second = reqwest::get(&url).await.unwrap();
    assert_eq!(second.status(), 400);
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["type"], "urn:palisade:problem:auth/invalid-code");
}
