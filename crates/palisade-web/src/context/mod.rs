//! Per-request context: who is acting, for which organization, from which address, under
//! which request id and at what time, held in a task-local for the request's whole life and
//! in the request's extensions.

#[cfg(feature = "axum")]
mod extract;
mod layer;
mod request_id;

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tracing::Instrument as _;

#[cfg(feature = "axum")]
pub use self::extract::{Authenticated, ContextRejection};
pub use self::layer::{ContextFuture, RequestContextLayer, RequestContextService};
pub use self::request_id::{MAX_REQUEST_ID_LEN, RequestId};

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// What one request carries from its first layer to its last log line: the request id, the
/// acting user and organization once authentication has set them, the client's address and
/// the time the request was received (from the injected clock). Cheap to clone (one
/// reference count).
///
/// [`RequestContextLayer`] creates it; [`current`] reads it anywhere in the request's task;
/// [`spawn`] carries it into a spawned task; with the `axum` feature it is an extractor, and
/// [`Authenticated`] one that answers 401 when no user is set.
#[derive(Clone)]
pub struct RequestContext(Arc<Fields>);

#[derive(Clone)]
struct Fields {
    request_id: RequestId,
    user: Option<Arc<str>>,
    organization: Option<Arc<str>>,
    client: Option<IpAddr>,
    received_at: SystemTime,
}

impl RequestContext {
    /// An anonymous request's context.
    #[must_use]
    pub fn new(request_id: RequestId, client: Option<IpAddr>, received_at: SystemTime) -> Self {
        Self(Arc::new(Fields {
            request_id,
            user: None,
            organization: None,
            client,
            received_at,
        }))
    }

    /// This context with `user` acting for `organization` (an authentication layer's result;
    /// see [`identify`]).
    #[must_use]
    pub fn with_user(&self, user: &str, organization: Option<&str>) -> Self {
        Self(Arc::new(Fields {
            user: Some(Arc::from(user)),
            organization: organization.map(Arc::from),
            ..(*self.0).clone()
        }))
    }

    /// The request's id.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        &self.0.request_id
    }

    /// The acting user, once authentication has set one.
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        self.0.user.as_deref()
    }

    /// The organization (tenant) the user acts for.
    #[must_use]
    pub fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }

    /// The client's address (see [`TrustedProxies`](crate::TrustedProxies)), or `None` when
    /// the server records no peer addresses.
    #[must_use]
    pub fn client(&self) -> Option<IpAddr> {
        self.0.client
    }

    /// When the request was received, from the layer's clock: the time to stamp audit fields
    /// with, so every write of one request carries the same instant.
    #[must_use]
    pub fn received_at(&self) -> SystemTime {
        self.0.received_at
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.0.request_id)
            .field("user", &self.0.user)
            .field("organization", &self.0.organization)
            .field("client", &self.0.client)
            .finish_non_exhaustive()
    }
}

/// The code asked for the request context where there is none: outside any request, or in a
/// task spawned with `tokio::spawn` (tokio never hands task-locals to a new task; use
/// [`spawn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no request context in this task: it runs outside RequestContextLayer, or was spawned without palisade_web::context::spawn"
)]
pub struct NoContext;

/// The current request's context.
///
/// # Errors
/// [`NoContext`] outside a request's task.
pub fn current() -> Result<RequestContext, NoContext> {
    CURRENT
        .try_with(RequestContext::clone)
        .map_err(|_| NoContext)
}

/// Runs `future` with `context` as the current one (nested scopes shadow outer ones).
pub fn scope<F: Future>(
    context: RequestContext,
    future: F,
) -> tokio::task::futures::TaskLocalFuture<RequestContext, F> {
    CURRENT.scope(context, future)
}

/// Runs `f` with `context` as the current one.
pub fn sync_scope<R>(context: RequestContext, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(context, f)
}

/// `tokio::spawn` that carries the current request's context and tracing span into the new
/// task (a task spawned outside any request runs without a context, as with `tokio::spawn`).
///
/// # Panics
/// As `tokio::spawn`: when called outside a tokio runtime.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let future = future.instrument(tracing::Span::current());
    match current() {
        Ok(context) => tokio::spawn(async move { CURRENT.scope(context, future).await }),
        Err(NoContext) => tokio::spawn(future),
    }
}

/// Sets the acting user on a request (authentication's last step): the request's extension
/// is replaced, and the returned context is the one to run the rest of the request in with
/// [`scope`].
///
/// ```
/// use palisade_web::context::{self, RequestContext, RequestId};
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RequestContext::new(RequestId::generate(), None, std::time::SystemTime::UNIX_EPOCH));
/// let identified = context::identify(&mut request, "u-42", Some("acme"))?;
/// assert_eq!(identified.user(), Some("u-42"));
/// assert_eq!(request.extensions().get::<RequestContext>().and_then(|c| c.organization()), Some("acme"));
/// # Ok::<(), palisade_web::context::NoContext>(())
/// ```
///
/// # Errors
/// [`NoContext`] when the request did not pass through [`RequestContextLayer`].
pub fn identify<B>(
    request: &mut http::Request<B>,
    user: &str,
    organization: Option<&str>,
) -> Result<RequestContext, NoContext> {
    let context = request
        .extensions()
        .get::<RequestContext>()
        .ok_or(NoContext)?
        .with_user(user, organization);
    request.extensions_mut().insert(context.clone());
    Ok(context)
}
