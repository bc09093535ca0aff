//! `KeyedLimiter`: one state per client, in a bounded table.

mod shard;

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use palisade_clock::{Clock, SharedClock};

use crate::settings::{Configured, Mode, Settings};
use crate::{Admitted, ClientKey, InsufficientCapacity, NotUntil, Spec};

use self::shard::Shard;

/// The most shards a table is split into.
const MAX_SHARDS: usize = 16;
/// The fewest keys a shard is made for: each shard has its own share of the cap, so small
/// shards would fill unevenly and evict while others still had room.
const MIN_SHARD_KEYS: usize = 4_096;

/// A power of two up to [`MAX_SHARDS`], with at least [`MIN_SHARD_KEYS`] keys a shard.
fn shard_count(max_keys: NonZeroUsize) -> usize {
    let wanted = (max_keys.get() / MIN_SHARD_KEYS).clamp(1, MAX_SHARDS);
    1 << wanted.ilog2()
}

/// A rate limiter with one state per client key and a cap on how many keys it tracks.
///
/// The table never holds more than [`max_keys`](Self::max_keys) keys whatever the key churn.
/// When it is full, a new key takes the place of one that has fully refilled (forgetting it
/// loses nothing) or else of the one that will refill soonest among a few looked at: a key that
/// made one request long ago goes before a key that is being held back, so flooding the table
/// with fresh addresses does not reset a limited client.
///
/// ```
/// use std::num::NonZeroUsize;
/// use std::sync::Arc;
/// use palisade_ratelimit::{ClientKey, IpGrouping, KeyedLimiter, Settings};
///
/// let max_keys = NonZeroUsize::new(10_000).ok_or("zero")?;
/// let settings = Settings::new("2/minute".parse()?).with_max_keys(max_keys);
/// let limiter: KeyedLimiter = KeyedLimiter::with_clock(&settings, Arc::new(palisade_test::FakeClock::new()));
/// let client = IpGrouping::DEFAULT.key("2001:db8::1".parse()?);
/// assert!(limiter.check_key(&client).is_ok());
/// assert!(limiter.check_key(&client).is_ok());
/// let refused = limiter.check_key(&client).unwrap_err();
/// assert_eq!(refused.wait(), std::time::Duration::from_secs(30));
/// // Another address in the same /56 is the same client.
/// assert!(limiter.check_key(&IpGrouping::DEFAULT.key("2001:db8:0:ff::9".parse()?)).is_err());
/// // Someone else is not.
/// assert!(limiter.check_key(&ClientKey::user("alice")).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyedLimiter<K = ClientKey> {
    configured: Configured,
    shards: Box<[Mutex<Shard<K>>]>,
    shard_bits: u32,
    max_keys: NonZeroUsize,
    hasher: foldhash::quality::RandomState,
    clock: SharedClock,
    /// The clock's `monotonic_nanos` when the limiter was made: TATs count from here.
    epoch: u64,
    evictions: AtomicU64,
    live_evictions: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limiter for these settings on the system clock.
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        Self::with_shared_clock(settings, SharedClock::system())
    }

    /// A limiter for these settings on `clock`.
    #[must_use]
    pub fn with_clock(settings: &Settings, clock: Arc<dyn Clock>) -> Self {
        Self::with_shared_clock(settings, SharedClock::new(clock))
    }

    fn with_shared_clock(settings: &Settings, clock: SharedClock) -> Self {
        let max_keys = settings.max_keys();
        let shard_count = shard_count(max_keys);
        let base = max_keys.get() / shard_count;
        let extra = max_keys.get() % shard_count;
        let shards = (0..shard_count)
            .map(|i| Mutex::new(Shard::new(base + usize::from(i < extra))))
            .collect();
        Self {
            configured: Configured::new(settings),
            shards,
            shard_bits: shard_count.trailing_zeros(),
            max_keys,
            hasher: foldhash::quality::RandomState::default(),
            epoch: clock.monotonic_nanos(),
            clock,
            evictions: AtomicU64::new(0),
            live_evictions: AtomicU64::new(0),
        }
    }

    /// A limiter that admits everything and tracks nothing, for tests; its `Debug` says so.
    #[must_use]
    pub fn disabled(spec: Spec) -> Self {
        Self::new(&Settings::new(spec).with_mode(Mode::Disabled))
    }

    /// Decides one request from `key`.
    ///
    /// # Errors
    /// [`NotUntil`] when a limit is spent for now; nothing was counted.
    pub fn check_key(&self, key: &K) -> Result<Admitted, NotUntil> {
        self.decide(key, NonZeroU32::MIN)
    }

    /// Decides `n` requests from `key` at once: all of them or none.
    ///
    /// # Errors
    /// The outer [`InsufficientCapacity`] when `n` exceeds a limit's burst (it can never pass);
    /// the inner [`NotUntil`] when it cannot pass yet.
    pub fn check_key_n(
        &self,
        key: &K,
        n: NonZeroU32,
    ) -> Result<Result<Admitted, NotUntil>, InsufficientCapacity> {
        self.configured.rules.capacity_for(n)?;
        Ok(self.decide(key, n))
    }

    fn decide(&self, key: &K, n: NonZeroU32) -> Result<Admitted, NotUntil> {
        if let Some(admitted) = self.configured.bypass() {
            return Ok(admitted);
        }
        let hash = self.hasher.hash_one(key);
        let t0 = self.clock.monotonic_nanos().saturating_sub(self.epoch);
        let (verdict, evicted) =
            self.shard(hash)
                .decide(&self.configured.rules, &self.hasher, hash, key, t0, n);
        if evicted.any {
            self.evictions.fetch_add(1, Ordering::Relaxed);
            if evicted.live {
                self.live_evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        verdict.into_result(&self.clock)
    }

    /// Forgets every key whose state has fully refilled (indistinguishable from a new key), and
    /// gives the memory back. Run it now and then (governor's `retain_recent`).
    pub fn retain_recent(&self) {
        let t0 = self.clock.monotonic_nanos().saturating_sub(self.epoch);
        for shard in &self.shards {
            lock(shard).retain_recent(&self.hasher, self.configured.rules.width(), t0);
        }
    }

    /// How many keys the table tracks now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether the table tracks no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cap on tracked keys.
    #[must_use]
    pub const fn max_keys(&self) -> NonZeroUsize {
        self.max_keys
    }

    /// How many keys were evicted to make room, and how many of those still held state.
    #[must_use]
    pub fn evictions(&self) -> Evictions {
        Evictions {
            total: self.evictions.load(Ordering::Relaxed),
            live: self.live_evictions.load(Ordering::Relaxed),
        }
    }

    /// The settings this limiter was made with.
    #[must_use]
    pub const fn settings(&self) -> &Settings {
        &self.configured.settings
    }

    fn shard(&self, hash: u64) -> MutexGuard<'_, Shard<K>> {
        // Middle bits: hashbrown reads the top 7 bits and the low bits itself.
        let mask = (1_u64 << self.shard_bits) - 1;
        let index = usize::try_from((hash >> 32) & mask).unwrap_or(0);
        match self.shards.get(index) {
            Some(shard) => lock(shard),
            None => unreachable!("the shard mask keeps the index below the shard count"),
        }
    }
}

/// A shard's lock; nothing panics while one is held, but a poisoned lock is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Eviction counts of a [`KeyedLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evictions {
    /// Keys evicted to make room for new ones.
    pub total: u64,
    /// Of those, keys whose state had not refilled yet (each one a client whose limit was
    /// forgotten early). Growing steadily means `max_keys` is too small for the traffic.
    pub live: u64,
}

impl<K> fmt::Debug for KeyedLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.configured
            .debug("KeyedLimiter", f)
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}
