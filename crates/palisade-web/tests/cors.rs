//! The CORS policy in a real axum service on loopback, read by a real HTTP client: listed
//! origins get tower-http's CORS answers with credentials, unlisted ones get none, and
//! `Origin: null` gets a 403 problem before the handler runs.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use palisade_test::serve;
use palisade_web::CorsPolicy;

const APP: &str = "https://app.example.com";

async fn send(address: SocketAddr, method: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request =
        reqwest::Client::new().request(method.parse().unwrap(), format!("http://{address}/items"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// A router counting the requests its handler saw, behind `policy`.
async fn served(policy: &CorsPolicy) -> (SocketAddr, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let router = Router::new()
        .route(
            "/items",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { "[]" }
            })
            .post(|| async { "created" }),
        )
        .layer(policy.layer());
    (serve(router).await, seen)
}

#[tokio::test]
async fn a_listed_origin_gets_cors_answers_with_credentials() {
    let (address, seen) = served(&CorsPolicy::allow_origins([APP]).unwrap()).await;
    let preflight = send(
        address,
        "OPTIONS",
        &[
            ("origin", APP),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
    )
    .await;
    assert_eq!(preflight.status(), 200);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], APP);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET,POST,PUT,PATCH,DELETE"
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "authorization,content-type"
    );
    assert_eq!(headers["access-control-max-age"], "600");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "preflights never reach handlers"
    );

    let actual = send(address, "GET", &[("origin", APP)]).await;
    assert_eq!(actual.status(), 200);
    assert_eq!(actual.headers()["access-control-allow-origin"], APP);
    let exposed = actual.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    for name in ["x-request-id", "retry-after", "ratelimit-remaining"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    assert!(
        actual.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("origin")
    );
}

#[tokio::test]
async fn an_unlisted_origin_gets_no_cors_headers_and_null_gets_403() {
    let (address, seen) = served(&CorsPolicy::allow_origins([APP]).unwrap()).await;
    for origin in [
        "https://evil.example",
        "https://app.example.com.evil.example",
        "http://app.example.com",
        "https://app.example.com:8443",
    ] {
        let response = send(address, "GET", &[("origin", origin)]).await;
        assert_eq!(response.status(), 200, "{origin}");
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin"),
            "{origin}"
        );
    }
    assert_eq!(seen.load(Ordering::SeqCst), 4);
    for (method, origin) in [("GET", "null"), ("OPTIONS", "null"), ("POST", "NULL")] {
        let response = send(
            address,
            method,
            &[("origin", origin), ("access-control-request-method", "GET")],
        )
        .await;
        assert_eq!(response.status(), 403, "{method} {origin}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin")
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["type"], "urn:palisade:problem:web/origin-refused");
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        4,
        "refused requests never reach handlers"
    );
    let same_origin = send(address, "GET", &[]).await;
    assert_eq!(
        same_origin.status(),
        200,
        "no Origin: not a cross-origin request"
    );
}

#[tokio::test]
async fn refuse_unlisted_answers_every_other_origin_403() {
    let policy = CorsPolicy::allow_origins([APP, "http://localhost:5173"])
        .unwrap()
        .refuse_unlisted();
    let (address, seen) = served(&policy).await;
    for origin in [
        "https://evil.example",
        "https://APP.example.com",
        "https://app.example.com/",
    ] {
        let response = send(address, "POST", &[("origin", origin)]).await;
        assert_eq!(response.status(), 403, "{origin}");
    }
    for origin in [APP, "http://localhost:5173"] {
        let response = send(address, "GET", &[("origin", origin)]).await;
        assert_eq!(response.status(), 200, "{origin}");
        assert_eq!(response.headers()["access-control-allow-origin"], origin);
    }
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}
