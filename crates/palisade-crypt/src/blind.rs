//! `BlindIndex`: equality search over encrypted values without decrypting them.

use std::fmt;

use hmac::{KeyInit, Mac};
use palisade_secrets::SecretValue;

use crate::context::Context;
use crate::error::{CryptError, Result};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const LABEL: &[u8] = b"palisade blind index v1";

/// A blind index: HMAC-SHA256 of a value under a key of its own (never a data key), truncated,
/// stored beside the ciphertext so that `WHERE email_bidx = ?` finds equal values without
/// decrypting anything.
///
/// # What a blind index leaks
/// To whoever reads the stored rows (a leaked backup, an over-broad role), a blind index shows
/// which rows hold **equal** values and so **how often** each value occurs. Where values are
/// few or skewed (a yes/no flag, a blood group, a country, a birth year) the frequencies alone
/// name the values: do not index such fields. An attacker who also holds the index key can
/// test guesses offline; the key must be kept like a data key. Each index is bound to its
/// domain (tenant, table, field): equal values in two tenants or two fields do not match.
///
/// # Length
/// Truncation adds false positives on purpose, which hides exact equality: with `n` bytes and
/// `R` rows, about `R / 2^(8n)` rows share a random index value. Keep that at least 2 and
/// below √R (CipherSweet's guidance): for 10^6 rows, 2 or 3 bytes; search compares the
/// decrypted values to drop the false positives. The default, 16 bytes, is for fields whose
/// equality is not worth hiding (an email's uniqueness check) and has no false positives.
pub struct BlindIndex {
    mac: HmacSha256,
    len: usize,
}

impl BlindIndex {
    /// The default length, in bytes.
    pub const DEFAULT_LEN: usize = 16;
    /// The shortest length allowed.
    pub const MIN_LEN: usize = 1;
    /// The longest length (the whole HMAC-SHA256).
    pub const MAX_LEN: usize = 32;

    /// An index keyed by `key` (32 bytes: hex, base64 or raw, as a local key-encryption key),
    /// truncated to `len` bytes.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the key is not 32 bytes or `len` is outside 1..=32.
    pub fn new(key: &SecretValue, len: usize) -> Result<Self> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(CryptError::KeyInvalid {
                what: "a blind index is 1 to 32 bytes long",
            });
        }
        let key = crate::local::parse_key(key.expose_bytes())?;
        let mac =
            <HmacSha256 as KeyInit>::new_from_slice(&key).map_err(|_| CryptError::KeyInvalid {
                what: "a blind index key is 32 bytes",
            })?;
        Ok(Self { mac, len })
    }

    /// The index's length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index is empty (never: at least one byte).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The index of `value` in `domain` (typically tenant, table or collection and field, and
    /// never the row id, or equal values would not match).
    #[must_use]
    pub fn compute(&self, domain: &Context, value: &[u8]) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(LABEL);
        mac.update(&domain.canonical_bytes());
        mac.update(&u64::try_from(value.len()).unwrap_or(u64::MAX).to_be_bytes());
        mac.update(value);
        let full = mac.finalize().into_bytes();
        full.get(..self.len).unwrap_or(&full).to_vec()
    }
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindIndex")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn key(byte: u8) -> SecretValue {
        SecretValue::from_bytes(vec![byte; 32])
    }

    #[test]
    fn equal_values_match_in_one_domain_only() {
        let index = BlindIndex::new(&key(1), 16).unwrap();
        let users = Context::new()
            .with("table", "users")
            .unwrap()
            .with("field", "email")
            .unwrap();
        let staff = Context::new()
            .with("table", "staff")
            .unwrap()
            .with("field", "email")
            .unwrap();
        let a = index.compute(&users, b"ada@example.com");
        assert_eq!(a.len(), 16);
        assert_eq!(a, index.compute(&users, b"ada@example.com"));
        assert_ne!(a, index.compute(&users, b"ada@example.org"));
        assert_ne!(a, index.compute(&staff, b"ada@example.com"));
        let other_key = BlindIndex::new(&key(2), 16).unwrap();
        assert_ne!(a, other_key.compute(&users, b"ada@example.com"));
        assert_eq!(
            BlindIndex::new(&key(1), 3)
                .unwrap()
                .compute(&users, b"x")
                .len(),
            3
        );
    }

    #[test]
    fn bad_parameters_are_refused_and_debug_hides_the_key() {
        assert!(BlindIndex::new(&key(1), 0).is_err());
        assert!(BlindIndex::new(&key(1), 33).is_err());
        assert!(BlindIndex::new(&SecretValue::from_bytes(vec![1; 31]), 16).is_err());
        let index = BlindIndex::new(&key(1), 8).unwrap();
        assert_eq!(format!("{index:?}"), "BlindIndex { len: 8, .. }");
    }
}
