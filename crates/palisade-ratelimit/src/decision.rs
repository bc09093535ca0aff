//! The three outcomes of a rate-limit decision: admitted, not until some time, never.

use std::fmt;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use crate::Limit;
use crate::gcra::Snapshot;

/// A request passed every limit. Describes the tightest limit afterwards, for `RateLimit-*`
/// headers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    snapshot: Snapshot,
}

impl Admitted {
    pub(crate) const fn new(snapshot: Snapshot) -> Self {
        Self { snapshot }
    }

    /// How many more requests the tightest limit would admit right now.
    #[must_use]
    pub fn remaining(&self) -> u32 {
        self.snapshot.remaining()
    }

    /// How long until the tightest limit is back to its full burst.
    #[must_use]
    pub fn full_in(&self) -> Duration {
        Duration::from_nanos(self.snapshot.full_in())
    }

    /// The tightest limit: the one with the fewest requests left.
    #[must_use]
    pub const fn limit(&self) -> Limit {
        self.snapshot.limit
    }
}

impl fmt::Debug for Admitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted")
            .field("remaining", &self.remaining())
            .field("full_in", &self.full_in())
            .field("limit", &format_args!("{}", self.limit()))
            .finish()
    }
}

/// A request was refused for now: it could pass at [`earliest`](Self::earliest), after
/// [`wait`](Self::wait). Nothing was counted against any limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUntil {
    earliest: Instant,
    wait: Duration,
    limit: Limit,
}

impl NotUntil {
    pub(crate) const fn new(earliest: Instant, wait: Duration, limit: Limit) -> Self {
        Self {
            earliest,
            wait,
            limit,
        }
    }

    /// The earliest instant (on the limiter's clock) the same request could pass.
    #[must_use]
    pub const fn earliest(&self) -> Instant {
        self.earliest
    }

    /// How long from the decision until then.
    #[must_use]
    pub const fn wait(&self) -> Duration {
        self.wait
    }

    /// The limit that refused (the one with the longest wait when several did).
    #[must_use]
    pub const fn limit(&self) -> Limit {
        self.limit
    }
}

impl fmt::Display for NotUntil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rate limit {} reached; retry in {:.3} s",
            self.limit,
            self.wait.as_secs_f64()
        )
    }
}

impl std::error::Error for NotUntil {}

/// A request asked for more cells at once than a limit's burst: it can never pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{requested} requests at once can never pass rate limit {limit} (burst {burst})", burst = limit.count())]
pub struct InsufficientCapacity {
    requested: NonZeroU32,
    limit: Limit,
}

impl InsufficientCapacity {
    pub(crate) const fn new(requested: NonZeroU32, limit: Limit) -> Self {
        Self { requested, limit }
    }

    /// How many cells were asked for.
    #[must_use]
    pub const fn requested(&self) -> NonZeroU32 {
        self.requested
    }

    /// The limit whose burst is smaller than that.
    #[must_use]
    pub const fn limit(&self) -> Limit {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(text: &str) -> Limit {
        text.parse().unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn messages_name_the_limit_and_the_wait() {
        let refused = NotUntil::new(
            Instant::now(),
            Duration::from_millis(1500),
            limit("5/minute"),
        );
        assert_eq!(
            refused.to_string(),
            "rate limit 5/minute reached; retry in 1.500 s"
        );
        let never = InsufficientCapacity::new(NonZeroU32::MAX, limit("5/minute"));
        assert_eq!(
            never.to_string(),
            "4294967295 requests at once can never pass rate limit 5/minute (burst 5)"
        );
    }
}
