//! The routes, under `/api/v1` as the reference back end has them, with the layers each
//! group needs: the per-address limit and Turnstile on the anonymous routes a bot would
//! hammer, authentication then the per-user limit on writes.

mod auth;
mod entities;
mod gates;
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

use crate::state::AppState;

/// The routes.
pub(crate) fn router(state: AppState) -> Router {
    let auth_limit =
        RateLimitLayer::redis(state.auth_limiter().clone()).with_audit(state.audit().clone());
    let write_limit =
        RateLimitLayer::redis(state.write_limiter().clone()).with_audit(state.audit().clone());
    let anonymous = Router::new()
        .route("/api/v1/signup", post(auth::signup))
        .route("/api/v1/signin", post(auth::signin))
        .route("/api/v1/forgotPassword", post(reset::forgot))
        .layer(from_fn_with_state(state.clone(), gates::turnstile))
        .layer(auth_limit);
    let writes = ServiceBuilder::new()
        .layer(from_fn_with_state(state.clone(), user::authenticate))
        .layer(write_limit);
    Router::new()
        .merge(anonymous)
        .route("/api/v1/auth/login", get(oidc::login))
        .route("/api/v1/auth/callback", get(oidc::callback))
        .route("/api/v1/session", get(oidc::session))
        .route("/api/v1/resetPassword", post(reset::reset))
        .route("/api/v1/changePassword", post(auth::change_password))
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
        .with_state(state)
}
