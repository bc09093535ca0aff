//! `TokenVerifier`: the application's own tokens, verified against its keys.

use std::sync::Arc;
use std::time::Duration;

use palisade_clock::Clock;
use serde::de::DeserializeOwned;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::claims::Registered;
use super::keys::VerifyingKey;
use super::refused::TokenRefused;
use super::rules::{Rules, VerifierConfigInvalid};

/// A verified token: its registered claims and the application's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified<C> {
    /// `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`.
    pub registered: Registered,
    /// The application's own claims.
    pub claims: C,
}

/// Verifies the application's own tokens: the header's `kid` picks one of several keys (so
/// keys rotate without signing everyone out), the key's one algorithm must be the header's,
/// the signature must verify, `exp` is required, `nbf`/`iat` may not be in the future, `iss`
/// and `aud` must match when configured (and are then required), within a leeway of at most
/// 5 minutes (default 30 s). A token over 8 KiB is refused before any decoding.
///
/// ```
/// use palisade_auth::{OwnAlgorithm, SigningKey, TokenIssuer, TokenRefused, TokenVerifier};
/// use palisade_secrets::SecretValue;
///
/// let secret = SecretValue::from_string("a secret of at least thirty-two bytes!".into());
/// let key = SigningKey::new("2026-12", OwnAlgorithm::Hs256, &secret)?;
/// let issuer = TokenIssuer::new(key.clone()).issuer("https://api.example.com").audience("crud");
/// let verifier = TokenVerifier::new([key.verifying_key()])
///     .issuer("https://api.example.com")
///     .audience("crud");
///
/// let token = issuer.issue("u-42", &serde_json::json!({"role": "admin"}))?;
/// let verified = verifier.verify::<serde_json::Value>(&token)?;
/// assert_eq!(verified.registered.subject.as_deref(), Some("u-42"));
/// assert_eq!(verified.claims["role"], "admin");
/// assert_eq!(verifier.verify::<serde_json::Value>("not.a.token").unwrap_err(), TokenRefused::Malformed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: Arc<[VerifyingKey]>,
    rules: Rules,
    events: crate::events::Events,
}

impl TokenVerifier {
    /// Verifies with these keys (current and previous while tokens they signed live on).
    #[must_use]
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            rules: Rules::default(),
            events: crate::events::Events::default(),
        }
    }

    /// Emits a palisade-audit `TokenRefused` security event for every token it refuses (reason
    /// `token/expired`), with the request's actor; nothing of the token.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.events = crate::events::Events::new(audit);
        self
    }

    /// Accept tokens from this issuer (`iss` then required); call again for several.
    #[must_use]
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.rules.accept_issuer(issuer);
        self
    }

    /// Accept tokens for this audience (`aud` then required); call again for several.
    #[must_use]
    pub fn audience(mut self, audience: &str) -> Self {
        self.rules.accept_audience(audience);
        self
    }

    /// The allowance for clock differences (default 30 s).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] above 5 minutes.
    pub fn leeway(mut self, leeway: Duration) -> Result<Self, VerifierConfigInvalid> {
        self.rules.set_leeway(leeway)?;
        Ok(self)
    }

    /// The longest token read (default 8 KiB).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] outside 256 B to 64 KiB.
    pub fn max_token_len(mut self, max_len: usize) -> Result<Self, VerifierConfigInvalid> {
        self.rules.set_max_len(max_len)?;
        Ok(self)
    }

    /// Read the time from `clock` (a test's fake clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.rules.set_clock(clock);
        self
    }

    /// Verifies `token` and reads its claims.
    ///
    /// # Errors
    /// [`TokenRefused`] naming the reason (for logs; the client gets one opaque 401).
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<Verified<C>, TokenRefused> {
        let result = self.verify_quietly(token);
        if let Err(refused) = &result {
            self.refused(refused);
        }
        result
    }

    pub(crate) const fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Reports a refusal (the audit event, when configured).
    pub(crate) fn refused(&self, refused: &TokenRefused) {
        self.events.token_refused(refused.id());
    }

    fn verify_quietly<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<C>, TokenRefused> {
        self.rules.check_len(token)?;
        let token = Compact::split(token)?;
        let mut outcome = Err(TokenRefused::UnknownKey);
        match token.header.kid.as_deref() {
            // Two keys given the same id by mistake: each is tried, none silently shadowed.
            Some(kid) => {
                for key in self.keys.iter().filter(|key| key.kid() == kid) {
                    outcome = verify_with(key, &self.rules, &self.rules.issuers, &token);
                    if outcome.is_ok() {
                        break;
                    }
                }
            }
            // A token without `kid` is read only when there is one key to read it with.
            None if self.keys.len() == 1 => {
                if let Some(key) = self.keys.first() {
                    outcome = verify_with(key, &self.rules, &self.rules.issuers, &token);
                }
            }
            None => {}
        }
        outcome
    }
}

