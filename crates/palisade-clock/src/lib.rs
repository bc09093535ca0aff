#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt::Debug;
use std::time::{Instant, SystemTime};

mod shared;

pub use shared::SharedClock;

/// A source of time: monotonic for durations and expiry, wall-clock for timestamps.
///
/// Implementations must be cheap to call and safe to share between threads; held as
/// `Arc<dyn Clock>`.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The monotonic time now, for measuring durations and deadlines.
    fn now(&self) -> Instant;

    /// The wall-clock time now, for timestamps that leave the process.
    fn system_now(&self) -> SystemTime;

    /// The monotonic time now, possibly behind [`now`](Self::now) by up to one kernel tick
    /// (a few milliseconds), for hot paths that check deadlines measured in seconds, such as a
    /// cache's TTL. The default is [`now`](Self::now); [`SystemClock`] reads Linux's
    /// `CLOCK_MONOTONIC_COARSE`, several times cheaper than a precise read.
    fn now_coarse(&self) -> Instant {
        self.now()
    }

    /// The monotonic time now as nanoseconds from an origin fixed for the life of the clock,
    /// for hot paths that compare times many times a second (a rate limiter's decision); only
    /// the difference between two readings of the same clock means anything, and it must
    /// advance as [`now`](Self::now) does. [`SystemClock`] reads the CPU's time-stamp counter
    /// through `quanta` (governor's clock), about half the cost of `Instant::now()`, and may
    /// drift from `now()` by a few parts per million.
    fn monotonic_nanos(&self) -> u64;

    /// The coarse monotonic time (see [`now_coarse`](Self::now_coarse)) as nanoseconds from
    /// an origin fixed for the life of the clock, for the hottest deadline checks (a cache
    /// hit): a plain number, compared without converting. The default is
    /// [`monotonic_nanos`](Self::monotonic_nanos); [`SystemClock`] reads Linux's
    /// `CLOCK_MONOTONIC_COARSE` directly.
    fn coarse_nanos(&self) -> u64 {
        self.monotonic_nanos()
    }
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

    #[cfg(target_os = "linux")]
    fn now_coarse(&self) -> Instant {
        coarse::now()
    }

    #[inline]
    fn monotonic_nanos(&self) -> u64 {
        counter::nanos()
    }

    #[cfg(target_os = "linux")]
    #[inline]
    fn coarse_nanos(&self) -> u64 {
        coarse::nanos()
    }
}

/// The CPU's counter in nanoseconds since the first reading in this process.
mod counter {
    use std::sync::OnceLock;

    #[inline]
    pub(super) fn nanos() -> u64 {
        static BASE: OnceLock<(quanta::Clock, u64)> = OnceLock::new();
        let (clock, base) = BASE.get_or_init(|| {
            let clock = quanta::Clock::new();
            let base = clock.raw();
            (clock, base)
        });
        clock.delta_as_nanos(*base, clock.raw())
    }
}

/// `CLOCK_MONOTONIC_COARSE` as an [`Instant`]: the precise and coarse clocks are read once,
/// together, and later coarse readings are added to that precise base.
#[cfg(target_os = "linux")]
mod coarse {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use rustix::time::{ClockId, clock_gettime};

    fn coarse() -> Duration {
        let now = clock_gettime(ClockId::MonotonicCoarse);
        Duration::new(
            u64::try_from(now.tv_sec).unwrap_or(0),
            u32::try_from(now.tv_nsec).unwrap_or(0),
        )
    }

    /// The coarse clock in nanoseconds since boot (its own origin).
    #[inline]
    pub(super) fn nanos() -> u64 {
        let now = clock_gettime(ClockId::MonotonicCoarse);
        u64::try_from(now.tv_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(now.tv_nsec).unwrap_or(0))
    }

    pub(super) fn now() -> Instant {
        static BASE: OnceLock<(Instant, Duration)> = OnceLock::new();
        let &(base, base_coarse) = BASE.get_or_init(|| (Instant::now(), coarse()));
        let since = coarse().saturating_sub(base_coarse);
        base.checked_add(since).unwrap_or(base)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn system_clock_is_monotonic() {
        let clock = SystemClock;
        let first = clock.now();
        let second = clock.now();
        assert!(second >= first);
    }

    #[test]
    fn the_coarse_clock_is_monotonic_and_close_to_the_precise_one() {
        let clock = SystemClock;
        let first = clock.now_coarse();
        let precise = clock.now();
        let second = clock.now_coarse();
        assert!(second >= first);
        let apart = if precise > second {
            precise - second
        } else {
            second - precise
        };
        assert!(apart < Duration::from_millis(100), "{apart:?}");
    }

    #[test]
    fn monotonic_nanos_advance_with_the_precise_clock() {
        let clock = SystemClock;
        // The first reading calibrates the counter.
        clock.monotonic_nanos();
        let (start, start_nanos) = (clock.now(), clock.monotonic_nanos());
        let mut spin = 0_u64;
        while clock.now() - start < Duration::from_millis(20) {
            spin = std::hint::black_box(spin + 1);
        }
        let (end_nanos, end) = (clock.monotonic_nanos(), clock.now());
        let counted = end_nanos - start_nanos;
        let precise = u64::try_from((end - start).as_nanos()).unwrap_or(u64::MAX);
        assert!(counted >= 20_000_000, "{counted} ns");
        assert!(
            counted.abs_diff(precise) < 2_000_000,
            "{counted} vs {precise}"
        );
    }

    #[test]
    fn coarse_nanos_advance_with_the_coarse_clock() {
        let clock = SystemClock;
        let (nanos, coarse) = (clock.coarse_nanos(), clock.now_coarse());
        let start = clock.now();
        let mut spin = 0_u64;
        while clock.now() - start < Duration::from_millis(30) {
            spin = std::hint::black_box(spin + 1);
        }
        let (later_nanos, later_coarse) = (clock.coarse_nanos(), clock.now_coarse());
        let by_nanos = later_nanos - nanos;
        let by_instant = u64::try_from((later_coarse - coarse).as_nanos()).unwrap();
        assert!(by_nanos >= 20_000_000, "advanced {by_nanos} ns over 30 ms");
        assert!(
            by_nanos.abs_diff(by_instant) < 10_000_000,
            "{by_nanos} vs {by_instant}"
        );
    }

    #[test]
    fn system_clock_wall_time_is_after_the_epoch() {
        let now = SystemClock.system_now();
        assert!(now > SystemTime::UNIX_EPOCH);
    }
}
