//! palisade-ratelimit benchmarks, each against a peer in the same run:
//! - a keyed check vs governor's keyed `check_key` (dashmap store) on the same 10,000 IPv6
//!   client keys (target: <= 1.2x);
//! - a direct check vs governor's direct `check` (target: <= 1.2x);
//! - memory per tracked key for 1 million IPv6 clients vs governor's keyed state, each measured
//!   as the growth of a fresh child process's RSS (target: <= 64 bytes a key);
//! - RSS once the key cap is reached: 10 million rotating clients through a limiter capped at
//!   100,000 keys, RSS after 10 million vs after 1 million (target: <= 1.05x, flat).
//!
//! Built with the `bench` profile (release, one codegen unit, thin LTO).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark that cannot set up fails loudly and reports on stdout"
)]

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroUsize;
use std::process::Command;

use palisade_ratelimit::{ClientKey, IpGrouping, KeyedLimiter, Limiter, Settings, Spec};
use palisade_test::bench::{Row, keep, report, rss_kib, time_pair};

const KRATE: &str = "palisade-ratelimit";
/// Names the measurement a child process runs; unset in the parent.
const CHILD_ENV: &str = "PALISADE_RATELIMIT_BENCH_CHILD";
const MEMORY_KEYS: usize = 1_000_000;

/// The `i`-th IPv6 client, each in its own /56.
fn client(i: u64) -> ClientKey {
    let bits = (u128::from(i) << 72) | (0x2001_0db8_u128 << 96);
    IpGrouping::DEFAULT.key(IpAddr::V6(Ipv6Addr::from(bits)))
}

fn spec(text: &str) -> Spec {
    text.parse().unwrap()
}

fn keyed(max_keys: usize) -> KeyedLimiter {
    let settings =
        Settings::new(spec("1000/second")).with_max_keys(NonZeroUsize::new(max_keys).unwrap());
    KeyedLimiter::new(&settings)
}

fn checks() {
    let keys: Vec<ClientKey> = (0..10_000).map(client).collect();
    let quota = spec("1000/second").limits()[0].quota();

    let ours = keyed(100_000);
    let theirs = governor::RateLimiter::dashmap(quota);
    let (mut i, mut j) = (0, 0);
    let (ours_ns, theirs_ns) = time_pair(
        || {
            i = (i + 1) % keys.len();
            keep(ours.check_key(&keys[i]).is_ok());
        },
        || {
            j = (j + 1) % keys.len();
            keep(theirs.check_key(&keys[j]).is_ok());
        },
    );
    report(&Row {
        krate: KRATE,
        name: "KeyedLimiter::check_key, 10k IPv6 clients".into(),
        figure: ours_ns,
        unit: "ns/op",
        peer: "governor keyed check_key (dashmap)".into(),
        peer_figure: Some(theirs_ns),
        target: "<= 1.2x".into(),
        met: ours_ns <= 1.2 * theirs_ns,
    });

    let settings = Settings::new(spec("1000000000/second"));
    let ours = Limiter::new(&settings);
    let theirs = governor::RateLimiter::direct(settings.spec().limits()[0].quota());
    let (ours_ns, theirs_ns) = time_pair(
        || {
            keep(ours.check().is_ok());
        },
        || {
            keep(theirs.check().is_ok());
        },
    );
    report(&Row {
        krate: KRATE,
        name: "Limiter::check".into(),
        figure: ours_ns,
        unit: "ns/op",
        peer: "governor direct check".into(),
        peer_figure: Some(theirs_ns),
        target: "<= 1.2x".into(),
        met: ours_ns <= 1.2 * theirs_ns,
    });
}

/// Runs one memory measurement in a fresh child process and returns what it printed.
fn in_child(job: &str) -> Vec<f64> {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, job)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{job}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .map(|figure| figure.parse().unwrap())
        .collect()
}

/// In a child: bytes of RSS growth per key for `MEMORY_KEYS` clients, in our limiter or
/// governor's.
fn memory_per_key(job: &str) {
    let keys: Vec<ClientKey> = (0..MEMORY_KEYS as u64).map(client).collect();
    let before = rss_kib().unwrap();
    let tracked = match job {
        "ours" => fill(
            keyed(2 * MEMORY_KEYS),
            &keys,
            |l, k| l.check_key(k).is_ok(),
            KeyedLimiter::len,
        ),
        _ => fill(
            governor::RateLimiter::dashmap(spec("1000/second").limits()[0].quota()),
            &keys,
            |l, k| l.check_key(k).is_ok(),
            |l| l.len(),
        ),
    };
    assert_eq!(tracked, keys.len());
    let grown = rss_kib().unwrap() - before;
    println!("{}", grown as f64 * 1024.0 / MEMORY_KEYS as f64);
}

/// Sends every key through `limiter` and returns how many it tracks; the limiter stays alive
/// (leaked) so the caller can read the RSS it holds.
fn fill<L>(
    limiter: L,
    keys: &[ClientKey],
    check: impl Fn(&L, &ClientKey) -> bool,
    len: impl Fn(&L) -> usize,
) -> usize {
    for key in keys {
        keep(check(&limiter, key));
    }
    len(Box::leak(Box::new(limiter)))
}

/// In a child: RSS after 1 million and after 10 million rotating clients, capped at 100,000.
fn flat_at_cap() {
    let limiter = keyed(100_000);
    let mut after_first = 0;
    for i in 0..10_000_000 {
        keep(limiter.check_key(&client(i)).is_ok());
        if i == 1_000_000 {
            after_first = rss_kib().unwrap();
        }
    }
    assert_eq!(limiter.len(), 100_000);
    println!("{after_first} {}", rss_kib().unwrap());
}

fn memory() {
    let ours = in_child("ours")[0];
    let theirs = in_child("governor")[0];
    report(&Row {
        krate: KRATE,
        name: "memory per tracked key, 1M IPv6 clients".into(),
        figure: ours,
        unit: "bytes/key",
        peer: "governor keyed state (dashmap)".into(),
        peer_figure: Some(theirs),
        target: "<= 64 bytes/key".into(),
        met: ours <= 64.0,
    });
    let rss = in_child("flat");
    let (first, last) = (rss[0], rss[1]);
    report(&Row {
        krate: KRATE,
        name: "RSS after 10M rotating clients, cap 100k".into(),
        figure: last / 1024.0,
        unit: "MiB",
        peer: "RSS after the first 1M".into(),
        peer_figure: Some(first / 1024.0),
        target: "<= 1.05x (flat)".into(),
        met: last <= 1.05 * first,
    });
}

fn main() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("flat") => flat_at_cap(),
        Ok(job) => memory_per_key(job),
        Err(_) => {
            checks();
            memory();
        }
    }
}
