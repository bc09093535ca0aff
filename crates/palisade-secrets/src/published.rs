//! `Published<T>`: a value replaced whole by writers and read by many threads without a lock,
//! a fence or a shared write on the read path.
//!
//! Each thread keeps its own snapshot (`Arc<T>`) per published value and a version number;
//! a read compares the thread's version with the published one (one shared load of a word
//! that only writers change) and reads the snapshot. Only after a write does a reader take
//! the lock, once, to refresh its snapshot. Reference counts are never touched on the read
//! path, so threads reading the same value never contend on a cache line.
//!
//! The cost of that: a thread's snapshot of an old value lives until the thread next reads
//! this value (or any other published value, once this one is dropped), or exits.

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// Tells published values apart in a thread's snapshot list.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Snapshot {
    id: u64,
    version: u64,
    /// Dead once the published value is dropped: the snapshot is then discarded.
    alive: Weak<()>,
    value: Arc<dyn Any + Send + Sync>,
}

thread_local! {
    static SNAPSHOTS: RefCell<Vec<Snapshot>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Published<T> {
    id: u64,
    version: AtomicU64,
    alive: Arc<()>,
    current: Mutex<Arc<T>>,
}

impl<T: Send + Sync + 'static> Published<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            version: AtomicU64::new(0),
            alive: Arc::new(()),
            current: Mutex::new(Arc::new(value)),
        }
    }

    /// Reads the current value through this thread's snapshot.
    pub(crate) fn read<R>(&self, read: impl Fn(&T) -> R) -> R {
        let version = self.version.load(Ordering::Acquire);
        let through_snapshot = SNAPSHOTS.try_with(|cell| {
            // A read inside a read (not done today) falls back to the lock.
            let mut snapshots = cell.try_borrow_mut().ok()?;
            let index = match snapshots.iter().position(|s| s.id == self.id) {
                Some(index) => index,
                None => {
                    snapshots.retain(|s| s.alive.strong_count() > 0);
                    snapshots.push(Snapshot {
                        id: self.id,
                        version,
                        alive: Arc::downgrade(&self.alive),
                        value: self.load_full(),
                    });
                    snapshots.len() - 1
                }
            };
            let snapshot = snapshots.get_mut(index)?;
            if snapshot.version != version {
                // Loaded after `version` was read: at least that new.
                snapshot.value = self.load_full();
                snapshot.version = version;
            }
            snapshot.value.downcast_ref::<T>().map(&read)
        });
        match through_snapshot {
            Ok(Some(result)) => result,
            // Thread-local storage is being torn down, or a nested read.
            _ => read(&self.load_full()),
        }
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
    fn snapshots_of_dropped_values_are_discarded() {
        let first = Published::new(String::from("first"));
        assert_eq!(first.read(String::len), 5);
        let held = first.load_full();
        drop(first);
        assert_eq!(
            Arc::strong_count(&held),
            2,
            "this thread's snapshot still holds it"
        );
        let second = Published::new(String::from("second"));
        assert_eq!(second.read(String::len), 6);
        assert_eq!(
            Arc::strong_count(&held),
            1,
            "discarded at the next first read"
        );
    }
}
