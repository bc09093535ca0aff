//! The cost a security-header layer adds to a response: `SecurityHeaders::helmet()` against
//! the same twelve headers set by a stack of tower-http `SetResponseHeader` layers (the
//! peer), both over the same handler in the same run. Targets: at most 1.0x the peer's added
//! cost, and under 1 µs per response.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::convert::Infallible;

use http::header::{HeaderName, HeaderValue};
use http::{Request, Response};
use palisade_test::bench::{Row, keep, report, time_ns, time_pair};
use palisade_test::ready_now;
use palisade_web::SecurityHeaders;
use tower::util::BoxCloneService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_http::set_header::SetResponseHeaderLayer;

const KRATE: &str = "palisade-web";

type Svc = BoxCloneService<Request<()>, Response<String>, Infallible>;

/// A handler that answers at once with a JSON body and the headers a framework sets.
fn handler() -> Svc {
    BoxCloneService::new(service_fn(|_request: Request<()>| async {
        let mut response = Response::new(String::from("{\"ok\":true}"));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok::<_, Infallible>(response)
    }))
}

/// The same headers as `helmet()`, one tower-http layer each (set when absent).
fn peer_stack(headers: &SecurityHeaders) -> Svc {
    let names = [
        "content-security-policy",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
        "origin-agent-cluster",
        "referrer-policy",
        "strict-transport-security",
        "x-content-type-options",
        "x-dns-prefetch-control",
        "x-download-options",
        "x-frame-options",
        "x-permitted-cross-domain-policies",
        "x-xss-protection",
    ];
    let mut service = handler();
    for name in names {
        let value = HeaderValue::from_str(headers.get(name).unwrap()).unwrap();
        let layer = SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), value);
        service = BoxCloneService::new(layer.layer(service));
    }
    service
}

fn respond(service: &mut Svc) {
    let ready = ready_now(service.ready()).unwrap();
    keep(ready_now(ready.call(Request::new(()))).unwrap());
}

fn main() {
    let helmet = SecurityHeaders::helmet();
    let mut ours: Svc = BoxCloneService::new(
        ServiceBuilder::new()
            .layer(helmet.layer())
            .service(handler()),
    );
    let mut peer = peer_stack(&helmet);
    let mut bare = handler();
    let check = ready_now(ours.call(Request::new(()))).unwrap();
    assert_eq!(
        check.headers().len(),
        13,
        "twelve headers and the content type"
    );

    let base = time_ns(|| respond(&mut bare));
    let (ours_ns, peer_ns) = time_pair(|| respond(&mut ours), || respond(&mut peer));
    let (added, peer_added) = ((ours_ns - base).max(0.0), (peer_ns - base).max(0.0));
    eprintln!(
        "handler alone {base:.0} ns; with helmet() {ours_ns:.0} ns; with the stack {peer_ns:.0} ns"
    );
    report(&Row {
        krate: KRATE,
        name: "helmet() headers added to a response".into(),
        figure: added,
        unit: "ns/response",
        peer: "12 tower-http SetResponseHeader layers".into(),
        peer_figure: Some(peer_added),
        target: "<= 1.0x and < 1000 ns".into(),
        met: added <= peer_added && added < 1000.0,
    });
}
