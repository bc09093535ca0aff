//! The routes, under `/api/v1` as the reference back end has them.

mod auth;
mod entities;
mod me;
mod reset;

use axum::Router;
use axum::routing::{get, post};

use palisade_ratelimit::RateLimitLayer;

use crate::state::AppState;

/// The routes; `auth_limit` guards sign-up and sign-in per client address.
pub(crate) fn router(state: AppState, auth_limit: RateLimitLayer) -> Router {
    let auth = Router::new()
        .route("/api/v1/signup", post(auth::signup))
        .route("/api/v1/signin", post(auth::signin))
        .route("/api/v1/forgotPassword", post(reset::forgot))
        .layer(auth_limit);
    Router::new()
        .merge(auth)
        .route("/api/v1/resetPassword", post(reset::reset))
        .route("/api/v1/changePassword", post(auth::change_password))
        .route("/api/v1/me/export", get(me::export))
        .route("/api/v1/me", axum::routing::delete(me::erase))
        .route(
            "/api/v1/{entity}",
            get(entities::list).post(entities::create),
        )
        .route(
            "/api/v1/{entity}/{id}",
            get(entities::read)
                .patch(entities::update)
                .delete(entities::delete),
        )
        .with_state(state)
}
