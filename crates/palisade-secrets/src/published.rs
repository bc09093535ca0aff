//! `Published<T>`: a value replaced whole by writers and read by many threads without a lock,
//! on `arc-swap`'s `ArcSwap`.
//!
//! A read borrows the current value through `ArcSwap::load`: in the common case it writes
//! only to the reading thread's own debt slot, never to the value's reference count, so
//! threads reading the same value do not contend on a cache line. No thread keeps a copy of
//! its own: once a writer replaces the value and the reads in flight finish, the old value is
//! dropped at once (a secret is zeroized then), whether or not any other thread ever reads
//! again.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;

pub(crate) struct Published<T> {
    current: ArcSwap<T>,
    /// Serializes writers: each edits the latest value, none is lost.
    writer: Mutex<()>,
}

impl<T> Published<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            current: ArcSwap::from_pointee(value),
            writer: Mutex::new(()),
        }
    }

    /// Reads the current value.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        read(&self.current.load())
    }

    /// Replaces the value with an edited copy; readers see it on their next read.
    pub(crate) fn update(&self, edit: impl FnOnce(&mut T))
    where
        T: Clone,
    {
        let _writer = lock(&self.writer);
        let mut next = T::clone(&self.current.load());
        edit(&mut next);
        self.current.store(Arc::new(next));
    }
}

/// A poisoned lock only means a writer panicked between whole-value replacements; the value
/// behind it is always a complete one, so carry on.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn readers_see_every_update_on_their_next_read() {
        let published = Published::new(vec![1]);
        assert_eq!(published.read(Vec::len), 1);
        published.update(|v| v.push(2));
        assert_eq!(published.read(Vec::len), 2);
        std::thread::scope(|scope| {
            scope.spawn(|| assert_eq!(published.read(Vec::len), 2));
        });
        published.update(|v| v.push(3));
        std::thread::scope(|scope| {
            scope.spawn(|| assert_eq!(published.read(Vec::len), 3));
        });
        assert_eq!(published.read(Vec::len), 3);
    }

    /// Counts the drops of the values it stands for.
    #[derive(Clone)]
    struct Tracked(Arc<AtomicUsize>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A replaced value is dropped when it is replaced, though other threads read it before
    /// and never read again (a per-thread copy would keep it alive until they did).
    #[test]
    fn a_replaced_value_is_dropped_without_any_thread_reading_again() {
        let drops = Arc::new(AtomicUsize::new(0));
        let published = Published::new(Tracked(Arc::clone(&drops)));
        let (read, park) = (std::sync::Barrier::new(5), std::sync::Barrier::new(5));
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    published.read(|_| ());
                    read.wait();
                    // Idle: this thread never reads again while the value is replaced.
                    park.wait();
                });
            }
            read.wait();
            let before = drops.load(Ordering::SeqCst);
            published.update(|_| {});
            // The copy made for the edit is the new value; the old one is gone.
            assert_eq!(
                drops.load(Ordering::SeqCst),
                before + 1,
                "the old value lingers"
            );
            park.wait();
        });
    }
}
