//! The direct limiter on a fake clock: bursts, refill, all-or-nothing across limits, the
//! three result shapes, the disabled mode, and the same decisions as governor's.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use palisade_ratelimit::{Limiter, Mode, Settings, Spec};
use palisade_test::FakeClock;
use proptest::prelude::*;

fn limiter(spec: &str) -> (Limiter, FakeClock) {
    let clock = FakeClock::new();
    let spec: Spec = spec.parse().unwrap();
    (
        Limiter::with_clock(&Settings::new(spec), Arc::new(clock.clone())),
        clock,
    )
}

fn n(count: u32) -> NonZeroU32 {
    NonZeroU32::new(count).unwrap()
}

#[test]
fn the_burst_passes_then_one_per_refill_interval() {
    let (limiter, clock) = limiter("5/minute");
    for left in (0..5).rev() {
        assert_eq!(limiter.check().unwrap().remaining(), left);
    }
    let refused = limiter.check().unwrap_err();
    assert_eq!(refused.wait(), Duration::from_secs(12));
    assert_eq!(refused.limit().to_string(), "5/minute");
    clock.advance(Duration::from_secs(11));
    assert_eq!(limiter.check().unwrap_err().wait(), Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    let admitted = limiter.check().unwrap();
    assert_eq!(admitted.remaining(), 0);
    assert_eq!(admitted.full_in(), Duration::from_secs(60));
}

#[test]
fn a_request_refused_by_one_limit_spends_nothing_from_the_others() {
    let (limiter, clock) = limiter("10/second; 3/minute");
    for _ in 0..3 {
        limiter.check().unwrap();
    }
    // The per-minute limit refuses; were the per-second one charged anyway, the next second
    // would find it spent after ten more tries.
    for _ in 0..10 {
        assert_eq!(limiter.check().unwrap_err().limit().to_string(), "3/minute");
    }
    clock.advance(Duration::from_secs(20));
    let admitted = limiter.check().unwrap();
    assert_eq!(admitted.limit().to_string(), "3/minute");
    assert_eq!(admitted.remaining(), 0);
}

#[test]
fn the_refusing_limit_with_the_longest_wait_is_named() {
    let (limiter, _clock) = limiter("1/second; 1/minute");
    limiter.check().unwrap();
    let refused = limiter.check().unwrap_err();
    assert_eq!(refused.limit().to_string(), "1/minute");
    assert_eq!(refused.wait(), Duration::from_secs(60));
}

#[test]
fn batches_are_all_or_nothing_and_larger_than_the_burst_never_pass() {
    let (limiter, clock) = limiter("5/second");
    assert_eq!(limiter.check_n(n(3)).unwrap().unwrap().remaining(), 2);
    let later = limiter.check_n(n(3)).unwrap().unwrap_err();
    assert_eq!(later.wait(), Duration::from_millis(200));
    // The refused batch spent nothing: two single requests still pass.
    limiter.check().unwrap();
    limiter.check().unwrap();
    let never = limiter.check_n(n(6)).unwrap_err();
    assert_eq!(never.requested(), n(6));
    assert_eq!(never.limit().count(), n(5));
    clock.advance(Duration::from_secs(10));
    assert!(limiter.check_n(n(6)).is_err(), "never means never");
    assert!(limiter.check_n(n(5)).unwrap().is_ok());
}

#[test]
fn not_until_reports_the_instant_on_the_limiters_clock() {
    use palisade_clock::Clock;
    let (limiter, clock) = limiter("1/second");
    limiter.check().unwrap();
    clock.advance(Duration::from_millis(300));
    let refused = limiter.check().unwrap_err();
    assert_eq!(refused.earliest(), clock.now() + Duration::from_millis(700));
    assert_eq!(refused.wait(), Duration::from_millis(700));
}

#[test]
fn the_disabled_mode_admits_everything_and_says_so() {
    let spec: Spec = "1/hour".parse().unwrap();
    let off = Limiter::disabled(spec.clone());
    for _ in 0..1_000 {
        assert_eq!(off.check().unwrap().remaining(), 1);
    }
    assert!(off.check_n(n(1)).unwrap().is_ok());
    assert!(off.settings().mode() == Mode::Disabled);
    assert_eq!(
        format!("{off:?}"),
        r#"Limiter { spec: 1/hour, mode: Disabled, .. }"#
    );
    let on = Limiter::new(&Settings::new(spec));
    assert!(on.settings().mode() == Mode::Enforce);
    assert_eq!(
        format!("{on:?}"),
        "Limiter { spec: 1/hour, mode: Enforce, .. }"
    );
    assert_eq!(
        Settings::new("1/hour".parse().unwrap()).mode(),
        Mode::Enforce
    );
}

#[test]
fn concurrent_callers_never_share_out_more_than_the_burst() {
    let (limiter, _clock) = limiter("100/hour");
    let limiter = Arc::new(limiter);
    let admitted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                scope.spawn(move || (0..1_000).filter(|_| limiter.check().is_ok()).count())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(admitted, 100);
}

/// A schedule step: advance the clock by this many milliseconds, then ask for this many cells.
fn steps() -> impl Strategy<Value = Vec<(u64, u32)>> {
    prop::collection::vec((0_u64..3_000, 1_u32..4), 1..200)
}

proptest! {
    /// Over any window between two admissions, a limiter admits at most the burst plus the
    /// refill that window allows, for every limit of the spec.
    #[test]
    fn never_more_than_the_burst_plus_the_refill(
        counts in prop::collection::vec(1_u32..20, 1..3),
        seconds in prop::collection::vec(1_u32..120, 3),
        schedule in steps(),
    ) {
        let text: Vec<String> = counts
            .iter()
            .zip(&seconds)
            .map(|(count, secs)| format!("{count} per {secs} seconds"))
            .collect();
        let (limiter, clock) = limiter(&text.join("; "));
        let spec = limiter.settings().spec().clone();
        let mut admitted: Vec<(Duration, u32)> = Vec::new();
        for (advance, cells) in schedule {
            clock.advance(Duration::from_millis(advance));
            if let Ok(Ok(_)) = limiter.check_n(n(cells)) {
                admitted.push((clock.elapsed(), cells));
            }
        }
        for limit in spec.limits() {
            let interval = limit.refill_interval();
            for first in 0..admitted.len() {
                let mut total = 0_u64;
                for last in first..admitted.len() {
                    total += u64::from(admitted[last].1);
                    let window = admitted[last].0 - admitted[first].0;
                    let refill = u64::try_from(window.as_nanos() / interval.as_nanos()).unwrap();
                    prop_assert!(
                        total <= u64::from(limit.count().get()) + refill,
                        "{total} cells in {window:?} under {limit}"
                    );
                }
            }
        }
    }

    /// For one limit, every decision and every wait equals governor's on the same schedule.
    #[test]
    fn decides_as_governor_does(
        count in 1_u32..50,
        seconds in 1_u32..100,
        schedule in steps(),
    ) {
        let text = format!("{count} per {seconds} seconds");
        let (ours, clock) = limiter(&text);
        let quota = text.parse::<palisade_ratelimit::Limit>().unwrap().quota();
        let theirs_clock = FakeRelativeClock::default();
        let theirs = governor::RateLimiter::direct_with_clock(quota, theirs_clock.clone());
        for (advance, cells) in schedule {
            clock.advance(Duration::from_millis(advance));
            theirs_clock.advance(Duration::from_millis(advance));
            let mine = ours.check_n(n(cells));
            let governors = theirs.check_n(n(cells));
            match (mine, governors) {
                (Ok(Ok(_)), Ok(Ok(()))) | (Err(_), Err(_)) => {}
                (Ok(Err(refused)), Ok(Err(not_until))) => {
                    use governor::clock::Clock as _;
                    prop_assert_eq!(refused.wait(), not_until.wait_time_from(theirs_clock.now()));
                }
                (mine, governors) => prop_assert!(false, "ours {mine:?}, governor's {governors:?}"),
            }
        }
    }
}
