//! `VaultTransitKeyWrapper`: palisade-crypt data keys generated and unwrapped by Vault's
//! Transit engine.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use palisade_crypt::{
    CryptError, DataKey, GeneratedKey, KeyFuture, KeyWrapper, WrapContext, WrappedKey,
};
use palisade_secrets::SecretError;
use rustify::enums::{RequestMethod, RequestType, ResponseType};
use rustify::errors::ClientError as RestError;
use serde::Deserialize;
use vaultrs::error::ClientError;
use zeroize::Zeroizing;

use crate::errors::Failure;
use crate::options::VaultConfigError;
use crate::source::VaultSource;

/// Why a Transit call failed, before it becomes a [`CryptError`].
#[derive(Debug)]
pub(crate) enum CallError {
    /// No session: the token could not be read, or renewing it failed.
    Session(SecretError),
    /// Vault refused the token (403), even after reading it again.
    Denied,
    /// Any other answer or failure.
    Client(ClientError),
}

/// A [`KeyWrapper`] on Vault's (or OpenBao's) Transit engine: `datakey/plaintext` makes each
/// data key and `decrypt` unwraps it, both with the [`WrapContext`] as associated data, so a
/// wrapped key moved to another id, scope or keyring does not decrypt. It shares the
/// [`VaultSource`]'s session: one token, renewed and read again the same way.
///
/// Transit's key versions are the key-encryption key's versions: after `keys/NAME/rotate`,
/// new data keys are wrapped by the new version (the version is learned from each new data
/// key, or from [`refresh`](Self::refresh)), older ones still decrypt and report
/// [`rotate_due`](KeyWrapper::rotate_due); raising the key's `min_decryption_version` makes
/// data keys of lower versions unreadable (an error that is not retryable).
///
/// The key must be of an AEAD type (`aes256-gcm96`, the default, or `chacha20-poly1305`).
///
/// ```no_run
/// use std::sync::Arc;
/// use palisade_crypt::{Envelope, KeyName, MemoryKeyStore};
/// use palisade_secrets::EnvSource;
/// use palisade_secrets_vault::{VaultOptions, VaultSource, VaultTransitKeyWrapper};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let options = VaultOptions::new("https://vault.example.com:8200", "env:VAULT_TOKEN".parse()?, Arc::new(EnvSource::new()));
/// let vault = Arc::new(VaultSource::connect(options).await?);
/// let transit = VaultTransitKeyWrapper::new(vault, "transit", "pii")?;
/// let envelope = Envelope::new(KeyName::new("pii")?, Arc::new(transit), Arc::new(MemoryKeyStore::new()));
/// # Ok(()) }
/// ```
pub struct VaultTransitKeyWrapper {
    vault: Arc<VaultSource>,
    mount: String,
    key: String,
    latest: AtomicU32,
}

impl VaultTransitKeyWrapper {
    /// A wrapper for Transit key `key` on the engine mounted at `mount` (`transit`).
    ///
    /// # Errors
    /// [`VaultConfigError::TransitNameInvalid`] when the mount or key is not a plain name
    /// (it goes into the request's path).
    pub fn new(
        vault: Arc<VaultSource>,
        mount: impl Into<String>,
        key: impl Into<String>,
    ) -> Result<Self, VaultConfigError> {
        let (mount, key) = (mount.into(), key.into());
        if !plain(&mount, true) {
            return Err(VaultConfigError::TransitNameInvalid { what: "mount" });
        }
        if !plain(&key, false) {
            return Err(VaultConfigError::TransitNameInvalid { what: "key" });
        }
        Ok(Self {
            vault,
            mount,
            key,
            latest: AtomicU32::new(0),
        })
    }

