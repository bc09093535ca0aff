//! `DataKeyStore`: where wrapped data keys are kept, by id and by scope.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::algorithm::Algorithm;
use crate::keys::{DataKeyId, KeyName, KeyScope};
use crate::wrapper::{KeyFuture, WrappedKey};

/// A wrapped data key as a store keeps it. Nothing here is secret: the key itself is wrapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The data key's id (the reference every ciphertext carries).
    pub id: DataKeyId,
    /// The keyring it belongs to.
    pub key_name: KeyName,
    /// Whose key it is.
    pub scope: KeyScope,
    /// The algorithm it is used with.
    pub algorithm: Algorithm,
    /// The wrapped key.
    pub wrapped: WrappedKey,
    /// When it was created, in seconds since the Unix epoch.
    pub created_at: u64,
}

/// Where wrapped data keys live: a table, a collection, memory. Destroying a scope's keys is
/// crypto-shredding: everything encrypted under them becomes unreadable for good (backups of
/// the store aside: keep the store's backups shorter-lived than your erasure promise).
///
/// Object safe; methods return a [`KeyFuture`].
pub trait DataKeyStore: Send + Sync + Debug {
    /// The key with this id, if it exists.
    ///
    /// # Errors
    /// [`CryptError::Store`](crate::CryptError::Store) when the store cannot be read.
    fn load<'a>(&'a self, id: &'a DataKeyId) -> KeyFuture<'a, Option<StoredKey>>;

    /// The newest key of `scope` in keyring `key_name` created at or after `not_before`
    /// (seconds since the Unix epoch), if any.
    ///
    /// # Errors
    /// [`CryptError::Store`](crate::CryptError::Store) when the store cannot be read.
    fn current<'a>(
        &'a self,
        key_name: &'a KeyName,
        scope: &'a KeyScope,
        not_before: u64,
    ) -> KeyFuture<'a, Option<StoredKey>>;

    /// Stores a new key, unless its scope was destroyed: a key stored by a writer racing the
    /// destruction must not survive it.
    ///
    /// # Errors
    /// [`CryptError::KeyDestroyed`](crate::CryptError::KeyDestroyed) when the scope was
    /// destroyed (before or during this call); [`CryptError::Store`](crate::CryptError::Store)
    /// when the store cannot be written.
    fn insert<'a>(&'a self, key: &'a StoredKey) -> KeyFuture<'a, ()>;

    /// Deletes every key of `scope` (in every keyring) and records that the scope was
    /// destroyed, so no key is stored for it again; returns how many keys there were.
    /// Stores record the destruction before deleting, and check it after inserting, so a
    /// key inserted concurrently is either deleted here or refused there.
    ///
    /// # Errors
    /// [`CryptError::Store`](crate::CryptError::Store) when the store cannot be written.
    fn destroy_scope<'a>(&'a self, scope: &'a KeyScope) -> KeyFuture<'a, u64>;
}

/// A [`DataKeyStore`] in memory, for tests and single-process tools: its keys die with the
/// process. Counts its reads, so tests can see the cache at work.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    keys: Mutex<HashMap<DataKeyId, StoredKey>>,
    destroyed: Mutex<std::collections::HashSet<KeyScope>>,
    loads: AtomicU64,
}

impl MemoryKeyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times [`load`](DataKeyStore::load) was called.
    #[must_use]
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// How many keys it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.with(|keys| keys.len())
    }

    /// Whether it holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<DataKeyId, StoredKey>) -> T) -> T {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut keys)
    }
}

impl DataKeyStore for MemoryKeyStore {
    fn load<'a>(&'a self, id: &'a DataKeyId) -> KeyFuture<'a, Option<StoredKey>> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        KeyFuture::ready(Ok(self.with(|keys| keys.get(id).cloned())))
    }

    fn current<'a>(
        &'a self,
        key_name: &'a KeyName,
        scope: &'a KeyScope,
        not_before: u64,
    ) -> KeyFuture<'a, Option<StoredKey>> {
        KeyFuture::ready(Ok(self.with(|keys| {
            keys.values()
                .filter(|k| &k.key_name == key_name && &k.scope == scope)
                .filter(|k| k.created_at >= not_before)
                .max_by_key(|k| (k.created_at, k.id))
                .cloned()
        })))
    }

    fn insert<'a>(&'a self, key: &'a StoredKey) -> KeyFuture<'a, ()> {
        let destroyed = self
            .destroyed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if destroyed.contains(&key.scope) {
            return KeyFuture::ready(Err(crate::CryptError::KeyDestroyed));
        }
        self.with(|keys| keys.insert(key.id, key.clone()));
        KeyFuture::ready(Ok(()))
    }

    fn destroy_scope<'a>(&'a self, scope: &'a KeyScope) -> KeyFuture<'a, u64> {
        let mut destroyed = self
            .destroyed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        destroyed.insert(scope.clone());
        let removed = self.with(|keys| {
            let before = keys.len();
            keys.retain(|_, k| &k.scope != scope);
            before - keys.len()
        });
        KeyFuture::ready(Ok(u64::try_from(removed).unwrap_or(u64::MAX)))
    }
}
