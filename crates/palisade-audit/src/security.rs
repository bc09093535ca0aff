//! `SecurityEvent`: what a guard, limiter or verifier decided about a request, with who and
//! when.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::Actor;

/// The closed set of security events the crates emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityKind {
    /// A sign-in or credential check failed (wrong password, unknown user, `Busy`).
    AuthFailed,
    /// A sign-in succeeded.
    AuthSucceeded,
    /// A bearer token was refused (signature, expiry, audience, issuer, algorithm).
    TokenRefused,
    /// A rate limit refused a request.
    RateLimited,
    /// A SQL or Mongo guard refused a statement, filter or update before it was sent.
    GuardRefused,
    /// A stored password hash was upgraded after a successful verification.
    PasswordRehashed,
    /// A one-time code was redeemed again, or after it expired.
    OneTimeCodeReused,
    /// An authenticated caller asked for something it may not have (another owner's record, a
    /// refused origin).
    AccessDenied,
    /// A secret could not be read from its store.
    SecretUnavailable,
}

impl SecurityKind {
    /// Every kind.
    pub const ALL: [Self; 9] = [
        Self::AuthFailed,
        Self::AuthSucceeded,
        Self::TokenRefused,
        Self::RateLimited,
        Self::GuardRefused,
        Self::PasswordRehashed,
        Self::OneTimeCodeReused,
        Self::AccessDenied,
        Self::SecretUnavailable,
    ];

    /// Its name in logs: `auth_failed`, `guard_refused`, ...
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AuthFailed => "auth_failed",
            Self::AuthSucceeded => "auth_succeeded",
            Self::TokenRefused => "token_refused",
            Self::RateLimited => "rate_limited",
            Self::GuardRefused => "guard_refused",
            Self::PasswordRehashed => "password_rehashed",
            Self::OneTimeCodeReused => "one_time_code_reused",
            Self::AccessDenied => "access_denied",
            Self::SecretUnavailable => "secret_unavailable",
        }
    }
}

/// One security event. Its `reason` is a `&'static str` (a rule id such as `tautology`, a
/// refusal class such as `expired`): a value that arrived at run time cannot be put in it,
/// so no statement, filter value, token or password reaches an event.
///
/// ```
/// use palisade_audit::{SecurityEvent, SecurityKind};
///
/// let event = SecurityEvent::new(SecurityKind::GuardRefused, "palisade-sql").with_reason("tautology");
/// assert_eq!(event.reason(), Some("tautology"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    kind: SecurityKind,
    source: &'static str,
    reason: Option<&'static str>,
    pub(crate) actor: Actor,
    pub(crate) at: Option<SystemTime>,
}

impl SecurityEvent {
    /// A `kind` event emitted by the crate or component `source`; its actor is completed from
    /// the [`ActorSource`](crate::ActorSource) and its time set from the clock on emission.
    #[must_use]
    pub const fn new(kind: SecurityKind, source: &'static str) -> Self {
        Self {
            kind,
            source,
            reason: None,
            actor: Actor::none(),
            at: None,
        }
    }

    /// Why: a rule id or a refusal class, never a value.
    #[must_use]
    pub const fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The user it concerns, when the emitter knows better than the request context (the
    /// user a failed sign-in claimed).
    #[must_use]
    pub fn with_user(mut self, user: impl Into<Arc<str>>) -> Self {
        self.actor.user = Some(user.into());
        self
    }

    /// The client's address, when the emitter knows it and the context does not.
    #[must_use]
    pub fn with_client(mut self, client: IpAddr) -> Self {
        self.actor.client = Some(client);
        self
    }

    /// Its kind.
    #[must_use]
    pub const fn kind(&self) -> SecurityKind {
        self.kind
    }

    /// The component that emitted it (`palisade-sql`, `palisade-ratelimit`, ...).
    #[must_use]
    pub const fn source(&self) -> &'static str {
        self.source
    }

    /// Why, when the emitter says.
    #[must_use]
    pub const fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    /// Who.
    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// When (set on emission from the injected clock; the Unix epoch before).
    #[must_use]
    pub fn at(&self) -> SystemTime {
        self.at.unwrap_or(SystemTime::UNIX_EPOCH)
    }
}