/// A token in compact form, split once, its header read.
pub(crate) struct Compact<'a> {
    pub(crate) header: jsonwebtoken::Header,
    /// `header.payload`, what the signature covers.
    message: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    /// Three base64url parts, the first a JSON header naming a known algorithm.
    pub(crate) fn split(token: &'a str) -> Result<Self, TokenRefused> {
        let (message, signature) = token.rsplit_once('.').ok_or(TokenRefused::Malformed)?;
        let (header, payload) = message.split_once('.').ok_or(TokenRefused::Malformed)?;
        if payload.contains('.') {
            return Err(TokenRefused::Malformed);
        }
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenRefused::Malformed)?;
        let header: jsonwebtoken::Header =
            serde_json::from_slice(&header).map_err(|_| TokenRefused::Malformed)?;
        Ok(Self {
            header,
            message,
            payload,
            signature,
        })
    }
}

/// The signature with `key` (whose algorithm the header must name), then the claims and the
/// rules. A header that asks for more than a signed JWT (`crit` extensions, which RFC 7515
/// §4.1.11 says must be refused when not understood, or JWE's `enc` and `zip`) is refused;
/// keys named by the header itself (`jwk`, `jku`, `x5u`) are never used: the key comes from
/// the verifier's set.
pub(crate) fn verify_with<C: DeserializeOwned>(
    key: &VerifyingKey,
    rules: &Rules,
    issuers: &[String],
    token: &Compact<'_>,
) -> Result<Verified<C>, TokenRefused> {
    let header = &token.header;
    if header.crit.is_some() || header.enc.is_some() || header.zip.is_some() {
        return Err(TokenRefused::Malformed);
    }
    if header.alg != key.algorithm() {
        return Err(TokenRefused::AlgorithmNotAllowed);
    }
    let valid = match key.hmac() {
        // HS256 with the key prepared once (jsonwebtoken would prepare it per token).
        Some(hmac) => {
            let tag = URL_SAFE_NO_PAD
                .decode(token.signature)
                .map_err(|_| TokenRefused::Malformed)?;
            aws_lc_rs::hmac::verify(hmac, token.message.as_bytes(), &tag).is_ok()
        }
        None => jsonwebtoken::crypto::verify(
            token.signature,
            token.message.as_bytes(),
            key.decoding(),
            key.algorithm(),
        )
        .map_err(|error| refusal(&error))?,
    };
    if !valid {
        return Err(TokenRefused::BadSignature);
    }
    let payload = URL_SAFE_NO_PAD
        .decode(token.payload)
        .map_err(|_| TokenRefused::Malformed)?;
    // A JWT's claims are a JSON object (RFC 7519 §7.2): an array would be read by position.
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(TokenRefused::Malformed);
    }
    let registered: Registered =
        serde_json::from_slice(&payload).map_err(|_| TokenRefused::Malformed)?;
    rules.check(&registered, issuers)?;
    let claims: C = serde_json::from_slice(&payload).map_err(|_| TokenRefused::Malformed)?;
    Ok(Verified { registered, claims })
}

/// The refusal for a `jsonwebtoken` error.
fn refusal(error: &jsonwebtoken::errors::Error) -> TokenRefused {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => TokenRefused::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => TokenRefused::AlgorithmNotAllowed,
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => TokenRefused::UnknownKey,
        _ => TokenRefused::Malformed,
    }
}
