//! R-AUD-1 over real HTTP: every request the layer refuses becomes one `RateLimited`
//! security event naming the client address; admitted requests say nothing.
#![cfg(all(feature = "axum", feature = "audit"))]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use palisade_audit::{Audit, Recorder, SecurityKind};
use palisade_ratelimit::{KeyedLimiter, RateLimitLayer, Settings};
use palisade_test::{FakeClock, serve};

#[tokio::test]
async fn each_refusal_is_one_event_with_the_client_address() {
    let recorder = Recorder::new();
    let audit = Audit::builder().sink(recorder.clone()).build();
    let limiter = Arc::new(KeyedLimiter::with_clock(
        &Settings::new("2/minute".parse().unwrap()),
        Arc::new(FakeClock::new()),
    ));
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(RateLimitLayer::new(limiter).with_audit(audit.clone()));
    let address = serve(app).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = client
            .get(format!("http://{address}/"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429]);
    audit.flush();
    let seen = recorder.take_security();
    assert_eq!(seen.len(), 3);
    for event in seen.iter() {
        assert_eq!(event.kind(), SecurityKind::RateLimited);
        assert_eq!(event.reason(), Some("per-address"));
        assert_eq!(event.actor().client, Some(Ipv4Addr::LOCALHOST.into()));
    }
}
