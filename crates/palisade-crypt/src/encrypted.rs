//! `Encrypted<T>`: a serde field that holds a value only as ciphertext.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{CryptError, Result};
use crate::format::Ciphertext;
use crate::keys::KeyScope;

/// A `T` held only as ciphertext: sealed from a value with [`seal`](Self::seal), opened back
/// with [`open`](Self::open), and serialized as its ciphertext (text form in JSON and other
/// human-readable formats, bytes otherwise; with the `bson` feature, BSON `Binary` subtype 6
/// through [`to_bson`](Self::to_bson)). Deserializing checks the ciphertext's structure and
/// keeps it sealed. `Debug` shows the header, never the value.
///
/// Sealing and opening are explicit, and take the context, because serde cannot tell a value
/// which row and field it is being written to, and binding a ciphertext to its place is the
/// point: a ciphertext copied from one row or tenant into another must not open there.
///
/// ```
/// use std::sync::Arc;
/// use palisade_crypt::{Context, Encrypted, Envelope, KeyName, KeyScope, LocalKeyWrapper, MemoryKeyStore};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, Debug)]
/// struct Patient {
///     id: u64,
///     ssn: Encrypted<String>,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let envelope = Envelope::new(
///     KeyName::new("pii")?,
///     Arc::new(LocalKeyWrapper::random()?),
///     Arc::new(MemoryKeyStore::new()),
/// );
/// let scope = KeyScope::new("tenant:acme")?;
/// let at = Context::new().with("table", "patients")?.with("field", "ssn")?.with("id", "7")?;
/// let patient = Patient { id: 7, ssn: Encrypted::seal(&envelope, &scope, &at, &"078-05-1120".to_owned()).await? };
///
/// let json = serde_json::to_string(&patient).unwrap();
/// assert!(!json.contains("078-05-1120"));
/// assert!(!format!("{patient:?}").contains("078-05-1120"));
///
/// let read: Patient = serde_json::from_str(&json).unwrap();
/// assert_eq!(read.ssn.open(&envelope, &at).await?, "078-05-1120");
/// # Ok::<(), palisade_crypt::CryptError>(())
/// # }).unwrap();
/// ```
pub struct Encrypted<T> {
    ciphertext: Ciphertext,
    value: PhantomData<fn() -> T>,
}

impl<T> Encrypted<T> {
    /// Wraps a ciphertext that holds a `T`.
    #[must_use]
    pub fn from_ciphertext(ciphertext: Ciphertext) -> Self {
        Self {
            ciphertext,
            value: PhantomData,
        }
    }

    /// The ciphertext.
    #[must_use]
    pub fn ciphertext(&self) -> &Ciphertext {
        &self.ciphertext
    }

    /// The ciphertext as BSON `Binary` of subtype 6 (encrypted).
    #[cfg(feature = "bson")]
    #[must_use]
    pub fn to_bson(&self) -> bson::Bson {
        crate::bson_form::to_binary(&self.ciphertext)
    }
}

impl<T: Serialize> Encrypted<T> {
    /// Encrypts `value` (as JSON) under `scope`'s data key, bound to `context`.
    ///
    /// # Errors
    /// [`CryptError::Value`] when `value` does not serialize; any error of
    /// [`Envelope::encrypt`].
    pub async fn seal(
        envelope: &Envelope,
        scope: &KeyScope,
        context: &Context,
        value: &T,
    ) -> Result<Self> {
        let bytes =
            zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|e| CryptError::Value {
                direction: "serialized",
                source: Box::new(e),
            })?);
        Ok(Self::from_ciphertext(
            envelope.encrypt(scope, context, &bytes).await?,
        ))
    }
}

impl<T: DeserializeOwned> Encrypted<T> {
    /// Decrypts the value, bound to `context`.
    ///
    /// # Errors
    /// Any error of [`Envelope::decrypt`]; [`CryptError::Value`] when the plaintext is not a
    /// `T`.
    pub async fn open(&self, envelope: &Envelope, context: &Context) -> Result<T> {
        let decrypted = envelope.decrypt(context, &self.ciphertext).await?;
        serde_json::from_slice(decrypted.plaintext.expose_bytes()).map_err(|e| CryptError::Value {
            direction: "deserialized",
            source: Box::new(e),
        })
    }
}

impl<T> Clone for Encrypted<T> {
    fn clone(&self) -> Self {
        Self::from_ciphertext(self.ciphertext.clone())
    }
}

impl<T> PartialEq for Encrypted<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ciphertext == other.ciphertext
    }
}

impl<T> fmt::Debug for Encrypted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Encrypted").field(&self.ciphertext).finish()
    }
}

impl<T> Serialize for Encrypted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.ciphertext.to_text())
        } else {
            serializer.serialize_bytes(self.ciphertext.as_bytes())
        }
    }
}

impl<'de, T> Deserialize<'de> for Encrypted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Ciphertext;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a palisade-crypt ciphertext (base64url text or bytes)")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Ciphertext, E> {
                Ciphertext::from_text(text).map_err(E::custom)
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Ciphertext, E> {
                Ciphertext::from_bytes(bytes.to_vec()).map_err(E::custom)
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Ciphertext, E> {
                Ciphertext::from_bytes(bytes).map_err(E::custom)
            }
        }
        let ciphertext = if deserializer.is_human_readable() {
            deserializer.deserialize_str(Visit)?
        } else {
            deserializer.deserialize_bytes(Visit)?
        };
        Ok(Self::from_ciphertext(ciphertext))
    }
}
