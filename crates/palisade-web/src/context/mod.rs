//! Per-request context: who is acting, for which organization, from which address, under
//! which request id and at what time, held in a task-local for the request's whole life and
//! in the request's extensions.

#[cfg(feature = "audit")]
mod actors;
#[cfg(feature = "axum")]
mod extract;
mod layer;
mod request_id;

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use tracing::Instrument as _;

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub use self::actors::ContextActors;
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
/// reference count); every clone of one request's context shares its identity, so the user
/// an extractor sets is seen by [`current`] and by later extractors alike.
///
/// [`RequestContextLayer`] creates it; [`current`] reads it anywhere in the request's task;
/// [`spawn`] carries it into a spawned task; with the `axum` feature it is an extractor, and
/// [`Authenticated`] one that answers 401 when no user is set.
#[derive(Clone)]
pub struct RequestContext(Arc<Fields>);

struct Fields {
    request_id: RequestId,
    client: Option<IpAddr>,
    received_at: SystemTime,
    identity: OnceLock<Identity>,
}

#[derive(Debug, PartialEq, Eq)]
struct Identity {
    user: Arc<str>,
    organization: Option<Arc<str>>,
}

/// The request's user was already set to someone else: an identity is set once per request,
/// so no later layer or extractor can change who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request's user is already set to another")]
pub struct AlreadyIdentified;

impl RequestContext {
    /// An anonymous request's context.
    #[must_use]
    pub fn new(request_id: RequestId, client: Option<IpAddr>, received_at: SystemTime) -> Self {
        Self(Arc::new(Fields {
            request_id,
            client,
            received_at,
            identity: OnceLock::new(),
        }))
    }

    /// Sets the acting `user` and the `organization` it acts for (authentication's result),
    /// for every clone of this context. Setting the same identity again is harmless.
    ///
    /// # Errors
    /// [`AlreadyIdentified`] when another user (or organization) is already set.
    pub fn identify(
        &self,
        user: &str,
        organization: Option<&str>,
    ) -> Result<(), AlreadyIdentified> {
        let wanted = Identity {
            user: user.into(),
            organization: organization.map(Into::into),
        };
        let set = self.0.identity.get_or_init(|| Identity {
            user: user.into(),
            organization: organization.map(Into::into),
        });
        if *set == wanted {
            Ok(())
        } else {
            Err(AlreadyIdentified)
        }
    }

    /// The request's id.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        &self.0.request_id
    }

    /// The acting user, once authentication has set one.
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        self.0.identity.get().map(|identity| &*identity.user)
    }

    /// The organization (tenant) the user acts for.
    #[must_use]
    pub fn organization(&self) -> Option<&str> {
        self.0
            .identity
            .get()
            .and_then(|identity| identity.organization.as_deref())
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
            .field("user", &self.user())
            .field("organization", &self.organization())
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

/// Why [`identify`] could not set the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifyError {
    /// The request did not pass through [`RequestContextLayer`].
    #[error(transparent)]
    NoContext(#[from] NoContext),
    /// Another user is already set.
    #[error(transparent)]
    AlreadyIdentified(#[from] AlreadyIdentified),
}

/// Sets the acting user on the context in a request's `extensions` (authentication's last
/// step, from a middleware with `request.extensions()` or an extractor with
/// `parts.extensions`); [`current`] and every extractor see it from then on.
///
/// ```
/// use palisade_web::context::{self, RequestContext, RequestId};
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RequestContext::new(RequestId::generate(), None, std::time::SystemTime::UNIX_EPOCH));
/// let identified = context::identify(request.extensions(), "u-42", Some("acme"))?;
/// assert_eq!(identified.user(), Some("u-42"));
/// assert_eq!(request.extensions().get::<RequestContext>().and_then(|c| c.organization()), Some("acme"));
/// assert!(context::identify(request.extensions(), "u-7", None).is_err());
/// # Ok::<(), palisade_web::context::IdentifyError>(())
/// ```
///
/// # Errors
/// [`IdentifyError`] without a context or when another user is already set.
pub fn identify(
    extensions: &http::Extensions,
    user: &str,
    organization: Option<&str>,
) -> Result<RequestContext, IdentifyError> {
    let context = extensions.get::<RequestContext>().ok_or(NoContext)?;
    context.identify(user, organization)?;
    Ok(context.clone())
}
