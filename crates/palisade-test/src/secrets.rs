//! What tests of secret sources share: a source that counts the fetches reaching it, many
//! concurrent gets at once, and a cached hit through a backend against a cached hit on an
//! in-memory source holding the same value and version.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_secrets::{Cached, Fetch, SecretError, SecretRef, SecretSource, SecretValue};

use crate::bench::{Row, keep, report, time_pair};
use crate::ready_now;

/// A source that hands out one value it holds in memory: the fastest a source can be.
#[derive(Debug)]
pub struct InMemory(pub SecretValue);

impl SecretSource for InMemory {
    fn fetch<'a>(&'a self, _reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::ready(Ok(self.0.clone()))
    }
}

/// Wraps a source and counts the fetches that reach it (a cache's misses, a router's reads).
#[derive(Debug)]
pub struct Counting<S> {
    inner: S,
    calls: AtomicUsize,
}

impl<S: SecretSource> Counting<S> {
    /// Counts the fetches that reach `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: AtomicUsize::new(0),
        }
    }

    /// How many fetches reached the source so far.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl<S: SecretSource> SecretSource for Counting<S> {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch(reference)
    }
}

/// Gets `reference` from `cache` in `count` tasks spawned at once on the current Tokio runtime
/// (a multi-threaded one makes them truly concurrent), and returns every outcome.
///
/// # Panics
/// When a task panics.
#[allow(clippy::panic, reason = "a test kit fails loudly")]
pub async fn get_at_once<S: SecretSource + 'static>(
    cache: &Arc<Cached<S>>,
    reference: &SecretRef,
    count: usize,
) -> Vec<Result<SecretValue, SecretError>> {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (cache, reference) = (Arc::clone(cache), reference.clone());
            tokio::spawn(async move { cache.get(&reference).await.map(|s| s.into_value()) })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(count);
    for task in tasks {
        match task.await {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) => panic!("a concurrent get panicked: {error}"),
        }
    }
    outcomes
}

/// Times a hit on `cache` (already warm for `reference`) against a hit on a cache over
/// [`InMemory`] with the same value and version under the same reference, and reports it with
/// the target the backends share: at most 1.1x, since the backend is off the hot path.
///
/// # Panics
/// When `cache` has no value for `reference` (the benchmark was not warmed up).
#[allow(clippy::panic, reason = "a benchmark that cannot set up fails loudly")]
pub fn cached_hit_against_in_memory<S: SecretSource + 'static>(
    krate: &'static str,
    backend: &str,
    cache: &Cached<S>,
    reference: &SecretRef,
) {
    let warm = match ready_now(cache.get(reference)) {
        Ok(hit) => hit.into_value(),
        Err(error) => panic!("the {backend} cache is not warm: {error}"),
    };
    let memory = Cached::new(InMemory(warm), *cache.policy());
    // The same reference, so both lookups hash and compare the same bytes.
    if let Err(error) = ready_now(memory.get(reference)) {
        panic!("the in-memory cache did not fill: {error}");
    }
    let (ours, peer) = time_pair(
        || {
            keep(ready_now(cache.get(keep(reference))).is_ok());
        },
        || {
            keep(ready_now(memory.get(keep(reference))).is_ok());
        },
    );
    report(&Row {
        krate,
        name: format!("Cached::get hit, {backend}-backed"),
        figure: ours,
        unit: "ns/op",
        peer: "Cached::get hit, in-memory source, same value and version".into(),
        peer_figure: Some(peer),
        target: "<= 1.1x".into(),
        met: ours <= 1.1 * peer,
    });
}