    /// Reads the key's latest version from Vault (so that [`rotate_due`](KeyWrapper::rotate_due)
    /// sees a rotation before the next data key is made); returns it.
    ///
    /// # Errors
    /// [`CryptError::Wrapper`] when Vault cannot be read.
    pub async fn refresh(&self) -> Result<u32, CryptError> {
        let key = self
            .vault
            .exec(|| ReadKey {
                path: format!("{}/keys/{}", self.mount, self.key),
            })
            .await
            .map_err(|e| failure(e, false))?;
        let latest = u32::try_from(key.latest_version.unwrap_or(0)).unwrap_or(u32::MAX);
        self.latest.fetch_max(latest, Ordering::Relaxed);
        Ok(latest)
    }

    async fn generate_now(&self, context: &WrapContext) -> Result<GeneratedKey, CryptError> {
        let associated_data = STANDARD.encode(context.canonical_bytes());
        let answer = self
            .vault
            .exec(|| Post {
                path: format!("{}/datakey/plaintext/{}", self.mount, self.key),
                body: serde_json::json!({ "associated_data": associated_data, "bits": 256 }),
            })
            .await
            .map_err(|e| failure(e, false))?;
        let ciphertext = answer
            .ciphertext
            .ok_or_else(|| incomplete("no ciphertext"))?;
        let version =
            version_of(&ciphertext).ok_or_else(|| incomplete("an unversioned ciphertext"))?;
        self.latest.fetch_max(version, Ordering::Relaxed);
        let plaintext = Zeroizing::new(answer.plaintext.ok_or_else(|| incomplete("no plaintext"))?);
        let mut bytes = Zeroizing::new(
            STANDARD
                .decode(plaintext.as_bytes())
                .map_err(|_| incomplete("a plaintext that is not base64"))?,
        );
        Ok(GeneratedKey {
            key: DataKey::from_slice(&mut bytes)?,
            wrapped: WrappedKey {
                kek_version: version,
                blob: ciphertext.into_bytes(),
            },
        })
    }

    async fn unwrap_now(
        &self,
        wrapped: &WrappedKey,
        context: &WrapContext,
    ) -> Result<DataKey, CryptError> {
        let ciphertext =
            std::str::from_utf8(&wrapped.blob).map_err(|_| CryptError::Undecryptable)?;
        if version_of(ciphertext) != Some(wrapped.kek_version) {
            return Err(CryptError::Undecryptable);
        }
        let associated_data = STANDARD.encode(context.canonical_bytes());
        let answer = self
            .vault
            .exec(|| Post {
                path: format!("{}/decrypt/{}", self.mount, self.key),
                body: serde_json::json!({ "ciphertext": ciphertext, "associated_data": associated_data }),
            })
            .await
            .map_err(|e| failure(e, true))?;
        let plaintext = Zeroizing::new(answer.plaintext.ok_or_else(|| incomplete("no plaintext"))?);
        let mut bytes = Zeroizing::new(
            STANDARD
                .decode(plaintext.as_bytes())
                .map_err(|_| incomplete("a plaintext that is not base64"))?,
        );
        DataKey::from_slice(&mut bytes)
    }
}

/// Letters, digits, `_ - .`; `/` between segments when `slashes`.
fn plain(name: &str, slashes: bool) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
        && (slashes || !name.contains('/'))
}

/// The version in `vault:vN:...`.
fn version_of(ciphertext: &str) -> Option<u32> {
    let rest = ciphertext.strip_prefix("vault:v")?;
    let (version, _) = rest.split_once(':')?;
    version.parse().ok().filter(|v| *v > 0)
}

