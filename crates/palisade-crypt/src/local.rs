//! `LocalKeyWrapper`: a key-encryption key held in this process, read through
//! `palisade-secrets`.

use std::collections::BTreeMap;
use std::fmt;

use palisade_secrets::{SecretRef, SecretSource, SecretValue};
use zeroize::Zeroizing;

use crate::algorithm::Cipher;
use crate::error::{CryptError, Result};
use crate::format::NONCE_LEN;
use crate::keys::{DATA_KEY_LEN, DataKey};
use crate::nonce::random_nonce;
use crate::wrapper::{GeneratedKey, KeyFuture, KeyWrapper, WrapContext, WrappedKey};

const WRAP_LABEL: &[u8] = b"palisade-crypt local wrap v1";

/// A key-encryption key held in this process, for tests and small deployments: data keys are
/// wrapped with AES-256-GCM under it, bound to their [`WrapContext`].
///
/// The key comes from any [`SecretRef`] (`env:`, `file:`, a vault): 32 bytes, given as 64 hex
/// digits, as base64 (either alphabet, padded or not) or as the raw 32 bytes. Several versions
/// may be loaded: the highest encrypts, every one decrypts, and data keys wrapped by a lower
/// one report [`rotate_due`](KeyWrapper::rotate_due).
///
/// Unlike KMS or Vault Transit, the key-encryption key is in this process's memory (zeroized
/// on drop): whoever reads the process's memory or the secret reads every data key.
pub struct LocalKeyWrapper {
    keys: BTreeMap<u32, Cipher>,
}

impl LocalKeyWrapper {
    /// A wrapper with one key-encryption key, `version`.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the value is not 32 bytes in one of the accepted forms.
    pub fn new(version: u32, key: &SecretValue) -> Result<Self> {
        Self {
            keys: BTreeMap::new(),
        }
        .with_version(version, key)
    }

    /// Adds a version (older ones keep decrypting; the highest encrypts).
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] as [`new`](Self::new), or when the version is loaded twice.
    pub fn with_version(mut self, version: u32, key: &SecretValue) -> Result<Self> {
        let key = parse_key(key.expose_bytes())?;
        if self.keys.contains_key(&version) {
            return Err(CryptError::KeyInvalid {
                what: "the same key version given twice",
            });
        }
        let key = DataKey::from_slice(&mut key.clone())?;
        self.keys
            .insert(version, Cipher::new(crate::Algorithm::Aes256Gcm, &key));
        Ok(self)
    }

    /// Reads the key behind `reference` from `source` as `version`.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the secret cannot be read or is not a key.
    pub async fn from_reference(
        source: &dyn SecretSource,
        reference: &SecretRef,
        version: u32,
    ) -> Result<Self> {
        let value = source
            .fetch(reference)
            .await
            .map_err(|_| CryptError::KeyInvalid {
                what: "the key's secret reference could not be read",
            })?;
        Self::new(version, &value)
    }

    fn current(&self) -> Option<(u32, &Cipher)> {
        self.keys.iter().next_back().map(|(v, c)| (*v, c))
    }

    fn generate_now(&self, context: &WrapContext) -> Result<GeneratedKey> {
        let (version, kek) = self.current().ok_or(CryptError::KeyInvalid {
            what: "no key-encryption key loaded",
        })?;
        let key = DataKey::random()?;
        let nonce = random_nonce()?;
        let mut blob = Vec::with_capacity(NONCE_LEN + DATA_KEY_LEN + 16);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(key.expose_bytes());
        kek.seal(&nonce, &aad(context), &mut blob, NONCE_LEN)?;
        Ok(GeneratedKey {
            key,
            wrapped: WrappedKey {
                kek_version: version,
                blob,
            },
        })
    }

    fn unwrap_now(&self, wrapped: &WrappedKey, context: &WrapContext) -> Result<DataKey> {
        let kek = self
            .keys
            .get(&wrapped.kek_version)
            .ok_or_else(|| CryptError::Wrapper {
                wrapper: "local",
                retryable: false,
                source: "no local key-encryption key of this version is loaded".into(),
            })?;
        let (nonce, body) = wrapped
            .blob
            .split_at_checked(NONCE_LEN)
            .ok_or(CryptError::Undecryptable)?;
        let mut key = Zeroizing::new(kek.open(nonce, &aad(context), body)?);
        DataKey::from_slice(&mut key)
    }
}

fn aad(context: &WrapContext) -> Vec<u8> {
    let mut aad = WRAP_LABEL.to_vec();
    aad.extend_from_slice(&context.canonical_bytes());
    aad
}

/// 32 bytes from 64 hex digits, base64 or raw bytes (surrounding whitespace ignored in the
/// text forms).
pub(crate) fn parse_key(bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let invalid = CryptError::KeyInvalid {
        what: "a key is 32 random bytes: 64 hex digits, base64, or the raw bytes (not text)",
    };
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    let decoded = match text {
        Some(t) if t.len() == 64 => crate::encoding::hex_decode(t),
        Some(t) if t.len() == 43 || t.len() == 44 => crate::encoding::base64_decode_any(t),
        // Raw bytes, but not 32 characters of text: that is a password or a 128-bit key in
        // hex, not 256 random bits.
        _ if bytes.len() == DATA_KEY_LEN
            && !bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') =>
        {
            Some(bytes.to_vec())
        }
        _ => None,
    };
    match decoded {
        // All zeros (a placeholder, `A` * 43 in base64) is no key.
        Some(key) if key.len() == DATA_KEY_LEN && key.iter().any(|b| *b != 0) => {
            Ok(Zeroizing::new(key))
        }
        Some(mut other) => {
            zeroize::Zeroize::zeroize(&mut other);
            Err(invalid)
        }
        None => Err(invalid),
    }
}

/// A local key for tests: a fresh random key-encryption key, version 1.
impl LocalKeyWrapper {
    /// A wrapper with a fresh random key-encryption key as version 1 (it dies with the
    /// process, and every data key it wrapped with it: for tests).
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the random source fails.
    pub fn random() -> Result<Self> {
        let key = DataKey::random()?;
        let mut keys = BTreeMap::new();
        keys.insert(1, Cipher::new(crate::Algorithm::Aes256Gcm, &key));
        Ok(Self { keys })
    }
}

impl KeyWrapper for LocalKeyWrapper {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn generate<'a>(&'a self, context: &'a WrapContext) -> KeyFuture<'a, GeneratedKey> {
        KeyFuture::ready(self.generate_now(context))
    }

    fn unwrap_key<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        KeyFuture::ready(self.unwrap_now(wrapped, context))
    }

    fn rotate_due(&self, kek_version: u32) -> bool {
        self.current()
            .is_some_and(|(current, _)| kek_version < current)
    }
}

impl fmt::Debug for LocalKeyWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyWrapper")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
