#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::panic, missing_docs, reason = "scratch")]
use palisade_secrets::{CachePolicy, Cached, EnvSource, SecretRef};
use palisade_test::bench::keep;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("wait"),
    }
}
fn main() {
    let cache = Cached::new(EnvSource::new(), CachePolicy::DEFAULT);
    let reference: SecretRef = "env:CARGO_MANIFEST_DIR".parse().unwrap();
    for _ in 0..50_000_000 { keep(ready(cache.get(keep(&reference))).unwrap()); }
}
