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
