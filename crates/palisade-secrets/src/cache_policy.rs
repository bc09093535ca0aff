//! `CachePolicy`: how long [`Cached`](crate::Cached) keeps a value and what it does around expiry.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

/// How long a [`Cached`](crate::Cached) source keeps values, when it refreshes them, how long
/// it may serve a stale value while the backend is down, and how many it keeps.
///
/// A value is *fresh* for `ttl` after it was fetched. From `ttl - refresh_ahead` on, the first
/// read starts a refresh in the background and is still answered from the cache. After `ttl`
/// the value is expired: a read fetches again, and if the backend is failing (an outage, not a
/// "not found"), the last good value is served, flagged stale, until `ttl + max_stale`; during
/// that time the backend is retried at most once per `error_retry`.
///
/// The defaults follow AWS's secrets-manager caching client where it has one (a bounded number
/// of entries) and are shorter where rotation matters more than call volume:
///
/// ```
/// use std::time::Duration;
/// use palisade_secrets::CachePolicy;
///
/// let policy = CachePolicy::DEFAULT;
/// assert_eq!(policy.ttl(), Duration::from_secs(300));
/// assert_eq!(policy.refresh_ahead(), Duration::from_secs(30));
/// assert_eq!(policy.max_stale(), Duration::from_secs(900));
/// assert_eq!(policy.max_entries().get(), 1024);
///
/// let short = CachePolicy::new(Duration::from_secs(60))?.with_refresh_ahead(Duration::from_secs(10))?;
/// assert_eq!(short.ttl(), Duration::from_secs(60));
/// # Ok::<(), palisade_secrets::CachePolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    ttl: Duration,
    refresh_ahead: Duration,
    max_stale: Duration,
    error_retry: Duration,
    max_entries: NonZeroUsize,
}

/// A [`CachePolicy`] setting that is out of range. Names the setting and its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CachePolicyError {
    /// `ttl` is shorter than [`CachePolicy::MIN_TTL`] or longer than [`CachePolicy::MAX_TTL`].
    TtlOutOfRange,
    /// `refresh_ahead` is not shorter than `ttl`.
    RefreshAheadNotBelowTtl,
    /// `max_stale` is longer than [`CachePolicy::MAX_STALE`].
    MaxStaleTooLong,
    /// `error_retry` is zero or longer than `max_stale`.
    ErrorRetryOutOfRange,
}

impl fmt::Display for CachePolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TtlOutOfRange => "cache ttl must be between 1 second and 24 hours",
            Self::RefreshAheadNotBelowTtl => "cache refresh_ahead must be shorter than the ttl",
            Self::MaxStaleTooLong => "cache max_stale must be at most 24 hours",
            Self::ErrorRetryOutOfRange => {
                "cache error_retry must be above zero and at most max_stale"
            }
        })
    }
}

impl std::error::Error for CachePolicyError {}

impl CachePolicy {
    /// The shortest TTL: one second.
    pub const MIN_TTL: Duration = Duration::from_secs(1);
    /// The longest TTL: one day.
    pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
    /// The longest time a stale value may be served: one day.
    pub const MAX_STALE: Duration = Duration::from_secs(24 * 3600);
    /// The default TTL: five minutes.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
    /// The default refresh-ahead window: thirty seconds before expiry.
    pub const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(30);
    /// The default bound on serving a stale value after expiry: fifteen minutes.
    pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(900);
    /// The default pause between backend retries while serving stale: one second.
    pub const DEFAULT_ERROR_RETRY: Duration = Duration::from_secs(1);
    /// The default number of cached secrets (AWS's caching client also keeps 1,024).
    pub const DEFAULT_MAX_ENTRIES: NonZeroUsize = match NonZeroUsize::new(1024) {
        Some(n) => n,
        None => NonZeroUsize::MIN,
    };

    /// The defaults: see the constants.
    pub const DEFAULT: Self = Self {
        ttl: Self::DEFAULT_TTL,
        refresh_ahead: Self::DEFAULT_REFRESH_AHEAD,
        max_stale: Self::DEFAULT_MAX_STALE,
        error_retry: Self::DEFAULT_ERROR_RETRY,
        max_entries: Self::DEFAULT_MAX_ENTRIES,
    };

