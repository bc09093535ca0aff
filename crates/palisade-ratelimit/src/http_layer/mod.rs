//! A `tower` layer: keyed limits for HTTP services, answering 429 with `Retry-After` and
//! `RateLimit-*` headers.

mod headers;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Extensions, Request, Response, StatusCode};
use palisade_web::context::RequestContext;
pub use palisade_web::{ForwardingHeader, PeerAddr, TrustedProxies};
use tower_layer::Layer;
use tower_service::Service;

use crate::{Admitted, ClientKey, IpGrouping, KeyedLimiter, NotUntil};

/// Reads a value from a request's extensions.
type FromExtensions<T> = Arc<dyn Fn(&Extensions) -> Option<T> + Send + Sync>;

/// What decides: an in-process keyed limiter or, with the `redis` feature, a shared one.
#[derive(Clone)]
enum Backend {
    Local(Arc<KeyedLimiter>),
    #[cfg(feature = "redis")]
    Redis(Arc<crate::RedisLimiter>),
}

impl Backend {
    async fn decide(&self, key: &ClientKey) -> Result<Admitted, NotUntil> {
        match self {
            Self::Local(limiter) => limiter.check_key(key),
            #[cfg(feature = "redis")]
            Self::Redis(limiter) => limiter.check_key(key).await,
        }
    }
}

/// Limits requests per client: per authenticated user when the request carries one, otherwise
/// per client IP address (grouped by [`IpGrouping`]). The address is the socket peer's unless
/// that peer is one of the [`TrustedProxies`]; a spoofed `X-Forwarded-For` from anyone else
/// never picks the key.
///
/// A refused request gets `429 Too Many Requests` with `Retry-After` (whole seconds) and the
/// `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` headers of
/// draft-ietf-httpapi-ratelimit-headers-06 (express-rate-limit's `draft-6`); admitted responses
/// carry the same `RateLimit-*` headers.
///
/// The peer address comes from [`PeerAddr`] or, with the `axum` feature, from axum's
/// `ConnectInfo<SocketAddr>`: serve the router with
/// `into_make_service_with_connect_info::<SocketAddr>()`. A request with neither (the server
/// does not record peers) is a configuration error that no layer can see before the first
/// request: it gets `500`, and the error is logged once per layer, naming the fix. Guessing a
/// key instead would either let everyone through or lump everyone together.
///
/// ```
/// use std::sync::Arc;
/// use http::{Request, Response, StatusCode};
/// use palisade_ratelimit::{KeyedLimiter, PeerAddr, RateLimitLayer, Settings};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let limiter = Arc::new(KeyedLimiter::new(&Settings::new("1/minute".parse()?)));
/// let app = RateLimitLayer::new(limiter).layer(service_fn(|_req: Request<String>| async {
///     Ok::<_, std::convert::Infallible>(Response::new(String::from("hello")))
/// }));
/// let request = || {
///     let mut request = Request::new(String::new());
///     request.extensions_mut().insert(PeerAddr("203.0.113.9:50000".parse().unwrap()));
///     request
/// };
/// let first = app.clone().oneshot(request()).await?;
/// assert_eq!(first.status(), StatusCode::OK);
/// assert_eq!(first.headers()["ratelimit-remaining"], "0");
/// let second = app.oneshot(request()).await?;
/// assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(second.headers()["retry-after"], "60");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RateLimitLayer {
    backend: Backend,
    grouping: IpGrouping,
    proxies: Arc<TrustedProxies>,
    peer_addr: FromExtensions<SocketAddr>,
    user: Option<FromExtensions<String>>,
    /// Whether the missing-peer configuration error was logged (once per layer).
    reported: Arc<std::sync::atomic::AtomicBool>,
    #[cfg(feature = "audit")]
    audit: Option<palisade_audit::Audit>,
}

impl RateLimitLayer {
    /// Limits with an in-process keyed limiter.
    #[must_use]
    pub fn new(limiter: Arc<KeyedLimiter>) -> Self {
        Self::with_backend(Backend::Local(limiter))
    }

    /// Limits with a limiter shared through Redis.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    #[must_use]
    pub fn redis(limiter: Arc<crate::RedisLimiter>) -> Self {
        Self::with_backend(Backend::Redis(limiter))
    }

    fn with_backend(backend: Backend) -> Self {
        Self {
            backend,
            grouping: IpGrouping::DEFAULT,
            proxies: Arc::new(TrustedProxies::none()),
            peer_addr: Arc::new(palisade_web::peer_addr),
            user: None,
            reported: Arc::default(),
            #[cfg(feature = "audit")]
            audit: None,
        }
    }

