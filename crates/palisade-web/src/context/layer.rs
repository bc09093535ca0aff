//! `RequestContextLayer`: makes each request's [`RequestContext`], runs the request inside it
//! and inside a `request` tracing span, and echoes the request id on the response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::HeaderName;
use http::{HeaderValue, Request, Response};
use palisade_clock::{Clock, SharedClock};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument as _;
use tracing::instrument::Instrumented;

use super::{CURRENT, RequestContext, RequestId};
use crate::TrustedProxies;
use crate::client::peer_addr;

/// `X-Request-Id`.
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request a [`RequestContext`]: a request id (a trusted proxy's well-formed
/// `X-Request-Id`, otherwise 128 fresh random bits), the client's address (the socket peer's,
/// or what trusted proxies forwarded), the time from the clock. The request runs with it as
/// the task-local [`current`](super::current) context and in its extensions, inside a
/// `request` span whose `request_id` field every log line of the request carries; the
/// response gets `X-Request-Id`.
///
/// ```
/// use http::{Request, Response};
/// use palisade_web::context::{self, RequestContextLayer};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let app = RequestContextLayer::new().layer(service_fn(|_: Request<()>| async {
///     let id = context::current()?.request_id().to_string();
///     Ok::<_, context::NoContext>(Response::new(id))
/// }));
/// let response = app.oneshot(Request::new(())).await?;
/// assert_eq!(response.headers()["x-request-id"], response.body().as_str());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestContextLayer {
    proxies: Arc<TrustedProxies>,
    clock: SharedClock,
}

impl RequestContextLayer {
    /// No trusted proxies, the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Believe these proxies' `Forwarded` / `X-Forwarded-For` and `X-Request-Id`.
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }

    /// Read the time from `clock` (a test's fake clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = SharedClock::new(clock);
        self
    }

    /// The context of a request with these parts.
    fn context_for<B>(&self, request: &Request<B>) -> RequestContext {
        let peer = peer_addr(request.extensions());
        let client = peer.map(|peer| self.proxies.client_ip(peer, request.headers()));
        let forwarded_id = peer
            .filter(|peer| self.proxies.trusts_peer(*peer))
            // The last line: a proxy that adds its own appends it after the client's.
            .and_then(|_| request.headers().get_all(&X_REQUEST_ID).iter().next_back())
            .and_then(|value| RequestId::parse(value.as_bytes()));
        RequestContext::new(
            forwarded_id.unwrap_or_else(RequestId::generate),
            client,
            self.clock.system_now(),
        )
    }
}

impl<S> Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestContextService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RequestContextLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
    layer: RequestContextLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestContextService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = self.layer.context_for(&request);
        let request_id = context.request_id().to_header_value();
        let span = tracing::info_span!(
            "request",
            request_id = %context.request_id(),
            method = %request.method(),
        );
        request.extensions_mut().insert(context.clone());
        // Whatever the inner service does in `call` itself runs in the context too.
        let inner =
            span.in_scope(|| CURRENT.sync_scope(context.clone(), || self.inner.call(request)));
        ContextFuture {
            inner: CURRENT.scope(context, inner.instrument(span)),
            request_id: Some(request_id),
        }
    }
}

pin_project! {
    /// The future of [`RequestContextService`]: the inner service's response, produced inside
    /// the request's context and span, with `X-Request-Id` set.
    pub struct ContextFuture<F> {
        #[pin]
        inner: TaskLocalFuture<RequestContext, Instrumented<F>>,
        request_id: Option<HeaderValue>,
    }
}

impl<F> std::fmt::Debug for ContextFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextFuture").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ContextFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(request_id) = this.request_id.take() {
            response
                .headers_mut()
                .insert(X_REQUEST_ID.clone(), request_id);
        }
        Poll::Ready(Ok(response))
    }
}
