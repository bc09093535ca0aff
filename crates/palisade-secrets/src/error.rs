//! `SecretError`: why a secret could not be read. Never contains a secret value.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::SecretRef;

/// A boxed cause from a backend (an SDK or transport error already stripped of values). Named
/// apart from `tower::BoxError`, which services using both crates import too.
pub type SourceCause = Box<dyn StdError + Send + Sync + 'static>;

/// Why a secret could not be read.
///
/// Messages name the reference (which is not a secret), the field, the file and the line,
/// never a value. [`is_not_found`](Self::is_not_found) separates "this source does not have
/// it" (a [`Chain`](crate::Chain) tries the next source) from every other failure, which a
/// chain reports instead of silently falling through.
#[derive(Debug)]
#[non_exhaustive]
pub enum SecretError {
    /// The source has no secret under this reference.
    NotFound {
        /// The reference looked up.
        reference: SecretRef,
    },
    /// No source handles the reference's scheme.
    SchemeUnsupported {
        /// The reference.
        reference: SecretRef,
    },
    /// The value is not a JSON object, so `#field` cannot select from it.
    NotJsonObject {
        /// The reference, with its field.
        reference: SecretRef,
    },
    /// The JSON object has no such field.
    FieldMissing {
        /// The reference, with its field.
        reference: SecretRef,
    },
    /// The value is not UTF-8 where text is needed.
    NotUtf8 {
        /// The reference.
        reference: SecretRef,
    },
    /// The value is larger than the source allows.
    TooLarge {
        /// The reference.
        reference: SecretRef,
        /// The limit, in bytes.
        max: u64,
    },
    /// A `.env` file has a line that does not parse.
    DotEnvLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
    },
    /// Reading a file failed.
    Io {
        /// The reference.
        reference: SecretRef,
        /// The I/O error (its message names the operation, not the content).
        cause: io::Error,
    },
    /// The backend could not be reached or failed (an outage, a timeout, a 5xx).
    Unavailable {
        /// The reference.
        reference: SecretRef,
        /// The underlying error.
        cause: SourceCause,
    },
    /// The backend refused the credentials or the caller's permissions.
    AccessDenied {
        /// The reference.
        reference: SecretRef,
    },
    /// The backend holds the secret but cannot decrypt it (AWS's `DecryptionFailure`: a KMS key
    /// that is disabled, deleted or not usable by this caller).
    Undecryptable {
        /// The reference.
        reference: SecretRef,
    },
    /// The backend holds the secret but it is disabled (Key Vault's `enabled: false`).
    Disabled {
        /// The reference.
        reference: SecretRef,
    },
    /// The secret is past its expiry date (Key Vault's `exp`, which Key Vault reports but does
    /// not enforce for secrets).
    Expired {
        /// The reference.
        reference: SecretRef,
    },
    /// The secret is before its not-before date (Key Vault's `nbf`).
    NotYetValid {
        /// The reference.
        reference: SecretRef,
    },
}

impl SecretError {
    /// [`Unavailable`](Self::Unavailable) with a cause that is only `description` (what
    /// failed, in words a backend chose: never a response body or a value).
    ///
    /// ```
    /// use palisade_secrets::{SecretError, SecretRef};
    ///
    /// let reference: SecretRef = "vault:secret/db".parse()?;
    /// let error = SecretError::unavailable(&reference, "Vault answered HTTP 503");
    /// assert!(error.is_outage());
    /// assert_eq!(
    ///     std::error::Error::source(&error).map(ToString::to_string).as_deref(),
    ///     Some("Vault answered HTTP 503")
    /// );
    /// # Ok::<(), palisade_secrets::RefError>(())
    /// ```
    #[must_use]
    pub fn unavailable(reference: &SecretRef, description: impl Into<String>) -> Self {
        Self::Unavailable {
            reference: reference.clone(),
            cause: Box::new(Described(description.into())),
        }
    }

