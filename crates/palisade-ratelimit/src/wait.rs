//! Waiting mode: an outgoing client throttles itself by waiting until a request may pass.

use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::time::Duration;

use crate::{Admitted, InsufficientCapacity, Limiter};

/// A way to wait: the async runtime's timer in production, a fake clock in tests.
pub trait Sleep: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Tokio's timer (`tokio::time::sleep`).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

#[cfg(feature = "tokio")]
impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A random extra wait, uniform in `0..=max`, added to each wait so that many clients refused
/// together do not all come back at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Jitter {
    max: Duration,
}

impl Jitter {
    /// No jitter.
    pub const NONE: Self = Self {
        max: Duration::ZERO,
    };

    /// Up to `max` extra.
    #[must_use]
    pub const fn up_to(max: Duration) -> Self {
        Self { max }
    }

    /// The most extra wait.
    #[must_use]
    pub const fn max(&self) -> Duration {
        self.max
    }

    /// One draw: `0..=max` (none if the system's random source fails).
    fn sample(self) -> Duration {
        let max = crate::gcra::nanos(self.max);
        if max == 0 {
            return Duration::ZERO;
        }
        let draw = getrandom::u64().unwrap_or(0);
        Duration::from_nanos(draw % max.saturating_add(1))
    }
}

impl Limiter {
    /// Waits until one request may pass, then counts it, with `sleep` and `jitter`.
    ///
    /// Cancel-safe: a request is counted only at the moment it passes, so dropping the future
    /// while it waits spends nothing.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use palisade_ratelimit::{Jitter, Limiter, Settings};
    /// # #[derive(Debug)] struct Advance(palisade_test::FakeClock);
    /// # impl palisade_ratelimit::Sleep for Advance {
    /// #     fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
    /// #         self.0.advance(d);
    /// #         Box::pin(std::future::ready(()))
    /// #     }
    /// # }
    /// let clock = palisade_test::FakeClock::new();
    /// let limiter = Limiter::with_clock(&Settings::new("10/second".parse()?), Arc::new(clock.clone()));
    /// let sleep = Advance(clock.clone());
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// for _ in 0..11 {
    ///     limiter.until_ready_with(&sleep, Jitter::NONE).await;
    /// }
    /// # });
    /// // Ten passed at once; the eleventh waited one refill interval.
    /// assert_eq!(clock.elapsed(), Duration::from_millis(100));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn until_ready_with(&self, sleep: &dyn Sleep, jitter: Jitter) -> Admitted {
        loop {
            match self.check() {
                Ok(admitted) => return admitted,
                Err(refused) => sleep.sleep(refused.wait() + jitter.sample()).await,
            }
        }
    }

    /// Waits until `n` requests may pass together, then counts them.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] at once when `n` exceeds a limit's burst: waiting would never
    /// end.
    pub async fn until_n_ready_with(
        &self,
        n: NonZeroU32,
        sleep: &dyn Sleep,
        jitter: Jitter,
    ) -> Result<Admitted, InsufficientCapacity> {
        loop {
            match self.check_n(n)? {
                Ok(admitted) => return Ok(admitted),
                Err(refused) => sleep.sleep(refused.wait() + jitter.sample()).await,
            }
        }
    }

    /// Waits on tokio's timer until one request may pass.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn until_ready(&self) -> Admitted {
        self.until_ready_with(&TokioSleep, Jitter::NONE).await
    }

    /// Waits on tokio's timer until one request may pass, plus jitter.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn until_ready_with_jitter(&self, jitter: Jitter) -> Admitted {
        self.until_ready_with(&TokioSleep, jitter).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_draws_stay_within_the_bound_and_vary() {
        let jitter = Jitter::up_to(Duration::from_millis(10));
        let draws: Vec<Duration> = (0..64).map(|_| jitter.sample()).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(10)));
        assert!(draws.iter().any(|d| Some(d) != draws.first()), "{draws:?}");
        assert_eq!(Jitter::NONE.sample(), Duration::ZERO);
    }
}
