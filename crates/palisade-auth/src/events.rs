//! The `audit` feature: refused tokens, refused one-time codes and refused Turnstile tokens
//! as palisade-audit security events. Without the feature, nothing (and no cost).

#[cfg(feature = "audit")]
use palisade_audit::{Audit, SecurityEvent, SecurityKind};

#[cfg(feature = "audit")]
const SOURCE: &str = "palisade-auth";

/// Where a verifier's refusals go, if anywhere.
#[derive(Debug, Clone, Default)]
pub(crate) struct Events {
    #[cfg(feature = "audit")]
    audit: Option<Audit>,
}

impl Events {
    #[cfg(feature = "audit")]
    pub(crate) fn new(audit: Audit) -> Self {
        Self { audit: Some(audit) }
    }

    /// A bearer token was refused for `reason` (`token/expired`).
    pub(crate) fn token_refused(&self, reason: &'static str) {
        #[cfg(feature = "audit")]
        self.emit(SecurityKind::TokenRefused, reason);
        #[cfg(not(feature = "audit"))]
        let _ = reason;
    }

    /// A one-time code was refused: unknown, expired, spent or with a wrong verifier.
    pub(crate) fn code_refused(&self) {
        #[cfg(feature = "audit")]
        self.emit(SecurityKind::OneTimeCodeReused, "code/refused");
    }

    /// A Turnstile token was refused for `reason`.
    pub(crate) fn turnstile_refused(&self, reason: &'static str) {
        #[cfg(feature = "audit")]
        self.emit(SecurityKind::AccessDenied, reason);
        #[cfg(not(feature = "audit"))]
        let _ = reason;
    }

    #[cfg(feature = "audit")]
    fn emit(&self, kind: SecurityKind, reason: &'static str) {
        if let Some(audit) = &self.audit {
            audit.security(SecurityEvent::new(kind, SOURCE).with_reason(reason));
        }
    }
}
