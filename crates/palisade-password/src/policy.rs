//! `Policy`: the Argon2id parameters new hashes get, and the bounds every verify respects.

use std::num::NonZeroUsize;

use crate::PolicyError;

/// How passwords are hashed and how much a verify may cost.
///
/// The default follows the OWASP Password Storage Cheat Sheet's first Argon2id configuration:
/// **m = 19 MiB (19,456 KiB), t = 2, p = 1**. OWASP lists equivalent trade-offs (m = 46 MiB, t = 1;
/// m = 12 MiB, t = 3; m = 9 MiB, t = 4; m = 7 MiB, t = 5): every one does at least 7 MiB × 5 = 35,840
/// KiB-passes of work, so that is the floor ([`MIN_WORK`](Self::MIN_WORK)) together with
/// m ≥ 7 MiB; parameters below it are refused with a [`PolicyError`].
///
/// ```
/// use palisade_password::Policy;
///
/// let policy = Policy::DEFAULT;
/// assert_eq!((policy.m_cost(), policy.t_cost(), policy.p_cost()), (19_456, 2, 1));
/// // OWASP's m = 46 MiB, t = 1 alternative:
/// let wide = Policy::argon2id(47_104, 1, 1)?;
/// assert!(Policy::argon2id(4_096, 2, 1).is_err(), "below the floor");
/// # Ok::<(), palisade_password::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    max_password_len: usize,
    min_password_len: usize,
    concurrency: Option<NonZeroUsize>,
    queue_bound: usize,
    stored: StoredLimits,
}

impl Policy {
    /// OWASP's m = 19 MiB, in KiB.
    pub const DEFAULT_M_COST: u32 = 19_456;
    /// OWASP's lowest memory setting, 7 MiB, in KiB.
    pub const MIN_M_COST: u32 = 7_168;
    /// 4 GiB, in KiB: past that, new hashes would not fit most servers.
    pub const MAX_M_COST: u32 = 4 * 1024 * 1024;
    /// OWASP's t = 2 at m = 19 MiB.
    pub const DEFAULT_T_COST: u32 = 2;
    /// One pass (with m ≥ 35 MiB to reach the work floor).
    pub const MIN_T_COST: u32 = 1;
    /// A login that runs 64 passes is a denial of service.
    pub const MAX_T_COST: u32 = 64;
    /// OWASP's p = 1.
    pub const DEFAULT_P_COST: u32 = 1;
    /// One lane.
    pub const MIN_P_COST: u32 = 1;
    /// Lanes beyond the cores of any login server buy nothing.
    pub const MAX_P_COST: u32 = 64;
    /// The least m × t OWASP recommends (7 MiB × 5 passes), in KiB-passes.
    pub const MIN_WORK: u64 = 35_840;
    /// Passwords longer than 4 KiB are refused before any hashing.
    pub const DEFAULT_MAX_PASSWORD_LEN: usize = 4096;
    /// New passwords shorter than 8 characters are refused (NIST SP 800-63B's minimum for a
    /// password the user chose; the reference back end's sign-up asks the same).
    pub const DEFAULT_MIN_PASSWORD_LEN: usize = 8;
    /// The longest maximum a policy may set (Argon2 itself takes up to 4 GiB).
    pub const MAX_MAX_PASSWORD_LEN: usize = 1024 * 1024;
    /// Async callers allowed to wait for a hashing slot before further calls fail with
    /// [`Error::Busy`](crate::Error::Busy).
    pub const DEFAULT_QUEUE_BOUND: usize = 4096;

    /// OWASP's Argon2id m = 19 MiB, t = 2, p = 1; 4 KiB passwords; as many concurrent hashes
    /// as cores; 4,096 queued callers; [`StoredLimits::DEFAULT`].
    pub const DEFAULT: Self = Self {
        m_cost: Self::DEFAULT_M_COST,
        t_cost: Self::DEFAULT_T_COST,
        p_cost: Self::DEFAULT_P_COST,
        max_password_len: Self::DEFAULT_MAX_PASSWORD_LEN,
        min_password_len: Self::DEFAULT_MIN_PASSWORD_LEN,
        concurrency: None,
        queue_bound: Self::DEFAULT_QUEUE_BOUND,
        stored: StoredLimits::DEFAULT,
    };

