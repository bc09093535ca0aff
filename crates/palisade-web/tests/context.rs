//! The request context in a real axum service on loopback, read by a real HTTP client
//! (reqwest): isolation between concurrent users across Redis round trips and spawned tasks,
//! request ids from trusted proxies only, client addresses, the injected clock, the request
//! span on every log line, and the extractors' rejections (R-WEB-1).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use palisade_test::{FakeClock, LogCapture, Service, serve};
use palisade_web::context::{self, Authenticated, NoContext, RequestContext, RequestContextLayer};
use palisade_web::{SecurityHeaders, TrustedProxies};
use serde_json::{Value, json};

/// Stands in for an authentication layer: the user (and organization) named in `x-test-user`.
async fn identify_from_header(request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("x-test-user")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if let Some(user) = user {
        let organization = format!("org-of-{user}");
        context::identify(request.extensions(), &user, Some(&organization)).unwrap();
    }
    next.run(request).await
}

/// Handlers in flight now, and the most seen at once.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    peak: AtomicUsize,
}

#[derive(Clone)]
struct Shared {
    redis: redis::aio::MultiplexedConnection,
    concurrency: Arc<Concurrency>,
}

fn current_user() -> Option<String> {
    context::current().ok()?.user().map(str::to_owned)
}

/// Reads the context before, between and after two Redis round trips, in a task spawned with
/// the context and in one spawned without it.
async fn whoami(State(shared): State<Shared>, auth: Authenticated) -> Json<Value> {
    let before = current_user();
    let in_flight = shared.concurrency.now.fetch_add(1, Ordering::SeqCst) + 1;
    shared
        .concurrency
        .peak
        .fetch_max(in_flight, Ordering::SeqCst);
    let mut redis = shared.redis.clone();
    let key = format!("palisade-web:context:{}", auth.request_id());
    let () = redis::cmd("SET")
        .arg(&key)
        .arg(auth.user_id())
        .arg("EX")
        .arg(60)
        .query_async(&mut redis)
        .await
        .unwrap();
    tokio::task::yield_now().await;
    let stored: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    let after = current_user();
    let spawned = context::spawn(async { current_user() }).await.unwrap();
    let plain = tokio::spawn(async { context::current().err() })
        .await
        .unwrap();
    shared.concurrency.now.fetch_sub(1, Ordering::SeqCst);
    Json(json!({
        "request_id": auth.request_id().to_string(),
        "extracted": auth.user_id(),
        "organization": auth.organization(),
        "before": before,
        "stored": stored,
        "after": after,
        "spawned": spawned,
        "plain_spawn": plain.map(|error: NoContext| error.to_string()),
    }))
}

