//! `EnvelopeOptions`: the algorithm, the data-key cache and the limits on one data key.

use std::num::NonZeroU64;
use std::time::Duration;

use crate::algorithm::Algorithm;

/// How an [`Envelope`](crate::Envelope) encrypts and caches.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeOptions {
    /// The AEAD new data keys are generated for (old ones keep theirs).
    pub algorithm: Algorithm,
    /// How many unwrapped data keys the cache holds (least recently used go first, zeroized).
    pub cache_capacity: NonZeroU64,
    /// How long an unwrapped data key stays in the cache. It bounds how long another instance
    /// keeps decrypting after a scope is shredded, and how long a revoked key-encryption key
    /// keeps working here.
    pub cache_ttl: Duration,
    /// How long one data key encrypts new values before its scope gets a new one. Older keys
    /// still decrypt, and report [`rotate_due`](crate::Decrypted::rotate_due).
    pub key_lifetime: Duration,
    /// How many values this process encrypts under one data key before starting a new one.
    /// With random 96-bit nonces, AES-GCM stays within NIST's bound (a nonce repeat below
    /// 2^-32) for 2^32 messages per key; the default, 2^28, leaves room for 16 instances
    /// sharing a scope's key within one `key_lifetime`.
    pub max_messages_per_key: NonZeroU64,
}

impl EnvelopeOptions {
    /// The default cache capacity.
    pub const DEFAULT_CACHE_CAPACITY: NonZeroU64 = match NonZeroU64::new(10_000) {
        Some(n) => n,
        None => NonZeroU64::MIN,
    };
    /// The default cache lifetime: 5 minutes.
    pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
    /// The default data key lifetime: 30 days.
    pub const DEFAULT_KEY_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
    /// The default message limit per data key and process: 2^28.
    pub const DEFAULT_MAX_MESSAGES_PER_KEY: NonZeroU64 = match NonZeroU64::new(1 << 28) {
        Some(n) => n,
        None => NonZeroU64::MIN,
    };
    /// The defaults: AES-256-GCM and the constants above.
    pub const DEFAULT: Self = Self {
        algorithm: Algorithm::Aes256Gcm,
        cache_capacity: Self::DEFAULT_CACHE_CAPACITY,
        cache_ttl: Self::DEFAULT_CACHE_TTL,
        key_lifetime: Self::DEFAULT_KEY_LIFETIME,
        max_messages_per_key: Self::DEFAULT_MAX_MESSAGES_PER_KEY,
    };
}

impl Default for EnvelopeOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}
