//! Waiting mode on a fake clock: waits as long as the limit says, adds bounded jitter, and a
//! cancelled wait spends nothing.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_ratelimit::{Jitter, Limiter, Settings, Sleep};
use palisade_test::{FakeClock, poll_once, poll_without_runtime};

/// Sleeps by moving the fake clock, and remembers every wait it was asked for.
#[derive(Debug)]
struct Advance {
    clock: FakeClock,
    waits: Mutex<Vec<Duration>>,
}

impl Sleep for Advance {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.waits.lock().unwrap().push(duration);
        self.clock.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

/// Never wakes: a wait that is still in progress when its future is dropped.
#[derive(Debug)]
struct Forever;

impl Sleep for Forever {
    fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}

fn setup(spec: &str) -> (Limiter, Advance) {
    let clock = FakeClock::new();
    let limiter = Limiter::with_clock(
        &Settings::new(spec.parse().unwrap()),
        Arc::new(clock.clone()),
    );
    let sleep = Advance {
        clock,
        waits: Mutex::new(Vec::new()),
    };
    (limiter, sleep)
}

#[test]
fn a_throttled_client_runs_at_the_limits_rate() {
    let (limiter, sleep) = setup("4/second");
    for _ in 0..12 {
        poll_without_runtime(limiter.until_ready_with(&sleep, Jitter::NONE));
    }
    // Four at once, then one every 250 ms.
    assert_eq!(sleep.clock.elapsed(), Duration::from_secs(2));
    assert_eq!(
        *sleep.waits.lock().unwrap(),
        vec![Duration::from_millis(250); 8]
    );
}

#[test]
fn jitter_adds_between_nothing_and_its_bound_to_each_wait() {
    let (limiter, sleep) = setup("1/second");
    let jitter = Jitter::up_to(Duration::from_millis(100));
    for _ in 0..40 {
        poll_without_runtime(limiter.until_ready_with(&sleep, jitter));
    }
    let waits = sleep.waits.lock().unwrap();
    assert!(!waits.is_empty());
    // A wait after a jittered one is shorter by the overshoot; each stays within 1 s + 100 ms.
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(1_100)),
        "{waits:?}"
    );
    let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
    assert!(distinct.len() > 5, "jitter varies: {waits:?}");
}

#[test]
fn a_cancelled_wait_spends_nothing() {
    let (limiter, sleep) = setup("5/hour");
    for _ in 0..5 {
        limiter.check().unwrap();
    }
    {
        let mut waiting = pin!(limiter.until_ready_with(&Forever, Jitter::NONE));
        assert!(poll_once(waiting.as_mut()).is_pending());
    } // dropped while waiting
    // Had the wait reserved the next slot, this request would be refused.
    sleep.clock.advance(Duration::from_secs(720));
    assert_eq!(limiter.check().unwrap().remaining(), 0);
    assert_eq!(
        limiter.check().unwrap_err().wait(),
        Duration::from_secs(720)
    );
}

#[test]
fn waiting_for_more_than_the_burst_fails_at_once() {
    let (limiter, sleep) = setup("3/second");
    let never = poll_without_runtime(limiter.until_n_ready_with(
        NonZeroU32::new(4).unwrap(),
        &sleep,
        Jitter::NONE,
    ));
    assert_eq!(never.unwrap_err().limit().count().get(), 3);
    assert!(sleep.waits.lock().unwrap().is_empty());
    let three = poll_without_runtime(limiter.until_n_ready_with(
        NonZeroU32::new(3).unwrap(),
        &sleep,
        Jitter::NONE,
    ));
    assert_eq!(three.unwrap().remaining(), 0);
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_sleep_is_tokios_timer() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let before = tokio::time::Instant::now();
        palisade_ratelimit::TokioSleep
            .sleep(Duration::from_secs(3_600))
            .await;
        // Paused tokio time moves only through its own timers.
        assert_eq!(before.elapsed(), Duration::from_secs(3_600));
    });
}

#[cfg(feature = "tokio")]
#[test]
fn until_ready_runs_on_tokio() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    // A disabled limiter never waits.
    let limiter = Limiter::disabled("1/hour".parse().unwrap());
    let admitted = runtime.block_on(async {
        limiter.until_ready().await;
        limiter
            .until_ready_with_jitter(Jitter::up_to(Duration::from_secs(1)))
            .await
    });
    assert_eq!(admitted.remaining(), 1);
}
