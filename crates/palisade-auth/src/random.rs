//! Random bits from the thread's cryptographically secure generator (ChaCha, seeded and
//! reseeded from the operating system).

use rand::Rng as _;

/// Sixteen fresh random bytes.
pub(crate) fn bits_128() -> [u8; 16] {
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// `N` fresh random bytes.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}
