//! The cost the request context adds to a request: `RequestContextLayer` (request id, client
//! address, clock, task-local scope, tracing span, `X-Request-Id` on the response) and the
//! `RequestContext` extractor, against tower-http's `SetRequestId` + `PropagateRequestId`
//! layers with UUIDs (the peer: the request id alone, no context), over the same handler in
//! the same run. Target: under 200 ns per request.
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
fn with_context() -> Svc {
    let handler = service_fn(|request: Request<()>| async move {
        let (mut parts, ()) = request.into_parts();
        let extracted = RequestContext::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        keep(extracted.request_id());
        keep(context::current().unwrap().client());
        Ok(answer())
    });
    let layer = RequestContextLayer::new()
        .trusted_proxies(TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]));
    BoxCloneService::new(layer.layer(handler))
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
    let (mut bare, mut ours, mut peer) = (bare(), with_context(), peer());
    let check = ready_now(ours.call(request())).unwrap();
    assert_eq!(check.headers()["x-request-id"].len(), 32);
    let check = ready_now(peer.call(request())).unwrap();
    assert_eq!(check.headers()["x-request-id"].len(), 36);

    let base = time_ns(|| respond(&mut bare));
    let (ours_ns, peer_ns) = time_pair(|| respond(&mut ours), || respond(&mut peer));
    let (added, peer_added) = ((ours_ns - base).max(0.0), (peer_ns - base).max(0.0));
    eprintln!(
        "handler alone {base:.0} ns; with the context {ours_ns:.0} ns; with tower-http's request id {peer_ns:.0} ns"
    );
    report(&Row {
        krate: KRATE,
        name: "request context (layer, task-local, extractor) added to a request".into(),
        figure: added,
        unit: "ns/request",
        peer: "tower-http SetRequestId + PropagateRequestId (UUID, no context)".into(),
        peer_figure: Some(peer_added),
        target: "< 200 ns".into(),
        met: added < 200.0,
    });
}
