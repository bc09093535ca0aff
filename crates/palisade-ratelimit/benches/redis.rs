//! palisade-ratelimit's Redis benchmark, against Python's `limits` (moving window, Redis storage)
//! on the same Redis in the same run:
//! - decisions per second from one process, pipelined 256 to a round trip, over 10,000 rotating
//!   client keys (targets: >= 50,000/s, and >= 5x `limits`).
//!
//! Needs the Redis of `cargo xtask services up` and the venv's `limits` (the same command
//! installs it).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark that cannot set up fails loudly"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use palisade_ratelimit::{ClientKey, OutagePolicy, RedisConfig, RedisLimiter, Settings};
use palisade_test::Service;
use palisade_test::bench::{Row, report};
use palisade_test::python::run_script;
use serde_json::Value;

const KRATE: &str = "palisade-ratelimit";
const KEYS: usize = 10_000;
const BATCH: usize = 256;
const LIMIT: &str = "100/minute";
const SECONDS: f64 = 2.0;

async fn ours(limiter: &RedisLimiter, keys: &[ClientKey]) -> f64 {
    let start = Instant::now();
    let mut decisions = 0;
    while start.elapsed() < Duration::from_secs_f64(SECONDS) {
        for batch in keys.chunks(BATCH) {
            let results = limiter.check_keys(batch).await;
            decisions += results.len();
        }
    }
    decisions as f64 / start.elapsed().as_secs_f64()
}

fn python_limits(url: &str) -> f64 {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python/limits_peer.py");
    let out = run_script(
        &script,
        &[url, &SECONDS.to_string(), &KEYS.to_string(), LIMIT],
        "",
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    json["decisions_per_second"].as_f64().unwrap()
}

fn main() {
    let url = Service::Redis.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let prefix = format!("bench:{}", std::process::id());
    let limiter = runtime.block_on(async {
        let config = RedisConfig::new(OutagePolicy::FailClosed).with_prefix(prefix);
        RedisLimiter::connect(&url, &Settings::new(LIMIT.parse().unwrap()), config)
            .await
            .unwrap()
    });
    let keys: Vec<ClientKey> = (0..KEYS).map(|i| ClientKey::user(i.to_string())).collect();
    runtime.block_on(limiter.check_keys(&keys[..BATCH]));
    let first = runtime.block_on(ours(&limiter, &keys));
    let peer = python_limits(&url);
    let second = runtime.block_on(ours(&limiter, &keys));
    let figure = f64::midpoint(first, second);
    assert_eq!(
        limiter.stats().outages,
        0,
        "Redis failed during the benchmark"
    );
    report(&Row {
        krate: KRATE,
        name: format!("RedisLimiter decisions/s, pipelined {BATCH}"),
        figure,
        unit: "decisions/s",
        peer: "Python limits moving window (Redis)".into(),
        peer_figure: Some(peer),
        target: ">= 50000/s and >= 5x".into(),
        met: figure >= 50_000.0 && figure >= 5.0 * peer,
    });
}
