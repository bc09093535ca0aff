//! `CachedVerifier`: a [`TokenVerifier`] that remembers the tokens it has verified, so a
//! client sending the same token on every request pays for its signature once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::refused::TokenRefused;
use super::rules::{Rules, VerifierConfigInvalid};
use super::verifier::{TokenVerifier, Verified};

/// What one remembered token is counted as besides twice its own length (the token, and
/// its claims decoded): the entry and the cache's bookkeeping.
const ENTRY_OVERHEAD: usize = 512;

/// What a remembered token counts against the cache's bound.
fn weight(token_len: usize) -> usize {
    token_len.saturating_mul(2).saturating_add(ENTRY_OVERHEAD)
}

/// A remembered token is dropped when it expires (`exp` plus the leeway), so nothing of an
/// expired token stays in memory waiting to be pushed out.
struct UntilExpiry {
    rules: Rules,
}

impl<C> moka::Expiry<Arc<str>, Arc<Verified<C>>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _token: &Arc<str>,
        verified: &Arc<Verified<C>>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(Duration::from_secs(seconds_left(&self.rules, verified)))
    }
}

/// How long `verified` stays valid: until `exp` plus the leeway.
fn seconds_left<C>(rules: &Rules, verified: &Verified<C>) -> u64 {
    let expires_at = verified
        .registered
        .expires_at
        .unwrap_or(i64::MIN)
        .saturating_add(rules.leeway_secs);
    u64::try_from(expires_at.saturating_sub(rules.now())).unwrap_or(0)
}

/// A [`TokenVerifier`] that remembers what it verified: the first time a token is seen it is
/// verified in full; afterwards the same token (byte for byte) is answered from memory, its
/// time claims (`exp`, `nbf`, `iat`, within the leeway) and `iss`/`aud` checked again on
/// every use against the verifier's clock, so a remembered token expires exactly when it
/// would have without the cache.
///
/// Only tokens that verified are remembered: a forged or malformed token is refused in full
/// each time and never takes a place in memory, so nobody without a valid token can fill the
/// cache. The memory is bounded ([`new`](Self::new)'s `max_bytes`, each token counted as twice
/// its length plus 512 bytes, for the token and its decoded claims); past it the tokens least
/// likely to be seen again are dropped, and an expired token is dropped when it expires. The
/// keys are the verifier's and cannot change: a rotation builds a new verifier, and with it
/// an empty cache. Revocation before `exp` is the application's to check, cached or not.
///
/// ```
/// use palisade_auth::{CachedVerifier, OwnAlgorithm, SigningKey, TokenIssuer, TokenVerifier};
/// use palisade_secrets::SecretValue;
///
/// let secret = SecretValue::from_string("a secret of at least thirty-two bytes!".into());
/// let key = SigningKey::new("2026-12", OwnAlgorithm::Hs256, &secret)?;
/// let issuer = TokenIssuer::new(key.clone()).audience("crud");
/// let verifier = CachedVerifier::<serde_json::Value>::new(
///     TokenVerifier::new([key.verifying_key()]).audience("crud"),
///     1 << 20,
/// )?;
///
/// let token = issuer.issue("u-42", &serde_json::json!({"role": "admin"}))?;
/// let first = verifier.verify(&token)?; // verified in full
/// let again = verifier.verify(&token)?; // from memory, its claims checked again
/// assert_eq!(first, again);
/// assert!(verifier.verify("not.a.token").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CachedVerifier<C> {
    verifier: TokenVerifier,
    verified: moka::sync::Cache<Arc<str>, Arc<Verified<C>>>,
}

impl<C> CachedVerifier<C>
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// Remembers up to `max_bytes` of verified tokens (1 MiB holds about 1,100 tokens of
    /// 200 bytes).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] when `max_bytes` cannot hold one token of the verifier's
    /// longest length.
    pub fn new(verifier: TokenVerifier, max_bytes: u64) -> Result<Self, VerifierConfigInvalid> {
        let longest = weight(verifier.rules().max_len);
        if max_bytes < u64::try_from(longest).unwrap_or(u64::MAX) {
            return Err(VerifierConfigInvalid(
                "the cache holds at least one token of the longest length read",
            ));
        }
        let verified = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|token: &Arc<str>, _: &Arc<Verified<C>>| {
                u32::try_from(weight(token.len())).unwrap_or(u32::MAX)
            })
            .expire_after(UntilExpiry {
                rules: verifier.rules().clone(),
            })
            .build();
        Ok(Self { verifier, verified })
    }

    /// Verifies `token` (in full the first time) and reads its claims, shared with the
    /// cache (nothing is copied).
    ///
    /// # Errors
    /// [`TokenRefused`] as [`TokenVerifier::verify`] names it.
    pub fn verify(&self, token: &str) -> Result<Arc<Verified<C>>, TokenRefused> {
        let rules = self.verifier.rules();
        if let Err(refused) = rules.check_len(token) {
            self.verifier.refused(&refused);
            return Err(refused);
        }
        if let Some(remembered) = self.verified.get(token) {
            return match rules.check(&remembered.registered, &rules.issuers) {
                Ok(()) => Ok(remembered),
                Err(refused) => {
                    // Expired: it will not be valid again.
                    self.verified.invalidate(token);
                    self.verifier.refused(&refused);
                    Err(refused)
                }
            };
        }
        let verified = Arc::new(self.verifier.verify::<C>(token)?);
        if seconds_left(rules, &verified) > 0 {
            self.verified
                .insert(Arc::from(token), Arc::clone(&verified));
        }
        Ok(verified)
    }

    /// How many tokens are remembered now (expired ones included until they are next
    /// presented or make room for others).
    #[must_use]
    pub fn tokens(&self) -> u64 {
        self.verified.run_pending_tasks();
        self.verified.entry_count()
    }

    /// The verifier behind the cache.
    #[must_use]
    pub const fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }
}

impl<C> fmt::Debug for CachedVerifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedVerifier")
            .field("verifier", &self.verifier)
            .field("tokens", &self.verified.entry_count())
            .finish()
    }
}
