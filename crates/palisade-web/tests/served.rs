//! The layer in a real axum service on loopback, read by a real HTTP client (reqwest): each
//! preset's exact headers (helmet's checked against the helmet npm package itself), and the
//! headers on every kind of response: handler output, an extractor's rejection, a 404, a
//! caught panic (a rate limiter's 429 is tested in palisade-ratelimit, which depends on this
//! crate).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::extract::Extension;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use palisade_test::serve;
use palisade_web::{CspNonce, Mode, SecurityHeaders};
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;

/// The response's status and headers (the date and the body's own headers left out).
async fn fetch(address: SocketAddr, method: &str, path: &str) -> (u16, BTreeMap<String, String>) {
    let response = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("http://{address}{path}"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "content-type" | "content-length"))
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
        .collect();
    (response.status().as_u16(), headers)
}

/// What `headers` sets in its mode, as a table.
fn expected(headers: &SecurityHeaders, names: &[&str]) -> BTreeMap<String, String> {
    names
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), headers.get(name)?.to_owned())))
        .collect()
}

#[allow(
    clippy::panic,
    reason = "the handler bug a CatchPanic layer turns into a 500"
)]
async fn panics() -> &'static str {
    panic!("a handler bug")
}

fn app(headers: &SecurityHeaders) -> Router {
    app_with(headers, Router::new())
}

/// The test routes and `extra` under a panic catcher and `headers`.
fn app_with(headers: &SecurityHeaders, extra: Router) -> Router {
    extra
        .route(
            "/",
            get(|| async { ([("x-powered-by", "Express")], "hello") }),
        )
        .route(
            "/json",
            post(|Json(body): Json<Value>| async move { Json(body) }),
        )
        .route("/panic", get(panics))
        .route(
            "/own-cache",
            get(|| async { ([("cache-control", "public, max-age=60")], "cached") }),
        )
        .layer(CatchPanicLayer::new())
        .layer(headers.layer())
}

#[tokio::test]
async fn helmet_serves_exactly_what_the_helmet_package_sets() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node/helmet.js");
    let peer: Value =
        serde_json::from_str(&palisade_test::node::run(&script, "helmet", &[], "")).unwrap();
    let peer_set: BTreeMap<String, String> = peer["set"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(peer_set.len(), 12, "{peer_set:?}");

    let address = serve(app(&SecurityHeaders::helmet())).await;
    let (status, served) = fetch(address, "GET", "/").await;
    assert_eq!(status, 200);
    assert_eq!(served, peer_set, "helmet 8.3.0 and palisade differ");
    assert_eq!(peer["removed"], serde_json::json!(["x-powered-by"]));
    assert!(
        !served.contains_key("x-powered-by"),
        "a handler's X-Powered-By is removed"
    );
}

#[tokio::test]
async fn every_kind_of_response_gets_the_headers() {
    let headers = SecurityHeaders::api();
    // (A rate limiter's 429: palisade-ratelimit's tests/axum_serve.rs, under this layer.)
    let address = serve(app(&headers)).await;
    let names = [
        "cache-control",
        "content-security-policy",
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ];
    let want = expected(&headers, &names);
    assert_eq!(want.len(), 6);
    for (method, path, status) in [
        ("GET", "/", 200),
        ("POST", "/json", 400),
        ("GET", "/nowhere", 404),
        ("DELETE", "/", 405),
        ("GET", "/panic", 500),
    ] {
        let (got, served) = fetch(address, method, path).await;
        assert_eq!(got, status, "{method} {path}");
        for (name, value) in &want {
            assert_eq!(served.get(name), Some(value), "{method} {path}: {name}");
        }
    }
}

#[tokio::test]
async fn a_handlers_own_header_is_kept_and_development_sends_no_hsts() {
    let headers = SecurityHeaders::api().mode(Mode::Development);
    let address = serve(app(&headers)).await;
    let (_, served) = fetch(address, "GET", "/own-cache").await;
    assert_eq!(served["cache-control"], "public, max-age=60");
    assert!(!served.contains_key("strict-transport-security"));
    assert_eq!(served["x-frame-options"], "DENY");
}

