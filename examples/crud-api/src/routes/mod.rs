//! The routes, under `/api/v1` as the reference back end has them, with the layers each
//! group needs: the per-address limit and Turnstile on the anonymous routes a bot would
//! hammer, authentication then the per-user limit on writes.

mod auth;
mod entities;
mod gates;
mod index;
mod me;
mod oidc;
mod reports;
mod reset;
mod user;

use axum::Router;
use axum::handler::Handler as _;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use palisade_ratelimit::RateLimitLayer;
use tower::ServiceBuilder;

pub(crate) use entities::{ENTITIES, OWNER_FIELD};
pub(crate) use user::Claims;

use crate::error::ApiError;
use crate::state::AppState;

/// The routes.
pub(crate) fn router(state: AppState) -> Router {
    let limit = |limiter| RateLimitLayer::redis(limiter).with_audit(state.audit().clone());
    let auth_limit = limit(state.auth_limiter().clone());
    let guess_limit = limit(state.guess_limiter().clone());
    let write_limit = limit(state.write_limiter().clone());
    // `route_layer`: an unknown path is a 404 that spends nothing.
    let anonymous = Router::new()
        .route("/api/v1/signup", post(auth::signup))
        .route("/api/v1/signin", post(auth::signin))
        .route("/api/v1/forgotPassword", post(reset::forgot))
        .route_layer(from_fn_with_state(state.clone(), gates::turnstile))
        .route_layer(auth_limit);
    // Routes that take a secret to guess (a current password, a reset or session code): a
    // per-address budget of the same size, of their own, without the bot challenge.
    let mut guessable = Router::new()
        .route("/api/v1/resetPassword", post(reset::reset))
        .route("/api/v1/changePassword", post(auth::change_password));
    // The OpenID routes exist only with a provider (otherwise 404, spending nothing).
    let mut provider = Router::new();
    if state.oidc().is_some() {
        guessable = guessable.route("/api/v1/session", get(oidc::session));
        provider = provider
            .route("/api/v1/auth/login", get(oidc::login))
            .route("/api/v1/auth/callback", get(oidc::callback));
    }
    let guessable = guessable.route_layer(guess_limit);
    let writes = ServiceBuilder::new()
        .layer(from_fn_with_state(state.clone(), user::authenticate))
        .layer(write_limit);
    Router::new()
        .merge(anonymous)
        .merge(guessable)
        .merge(provider)
        .route("/api/v1/me/export", get(me::export))
        .route("/api/v1/me", delete(me::erase))
        .route(
            "/api/v1/reports/documents-per-project",
            get(reports::documents_per_project),
        )
        .route(
            "/api/v1/{entity}",
            get(entities::list).post(entities::create.layer(writes.clone())),
        )
        .route(
            "/api/v1/{entity}/{id}",
            get(entities::read)
                .patch(entities::update.layer(writes.clone()))
                .delete(entities::delete.layer(writes)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::Problem(palisade_problem::Problem::new(
        "crud/method-not-allowed",
        "this route does not take that method",
        http::StatusCode::METHOD_NOT_ALLOWED,
    ))
}
