//! Driving futures without a runtime, for code that must make progress on its own (a cache
//! hit, a wait on a fake clock).

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// Polls a future that never waits on anything outside itself until it completes, with no
/// runtime at all (a future that waits on I/O or a real timer would spin forever).
///
/// ```
/// assert_eq!(palisade_test::poll_without_runtime(async { 6 * 7 }), 42);
/// ```
pub fn poll_without_runtime<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = poll_once(future.as_mut()) {
            return output;
        }
    }
}

/// Polls a future once, with a waker that does nothing.
///
/// ```
/// use std::pin::pin;
///
/// let mut never = pin!(std::future::pending::<()>());
/// assert!(palisade_test::poll_once(never.as_mut()).is_pending());
/// ```
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// The output of a future that must be ready on its first poll (a cache hit never waits).
///
/// # Panics
/// When the future is still pending: the caller's claim that it never waits is false.
///
/// ```
/// assert_eq!(palisade_test::ready_now(async { 7 }), 7);
/// ```
#[allow(
    clippy::panic,
    reason = "a test kit fails loudly when a future that must be ready waits"
)]
pub fn ready_now<F: Future>(future: F) -> F::Output {
    match poll_once(pin!(future)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited, but it must be ready at once"),
    }
}
