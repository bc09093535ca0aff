//! Where one-time codes wait to be redeemed: any store that can put a record under a digest
//! and take it back exactly once.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use zeroize::Zeroizing;

/// A code's SHA-256 digest: the only form of the code a store ever sees.
pub type CodeDigest = [u8; 32];

/// A store failed (unreachable, refused the command): the request should be retried later,
/// the code is neither spent nor confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the one-time code store is unavailable: {reason}")]
pub struct CodeStoreUnavailable {
    reason: String,
}

impl CodeStoreUnavailable {
    /// A failure described by `reason` (never a code, a digest or a payload).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// The future a [`CodeStore`] returns.
pub struct StoreFuture<'a, T>(
    Pin<Box<dyn Future<Output = Result<T, CodeStoreUnavailable>> + Send + 'a>>,
);

impl<'a, T> StoreFuture<'a, T> {
    /// Wraps `future`.
    pub fn new(future: impl Future<Output = Result<T, CodeStoreUnavailable>> + Send + 'a) -> Self {
        Self(Box::pin(future))
    }
}

impl<T> Future for StoreFuture<'_, T> {
    type Output = Result<T, CodeStoreUnavailable>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for StoreFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreFuture").finish_non_exhaustive()
    }
}

/// A place for one-time code records. `take` must be atomic: of any number of concurrent
/// takes of one digest, exactly one gets the record.
pub trait CodeStore: Send + Sync + fmt::Debug {
    /// Keeps `record` under `digest` for at least `lifetime` (a store may drop it after).
    fn put<'a>(
        &'a self,
        digest: &'a CodeDigest,
        record: Zeroizing<Vec<u8>>,
        lifetime: Duration,
    ) -> StoreFuture<'a, ()>;

    /// Removes and returns the record under `digest`, if any.
    fn take<'a>(&'a self, digest: &'a CodeDigest) -> StoreFuture<'a, Option<Zeroizing<Vec<u8>>>>;
}
