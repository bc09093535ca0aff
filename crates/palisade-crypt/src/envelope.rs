//! `Envelope`: encrypts values under per-scope data keys wrapped by a `KeyWrapper`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, UNIX_EPOCH};

use moka::future::Cache;
use palisade_clock::{Clock, SharedClock};

use crate::algorithm::{Cipher, random_nonce};
use crate::context::Context;
use crate::error::{CryptError, Result};
use crate::format::{Ciphertext, MAX_PLAINTEXT_LEN, NONCE_LEN, TAG_LEN, write_header};
use crate::keys::{DataKeyId, KeyName, KeyScope};
use crate::options::EnvelopeOptions;
use crate::plaintext::{Decrypted, Plaintext};
use crate::shared_error::shared;
use crate::store::{DataKeyStore, StoredKey};
use crate::wrapper::{KeyWrapper, WrapContext};

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
    /// Unwrapped keys by id, for decryption (and the current keys too).
    keys: Cache<DataKeyId, Arc<LoadedKey>>,
    /// The key each scope encrypts with now.
    current: Cache<KeyScope, Arc<LoadedKey>>,
}

/// An unwrapped data key in the cache. Its cipher zeroizes its key schedule on drop.
struct LoadedKey {
    id: DataKeyId,
    scope: KeyScope,
    kek_version: u32,
    created_at: u64,
    loaded_at: Instant,
    cipher: Cipher,
    encryptions: AtomicU64,
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
            keys: Cache::builder()
                .max_capacity(capacity)
                .support_invalidation_closures()
                .build(),
            current: Cache::builder().max_capacity(capacity).build(),
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
    /// [`CryptError::PlaintextTooLong`] past 16 MiB; [`CryptError::Wrapper`] or
    /// [`CryptError::Store`] when a new data key cannot be made or stored.
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
        let mut out = Vec::with_capacity(header_len + plaintext.len() + TAG_LEN);
        write_header(
            &mut out,
            key.cipher.algorithm(),
            &self.key_name,
            key.kek_version,
            &key.id,
            &nonce,
        );
        let mut aad = Vec::with_capacity(header_len + 64);
        aad.extend_from_slice(&out);
        context.encode_into(&mut aad);
        out.extend_from_slice(plaintext);
        key.cipher.seal(&nonce, &aad, &mut out, header_len)?;
        Ciphertext::from_bytes(out)
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
        let key = self.key(ciphertext.data_key_id()).await?;
        if key.cipher.algorithm() != ciphertext.algorithm()
            || key.kek_version != ciphertext.key_version()
        {
            return Err(CryptError::Undecryptable);
        }
        let (header, body) = ciphertext.split();
        let nonce = header
            .get(header.len() - NONCE_LEN..)
            .ok_or(CryptError::Undecryptable)?;
        let mut aad = Vec::with_capacity(header.len() + 64);
        aad.extend_from_slice(header);
        context.encode_into(&mut aad);
        let plaintext = key.cipher.open(nonce, &aad, body)?;
        Ok(Decrypted {
            plaintext: Plaintext::new(plaintext),
            rotate_due: self.rotate_due(&key),
        })
    }

    /// Destroys every data key of `scope` (crypto-shredding): everything encrypted under them
    /// becomes unreadable here at once, and in other instances within
    /// [`cache_ttl`](EnvelopeOptions::cache_ttl). Returns how many keys were destroyed. The
    /// scope's next encryption starts a new key.
    ///
    /// # Errors
    /// [`CryptError::Store`] when the store cannot be written (nothing is forgotten here then,
    /// so a retry sees the same state).
    pub async fn shred(&self, scope: &KeyScope) -> Result<u64> {
        let destroyed = self.store.destroy_scope(scope).await?;
        self.current.invalidate(scope).await;
        let scope = scope.clone();
        // Only fails when closures are not supported, and they are (see `with_clock`).
        let _ = self
            .keys
            .invalidate_entries_if(move |_, key| key.scope == scope);
        self.keys.run_pending_tasks().await;
        Ok(destroyed)
    }

    fn rotate_due(&self, key: &LoadedKey) -> bool {
        key.cipher.algorithm() != self.options.algorithm || self.retired(key)
    }

    fn unix_now(&self) -> u64 {
        self.clock
            .system_now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn fresh(&self, key: &LoadedKey) -> bool {
        self.clock.now().saturating_duration_since(key.loaded_at) < self.options.cache_ttl
    }

    async fn current_key(&self, scope: &KeyScope) -> Result<Arc<LoadedKey>> {
        let key = match self.current.get(scope).await {
            Some(key) if self.fresh(&key) => key,
            stale => {
                if stale.is_some() {
                    self.current.invalidate(scope).await;
                }
                self.current
                    .try_get_with(scope.clone(), self.load_current(scope))
                    .await
                    .map_err(shared)?
            }
        };
        let used = key.encryptions.fetch_add(1, Ordering::Relaxed);
        if used < self.options.max_messages_per_key.get() && !self.retired(&key) {
            return Ok(key);
        }
        // Spent, too old, or wrapped by a key-encryption key version that is no longer the
        // newest: the scope gets a new key (used as it comes, whatever the options say, so a
        // zero lifetime cannot loop).
        self.current.invalidate(scope).await;
        self.fresh_key(scope).await
    }

    /// Whether a key should encrypt nothing new.
    fn retired(&self, key: &LoadedKey) -> bool {
        self.unix_now().saturating_sub(key.created_at) >= self.options.key_lifetime.as_secs()
            || self.wrapper.rotate_due(key.kek_version)
    }

    async fn fresh_key(&self, scope: &KeyScope) -> Result<Arc<LoadedKey>> {
        let key = self
            .current
            .try_get_with(scope.clone(), self.generate(scope))
            .await
            .map_err(shared)?;
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
                self.keys
                    .try_get_with(id, self.unwrap_stored(stored))
                    .await
                    .map_err(shared)
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
        let key = Arc::new(LoadedKey {
            id: stored.id,
            scope: stored.scope,
            kek_version: stored.wrapped.kek_version,
            created_at: stored.created_at,
            loaded_at: self.clock.now(),
            cipher: Cipher::new(stored.algorithm, &generated.key),
            encryptions: AtomicU64::new(0),
        });
        self.keys.insert(key.id, Arc::clone(&key)).await;
        Ok(key)
    }

    async fn key(&self, id: DataKeyId) -> Result<Arc<LoadedKey>> {
        if let Some(key) = self.keys.get(&id).await {
            if self.fresh(&key) {
                return Ok(key);
            }
            self.keys.invalidate(&id).await;
        }
        self.keys
            .try_get_with(id, async move {
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
            .map_err(shared)
    }

    async fn unwrap_stored(&self, stored: StoredKey) -> Result<Arc<LoadedKey>> {
        let context = WrapContext {
            key_name: stored.key_name,
            data_key: stored.id,
            scope: stored.scope,
            algorithm: stored.algorithm,
        };
        let key = self.wrapper.unwrap_key(&stored.wrapped, &context).await?;
        Ok(Arc::new(LoadedKey {
            id: context.data_key,
            scope: context.scope,
            kek_version: stored.wrapped.kek_version,
            created_at: stored.created_at,
            loaded_at: self.clock.now(),
            cipher: Cipher::new(stored.algorithm, &key),
            encryptions: AtomicU64::new(0),
        }))
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("key_name", &self.key_name)
            .field("wrapper", &self.wrapper.kind())
            .field("algorithm", &self.options.algorithm)
            .field("cached_keys", &self.keys.entry_count())
            .finish_non_exhaustive()
    }
}
