//! The cost of the request context, in two rows over the same handler in the same run:
//!
//! - what the context itself costs a request: the context put in the extensions, the
//!   task-local scope around the handler, the `RequestContext` extractor and a
//!   `context::current()` read (target: under 200 ns per request);
//! - the whole `RequestContextLayer` (also a fresh 128-bit request id, the client address,
//!   the clock, the `request` span and `X-Request-Id` on the response), against tower-http's
//!   `SetRequestId` + `PropagateRequestId` layers with UUIDs, the request id alone (the peer;
//!   target: at most 1.0x).
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::FromRequestParts;
use http::{Request, Response};
use palisade_test::bench::{Row, keep, report, time_ns, time_pair};
use palisade_test::ready_now;
use palisade_web::context::{self, RequestContext, RequestContextLayer};
use palisade_web::{PeerAddr, TrustedProxies};
use tower::util::BoxCloneService;
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

const KRATE: &str = "palisade-web";

type Svc = BoxCloneService<Request<()>, Response<String>, Infallible>;

/// A handler's JSON answer, with the content type a framework sets.
fn answer() -> Response<String> {
    let mut response = Response::new(String::from("{\"ok\":true}"));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The handler alone.
fn bare() -> Svc {
    BoxCloneService::new(service_fn(|_request: Request<()>| async { Ok(answer()) }))
}

/// The handler taking the context through the extractor, and reading the task-local.
fn reading_handler() -> Svc {
    BoxCloneService::new(service_fn(|request: Request<()>| async move {
        let (mut parts, ()) = request.into_parts();
        let extracted = RequestContext::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        keep(extracted.request_id());
        keep(context::current().unwrap().client());
        Ok(answer())
    }))
}

/// The handler behind the whole layer.
fn with_layer() -> Svc {
    let layer = RequestContextLayer::new()
        .trusted_proxies(TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]));
    BoxCloneService::new(layer.layer(reading_handler()))
}

/// The context alone: put in the extensions and scoped around the handler (what the layer
/// does besides making the context).
fn context_only() -> Svc {
    let context = RequestContext::new(
        context::RequestId::generate(),
        None,
        std::time::SystemTime::UNIX_EPOCH,
    );
    let mut inner = reading_handler();
    BoxCloneService::new(service_fn(move |mut request: Request<()>| {
        request.extensions_mut().insert(context.clone());
        context::scope(context.clone(), inner.call(request))
    }))
}

/// tower-http's request id: a UUID set on the request and copied to the response.
fn peer() -> Svc {
    let service = PropagateRequestIdLayer::x_request_id().layer(bare());
    BoxCloneService::new(SetRequestIdLayer::x_request_id(MakeRequestUuid).layer(service))
}

/// A request as a server hands it over: the peer's address recorded.
fn request() -> Request<()> {
    let mut request = Request::new(());
    let peer = SocketAddr::from(([203, 0, 113, 9], 50_000));
    request.extensions_mut().insert(PeerAddr(peer));
    request
}

fn respond(service: &mut Svc) {
    let ready = ready_now(service.ready()).unwrap();
    keep(ready_now(ready.call(request())).unwrap());
}

fn main() {
    let (mut bare, mut scoped, mut layered, mut peer) =
        (bare(), context_only(), with_layer(), peer());
    let check = ready_now(layered.call(request())).unwrap();
    assert_eq!(check.headers()["x-request-id"].len(), 32);
    let check = ready_now(peer.call(request())).unwrap();
    assert_eq!(check.headers()["x-request-id"].len(), 36);
    ready_now(scoped.call(request())).unwrap();

    let base = time_ns(|| respond(&mut bare));
    let context_ns = time_ns(|| respond(&mut scoped));
    let (layer_ns, peer_ns) = time_pair(|| respond(&mut layered), || respond(&mut peer));
    let added = |ns: f64| (ns - base).max(0.0);
    eprintln!(
        "handler alone {base:.0} ns; with the context scoped {context_ns:.0} ns; behind the layer {layer_ns:.0} ns; behind tower-http's request id {peer_ns:.0} ns"
    );
    report(&Row {
        krate: KRATE,
        name:
            "request context (extension, task-local scope, extractor, current()) added to a request"
                .into(),
        figure: added(context_ns),
        unit: "ns/request",
        peer: "the handler alone".into(),
        peer_figure: None,
        target: "< 200 ns".into(),
        met: added(context_ns) < 200.0,
    });
    report(&Row {
        krate: KRATE,
        name: "RequestContextLayer (request id, client, clock, span, X-Request-Id, context) added to a request".into(),
        figure: added(layer_ns),
        unit: "ns/request",
        peer: "tower-http SetRequestId + PropagateRequestId (UUID, no context)".into(),
        peer_figure: Some(added(peer_ns)),
        target: "<= 1.0x".into(),
        met: added(layer_ns) <= added(peer_ns),
    });
}
