//! `SecretValue`: a secret's bytes, wrapped, with what the source knows about them.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretBox};
use zeroize::Zeroize;

/// What a source knows about a value besides the value: its version, where backends have one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metadata {
    /// The backend's version id (AWS `VersionId`, Vault's version number, Key Vault's version),
    /// so a cache can tell that a secret rotated. Shared, so a cache hit copies no text.
    pub version: Option<Arc<str>>,
}

impl Metadata {
    /// Metadata with a version.
    #[must_use]
    pub fn with_version(version: impl Into<Arc<str>>) -> Self {
        Self {
            version: Some(version.into()),
        }
    }
}

/// A secret value: bytes held in a [`secrecy::SecretBox`] (zeroized on drop, never printed),
/// plus [`Metadata`]. Clones share the bytes: there is one copy of the secret in memory, wiped
/// when the last clone drops, and a cache hit copies nothing.
///
/// There is no `Display`; `Debug` prints `SecretValue { value: "***", .. }` and the metadata.
/// [`expose_str`](Self::expose_str) and [`expose_bytes`](Self::expose_bytes) are the only ways
/// to read the value, and easy to find with grep.
///
/// ```
/// use palisade_secrets::SecretValue;
///
/// let value = SecretValue::from_string("hunter2".to_owned());
/// assert_eq!(value.expose_str(), Some("hunter2"));
/// assert_eq!(format!("{value:?}"), r#"SecretValue { value: "***", version: None, .. }"#);
/// ```
pub struct SecretValue {
    /// Shared by clones: one copy of the secret in memory, zeroized when the last clone drops,
    /// and a clone (a cache hit) is one reference count.
    shared: Arc<Handle>,
}

/// What a clone counts: the secret behind one more pointer. A cache keeps several handles on
/// one secret ([`SecretValue::handle`]) so that threads reading it count references on
/// different cache lines; the alignment keeps two handles off one line (and its neighbour,
/// which CPUs prefetch in pairs).
#[repr(align(128))]
struct Handle {
    secret: Arc<Secret>,
}

struct Secret {
    bytes: SecretBox<[u8]>,
    metadata: Metadata,
}

impl SecretValue {
    /// Wraps text, taking ownership so no copy is left behind.
    #[must_use]
    pub fn from_string(text: String) -> Self {
        Self::from_bytes(text.into_bytes())
    }

    /// Wraps bytes (such as AWS `SecretBinary`), taking ownership. When the vector has spare
    /// capacity, the bytes are copied into an exact allocation and the original is zeroized
    /// (a shrinking reallocation would free it unwiped).
    #[must_use]
    pub fn from_bytes(mut bytes: Vec<u8>) -> Self {
        let exact: Box<[u8]> = if bytes.len() == bytes.capacity() {
            bytes.into_boxed_slice()
        } else {
            let copy = Box::from(bytes.as_slice());
            bytes.zeroize();
            copy
        };
        Self::from_secret(Secret {
            bytes: SecretBox::new(exact),
            metadata: Metadata::default(),
        })
    }

    fn from_secret(secret: Secret) -> Self {
        Self {
            shared: Arc::new(Handle {
                secret: Arc::new(secret),
            }),
        }
    }

    /// Another handle on the same secret (no copy of it) whose clones count references apart
    /// from this one's: a cache hands one handle to each group of threads.
    pub(crate) fn handle(&self) -> Self {
        Self {
            shared: Arc::new(Handle {
                secret: Arc::clone(&self.shared.secret),
            }),
        }
    }

    /// The same value with this metadata. Other clones keep theirs (the bytes are copied for
    /// this one if they are shared).
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        if let Some(secret) =
            Arc::get_mut(&mut self.shared).and_then(|handle| Arc::get_mut(&mut handle.secret))
        {
            secret.metadata = metadata;
            return self;
        }
        Self::from_secret(Secret {
            bytes: SecretBox::new(Box::from(self.expose_bytes())),
            metadata,
        })
    }

    /// The value as text, or `None` when it is not UTF-8.
    #[must_use]
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(self.shared.secret.bytes.expose_secret()).ok()
    }

    /// The value's bytes.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        self.shared.secret.bytes.expose_secret()
    }

    /// The value's length in bytes (reported by `palisade secret check`; the length of a
    /// secret is not the secret).
    #[must_use]
    pub fn len(&self) -> usize {
        self.shared.secret.bytes.expose_secret().len()
    }

    /// Whether the value is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the source knows about the value.
    #[must_use]
    pub fn metadata(&self) -> &Metadata {
        &self.shared.secret.metadata
    }
}

impl Clone for SecretValue {
    /// Shares the bytes and the metadata: no copy of the secret is made.
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValue")
            .field("value", &"***")
            .field("version", &self.metadata().version)
            .finish_non_exhaustive()
    }
}
