//! The two AEADs a data key is used with, from AWS-LC (through `aws-lc-rs`).

use aws_lc_rs::aead::{AES_256_GCM, AES_256_GCM_SIV, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::{CryptError, Result};
use crate::format::{NONCE_LEN, TAG_LEN};
use crate::keys::DataKey;

/// The AEAD a data key encrypts with.
///
/// - [`Aes256Gcm`](Self::Aes256Gcm), the default: AES-256-GCM with a random 96-bit nonce per
///   message. A nonce must never repeat under one key; random nonces keep the chance of a
///   repeat below 2^-32 for up to 2^32 messages per key (NIST SP 800-38D, 8.3), so an
///   [`Envelope`](crate::Envelope) starts a new data key long before that (see
///   [`EnvelopeOptions::max_messages_per_key`](crate::EnvelopeOptions::max_messages_per_key)).
/// - [`Aes256GcmSiv`](Self::Aes256GcmSiv): AES-256-GCM-SIV (RFC 8452), for when a nonce could
///   repeat (many writers, cloned virtual machines, a weak random source): a repeated nonce
///   reveals only whether two plaintexts were equal, where with GCM it reveals their XOR and
///   lets the authentication key be recovered. Slightly slower (two passes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// AES-256-GCM.
    Aes256Gcm,
    /// AES-256-GCM-SIV (RFC 8452).
    Aes256GcmSiv,
}

impl Algorithm {
    /// The byte that names the algorithm in a ciphertext.
    #[must_use]
    pub const fn id(self) -> u8 {
        match self {
            Self::Aes256Gcm => 1,
            Self::Aes256GcmSiv => 2,
        }
    }

    /// The algorithm a byte names.
    #[must_use]
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Self::Aes256Gcm),
            2 => Some(Self::Aes256GcmSiv),
            _ => None,
        }
    }

    /// The algorithm's name (`A256GCM`, `A256GCM-SIV`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "A256GCM",
            Self::Aes256GcmSiv => "A256GCM-SIV",
        }
    }
}

/// A data key ready to use: AWS-LC's AEAD context for its one algorithm (a data key is
/// generated for one algorithm and never used with another). AWS-LC wipes the key schedule
/// when the context is freed.
pub(crate) struct Cipher {
    key: LessSafeKey,
    algorithm: Algorithm,
}

impl Cipher {
    pub(crate) fn new(algorithm: Algorithm, key: &DataKey) -> Self {
        let aead = match algorithm {
            Algorithm::Aes256Gcm => &AES_256_GCM,
            Algorithm::Aes256GcmSiv => &AES_256_GCM_SIV,
        };
        // A 32-byte key fits both algorithms: AWS-LC refuses only other lengths.
        #[allow(clippy::expect_used, reason = "a 32-byte key is always accepted")]
        let unbound = UnboundKey::new(aead, key.expose_bytes()).expect("AES-256 takes 32 bytes");
        Self {
            key: LessSafeKey::new(unbound),
            algorithm,
        }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Encrypts `buffer[from..]` in place and appends the tag.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buffer: &mut Vec<u8>,
        from: usize,
    ) -> Result<()> {
        let body = buffer.get_mut(from..).ok_or(CryptError::Undecryptable)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), body)
            .map_err(|_| CryptError::PlaintextTooLong {
                max: crate::format::MAX_PLAINTEXT_LEN,
            })?;
        buffer.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts `body` (encrypted plaintext, then tag) into a new vector.
    pub(crate) fn open(&self, nonce: &[u8], aad: &[u8], body: &[u8]) -> Result<Vec<u8>> {
        let split = body
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptError::Undecryptable)?;
        let (encrypted, tag) = body.split_at(split);
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| CryptError::Undecryptable)?;
        let mut plaintext = encrypted.to_vec();
        let opened = self.key.open_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            tag,
            &mut plaintext,
        );
        if opened.is_err() {
            crate::plaintext::wipe(&mut plaintext);
            return Err(CryptError::Undecryptable);
        }
        Ok(plaintext)
    }
}
