//! The ciphertext format, byte by byte, and its text form.
//!
//! ```text
//! offset        size   field
//! 0             1      format version: 0x01
//! 1             1      algorithm: 0x01 AES-256-GCM, 0x02 AES-256-GCM-SIV
//! 2             1      n, the length of the key name (1..=64)
//! 3             n      key name: the keyring (ASCII A-Z a-z 0-9 _ . : -)
//! 3+n           4      key version: the key-encryption key's version, u32 big-endian
//! 7+n           16     data key id: the wrapped data key's reference in the key store
//! 23+n          12     nonce (random)
//! 35+n          m      encrypted plaintext (m = plaintext length)
//! 35+n+m        16     tag
//! ```
//!
//! Bytes `0..35+n` (the header, nonce included) are authenticated as associated data, followed
//! by the canonical bytes of the [`Context`](crate::Context): changing any header byte, or
//! decrypting with another context, fails. The text form is the same bytes in unpadded
//! base64url (for SQL `TEXT` columns); the BSON form is a `Binary` of subtype 6.

use std::fmt;

use serde::Serialize;

use crate::algorithm::Algorithm;
use crate::error::{CryptError, Result};
use crate::keys::{DataKeyId, KeyName};

/// The format version this crate writes.
pub const FORMAT_VERSION: u8 = 1;
/// The nonce length, in bytes.
pub const NONCE_LEN: usize = 12;
/// The tag length, in bytes.
pub const TAG_LEN: usize = 16;
/// The longest plaintext a ciphertext carries: 16 MiB, the largest MongoDB document.
pub const MAX_PLAINTEXT_LEN: usize = 16 * 1024 * 1024;
const FIXED_HEADER: usize = 3 + 4 + DataKeyId::LEN + NONCE_LEN;
const MAX_KEY_NAME: usize = 64;
/// The longest ciphertext accepted, in bytes.
pub const MAX_CIPHERTEXT_LEN: usize = FIXED_HEADER + MAX_KEY_NAME + MAX_PLAINTEXT_LEN + TAG_LEN;

/// A parsed ciphertext: the bytes and where its fields are. Parsing checks the structure
/// only; [`Envelope::decrypt`](crate::Envelope::decrypt) checks the rest.
///
/// `Debug` prints the header (not secret) and the body's length.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext {
    bytes: Vec<u8>,
}

/// What a ciphertext's header says, readable without any key (`palisade crypt inspect`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HeaderInfo {
    /// The format version.
    pub format: u8,
    /// The algorithm's name (`A256GCM`, `A256GCM-SIV`).
    pub algorithm: &'static str,
    /// The keyring.
    pub key_name: String,
    /// The key-encryption key's version.
    pub key_version: u32,
    /// The data key's id, 32 hex digits.
    pub data_key_id: String,
    /// The encrypted plaintext's length.
    pub plaintext_len: usize,
}

impl Ciphertext {
    /// Parses bytes.
    ///
    /// # Errors
    /// [`CryptError::Malformed`] naming the first field that does not fit.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        check(&bytes)?;
        Ok(Self { bytes })
    }

    /// Parses the text form (unpadded base64url); see also [`decode_text`].
    ///
    /// # Errors
    /// [`CryptError::Malformed`] when the text is not base64url or the bytes do not parse.
    pub fn from_text(text: &str) -> Result<Self> {
        if text.len() > MAX_CIPHERTEXT_LEN.div_ceil(3) * 4 {
            return Err(CryptError::Malformed {
                what: "longer than the longest ciphertext",
            });
        }
        let bytes = crate::encoding::base64url_decode(text).ok_or(CryptError::Malformed {
            what: "the text form is unpadded base64url",
        })?;
        Self::from_bytes(bytes)
    }

    /// The text form: unpadded base64url.
    #[must_use]
    pub fn to_text(&self) -> String {
        crate::encoding::base64url(&self.bytes)
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, owned.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn name_len(&self) -> usize {
        usize::from(self.bytes.get(2).copied().unwrap_or(0))
    }

    /// The format version.
    #[must_use]
    pub fn format_version(&self) -> u8 {
        self.bytes.first().copied().unwrap_or(0)
    }

    /// The algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.bytes
            .get(1)
            .copied()
            .and_then(Algorithm::from_id)
            .unwrap_or(Algorithm::Aes256Gcm)
    }

    /// The keyring's name.
    #[must_use]
    pub fn key_name(&self) -> &str {
        self.bytes
            .get(3..3 + self.name_len())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The key-encryption key's version.
    #[must_use]
    pub fn key_version(&self) -> u32 {
        let at = 3 + self.name_len();
        self.bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_be_bytes)
    }

    /// The data key's id.
    #[must_use]
    pub fn data_key_id(&self) -> DataKeyId {
        let at = 7 + self.name_len();
        self.bytes
            .get(at..at + DataKeyId::LEN)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map_or(DataKeyId::from_bytes([0; 16]), DataKeyId::from_bytes)
    }

    /// The header's length (associated data, nonce included).
    pub(crate) fn header_len(&self) -> usize {
        FIXED_HEADER + self.name_len()
    }

    /// Header (with nonce), then encrypted plaintext and tag.
    pub(crate) fn split(&self) -> (&[u8], &[u8]) {
        self.bytes.split_at(self.header_len().min(self.bytes.len()))
    }

    /// The encrypted plaintext's length.
    #[must_use]
    pub fn plaintext_len(&self) -> usize {
        self.bytes.len().saturating_sub(self.header_len() + TAG_LEN)
    }

    /// What the header says.
    #[must_use]
    pub fn header(&self) -> HeaderInfo {
        HeaderInfo {
            format: self.format_version(),
            algorithm: self.algorithm().name(),
            key_name: self.key_name().to_owned(),
            key_version: self.key_version(),
            data_key_id: self.data_key_id().to_string(),
            plaintext_len: self.plaintext_len(),
        }
    }
}

