//! `Handles`: one cached secret held as several handles, one per group of threads, so cache
//! hits on different cores count references on different cache lines.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::SecretValue;

/// The handles of one cached secret: the same bytes (no copy), a reference count each.
#[derive(Clone)]
pub(crate) struct Handles {
    first: SecretValue,
    others: Box<[SecretValue]>,
}

impl Handles {
    pub(crate) fn new(value: &SecretValue) -> Self {
        Self {
            first: value.clone(),
            others: (1..count()).map(|_| value.handle()).collect(),
        }
    }

    /// The value, to read in place.
    pub(crate) const fn first(&self) -> &SecretValue {
        &self.first
    }

    /// The handle the calling thread clones: its own unless more threads than handles read.
    pub(crate) fn for_this_thread(&self) -> &SecretValue {
        match thread_group() % (self.others.len() + 1) {
            0 => &self.first,
            n => self.others.get(n - 1).unwrap_or(&self.first),
        }
    }
}

/// Twice the cores (threads outnumber cores in most services), at least 2, at most 16: a
/// handle is 256 bytes, so a cached secret costs at most 4 KiB of handles (a full default
/// cache of 1,024 secrets, 4 MiB on a machine of 8 cores or more).
fn count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(2, |cores| cores.get().saturating_mul(2))
            .clamp(2, 16)
    })
}

/// The calling thread's group: threads are numbered as they first read a cache.
fn thread_group() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static GROUP: Cell<Option<usize>> = const { Cell::new(None) };
    }
    GROUP.with(|group| {
        group.get().unwrap_or_else(|| {
            let assigned = NEXT.fetch_add(1, Ordering::Relaxed);
            group.set(Some(assigned));
            assigned
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handle_holds_the_same_secret_and_threads_get_their_own() {
        let handles = Handles::new(&SecretValue::from_string("s3cr3t".to_owned()));
        assert!(!handles.others.is_empty());
        assert!(
            std::iter::once(&handles.first)
                .chain(&handles.others)
                .all(|h| h.expose_str() == Some("s3cr3t"))
        );
        let mine = std::ptr::from_ref(handles.for_this_thread());
        assert_eq!(std::ptr::from_ref(handles.for_this_thread()), mine);
        let theirs = std::thread::scope(|scope| {
            scope
                .spawn(|| std::ptr::from_ref(handles.for_this_thread()) as usize)
                .join()
                .unwrap_or_default()
        });
        assert_ne!(
            theirs, mine as usize,
            "a second thread shares the first one's handle"
        );
    }
}
