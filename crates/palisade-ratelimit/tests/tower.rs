//! The tower layer through tower's own `ServiceExt`: 429 with `Retry-After` and `RateLimit-*`,
//! keys by user or by address, and forwarding headers believed only from trusted proxies.
#![cfg(feature = "tower")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response, StatusCode};
use palisade_ratelimit::{
    IpGrouping, KeyedLimiter, PeerAddr, RateLimitLayer, Settings, TrustedProxies,
};
use palisade_test::FakeClock;
use tower::{Layer, Service, ServiceExt, service_fn};

/// The authenticated user, as an authentication layer would record it.
#[derive(Clone)]
struct User(String);

fn limiter(spec: &str) -> Arc<KeyedLimiter> {
    Arc::new(KeyedLimiter::with_clock(
        &Settings::new(spec.parse().unwrap()),
        Arc::new(FakeClock::new()),
    ))
}

/// An app behind the layer that counts the requests that reach it.
fn app(
    layer: &RateLimitLayer,
    reached: &Arc<AtomicUsize>,
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone + use<>
{
    let reached = Arc::clone(reached);
    layer.layer(service_fn(move |_request: Request<String>| {
        reached.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new("ok".to_owned())) }
    }))
}

fn request(peer: &str, headers: &[(&str, &str)]) -> Request<String> {
    let mut builder = Request::builder().uri("/login");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut request = builder.body(String::new()).unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(PeerAddr(peer));
    request
}

async fn status(
    app: &(impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone),
    request: Request<String>,
) -> Response<String> {
    app.clone().oneshot(request).await.unwrap()
}

