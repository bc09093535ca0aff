//! Errors shared by the callers of one single-flight load.

use std::fmt;
use std::sync::Arc;

use crate::error::CryptError;

/// An error several callers waited on: each gets the same kind, the cause shared.
pub(crate) fn shared(error: Arc<CryptError>) -> CryptError {
    match &*error {
        CryptError::Undecryptable => CryptError::Undecryptable,
        CryptError::KeyDestroyed => CryptError::KeyDestroyed,
        CryptError::Malformed { what } => CryptError::Malformed { what },
        CryptError::KeyInvalid { what } => CryptError::KeyInvalid { what },
        CryptError::Wrapper {
            wrapper, retryable, ..
        } => CryptError::Wrapper {
            wrapper,
            retryable: *retryable,
            source: Box::new(Shared(error.clone())),
        },
        _ => CryptError::Store {
            source: Box::new(Shared(error)),
        },
    }
}

/// The cause of a shared error: the original error's own cause, so that each caller sees the
/// same chain as the one whose call failed.
struct Shared(Arc<CryptError>);

impl Shared {
    fn cause(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cause() {
            Some(cause) => fmt::Debug::fmt(cause, f),
            None => fmt::Debug::fmt(&self.0, f),
        }
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cause() {
            Some(cause) => fmt::Display::fmt(cause, f),
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause().and_then(std::error::Error::source)
    }
}