async fn redis_connection() -> redis::aio::MultiplexedConnection {
    redis::Client::open(Service::Redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn app(shared: Shared, layer: RequestContextLayer) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route(
            "/context",
            get(|context: RequestContext| async move {
                Json(json!({
                    "request_id": context.request_id().to_string(),
                    "client": context.client().map(|ip| ip.to_string()),
                    "received_at": context.received_at().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
                    "user": context.user(),
                }))
            }),
        )
        .with_state(shared)
        .layer(middleware::from_fn(identify_from_header))
        .layer(layer)
        .layer(SecurityHeaders::api().layer())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_requests_of_fifty_users_each_see_only_their_own_context() {
    let shared = Shared {
        redis: redis_connection().await,
        concurrency: Arc::default(),
    };
    let concurrency = Arc::clone(&shared.concurrency);
    let address = serve(app(shared, RequestContextLayer::new())).await;
    let client = reqwest::Client::new();
    let requests = (0..1_000).map(|index| {
        let client = client.clone();
        async move {
            let user = format!("user-{}", index % 50);
            let response = client
                .get(format!("http://{address}/whoami"))
                .header("x-test-user", &user)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let echoed = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let body: Value = response.json().await.unwrap();
            (user, echoed, body)
        }
    });
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut ids = HashSet::new();
    for handle in handles {
        let (user, echoed, body) = handle.await.unwrap();
        for field in ["extracted", "before", "stored", "after", "spawned"] {
            assert_eq!(body[field], user.as_str(), "{field}: {body}");
        }
        assert_eq!(body["organization"], format!("org-of-{user}"));
        assert_eq!(body["request_id"], echoed.as_str());
        assert!(
            body["plain_spawn"]
                .as_str()
                .unwrap()
                .contains("palisade_web::context::spawn"),
            "{body}"
        );
        assert!(ids.insert(echoed), "request ids repeat");
    }
    assert_eq!(ids.len(), 1_000);
    let peak = concurrency.peak.load(Ordering::SeqCst);
    assert!(
        peak >= 10,
        "only {peak} handlers ran at once: not a concurrency test"
    );
}

async fn get_json(
    address: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new().get(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let headers = response.headers().clone();
    (headers, response.json().await.unwrap())
}

#[tokio::test]
async fn request_ids_and_client_addresses_are_believed_from_trusted_proxies_only() {
    let shared = Shared {
        redis: redis_connection().await,
        concurrency: Arc::default(),
    };
    let untrusting = serve(app(shared.clone(), RequestContextLayer::new())).await;
    let trusting = serve(app(
        shared,
        RequestContextLayer::new()
            .trusted_proxies(TrustedProxies::new(["127.0.0.0/8".parse().unwrap()])),
    ))
    .await;
    let forwarded = [
        ("x-request-id", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
        ("x-forwarded-for", "198.51.100.7, 203.0.113.9"),
    ];

    let (headers, body) = get_json(untrusting, "/context", &forwarded).await;
    assert_ne!(
        body["request_id"], forwarded[0].1,
        "an untrusted peer picked its id"
    );
    assert_eq!(body["request_id"].as_str().unwrap().len(), 32);
    assert_eq!(
        headers["x-request-id"],
        body["request_id"].as_str().unwrap()
    );
    assert_eq!(body["client"], "127.0.0.1");

    let (headers, body) = get_json(trusting, "/context", &forwarded).await;
    assert_eq!(body["request_id"], forwarded[0].1);
    assert_eq!(headers["x-request-id"], forwarded[0].1);
    assert_eq!(body["client"], "203.0.113.9");

    // Two lines: the client's, then the proxy's appended one, which is used.
    let (headers, body) = get_json(
        trusting,
        "/context",
        &[
            ("x-request-id", "client-chosen"),
            ("x-request-id", "proxy-id-1"),
        ],
    )
    .await;
    assert_eq!(body["request_id"], "proxy-id-1");
    assert_eq!(headers["x-request-id"], "proxy-id-1");

    let oversized = "a".repeat(context::MAX_REQUEST_ID_LEN + 1);
    for bad in [
        "<script>alert(1)</script>",
        "id with spaces",
        "a\"b",
        oversized.as_str(),
    ] {
        let (headers, body) = get_json(trusting, "/context", &[("x-request-id", bad)]).await;
        let id = body["request_id"].as_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32, "a malformed id is replaced by a fresh one");
        assert_eq!(headers["x-request-id"], id);
    }
}

#[tokio::test]
async fn the_request_time_comes_from_the_injected_clock() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let clock = Arc::new(FakeClock::with_wall_start(start));
    let shared = Shared {
        redis: redis_connection().await,
        concurrency: Arc::default(),
    };
    let address = serve(app(shared, RequestContextLayer::new().clock(clock.clone()))).await;
    let (_, body) = get_json(address, "/context", &[]).await;
    assert_eq!(body["received_at"], 1_700_000_000);
    clock.advance(Duration::from_secs(90));
    let (_, body) = get_json(address, "/context", &[]).await;
    assert_eq!(body["received_at"], 1_700_000_090);
}

#[tokio::test]
async fn every_log_line_of_a_request_carries_its_id() {
    let capture = LogCapture::start();
    let router = Router::new()
        .route(
            "/logged",
            get(|| async {
                tracing::info!("in the handler");
                context::spawn(async { tracing::info!("in a spawned task") })
                    .await
                    .unwrap();
                "ok"
            }),
        )
        .layer(RequestContextLayer::new());
    let address = serve(router).await;
    let response = reqwest::get(format!("http://{address}/logged"))
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.text().await.unwrap(), "ok");
    let logs = capture.text();
    for message in ["in the handler", "in a spawned task"] {
        let line = logs
            .lines()
            .find(|line| line.contains(message))
            .unwrap_or_else(|| panic!("{message} not logged: {logs}"));
        assert!(line.contains(&format!("request_id={id}")), "{line}");
        assert!(line.contains("method=GET"), "{line}");
    }
}

#[tokio::test]
async fn anonymous_requests_get_401_problems_with_the_security_headers() {
    let shared = Shared {
        redis: redis_connection().await,
        concurrency: Arc::default(),
    };
    let address = serve(app(shared, RequestContextLayer::new())).await;
    let response = reqwest::get(format!("http://{address}/whoami"))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-request-id"].len(), 32);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "urn:palisade:problem:web/unauthenticated");
    assert_eq!(body["status"], 401);
}

#[tokio::test]
async fn a_router_without_the_layer_answers_a_problem_not_axums_text() {
    let capture = LogCapture::start();
    let router = Router::new().route("/context", get(|_: RequestContext| async { "never" }));
    let address = serve(router).await;
    for _ in 0..2 {
        let response = reqwest::get(format!("http://{address}/context"))
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let logs = capture.text();
    assert_eq!(
        logs.matches("add palisade_web::context::RequestContextLayer")
            .count(),
        1,
        "the configuration error is logged once: {logs}"
    );
}

#[tokio::test]
async fn outside_a_request_there_is_no_context_and_spawn_carries_none() {
    assert_eq!(context::current().err(), Some(NoContext));
    let spawned = context::spawn(async { context::current().err() })
        .await
        .unwrap();
    assert_eq!(spawned, Some(NoContext));
}