#[tokio::test]
async fn a_spent_limit_answers_429_with_retry_after_and_ratelimit_headers() {
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(&RateLimitLayer::new(limiter("2/minute")), &reached);
    let first = status(&app, request("203.0.113.9:1000", &[])).await;
    assert_eq!(first.status(), StatusCode::OK);
    let h = first.headers();
    assert_eq!(h["ratelimit-policy"], "2;w=60");
    assert_eq!(h["ratelimit-limit"], "2");
    assert_eq!(h["ratelimit-remaining"], "1");
    assert_eq!(h["ratelimit-reset"], "30");
    assert_eq!(
        status(&app, request("203.0.113.9:1001", &[]))
            .await
            .status(),
        StatusCode::OK
    );
    let refused = status(&app, request("203.0.113.9:1002", &[])).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let h = refused.headers();
    assert_eq!(h["retry-after"], "30");
    assert_eq!(h["ratelimit-remaining"], "0");
    assert_eq!(h["ratelimit-reset"], "30");
    // RFC 9457 problem details naming the limit, never the client.
    assert_eq!(h["content-type"], "application/problem+json");
    let body: serde_json::Value = serde_json::from_str(refused.body()).unwrap();
    assert_eq!(body["status"], 429);
    assert_eq!(body["type"], "urn:palisade:problem:ratelimit/limited");
    assert_eq!(body["limit"], "2/minute");
    assert!(!refused.body().contains("203.0.113"), "{}", refused.body());
    assert_eq!(
        reached.load(Ordering::SeqCst),
        2,
        "the refused request never reached the app"
    );
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_never_picks_the_key() {
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(&RateLimitLayer::new(limiter("1/minute")), &reached);
    assert_eq!(
        status(&app, request("198.51.100.7:1", &[])).await.status(),
        StatusCode::OK
    );
    for spoof in ["192.0.2.1", "192.0.2.2, 10.0.0.1"] {
        let spoofed = request(
            "198.51.100.7:2",
            &[("x-forwarded-for", spoof), ("forwarded", "for=192.0.2.3")],
        );
        assert_eq!(
            status(&app, spoofed).await.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{spoof}"
        );
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
    let proxies = TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]);
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(
        &RateLimitLayer::new(limiter("1/minute")).trusted_proxies(proxies),
        &reached,
    );
    let via_proxy = |xff: &str| request("10.0.0.2:4000", &[("x-forwarded-for", xff)]);
    // The client prepends a fake address; the proxies append the real one.
    assert_eq!(
        status(&app, via_proxy("1.2.3.4, 192.0.2.50, 10.0.0.9"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        status(&app, via_proxy("5.6.7.8, 192.0.2.50"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the same client with another fake prefix"
    );
    assert_eq!(
        status(&app, via_proxy("192.0.2.51")).await.status(),
        StatusCode::OK
    );
    // A Forwarded header the proxies do not write is the client's own: never read.
    let claimed = request(
        "10.0.0.2:4000",
        &[
            ("forwarded", "for=198.51.100.1"),
            ("x-forwarded-for", "192.0.2.51"),
        ],
    );
    assert_eq!(
        status(&app, claimed).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A proxy request with no forwarding header is keyed by the proxy itself.
    assert_eq!(
        status(&app, request("10.0.0.2:4000", &[])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        status(&app, request("10.0.0.2:4001", &[])).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn proxies_configured_to_write_forwarded_are_read_from_it() {
    let proxies = TrustedProxies::new(["10.0.0.0/8".parse().unwrap()])
        .reading(palisade_ratelimit::ForwardingHeader::Forwarded);
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(
        &RateLimitLayer::new(limiter("1/minute")).trusted_proxies(proxies),
        &reached,
    );
    let forwarded = request(
        "10.0.0.2:4000",
        &[
            (
                "forwarded",
                "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\"",
            ),
            ("x-forwarded-for", "192.0.2.60"),
        ],
    );
    assert_eq!(status(&app, forwarded).await.status(), StatusCode::OK);
    let same_56 = request(
        "10.0.0.2:4000",
        &[("forwarded", "for=\"[2001:db8:cafe:ff::1]\"")],
    );
    assert_eq!(
        status(&app, same_56).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn authenticated_requests_are_keyed_by_user() {
    let layer = RateLimitLayer::new(limiter("1/minute"))
        .user_from(|extensions| extensions.get::<User>().map(|user| user.0.clone()));
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(&layer, &reached);
    let as_user = |name: &str, peer: &str| {
        let mut request = request(peer, &[]);
        request.extensions_mut().insert(User(name.to_owned()));
        request
    };
    assert_eq!(
        status(&app, as_user("alice", "192.0.2.1:1")).await.status(),
        StatusCode::OK
    );
    // Alice from another address is still Alice.
    assert_eq!(
        status(&app, as_user("alice", "192.0.2.2:1")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Bob shares Alice's address but not her limit; an anonymous request from it has its own.
    assert_eq!(
        status(&app, as_user("bob", "192.0.2.1:1")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        status(&app, request("192.0.2.1:1", &[])).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn addresses_are_grouped_as_configured() {
    let grouping = IpGrouping::new(24, 64).unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(
        &RateLimitLayer::new(limiter("1/minute")).ip_grouping(grouping),
        &reached,
    );
    assert_eq!(
        status(&app, request("192.0.2.1:1", &[])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        status(&app, request("192.0.2.200:1", &[])).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&app, request("[::ffff:192.0.2.9]:1", &[]))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&app, request("192.0.3.1:1", &[])).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_request_without_a_peer_address_is_a_server_error_not_a_free_pass() {
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(&RateLimitLayer::new(limiter("100/minute")), &reached);
    let response = status(&app, Request::new(String::new())).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_peer_address_can_come_from_another_extension() {
    #[derive(Clone)]
    struct ConnectInfo(SocketAddr);
    let layer = RateLimitLayer::new(limiter("1/minute"))
        .peer_addr_from(|extensions| extensions.get::<ConnectInfo>().map(|c| c.0));
    let reached = Arc::new(AtomicUsize::new(0));
    let app = app(&layer, &reached);
    let make = || {
        let mut request = Request::new(String::new());
        request
            .extensions_mut()
            .insert(ConnectInfo("192.0.2.1:9".parse().unwrap()));
        request
    };
    assert_eq!(status(&app, make()).await.status(), StatusCode::OK);
    assert_eq!(
        status(&app, make()).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        format!("{layer:?}"),
        "RateLimitLayer { limiter: KeyedLimiter { spec: 1/minute, mode: Enforce, max_keys: 100000, .. }, \
         grouping: IpGrouping { v4_prefix: 32, v6_prefix: 56 }, proxies: TrustedProxies { networks: [], header: XForwardedFor }, \
         keyed_by_user: false, .. }"
    );
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn the_layer_can_share_its_limit_through_redis() {
    use palisade_ratelimit::{OutagePolicy, RedisConfig, RedisLimiter};
    let prefix = palisade_test::unique_name("test:tower");
    let config = RedisConfig::new(OutagePolicy::FailClosed).with_prefix(prefix);
    let settings = Settings::new("1/minute".parse().unwrap());
    let url = palisade_test::Service::Redis.url();
    let reached = Arc::new(AtomicUsize::new(0));
    // Two instances of the app, each with its own connection, one limit between them.
    let mut apps = Vec::new();
    for _ in 0..2 {
        let limiter = RedisLimiter::connect(&url, &settings, config.clone())
            .await
            .unwrap();
        apps.push(app(&RateLimitLayer::redis(Arc::new(limiter)), &reached));
    }
    assert_eq!(
        status(&apps[0], request("192.0.2.1:1", &[])).await.status(),
        StatusCode::OK
    );
    let refused = status(&apps[1], request("192.0.2.1:2", &[])).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(reached.load(Ordering::SeqCst), 1);
}
