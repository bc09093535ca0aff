//! Peppers: server-side secrets mixed into Argon2id as its keyed-hash secret, with key ids so
//! they rotate.

use std::fmt;

use palisade_secrets::{SecretRef, SecretSource};
use secrecy::{ExposeSecret, SecretBox};

use crate::encoding;
use crate::error::PepperError;

/// One pepper: a key id (written into each hash's PHC `keyid` parameter, so the hash says
/// which pepper made it) and the secret bytes (never written anywhere).
///
/// ```
/// use palisade_password::Pepper;
///
/// let pepper = Pepper::new("2026a", b"a long random server-side secret".to_vec())?;
/// assert_eq!(format!("{pepper:?}"), r#"Pepper { key_id: "2026a", .. }"#);
/// # Ok::<(), palisade_password::PepperError>(())
/// ```
pub struct Pepper {
    key_id: String,
    secret: SecretBox<[u8]>,
}

impl Pepper {
    /// The shortest pepper accepted, in bytes.
    pub const MIN_LEN: usize = 16;
    /// The longest pepper accepted, in bytes.
    pub const MAX_LEN: usize = 1024;
    /// The longest key id, in bytes (Argon2's `keyid` limit).
    pub const MAX_KEY_ID_LEN: usize = 8;

    /// A pepper from its key id (1 to 8 of `[A-Za-z0-9_-]`) and secret bytes.
    ///
    /// # Errors
    /// [`PepperError`] naming what is wrong with the key id or the length.
    pub fn new(key_id: &str, secret: Vec<u8>) -> Result<Self, PepperError> {
        let key_id_ok = (1..=Self::MAX_KEY_ID_LEN).contains(&key_id.len())
            && key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !key_id_ok {
            return Err(PepperError::KeyIdInvalid);
        }
        let secret = SecretBox::new(secret.into_boxed_slice());
        match secret.expose_secret().len() {
            n if n < Self::MIN_LEN => Err(PepperError::TooShort { min: Self::MIN_LEN }),
            n if n > Self::MAX_LEN => Err(PepperError::TooLong { max: Self::MAX_LEN }),
            _ => Ok(Self {
                key_id: key_id.to_owned(),
                secret,
            }),
        }
    }

    /// Reads the pepper from a secret source (`env:PASSWORD_PEPPER`, `aws-sm:app/pepper`, ...).
    ///
    /// # Errors
    /// [`PepperError::Secret`] when the source fails; otherwise as [`new`](Self::new).
    pub async fn fetch(
        key_id: &str,
        source: &dyn SecretSource,
        reference: &SecretRef,
    ) -> Result<Self, PepperError> {
        let value = source.fetch(reference).await.map_err(PepperError::Secret)?;
        Self::new(key_id, value.expose_bytes().to_vec())
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub(crate) fn secret(&self) -> &[u8] {
        self.secret.expose_secret()
    }

    /// The key id as the PHC `keyid` parameter value (B64 of its bytes).
    pub(crate) fn phc_key_id(&self) -> String {
        encoding::encode_phc(self.key_id.as_bytes())
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pepper")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The current pepper, used for every new hash, and earlier ones that still verify (and ask
/// for a rehash with the current one).
#[derive(Debug)]
pub struct Peppers {
    current: Pepper,
    previous: Vec<Pepper>,
}

impl Peppers {
    /// Only the current pepper.
    #[must_use]
    pub fn new(current: Pepper) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds an earlier pepper, still accepted for verifying.
    ///
    /// # Errors
    /// [`PepperError::KeyIdDuplicated`] when its key id is already configured.
    pub fn with_previous(mut self, pepper: Pepper) -> Result<Self, PepperError> {
        if self.find(pepper.key_id.as_bytes()).is_some() {
            return Err(PepperError::KeyIdDuplicated {
                key_id: pepper.key_id,
            });
        }
        self.previous.push(pepper);
        Ok(self)
    }

    /// The pepper new hashes use.
    #[must_use]
    pub fn current(&self) -> &Pepper {
        &self.current
    }

    /// The pepper with this key id (raw bytes, as decoded from a hash).
    pub(crate) fn find(&self, key_id: &[u8]) -> Option<&Pepper> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|p| p.key_id.as_bytes() == key_id)
    }
}
