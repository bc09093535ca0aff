//! The errors of hashing and verifying.

use crate::HashScheme;

/// What can go wrong hashing or verifying a password.
///
/// No variant carries the password or the stored hash. A wrong password is the opaque
/// [`Mismatch`](Self::Mismatch); everything else is about the input's shape or the machine, and
/// a caller that maps errors to responses must answer all of them to the user the same way as
/// `Mismatch` (only the log line may differ), or the errors become an account oracle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The password does not match the stored hash.
    #[error("password does not match")]
    Mismatch,
    /// The password is longer than the policy's maximum (in bytes).
    #[error("password is longer than {max} bytes")]
    PasswordTooLong {
        /// The policy's maximum.
        max: usize,
    },
    /// A new password is shorter than the policy's minimum (in characters), or a password
    /// to verify is empty (`min` is then 1).
    #[error("password is shorter than {min} characters")]
    PasswordTooShort {
        /// The minimum.
        min: usize,
    },
    /// The stored hash is longer than any hash of a known format.
    #[error("stored hash is longer than {max} bytes")]
    StoredTooLong {
        /// The longest stored hash accepted.
        max: usize,
    },
    /// The stored hash is in no format this crate knows.
    #[error("stored hash is in no known format")]
    FormatUnknown,
    /// The stored hash starts like a known scheme but does not parse.
    #[error("stored {scheme} hash is malformed: {problem}")]
    FormatMalformed {
        /// The scheme its prefix names.
        scheme: HashScheme,
        /// What is wrong, in words that never quote the hash.
        problem: &'static str,
    },
    /// A cost parameter of the stored hash is past the policy's bound for stored hashes (a
    /// planted hash must not make a login allocate gigabytes or run for minutes).
    #[error("stored {scheme} hash parameter {name} is past the bound of {max}")]
    ParamOutOfBounds {
        /// The hash's scheme.
        scheme: HashScheme,
        /// The parameter (`m`, `t`, `p`, `cost`, `iterations`, `memory`).
        name: &'static str,
        /// The bound it exceeds.
        max: u64,
    },
    /// The stored hash was made with a pepper whose key id this hasher was not given.
    #[error("stored hash needs pepper {key_id:?}, which is not configured")]
    PepperUnknown {
        /// The key id from the hash's `keyid` parameter (an identifier, not the pepper).
        key_id: String,
    },
    /// Too many hash operations are queued: retry later. Distinct from `Mismatch`, so a flood
    /// answers "try again" (HTTP 503/429) and never "wrong password".
    #[error("password hashing is busy, retry later")]
    Busy,
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// A hashing task on the blocking pool panicked or was cancelled at shutdown.
    #[error("password hashing task did not complete")]
    TaskFailed,
}

impl Error {
    /// The error as problem details for a sign-in: every error but [`Busy`](Self::Busy) is
    /// `401` "the credentials are not valid", the same as a wrong password, so the answer is
    /// no account oracle; `Busy` is `503`. Nothing carries the password or the stored hash.
    #[must_use]
    pub fn problem_details(&self) -> palisade_problem::Problem {
        use http::StatusCode;
        match self {
            Self::Busy => palisade_problem::Problem::new(
                "password/busy",
                "password checks are busy, retry later",
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            _ => palisade_problem::Problem::new(
                "password/invalid-credentials",
                "the credentials are not valid",
                StatusCode::UNAUTHORIZED,
            ),
        }
    }

    /// The status of [`problem_details`](Self::problem_details).
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        self.problem_details().status()
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        self.problem_details().into_response()
    }
}

/// A [`Policy`](crate::Policy) value that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A parameter is below its minimum.
    #[error("policy parameter {name} is below the minimum of {min}")]
    ParamBelowMin {
        /// The parameter.
        name: &'static str,
        /// Its minimum.
        min: u64,
    },
    /// A parameter is above its maximum.
    #[error("policy parameter {name} is above the maximum of {max}")]
    ParamAboveMax {
        /// The parameter.
        name: &'static str,
        /// Its maximum.
        max: u64,
    },
    /// Memory × passes is below OWASP's floor (every configuration it lists does at least
    /// 7 MiB × 5 passes of work).
    #[error("policy work m_cost x t_cost is below the floor of {min} KiB-passes")]
    WorkBelowFloor {
        /// The floor.
        min: u64,
    },
}

/// A pepper that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PepperError {
    /// The key id is empty or longer than 8 bytes (Argon2's `keyid` limit).
    #[error("pepper key id must be 1 to 8 bytes of [A-Za-z0-9_-]")]
    KeyIdInvalid,
    /// The pepper is shorter than 16 bytes.
    #[error("pepper is shorter than {min} bytes")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// The pepper is longer than Argon2 accepts as a secret.
    #[error("pepper is longer than {max} bytes")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// Two peppers share a key id.
    #[error("pepper key id {key_id:?} is configured twice")]
    KeyIdDuplicated {
        /// The key id.
        key_id: String,
    },
    /// The pepper could not be read from its secret source.
    #[error("pepper could not be read")]
    Secret(#[source] palisade_secrets::SecretError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) const fn malformed(scheme: HashScheme, problem: &'static str) -> Self {
        Self::FormatMalformed { scheme, problem }
    }
}

/// Checks `value <= max` for a stored hash's parameter.
pub(crate) fn bounded(scheme: HashScheme, name: &'static str, value: u64, max: u64) -> Result<()> {
    if value > max {
        return Err(Error::ParamOutOfBounds { scheme, name, max });
    }
    Ok(())
}
