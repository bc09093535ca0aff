//! The keyed limiter: one state per client, a hard cap on tracked keys under any churn, an
//! eviction that never frees a limited client, `retain_recent`, and governor's decisions.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::net::{IpAddr, Ipv6Addr};
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use palisade_ratelimit::{ClientKey, Evictions, IpGrouping, KeyedLimiter, Settings, Spec};
use palisade_test::FakeClock;
use proptest::prelude::*;

fn keyed(spec: &str, max_keys: usize) -> (KeyedLimiter, FakeClock) {
    let clock = FakeClock::new();
    let spec: Spec = spec.parse().unwrap();
    let settings = Settings::new(spec).with_max_keys(NonZeroUsize::new(max_keys).unwrap());
    (
        KeyedLimiter::with_clock(&settings, Arc::new(clock.clone())),
        clock,
    )
}

/// The `i`-th of a stream of IPv6 clients, each in its own /56.
fn rotating(i: u64) -> ClientKey {
    let bits = (u128::from(i) << 72) | 0x2001_0db8_u128 << 96;
    IpGrouping::DEFAULT.key(IpAddr::V6(Ipv6Addr::from(bits)))
}

#[test]
fn each_client_has_its_own_limit() {
    let (limiter, _clock) = keyed("2/minute", 100);
    let alice = ClientKey::user("alice");
    let bob = ClientKey::user("bob");
    limiter.check_key(&alice).unwrap();
    limiter.check_key(&alice).unwrap();
    assert_eq!(
        limiter.check_key(&alice).unwrap_err().wait(),
        Duration::from_secs(30)
    );
    assert_eq!(limiter.check_key(&bob).unwrap().remaining(), 1);
    assert_eq!(limiter.len(), 2);
}

#[test]
fn an_ipv6_subscriber_is_one_client_across_its_slash_56() {
    let (limiter, _clock) = keyed("1/minute", 100);
    let grouping = IpGrouping::DEFAULT;
    limiter
        .check_key(&grouping.key("2001:db8:1:200::1".parse().unwrap()))
        .unwrap();
    for other in [
        "2001:db8:1:2ff::1",
        "2001:db8:1:200:ffff::",
        "2001:db8:1:250::7",
    ] {
        assert!(
            limiter
                .check_key(&grouping.key(other.parse().unwrap()))
                .is_err()
        );
    }
    assert!(
        limiter
            .check_key(&grouping.key("2001:db8:1:300::1".parse().unwrap()))
            .is_ok()
    );
}

#[test]
fn ten_million_rotating_ipv6_clients_never_exceed_the_cap() {
    const CAP: usize = 100_000;
    let (limiter, clock) = keyed("5/minute", CAP);
    for i in 0..10_000_000_u64 {
        assert!(limiter.check_key(&rotating(i)).is_ok());
        if i % 1_000_000 == 0 {
            assert!(limiter.len() <= CAP, "{} keys after {i}", limiter.len());
            clock.advance(Duration::from_millis(1));
        }
    }
    assert_eq!(limiter.len(), CAP);
    let Evictions { total, .. } = limiter.evictions();
    assert_eq!(total, 10_000_000 - CAP as u64);
}

#[test]
fn flooding_fresh_keys_does_not_free_a_limited_client() {
    let (limiter, clock) = keyed("5/hour", 1_000);
    let attacker = ClientKey::user("attacker");
    for _ in 0..5 {
        limiter.check_key(&attacker).unwrap();
    }
    assert!(limiter.check_key(&attacker).is_err());
    // Twenty times the cap of one-request clients, spread over ten seconds.
    for i in 0..20_000 {
        limiter.check_key(&rotating(i)).unwrap();
        if i % 2_000 == 0 {
            clock.advance(Duration::from_secs(1));
        }
    }
    assert!(limiter.len() <= 1_000);
    let refused = limiter.check_key(&attacker).unwrap_err();
    assert!(refused.wait() > Duration::from_secs(700), "{refused:?}");
}

#[test]
fn a_full_table_reuses_the_slots_of_clients_that_have_refilled() {
    let (limiter, clock) = keyed("5/minute", 64);
    for i in 0..64 {
        limiter.check_key(&rotating(i)).unwrap();
    }
    clock.advance(Duration::from_secs(13));
    for i in 64..128 {
        limiter.check_key(&rotating(i)).unwrap();
    }
    assert_eq!(limiter.len(), 64);
    assert_eq!(
        limiter.evictions(),
        Evictions { total: 64, live: 0 },
        "every evicted client had refilled"
    );
}

