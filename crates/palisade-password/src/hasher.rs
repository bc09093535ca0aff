//! `Passwords`: hash with Argon2id, verify every supported scheme, upgrade on login. (Not
//! `PasswordHasher`, the name of the `password-hash` trait that argon2 users import too.)

use std::fmt;
use std::sync::Arc;

use argon2::{Algorithm, Version};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::memory::Memory;
use crate::pool::Pool;
use crate::stored::{Stored, keyed};
use crate::verified::Rehash;
use crate::{Error, HashScheme, Pepper, Peppers, Policy, RehashReason, Verified, encoding};

/// Salt bytes in every hash this crate writes (OWASP and RFC 9106 recommend 16).
pub(crate) const SALT_LEN: usize = 16;
/// Digest bytes in every hash this crate writes (RFC 9106's 256-bit tag).
pub(crate) const DIGEST_LEN: usize = 32;

/// Hashes passwords with Argon2id and verifies hashes in every supported scheme, upgrading
/// them on a successful login.
///
/// Cheap to clone (an `Arc`); clones share the async pool.
///
/// ```
/// use palisade_password::{Error, Passwords, Policy};
///
/// let hasher = Passwords::new(Policy::DEFAULT)?;
/// let stored = hasher.hash("correct horse battery staple")?;
/// assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
///
/// let verified = hasher.verify("correct horse battery staple", &stored)?;
/// assert!(!verified.rehash_due());
/// assert!(matches!(hasher.verify("wrong", &stored), Err(Error::Mismatch)));
///
/// // An unknown user costs the same as a known one with a wrong password.
/// assert!(matches!(hasher.dummy_verify("anything"), Err(Error::Mismatch)));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
    #[cfg(feature = "audit")]
    audit: Option<palisade_audit::Audit>,
}

struct Inner {
    policy: Policy,
    peppers: Option<Peppers>,
    /// A hash of no password under the current policy and pepper: `dummy_verify` runs the
    /// same parse, the same Argon2id work and the same comparison as a real verify.
    dummy: String,
    pool: Pool,
    memory: Memory,
}

impl Passwords {
    /// A hasher without a pepper.
    ///
    /// # Errors
    /// [`Error::Random`] when the operating system's random number generator fails.
    pub fn new(policy: Policy) -> Result<Self> {
        Self::build(policy, None)
    }

