//! The tracing formatter on a service's hot path: a request's access line (JSON, inside the
//! request's span), through `RedactingFormat` and through tracing-subscriber's own JSON
//! format, both to a sink, in the same run (target: at most 3x the plain formatter: the
//! redactor reads every value of the line after the formatter wrote it).

use std::time::Instant;

use palisade_redact::RedactingFormat;
use palisade_test::bench::{Row, report};
use tracing::Dispatch;
use tracing_subscriber::fmt::format::JsonFields;

const LINES: u32 = 20_000;
const RUNS: usize = 9;

fn access_lines(dispatch: &Dispatch) -> f64 {
    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!(
            "request",
            request_id = "0f9c2e1d7a6b4c3e8f1a2b3c4d5e6f70",
            method = "GET"
        );
        let _entered = span.enter();
        let started = Instant::now();
        for n in 0..LINES {
            tracing::info!(
                target: "crud_api::access",
                method = "GET",
                route = "/api/v1/{entity}",
                status = 200_u16,
                micros = u64::from(n),
                "request"
            );
        }
        started.elapsed().as_nanos() as f64 / f64::from(LINES)
    })
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

pub(crate) fn run() {
    let redacting = Dispatch::new(
        tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(RedactingFormat::new(
                tracing_subscriber::fmt::format().json().flatten_event(true),
            ))
            .with_writer(std::io::sink)
            .finish(),
    );
    let plain = Dispatch::new(
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(std::io::sink)
            .finish(),
    );
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(access_lines(&redacting));
        peer.push(access_lines(&plain));
    }
    let (ours, peer) = (median(ours), median(peer));
    report(&Row {
        krate: super::KRATE,
        name: "a JSON access line in a request span, RedactingFormat".into(),
        figure: ours,
        unit: "ns/line",
        peer: "tracing-subscriber's JSON format".into(),
        peer_figure: Some(peer),
        target: "<= 3x".into(),
        met: ours <= 3.0 * peer,
    });
}
