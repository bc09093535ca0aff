//! `Plaintext` and `Decrypted`: what decryption gives back.

use std::fmt;

/// Decrypted bytes: wiped on drop, never printed.
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
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

impl Drop for Plaintext {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites `bytes` with zeros: one `memset`, then an opaque read so the compiler cannot
/// drop the writes as dead (the effect `zeroize` gets with a volatile write per byte, at a
/// fraction of the cost for kilobyte values).
pub(crate) fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(&*bytes);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}
