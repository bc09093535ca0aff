//! The routes, under `/api/v1` as the reference back end has them.

mod auth;
mod entities;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/signup", post(auth::signup))
        .route("/api/v1/signin", post(auth::signin))
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
