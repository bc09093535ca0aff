//! The tower layer that applies a [`SecurityHeaders`](super::SecurityHeaders) plan to every
//! response, with a named future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{CONTENT_SECURITY_POLICY, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::SecurityHeaders;
use super::nonce::{self, CspNonce};

/// What one layer does to a response, fixed when the layer is made.
#[derive(Debug)]
pub(super) struct Plan {
    set: Vec<(HeaderName, HeaderValue)>,
    remove: Vec<HeaderName>,
    /// The policy's text, when a nonce goes into it per request.
    csp_for_nonce: Option<String>,
}

/// Set on a response by the layer that applied its headers, so an outer layer leaves it to the
/// inner (route) one.
#[derive(Debug, Clone, Copy)]
struct Applied;

impl Plan {
    pub(super) fn new(
        set: Vec<(HeaderName, HeaderValue)>,
        remove: Vec<HeaderName>,
        csp_nonce: bool,
    ) -> Self {
        let csp_for_nonce = csp_nonce.then(|| {
            set.iter()
                .find(|(name, _)| name == CONTENT_SECURITY_POLICY)
                .and_then(|(_, value)| value.to_str().ok())
                .unwrap_or("default-src 'self'")
                .to_owned()
        });
        Self {
            set,
            remove,
            csp_for_nonce,
        }
    }

    fn apply<B>(&self, response: &mut Response<B>, nonce: Option<&CspNonce>) {
        let inner_layer_applied = response.extensions().get::<Applied>().is_some();
        if !inner_layer_applied {
            response.extensions_mut().insert(Applied);
        }
        let headers = response.headers_mut();
        // Removal holds whoever set the header, a middleware between two layers included.
        self.strip(headers);
        if inner_layer_applied {
            return;
        }
        headers.reserve(self.set.len());
        for (name, value) in &self.set {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let (Some(csp), Some(nonce)) = (&self.csp_for_nonce, nonce)
            && let Ok(value) = HeaderValue::from_str(&nonce::with_nonce(csp, nonce))
        {
            // The handler did not set its own policy, or it is the one just added: the nonce
            // goes into the layer's policy either way only when the handler set none.
            let mut policies = headers.get_all(CONTENT_SECURITY_POLICY).iter();
            let handler_set_its_own = match (policies.next(), policies.next()) {
                (Some(only), None) => only.to_str().ok() != Some(csp.as_str()),
                // Several policies (all of them apply): the handler's on purpose.
                _ => true,
            };
            if !handler_set_its_own {
                headers.insert(CONTENT_SECURITY_POLICY, value);
            }
        }
    }

    /// Removes the listed headers: a response has few headers and the list may be long, so
    /// the response's own names are checked against the list.
    fn strip(&self, headers: &mut HeaderMap) {
        if self.remove.is_empty() || headers.is_empty() {
            return;
        }
        let found: Vec<HeaderName> = headers
            .keys()
            .filter(|name| self.remove.contains(name))
            .cloned()
            .collect();
        for name in found {
            headers.remove(name);
        }
    }
}

/// The layer [`SecurityHeaders::layer`] makes; cheap to clone.
#[derive(Debug, Clone)]
pub struct SecurityHeadersLayer {
    plan: Arc<Plan>,
}

impl SecurityHeadersLayer {
    pub(super) fn new(headers: &SecurityHeaders) -> Self {
        Self {
            plan: headers.plan(),
        }
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeadersService {
            inner,
            plan: Arc::clone(&self.plan),
        }
    }
}

/// The service [`SecurityHeadersLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct SecurityHeadersService<S> {
    inner: S,
    plan: Arc<Plan>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SecurityHeadersService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let nonce = match &self.plan.csp_for_nonce {
            Some(_) if request.extensions().get::<CspNonce>().is_none() => {
                let nonce = CspNonce::generate();
                request.extensions_mut().insert(nonce.clone());
                Some(nonce)
            }
            // An outer layer made the request's nonce already: the same one for every layer.
            Some(_) => request.extensions().get::<CspNonce>().cloned(),
            None => None,
        };
        ResponseFuture {
            inner: self.inner.call(request),
            plan: Arc::clone(&self.plan),
            nonce,
        }
    }
}

pin_project! {
    /// The future of [`SecurityHeadersService`]: the inner service's response with the
    /// headers applied.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        plan: Arc<Plan>,
        nonce: Option<CspNonce>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        this.plan.apply(&mut response, this.nonce.as_ref());
        Poll::Ready(Ok(response))
    }
}
