//! `Envelope`: encrypts values under per-scope data keys wrapped by a `KeyWrapper`.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use palisade_clock::{Clock, SharedClock};

use crate::algorithm::Cipher;
use crate::context::Context;
use crate::error::{CryptError, Result};
use crate::format::{Ciphertext, MAX_PLAINTEXT_LEN, NONCE_LEN, TAG_LEN, write_header};
use crate::key_cache::{KeyCache, KeyCaches, LoadedKey};
use crate::keys::{DataKey, DataKeyId, KeyName, KeyScope};
use crate::nonce::random_nonce;
use crate::options::EnvelopeOptions;
use crate::plaintext::{Decrypted, Plaintext};
use crate::store::{DataKeyStore, StoredKey};
use crate::wrapper::{KeyWrapper, WrapContext};

thread_local! {
    /// Scratch space for associated data (header and context), reused by every call on the
    /// thread: nothing secret goes in it.
    static AAD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the associated data of `header` and `context`.
fn with_aad<T>(header: &[u8], context: &Context, f: impl FnOnce(&[u8]) -> T) -> T {
    AAD.with(|aad| match aad.try_borrow_mut() {
        Ok(mut aad) => {
            aad.clear();
            aad.extend_from_slice(header);
            context.encode_into(&mut aad);
            f(&aad)
        }
        // Re-entered on this thread (cannot happen: `f` does not call back): a fresh buffer.
        Err(_) => {
            let mut aad = header.to_vec();
            context.encode_into(&mut aad);
            f(&aad)
        }
    })
}

/// Envelope encryption of fields: each [`KeyScope`] (a user, a tenant) gets data keys,
/// generated and wrapped by a [`KeyWrapper`] (KMS, Vault Transit, a local key) and kept
/// wrapped in a [`DataKeyStore`]; values are encrypted under them with AES-256-GCM (or
/// GCM-SIV), bound to a [`Context`]. Unwrapped keys are cached (bounded, with a lifetime,
/// one unwrap per key however many callers ask at once, zeroized on eviction), so a hot
/// field costs no call to the key store.
///
/// ```
/// use std::sync::Arc;
/// use palisade_crypt::{Context, Envelope, KeyName, KeyScope, LocalKeyWrapper, MemoryKeyStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let envelope = Envelope::new(
///     KeyName::new("pii")?,
///     Arc::new(LocalKeyWrapper::random()?),
///     Arc::new(MemoryKeyStore::new()),
/// );
/// let scope = KeyScope::new("user:42")?;
/// let context = Context::new().with("table", "patients")?.with("field", "ssn")?.with("id", "7")?;
/// let sealed = envelope.encrypt(&scope, &context, b"078-05-1120").await?;
/// let opened = envelope.decrypt(&context, &sealed).await?;
/// assert_eq!(opened.plaintext.expose_bytes(), b"078-05-1120");
///
/// // Another row: the same ciphertext does not decrypt.
/// let elsewhere = Context::new().with("table", "patients")?.with("field", "ssn")?.with("id", "8")?;
/// assert!(envelope.decrypt(&elsewhere, &sealed).await.is_err());
/// # Ok::<(), palisade_crypt::CryptError>(())
/// # }).unwrap();
/// ```
pub struct Envelope {
    key_name: KeyName,
    wrapper: Arc<dyn KeyWrapper>,
    store: Arc<dyn DataKeyStore>,
    options: EnvelopeOptions,
    clock: SharedClock,
    caches: KeyCaches,
}

impl Envelope {
    /// An envelope for keyring `key_name` with the default options and the system clock.
    #[must_use]
    pub fn new(
        key_name: KeyName,
        wrapper: Arc<dyn KeyWrapper>,
        store: Arc<dyn DataKeyStore>,
    ) -> Self {
        Self::with_options(key_name, wrapper, store, EnvelopeOptions::DEFAULT)
    }

    /// An envelope with `options`.
    #[must_use]
    pub fn with_options(
        key_name: KeyName,
        wrapper: Arc<dyn KeyWrapper>,
        store: Arc<dyn DataKeyStore>,
        options: EnvelopeOptions,
    ) -> Self {
        Self::with_clock(key_name, wrapper, store, options, SharedClock::system())
    }

    /// An envelope reading time from `clock` (cache lifetimes, key lifetimes, creation times).
    #[must_use]
    pub fn with_clock(
        key_name: KeyName,
        wrapper: Arc<dyn KeyWrapper>,
        store: Arc<dyn DataKeyStore>,
        options: EnvelopeOptions,
        clock: SharedClock,
    ) -> Self {
        let capacity = options.cache_capacity.get();
        Self {
            key_name,
            wrapper,
            store,
            clock,
            caches: KeyCaches {
                by_id: KeyCache::new(capacity),
                current: KeyCache::new(capacity),
            },
            options,
        }
    }

    /// The keyring's name.
    #[must_use]
    pub fn key_name(&self) -> &KeyName {
        &self.key_name
    }

    /// The options.
    #[must_use]
    pub fn options(&self) -> &EnvelopeOptions {
        &self.options
    }

    /// Encrypts `plaintext` under `scope`'s current data key (creating one on first use),
    /// bound to `context`.
    ///
    /// # Errors
    /// [`CryptError::PlaintextTooLong`] past 16 MiB; [`CryptError::KeyDestroyed`] when the
    /// scope was shredded; [`CryptError::Wrapper`] or [`CryptError::Store`] when a new data
    /// key cannot be made or stored.
    pub async fn encrypt(
        &self,
        scope: &KeyScope,
        context: &Context,
        plaintext: &[u8],
    ) -> Result<Ciphertext> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(CryptError::PlaintextTooLong {
                max: MAX_PLAINTEXT_LEN,
            });
        }
        let key = self.current_key(scope).await?;
        let nonce = random_nonce()?;
        let header_len = 3 + self.key_name.as_str().len() + 4 + DataKeyId::LEN + NONCE_LEN;
        let mut out = [0u8; 3 + 64 + 4 + DataKeyId::LEN + NONCE_LEN];
        write_header(
            &mut out,
            key.cipher.algorithm(),
            &self.key_name,
            key.kek_version,
            &key.id,
            &nonce,
        );
        let header = out.get(..header_len).ok_or(CryptError::Undecryptable)?;
        with_aad(header, context, |aad| -> Result<Vec<u8>> {
            let mut sealed = Vec::with_capacity(header_len + plaintext.len() + TAG_LEN);
            sealed.extend_from_slice(aad.get(..header_len).unwrap_or_default());
            sealed.extend_from_slice(plaintext);
            key.cipher.seal(&nonce, aad, &mut sealed, header_len)?;
            Ok(sealed)
        })
        .and_then(Ciphertext::from_bytes)
    }

    /// Decrypts a ciphertext bound to `context`.
    ///
    /// # Errors
    /// [`CryptError::Undecryptable`] when it does not open (wrong context, another keyring,
    /// altered bytes); [`CryptError::KeyDestroyed`] when its data key was shredded;
    /// [`CryptError::Wrapper`] or [`CryptError::Store`] when its data key cannot be fetched.
    pub async fn decrypt(&self, context: &Context, ciphertext: &Ciphertext) -> Result<Decrypted> {
        if ciphertext.key_name() != self.key_name.as_str() {
            return Err(CryptError::Undecryptable);
        }
        let now = self.clock.now_coarse();
        let key = self.key(ciphertext.data_key_id(), now).await?;
        if key.cipher.algorithm() != ciphertext.algorithm()
            || key.kek_version != ciphertext.key_version()
        {
            return Err(CryptError::Undecryptable);
        }
        let (header, body) = ciphertext.split();
        let nonce = header
            .get(header.len() - NONCE_LEN..)
            .ok_or(CryptError::Undecryptable)?;
        let plaintext = with_aad(header, context, |aad| key.cipher.open(nonce, aad, body))?;
        Ok(Decrypted {
            plaintext: Plaintext::new(plaintext),
            rotate_due: key.cipher.algorithm() != self.options.algorithm || self.retired(&key, now),
        })
    }

    /// Destroys every data key of `scope` (crypto-shredding): everything encrypted under them
    /// becomes unreadable here at once, and in other instances within
    /// [`cache_ttl`](EnvelopeOptions::cache_ttl). Returns how many keys were destroyed. The
    /// scope stays destroyed: encrypting for it again is [`CryptError::KeyDestroyed`] (a
    /// write racing an erasure cannot leave readable data behind); use a new scope for a new
    /// owner.
    ///
    /// # Errors
    /// [`CryptError::Store`] when the store cannot be written (nothing is forgotten here then,
    /// so a retry sees the same state).
    pub async fn shred(&self, scope: &KeyScope) -> Result<u64> {
        let destroyed = self.store.destroy_scope(scope).await?;
        self.caches.current.remove(scope).await;
        self.caches.by_id.remove_scope(scope).await;
        Ok(destroyed)
    }

    /// Whether a key should encrypt nothing new: past its lifetime, or wrapped by a
    /// key-encryption key version that is no longer the newest.
    fn retired(&self, key: &LoadedKey, now: Instant) -> bool {
        now >= key.retire_at || self.wrapper.rotate_due(key.kek_version)
    }

    fn unix_now(&self) -> u64 {
        self.clock
            .system_now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    async fn current_key(&self, scope: &KeyScope) -> Result<Arc<LoadedKey>> {
        let now = self.clock.now_coarse();
        let key = match self.caches.current.get(scope, now) {
            Some(key) => key,
            None => {
                self.caches
                    .current
                    .get_or_load(scope, now, self.load_current(scope))
                    .await?
            }
        };
        let used = key.encryptions.fetch_add(1, Ordering::Relaxed);
        if used < self.options.max_messages_per_key.get() && !self.retired(&key, now) {
            return Ok(key);
        }
        // Spent, too old or wrapped by an old version: the scope gets a new key, used as it
        // comes whatever the options say (so a zero lifetime cannot loop).
        self.caches.current.remove(scope).await;
        let key = self
            .caches
            .current
            .get_or_load(scope, now, self.generate(scope))
            .await?;
        key.encryptions.fetch_add(1, Ordering::Relaxed);
        Ok(key)
    }

    async fn load_current(&self, scope: &KeyScope) -> Result<Arc<LoadedKey>> {
        let not_before = self
            .unix_now()
            .saturating_sub(self.options.key_lifetime.as_secs())
            .saturating_add(1);
        match self
            .store
            .current(&self.key_name, scope, not_before)
            .await?
        {
            Some(stored)
                if stored.algorithm == self.options.algorithm
                    && !self.wrapper.rotate_due(stored.wrapped.kek_version) =>
            {
                let id = stored.id;
                let now = self.clock.now();
                self.caches
                    .by_id
                    .get_or_load(&id, now, self.unwrap_stored(stored))
                    .await
            }
            _ => self.generate(scope).await,
        }
    }

    async fn generate(&self, scope: &KeyScope) -> Result<Arc<LoadedKey>> {
        let context = WrapContext {
            key_name: self.key_name.clone(),
            data_key: DataKeyId::random()?,
            scope: scope.clone(),
            algorithm: self.options.algorithm,
        };
        let generated = self.wrapper.generate(&context).await?;
        let stored = StoredKey {
            id: context.data_key,
            key_name: context.key_name,
            scope: context.scope,
            algorithm: context.algorithm,
            wrapped: generated.wrapped,
            created_at: self.unix_now(),
        };
        self.store.insert(&stored).await?;
        let key = self.loaded(&stored, &generated.key);
        self.caches.by_id.insert(key.id, Arc::clone(&key)).await;
        Ok(key)
    }

    async fn key(&self, id: DataKeyId, now: Instant) -> Result<Arc<LoadedKey>> {
        if let Some(key) = self.caches.by_id.get(&id, now) {
            return Ok(key);
        }
        self.caches
            .by_id
            .get_or_load(&id, now, async move {
                let stored = self
                    .store
                    .load(&id)
                    .await?
                    .ok_or(CryptError::KeyDestroyed)?;
                if stored.key_name != self.key_name || stored.id != id {
                    return Err(CryptError::Undecryptable);
                }
                self.unwrap_stored(stored).await
            })
            .await
    }

    async fn unwrap_stored(&self, stored: StoredKey) -> Result<Arc<LoadedKey>> {
        let context = WrapContext {
            key_name: stored.key_name.clone(),
            data_key: stored.id,
            scope: stored.scope.clone(),
            algorithm: stored.algorithm,
        };
        let key = self.wrapper.unwrap_key(&stored.wrapped, &context).await?;
        Ok(self.loaded(&stored, &key))
    }

    /// A key ready for the cache, its deadlines read from the clock now.
    fn loaded(&self, stored: &StoredKey, key: &DataKey) -> Arc<LoadedKey> {
        let now = self.clock.now();
        let age = Duration::from_secs(self.unix_now().saturating_sub(stored.created_at));
        let left = self.options.key_lifetime.saturating_sub(age);
        Arc::new(LoadedKey {
            id: stored.id,
            scope: stored.scope.clone(),
            kek_version: stored.wrapped.kek_version,
            stale_at: now + self.options.cache_ttl,
            retire_at: now + left,
            cipher: Cipher::new(stored.algorithm, key),
            encryptions: AtomicU64::new(0),
        })
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("key_name", &self.key_name)
            .field("wrapper", &self.wrapper.kind())
            .field("algorithm", &self.options.algorithm)
            .field("cached_keys", &self.caches.by_id.len())
            .finish_non_exhaustive()
    }
}
