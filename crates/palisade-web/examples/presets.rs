//! Serves one route under each preset on loopback and prints what a client receives, as
//! `curl -sI` would show it: `cargo run -p palisade-web --example presets`.
#![allow(
    clippy::print_stdout,
    reason = "an example that prints the responses it reads"
)]

use std::io::Write as _;

use axum::Router;
use axum::routing::get;
use palisade_web::SecurityHeaders;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let presets = [
        ("helmet()", SecurityHeaders::helmet()),
        ("owasp()", SecurityHeaders::owasp()),
        ("api()", SecurityHeaders::api()),
        ("instacrud()", SecurityHeaders::instacrud()),
    ];
    for (name, headers) in presets {
        let router = Router::new()
            .route("/", get(|| async { ([("x-powered-by", "Express")], "{}") }))
            .layer(headers.layer());
        let address = palisade_test::serve(router).await;
        let response = reqwest::Client::new()
            .head(format!("http://{address}/"))
            .send()
            .await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "$ curl -sI http://{address}/    # SecurityHeaders::{name}"
        )?;
        writeln!(out, "{:?} {}", response.version(), response.status())?;
        for (header, value) in response.headers() {
            writeln!(out, "{header}: {}", value.to_str()?)?;
        }
        writeln!(out)?;
    }
    Ok(())
}