    /// Whether the source simply does not have the secret (as opposed to failing to answer).
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the source failed to answer (an outage, a timeout, an unreadable file), as
    /// opposed to answering "no" (not found, access denied, a value that does not fit).
    /// [`Cached`](crate::Cached) serves a stale value only for an outage.
    #[must_use]
    pub const fn is_outage(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Io { .. })
    }
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { reference } => write!(f, "secret {reference} not found"),
            // The scheme only: a value written where a reference belongs (`base64:<key>`)
            // must not be echoed back.
            Self::SchemeUnsupported { reference } => {
                write!(
                    f,
                    "no secret source handles the scheme `{}`",
                    reference.scheme()
                )
            }
            Self::NotJsonObject { reference } => {
                write!(
                    f,
                    "secret {reference} is not a JSON object, so its field cannot be selected"
                )
            }
            Self::FieldMissing { reference } => write!(
                f,
                "secret {reference} has no field `{}`",
                reference.field().unwrap_or_default()
            ),
            Self::NotUtf8 { reference } => write!(f, "secret {reference} is not valid UTF-8"),
            Self::TooLarge { reference, max } => {
                write!(f, "secret {reference} is larger than {max} bytes")
            }
            Self::DotEnvLine { path, line } => {
                write!(f, "{} line {line} is not a valid .env line", path.display())
            }
            Self::Io { reference, .. } => write!(f, "cannot read secret {reference}"),
            Self::Unavailable { reference, .. } => {
                write!(f, "secret source for {reference} is unavailable")
            }
            Self::AccessDenied { reference } => {
                write!(f, "access to secret {reference} was denied")
            }
            Self::Undecryptable { reference } => {
                write!(f, "secret {reference} cannot be decrypted by its backend")
            }
            Self::Disabled { reference } => write!(f, "secret {reference} is disabled"),
            Self::Expired { reference } => write!(f, "secret {reference} has expired"),
            Self::NotYetValid { reference } => write!(f, "secret {reference} is not valid yet"),
        }
    }
}

impl StdError for SecretError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Io { cause, .. } => Some(cause),
            Self::Unavailable { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
    }
}

/// A copy of a shared error for one of several callers that waited on the same backend call
/// (see [`Cached`](crate::Cached)). The copy keeps the variant and the reference; a cause that
/// cannot be cloned is shared behind an `Arc`.
pub(crate) fn duplicate(shared: &Arc<SecretError>) -> SecretError {
    match &**shared {
        SecretError::NotFound { reference } => SecretError::NotFound {
            reference: reference.clone(),
        },
        SecretError::SchemeUnsupported { reference } => SecretError::SchemeUnsupported {
            reference: reference.clone(),
        },
        SecretError::NotJsonObject { reference } => SecretError::NotJsonObject {
            reference: reference.clone(),
        },
        SecretError::FieldMissing { reference } => SecretError::FieldMissing {
            reference: reference.clone(),
        },
        SecretError::NotUtf8 { reference } => SecretError::NotUtf8 {
            reference: reference.clone(),
        },
        SecretError::TooLarge { reference, max } => SecretError::TooLarge {
            reference: reference.clone(),
            max: *max,
        },
        SecretError::DotEnvLine { path, line } => SecretError::DotEnvLine {
            path: path.clone(),
            line: *line,
        },
        SecretError::Io { reference, cause } => SecretError::Io {
            reference: reference.clone(),
            cause: io::Error::new(cause.kind(), SharedCause(Arc::clone(shared))),
        },
        SecretError::Unavailable { reference, .. } => SecretError::Unavailable {
            reference: reference.clone(),
            cause: Box::new(SharedCause(Arc::clone(shared))),
        },
        SecretError::AccessDenied { reference } => SecretError::AccessDenied {
            reference: reference.clone(),
        },
        SecretError::Undecryptable { reference } => SecretError::Undecryptable {
            reference: reference.clone(),
        },
        SecretError::Disabled { reference } => SecretError::Disabled {
            reference: reference.clone(),
        },
        SecretError::Expired { reference } => SecretError::Expired {
            reference: reference.clone(),
        },
        SecretError::NotYetValid { reference } => SecretError::NotYetValid {
            reference: reference.clone(),
        },
    }
}

/// The cause of a shared error: displays as that cause and continues its `source()` chain.
#[derive(Debug)]
struct SharedCause(Arc<SecretError>);

impl SharedCause {
    fn cause(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl fmt::Display for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cause() {
            Some(cause) => fmt::Display::fmt(cause, f),
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

impl StdError for SharedCause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause().and_then(StdError::source)
    }
}

/// A cause that is only words.
#[derive(Debug)]
struct Described(String);

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Described {}
