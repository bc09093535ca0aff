//! The data-key cache: unwrapped keys by id and each scope's current key, bounded, one load
//! per key however many callers wait on it, wiped when evicted.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use foldhash::fast::RandomState;
use moka::future::Cache;

use crate::algorithm::Cipher;
use crate::error::Result;
use crate::keys::{DataKeyId, KeyScope};
use crate::shared_error::shared;

/// An unwrapped data key, ready to use. Its cipher wipes the key schedule when the last
/// holder drops it (an eviction drops the cache's).
pub(crate) struct LoadedKey {
    pub(crate) id: DataKeyId,
    pub(crate) scope: KeyScope,
    pub(crate) kek_version: u32,
    /// When the cache must load it again (its lifetime in the cache).
    pub(crate) stale_at: Instant,
    /// When it stops encrypting new values (the data key's lifetime).
    pub(crate) retire_at: Instant,
    pub(crate) cipher: Cipher,
    pub(crate) encryptions: AtomicU64,
}

type HotMap<K> = HashMap<K, Arc<LoadedKey>, RandomState>;

/// A bounded cache: moka owns the entries (capacity, single-flight loads, eviction); a plain
/// map under a read-write lock mirrors them for the hit path, which then costs one
/// uncontended read lock and one hash.
pub(crate) struct KeyCache<K> {
    owner: Cache<K, Arc<LoadedKey>>,
    hot: Arc<RwLock<HotMap<K>>>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> KeyCache<K> {
    pub(crate) fn new(capacity: u64) -> Self {
        let hot: Arc<RwLock<HotMap<K>>> = Arc::default();
        let mirror = Arc::clone(&hot);
        let owner = Cache::builder()
            .max_capacity(capacity)
            .support_invalidation_closures()
            .eviction_listener(move |key: Arc<K>, value: Arc<LoadedKey>, _cause| {
                let mut hot = mirror.write().unwrap_or_else(PoisonError::into_inner);
                // Only the entry evicted: a newer one under the same key stays.
                if hot.get(&*key).is_some_and(|held| Arc::ptr_eq(held, &value)) {
                    hot.remove(&*key);
                }
            })
            .build();
        Self { owner, hot }
    }

    /// The cached key, unless it is stale at `now`.
    pub(crate) fn get(&self, key: &K, now: Instant) -> Option<Arc<LoadedKey>> {
        let hot = self.hot.read().unwrap_or_else(PoisonError::into_inner);
        hot.get(key).filter(|loaded| now < loaded.stale_at).cloned()
    }

    /// The cached key, or the one `load` makes (one load at a time per key: concurrent
    /// callers wait for it and share its result).
    pub(crate) async fn get_or_load(
        &self,
        key: &K,
        now: Instant,
        load: impl Future<Output = Result<Arc<LoadedKey>>>,
    ) -> Result<Arc<LoadedKey>> {
        if let Some(loaded) = self.owner.get(key).await {
            if now < loaded.stale_at {
                self.mirror(key, &loaded);
                return Ok(loaded);
            }
            self.remove(key).await;
        }
        let loaded = self
            .owner
            .try_get_with(key.clone(), load)
            .await
            .map_err(shared)?;
        self.mirror(key, &loaded);
        Ok(loaded)
    }

    pub(crate) async fn insert(&self, key: K, loaded: Arc<LoadedKey>) {
        self.mirror(&key, &loaded);
        self.owner.insert(key, loaded).await;
    }

    pub(crate) async fn remove(&self, key: &K) {
        self.hot
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        self.owner.invalidate(key).await;
    }

    /// Forgets every key of `scope`.
    pub(crate) async fn remove_scope(&self, scope: &KeyScope) {
        self.hot
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, loaded| &loaded.scope != scope);
        let scope = scope.clone();
        // Fails only when closures are not supported, and they are (see `new`).
        let _ = self
            .owner
            .invalidate_entries_if(move |_, loaded| loaded.scope == scope);
        self.owner.run_pending_tasks().await;
    }

    pub(crate) fn len(&self) -> u64 {
        self.owner.entry_count()
    }

    fn mirror(&self, key: &K, loaded: &Arc<LoadedKey>) {
        self.hot
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), Arc::clone(loaded));
    }
}

/// The keys an envelope holds: by id (for decryption) and by scope (the one that encrypts).
pub(crate) struct KeyCaches {
    pub(crate) by_id: KeyCache<DataKeyId>,
    pub(crate) current: KeyCache<KeyScope>,
}
