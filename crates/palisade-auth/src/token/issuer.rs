//! `TokenIssuer`: signs the application's own tokens.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use palisade_clock::{Clock, SharedClock};
use serde::Serialize;
use serde_json::Value;

use super::keys::SigningKey;
use super::rules::unix_seconds;

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The application's claims do not serialize to a JSON object.
    #[error("the claims are not a JSON object")]
    Claims,
    /// Signing failed.
    #[error("signing failed")]
    Signing,
    /// A token lifetime outside 1 second to 7 days.
    #[error("a token lives 1 second to 7 days")]
    Lifetime,
}

/// Signs tokens with one key (its `kid` in the header): `iat`, `nbf` (now), `exp` (now plus the
/// lifetime, default 15 minutes), a random `jti`, and `iss`/`aud` when configured; the
/// registered claims replace an application claim of the same name (a caller's claims can
/// neither extend a token nor change its subject).
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    key: SigningKey,
    issuer: Option<String>,
    audience: Option<String>,
    lifetime: Duration,
    clock: SharedClock,
}

impl TokenIssuer {
    /// Issues with `key`.
    #[must_use]
    pub fn new(key: SigningKey) -> Self {
        Self {
            key,
            issuer: None,
            audience: None,
            lifetime: Duration::from_secs(15 * 60),
            clock: SharedClock::system(),
        }
    }

    /// The `iss` of every token.
    #[must_use]
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// The `aud` of every token.
    #[must_use]
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// How long tokens live (default 15 minutes; 1 second to 7 days).
    ///
    /// # Errors
    /// [`IssueError::Lifetime`] outside that range: a bearer token that lives longer is a
    /// password nobody can change.
    pub fn lifetime(mut self, lifetime: Duration) -> Result<Self, IssueError> {
        if !(Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600)).contains(&lifetime) {
            return Err(IssueError::Lifetime);
        }
        self.lifetime = lifetime;
        Ok(self)
    }

    /// Read the time from `clock`.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = SharedClock::new(clock);
        self
    }

    /// A token for `subject` carrying `claims` (a struct or map serializing to an object).
    ///
    /// # Errors
    /// [`IssueError`] when the claims are not an object or signing fails.
    pub fn issue<C: Serialize>(&self, subject: &str, claims: &C) -> Result<String, IssueError> {
        let Ok(Value::Object(mut object)) = serde_json::to_value(claims) else {
            return Err(IssueError::Claims);
        };
        let now = unix_seconds(self.clock.system_now());
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX);
        // The registered claims replace any application claim of the same name.
        let registered = [
            ("iss", self.issuer.as_deref().map(Value::from)),
            ("sub", Some(Value::from(subject))),
            ("aud", self.audience.as_deref().map(Value::from)),
            ("iat", Some(Value::from(now))),
            ("nbf", Some(Value::from(now))),
            ("exp", Some(Value::from(now.saturating_add(lifetime)))),
            (
                "jti",
                Some(Value::from(
                    URL_SAFE_NO_PAD.encode(crate::random::bytes::<16>()),
                )),
            ),
        ];
        for (name, value) in registered {
            match value {
                Some(value) => object.insert(name.to_owned(), value),
                None => object.remove(name),
            };
        }
        let mut header = Header::new(self.key.jwt_algorithm());
        header.kid = Some(self.key.kid().to_owned());
        jsonwebtoken::encode(&header, &object, self.key.encoding()).map_err(|_| IssueError::Signing)
    }
}
