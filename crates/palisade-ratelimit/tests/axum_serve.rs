//! The layer in a real axum service on loopback, called by a real HTTP client (reqwest): the
//! peer address comes from axum's `ConnectInfo<SocketAddr>` with no configuration, a server
//! that records no peers gets the documented `500`, and a 429 carries the security headers of
//! palisade-web's layer around it.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use palisade_ratelimit::{KeyedLimiter, RateLimitLayer, Settings};
use palisade_test::FakeClock;
use tokio::net::TcpListener;

fn router() -> Router {
    let limiter = Arc::new(KeyedLimiter::with_clock(
        &Settings::new("2/minute".parse().unwrap()),
        Arc::new(FakeClock::new()),
    ));
    Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(RateLimitLayer::new(limiter))
}

async fn statuses(address: SocketAddr, count: usize) -> Vec<(u16, Option<String>)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for _ in 0..count {
        let response = client
            .get(format!("http://{address}/"))
            .send()
            .await
            .unwrap();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        out.push((response.status().as_u16(), retry));
    }
    out
}

#[tokio::test]
async fn axum_connect_info_keys_the_limit_over_real_http() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router().into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let seen = statuses(address, 3).await;
    server.abort();
    assert_eq!(
        seen,
        [(200, None), (200, None), (429, Some("30".to_owned()))],
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_server_that_records_no_peer_gets_the_documented_500() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, router()).await.unwrap();
    });
    let seen = statuses(address, 2).await;
    server.abort();
    assert_eq!(seen, [(500, None), (500, None)], "{seen:?}");
}

/// A refusal answered from a handler: 429 problem details with `Retry-After`.
#[test]
fn a_refusal_is_a_429_problem_with_retry_after() {
    use axum::response::IntoResponse;
    let limiter = palisade_ratelimit::Limiter::with_clock(
        &Settings::new("1/minute".parse().unwrap()),
        Arc::new(FakeClock::new()),
    );
    limiter.check().unwrap();
    let refused = limiter.check().unwrap_err();
    let body = refused.problem_details().to_response().into_body();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["type"], "urn:palisade:problem:ratelimit/limited");
    assert_eq!(json["limit"], "1/minute");
    let response = refused.into_response();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "60");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_refusal_carries_the_security_headers_of_the_layer_around_it() {
    let headers = palisade_web::SecurityHeaders::api();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = router().layer(headers.layer());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = client
            .get(format!("http://{address}/"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        for name in [
            "cache-control",
            "content-security-policy",
            "x-frame-options",
            "strict-transport-security",
        ] {
            assert_eq!(
                response.headers().get(name).and_then(|v| v.to_str().ok()),
                headers.get(name),
                "{name} on a {}",
                response.status()
            );
        }
    }
    server.abort();
    assert_eq!(statuses, [200, 200, 429]);
}
