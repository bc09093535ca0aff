//! The service's log: one line per event to standard output, JSON or text, every line
//! redacted by `palisade-redact` before it is written (a password, token or DSN that reached a
//! log call by mistake leaves as `***`), and an access line per request that names the route
//! template, never the path or query a client sent.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use palisade_redact::RedactingFormat;
use tracing_subscriber::fmt::format::JsonFields;

use crate::settings::LogFormat;

/// Installs the process-wide subscriber (once; later calls change nothing).
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stdout)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(RedactingFormat::new(
                tracing_subscriber::fmt::format().json().flatten_event(true),
            ))
            .try_init(),
        LogFormat::Text => builder
            .event_format(RedactingFormat::new(tracing_subscriber::fmt::format()))
            .try_init(),
    };
    // A subscriber installed before (a test harness) stays.
    drop(installed);
}

/// One line per request: method, route template, status, duration.
pub(crate) async fn access(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    tracing::info!(
        target: "crud_api::access",
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
