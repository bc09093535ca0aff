//! `DerivedKeys`: data keys derived from a local key and their id, with no key store.

use std::fmt;
use std::time::UNIX_EPOCH;

use hmac::{KeyInit, Mac};
use palisade_clock::{Clock as _, SharedClock};
use palisade_secrets::SecretValue;
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::{CryptError, Result};
use crate::keys::{DataKey, DataKeyId, KeyName, KeyScope};
use crate::store::{DataKeyStore, StoredKey};
use crate::wrapper::{GeneratedKey, KeyFuture, KeyWrapper, WrapContext, WrappedKey};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const LABEL: &[u8] = b"palisade-crypt derived data key v1";

/// Data keys derived from one local key and each key's id (HMAC-SHA256 of the keyring, the key's
/// id and algorithm, as HKDF's expand step does), so nothing needs storing: the key and a
/// ciphertext are enough to decrypt. It is both the [`KeyWrapper`] and the [`DataKeyStore`] of
/// an [`Envelope`](crate::Envelope); `palisade crypt` uses it.
///
/// There is no crypto-shredding here ([`DataKeyStore::destroy_scope`] destroys nothing: the
/// keys can always be derived again), and the local key is in this process's memory. Use a
/// real store and KMS or Vault Transit for data you must be able to erase.
pub struct DerivedKeys {
    mac: HmacSha256,
    key_name: KeyName,
    version: u32,
    algorithm: Algorithm,
    clock: SharedClock,
}

impl DerivedKeys {
    /// Keys of keyring `key_name`, derived from `key` (32 bytes: hex, base64 or raw) known as
    /// `version`, for `algorithm`.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the key is not 32 bytes in one of the accepted forms.
    pub fn new(
        key: &SecretValue,
        key_name: KeyName,
        version: u32,
        algorithm: Algorithm,
    ) -> Result<Self> {
        let key = crate::local::parse_key(key.expose_bytes())?;
        let mac =
            <HmacSha256 as KeyInit>::new_from_slice(&key).map_err(|_| CryptError::KeyInvalid {
                what: "a key is 32 bytes",
            })?;
        Ok(Self {
            mac,
            key_name,
            version,
            algorithm,
            clock: SharedClock::system(),
        })
    }

    /// Reads the time from `clock` (the system clock by default): a derived key is as new as
    /// the moment it is loaded, so its lifetime in an [`Envelope`](crate::Envelope) on the
    /// same clock starts then.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Into<SharedClock>) -> Self {
        self.clock = clock.into();
        self
    }

    fn derive(&self, version: u32, context: &WrapContext) -> Result<DataKey> {
        if version != self.version {
            return Err(CryptError::Undecryptable);
        }
        let mut mac = self.mac.clone();
        mac.update(LABEL);
        mac.update(&version.to_be_bytes());
        // The scope is not bound: a store-less reader does not know it.
        let mut bound = crate::Context::new();
        bound.insert("key-name", context.key_name.as_str())?;
        bound.insert("data-key", context.data_key.to_string())?;
        bound.insert("algorithm", context.algorithm.name())?;
        mac.update(&bound.canonical_bytes());
        let mut bytes = Zeroizing::new(mac.finalize().into_bytes().to_vec());
        DataKey::from_slice(&mut bytes)
    }
}

impl KeyWrapper for DerivedKeys {
    fn kind(&self) -> &'static str {
        "derived"
    }

    fn generate<'a>(&'a self, context: &'a WrapContext) -> KeyFuture<'a, GeneratedKey> {
        KeyFuture::ready(self.derive(self.version, context).map(|key| GeneratedKey {
            key,
            wrapped: WrappedKey {
                kek_version: self.version,
                blob: Vec::new(),
            },
        }))
    }

    fn unwrap_key<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        KeyFuture::ready(self.derive(wrapped.kek_version, context))
    }
}

impl DataKeyStore for DerivedKeys {
    fn load<'a>(&'a self, id: &'a DataKeyId) -> KeyFuture<'a, Option<StoredKey>> {
        let created_at = self
            .clock
            .system_now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        KeyFuture::ready(KeyScope::new("derived").map(|scope| {
            Some(StoredKey {
                id: *id,
                key_name: self.key_name.clone(),
                scope,
                algorithm: self.algorithm,
                wrapped: WrappedKey {
                    kek_version: self.version,
                    blob: Vec::new(),
                },
                created_at,
            })
        }))
    }

    fn current<'a>(
        &'a self,
        _key_name: &'a KeyName,
        _scope: &'a KeyScope,
        _not_before: u64,
    ) -> KeyFuture<'a, Option<StoredKey>> {
        KeyFuture::ready(Ok(None))
    }

    fn insert<'a>(&'a self, _key: &'a StoredKey) -> KeyFuture<'a, ()> {
        KeyFuture::ready(Ok(()))
    }

    fn destroy_scope<'a>(&'a self, _scope: &'a KeyScope) -> KeyFuture<'a, u64> {
        KeyFuture::ready(Ok(0))
    }
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKeys")
            .field("key_name", &self.key_name)
            .field("version", &self.version)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}