    /// Emits a `RateLimited` security event to `audit` for every refused request (reason
    /// `per-user` or `per-address`), with the request's actor and, outside a request context,
    /// the user or client address the key was made from.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Believe forwarding headers from these proxies.
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }

    /// Group client addresses this way (default: IPv4 /32, IPv6 /56).
    #[must_use]
    pub const fn ip_grouping(mut self, grouping: IpGrouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// Where to find the socket peer's address (default: the [`PeerAddr`] extension).
    #[must_use]
    pub fn peer_addr_from(
        mut self,
        read: impl Fn(&Extensions) -> Option<SocketAddr> + Send + Sync + 'static,
    ) -> Self {
        self.peer_addr = Arc::new(read);
        self
    }

    /// Key authenticated requests by user: `read` returns the user id an authentication layer
    /// put in the extensions, or `None` for an anonymous request (keyed by address).
    #[must_use]
    pub fn user_from(
        mut self,
        read: impl Fn(&Extensions) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.user = Some(Arc::new(read));
        self
    }

    /// The key for a request, or `None` when it carries neither a user nor a peer address.
    ///
    /// Behind `palisade_web`'s `RequestContextLayer` the context's user (unless
    /// [`user_from`](Self::user_from) says otherwise) and client address are used, so the
    /// trusted proxies are configured once, on the context layer.
    fn key<B>(&self, request: &Request<B>) -> Option<ClientKey> {
        let context = request.extensions().get::<RequestContext>();
        let user = match &self.user {
            Some(read) => read(request.extensions()),
            None => context.and_then(|context| context.user().map(str::to_owned)),
        };
        if let Some(user) = user {
            return Some(ClientKey::User(user));
        }
        let ip = match context.and_then(RequestContext::client) {
            Some(ip) => ip,
            None => {
                let peer = (self.peer_addr)(request.extensions())?;
                self.proxies.client_ip(peer, request.headers())
            }
        };
        Some(self.grouping.key(ip))
    }
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[allow(
            clippy::infallible_destructuring_match,
            reason = "one arm without the redis feature, two with it"
        )]
        let backend: &dyn fmt::Debug = match &self.backend {
            Backend::Local(limiter) => limiter,
            #[cfg(feature = "redis")]
            Backend::Redis(limiter) => limiter,
        };
        f.debug_struct("RateLimitLayer")
            .field("limiter", backend)
            .field("grouping", &self.grouping)
            .field("proxies", &self.proxies)
            .field("keyed_by_user", &self.user.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RateLimitLayer`] wraps around another.
#[derive(Clone, Debug)]
pub struct RateLimit<S> {
    inner: S,
    layer: RateLimitLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RateLimit<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone waits for
        // the next one (tower's usual pattern for services called from a future).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let key = self.layer.key(&request);
        let backend = self.layer.backend.clone();
        let reported = Arc::clone(&self.layer.reported);
        #[cfg(feature = "audit")]
        let audit = self.layer.audit.clone();
        ResponseFuture(Box::pin(async move {
            let Some(key) = key else {
                if !reported.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::error!(
                        target: "palisade_ratelimit",
                        "requests carry no peer address to key their rate limit: serve an axum router with into_make_service_with_connect_info::<SocketAddr>() (feature `axum`), insert PeerAddr, or configure peer_addr_from"
                    );
                }
                return Ok(headers::misconfigured());
            };
            match backend.decide(&key).await {
                Ok(admitted) => {
                    let mut response = inner.call(request).await?;
                    headers::admitted(response.headers_mut(), &admitted);
                    Ok(response)
                }
                Err(refused) => {
                    #[cfg(feature = "audit")]
                    if let Some(audit) = &audit {
                        audit.security(refused_event(&key));
                    }
                    Ok(headers::refused(&refused))
                }
            }
        }))
    }
}

/// The security event of a refusal keyed by `key`.
#[cfg(feature = "audit")]
fn refused_event(key: &ClientKey) -> palisade_audit::SecurityEvent {
    use palisade_audit::{SecurityEvent, SecurityKind};
    let event = SecurityEvent::new(SecurityKind::RateLimited, "palisade-ratelimit");
    match key {
        ClientKey::User(user) => event.with_reason("per-user").with_user(user.as_str()),
        ClientKey::Ip { network, .. } => event.with_reason("per-address").with_client(*network),
    }
}

/// The future of a [`RateLimit`] call: the limit's decision, then the inner service's
/// response (or the refusal).
pub struct ResponseFuture<R, E>(Pin<Box<dyn Future<Output = Result<R, E>> + Send>>);

impl<R, E> Future for ResponseFuture<R, E> {
    type Output = Result<R, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl<R, E> fmt::Debug for ResponseFuture<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl NotUntil {
    /// The refusal as problem details: `429`, type `urn:palisade:problem:ratelimit/limited`,
    /// and the limit (`10/second`); the client is never named.
    #[must_use]
    pub fn problem_details(&self) -> palisade_problem::Problem {
        palisade_problem::Problem::new(
            "ratelimit/limited",
            "too many requests",
            StatusCode::TOO_MANY_REQUESTS,
        )
        .with("limit", self.limit().to_string())
    }
}

/// A refusal answered from a handler: `429` problem details with `Retry-After` and the
/// `RateLimit-*` headers the layer sends.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for NotUntil {
    fn into_response(self) -> axum::response::Response {
        headers::refused::<String>(&self).map(axum::body::Body::from)
    }
}