#[tokio::test]
async fn a_route_layer_wins_over_the_outer_one() {
    let outer = SecurityHeaders::helmet();
    let inner = SecurityHeaders::api();
    let router = Router::new()
        .route("/api", get(|| async { "{}" }).layer(inner.layer()))
        .route("/page", get(|| async { "<p>" }))
        .layer(outer.layer());
    let address = serve(router).await;
    let (_, api) = fetch(address, "GET", "/api").await;
    assert_eq!(api["x-frame-options"], "DENY");
    assert_eq!(
        api["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(!api.contains_key("origin-agent-cluster"), "{api:?}");
    let (_, page) = fetch(address, "GET", "/page").await;
    assert_eq!(page["x-frame-options"], "SAMEORIGIN");
}

#[tokio::test]
async fn the_outer_layer_still_removes_its_list_under_a_route_layer() {
    let leaky = || async {
        (
            [
                ("server", "Apache/2.4.1"),
                ("x-aspnet-version", "4.0.30319"),
                ("x-powered-by", "PHP/8.3"),
            ],
            "{}",
        )
    };
    let router = Router::new()
        .route(
            "/helmet",
            get(leaky).layer(SecurityHeaders::helmet().layer()),
        )
        .route("/empty", get(leaky).layer(SecurityHeaders::empty().layer()))
        .layer(SecurityHeaders::owasp().layer());
    let address = serve(router).await;
    for path in ["/helmet", "/empty"] {
        let (status, served) = fetch(address, "GET", path).await;
        assert_eq!(status, 200);
        for name in ["server", "x-aspnet-version", "x-powered-by"] {
            assert!(
                !served.contains_key(name),
                "{path}: {name} leaked: {served:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_handlers_several_policies_are_all_kept() {
    let headers = SecurityHeaders::helmet().with_csp_nonce();
    let own = headers.get("content-security-policy").unwrap().to_owned();
    let router = Router::new()
        .route(
            "/",
            get(move || {
                let own = own.clone();
                async move {
                    let mut response = "<p>".into_response();
                    let policies = response.headers_mut();
                    policies.append("content-security-policy", own.parse().unwrap());
                    policies.append(
                        "content-security-policy",
                        "script-src 'none'".parse().unwrap(),
                    );
                    response
                }
            }),
        )
        .layer(headers.layer());
    let address = serve(router).await;
    let response = reqwest::get(format!("http://{address}/")).await.unwrap();
    let policies: Vec<&str> = response
        .headers()
        .get_all("content-security-policy")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(policies.len(), 2, "{policies:?}");
    assert_eq!(policies[1], "script-src 'none'");
    assert!(!policies[0].contains("nonce-"), "{policies:?}");
}

#[tokio::test]
async fn each_request_gets_its_own_nonce_in_the_policy_and_the_handler() {
    let headers = SecurityHeaders::helmet().with_csp_nonce();
    let router = Router::new()
        .route(
            "/",
            get(|Extension(nonce): Extension<CspNonce>| async move {
                nonce.as_str().to_owned().into_response()
            }),
        )
        .layer(headers.layer());
    let address = serve(router).await;
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = client
            .get(format!("http://{address}/"))
            .send()
            .await
            .unwrap();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = response.text().await.unwrap();
        assert_eq!(nonce.len(), 24, "{nonce}");
        assert!(
            csp.contains(&format!("script-src 'self' 'nonce-{nonce}';")),
            "{csp}"
        );
        seen.push(nonce);
    }
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn the_owasp_and_reference_presets_serve_their_tables() {
    let owasp = SecurityHeaders::owasp();
    let address = serve(app(&owasp)).await;
    let (_, served) = fetch(address, "GET", "/").await;
    // The OWASP Secure Headers Project's headers_add.json, last update 2026-07-19 05:44:10.
    assert_eq!(served.len(), 13, "{served:?}");
    assert_eq!(
        served["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert_eq!(served["cross-origin-embedder-policy"], "require-corp");
    assert_eq!(served["x-frame-options"], "deny");
    assert!(served["permissions-policy"].starts_with("accelerometer=(), autoplay=()"));
    assert!(served["permissions-policy"].ends_with("serial=(), unload=()"));

    let reference = SecurityHeaders::instacrud();
    let address = serve(app(&reference)).await;
    let (_, served) = fetch(address, "GET", "/").await;
    let want: BTreeMap<String, String> = [
        ("content-security-policy", "default-src 'self'"),
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("x-xss-protection", "1; mode=block"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(served, want);
}
