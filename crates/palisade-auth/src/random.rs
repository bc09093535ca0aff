//! Random bits from the thread's cryptographically secure generator (ChaCha, seeded and
//! reseeded from the operating system).

use rand::Rng as _;

/// `N` fresh random bytes.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}