    /// A hasher that peppers new hashes with `peppers.current()` and still verifies hashes made
    /// with the earlier peppers (asking for a rehash).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_peppers(policy: Policy, peppers: Peppers) -> Result<Self> {
        Self::build(policy, Some(peppers))
    }

    fn build(policy: Policy, peppers: Option<Peppers>) -> Result<Self> {
        let pepper = peppers.as_ref().map(Peppers::current);
        let dummy = phc_string(
            &policy,
            pepper,
            &random::<SALT_LEN>()?,
            &random::<DIGEST_LEN>()?,
        );
        let concurrency = policy
            .concurrency()
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, std::num::NonZeroUsize::get);
        let policy_blocks = usize::try_from(policy.m_cost()).unwrap_or(usize::MAX);
        Ok(Self {
            #[cfg(feature = "audit")]
            audit: None,
            inner: Arc::new(Inner {
                pool: Pool::new(concurrency, policy.queue_bound()),
                memory: Memory::new(concurrency, policy_blocks),
                policy,
                peppers,
                dummy,
            }),
        })
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Hashes `password` with Argon2id under the policy (and the current pepper), as a PHC
    /// string. Blocks for the whole hash: async code uses [`hash_async`](Self::hash_async).
    ///
    /// # Errors
    /// [`Error::PasswordTooShort`] below the policy's minimum; [`Error::PasswordTooLong`];
    /// [`Error::Random`].
    pub fn hash(&self, password: &str) -> Result<String> {
        self.check_len(password)?;
        let min = self.inner.policy.min_password_len();
        if password.chars().count() < min {
            return Err(Error::PasswordTooShort { min });
        }
        let policy = &self.inner.policy;
        let pepper = self.inner.peppers.as_ref().map(Peppers::current);
        let salt = random::<SALT_LEN>()?;
        let params = argon2::Params::new(
            policy.m_cost(),
            policy.t_cost(),
            policy.p_cost(),
            Some(DIGEST_LEN),
        )
        .map_err(|_| Error::malformed(HashScheme::Argon2id, "argon2 refuses the policy"))?;
        let argon2 = keyed(Algorithm::Argon2id, Version::V0x13, params, pepper)
            .map_err(|_| Error::malformed(HashScheme::Argon2id, "argon2 refuses the pepper"))?;
        let mut digest = Zeroizing::new([0u8; DIGEST_LEN]);
        self.inner
            .memory
            .hash_into(&argon2, password.as_bytes(), &salt, digest.as_mut_slice())
            .map_err(|_| Error::malformed(HashScheme::Argon2id, "argon2 refuses the input"))?;
        Ok(phc_string(policy, pepper, &salt, digest.as_slice()))
    }

    /// Checks `password` against a stored hash in any supported scheme. On a match, says
    /// whether the stored hash should be replaced and carries the replacement. Blocks for the
    /// whole verify: async code uses [`verify_async`](Self::verify_async).
    ///
    /// # Errors
    /// [`Error::Mismatch`] for a wrong password; [`Error::PasswordTooShort`] for an empty
    /// one; [`Error::PasswordTooLong`];
    /// [`Error::StoredTooLong`], [`Error::FormatUnknown`], [`Error::FormatMalformed`] and
    /// [`Error::ParamOutOfBounds`] for a stored hash that cannot be used;
    /// [`Error::PepperUnknown`]; [`Error::Random`] while making the upgraded hash.
    pub fn verify(&self, password: &str, stored: &str) -> Result<Verified> {
        self.reported(self.verify_quietly(password, stored))
    }

    /// [`verify`](Self::verify) without an audit event (the pool's side of
    /// [`verify_async`](Self::verify_async), which reports on the caller's task).
    fn verify_quietly(&self, password: &str, stored: &str) -> Result<Verified> {
        self.check_len(password)?;
        let stored = Stored::parse(stored, self.inner.policy.stored_limits())?;
        let scheme = stored.scheme();
        let bytes = password.as_bytes();
        let (matched, reason) = match &stored {
            Stored::Argon2(hash) => {
                let (pepper, pepper_reason) = self.pepper_for(hash.key_id())?;
                let policy = &self.inner.policy;
                let reason = if scheme != HashScheme::Argon2id {
                    Some(RehashReason::LegacyScheme)
                } else if hash.weaker_than(policy.m_cost(), policy.t_cost(), policy.p_cost()) {
                    Some(RehashReason::WeakerParameters)
                } else {
                    pepper_reason
                };
                (hash.matches(bytes, pepper, &self.inner.memory)?, reason)
            }
            Stored::Bcrypt(hash) => (hash.matches(bytes)?, Some(RehashReason::LegacyScheme)),
            Stored::Pbkdf2(hash) => (hash.matches(bytes), Some(RehashReason::LegacyScheme)),
            Stored::Scrypt(hash) => (hash.matches(bytes)?, Some(RehashReason::LegacyScheme)),
        };
        if !matched {
            return Err(Error::Mismatch);
        }
        let rehash = match reason {
            Some(reason) => Some(Rehash {
                reason,
                hash: self.hash(password)?,
            }),
            None => None,
        };
        Ok(Verified { scheme, rehash })
    }

    /// Does the work of verifying `password` against an Argon2id hash under the current policy
    /// and always fails with [`Error::Mismatch`]: call it when the user does not exist, so
    /// that the answer takes as long as for a user who does.
    ///
    /// # Errors
    /// Always: [`Error::Mismatch`], or [`Error::PasswordTooShort`] (empty) and
    /// [`Error::PasswordTooLong`] as a real verify would.
    pub fn dummy_verify(&self, password: &str) -> Result<Verified> {
        self.reported(self.dummy_verify_quietly(password))
    }

    fn dummy_verify_quietly(&self, password: &str) -> Result<Verified> {
        match self.verify_quietly(password, &self.inner.dummy) {
            Ok(_) => Err(Error::Mismatch),
            Err(e) => Err(e),
        }
    }

    /// Reports failed verifications (a mismatch, `Busy`) and rehashes to the audit handle
    /// set with `with_audit`, and returns `result`.
    #[cfg_attr(
        not(feature = "audit"),
        allow(
            clippy::unused_self,
            reason = "one signature with and without the feature"
        )
    )]
    fn reported(&self, result: Result<Verified>) -> Result<Verified> {
        #[cfg(feature = "audit")]
        if let Some(audit) = &self.audit {
            crate::events::report(audit, &result);
        }
        result
    }

    /// Emits to `audit`, on the caller's task (so the request's user and client address
    /// are on each event): `AuthFailed` for a wrong password (reason `mismatch`, also from
    /// [`dummy_verify`](Self::dummy_verify)) and for a full pool (`busy`), and
    /// `PasswordRehashed` (reason `legacy-scheme`, `weaker-parameters`, ...) when a
    /// verification carries an upgraded hash. Nothing of the password or the hash.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// [`hash`](Self::hash) on the bounded pool: never blocks the async executor.
    ///
    /// # Errors
    /// As [`hash`](Self::hash); [`Error::Busy`] when the queue is full;
    /// [`Error::TaskFailed`] when the runtime shuts down under it.
    pub async fn hash_async(&self, password: &str) -> Result<String> {
        self.check_len(password)?;
        let (this, password) = (self.clone(), Zeroizing::new(password.to_owned()));
        self.inner.pool.run(move || this.hash(&password)).await?
    }

    /// [`verify`](Self::verify) on the bounded pool: never blocks the async executor.
    ///
    /// # Errors
    /// As [`verify`](Self::verify); [`Error::Busy`] when the queue is full (distinct from
    /// `Mismatch`: answer "try again later"); [`Error::TaskFailed`] when the runtime shuts down
    /// under it.
    pub async fn verify_async(&self, password: &str, stored: &str) -> Result<Verified> {
        self.check_len(password)?;
        let this = self.clone();
        let (password, stored) = (Zeroizing::new(password.to_owned()), stored.to_owned());
        let result = self
            .inner
            .pool
            .run(move || this.verify_quietly(&password, &stored))
            .await
            .and_then(|verified| verified);
        self.reported(result)
    }

    /// [`dummy_verify`](Self::dummy_verify) on the bounded pool.
    ///
    /// # Errors
    /// As [`dummy_verify`](Self::dummy_verify) and [`verify_async`](Self::verify_async).
    pub async fn dummy_verify_async(&self, password: &str) -> Result<Verified> {
        self.check_len(password)?;
        let (this, password) = (self.clone(), Zeroizing::new(password.to_owned()));
        let result = self
            .inner
            .pool
            .run(move || this.dummy_verify_quietly(&password))
            .await
            .and_then(|verified| verified);
        self.reported(result)
    }

    /// Async callers currently running or waiting on the pool.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.inner.pool.admitted()
    }

    /// The bounds every password meets, new or verified: not empty (an empty password is
    /// never a credential), not longer than the policy's maximum.
    fn check_len(&self, password: &str) -> Result<()> {
        if password.is_empty() {
            return Err(Error::PasswordTooShort { min: 1 });
        }
        let max = self.inner.policy.max_password_len();
        if password.len() > max {
            return Err(Error::PasswordTooLong { max });
        }
        Ok(())
    }

    /// The pepper a stored Argon2 hash needs, and the rehash that its pepper (or lack of
    /// one) calls for.
    fn pepper_for(&self, key_id: Option<&[u8]>) -> Result<(Option<&Pepper>, Option<RehashReason>)> {
        let unknown = |id: &[u8]| Error::PepperUnknown {
            key_id: String::from_utf8_lossy(id).into_owned(),
        };
        match (key_id, &self.inner.peppers) {
            (None, None) => Ok((None, None)),
            (None, Some(_)) => Ok((None, Some(RehashReason::NotPeppered))),
            (Some(id), None) => Err(unknown(id)),
            (Some(id), Some(peppers)) => {
                let pepper = peppers.find(id).ok_or_else(|| unknown(id))?;
                let old = pepper.key_id() != peppers.current().key_id();
                Ok((Some(pepper), old.then_some(RehashReason::OldPepper)))
            }
        }
    }
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("policy", &self.inner.policy)
            .field(
                "pepper",
                &self.inner.peppers.as_ref().map(|p| p.current().key_id()),
            )
            .finish_non_exhaustive()
    }
}

/// `$argon2id$v=19$m=..,t=..,p=..[,keyid=..]$salt$digest`.
fn phc_string(policy: &Policy, pepper: Option<&Pepper>, salt: &[u8], digest: &[u8]) -> String {
    let key_id = pepper.map_or_else(String::new, |p| format!(",keyid={}", p.phc_key_id()));
    format!(
        "$argon2id$v=19$m={},t={},p={}{key_id}${}${}",
        policy.m_cost(),
        policy.t_cost(),
        policy.p_cost(),
        encoding::encode_phc(salt),
        encoding::encode_phc(digest),
    )
}

/// `N` random bytes from the operating system.
fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
    Ok(bytes)
}
