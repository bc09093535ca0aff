//! `Limiter`: one state for everything it counts (an outgoing client, a whole endpoint).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use palisade_clock::{Clock, SharedClock};

use crate::settings::{Configured, Mode, Settings};
use crate::spec::MAX_LIMITS;
use crate::{Admitted, InsufficientCapacity, NotUntil, Spec};

/// A rate limiter with a single state: every request counts against the same limits.
///
/// All limits of the spec must admit a request, and a request refused by one limit spends
/// nothing from the others.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use palisade_ratelimit::Limiter;
/// use palisade_test::FakeClock;
///
/// let clock = FakeClock::new();
/// let limiter = Limiter::with_clock(&"2/second; 3/minute".parse::<palisade_ratelimit::Spec>()?.into(), Arc::new(clock.clone()));
/// assert_eq!(limiter.check()?.remaining(), 1);
/// assert_eq!(limiter.check()?.remaining(), 0);
/// let refused = limiter.check().unwrap_err();
/// assert_eq!(refused.wait(), Duration::from_millis(500));
/// clock.advance(Duration::from_millis(500));
/// // The per-second limit has refilled, but the per-minute one has one request left.
/// assert_eq!(limiter.check()?.limit().to_string(), "3/minute");
/// assert_eq!(limiter.check().unwrap_err().limit().to_string(), "3/minute");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Limiter {
    configured: Configured,
    state: State,
    clock: SharedClock,
    /// The clock's `monotonic_nanos` when the limiter was made: TATs count from here.
    epoch: u64,
}

impl Limiter {
    /// A limiter for these settings on the system clock.
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        Self::with_shared_clock(settings, SharedClock::system())
    }

    /// A limiter for these settings on `clock`.
    #[must_use]
    pub fn with_clock(settings: &Settings, clock: Arc<dyn Clock>) -> Self {
        Self::with_shared_clock(settings, SharedClock::new(clock))
    }

    fn with_shared_clock(settings: &Settings, clock: SharedClock) -> Self {
        Self {
            configured: Configured::new(settings),
            state: if settings.spec().limits().len() == 1 {
                State::One(AtomicU64::new(0))
            } else {
                State::Many(Mutex::new([0; MAX_LIMITS]))
            },
            epoch: clock.monotonic_nanos(),
            clock,
        }
    }

    /// A limiter that admits everything, for tests; its `Debug` says so.
    #[must_use]
    pub fn disabled(spec: Spec) -> Self {
        Self::new(&Settings::new(spec).with_mode(Mode::Disabled))
    }

    /// Decides one request.
    ///
    /// # Errors
    /// [`NotUntil`] when a limit is spent for now; nothing was counted.
    #[inline]
    pub fn check(&self) -> Result<Admitted, NotUntil> {
        self.decide(NonZeroU32::MIN)
    }

    /// Decides `n` requests at once: all of them or none.
    ///
    /// # Errors
    /// The outer [`InsufficientCapacity`] when `n` exceeds a limit's burst (it can never pass);
    /// the inner [`NotUntil`] when it cannot pass yet.
    pub fn check_n(
        &self,
        n: NonZeroU32,
    ) -> Result<Result<Admitted, NotUntil>, InsufficientCapacity> {
        self.configured.rules.capacity_for(n)?;
        Ok(self.decide(n))
    }

    /// The common case inline (one limit, enforced: a clock read and a compare-and-swap),
    /// everything else out of line, so a caller's hot loop carries no more than that.
    #[inline]
    fn decide(&self, n: NonZeroU32) -> Result<Admitted, NotUntil> {
        match &self.state {
            State::One(tat) if self.configured.settings.mode() != Mode::Disabled => {
                let t0 = self.clock.monotonic_nanos().saturating_sub(self.epoch);
                self.configured
                    .rules
                    .decide_atomic(tat, t0, n)
                    .into_result(&self.clock)
            }
            _ => self.decide_otherwise(n),
        }
    }

    #[cold]
    #[inline(never)]
    fn decide_otherwise(&self, n: NonZeroU32) -> Result<Admitted, NotUntil> {
        if let Some(admitted) = self.configured.bypass() {
            return Ok(admitted);
        }
        let t0 = self.clock.monotonic_nanos().saturating_sub(self.epoch);
        let verdict = match &self.state {
            State::One(tat) => self.configured.rules.decide_atomic(tat, t0, n),
            State::Many(tats) => {
                let mut tats = tats.lock().unwrap_or_else(PoisonError::into_inner);
                match tats.get_mut(..self.configured.rules.width()) {
                    Some(tats) => self.configured.rules.decide(tats, t0, n),
                    None => unreachable!("a spec has at most MAX_LIMITS limits"),
                }
            }
        };
        verdict.into_result(&self.clock)
    }

    /// The settings this limiter was made with.
    #[must_use]
    pub const fn settings(&self) -> &Settings {
        &self.configured.settings
    }
}

/// The TATs: one atomic for a single limit (decided lock-free, as governor does), a lock
/// around all of them for several (all-or-nothing needs them to move together).
enum State {
    One(AtomicU64),
    Many(Mutex<[u64; MAX_LIMITS]>),
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.configured.debug("Limiter", f).finish_non_exhaustive()
    }
}
