//! Signing and verification keys: one algorithm and one key id each, read from secrets.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use palisade_secrets::{SecretRef, SecretSource, SecretValue};

/// The algorithms of the application's own tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnAlgorithm {
    /// HMAC with SHA-256: one shared secret of at least 32 bytes signs and verifies.
    Hs256,
    /// ECDSA on P-256 with SHA-256: a PKCS#8 private key signs, its public key verifies.
    Es256,
    /// Ed25519: a PKCS#8 private key signs, its public key verifies.
    EdDsa,
}

impl OwnAlgorithm {
    const fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

/// A key that cannot be used: the reason names the problem, never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key {kid:?} cannot be used: {reason}")]
pub struct KeyInvalid {
    kid: String,
    reason: &'static str,
}

impl KeyInvalid {
    pub(crate) fn new(kid: &str, reason: &'static str) -> Self {
        Self {
            kid: kid.to_owned(),
            reason,
        }
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// Why a key could not be loaded from a secret store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyLoadError {
    /// The store could not give the secret.
    #[error(transparent)]
    Secret(#[from] palisade_secrets::SecretError),
    /// The secret is not a usable key.
    #[error(transparent)]
    Invalid(#[from] KeyInvalid),
}

/// The shortest HMAC secret accepted: the hash's output size (RFC 7518 §3.2).
const MIN_HMAC_SECRET: usize = 32;

/// Why `secret` cannot be an HMAC key: too short, or a public key in any of its forms (PEM,
/// OpenSSH, a JWK), which would let anyone who reads the public key sign tokens (the key
/// confusion of PyJWT's CVE-2022-29217 and CVE-2026-48526).
fn hmac_secret_problem(secret: &[u8]) -> Option<&'static str> {
    if secret.len() < MIN_HMAC_SECRET {
        return Some("an HS256 secret has at least 32 bytes");
    }
    let text = secret.trim_ascii_start();
    let public = [
        b"-----BEGIN".as_slice(),
        b"ssh-",
        b"ecdsa-sha2-",
        b"sk-ssh-",
        b"sk-ecdsa-",
        b"{",
    ]
    .iter()
    .any(|prefix| text.starts_with(prefix));
    public.then_some("an HS256 secret looks like a public key (PEM, OpenSSH or JWK)")
}

/// A key that signs the application's tokens.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    algorithm: OwnAlgorithm,
    key: EncodingKey,
    verifying: VerifyingKey,
}

impl SigningKey {
    /// `algorithm`'s key from `secret`: the raw secret for HS256 (at least 32 bytes), a PEM
    /// PKCS#8 private key for ES256 and EdDSA.
    ///
    /// # Errors
    /// [`KeyInvalid`] when the secret is too short or not a key of that algorithm.
    pub fn new(
        kid: &str,
        algorithm: OwnAlgorithm,
        secret: &SecretValue,
    ) -> Result<Self, KeyInvalid> {
        let bytes = secret.expose_bytes();
        let invalid = |reason| KeyInvalid::new(kid, reason);
        if kid.is_empty() {
            return Err(invalid("a key needs an id"));
        }
        let (key, verifying) = match algorithm {
            OwnAlgorithm::Hs256 => {
                if let Some(problem) = hmac_secret_problem(bytes) {
                    return Err(invalid(problem));
                }
                let key =
                    EncodingKey::from_secret(bytes).map_err(|_| invalid("not an HMAC secret"))?;
                let verifying =
                    DecodingKey::from_secret(bytes).map_err(|_| invalid("not an HMAC secret"))?;
                (key, verifying)
            }
            OwnAlgorithm::Es256 | OwnAlgorithm::EdDsa => {
                let key = match algorithm {
                    OwnAlgorithm::Es256 => EncodingKey::from_ec_pem(bytes),
                    _ => EncodingKey::from_ed_pem(bytes),
                }
                .map_err(|_| invalid("not a PEM PKCS#8 private key of this algorithm"))?;
                let verifying = public_half(algorithm, key.as_bytes())
                    .ok_or_else(|| invalid("not a private key of this algorithm"))?;
                (key, verifying)
            }
        };
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            key,
            verifying: VerifyingKey::from_parts(kid, algorithm.jwt(), verifying),
        })
    }

