//! Names and ids of keys: `KeyName`, `KeyScope`, `DataKeyId`, and the `DataKey` itself.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{CryptError, Result};

/// The length of a data key, in bytes (AES-256).
pub const DATA_KEY_LEN: usize = 32;

/// A keyring's name, written in every ciphertext's header (`pii`, `billing`): 1 to 64 bytes
/// of ASCII letters, digits and `_ . : -`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct KeyName(String);

impl KeyName {
    /// Checks and wraps a name.
    ///
    /// # Errors
    /// [`CryptError::ContextInvalid`] naming `key name` when it is empty, too long or has
    /// another character.
    pub fn new(name: &str) -> Result<Self> {
        crate::context::check_name(name).map_err(|_| CryptError::ContextInvalid {
            name: "key name".to_owned(),
            problem: "1 to 64 bytes of A-Z a-z 0-9 _ . : -",
        })?;
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose data key encrypts a value: `user:42`, `tenant:acme`. Each scope has its own data
/// keys, so destroying a scope's keys ([`Envelope::shred`](crate::Envelope::shred)) makes
/// everything encrypted under them unreadable (crypto-shredding) and leaves every other
/// scope's data alone. 1 to 200 bytes of printable ASCII; stored in the key store in clear.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct KeyScope(String);

impl KeyScope {
    /// The longest scope, in bytes.
    pub const MAX_LEN: usize = 200;

    /// Checks and wraps a scope.
    ///
    /// # Errors
    /// [`CryptError::ContextInvalid`] naming `key scope` when it is empty, longer than 200
    /// bytes or has a character outside printable ASCII.
    pub fn new(scope: impl Into<String>) -> Result<Self> {
        let scope = scope.into();
        if scope.is_empty()
            || scope.len() > Self::MAX_LEN
            || !scope.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(CryptError::ContextInvalid {
                name: "key scope".to_owned(),
                problem: "1 to 200 bytes of printable ASCII without spaces",
            });
        }
        Ok(Self(scope))
    }

    /// The scope.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How a key store records that the scope was destroyed: `destroyed:` and the SHA-256 of
    /// the scope in hex, so the record names no erased owner.
    #[must_use]
    pub fn tombstone(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.0.as_bytes());
        let mut out = String::with_capacity(10 + 64);
        out.push_str("destroyed:");
        for byte in digest {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }
}

impl fmt::Display for KeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A data key's id: 16 random bytes, written in every ciphertext it encrypts (the reference to
/// its wrapped form in the key store). Printed as 32 hex digits; not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataKeyId([u8; 16]);

impl DataKeyId {
    /// The id's length in bytes.
    pub const LEN: usize = 16;

    /// A fresh random id.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the operating system's random source fails.
    pub fn random() -> Result<Self> {
        let mut bytes = [0; 16];
        getrandom::fill(&mut bytes).map_err(|_| CryptError::KeyInvalid {
            what: "the operating system's random source failed",
        })?;
        Ok(Self(bytes))
    }

    /// An id from its bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 32 hex digits.
    ///
    /// # Errors
    /// [`CryptError::Malformed`] when the text is not 32 hex digits.
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = crate::encoding::hex_decode(text)
            .and_then(|v| <[u8; 16]>::try_from(v).ok())
            .ok_or(CryptError::Malformed {
                what: "a data key id is 32 hex digits",
            })?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for DataKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DataKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKeyId({self})")
    }
}

/// A plaintext data key: 32 bytes, zeroized on drop, never printed. Key wrappers return it;
/// everything else holds it only inside the data-key cache.
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// Takes a key's bytes, zeroizing the source slice.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when `bytes` is not 32 bytes long.
    pub fn from_slice(bytes: &mut [u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0; DATA_KEY_LEN]);
        if bytes.len() != DATA_KEY_LEN {
            zeroize::Zeroize::zeroize(bytes);
            return Err(CryptError::KeyInvalid {
                what: "a data key is 32 bytes",
            });
        }
        key.copy_from_slice(bytes);
        zeroize::Zeroize::zeroize(bytes);
        Ok(Self(key))
    }

    /// A fresh random key.
    ///
    /// # Errors
    /// [`CryptError::KeyInvalid`] when the operating system's random source fails.
    pub fn random() -> Result<Self> {
        let mut key = Zeroizing::new([0; DATA_KEY_LEN]);
        getrandom::fill(key.as_mut()).map_err(|_| CryptError::KeyInvalid {
            what: "the operating system's random source failed",
        })?;
        Ok(Self(key))
    }

    /// The key's bytes; the one way to read them.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(\"***\")")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn debug_strings_are_pinned() {
        let mut bytes = [7u8; 32];
        let key = DataKey::from_slice(&mut bytes).unwrap();
        assert_eq!(bytes, [0; 32], "the source is wiped");
        assert_eq!(format!("{key:?}"), "DataKey(\"***\")");
        let id = DataKeyId::from_bytes([0xab; 16]);
        assert_eq!(
            format!("{id:?}"),
            "DataKeyId(abababababababababababababababab)"
        );
        assert_eq!(DataKeyId::from_hex(&id.to_string()).unwrap(), id);
        assert!(DataKeyId::from_hex("zz").is_err());
    }

    #[test]
    fn names_and_scopes_are_checked() {
        assert!(KeyName::new("pii").is_ok());
        assert!(KeyName::new("p i i").is_err());
        assert!(KeyName::new(&"a".repeat(65)).is_err());
        assert!(KeyScope::new("user:42").is_ok());
        let tombstone = KeyScope::new("user:42").unwrap().tombstone();
        assert_eq!(tombstone.len(), 10 + 64);
        assert!(tombstone.starts_with("destroyed:") && !tombstone.contains("42"));
        assert!(KeyScope::new("").is_err());
        assert!(KeyScope::new("user 42").is_err());
        assert!(KeyScope::new("x".repeat(201)).is_err());
        assert!(DataKey::from_slice(&mut [0u8; 31]).is_err());
    }
}
