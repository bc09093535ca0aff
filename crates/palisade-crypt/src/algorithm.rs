//! The two AEADs a data key is used with, from RustCrypto.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use aes_gcm_siv::Aes256GcmSiv;

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

/// A data key ready to use: the key schedule of its one algorithm (a data key is generated
/// for one algorithm and never used with another). The RustCrypto types zeroize their round
/// keys on drop.
pub(crate) enum Cipher {
    Gcm(Box<Aes256Gcm>),
    Siv(Box<Aes256GcmSiv>),
}

impl Cipher {
    pub(crate) fn new(algorithm: Algorithm, key: &DataKey) -> Self {
        let bytes = key.expose_bytes();
        match algorithm {
            Algorithm::Aes256Gcm => Self::Gcm(Box::new(Aes256Gcm::new(bytes.into()))),
            Algorithm::Aes256GcmSiv => Self::Siv(Box::new(Aes256GcmSiv::new(bytes.into()))),
        }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Self::Gcm(_) => Algorithm::Aes256Gcm,
            Self::Siv(_) => Algorithm::Aes256GcmSiv,
        }
    }

    /// Encrypts `buffer[from..]` in place and appends the tag.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buffer: &mut Vec<u8>,
        from: usize,
    ) -> Result<()> {
        let nonce = Nonce::from(*nonce);
        let body = buffer.get_mut(from..).ok_or(CryptError::Undecryptable)?;
        let tag = match self {
            Self::Gcm(cipher) => cipher.encrypt_inout_detached(&nonce, aad, body.into()),
            Self::Siv(cipher) => cipher.encrypt_inout_detached(&nonce, aad, body.into()),
        }
        .map_err(|_| CryptError::PlaintextTooLong {
            max: crate::format::MAX_PLAINTEXT_LEN,
        })?;
        buffer.extend_from_slice(tag.as_slice());
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
        let nonce = Nonce::from(nonce);
        let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| CryptError::Undecryptable)?;
        let tag = Tag::from(tag);
        let mut plaintext = encrypted.to_vec();
        let opened = match self {
            Self::Gcm(cipher) => {
                cipher.decrypt_inout_detached(&nonce, aad, plaintext.as_mut_slice().into(), &tag)
            }
            Self::Siv(cipher) => {
                cipher.decrypt_inout_detached(&nonce, aad, plaintext.as_mut_slice().into(), &tag)
            }
        };
        if opened.is_err() {
            zeroize::Zeroize::zeroize(&mut plaintext);
            return Err(CryptError::Undecryptable);
        }
        Ok(plaintext)
    }
}

/// A fresh random nonce.
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    let mut nonce = [0; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| CryptError::KeyInvalid {
        what: "the operating system's random source failed",
    })?;
    Ok(nonce)
}