#[test]
fn retain_recent_forgets_clients_that_have_refilled() {
    let (limiter, clock) = keyed("5/minute", 1_000);
    for i in 0..500 {
        limiter.check_key(&rotating(i)).unwrap();
    }
    clock.advance(Duration::from_secs(6));
    let busy = ClientKey::user("busy");
    for _ in 0..5 {
        limiter.check_key(&busy).unwrap();
    }
    clock.advance(Duration::from_secs(7));
    limiter.retain_recent();
    assert_eq!(limiter.len(), 1, "only the busy client still has state");
    assert!(limiter.check_key(&busy).is_err(), "and it is still limited");
    assert!(limiter.check_key(&rotating(1)).is_ok());
    assert_eq!(limiter.len(), 2);
}

#[test]
fn a_tiny_cap_still_holds() {
    let (limiter, _clock) = keyed("1/minute", 1);
    for i in 0..100 {
        limiter.check_key(&rotating(i)).unwrap();
        assert_eq!(limiter.len(), 1);
    }
}

#[test]
fn batches_larger_than_the_burst_never_pass_and_track_nothing() {
    let (limiter, _clock) = keyed("3/minute", 10);
    let key = ClientKey::user("batch");
    let never = limiter
        .check_key_n(&key, NonZeroU32::new(4).unwrap())
        .unwrap_err();
    assert_eq!(never.limit().count().get(), 3);
    assert!(limiter.is_empty());
    assert!(
        limiter
            .check_key_n(&key, NonZeroU32::new(3).unwrap())
            .unwrap()
            .is_ok()
    );
    assert!(limiter.check_key_n(&key, NonZeroU32::MIN).unwrap().is_err());
}

#[test]
fn the_disabled_mode_admits_everything_tracks_nothing_and_says_so() {
    let off: KeyedLimiter = KeyedLimiter::disabled("1/hour".parse().unwrap());
    for i in 0..1_000 {
        assert!(off.check_key(&rotating(i % 3)).is_ok());
    }
    assert!(off.is_empty());
    assert_eq!(
        format!("{off:?}"),
        "KeyedLimiter { spec: 1/hour, mode: Disabled, max_keys: 100000, .. }"
    );
}

#[test]
fn concurrent_clients_never_share_out_more_than_each_burst() {
    let (limiter, _clock) = keyed("50/hour", 1_000);
    let keys: Vec<ClientKey> = (0..8).map(rotating).collect();
    let admitted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (limiter, keys) = (&limiter, &keys);
                scope.spawn(move || {
                    (0..2_000)
                        .filter(|i| limiter.check_key(&keys[i % keys.len()]).is_ok())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(admitted, 8 * 50);
}

proptest! {
    /// With room for every key, each decision and wait equals governor's keyed limiter's.
    #[test]
    fn decides_as_governors_keyed_limiter_does(
        count in 1_u32..20,
        seconds in 1_u32..100,
        schedule in prop::collection::vec((0_u64..3_000, 0_u8..5), 1..300),
    ) {
        let text = format!("{count} per {seconds} seconds");
        let (ours, clock) = keyed(&text, 16);
        let quota = text.parse::<palisade_ratelimit::Limit>().unwrap().quota();
        let theirs_clock = FakeRelativeClock::default();
        let theirs: governor::RateLimiter<
            ClientKey,
            governor::state::keyed::DashMapStateStore<ClientKey>,
            FakeRelativeClock,
            governor::middleware::NoOpMiddleware<governor::nanos::Nanos>,
        > = governor::RateLimiter::new(
            quota,
            governor::state::keyed::DashMapStateStore::<ClientKey>::default(),
            theirs_clock.clone(),
        );
        for (advance, client) in schedule {
            clock.advance(Duration::from_millis(advance));
            theirs_clock.advance(Duration::from_millis(advance));
            let key = ClientKey::user(format!("client-{client}"));
            match (ours.check_key(&key), theirs.check_key(&key)) {
                (Ok(_), Ok(())) => {}
                (Err(refused), Err(not_until)) => {
                    use governor::clock::Clock as _;
                    prop_assert_eq!(refused.wait(), not_until.wait_time_from(theirs_clock.now()));
                }
                (mine, governors) => prop_assert!(false, "ours {mine:?}, governor's {governors:?}"),
            }
        }
    }
}
