//! `Published<T>`: a value replaced whole by writers and read by many threads without a lock,
//! a fence or a shared write on the read path.
//!
//! Each thread keeps its own snapshot (`Arc<T>`) of the value in per-object thread-local
//! storage (the `thread_local` crate), with the version it was taken at; a read compares that
//! version with the published one (one shared load of a word that only writers change) and
//! reads the snapshot. Only after a write does a reader take the lock, once, to refresh its
//! snapshot. Reference counts are never touched on the read path, so threads reading the same
//! value never contend on a cache line.
//!
//! The cost of that: a thread's snapshot of an old value lives until the thread next reads,
//! or until the `Published` is dropped (a thread that exits leaves its slot to the next
//! thread that gets its id). [`Published::forget_snapshots`] drops them all at once.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crossbeam_utils::CachePadded;
use thread_local::ThreadLocal;

struct Snapshot<T> {
    version: u64,
    value: Arc<T>,
}

pub(crate) struct Published<T: Send + Sync> {
    version: AtomicU64,
    current: Mutex<Arc<T>>,
    /// Padded: snapshots of neighbouring threads sit side by side in `ThreadLocal`'s storage,
    /// and a read writes its `RefCell` flag; without padding two cores would share a line.
    snapshots: ThreadLocal<CachePadded<RefCell<Snapshot<T>>>>,
}

impl<T: Send + Sync + 'static> Published<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            version: AtomicU64::new(0),
            current: Mutex::new(Arc::new(value)),
            snapshots: ThreadLocal::new(),
        }
    }

    /// Reads the current value through this thread's snapshot.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        let version = self.version.load(Ordering::Acquire);
        let cell = self.snapshots.get_or(|| {
            CachePadded::new(RefCell::new(Snapshot {
                version,
                value: self.load_full(),
            }))
        });
        // A read inside a read (not done today) falls back to the lock.
        let Ok(mut snapshot) = cell.try_borrow_mut() else {
            return read(&self.load_full());
        };
        if snapshot.version != version {
            // Loaded after `version` was read: at least that new.
            snapshot.value = self.load_full();
            snapshot.version = version;
        }
        read(&snapshot.value)
    }

    /// The current value, with its own reference (takes the lock).
    pub(crate) fn load_full(&self) -> Arc<T> {
        Arc::clone(&lock(&self.current))
    }

    /// Replaces the value with an edited copy; readers see it on their next read.
    pub(crate) fn update(&self, edit: impl FnOnce(&mut T))
    where
        T: Clone,
    {
        let mut current = lock(&self.current);
        let mut next = T::clone(&current);
        edit(&mut next);
        *current = Arc::new(next);
        drop(current);
        self.version.fetch_add(1, Ordering::Release);
    }
}

/// A poisoned lock only means a writer panicked between whole-value replacements; the value
/// behind it is always a complete one, so carry on.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn snapshots_are_released_with_the_published_value() {
        let published = Published::new(String::from("first"));
        assert_eq!(published.read(String::len), 5);
        let held = published.load_full();
        assert_eq!(
            Arc::strong_count(&held),
            3,
            "current, this thread's snapshot, held"
        );
        published.update(|text| text.push('!'));
        assert_eq!(published.read(String::len), 6);
        assert_eq!(
            Arc::strong_count(&held),
            1,
            "replaced in the snapshot at the next read"
        );
        let held = published.load_full();
        drop(published);
        assert_eq!(
            Arc::strong_count(&held),
            1,
            "every snapshot dropped with it"
        );
    }
}
