//! The bounded pool async callers hash on: blocking threads behind a semaphore, and a bound on
//! how many callers may wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::Error;
use crate::error::Result;

/// Runs jobs on tokio's blocking threads, at most `concurrency` at a time, with at most
/// `queue_bound` more callers waiting.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Arc<Semaphore>,
    /// Callers between admission and completion (running or waiting).
    admitted: AtomicUsize,
    capacity: usize,
}

/// One admitted caller; leaving (by completion or by the caller dropping the future) frees
/// its place in the queue.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Pool {
    pub(crate) fn new(concurrency: usize, queue_bound: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency)),
            admitted: AtomicUsize::new(0),
            capacity: concurrency.saturating_add(queue_bound),
        }
    }

    /// Runs `job` on a blocking thread once a slot is free, or fails with [`Error::Busy`] at once
    /// when the queue is full. Without a tokio runtime, runs it on the calling thread (still
    /// within the bound).
    ///
    /// Cancel-safe: a caller dropped while waiting leaves the queue; a job already running
    /// finishes on its thread and keeps its slot until then.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R> {
        let _admission = self.admit()?;
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| Error::TaskFailed)?;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(move || {
                    let _permit = permit;
                    job()
                })
                .await
                .map_err(|_| Error::TaskFailed),
            Err(_) => Ok(job()),
        }
    }

    fn admit(&self) -> Result<Admission<'_>> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(&self.admitted);
        if before >= self.capacity {
            return Err(Error::Busy);
        }
        Ok(admission)
    }

    /// Callers running or waiting.
    pub(crate) fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }
}
