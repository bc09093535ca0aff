//! The service's log: one line per event to standard output, JSON or text, every line
//! redacted by `palisade-redact` before it is written (a password, token or DSN that reached a
//! log call by mistake leaves as `***`), and an access line per request that names the route
//! template, never the path or query a client sent.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use palisade_redact::RedactingFormat;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;

use crate::settings::LogFormat;

/// Installs the process-wide subscriber writing to standard output (once; later calls
/// change nothing). Lines are written by a thread of their own, so a request never waits on
/// the terminal or the pipe; none is dropped (a full queue makes the logging call wait). Keep
/// the guard until the end: dropping it writes what is queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("crud-api-log")
        .finish(std::io::stdout());
    install(format, writer);
    guard
}

/// Installs the process-wide subscriber writing through `writer`, the service's format
/// (JSON or text, every line redacted) at `INFO` (once; later calls change nothing).
pub fn install<W>(format: LogFormat, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(writer)
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