/// Writes the header, nonce included, at the start of `out` (long enough for the longest
/// header); returns its length.
pub(crate) fn write_header(
    out: &mut [u8],
    algorithm: Algorithm,
    key_name: &KeyName,
    key_version: u32,
    data_key: &DataKeyId,
    nonce: &[u8; NONCE_LEN],
) -> usize {
    let name = key_name.as_str().as_bytes();
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        if let Some(dst) = out.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        at += bytes.len();
    };
    put(&[
        FORMAT_VERSION,
        algorithm.id(),
        u8::try_from(name.len()).unwrap_or(u8::MAX),
    ]);
    put(name);
    put(&key_version.to_be_bytes());
    put(data_key.as_bytes());
    put(nonce);
    at
}

fn check(bytes: &[u8]) -> Result<()> {
    let malformed = |what| Err(CryptError::Malformed { what });
    let Some(&version) = bytes.first() else {
        return malformed("empty");
    };
    if version != FORMAT_VERSION {
        return malformed("unknown format version");
    }
    if bytes.get(1).copied().and_then(Algorithm::from_id).is_none() {
        return malformed("unknown algorithm");
    }
    let name_len = usize::from(bytes.get(2).copied().unwrap_or(0));
    if name_len == 0 || name_len > MAX_KEY_NAME {
        return malformed("key name length outside 1..=64");
    }
    let Some(name) = bytes.get(3..3 + name_len) else {
        return malformed("shorter than its header");
    };
    if !name
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
    {
        return malformed("key name has a character outside A-Z a-z 0-9 _ . : -");
    }
    if bytes.len() < FIXED_HEADER + name_len + TAG_LEN {
        return malformed("shorter than its header and tag");
    }
    if bytes.len() - (FIXED_HEADER + name_len + TAG_LEN) > MAX_PLAINTEXT_LEN {
        return malformed("longer than the longest ciphertext");
    }
    Ok(())
}

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ciphertext")
            .field("algorithm", &self.algorithm().name())
            .field("key_name", &self.key_name())
            .field("key_version", &self.key_version())
            .field("data_key_id", &self.data_key_id())
            .field("plaintext_len", &self.plaintext_len())
            .finish()
    }
}

impl fmt::Display for HeaderInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "format {}\nalgorithm {}\nkey {} version {}\ndata key {}\nplaintext {} bytes",
            self.format,
            self.algorithm,
            self.key_name,
            self.key_version,
            self.data_key_id,
            self.plaintext_len
        )
    }
}

/// The bytes of a text form (unpadded base64url, no longer than the longest ciphertext's), not
/// yet parsed: `None` when the text is not that. A tool can tell text that is not a ciphertext
/// at all from bytes that do not parse as one (altered, to be treated as undecryptable).
#[must_use]
pub fn decode_text(text: &str) -> Option<Vec<u8>> {
    if text.len() > MAX_CIPHERTEXT_LEN.div_ceil(3) * 4 {
        return None;
    }
    crate::encoding::base64url_decode(text)
}
