//! `Plaintext` and `Decrypted`: what decryption gives back.

use std::fmt;

use zeroize::Zeroizing;

/// Decrypted bytes: zeroized on drop, never printed.
pub struct Plaintext(Zeroizing<Vec<u8>>);

impl Plaintext {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The bytes; the one way to read them.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as text, when they are UTF-8.
    #[must_use]
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Plaintext(\"***\")")
    }
}

/// A decrypted value and whether it should be encrypted again: its data key was wrapped by an
/// older key-encryption key version, is older than the key lifetime, or is for another
/// algorithm than the one now configured. Re-encrypt it when convenient (on the next write,
/// or with a re-encryption walk), as a password hash is upgraded on sign-in.
#[derive(Debug)]
#[non_exhaustive]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Plaintext,
    /// Whether to encrypt it again under the current key.
    pub rotate_due: bool,
}
