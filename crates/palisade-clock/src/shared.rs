//! `SharedClock`: the clock a long-lived component holds, read without a virtual call when it
//! is the system clock.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::{Clock, SystemClock};

/// The clock a limiter, cache or pool keeps for its whole life: the [`SystemClock`] (read
/// directly, so the CPU counter is one inlined call on a hot path), or any injected clock
/// (a test's fake clock) behind `Arc<dyn Clock>`. It is itself a [`Clock`].
///
/// ```
/// use std::sync::Arc;
/// use palisade_clock::{Clock, SharedClock, SystemClock};
///
/// let system = SharedClock::system();
/// let injected = SharedClock::new(Arc::new(SystemClock));
/// assert!(system.monotonic_nanos() <= system.monotonic_nanos());
/// assert!(injected.now() <= injected.now());
/// assert_eq!(format!("{system:?}"), "SharedClock(SystemClock)");
/// ```
#[derive(Clone, Default)]
pub struct SharedClock(Held);

#[derive(Clone, Default)]
enum Held {
    #[default]
    System,
    Injected(Arc<dyn Clock>),
}

impl SharedClock {
    /// The system clock.
    #[must_use]
    pub const fn system() -> Self {
        Self(Held::System)
    }

    /// `clock`, called through its vtable.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self(Held::Injected(clock))
    }
}

impl From<Arc<dyn Clock>> for SharedClock {
    fn from(clock: Arc<dyn Clock>) -> Self {
        Self::new(clock)
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Held::System => f.debug_tuple("SharedClock").field(&SystemClock).finish(),
            Held::Injected(clock) => f.debug_tuple("SharedClock").field(clock).finish(),
        }
    }
}

impl Clock for SharedClock {
    #[inline]
    fn now(&self) -> Instant {
        match &self.0 {
            Held::System => SystemClock.now(),
            Held::Injected(clock) => clock.now(),
        }
    }

    #[inline]
    fn system_now(&self) -> SystemTime {
        match &self.0 {
            Held::System => SystemClock.system_now(),
            Held::Injected(clock) => clock.system_now(),
        }
    }

    #[inline]
    fn now_coarse(&self) -> Instant {
        match &self.0 {
            Held::System => SystemClock.now_coarse(),
            Held::Injected(clock) => clock.now_coarse(),
        }
    }

    #[inline]
    fn monotonic_nanos(&self) -> u64 {
        match &self.0 {
            Held::System => SystemClock.monotonic_nanos(),
            Held::Injected(clock) => clock.monotonic_nanos(),
        }
    }

    #[inline]
    fn coarse_nanos(&self) -> u64 {
        match &self.0 {
            Held::System => SystemClock.coarse_nanos(),
            Held::Injected(clock) => clock.coarse_nanos(),
        }
    }
}