/// What Transit's error means; `decrypting` tells a refused decryption (the ciphertext or
/// its context is wrong) from a refused generation.
fn failure(error: CallError, decrypting: bool) -> CryptError {
    let (description, retryable) = match error {
        CallError::Session(error) => {
            let retryable = error.is_outage();
            return CryptError::Wrapper {
                wrapper: "vault-transit",
                retryable,
                source: Box::new(error),
            };
        }
        CallError::Denied => ("Vault refused the token".to_owned(), false),
        CallError::Client(ClientError::APIError { code, errors }) => {
            let said = |text: &str| errors.iter().any(|e| e.contains(text));
            if decrypting && code == 400 && said("message authentication failed") {
                return CryptError::Undecryptable;
            }
            if said("disallowed by policy") {
                (
                    "the key version is below the key's min_decryption_version".to_owned(),
                    false,
                )
            } else {
                // 5xx (a sealed or standby server answers 503) may pass; 4xx will not.
                (
                    format!("Vault answered HTTP {code}"),
                    code >= 500 || code == 429,
                )
            }
        }
        CallError::Client(other) => match Failure::from_client(&other) {
            Failure::Unavailable(what, Some(code)) => {
                (format!("{what} HTTP {code}"), code >= 500 || code == 429)
            }
            Failure::Unavailable(what, None) => (
                what.to_owned(),
                !matches!(
                    other,
                    ClientError::RestClientError {
                        source: RestError::ResponseParseError { .. }
                    }
                ),
            ),
            Failure::NotFound => ("Vault answered HTTP 404".to_owned(), false),
            Failure::Denied => ("Vault refused the token".to_owned(), false),
        },
    };
    CryptError::Wrapper {
        wrapper: "vault-transit",
        retryable,
        source: description.into(),
    }
}

fn incomplete(what: &str) -> CryptError {
    CryptError::Wrapper {
        wrapper: "vault-transit",
        retryable: false,
        source: format!("Transit answered with {what}").into(),
    }
}

impl KeyWrapper for VaultTransitKeyWrapper {
    fn kind(&self) -> &'static str {
        "vault-transit"
    }

    fn generate<'a>(&'a self, context: &'a WrapContext) -> KeyFuture<'a, GeneratedKey> {
        KeyFuture::new(self.generate_now(context))
    }

    fn unwrap_key<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        KeyFuture::new(self.unwrap_now(wrapped, context))
    }

    fn rotate_due(&self, kek_version: u32) -> bool {
        kek_version < self.latest.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for VaultTransitKeyWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultTransitKeyWrapper")
            .field("mount", &self.mount)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A Transit answer: every field optional, so that an unexpected shape is reported by name
/// and never as a parse error quoting the body (which holds a key).
#[derive(Deserialize)]
pub(crate) struct Answer {
    plaintext: Option<String>,
    ciphertext: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct KeyInfo {
    latest_version: Option<u64>,
}

/// A JSON `POST` to a Transit path.
struct Post {
    path: String,
    body: serde_json::Value,
}

impl rustify::Endpoint for Post {
    type Response = Answer;
    const REQUEST_BODY_TYPE: RequestType = RequestType::JSON;
    const RESPONSE_BODY_TYPE: ResponseType = ResponseType::JSON;

    fn path(&self) -> String {
        self.path.clone()
    }

    fn method(&self) -> RequestMethod {
        RequestMethod::POST
    }

    fn body(&self) -> Result<Option<Vec<u8>>, RestError> {
        serde_json::to_vec(&self.body)
            .map(Some)
            .map_err(|e| RestError::DataParseError { source: e.into() })
    }
}

/// `GET keys/NAME`.
struct ReadKey {
    path: String,
}

impl rustify::Endpoint for ReadKey {
    type Response = KeyInfo;
    const REQUEST_BODY_TYPE: RequestType = RequestType::JSON;
    const RESPONSE_BODY_TYPE: ResponseType = ResponseType::JSON;

    fn path(&self) -> String {
        self.path.clone()
    }

    fn method(&self) -> RequestMethod {
        RequestMethod::GET
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names() {
        assert_eq!(version_of("vault:v3:abc"), Some(3));
        assert_eq!(version_of("vault:v0:abc"), None);
        assert_eq!(version_of("vault:3:abc"), None);
        assert_eq!(version_of("other"), None);
        assert!(plain("transit", true));
        assert!(plain("team/transit", true));
        assert!(!plain("team/transit", false));
        assert!(!plain("../sys", true));
        assert!(!plain("a?b", false));
        assert!(!plain("", false));
    }
}
