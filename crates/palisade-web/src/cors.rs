//! `CorsPolicy`: cross-origin access for an explicit list of origins, on tower-http's
//! `CorsLayer`, with `Origin: null` refused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, ORIGIN, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_layer::{Layer, Stack};
use tower_service::Service;

/// An origin the policy was given that a browser never sends, or that would open the API to
/// every site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the CORS origin {origin:?} cannot be allowed: {reason}")]
pub struct CorsInvalid {
    origin: String,
    reason: &'static str,
}

impl CorsInvalid {
    /// The origin as given.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Which sites' pages may call the API from a browser: an explicit list of origins, never
/// `*`. Credentials (cookies, `Authorization`) are allowed for exactly those origins.
/// `Origin: null` (sandboxed frames, `file:` pages, some redirects, and anyone who wants to
/// look like them) is answered `403` before the service runs, as is, with
/// [`refuse_unlisted`](Self::refuse_unlisted), any origin not on the list.
///
/// Preflight requests are answered by tower-http's `CorsLayer`; everything else about CORS is
/// that layer's, configured here: methods `GET, POST, PUT, PATCH, DELETE`, request headers
/// `Authorization, Content-Type`, exposed headers `X-Request-Id, Retry-After` and the
/// `RateLimit-*` set, preflight cached 10 minutes.
///
/// ```
/// use palisade_web::CorsPolicy;
///
/// let cors = CorsPolicy::allow_origins(["https://app.example.com"])?;
/// assert!(CorsPolicy::allow_origins(["*"]).is_err());
/// assert!(CorsPolicy::allow_origins(["https://app.example.com/"]).is_err());
/// let app: axum::Router = axum::Router::new().layer(cors.layer());
/// # Ok::<(), palisade_web::CorsInvalid>(())
/// ```
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    origins: Vec<HeaderValue>,
    methods: Vec<Method>,
    request_headers: Vec<HeaderName>,
    exposed_headers: Vec<HeaderName>,
    max_age: Duration,
    refuse_unlisted: bool,
    #[cfg(feature = "audit")]
    audit: Option<palisade_audit::Audit>,
}

impl CorsPolicy {
    /// Allows these origins (`https://app.example.com`, `http://localhost:5173`).
    ///
    /// # Errors
    /// [`CorsInvalid`] for anything a browser would never send as `Origin`, so an entry that
    /// could never match (or would match everyone) fails at start-up: `*`, `null`, a scheme
    /// other than `http`/`https`, a path (even `/`), a query, user information, upper case, a
    /// host with an empty label (`app.example.com.`) or characters outside
    /// `a-z 0-9 - .`, a numeric host that is not dotted-decimal IPv4, a port with a leading
    /// zero, out of range or equal to the scheme's default.
    pub fn allow_origins<'a>(
        origins: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, CorsInvalid> {
        let origins = origins
            .into_iter()
            .map(checked_origin)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            origins,
            methods: vec![
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ],
            request_headers: vec![AUTHORIZATION, CONTENT_TYPE],
            exposed_headers: [
                "x-request-id",
                "ratelimit-policy",
                "ratelimit-limit",
                "ratelimit-remaining",
                "ratelimit-reset",
            ]
            .into_iter()
            .map(HeaderName::from_static)
            .chain([RETRY_AFTER])
            .collect(),
            max_age: Duration::from_secs(600),
            refuse_unlisted: false,
            #[cfg(feature = "audit")]
            audit: None,
        })
    }

    /// The methods a page may use (default `GET, POST, PUT, PATCH, DELETE`).
    #[must_use]
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// The request headers a page may send (default `Authorization, Content-Type`).
    #[must_use]
    pub fn request_headers(mut self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        self.request_headers = headers.into_iter().collect();
        self
    }

    /// How long a browser may cache a preflight answer (default 10 minutes; browsers cap it,
    /// Chromium at 2 hours).
    #[must_use]
    pub const fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Answer `403` to any request whose `Origin` is not on the list, not only to `null`: for
    /// an API no page outside the list should reach at all (a browser also sends `Origin` on
    /// same-origin `POST`s, so list the API's own origin if pages it serves call it).
    #[must_use]
    pub const fn refuse_unlisted(mut self) -> Self {
        self.refuse_unlisted = true;
        self
    }

    /// Emits an `AccessDenied` `palisade-audit` event (reason `web/origin-refused`) for every
    /// request the origin gate refuses, with the request's actor.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The layer: the origin gate outside, tower-http's `CorsLayer` inside.
    #[must_use]
    pub fn layer(&self) -> CorsPolicyLayer {
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.iter().cloned()))
            .allow_credentials(true)
            .allow_methods(self.methods.clone())
            .allow_headers(self.request_headers.clone())
            .expose_headers(self.exposed_headers.clone())
            .max_age(self.max_age);
        let gate = OriginGateLayer {
            allowed: Arc::new(self.origins.clone()),
            refuse_unlisted: self.refuse_unlisted,
            #[cfg(feature = "audit")]
            audit: self.audit.clone(),
        };
        Stack::new(cors, gate)
    }
}

