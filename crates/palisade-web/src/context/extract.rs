//! axum extractors: the request's [`RequestContext`], and [`Authenticated`] for routes that
//! need a user.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use palisade_problem::Problem;

use super::RequestContext;

/// Why a context extractor refused the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextRejection {
    /// The route needs a user and the request has none: `401` with
    /// `WWW-Authenticate: Bearer`.
    #[error("the route needs an authenticated user")]
    Unauthenticated,
    /// The request never passed through `RequestContextLayer`: a server configuration error
    /// (`500`, logged once, naming the fix).
    #[error(
        "the request has no context: add palisade_web::context::RequestContextLayer to the router"
    )]
    LayerMissing,
}

/// Whether the missing-layer configuration error was logged.
static REPORTED: AtomicBool = AtomicBool::new(false);

impl IntoResponse for ContextRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated => {
                let mut response = Problem::new(
                    "web/unauthenticated",
                    "authentication required",
                    StatusCode::UNAUTHORIZED,
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            Self::LayerMissing => {
                if !REPORTED.swap(true, Ordering::Relaxed) {
                    tracing::error!(target: "palisade_web", "{self}");
                }
                Problem::internal("web/configuration", "internal server error").into_response()
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ContextRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(ContextRejection::LayerMissing)
    }
}

/// The context of a request whose user is set; a route that takes it answers `401` problem
/// details (`WWW-Authenticate: Bearer`) to anonymous requests, never running the handler.
///
/// ```
/// use axum::{Router, routing::get};
/// use palisade_web::context::{Authenticated, RequestContextLayer};
///
/// async fn me(user: Authenticated) -> String {
///     user.user_id().to_owned()
/// }
/// let app: Router = Router::new().route("/me", get(me)).layer(RequestContextLayer::new());
/// ```
#[derive(Debug, Clone)]
pub struct Authenticated(RequestContext);

impl Authenticated {
    /// The acting user (always set).
    #[must_use]
    pub fn user_id(&self) -> &str {
        self.0.user().unwrap_or_default()
    }

    /// The whole context.
    #[must_use]
    pub fn into_context(self) -> RequestContext {
        self.0
    }
}

impl Deref for Authenticated {
    type Target = RequestContext;

    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ContextRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = RequestContext::from_request_parts(parts, state).await?;
        if context.user().is_none() {
            return Err(ContextRejection::Unauthenticated);
        }
        Ok(Self(context))
    }
}
