//! The reference CRUD back end on Palisade: see the README.
#![forbid(unsafe_code)]

mod error;
pub mod outbox;
mod routes;
pub mod settings;
mod state;

use std::sync::Arc;

use axum::Router;
use palisade_ratelimit::{KeyedLimiter, RateLimitLayer, Settings as RateSettings};
use palisade_web::SecurityHeaders;
use palisade_web::context::RequestContextLayer;

pub use outbox::{MemoryOutbox, NoOutbox, Outbox};
pub use settings::{Mode, SettingInvalid, Settings};
pub use state::{AppState, StartError};

/// The service: the routes with Palisade's layers around them.
///
/// # Errors
/// [`StartError`] naming what could not be prepared.
pub async fn app(settings: &Settings) -> Result<Router, StartError> {
    app_with(settings, Arc::new(NoOutbox)).await
}

/// The service, with password-reset codes sent through `outbox`.
///
/// # Errors
/// [`StartError`] naming what could not be prepared.
pub async fn app_with(settings: &Settings, outbox: Arc<dyn Outbox>) -> Result<Router, StartError> {
    let state = AppState::new(settings, outbox).await?;
    let headers = match settings.mode {
        Mode::Prod => SecurityHeaders::api().mode(palisade_web::Mode::Production),
        Mode::Dev | Mode::Test => SecurityHeaders::api(),
    };
    let mode = if settings.rate_limit_enabled {
        palisade_ratelimit::Mode::Enforce
    } else {
        palisade_ratelimit::Mode::Disabled
    };
    let limiter =
        KeyedLimiter::new(&RateSettings::new(settings.auth_rate_limit.clone()).with_mode(mode));
    let auth_limit = RateLimitLayer::new(Arc::new(limiter));
    Ok(routes::router(state, auth_limit)
        .layer(RequestContextLayer::new())
        .layer(headers.layer()))
}
