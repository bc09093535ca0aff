//! The reference CRUD back end on Palisade: see the README.
#![forbid(unsafe_code)]

mod audit;
mod error;
mod extract;
pub mod outbox;
mod routes;
pub mod settings;
mod sql;
mod state;

use std::sync::Arc;

use axum::Router;
use palisade_web::SecurityHeaders;
use palisade_web::context::RequestContextLayer;

pub use outbox::{MemoryOutbox, NoOutbox, Outbox};
pub use settings::{Connection, LogFormat, Mode, SettingInvalid, Settings};
pub use state::{AppState, StartError};

/// The service: the routes with Palisade's layers around them.
///
/// # Errors
/// [`StartError`] naming what could not be prepared.
pub async fn app(settings: &Settings) -> Result<Router, StartError> {
    let state = AppState::new(settings, Arc::new(NoOutbox)).await?;
    Ok(router(settings, state))
}

/// The routes and layers around `state` (built with [`AppState::new`], which a test keeps to
/// flush the audit trail or read its health).
#[must_use]
pub fn router(settings: &Settings, state: AppState) -> Router {
    let headers = match settings.mode {
        Mode::Prod => SecurityHeaders::api().mode(palisade_web::Mode::Production),
        Mode::Dev | Mode::Test => SecurityHeaders::api(),
    };
    routes::router(state)
        .layer(RequestContextLayer::new().trusted_proxies(settings.trusted_proxies.clone()))
        .layer(headers.layer())
}
