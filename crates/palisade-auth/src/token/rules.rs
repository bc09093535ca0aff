//! The checks every verified token's registered claims pass, on the injected clock.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_clock::{Clock, SharedClock};

use super::claims::Registered;
use super::refused::TokenRefused;

/// The longest token read (RFC 7519 sets none; 8 KiB is four times a large Entra ID token).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// The default allowance for clocks that differ between issuer and verifier.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The largest leeway accepted: more would keep expired tokens alive for long.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// A verifier setting that would weaken verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the token verifier cannot be configured so: {0}")]
pub struct VerifierConfigInvalid(pub(crate) &'static str);

/// What a verifier requires of the registered claims.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) issuers: Arc<[String]>,
    pub(crate) audiences: Arc<[String]>,
    pub(crate) leeway_secs: i64,
    pub(crate) max_len: usize,
    pub(crate) clock: SharedClock,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            issuers: Arc::from([]),
            audiences: Arc::from([]),
            leeway_secs: 30,
            max_len: DEFAULT_MAX_TOKEN_LEN,
            clock: SharedClock::system(),
        }
    }
}

impl Rules {
    pub(crate) fn set_leeway(&mut self, leeway: Duration) -> Result<(), VerifierConfigInvalid> {
        if leeway > MAX_LEEWAY {
            return Err(VerifierConfigInvalid("the leeway is at most 5 minutes"));
        }
        self.leeway_secs = i64::try_from(leeway.as_secs()).unwrap_or(300);
        Ok(())
    }

    pub(crate) fn set_max_len(&mut self, max_len: usize) -> Result<(), VerifierConfigInvalid> {
        if !(256..=64 * 1024).contains(&max_len) {
            return Err(VerifierConfigInvalid(
                "the maximum token length is 256 B to 64 KiB",
            ));
        }
        self.max_len = max_len;
        Ok(())
    }

    /// Accepts `audience` besides the ones already accepted.
    pub(crate) fn accept_audience(&mut self, audience: &str) {
        self.audiences = self
            .audiences
            .iter()
            .cloned()
            .chain([audience.to_owned()])
            .collect();
    }

    /// Accepts `issuer` besides the ones already accepted.
    pub(crate) fn accept_issuer(&mut self, issuer: &str) {
        self.issuers = self
            .issuers
            .iter()
            .cloned()
            .chain([issuer.to_owned()])
            .collect();
    }

    pub(crate) fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = SharedClock::new(clock);
    }

    /// The token's length before anything else.
    pub(crate) const fn check_len(&self, token: &str) -> Result<(), TokenRefused> {
        if token.len() > self.max_len {
            return Err(TokenRefused::TooLong {
                limit: self.max_len,
            });
        }
        Ok(())
    }

    /// Seconds since the epoch now.
    pub(crate) fn now(&self) -> i64 {
        unix_seconds(self.clock.system_now())
    }

    /// `exp` required and not past, `nbf` and `iat` not in the future, `iss` and `aud` among
    /// the accepted ones when configured (then also required).
    pub(crate) fn check(
        &self,
        claims: &Registered,
        issuers: &[String],
    ) -> Result<(), TokenRefused> {
        let now = self.now();
        let expires_at = claims.expires_at.ok_or(TokenRefused::Claim("exp"))?;
        if now > expires_at.saturating_add(self.leeway_secs) {
            return Err(TokenRefused::Expired);
        }
        let future =
            |at: Option<i64>| at.is_some_and(|at| at > now.saturating_add(self.leeway_secs));
        if future(claims.not_before) || future(claims.issued_at) {
            return Err(TokenRefused::NotYetValid);
        }
        if !issuers.is_empty() {
            let issuer = claims.issuer.as_deref().ok_or(TokenRefused::Claim("iss"))?;
            if !issuers.iter().any(|accepted| accepted == issuer) {
                return Err(TokenRefused::WrongIssuer);
            }
        }
        if !self.audiences.is_empty() {
            if claims.audience.is_empty() {
                return Err(TokenRefused::Claim("aud"));
            }
            let accepted = claims
                .audience
                .iter()
                .any(|audience| self.audiences.contains(audience));
            if !accepted {
                return Err(TokenRefused::WrongAudience);
            }
        }
        Ok(())
    }
}

/// `at` as whole seconds since the epoch (negative before it).
pub(crate) fn unix_seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
