//! The reference CRUD back end on Palisade: see the README.
#![forbid(unsafe_code)]

mod error;
mod routes;
pub mod settings;
mod state;

use axum::Router;
use palisade_web::SecurityHeaders;

pub use settings::{Mode, SettingInvalid, Settings};
pub use state::{AppState, StartError};

/// The service: the routes with Palisade's layers around them.
///
/// # Errors
/// [`StartError`] naming what could not be prepared.
pub async fn app(settings: &Settings) -> Result<Router, StartError> {
    let state = AppState::new(settings).await?;
    let headers = match settings.mode {
        Mode::Prod => SecurityHeaders::api().mode(palisade_web::Mode::Production),
        Mode::Dev | Mode::Test => SecurityHeaders::api(),
    };
    Ok(routes::router(state).layer(headers.layer()))
}
