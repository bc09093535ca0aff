//! `MemoryCodes`: one-time codes in this process, bounded.

use std::sync::Arc;
use std::time::Duration;

use moka::policy::EvictionPolicy;
use zeroize::Zeroizing;

use super::store::{CodeDigest, CodeStore, StoreFuture};

/// One-time codes kept in this process (one instance, or codes redeemed where they were
/// issued): at most `capacity` records (default 100,000), the least recently issued dropped
/// first when full, none kept past the longest lifetime. Records are zeroized when dropped.
#[derive(Debug, Clone)]
pub struct MemoryCodes {
    records: moka::sync::Cache<CodeDigest, Arc<Zeroizing<Vec<u8>>>>,
}

impl MemoryCodes {
    /// A store for at most `capacity` codes, each kept at most `longest_lifetime`.
    #[must_use]
    pub fn new(capacity: u64, longest_lifetime: Duration) -> Self {
        Self {
            records: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .eviction_policy(EvictionPolicy::lru())
                .time_to_live(longest_lifetime)
                .build(),
        }
    }
}

impl Default for MemoryCodes {
    /// 100,000 codes of up to 24 hours.
    fn default() -> Self {
        Self::new(100_000, Duration::from_secs(24 * 3600))
    }
}

impl CodeStore for MemoryCodes {
    fn put<'a>(
        &'a self,
        digest: &'a CodeDigest,
        record: Zeroizing<Vec<u8>>,
        _lifetime: Duration,
    ) -> StoreFuture<'a, ()> {
        self.records.insert(*digest, Arc::new(record));
        StoreFuture::new(std::future::ready(Ok(())))
    }

    fn take<'a>(&'a self, digest: &'a CodeDigest) -> StoreFuture<'a, Option<Zeroizing<Vec<u8>>>> {
        // `remove` is atomic per key: one of many concurrent takes gets the record.
        let taken = self.records.remove(digest).map(|record| {
            Arc::try_unwrap(record).unwrap_or_else(|shared| Zeroizing::new(shared.to_vec()))
        });
        StoreFuture::new(std::future::ready(Ok(taken)))
    }
}
