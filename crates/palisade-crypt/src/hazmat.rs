//! The raw AEAD layer under the envelope, for interoperability tests and known answers.
//!
//! **Hazardous:** the caller picks the nonce, and a nonce repeated under one AES-GCM key
//! reveals the XOR of the plaintexts and lets anyone forge messages. Use
//! [`Envelope`](crate::Envelope), which draws a random nonce for every message and starts new
//! data keys before their limit, unless you are checking this layer against another
//! implementation.

use std::fmt;

use crate::algorithm::{Algorithm, Cipher};
use crate::error::Result;
use crate::format::NONCE_LEN;
use crate::keys::DataKey;

/// One AEAD under one key; `seal` and `open` take the nonce and associated data.
pub struct RawAead {
    cipher: Cipher,
}

impl RawAead {
    /// The AEAD `algorithm` under `key`.
    #[must_use]
    pub fn new(algorithm: Algorithm, key: &DataKey) -> Self {
        Self {
            cipher: Cipher::new(algorithm, key),
        }
    }

    /// Encrypts `plaintext`; returns the encrypted bytes followed by the 16-byte tag (the
    /// layout of Python `cryptography`'s `AESGCM.encrypt`).
    ///
    /// # Errors
    /// [`CryptError::PlaintextTooLong`](crate::CryptError::PlaintextTooLong) past the
    /// algorithm's limit.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut buffer = plaintext.to_vec();
        self.cipher.seal(nonce, aad, &mut buffer, 0)?;
        Ok(buffer)
    }

    /// Decrypts encrypted bytes followed by the tag.
    ///
    /// # Errors
    /// [`CryptError::Undecryptable`](crate::CryptError::Undecryptable) when they do not
    /// authenticate.
    pub fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        self.cipher.open(nonce, aad, sealed)
    }
}

impl fmt::Debug for RawAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAead")
            .field("algorithm", &self.cipher.algorithm())
            .finish_non_exhaustive()
    }
}