    /// The defaults with another TTL; the refresh-ahead window shrinks to a tenth of the TTL
    /// when the default does not fit.
    ///
    /// # Errors
    /// [`CachePolicyError::TtlOutOfRange`] outside [`MIN_TTL`](Self::MIN_TTL)..=
    /// [`MAX_TTL`](Self::MAX_TTL).
    pub const fn new(ttl: Duration) -> Result<Self, CachePolicyError> {
        if ttl.as_nanos() < Self::MIN_TTL.as_nanos() || ttl.as_nanos() > Self::MAX_TTL.as_nanos() {
            return Err(CachePolicyError::TtlOutOfRange);
        }
        let refresh_ahead = if Self::DEFAULT_REFRESH_AHEAD.as_nanos() < ttl.as_nanos() {
            Self::DEFAULT_REFRESH_AHEAD
        } else {
            match ttl.checked_div(10) {
                Some(tenth) => tenth,
                None => Duration::ZERO,
            }
        };
        Ok(Self {
            ttl,
            refresh_ahead,
            ..Self::DEFAULT
        })
    }

    /// Starts refreshing this long before expiry (zero turns refresh-ahead off).
    ///
    /// # Errors
    /// [`CachePolicyError::RefreshAheadNotBelowTtl`] unless `window < ttl`.
    pub const fn with_refresh_ahead(self, window: Duration) -> Result<Self, CachePolicyError> {
        if window.as_nanos() >= self.ttl.as_nanos() {
            return Err(CachePolicyError::RefreshAheadNotBelowTtl);
        }
        Ok(Self {
            refresh_ahead: window,
            ..self
        })
    }

    /// Serves the last good value for at most this long past expiry while the backend fails
    /// (zero turns stale-if-error off).
    ///
    /// # Errors
    /// [`CachePolicyError::MaxStaleTooLong`] above [`MAX_STALE`](Self::MAX_STALE), and
    /// [`CachePolicyError::ErrorRetryOutOfRange`] when it is shorter than the retry pause.
    pub const fn with_max_stale(self, max_stale: Duration) -> Result<Self, CachePolicyError> {
        if max_stale.as_nanos() > Self::MAX_STALE.as_nanos() {
            return Err(CachePolicyError::MaxStaleTooLong);
        }
        if !max_stale.is_zero() && self.error_retry.as_nanos() > max_stale.as_nanos() {
            return Err(CachePolicyError::ErrorRetryOutOfRange);
        }
        Ok(Self { max_stale, ..self })
    }

    /// While serving stale, retries the backend at most once per `pause`.
    ///
    /// # Errors
    /// [`CachePolicyError::ErrorRetryOutOfRange`] when zero or longer than `max_stale`.
    pub const fn with_error_retry(self, pause: Duration) -> Result<Self, CachePolicyError> {
        if pause.is_zero() || pause.as_nanos() > self.max_stale.as_nanos() {
            return Err(CachePolicyError::ErrorRetryOutOfRange);
        }
        Ok(Self {
            error_retry: pause,
            ..self
        })
    }

    /// Keeps at most this many secrets; past it, the one fetched longest ago is dropped.
    #[must_use]
    pub const fn with_max_entries(self, max_entries: NonZeroUsize) -> Self {
        Self {
            max_entries,
            ..self
        }
    }

    /// How long a fetched value is fresh.
    #[must_use]
    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How long before expiry a background refresh starts.
    #[must_use]
    pub const fn refresh_ahead(&self) -> Duration {
        self.refresh_ahead
    }

    /// How long past expiry a stale value may be served while the backend fails.
    #[must_use]
    pub const fn max_stale(&self) -> Duration {
        self.max_stale
    }

    /// The pause between backend retries while serving stale.
    #[must_use]
    pub const fn error_retry(&self) -> Duration {
        self.error_retry
    }

    /// The most secrets kept.
    #[must_use]
    pub const fn max_entries(&self) -> NonZeroUsize {
        self.max_entries
    }
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_settings_are_refused_by_name() {
        assert_eq!(
            CachePolicy::new(Duration::from_millis(10)),
            Err(CachePolicyError::TtlOutOfRange)
        );
        assert_eq!(
            CachePolicy::DEFAULT.with_refresh_ahead(Duration::from_secs(300)),
            Err(CachePolicyError::RefreshAheadNotBelowTtl)
        );
        assert_eq!(
            CachePolicy::DEFAULT.with_max_stale(Duration::from_secs(2 * 24 * 3600)),
            Err(CachePolicyError::MaxStaleTooLong)
        );
        assert_eq!(
            CachePolicy::DEFAULT.with_error_retry(Duration::ZERO),
            Err(CachePolicyError::ErrorRetryOutOfRange)
        );
    }

    #[test]
    fn a_short_ttl_gets_a_tenth_as_its_refresh_window() {
        let policy = CachePolicy::new(Duration::from_secs(20)).unwrap();
        assert_eq!(policy.refresh_ahead(), Duration::from_secs(2));
    }
}
