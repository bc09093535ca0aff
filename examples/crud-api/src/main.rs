//! `cargo run -p crud-api`: the service on `LISTEN_ADDR` (default `127.0.0.1:8000`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use crud_api::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    let app = match crud_api::app(&settings).await {
        Ok(app) => app,
        Err(error) => return fail(&error),
    };
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(listener) => listener,
        Err(error) => return fail(&format!("LISTEN_ADDR: {error}")),
    };
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "crud-api: {error}");
    ExitCode::FAILURE
}
