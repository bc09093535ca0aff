//! A clock that moves only when told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use palisade_clock::Clock;

/// A fake [`Clock`]: time stands still until [`advance`](Self::advance) moves it, and every
/// clone shares the same time (as governor's `FakeRelativeClock`).
///
/// The wall clock starts at 2026-01-01T00:00:00Z unless [`with_wall_start`](Self::with_wall_start)
/// says otherwise, so timestamps in tests are reproducible.
#[derive(Debug, Clone)]
pub struct FakeClock {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    start: Instant,
    wall_start: SystemTime,
    elapsed_nanos: AtomicU64,
}

/// 2026-01-01T00:00:00Z as seconds since the Unix epoch.
const DEFAULT_WALL_START_SECS: u64 = 1_767_225_600;

impl FakeClock {
    /// A new fake clock at its start time.
    #[must_use]
    pub fn new() -> Self {
        Self::with_wall_start(SystemTime::UNIX_EPOCH + Duration::from_secs(DEFAULT_WALL_START_SECS))
    }

    /// A new fake clock whose wall clock starts at `wall_start`.
    #[must_use]
    pub fn with_wall_start(wall_start: SystemTime) -> Self {
        Self {
            shared: Arc::new(Shared {
                start: Instant::now(),
                wall_start,
                elapsed_nanos: AtomicU64::new(0),
            }),
        }
    }

    /// Moves time forward by `by` for this clock and every clone of it.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.shared.elapsed_nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// How far the clock has been advanced since it was made.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.shared.elapsed_nanos.load(Ordering::SeqCst))
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.shared.start + self.elapsed()
    }

    fn system_now(&self) -> SystemTime {
        self.shared.wall_start + self.elapsed()
    }

    fn monotonic_nanos(&self) -> u64 {
        self.shared.elapsed_nanos.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stands_still_until_advanced() {
        let clock = FakeClock::new();
        let first = clock.now();
        assert_eq!(clock.now(), first);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - first, Duration::from_millis(1500));
    }

    #[test]
    fn clones_share_one_time() {
        let clock = FakeClock::new();
        let clone = clock.clone();
        let before = clock.system_now();
        clone.advance(Duration::from_secs(60));
        assert_eq!(
            clock.system_now().duration_since(before).unwrap(),
            Duration::from_secs(60)
        );
        assert_eq!(clock.elapsed(), Duration::from_secs(60));
    }

    #[test]
    fn wall_clock_starts_at_a_fixed_date() {
        let clock = FakeClock::new();
        let secs = clock
            .system_now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, DEFAULT_WALL_START_SECS);
    }
}