/// The layer [`CorsPolicy::layer`] makes: [`OriginGateLayer`] around tower-http's `CorsLayer`.
pub type CorsPolicyLayer = Stack<CorsLayer, OriginGateLayer>;

/// `origin` if a browser could send it and it names one site.
fn checked_origin(origin: &str) -> Result<HeaderValue, CorsInvalid> {
    let refuse = |reason| CorsInvalid {
        origin: origin.to_owned(),
        reason,
    };
    if origin == "*" {
        return Err(refuse(
            "a wildcard would let every site read responses; list the origins",
        ));
    }
    if origin.eq_ignore_ascii_case("null") {
        return Err(refuse(
            "`null` is sent by sandboxed and file: pages anyone can make",
        ));
    }
    let (scheme, authority) = origin
        .split_once("://")
        .ok_or_else(|| refuse("an origin is scheme://host[:port]"))?;
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return Err(refuse("the scheme must be http or https, in lower case")),
    };
    if authority.contains(['/', '?', '#', '@', '*']) {
        return Err(refuse(
            "an origin has a host and no path, query, user or wildcard",
        ));
    }
    if authority.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return Err(refuse("browsers send the host in lower case"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (inner, rest) = bracketed
                .split_once(']')
                .ok_or_else(|| refuse("an IPv6 host is closed by ]"))?;
            if inner.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(refuse("not an IPv6 address"));
            }
            let port = match rest {
                "" => None,
                _ => Some(
                    rest.strip_prefix(':')
                        .ok_or_else(|| refuse("a port follows :"))?,
                ),
            };
            (None, port)
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(authority), None),
        },
    };
    if let Some(host) = host
        && !is_serialized_host(host)
    {
        return Err(refuse("the host is not one a browser would send"));
    }
    if let Some(port) = port {
        let digits_only = !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit());
        match port.parse::<u16>() {
            Ok(number) if digits_only && !port.starts_with('0') && number != default_port => {}
            Ok(number) if digits_only && number == default_port => {
                return Err(refuse("browsers never send the scheme's default port"));
            }
            _ => {
                return Err(refuse(
                    "the port is not one a browser would send (1 to 65535, no leading zero)",
                ));
            }
        }
    }
    HeaderValue::from_str(origin).map_err(|_| refuse("not a valid header value"))
}

/// Whether `host` is a host name or IPv4 address as browsers serialize it in an origin:
/// lower-case labels of letters, digits and `-` (punycode for international names), none empty
/// (no leading, trailing or doubled dot); a name whose last label starts with a digit is an
/// IPv4 address and must be one in dotted decimal (browsers rewrite `0x7f.1` to `127.0.0.1`).
fn is_serialized_host(host: &str) -> bool {
    let labels_ok = host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        });
    let numeric = host
        .rsplit('.')
        .next()
        .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_digit()));
    labels_ok && (!numeric || host.parse::<std::net::Ipv4Addr>().is_ok())
}

/// Answers `403` to `Origin: null` and, when configured, to unlisted origins.
#[derive(Debug, Clone)]
pub struct OriginGateLayer {
    allowed: Arc<Vec<HeaderValue>>,
    refuse_unlisted: bool,
    #[cfg(feature = "audit")]
    audit: Option<palisade_audit::Audit>,
}

