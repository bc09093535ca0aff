//! Turnstile on the anonymous routes a bot would hammer (sign-in, sign-up, forgot-password),
//! when both Turnstile settings are set.

use axum::extract::{FromRequestParts as _, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use palisade_auth::Turnstile;

use crate::state::AppState;

/// Refuses the request unless its `CF-Turnstile-Token` verifies (400, or 503 when
/// siteverify cannot be reached: never open).
pub(crate) async fn turnstile(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(verifier) = state.turnstile() else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    match Turnstile::from_request_parts(&mut parts, verifier).await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(refused) => refused.into_response(),
    }
}
