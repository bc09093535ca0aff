//! Argon2's working memory, kept and reused.
//!
//! Allocating and freeing m_cost KiB for every hash costs page faults, and under a flood the
//! freed regions pile up in the allocator's per-thread arenas (tokio's blocking threads come
//! and go), so resident memory grows far past concurrency × m_cost. Reusing a few buffers
//! keeps it at that bound.
//!
//! Like the `argon2` crate's own buffers, a buffer is not wiped between hashes; each hash
//! overwrites every block it uses.

use std::sync::{Mutex, MutexGuard, PoisonError};

use argon2::{Argon2, Block};

/// Buffers of Argon2 blocks, at most `keep` of them kept between hashes.
#[derive(Debug)]
pub(crate) struct Memory {
    free: Mutex<Vec<Vec<Block>>>,
    keep: usize,
    /// Buffers larger than this (made for a stored hash with more memory than the policy) are
    /// dropped after use rather than kept.
    keep_blocks: usize,
}

impl Memory {
    pub(crate) fn new(keep: usize, keep_blocks: usize) -> Self {
        Self {
            free: Mutex::new(Vec::new()),
            keep,
            keep_blocks,
        }
    }

    /// Hashes `password` and `salt` into `out` with `argon2`, in a kept buffer.
    pub(crate) fn hash_into(
        &self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        self.with(argon2.params().block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt, out, blocks)
        })
    }

    /// Runs `f` with at least `count` blocks.
    fn with<R>(&self, count: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let mut blocks = lock(&self.free).pop().unwrap_or_default();
        if blocks.len() < count {
            blocks.resize(count, Block::new());
        }
        let result = f(&mut blocks);
        if blocks.len() <= self.keep_blocks {
            let mut free = lock(&self.free);
            if free.len() < self.keep {
                free.push(blocks);
            }
        }
        result
    }
}

/// A poisoned lock only means a hash panicked; the free list is still a list of buffers.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_up_to_the_bound_and_large_ones_dropped() {
        let memory = Memory::new(1, 8);
        let first = memory.with(8, |blocks| blocks.as_ptr() as usize);
        let second = memory.with(4, |blocks| (blocks.as_ptr() as usize, blocks.len()));
        assert_eq!(second, (first, 8), "the kept buffer is reused whole");
        memory.with(16, |blocks| assert_eq!(blocks.len(), 16));
        assert_eq!(
            lock(&memory.free).len(),
            0,
            "a buffer grown past the policy's size is dropped after use"
        );
        memory.with(2, |_| memory.with(2, |_| ()));
        assert_eq!(lock(&memory.free).len(), 1, "no more than `keep` are kept");
    }
}