impl<S> Layer<S> for OriginGateLayer {
    type Service = OriginGate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginGate {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`OriginGateLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct OriginGate<S> {
    inner: S,
    layer: OriginGateLayer,
}

impl<S> OriginGate<S> {
    fn refuses(&self, origin: Option<&HeaderValue>) -> bool {
        origin.is_some_and(|origin| {
            origin.as_bytes().eq_ignore_ascii_case(b"null")
                || (self.layer.refuse_unlisted && !self.layer.allowed.contains(origin))
        })
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OriginGate<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = OriginGateFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if self.refuses(request.headers().get(ORIGIN)) {
            #[cfg(feature = "audit")]
            if let Some(audit) = &self.layer.audit {
                audit.security(
                    palisade_audit::SecurityEvent::new(
                        palisade_audit::SecurityKind::AccessDenied,
                        "palisade-web",
                    )
                    .with_reason("web/origin-refused"),
                );
            }
            let refused = palisade_problem::Problem::new(
                "web/origin-refused",
                "cross-origin request refused",
                StatusCode::FORBIDDEN,
            )
            .to_response()
            .map(ResBody::from);
            return OriginGateFuture {
                state: GateState::Refused {
                    response: Some(refused),
                },
            };
        }
        OriginGateFuture {
            state: GateState::Admitted {
                inner: self.inner.call(request),
            },
        }
    }
}

pin_project! {
    /// The future of [`OriginGate`]: the refusal, or the inner service's response.
    pub struct OriginGateFuture<F, B> {
        #[pin]
        state: GateState<F, B>,
    }
}

pin_project! {
    #[project = GateProjection]
    enum GateState<F, B> {
        Refused { response: Option<Response<B>> },
        Admitted { #[pin] inner: F },
    }
}

impl<F, B, E> Future for OriginGateFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            GateProjection::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Pending,
            },
            GateProjection::Admitted { inner } => inner.poll(cx),
        }
    }
}

impl<F, B> std::fmt::Debug for OriginGateFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginGateFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_origins_a_browser_sends_are_accepted() {
        for good in [
            "https://app.example.com",
            "http://localhost:5173",
            "https://[::1]:8443",
            "https://xn--bcher-kva.example",
            "http://127.0.0.1:8080",
            "https://app.example.com:8443",
            "http://localhost",
        ] {
            assert!(checked_origin(good).is_ok(), "{good}");
        }
        for (bad, says) in [
            ("*", "wildcard"),
            ("null", "sandboxed"),
            ("NULL", "sandboxed"),
            ("https://app.example.com/", "no path"),
            ("https://app.example.com/x", "no path"),
            ("https://*.example.com", "wildcard"),
            ("https://user@app.example.com", "no path, query, user"),
            ("https://App.example.com", "lower case"),
            ("HTTPS://app.example.com", "scheme"),
            ("ftp://app.example.com", "scheme"),
            ("app.example.com", "scheme://host"),
            ("https://app.example.com:443", "default port"),
            ("http://app.example.com:80", "default port"),
            ("https://", "host"),
            ("https://a b", "host"),
            ("https://app.example.com:0443", "port"),
            ("https://app.example.com:00443", "port"),
            ("https://app.example.com:+443", "port"),
            ("http://app.example.com:080", "port"),
            ("https://app.example.com:", "port"),
            ("https://app.example.com:99999", "port"),
            ("https://app.example.com:65536", "port"),
            ("https://app.example.com:0", "port"),
            ("https://app.example.com;", "host"),
            ("https://a.com,b.com", "host"),
            ("https://.", "host"),
            ("https://app.example.com.", "host"),
            ("https://app..example.com", "host"),
            ("https://-app.example.com", "host"),
            ("http://0x7f.1", "host"),
            ("http://010.0.0.1", "host"),
            ("https://[fe80::1%eth0]", "IPv6"),
            ("https://[::1", "closed"),
            ("https://[::1]x", "port follows"),
        ] {
            let error = checked_origin(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