    /// The default policy with these Argon2id parameters (memory in KiB, passes, lanes).
    ///
    /// # Errors
    /// [`PolicyError`] when a parameter is outside its `MIN_*..=MAX_*` range or m × t is below
    /// [`MIN_WORK`](Self::MIN_WORK).
    pub const fn argon2id(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, PolicyError> {
        if let Err(e) = within("m_cost", m_cost, Self::MIN_M_COST, Self::MAX_M_COST) {
            return Err(e);
        }
        if let Err(e) = within("t_cost", t_cost, Self::MIN_T_COST, Self::MAX_T_COST) {
            return Err(e);
        }
        if let Err(e) = within("p_cost", p_cost, Self::MIN_P_COST, Self::MAX_P_COST) {
            return Err(e);
        }
        if (m_cost as u64) * (t_cost as u64) < Self::MIN_WORK {
            return Err(PolicyError::WorkBelowFloor {
                min: Self::MIN_WORK,
            });
        }
        Ok(Self {
            m_cost,
            t_cost,
            p_cost,
            stored: StoredLimits::DEFAULT.for_policy(m_cost, t_cost),
            ..Self::DEFAULT
        })
    }

    /// The same policy with another maximum password length, in bytes.
    ///
    /// # Errors
    /// [`PolicyError`] when `max` is 0 or above [`MAX_MAX_PASSWORD_LEN`](Self::MAX_MAX_PASSWORD_LEN).
    pub const fn with_max_password_len(self, max: usize) -> Result<Self, PolicyError> {
        if max == 0 {
            return Err(PolicyError::ParamBelowMin {
                name: "max_password_len",
                min: 1,
            });
        }
        if max > Self::MAX_MAX_PASSWORD_LEN {
            return Err(PolicyError::ParamAboveMax {
                name: "max_password_len",
                max: Self::MAX_MAX_PASSWORD_LEN as u64,
            });
        }
        Ok(Self {
            max_password_len: max,
            ..self
        })
    }

    /// The same policy with another minimum length for new passwords, in characters (an
    /// empty password is refused by every verify whatever the minimum).
    ///
    /// # Errors
    /// [`PolicyError`] when `min` is 0 or above the maximum length.
    pub const fn with_min_password_len(self, min: usize) -> Result<Self, PolicyError> {
        if min == 0 {
            return Err(PolicyError::ParamBelowMin {
                name: "min_password_len",
                min: 1,
            });
        }
        if min > self.max_password_len {
            return Err(PolicyError::ParamAboveMax {
                name: "min_password_len",
                max: self.max_password_len as u64,
            });
        }
        Ok(Self {
            min_password_len: min,
            ..self
        })
    }

    /// The same policy with this many hashes running at once on the async pool (default: the
    /// number of cores).
    #[must_use]
    pub const fn with_concurrency(self, concurrency: NonZeroUsize) -> Self {
        Self {
            concurrency: Some(concurrency),
            ..self
        }
    }

    /// The same policy with this many async callers allowed to wait for a slot; past it, calls
    /// fail at once with [`Error::Busy`](crate::Error::Busy). 0 means no waiting at all.
    #[must_use]
    pub const fn with_queue_bound(self, queue_bound: usize) -> Self {
        Self {
            queue_bound,
            ..self
        }
    }

    /// The same policy with other bounds for stored hashes.
    #[must_use]
    pub const fn with_stored_limits(self, stored: StoredLimits) -> Self {
        Self {
            stored: stored.for_policy(self.m_cost, self.t_cost),
            ..self
        }
    }

    /// Argon2id memory, in KiB.
    #[must_use]
    pub const fn m_cost(&self) -> u32 {
        self.m_cost
    }

    /// Argon2id passes.
    #[must_use]
    pub const fn t_cost(&self) -> u32 {
        self.t_cost
    }

    /// Argon2id lanes.
    #[must_use]
    pub const fn p_cost(&self) -> u32 {
        self.p_cost
    }

    /// The longest password accepted, in bytes.
    #[must_use]
    pub const fn max_password_len(&self) -> usize {
        self.max_password_len
    }

    /// The shortest new password accepted, in characters.
    #[must_use]
    pub const fn min_password_len(&self) -> usize {
        self.min_password_len
    }

    /// Hashes running at once on the async pool; `None` means the number of cores.
    #[must_use]
    pub const fn concurrency(&self) -> Option<NonZeroUsize> {
        self.concurrency
    }

    /// Async callers allowed to wait for a slot.
    #[must_use]
    pub const fn queue_bound(&self) -> usize {
        self.queue_bound
    }

    /// The bounds for stored hashes.
    #[must_use]
    pub const fn stored_limits(&self) -> &StoredLimits {
        &self.stored
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How expensive a stored hash may be before verify refuses it with
/// [`Error::ParamOutOfBounds`](crate::Error::ParamOutOfBounds) instead of computing it.
///
/// A stored hash is data: one planted by an attacker (or corrupted) must not make a login
/// allocate gigabytes or run for minutes. Each parameter has its own bound, and the hash's
/// total work has one: at most [`max_work_factor`](Self::max_work_factor) (default 4) times
/// the work of the policy's own Argon2id hash. Work is compared across schemes through
/// OWASP's Password Storage Cheat Sheet, which lists configurations of equal strength:
/// Argon2id m = 19 MiB, t = 2 (38,912 KiB-passes, m × t) = scrypt N·r·p = 2^20
/// (N = 2^17, r = 8, p = 1) = bcrypt cost 10 = PBKDF2-HMAC-SHA256 600,000 iterations =
/// PBKDF2-HMAC-SHA512 210,000 iterations. Under the default policy that admits bcrypt up to
/// cost 12, scrypt `ln=16,r=8,p=1` (passlib's default) and Django's PBKDF2 (1,000,000
/// iterations), and refuses scrypt `ln=20,r=2,p=16` or Argon2 `m=256 MiB,t=32` before any
/// work.
///
/// ```
/// use palisade_password::StoredLimits;
///
/// let limits = StoredLimits::DEFAULT.with_max_bcrypt_cost(14)?;
/// assert_eq!(limits.max_memory_kib(), 262_144);
/// # Ok::<(), palisade_password::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredLimits {
    max_memory_kib: u32,
    max_passes: u32,
    max_parallelism: u32,
    max_bcrypt_cost: u32,
    max_pbkdf2_iterations: u32,
    max_work_factor: u32,
    /// The policy's own work, m × t, in KiB-passes (set by [`Policy`]).
    reference_work: u64,
}

/// OWASP's equal-strength configurations, in the units each scheme's work is counted in.
pub(crate) mod owasp {
    /// Argon2id m = 19,456 KiB, t = 2, in KiB-passes.
    pub(crate) const ARGON2_WORK: u64 = 19_456 * 2;
    /// scrypt N·r·p (N = 2^17, r = 8, p = 1).
    pub(crate) const SCRYPT_WORK: u64 = 1 << 20;
    /// bcrypt's cost.
    pub(crate) const BCRYPT_COST: u32 = 10;
    /// PBKDF2-HMAC-SHA256 iterations.
    pub(crate) const PBKDF2_SHA256: u64 = 600_000;
    /// PBKDF2-HMAC-SHA512 iterations.
    pub(crate) const PBKDF2_SHA512: u64 = 210_000;
}

impl StoredLimits {
    /// 256 MiB for Argon2's m and scrypt's 128·N·r.
    pub const DEFAULT_MAX_MEMORY_KIB: u32 = 256 * 1024;
    /// Argon2 passes.
    pub const DEFAULT_MAX_PASSES: u32 = 32;
    /// Argon2 lanes and scrypt's p.
    pub const DEFAULT_MAX_PARALLELISM: u32 = 16;
    /// bcrypt cost 15: about two seconds a verify on a current core.
    pub const DEFAULT_MAX_BCRYPT_COST: u32 = 15;
    /// bcrypt's own ceiling.
    pub const MAX_BCRYPT_COST: u32 = 31;
    /// Five million PBKDF2 iterations (Django 5.2 uses one million).
    pub const DEFAULT_MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;
    /// A stored hash may cost at most four times the policy's own.
    pub const DEFAULT_MAX_WORK_FACTOR: u32 = 4;

    /// The defaults above.
    pub const DEFAULT: Self = Self {
        max_memory_kib: Self::DEFAULT_MAX_MEMORY_KIB,
        max_passes: Self::DEFAULT_MAX_PASSES,
        max_parallelism: Self::DEFAULT_MAX_PARALLELISM,
        max_bcrypt_cost: Self::DEFAULT_MAX_BCRYPT_COST,
        max_pbkdf2_iterations: Self::DEFAULT_MAX_PBKDF2_ITERATIONS,
        max_work_factor: Self::DEFAULT_MAX_WORK_FACTOR,
        reference_work: owasp::ARGON2_WORK,
    };

    /// Another memory bound, in KiB (Argon2's m; scrypt's 128·N·r bytes).
    ///
    /// # Errors
    /// [`PolicyError`] when below [`Policy::MIN_M_COST`] (hashes this crate writes must verify)
    /// or above [`Policy::MAX_M_COST`].
    pub const fn with_max_memory_kib(self, kib: u32) -> Result<Self, PolicyError> {
        match within(
            "max_memory_kib",
            kib,
            Policy::MIN_M_COST,
            Policy::MAX_M_COST,
        ) {
            Ok(()) => Ok(Self {
                max_memory_kib: kib,
                ..self
            }),
            Err(e) => Err(e),
        }
    }

    /// Another bcrypt cost bound.
    ///
    /// # Errors
    /// [`PolicyError`] when outside bcrypt's 4..=31.
    pub const fn with_max_bcrypt_cost(self, cost: u32) -> Result<Self, PolicyError> {
        match within("max_bcrypt_cost", cost, 4, Self::MAX_BCRYPT_COST) {
            Ok(()) => Ok(Self {
                max_bcrypt_cost: cost,
                ..self
            }),
            Err(e) => Err(e),
        }
    }

    /// Another PBKDF2 iteration bound.
    ///
    /// # Errors
    /// [`PolicyError`] when 0.
    pub const fn with_max_pbkdf2_iterations(self, iterations: u32) -> Result<Self, PolicyError> {
        match within("max_pbkdf2_iterations", iterations, 1, u32::MAX) {
            Ok(()) => Ok(Self {
                max_pbkdf2_iterations: iterations,
                ..self
            }),
            Err(e) => Err(e),
        }
    }

    /// Another bound on a stored hash's total work, as a multiple of the policy's own.
    ///
    /// # Errors
    /// [`PolicyError`] when 0 or above 1,024.
    pub const fn with_max_work_factor(self, factor: u32) -> Result<Self, PolicyError> {
        match within("max_work_factor", factor, 1, 1024) {
            Ok(()) => Ok(Self {
                max_work_factor: factor,
                ..self
            }),
            Err(e) => Err(e),
        }
    }

    /// How many times the policy's own work a stored hash may cost.
    #[must_use]
    pub const fn max_work_factor(&self) -> u32 {
        self.max_work_factor
    }

    /// The most work a stored hash may cost, in Argon2 KiB-passes (the policy's m × t times
    /// [`max_work_factor`](Self::max_work_factor)).
    #[must_use]
    pub const fn max_work(&self) -> u64 {
        self.reference_work
            .saturating_mul(self.max_work_factor as u64)
    }

    pub(crate) const fn for_policy(self, m_cost: u32, t_cost: u32) -> Self {
        Self {
            reference_work: (m_cost as u64) * (t_cost as u64),
            ..self
        }
    }

    /// The memory bound, in KiB.
    #[must_use]
    pub const fn max_memory_kib(&self) -> u32 {
        self.max_memory_kib
    }

    /// The Argon2 passes bound.
    #[must_use]
    pub const fn max_passes(&self) -> u32 {
        self.max_passes
    }

    /// The Argon2 lanes and scrypt p bound.
    #[must_use]
    pub const fn max_parallelism(&self) -> u32 {
        self.max_parallelism
    }

    /// The bcrypt cost bound.
    #[must_use]
    pub const fn max_bcrypt_cost(&self) -> u32 {
        self.max_bcrypt_cost
    }

    /// The PBKDF2 iterations bound.
    #[must_use]
    pub const fn max_pbkdf2_iterations(&self) -> u32 {
        self.max_pbkdf2_iterations
    }
}

impl Default for StoredLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

const fn within(name: &'static str, value: u32, min: u32, max: u32) -> Result<(), PolicyError> {
    if value < min {
        return Err(PolicyError::ParamBelowMin {
            name,
            min: min as u64,
        });
    }
    if value > max {
        return Err(PolicyError::ParamAboveMax {
            name,
            max: max as u64,
        });
    }
    Ok(())
}
