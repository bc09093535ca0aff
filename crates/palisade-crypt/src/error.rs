//! `CryptError`: the one error type of this crate.

use std::error::Error as StdError;

/// A boxed cause: a key store's or a key wrapper's own error.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Result with [`CryptError`].
pub type Result<T, E = CryptError> = std::result::Result<T, E>;

/// What went wrong. No variant carries a plaintext, a data key, a key-encryption key or a
/// context value; names of fields and contexts are given, values never.
///
/// A ciphertext that does not open is one error, [`CryptError::Undecryptable`], whatever the
/// reason (wrong key, wrong context, tampered bytes), so errors are no oracle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// The ciphertext did not authenticate under its data key and the given context: a wrong
    /// key, a wrong context (another tenant, table, field or row) or altered bytes.
    #[error("the ciphertext could not be decrypted")]
    Undecryptable,
    /// The bytes are not a ciphertext of a format this version reads.
    #[error("malformed ciphertext: {what}")]
    Malformed {
        /// What is wrong, in words that name no byte of the input.
        what: &'static str,
    },
    /// The data key the ciphertext names was destroyed (crypto-shredding) or never stored here.
    #[error("the data key of this ciphertext no longer exists")]
    KeyDestroyed,
    /// A context entry or key scope is invalid (empty, too long, duplicated, a reserved name).
    #[error("invalid encryption context: {name}: {problem}")]
    ContextInvalid {
        /// The entry's name (never its value).
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Key material does not have the required form (32 bytes, as raw bytes, base64 or hex).
    #[error("invalid key material: {what}")]
    KeyInvalid {
        /// What is wrong, never the key.
        what: &'static str,
    },
    /// The plaintext is longer than the format carries.
    #[error("plaintext too long: at most {max} bytes")]
    PlaintextTooLong {
        /// The limit.
        max: usize,
    },
    /// A field named in a filter is encrypted and has no blind index (or the operator cannot
    /// run on one), so it cannot be compared without decrypting.
    #[error("field `{field}` is encrypted and cannot be {problem}")]
    FieldNotSearchable {
        /// The field's path as written in the field map.
        field: String,
        /// What was asked of it.
        problem: &'static str,
    },
    /// The key-encryption key's store (KMS, Vault Transit, a secret source) could not generate
    /// or unwrap a data key.
    #[error("key wrapper `{wrapper}` failed")]
    Wrapper {
        /// The wrapper's kind (`local`, `aws-kms`, `vault-transit`).
        wrapper: &'static str,
        /// Whether trying later may succeed (the store is unreachable, throttled or sealed).
        retryable: bool,
        /// The wrapper's error.
        #[source]
        source: BoxError,
    },
    /// The data-key store could not be read or written.
    #[error("data-key store failed")]
    Store {
        /// The store's error.
        #[source]
        source: BoxError,
    },
    /// A value could not be turned into bytes or back (serde).
    #[error("value could not be {direction}")]
    Value {
        /// `serialized` or `deserialized`.
        direction: &'static str,
        /// serde's error (which names types and positions, never values).
        #[source]
        source: BoxError,
    },
}

impl CryptError {
    /// Whether the same call may succeed later: the key store or wrapper is unavailable. An
    /// HTTP service answers these with 503, [`CryptError::Undecryptable`] and
    /// [`CryptError::KeyDestroyed`] with an error of its own choosing (never the reason).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Wrapper { retryable, .. } => *retryable,
            Self::Store { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn context(name: &str, problem: &'static str) -> Self {
        Self::ContextInvalid {
            name: crate::context::printable_name(name),
            problem,
        }
    }
}