    /// [`new`](Self::new) with the secret read from `source` (any `palisade-secrets` store:
    /// environment, file, AWS, Vault, Key Vault).
    ///
    /// # Errors
    /// [`KeyLoadError`] when the store fails or the secret is not a key.
    pub async fn load(
        kid: &str,
        algorithm: OwnAlgorithm,
        source: &dyn SecretSource,
        reference: &SecretRef,
    ) -> Result<Self, KeyLoadError> {
        let secret = source.fetch(reference).await?;
        Ok(Self::new(kid, algorithm, &secret)?)
    }

    /// The key's id (the tokens' `kid` header).
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> OwnAlgorithm {
        self.algorithm
    }

    /// The key that verifies what this one signs (the same secret for HS256, the public key
    /// otherwise).
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying.clone()
    }

    pub(crate) const fn encoding(&self) -> &EncodingKey {
        &self.key
    }

    pub(crate) const fn jwt_algorithm(&self) -> Algorithm {
        self.algorithm.jwt()
    }
}

/// The verification key of a PKCS#8 private key (v1 or v2, as `openssl genpkey` and rcgen
/// write them), derived with aws-lc.
fn public_half(algorithm: OwnAlgorithm, pkcs8: &[u8]) -> Option<DecodingKey> {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    };
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match algorithm {
        OwnAlgorithm::EdDsa => {
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8).ok()?;
            DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()))
                .ok()
        }
        OwnAlgorithm::Es256 => {
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).ok()?;
            // An uncompressed point: 0x04, x, y.
            let point = pair.public_key().as_ref();
            let (x, y) = point.get(1..)?.split_at_checked(32)?;
            DecodingKey::from_ec_components(&URL_SAFE_NO_PAD.encode(x), &URL_SAFE_NO_PAD.encode(y))
                .ok()
        }
        OwnAlgorithm::Hs256 => None,
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// A key that verifies tokens: one key id, one algorithm (a token whose header names another
/// is refused before its signature is checked, so no HS/RS or HS/ES confusion is possible).
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    algorithm: Algorithm,
    key: DecodingKey,
    /// HS256's key, its inner and outer pads computed once rather than per token.
    hmac: Option<aws_lc_rs::hmac::Key>,
}

impl VerifyingKey {
    /// A verification key from its public half: `pem` is a public key (SPKI PEM) for ES256
    /// and EdDSA, the shared secret itself for HS256.
    ///
    /// # Errors
    /// [`KeyInvalid`] when it is not a key of that algorithm.
    pub fn new(
        kid: &str,
        algorithm: OwnAlgorithm,
        public: &SecretValue,
    ) -> Result<Self, KeyInvalid> {
        let bytes = public.expose_bytes();
        let invalid = |reason| KeyInvalid::new(kid, reason);
        if kid.is_empty() {
            return Err(invalid("a key needs an id"));
        }
        let key = match algorithm {
            OwnAlgorithm::Hs256 if hmac_secret_problem(bytes).is_some() => {
                return Err(invalid(hmac_secret_problem(bytes).unwrap_or_default()));
            }
            OwnAlgorithm::Hs256 => DecodingKey::from_secret(bytes),
            OwnAlgorithm::Es256 => DecodingKey::from_ec_pem(bytes),
            OwnAlgorithm::EdDsa => DecodingKey::from_ed_pem(bytes),
        }
        .map_err(|_| invalid("not a PEM public key of this algorithm"))?;
        Ok(Self::from_parts(kid, algorithm.jwt(), key))
    }

    pub(crate) fn from_parts(kid: &str, algorithm: Algorithm, key: DecodingKey) -> Self {
        // Only an HMAC secret (never a public key's DER) becomes an HMAC key.
        let hmac = match (&algorithm, key.family(), key.kind()) {
            (
                Algorithm::HS256,
                jsonwebtoken::AlgorithmFamily::Hmac,
                jsonwebtoken::DecodingKeyKind::SecretOrDer(secret),
            ) => Some(aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                secret,
            )),
            _ => None,
        };
        Self {
            kid: kid.to_owned(),
            algorithm,
            key,
            hmac,
        }
    }

    /// The key's id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key verifies.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) const fn decoding(&self) -> &DecodingKey {
        &self.key
    }

    /// HS256's prepared key.
    pub(crate) const fn hmac(&self) -> Option<&aws_lc_rs::hmac::Key> {
        self.hmac.as_ref()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}
