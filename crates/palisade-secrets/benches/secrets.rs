//! palisade-secrets benchmarks, each against a peer in the same run:
//! - a cached hit vs `std::env::var` reading the same value (target: cheaper, and < 100 ns);
//! - a cached hit on two threads vs one (target: at most 1.5x per hit);
//! - DSN parse + redacted Display vs the `url` crate parsing the same string (target: <= 1.0x).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark that cannot set up fails loudly"
)]

use std::fmt::Write as _;

use palisade_secrets::{CachePolicy, Cached, Dsn, EnvSource, SecretRef};
use palisade_test::bench::{Row, keep, report, time_contended, time_pair};
use palisade_test::ready_now;

/// Set by cargo for every process it runs; a value of realistic length (a path).
const VARIABLE: &str = "CARGO_MANIFEST_DIR";
/// One host: the `url` crate cannot parse a multi-host authority.
const DSN: &str = "postgresql://app:s3cr%40t-passw0rd@db-primary.internal.example.com:5432/app?sslmode=verify-full&options=-csearch_path%3Dapp_schema&application_name=api&connect_timeout=5";
const KRATE: &str = "palisade-secrets";

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let cache = Cached::new(EnvSource::new(), CachePolicy::DEFAULT);
    let reference: SecretRef = format!("env:{VARIABLE}").parse().unwrap();
    let warm = ready_now(cache.get(&reference)).unwrap();
    assert_eq!(
        warm.value().expose_str().unwrap(),
        std::env::var(VARIABLE).unwrap()
    );

    let hit = || {
        keep(ready_now(cache.get(keep(&reference))).unwrap());
    };
    let (ours, peer) = time_pair(hit, || {
        keep(std::env::var(keep(VARIABLE)).unwrap());
    });
    report(&Row {
        krate: KRATE,
        name: "Cached::get hit".into(),
        figure: ours,
        unit: "ns/op",
        peer: "std::env::var".into(),
        peer_figure: Some(peer),
        target: "< 1.0x and < 100 ns".into(),
        met: ours < peer && ours < 100.0,
    });

    let (alone, together) = time_contended(2, hit);
    report(&Row {
        krate: KRATE,
        name: "Cached::get hit, 2 threads".into(),
        figure: together,
        unit: "ns/op",
        peer: "the same hit on 1 thread".into(),
        peer_figure: Some(alone),
        target: "<= 1.5x".into(),
        met: together <= 1.5 * alone,
    });

    let mut printed = String::with_capacity(DSN.len());
    let (ours, peer) = time_pair(
        || {
            let dsn = Dsn::parse(keep(DSN)).unwrap();
            printed.clear();
            write!(printed, "{dsn}").unwrap();
            keep(&printed);
        },
        || {
            keep(url::Url::parse(keep(DSN)).unwrap());
        },
    );
    report(&Row {
        krate: KRATE,
        name: "Dsn::parse + Display".into(),
        figure: ours,
        unit: "ns/op",
        peer: "url::Url::parse".into(),
        peer_figure: Some(peer),
        target: "<= 1.0x".into(),
        met: ours <= peer,
    });
}
