//! The reference CRUD back end on Palisade: see the README.
#![forbid(unsafe_code)]

mod audit;
pub mod check;
mod error;
mod extract;
mod fields;
pub mod logs;
mod oidc;
pub mod outbox;
mod routes;
mod sessions;
pub mod settings;
mod sql;
mod state;
mod token_keys;

use std::sync::Arc;

use axum::Router;
use palisade_web::SecurityHeaders;
use palisade_web::context::RequestContextLayer;

pub use outbox::{MemoryOutbox, NoOutbox, Outbox};
pub use settings::{Connection, LogFormat, Mode, OidcSettings, SettingInvalid, Settings};
pub use state::{AppState, StartError};

/// The service: the routes with Palisade's layers around them.
///
/// # Errors
/// [`StartError`] naming what could not be prepared.
pub async fn app(settings: &Settings) -> Result<Router, StartError> {
    let state = AppState::new(settings, Arc::new(NoOutbox)).await?;
    Ok(router(settings, state))
}

/// The largest request body taken (`413` beyond): a record is a few kilobytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a request may take, body and database calls included, before it is answered
/// `503` (and its work dropped): a stuck database holds no connection forever.
const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

async fn deadline(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => palisade_problem::Problem::new(
            "crud/deadline",
            "the request took too long",
            http::StatusCode::SERVICE_UNAVAILABLE,
        )
        .into_response(),
    }
}

/// The routes and layers around `state` (built with [`AppState::new`], which a test keeps to
/// flush the audit trail or read its health).
pub fn router(settings: &Settings, state: AppState) -> Router {
    let headers = match settings.mode {
        Mode::Prod => SecurityHeaders::api().mode(palisade_web::Mode::Production),
        Mode::Dev | Mode::Test => SecurityHeaders::api(),
    };
    routes::router(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(deadline))
        .layer(axum::middleware::from_fn(logs::access))
        .layer(RequestContextLayer::new().trusted_proxies(settings.trusted_proxies.clone()))
        .layer(headers.layer())
}

/// Applies the SQL schema with `DATABASE_OWNER_URL` and grants the service's two logins
/// (`crud-api --migrate`, the deployment step in `prod`).
///
/// # Errors
/// [`StartError`] naming the setting or step that failed.
pub async fn migrate(settings: &Settings) -> Result<(), StartError> {
    let registry = palisade_secrets::Registry::standard();
    let tls = settings.mode.tls_policy();
    let owner = settings
        .database_owner_url
        .as_ref()
        .ok_or_else(|| StartError("DATABASE_OWNER_URL: not set".to_owned()))?
        .resolve_dsn("DATABASE_OWNER_URL", &registry, tls)
        .await
        .map_err(StartError)?;
    let writer = settings
        .database_url
        .resolve_dsn("DATABASE_URL", &registry, tls)
        .await
        .map_err(StartError)?;
    let reader = settings
        .database_read_only_url
        .resolve_dsn("DATABASE_READ_ONLY_URL", &registry, tls)
        .await
        .map_err(StartError)?;
    sql::migrate(&owner, &writer, &reader)
        .await
        .map_err(StartError)
}
