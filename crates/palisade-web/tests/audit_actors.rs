//! R-AUD-1 over real HTTP: events emitted while a request is handled carry its user,
//! organization, request id and client address; events outside a request carry none; the
//! CORS gate's refusals are `AccessDenied` events.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use palisade_audit::{Audit, Recorder, SecurityEvent, SecurityKind};
use palisade_test::serve;
use palisade_web::context::{self, ContextActors, RequestContextLayer};

async fn identify(request: Request, next: Next) -> Response {
    context::identify(request.extensions(), "u-42", Some("org-7")).unwrap();
    next.run(request).await
}

async fn refuse(State(audit): State<Audit>) -> &'static str {
    audit.security(SecurityEvent::new(SecurityKind::AccessDenied, "test").with_reason("not-owner"));
    "denied"
}

#[tokio::test]
async fn events_in_a_request_carry_its_actor() {
    let recorder = Recorder::new();
    let audit = Audit::builder()
        .actors(Arc::new(ContextActors))
        .sink(recorder.clone())
        .build();
    let app = Router::new()
        .route("/", get(refuse))
        .layer(middleware::from_fn(identify))
        .layer(RequestContextLayer::new())
        .with_state(audit.clone());
    let server = serve(app).await;
    let response = reqwest::get(format!("http://{server}/")).await.unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.text().await.unwrap(), "denied");
    audit.security(SecurityEvent::new(SecurityKind::SecretUnavailable, "test"));
    audit.flush();
    let seen = recorder.take_security();
    let actor = seen[0].actor();
    assert_eq!(actor.user.as_deref(), Some("u-42"));
    assert_eq!(actor.organization.as_deref(), Some("org-7"));
    assert_eq!(actor.request_id.as_deref(), Some(request_id.as_str()));
    assert_eq!(actor.client, Some(std::net::Ipv4Addr::LOCALHOST.into()));
    assert_eq!(seen[1].actor(), &palisade_audit::Actor::none());
}

#[tokio::test]
async fn a_refused_origin_is_an_access_denied_event() {
    let recorder = Recorder::new();
    let audit = Audit::builder()
        .actors(Arc::new(ContextActors))
        .sink(recorder.clone())
        .build();
    let cors = palisade_web::CorsPolicy::allow_origins(["https://app.example.com"])
        .unwrap()
        .refuse_unlisted()
        .with_audit(audit.clone());
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(cors.layer())
        .layer(RequestContextLayer::new());
    let server = serve(app).await;
    let client = reqwest::Client::new();
    for (origin, status) in [
        ("https://app.example.com", 200),
        ("https://evil.example", 403),
        ("null", 403),
    ] {
        let response = client
            .get(format!("http://{server}/"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{origin}");
    }
    audit.flush();
    let seen = recorder.take_security();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|e| e.kind() == SecurityKind::AccessDenied
        && e.reason() == Some("web/origin-refused")
        && e.actor().request_id.is_some()));
}
