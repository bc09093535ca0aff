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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_fails_fast_and_a_cancelled_waiter_leaves_it() {
        let pool = Arc::new(Pool::new(1, 1));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (started, has_started) = tokio::sync::oneshot::channel();
        let running = tokio::spawn({
            let pool = Arc::clone(&pool);
            async move {
                pool.run(move || {
                    started.send(()).unwrap();
                    released.recv().unwrap();
                    1
                })
                .await
            }
        });
        has_started.await.unwrap();
        let spawn_job = |value: i32| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.run(move || value).await })
        };
        let waiting = spawn_job(2);
        while pool.admitted() < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.run(|| 3).await.unwrap_err(), Error::Busy);
        assert_eq!(pool.admitted(), 2, "a refused caller takes no place");

        waiting.abort();
        assert!(waiting.await.unwrap_err().is_cancelled());
        assert_eq!(pool.admitted(), 1, "the cancelled waiter left the queue");

        let again = spawn_job(4);
        while pool.admitted() < 2 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), 1);
        assert_eq!(again.await.unwrap().unwrap(), 4);
        assert_eq!(pool.admitted(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_bound_run_at_once() {
        let pool = Arc::new(Pool::new(2, 100));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let (pool, running, most) =
                    (Arc::clone(&pool), Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(async move {
                    pool.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} ran at once");
    }

    #[test]
    fn without_a_runtime_the_job_runs_on_the_calling_thread() {
        let pool = Pool::new(1, 0);
        let caller = std::thread::current().id();
        let ran_on = block_on(pool.run(move || std::thread::current().id()));
        assert_eq!(ran_on.unwrap(), caller);
    }

    /// Polls a future to completion on this thread, outside any runtime.
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }
}
