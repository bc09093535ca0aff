//! One-time codes: OAuth session codes, password-reset and invitation tokens. Random, stored
//! only as a digest, single use, short-lived, optionally bound to a PKCE verifier.

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod store;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_clock::{Clock, SharedClock};
use palisade_secrets::SecretValue;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

pub use self::memory::MemoryCodes;
#[cfg(feature = "redis")]
pub use self::redis::RedisCodes;
pub use self::store::{CodeDigest, CodeStore, CodeStoreUnavailable, StoreFuture};

/// A code as handed to its holder (URL-safe base64 of 128 to 512 random bits). `Debug` never
/// shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(Zeroizing<String>);

impl OneTimeCode {
    /// The code, to put in a link or a redirect.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(..)")
    }
}

/// A PKCE code challenge (RFC 7636), method `S256` only (`plain` offers no protection
/// against a code intercepted on its way).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PkceChallenge([u8; 32]);

impl PkceChallenge {
    /// The challenge a client sent: `BASE64URL(SHA256(verifier))`, 43 characters.
    ///
    /// # Errors
    /// [`CodeConfigInvalid`] when it is not 32 bytes of base64url without padding.
    pub fn s256(challenge: &str) -> Result<Self, CodeConfigInvalid> {
        let bytes = URL_SAFE_NO_PAD
            .decode(challenge)
            .map_err(|_| CodeConfigInvalid("a PKCE S256 challenge is base64url without padding"))?;
        let digest: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CodeConfigInvalid("a PKCE S256 challenge is a SHA-256 digest"))?;
        Ok(Self(digest))
    }

    /// The challenge of `verifier` (what a client computes).
    #[must_use]
    pub fn of_verifier(verifier: &str) -> Self {
        Self(Sha256::digest(verifier.as_bytes()).into())
    }

    /// The challenge as it travels in an authorization request (`code_challenge`):
    /// base64url without padding, 43 characters.
    ///
    /// ```
    /// use palisade_auth::PkceChallenge;
    ///
    /// // RFC 7636, appendix B.
    /// let challenge = PkceChallenge::of_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    /// assert_eq!(challenge.encoded(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    /// assert_eq!(PkceChallenge::s256(&challenge.encoded()), Ok(challenge));
    /// ```
    #[must_use]
    pub fn encoded(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Whether `verifier` (43 to 128 unreserved characters, RFC 7636 §4.1) answers it.
    fn accepts(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
        let digest: [u8; 32] = Sha256::digest(verifier.as_bytes()).into();
        well_formed & bool::from(digest.ct_eq(&self.0))
    }
}

impl fmt::Debug for PkceChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceChallenge(S256)")
    }
}

/// A setting that would weaken codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("one-time codes cannot be configured so: {0}")]
pub struct CodeConfigInvalid(&'static str);

/// Why a code was not redeemed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedeemError {
    /// Unknown, expired, already redeemed, or its PKCE verifier is wrong: one answer for all,
    /// so a client learns nothing about which (answer it as an invalid grant, 400).
    #[error("the code is invalid")]
    Refused,
    /// The store is unavailable: try again later (503).
    #[error(transparent)]
    Unavailable(#[from] CodeStoreUnavailable),
}

/// The record format's version byte.
const RECORD_V1: u8 = 1;

/// Issues and redeems one-time codes held in a [`CodeStore`].
///
/// A code is 256 random bits by default (at least 128), URL-safe; the store keeps only its
/// SHA-256 digest, with the payload and the expiry (default 5 minutes; RFC 6749 §4.1.2 asks
/// at most 10 for authorization codes). Redemption is single use: of concurrent redemptions
/// of one code exactly one gets the payload. A redeemed, expired or unknown code, or a wrong
/// PKCE verifier, is one [`RedeemError::Refused`].
///
/// ```
/// use palisade_auth::{MemoryCodes, OneTimeCodes, RedeemError};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let codes = OneTimeCodes::new(MemoryCodes::default());
/// let code = codes.issue(b"session for u-42", None).await?;
/// let payload = codes.redeem(code.expose(), None).await?;
/// assert_eq!(payload.expose_bytes(), b"session for u-42");
/// assert_eq!(codes.redeem(code.expose(), None).await.unwrap_err(), RedeemError::Refused);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct OneTimeCodes<S> {
    store: Arc<S>,
    lifetime: Duration,
    code_bytes: usize,
    clock: SharedClock,
    events: crate::events::Events,
}

impl<S: CodeStore> OneTimeCodes<S> {
    /// Codes of 256 bits living 5 minutes, in `store`.
    pub fn new(store: S) -> Self {
        Self {
            store: Arc::new(store),
            lifetime: Duration::from_secs(300),
            code_bytes: 32,
            clock: SharedClock::system(),
            events: crate::events::Events::default(),
        }
    }

