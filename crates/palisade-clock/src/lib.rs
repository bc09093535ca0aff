#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt::Debug;
use std::time::{Instant, SystemTime};

/// A source of time: monotonic for durations and expiry, wall-clock for timestamps.
///
/// Implementations must be cheap to call and safe to share between threads; held as
/// `Arc<dyn Clock>`.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The monotonic time now, for measuring durations and deadlines.
    fn now(&self) -> Instant;

    /// The wall-clock time now, for timestamps that leave the process.
    fn system_now(&self) -> SystemTime;
}

/// The real clock: [`Instant::now`] and [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_monotonic() {
        let clock = SystemClock;
        let first = clock.now();
        let second = clock.now();
        assert!(second >= first);
    }

    #[test]
    fn system_clock_wall_time_is_after_the_epoch() {
        let now = SystemClock.system_now();
        assert!(now > SystemTime::UNIX_EPOCH);
    }
}
