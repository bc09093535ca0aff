//! The `audit` feature: failed verifications and rehashes as security events.

use palisade_audit::{Audit, SecurityEvent, SecurityKind};

use crate::{Error, Verified};

const SOURCE: &str = "palisade-password";

/// Emits what `result` says about a verification: nothing for a plain success or an input
/// error.
pub(crate) fn report(audit: &Audit, result: &Result<Verified, Error>) {
    let event = match result {
        Err(Error::Mismatch) => {
            SecurityEvent::new(SecurityKind::AuthFailed, SOURCE).with_reason("mismatch")
        }
        Err(Error::Busy) => {
            SecurityEvent::new(SecurityKind::AuthFailed, SOURCE).with_reason("busy")
        }
        Ok(verified) => match verified.rehash_reason() {
            Some(reason) => SecurityEvent::new(SecurityKind::PasswordRehashed, SOURCE)
                .with_reason(reason.name()),
            None => return,
        },
        Err(_) => return,
    };
    audit.security(event);
}
