//! The signed-in user: the bearer token verified once per request (by the write limit's
//! middleware or by the handler, whichever runs first), the request context identified with
//! the user and organization, so audit events and per-user rate limits carry both.

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http::request::Parts;
use std::sync::Arc;

use palisade_auth::{TokenRefused, Verified, bearer_token};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

/// The claims of our own tokens beside `sub` (the user id), as the reference back end has
/// them.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// The user id, as the reference back end names it.
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) role: String,
    /// The organization whose database holds the user's records.
    pub(crate) organization_id: String,
    /// The user's token generation when it was issued: a later password change, reset or
    /// erasure refuses it.
    #[serde(rename = "gen")]
    pub(crate) generation: u64,
}

/// Without the email: a Debug line is no place for personal data.
impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("user_id", &self.user_id)
            .field("role", &self.role)
            .field("organization_id", &self.organization_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// A request's verified user: the token's claims, shared with the verifier's memory of it
/// (a clone is one reference count).
#[derive(Debug, Clone)]
pub(crate) struct User {
    verified: Arc<Verified<Claims>>,
}

impl User {
    /// The user id (`sub`, checked equal to `user_id`).
    pub(crate) fn id(&self) -> &str {
        &self.claims().user_id
    }

    pub(crate) fn claims(&self) -> &Claims {
        &self.verified.claims
    }

    pub(crate) fn organization(&self) -> &str {
        &self.claims().organization_id
    }
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<Self>() {
            return Ok(user.clone());
        }
        let token = bearer_token(&parts.headers).ok_or(TokenRefused::Missing)?;
        let verified = state.token_keys().current().await?.verifier.verify(token)?;
        if verified.registered.subject.as_deref() != Some(verified.claims.user_id.as_str()) {
            return Err(TokenRefused::Claim("sub").into());
        }
        let user = Self { verified };
        if state.generations().current(user.id()).await? != user.claims().generation {
            return Err(TokenRefused::Claim("gen").into());
        }
        palisade_web::context::identify(&parts.extensions, user.id(), Some(user.organization()))
            .map_err(|_| TokenRefused::Claim("sub"))?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// Verifies the token before the layers that need the user (the per-user write limit); an
/// unauthenticated request is answered 401 here, before it counts against anything.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match User::from_request_parts(&mut parts, &state).await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(refused) => refused.into_response(),
    }
}
