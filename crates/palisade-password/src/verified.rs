//! `Verified`: what a successful verify says about the stored hash.

use std::fmt;

use crate::HashScheme;

/// A password matched. Says which scheme the stored hash was in and, when the stored hash
/// should be replaced, carries the replacement so the login can store it in the same step.
///
/// `Debug` leaves the upgraded hash out (a hash can be attacked offline, so it stays out of
/// logs):
///
/// ```
/// use palisade_password::{Passwords, Policy, RehashReason};
///
/// // A hash made under an older, cheaper policy (OWASP's m = 7 MiB, t = 5)...
/// let old = Passwords::new(Policy::argon2id(7_168, 5, 1)?)?.hash("hunter2!!")?;
/// // ...verified under the default one asks to be replaced, and carries the replacement.
/// let verified = Passwords::new(Policy::DEFAULT)?.verify("hunter2!!", &old)?;
/// assert_eq!(verified.rehash_reason(), Some(RehashReason::WeakerParameters));
/// assert!(verified.upgraded_hash().unwrap().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
/// assert_eq!(
///     format!("{verified:?}"),
///     "Verified { scheme: Argon2id, rehash: Some(WeakerParameters), .. }"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Verified {
    pub(crate) scheme: HashScheme,
    pub(crate) rehash: Option<Rehash>,
}

/// Why a stored hash should be replaced, and its replacement.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Rehash {
    pub(crate) reason: RehashReason,
    pub(crate) hash: String,
}

/// Why a stored hash should be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RehashReason {
    /// It is in a scheme other than Argon2id in PHC form.
    LegacyScheme,
    /// It is Argon2id with less memory, fewer passes or lanes, a shorter salt or digest, or an
    /// older version than the policy writes.
    WeakerParameters,
    /// It was peppered with an earlier pepper than the current one.
    OldPepper,
    /// A pepper is configured, and it was hashed without one.
    NotPeppered,
}

impl RehashReason {
    /// A short, stable name (used by the CLI's JSON output).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::LegacyScheme => "legacy-scheme",
            Self::WeakerParameters => "weaker-parameters",
            Self::OldPepper => "old-pepper",
            Self::NotPeppered => "not-peppered",
        }
    }
}

impl Verified {
    /// The scheme the stored hash was in.
    #[must_use]
    pub const fn scheme(&self) -> HashScheme {
        self.scheme
    }

    /// Whether the stored hash should be replaced by [`upgraded_hash`](Self::upgraded_hash).
    #[must_use]
    pub const fn rehash_due(&self) -> bool {
        self.rehash.is_some()
    }

    /// Why the stored hash should be replaced, if it should.
    #[must_use]
    pub fn rehash_reason(&self) -> Option<RehashReason> {
        self.rehash.as_ref().map(|r| r.reason)
    }

    /// The Argon2id hash of the same password under the current policy, when a rehash is due.
    #[must_use]
    pub fn upgraded_hash(&self) -> Option<&str> {
        self.rehash.as_ref().map(|r| r.hash.as_str())
    }

    /// The upgraded hash, by value.
    #[must_use]
    pub fn into_upgraded_hash(self) -> Option<String> {
        self.rehash.map(|r| r.hash)
    }
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("scheme", &self.scheme)
            .field("rehash", &self.rehash_reason())
            .finish_non_exhaustive()
    }
}
