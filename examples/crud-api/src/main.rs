//! `cargo run -p crud-api`: the service on `LISTEN_ADDR` (default `127.0.0.1:8000`).
//!
//! `crud-api --check-config` checks every setting and service and exits 0 when all pass, 1
//! otherwise; `crud-api --migrate` applies the SQL schema with `DATABASE_OWNER_URL` and exits.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use crud_api::{AppState, NoOutbox, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    match std::env::args().nth(1).as_deref() {
        None => serve(settings).await,
        Some("--check-config") => check(&settings).await,
        Some("--migrate") => match crud_api::migrate(&settings).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error),
        },
        Some(_) => fail(&"usage: crud-api [--check-config | --migrate]"),
    }
}

async fn serve(settings: Settings) -> ExitCode {
    crud_api::logs::init(settings.log_format);
    let state = match AppState::new(&settings, Arc::new(NoOutbox)).await {
        Ok(state) => state,
        Err(error) => return fail(&error),
    };
    let app = crud_api::router(&settings, state.clone());
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(listener) => listener,
        Err(error) => return fail(&format!("LISTEN_ADDR: {error}")),
    };
    if let Ok(address) = listener.local_addr() {
        tracing::info!(target: "crud_api", %address, "listening");
    }
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await;
    // The audit trail's last events are written and its chain sealed before the exit.
    drop(state);
    tracing::info!(target: "crud_api", "stopped");
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Ctrl-C or `SIGTERM`.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}

async fn check(settings: &Settings) -> ExitCode {
    let checks = crud_api::check::check_config(settings).await;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for check in &checks {
        let line = match &check.outcome {
            Ok(found) => format!("ok    {}: {found}", check.name),
            Err(wrong) => {
                failed = true;
                format!("FAIL  {}: {wrong}", check.name)
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "crud-api: {error}");
    ExitCode::FAILURE
}
