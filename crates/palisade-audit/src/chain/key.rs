//! `ChainKey`: the HMAC key that seals checkpoints.

use std::fmt;

use hmac::{KeyInit as _, Mac as _};
use palisade_secrets::{SecretRef, SecretSource, SecretValue};
use zeroize::Zeroizing;

use super::ChainError;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// What a checkpoint's MAC covers, before its sequence number and chain hash.
const CHECKPOINT_CONTEXT: &[u8] = b"palisade-audit checkpoint v1\n";

/// The key that seals the chain at every checkpoint (HMAC-SHA256 over the checkpoint's
/// sequence number, record count and the hash of everything before it). A writer without it can rebuild
/// the hash chain after an edit but not the next checkpoint. At least 32 bytes; its Debug
/// output shows nothing of it.
#[derive(Clone)]
pub struct ChainKey {
    bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey").finish_non_exhaustive()
    }
}

impl ChainKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_BYTES: usize = 32;

    /// A key from a secret's bytes.
    ///
    /// # Errors
    /// [`ChainError::KeyTooShort`] under 32 bytes.
    pub fn new(secret: &SecretValue) -> Result<Self, ChainError> {
        let bytes = secret.expose_bytes();
        if bytes.len() < Self::MIN_BYTES {
            return Err(ChainError::KeyTooShort);
        }
        Ok(Self {
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// [`new`](Self::new) with the secret read from `source` (environment, file, AWS, Vault,
    /// Key Vault).
    ///
    /// # Errors
    /// [`ChainError::KeyUnavailable`] when the store fails, [`ChainError::KeyTooShort`].
    pub async fn load(
        source: &dyn SecretSource,
        reference: &SecretRef,
    ) -> Result<Self, ChainError> {
        let secret = source
            .fetch(reference)
            .await
            .map_err(|e| ChainError::KeyUnavailable(Box::new(e)))?;
        Self::new(&secret)
    }

    /// The MAC of the checkpoint numbered `seq`, sealing `records` records, whose previous
    /// record hashes to `prev`.
    pub(super) fn seal(&self, seq: u64, records: u64, prev: &[u8; 32]) -> [u8; 32] {
        self.mac(seq, records, prev).finalize().into_bytes().into()
    }

    /// Whether `mac` seals that checkpoint (constant time).
    pub(super) fn opens(&self, seq: u64, records: u64, prev: &[u8; 32], mac: &[u8; 32]) -> bool {
        self.mac(seq, records, prev).verify_slice(mac).is_ok()
    }

    fn mac(&self, seq: u64, records: u64, prev: &[u8; 32]) -> HmacSha256 {
        #[allow(
            clippy::expect_used,
            reason = "HMAC takes a key of any length; new() refused short ones"
        )]
        let mut mac = HmacSha256::new_from_slice(&self.bytes).expect("HMAC accepts any key");
        mac.update(CHECKPOINT_CONTEXT);
        mac.update(&seq.to_be_bytes());
        mac.update(&records.to_be_bytes());
        mac.update(prev);
        mac
    }
}
