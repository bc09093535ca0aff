//! `KeyWrapper`: where data keys are generated and unwrapped by a key-encryption key that
//! never leaves its store.

use std::fmt::{self, Debug};
use std::future::{Future, Ready};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::algorithm::Algorithm;
use crate::error::Result;
use crate::keys::{DataKey, DataKeyId, KeyName, KeyScope};

/// A data key wrapped by a key-encryption key: the bytes the key store keeps and the version
/// of the key-encryption key that wrapped them.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The key-encryption key's version (Vault Transit's key version, a local key's version;
    /// 1 for AWS KMS, which rotates behind one key id).
    pub kek_version: u32,
    /// The wrapper's ciphertext of the data key (a KMS `CiphertextBlob`, a Transit
    /// `vault:vN:...`, a local key's nonce, ciphertext and tag).
    pub blob: Vec<u8>,
}

impl Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("kek_version", &self.kek_version)
            .field("blob_len", &self.blob.len())
            .finish()
    }
}

/// A freshly generated data key: the plaintext key to use now and its wrapped form to store.
#[derive(Debug)]
pub struct GeneratedKey {
    /// The plaintext key.
    pub key: DataKey,
    /// Its wrapped form.
    pub wrapped: WrappedKey,
}

/// What a wrapped key is bound to: wrappers pass it as associated data or encryption context
/// (`palisade:key-name`, `palisade:data-key`, `palisade:scope`, `palisade:algorithm`), so a
/// wrapped key moved to another id, scope or keyring in the store does not unwrap.
#[derive(Clone, Debug)]
pub struct WrapContext {
    /// The keyring.
    pub key_name: KeyName,
    /// The data key's id.
    pub data_key: DataKeyId,
    /// Whose key it is.
    pub scope: KeyScope,
    /// The algorithm the data key is for.
    pub algorithm: Algorithm,
}

impl WrapContext {
    /// The context as name/value pairs (KMS encryption context, Vault associated data).
    #[must_use]
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            ("palisade:key-name", self.key_name.to_string()),
            ("palisade:data-key", self.data_key.to_string()),
            ("palisade:scope", self.scope.to_string()),
            ("palisade:algorithm", self.algorithm.name().to_owned()),
        ]
    }

    /// The context's canonical bytes (the pairs as a [`Context`](crate::Context)).
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut context = crate::Context::new();
        for (name, value) in self.pairs() {
            // The names are fixed and valid; values are bounded by their types.
            let _ = context.insert(name, value);
        }
        context.canonical_bytes()
    }
}

/// A key-encryption key in its store: AWS KMS, Vault Transit, or a local key. It generates
/// data keys (returning the plaintext key and its wrapped form) and unwraps wrapped ones; the
/// key-encryption key itself never leaves the store.
///
/// Object safe: held as `Arc<dyn KeyWrapper>`. Methods return a named future, [`KeyFuture`].
pub trait KeyWrapper: Send + Sync + Debug {
    /// A short name for errors and logs: `local`, `aws-kms`, `vault-transit`.
    fn kind(&self) -> &'static str;

    /// Generates a 256-bit data key bound to `context`.
    ///
    /// # Errors
    /// [`CryptError::Wrapper`](crate::CryptError::Wrapper) when the store refuses or cannot
    /// be reached.
    fn generate<'a>(&'a self, context: &'a WrapContext) -> KeyFuture<'a, GeneratedKey>;

    /// Unwraps a data key wrapped for `context`.
    ///
    /// # Errors
    /// [`CryptError::Wrapper`](crate::CryptError::Wrapper) when the store refuses (a wrong
    /// context, a disabled or too old key version) or cannot be reached.
    fn unwrap_key<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey>;

    /// Whether a key wrapped at `kek_version` should be rewrapped: a newer key-encryption key
    /// version exists. Data keys from such versions still decrypt, and
    /// [`Decrypted::rotate_due`](crate::Decrypted::rotate_due) says so.
    fn rotate_due(&self, kek_version: u32) -> bool {
        let _ = kek_version;
        false
    }
}

/// The future a [`KeyWrapper`] or [`DataKeyStore`](crate::DataKeyStore) returns: a boxed
/// future, or a ready value that allocates nothing.
pub struct KeyFuture<'a, T>(Inner<'a, T>);

enum Inner<'a, T> {
    Ready(Ready<Result<T>>),
    Boxed(Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>),
}

impl<'a, T> KeyFuture<'a, T> {
    /// A future that awaits `future`.
    pub fn new(future: impl Future<Output = Result<T>> + Send + 'a) -> Self {
        Self(Inner::Boxed(Box::pin(future)))
    }

    /// A future that is already done.
    pub fn ready(result: Result<T>) -> Self {
        Self(Inner::Ready(std::future::ready(result)))
    }
}

impl<T> Future for KeyFuture<'_, T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Inner::Ready(ready) => Pin::new(ready).poll(cx),
            Inner::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> Debug for KeyFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.0 {
            Inner::Ready(_) => "ready",
            Inner::Boxed(_) => "pending",
        };
        f.debug_tuple("KeyFuture").field(&state).finish()
    }
}
