//! One shard of a keyed limiter: a bounded table of client states with eviction.
//!
//! Keys live in a slab (`keys`), their TATs beside them in `tats` (`width` per key), and a
//! `HashTable` of slab positions finds them: about 45 bytes a key for an IP key and one limit.

use std::hash::{BuildHasher, Hash};
use std::num::NonZeroU32;

use hashbrown::HashTable;

use crate::gcra::{Rules, Verdict};
use crate::spec::MAX_LIMITS;

/// How many entries an eviction looks at, from the sweep hand on.
const EVICTION_WINDOW: usize = 8;

/// What an insertion into a full shard did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Evicted {
    /// An entry was evicted.
    pub(crate) any: bool,
    /// The evicted entry still held state (it had not refilled yet).
    pub(crate) live: bool,
}

#[derive(Debug)]
pub(crate) struct Shard<K> {
    index: HashTable<u32>,
    keys: Vec<K>,
    tats: Vec<u64>,
    capacity: usize,
    hand: usize,
}

impl<K: Hash + Eq + Clone> Shard<K> {
    pub(crate) const fn new(capacity: usize) -> Self {
        Self {
            index: HashTable::new(),
            keys: Vec::new(),
            tats: Vec::new(),
            capacity,
            hand: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Decides `n` cells for `key` at `t0`; a new key that is admitted is inserted, evicting
    /// another when the shard is full.
    pub(crate) fn decide(
        &mut self,
        rules: &Rules,
        hasher: &impl BuildHasher,
        hash: u64,
        key: &K,
        t0: u64,
        n: NonZeroU32,
    ) -> (Verdict, Evicted) {
        let width = rules.width();
        let keys = &self.keys;
        let found = self
            .index
            .find(hash, |&slot| keys.get(slot as usize) == Some(key))
            .map(|&slot| slot as usize * width);
        if let Some(tats) = found.and_then(|start| self.tats.get_mut(start..start + width)) {
            return (rules.decide(tats, t0, n), Evicted::default());
        }
        let mut fresh = [0_u64; MAX_LIMITS];
        let fresh = fresh.get_mut(..width).unwrap_or_default();
        let verdict = rules.decide(fresh, t0, n);
        let evicted = if matches!(verdict, Verdict::Admitted(_)) {
            self.insert(hasher, hash, key.clone(), fresh, t0)
        } else {
            Evicted::default()
        };
        (verdict, evicted)
    }

    fn insert(
        &mut self,
        hasher: &impl BuildHasher,
        hash: u64,
        key: K,
        tats: &[u64],
        t0: u64,
    ) -> Evicted {
        let Self {
            index,
            keys,
            tats: all_tats,
            capacity,
            hand,
        } = self;
        if keys.len() < *capacity {
            index.insert_unique(hash, slot_number(keys.len()), |s| {
                keys_hash(hasher, keys, *s)
            });
            keys.push(key);
            all_tats.extend_from_slice(tats);
            return Evicted::default();
        }
        let width = tats.len();
        let Some((victim, live)) = choose_victim(all_tats, width, keys.len(), *hand, t0) else {
            return Evicted::default();
        };
        *hand = (victim + 1) % keys.len();
        let victim_hash = keys_hash(hasher, keys, slot_number(victim));
        if let Ok(entry) = index.find_entry(victim_hash, |&s| s as usize == victim) {
            entry.remove();
        }
        if let Some(old) = keys.get_mut(victim) {
            *old = key;
        }
        if let Some(old) = all_tats.get_mut(victim * width..(victim + 1) * width) {
            old.copy_from_slice(tats);
        }
        index.insert_unique(hash, slot_number(victim), |s| keys_hash(hasher, keys, *s));
        Evicted { any: true, live }
    }

    /// Drops every key whose state has refilled by `t0`, then rebuilds the index.
    pub(crate) fn retain_recent(&mut self, hasher: &impl BuildHasher, width: usize, t0: u64) {
        let mut kept = 0;
        for slot in 0..self.keys.len() {
            let start = slot * width;
            let settled = self
                .tats
                .get(start..start + width)
                .is_none_or(|tats| Rules::settled_at(tats) <= t0);
            if !settled {
                self.keys.swap(kept, slot);
                self.tats.copy_within(start..start + width, kept * width);
                kept += 1;
            }
        }
        self.keys.truncate(kept);
        self.tats.truncate(kept * width);
        self.keys.shrink_to_fit();
        self.tats.shrink_to_fit();
        self.hand = 0;
        self.index = HashTable::with_capacity(kept);
        let Self { index, keys, .. } = self;
        for (slot, key) in keys.iter().enumerate() {
            index.insert_unique(hasher.hash_one(key), slot_number(slot), |s| {
                keys_hash(hasher, keys, *s)
            });
        }
    }
}

/// The slab position as stored in the index (a shard holds far fewer than 2^32 keys).
fn slot_number(slot: usize) -> u32 {
    u32::try_from(slot).unwrap_or(u32::MAX)
}

fn keys_hash<K: Hash>(hasher: &impl BuildHasher, keys: &[K], slot: u32) -> u64 {
    keys.get(slot as usize).map_or(0, |k| hasher.hash_one(k))
}

/// The entry to evict: among [`EVICTION_WINDOW`] entries from `hand`, the first that has fully
/// refilled (forgetting it loses nothing), else the one that will refill soonest, which is the
/// least recently seen among keys that made one request and never a key being held back.
/// Returns the slot and whether its state was still live.
fn choose_victim(
    tats: &[u64],
    width: usize,
    len: usize,
    hand: usize,
    t0: u64,
) -> Option<(usize, bool)> {
    let mut best: Option<(u64, usize)> = None;
    for step in 0..EVICTION_WINDOW.min(len) {
        let slot = (hand + step) % len;
        let settled = tats
            .get(slot * width..(slot + 1) * width)
            .map_or(0, Rules::settled_at);
        if settled <= t0 {
            return Some((slot, false));
        }
        if best.is_none_or(|(soonest, _)| settled < soonest) {
            best = Some((settled, slot));
        }
    }
    best.map(|(_, slot)| (slot, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_entry_is_evicted_first() {
        // Three keys, one limit: slot 1 refilled at 5, the others later.
        let tats = [50, 5, 40];
        assert_eq!(choose_victim(&tats, 1, 3, 0, 10), Some((1, false)));
    }

    #[test]
    fn otherwise_the_entry_that_refills_soonest() {
        let tats = [50, 30, 40];
        assert_eq!(choose_victim(&tats, 1, 3, 0, 10), Some((1, true)));
    }

    #[test]
    fn the_window_starts_at_the_hand_and_wraps() {
        let tats: Vec<u64> = (0..20).map(|i| 100 + i).collect();
        // From hand 15 the window is 15..20 then 0..3; slot 0 refills soonest.
        assert_eq!(choose_victim(&tats, 1, 20, 15, 10), Some((0, true)));
        // From hand 2 the window is 2..10.
        assert_eq!(choose_victim(&tats, 1, 20, 2, 10), Some((2, true)));
    }

    #[test]
    fn with_several_limits_the_latest_tat_counts() {
        let tats = [5, 60, 30, 30];
        assert_eq!(choose_victim(&tats, 2, 2, 0, 10), Some((1, true)));
    }
}
