//! Random nonces, drawn from the operating system in blocks.

use std::cell::RefCell;

use crate::error::{CryptError, Result};
use crate::format::NONCE_LEN;

/// Nonces per block: one `getrandom` call serves 341 of them.
const PER_BLOCK: usize = 341;

struct Block {
    bytes: [u8; PER_BLOCK * NONCE_LEN],
    next: usize,
    /// The process that drew the block: a child made by `fork` (which copies this memory)
    /// draws its own before its first nonce, so parent and child never share one.
    pid: u32,
}

thread_local! {
    static BLOCK: RefCell<Block> = const {
        RefCell::new(Block { bytes: [0; PER_BLOCK * NONCE_LEN], next: PER_BLOCK, pid: 0 })
    };
}

/// A fresh random nonce: 96 bits from the operating system's random source (`getrandom`),
/// taken from a per-thread block of 341 drawn at once. Each nonce is used once and the block
/// is never shared between threads or (after a `fork`) processes.
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    BLOCK.with(|block| {
        let mut block = block.borrow_mut();
        let pid = std::process::id();
        if block.next >= PER_BLOCK || block.pid != pid {
            getrandom::fill(&mut block.bytes).map_err(|_| CryptError::KeyInvalid {
                what: "the operating system's random source failed",
            })?;
            block.next = 0;
            block.pid = pid;
        }
        let at = block.next * NONCE_LEN;
        block.next += 1;
        let mut nonce = [0; NONCE_LEN];
        nonce.copy_from_slice(
            block
                .bytes
                .get(at..at + NONCE_LEN)
                .unwrap_or(&[0; NONCE_LEN]),
        );
        // A nonce handed out is not kept.
        if let Some(used) = block.bytes.get_mut(at..at + NONCE_LEN) {
            used.fill(0);
        }
        Ok(nonce)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn nonces_do_not_repeat_across_blocks_and_threads() {
        let mut seen = HashSet::new();
        for _ in 0..PER_BLOCK * 3 {
            assert!(seen.insert(random_nonce().unwrap()));
        }
        let other: Vec<_> =
            std::thread::spawn(|| (0..PER_BLOCK).map(|_| random_nonce().unwrap()).collect())
                .join()
                .unwrap();
        for nonce in other {
            assert!(seen.insert(nonce));
        }
        assert!(!seen.contains(&[0; NONCE_LEN]));
    }
}