    /// Emits a palisade-audit `OneTimeCodeReused` security event for every code it refuses (reason
    /// `code/refused`), with the request's actor; nothing of the code or its payload.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.events = crate::events::Events::new(audit);
        self
    }

    /// How long a code may be redeemed (1 second to 24 hours; default 5 minutes).
    ///
    /// # Errors
    /// [`CodeConfigInvalid`] outside that range.
    pub fn lifetime(mut self, lifetime: Duration) -> Result<Self, CodeConfigInvalid> {
        if !(Duration::from_secs(1)..=Duration::from_secs(24 * 3600)).contains(&lifetime) {
            return Err(CodeConfigInvalid("a code lives 1 second to 24 hours"));
        }
        self.lifetime = lifetime;
        Ok(self)
    }

    /// Random bytes per code (16 to 64; default 32).
    ///
    /// # Errors
    /// [`CodeConfigInvalid`] outside that range.
    pub fn code_bytes(mut self, bytes: usize) -> Result<Self, CodeConfigInvalid> {
        if !(16..=64).contains(&bytes) {
            return Err(CodeConfigInvalid("a code has 128 to 512 random bits"));
        }
        self.code_bytes = bytes;
        Ok(self)
    }

    /// Read the time from `clock` (a test's fake clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = SharedClock::new(clock);
        self
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &S {
        &self.store
    }

    /// A new code for `payload`, bound to `pkce` when given.
    ///
    /// # Errors
    /// [`CodeStoreUnavailable`] when the store cannot keep it.
    pub async fn issue(
        &self,
        payload: &[u8],
        pkce: Option<PkceChallenge>,
    ) -> Result<OneTimeCode, CodeStoreUnavailable> {
        let random = Zeroizing::new(crate::random::bytes::<64>());
        let random = random.get(..self.code_bytes).unwrap_or(&random[..]);
        let code = Zeroizing::new(URL_SAFE_NO_PAD.encode(random));
        let expires_at = unix_millis(&self.clock)
            .saturating_add(i64::try_from(self.lifetime.as_millis()).unwrap_or(i64::MAX));
        let mut record = Zeroizing::new(Vec::with_capacity(1 + 8 + 1 + 32 + payload.len()));
        record.push(RECORD_V1);
        record.extend_from_slice(&expires_at.to_be_bytes());
        match pkce {
            Some(challenge) => {
                record.push(1);
                record.extend_from_slice(&challenge.0);
            }
            None => record.push(0),
        }
        record.extend_from_slice(payload);
        self.store
            .put(&digest(&code), record, self.lifetime)
            .await?;
        Ok(OneTimeCode(code))
    }

    /// The payload of `code`, which is spent by this call whatever its outcome (a wrong PKCE
    /// verifier spends it too: a stolen code gets one try).
    ///
    /// # Errors
    /// [`RedeemError::Refused`] for an unknown, expired or spent code or a wrong verifier;
    /// [`RedeemError::Unavailable`] when the store fails.
    pub async fn redeem(
        &self,
        code: &str,
        verifier: Option<&str>,
    ) -> Result<SecretValue, RedeemError> {
        let result = self.redeem_quietly(code, verifier).await;
        if matches!(result, Err(RedeemError::Refused)) {
            self.events.code_refused();
        }
        result
    }

    async fn redeem_quietly(
        &self,
        code: &str,
        verifier: Option<&str>,
    ) -> Result<SecretValue, RedeemError> {
        // A code is base64url of 16 to 64 bytes: anything else is not worth a store round trip.
        if !(22..=86).contains(&code.len()) {
            return Err(RedeemError::Refused);
        }
        let record = self
            .store
            .take(&digest(code))
            .await?
            .ok_or(RedeemError::Refused)?;
        let (expires_at, pkce, payload) = parse(&record).ok_or(RedeemError::Refused)?;
        if unix_millis(&self.clock) >= expires_at {
            return Err(RedeemError::Refused);
        }
        match (pkce, verifier) {
            (None, _) => {}
            (Some(challenge), Some(verifier)) if challenge.accepts(verifier) => {}
            (Some(_), _) => return Err(RedeemError::Refused),
        }
        Ok(SecretValue::from_bytes(payload.to_vec()))
    }
}

/// The digest a store keeps for `code`.
fn digest(code: &str) -> CodeDigest {
    Sha256::digest(code.as_bytes()).into()
}

/// Milliseconds since the epoch on `clock`.
fn unix_millis(clock: &SharedClock) -> i64 {
    match clock.system_now().duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// A record's expiry, PKCE binding and payload.
fn parse(record: &[u8]) -> Option<(i64, Option<PkceChallenge>, &[u8])> {
    let (&version, rest) = record.split_first()?;
    if version != RECORD_V1 {
        return None;
    }
    let (expires, rest) = rest.split_first_chunk::<8>()?;
    let (&bound, rest) = rest.split_first()?;
    let (pkce, payload) = match bound {
        0 => (None, rest),
        1 => {
            let (challenge, payload) = rest.split_first_chunk::<32>()?;
            (Some(PkceChallenge(*challenge)), payload)
        }
        _ => return None,
    };
    Some((i64::from_be_bytes(*expires), pkce, payload))
}
