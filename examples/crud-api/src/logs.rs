//! The service's log: one line per event to standard output, JSON or text, every line
//! redacted by `palisade-redact` before it is written (a password, token or DSN that reached a
//! log call by mistake leaves as `***`), and an access line per request that names the route
//! template, never the path or query a client sent.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use palisade_redact::RedactingFormat;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;

use crate::settings::LogFormat;

/// Installs the process-wide subscriber writing to standard output (once; later calls
/// change nothing). Each line is written whole as it is made (standard output is
/// line-buffered): nothing waits in memory for a crash to lose, and no writer thread is woken
/// per line (on a busy service that costs more than the write).
pub fn init(format: LogFormat) {
    let _always_on = install(format, std::io::stdout);
}

/// Turns the log off and on again (the load benchmark measures the layers without it).
pub type LogSwitch = Box<dyn Fn(bool) + Send + Sync>;

/// Installs the process-wide subscriber writing through `writer`, the service's format
/// (JSON or text, every line redacted) at `INFO` (once; later calls change nothing, and their
/// switch does nothing).
pub fn install<W>(format: LogFormat, writer: W) -> LogSwitch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(LevelFilter::INFO);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Json => registry
            .with(
                layer
                    .fmt_fields(JsonFields::new())
                    .event_format(RedactingFormat::new(
                        tracing_subscriber::fmt::format().json().flatten_event(true),
                    )),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(layer.event_format(RedactingFormat::new(tracing_subscriber::fmt::format())))
            .try_init(),
    };
    // A subscriber installed before (a test harness) stays.
    if installed.is_err() {
        return Box::new(|_| {});
    }
    Box::new(move |on| {
        let _ = handle.reload(if on {
            LevelFilter::INFO
        } else {
            LevelFilter::OFF
        });
    })
}

/// One line per request: method, route template, status, duration.
pub(crate) async fn access(request: Request, next: Next) -> Response {
    // With the log off, nothing is gathered for a line that is not written.
    if !tracing::enabled!(target: "crud_api::access", tracing::Level::INFO) {
        return next.run(request).await;
    }
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
