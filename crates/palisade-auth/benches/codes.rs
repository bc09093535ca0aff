//! One-time codes on the real Redis of `cargo xtask services up`: issue and redeem pairs per
//! second, `BATCH` pairs in flight on one multiplexed connection (pipelined by the driver),
//! against redis-py's asyncio client doing the same work (a 256-bit code, its SHA-256 key,
//! `SET NX EX`, then `GETDEL`) with as many pairs in flight, in the same run. Targets: at least
//! 20,000 pairs/s and at least 5x the peer. The peer's figure with explicit pipelines of
//! `BATCH` commands (a batch job's way, not a request handler's) is printed beside it.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_auth::{OneTimeCodes, RedisCodes};
use palisade_test::Service;
use palisade_test::bench::{Row, report};
use serde_json::Value;

const KRATE: &str = "palisade-auth";
const BATCH: usize = 1024;
const SECONDS: f64 = 2.0;

async fn ours(codes: &Arc<OneTimeCodes<RedisCodes>>) -> f64 {
    let start = Instant::now();
    let mut pairs = 0;
    while start.elapsed() < Duration::from_secs_f64(SECONDS) {
        let tasks: Vec<_> = (0..BATCH)
            .map(|_| {
                let codes = Arc::clone(codes);
                tokio::spawn(async move {
                    let code = codes.issue(b"session-payload", None).await.unwrap();
                    let payload = codes.redeem(code.expose(), None).await.unwrap();
                    assert_eq!(payload.expose_bytes(), b"session-payload");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        pairs += BATCH;
    }
    pairs as f64 / start.elapsed().as_secs_f64()
}

/// The peer's pairs per second: concurrent as ours, and with explicit pipelines.
fn peer_figures(url: &str) -> (f64, f64) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python/codes_peer.py");
    let out = palisade_test::python::run_script(
        &script,
        &[url, &SECONDS.to_string(), &BATCH.to_string()],
        "",
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    (
        json["pairs_per_second"].as_f64().unwrap(),
        json["pipelined_pairs_per_second"].as_f64().unwrap(),
    )
}

fn main() {
    let url = Service::Redis.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let codes = runtime.block_on(async {
        let connection = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection_manager()
            .await
            .unwrap();
        Arc::new(OneTimeCodes::new(RedisCodes::new(
            connection,
            &format!("bench:codes:{}:", std::process::id()),
        )))
    });
    let first = runtime.block_on(ours(&codes));
    let (peer, pipelined) = peer_figures(&url);
    let second = runtime.block_on(ours(&codes));
    let figure = f64::midpoint(first, second);
    eprintln!(
        "ours {first:.0} and {second:.0} pairs/s; redis-py asyncio {peer:.0} pairs/s, explicitly pipelined {pipelined:.0} pairs/s ({:.1}x)",
        figure / pipelined
    );
    report(&Row {
        krate: KRATE,
        name: format!("one-time code issue + redeem on Redis, {BATCH} in flight"),
        figure,
        unit: "pairs/s",
        peer: format!("redis-py 8.1 asyncio SET NX EX + GETDEL, {BATCH} in flight"),
        peer_figure: Some(peer),
        target: ">= 20000/s and >= 5x".into(),
        met: figure >= 20_000.0 && figure >= 5.0 * peer,
    });
}
