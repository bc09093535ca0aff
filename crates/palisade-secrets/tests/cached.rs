//! `Cached`: TTL, refresh ahead, single flight, stale-if-error and its bound, forced refresh,
//! rotation and the size bound, on a fake clock and a scripted, counting source.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_secrets::{
    CachePolicy, Cached, Fetch, Metadata, SecretError, SecretRef, SecretSource, SecretValue,
    SourceCause,
};
use palisade_test::{Canary, FakeClock, LogCapture, poll_without_runtime};
use tokio::sync::watch;

/// What the scripted source answers next.
#[derive(Clone)]
enum Answer {
    Value { text: String, version: String },
    Outage,
    NotFound,
    Denied,
}

/// A source that answers what the test says, counts its calls, and can hold every call at a
/// gate until the test opens it.
struct Scripted {
    answer: Mutex<Answer>,
    calls: AtomicUsize,
    gate: Option<watch::Receiver<bool>>,
}

impl Scripted {
    fn new(text: &str, version: &str) -> Self {
        Self {
            answer: Mutex::new(Answer::Value {
                text: text.to_owned(),
                version: version.to_owned(),
            }),
            calls: AtomicUsize::new(0),
            gate: None,
        }
    }

    fn gated(text: &str, gate: watch::Receiver<bool>) -> Self {
        Self {
            gate: Some(gate),
            ..Self::new(text, "v1")
        }
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn rotate(&self, text: &str, version: &str) {
        self.answer(Answer::Value {
            text: text.to_owned(),
            version: version.to_owned(),
        });
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Scripted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scripted")
    }
}

impl SecretSource for Scripted {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::new(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.clone().wait_for(|open| *open).await.unwrap();
            }
            let reference = reference.clone();
            match self.answer.lock().unwrap().clone() {
                Answer::Value { text, version } => {
                    Ok(SecretValue::from_string(text)
                        .with_metadata(Metadata::with_version(version)))
                }
                Answer::Outage => Err(SecretError::Unavailable {
                    reference,
                    cause: SourceCause::from("connection refused"),
                }),
                Answer::NotFound => Err(SecretError::NotFound { reference }),
                Answer::Denied => Err(SecretError::AccessDenied { reference }),
            }
        })
    }
}

const TTL: Duration = Duration::from_secs(60);
const AHEAD: Duration = Duration::from_secs(10);
const MAX_STALE: Duration = Duration::from_secs(120);
const RETRY: Duration = Duration::from_secs(5);

fn policy() -> CachePolicy {
    CachePolicy::new(TTL)
        .unwrap()
        .with_refresh_ahead(AHEAD)
        .unwrap()
        .with_max_stale(MAX_STALE)
        .unwrap()
        .with_error_retry(RETRY)
        .unwrap()
}

fn cache(source: Scripted) -> (Cached<Scripted>, FakeClock) {
    let clock = FakeClock::new();
    let cache = Cached::with_clock(source, policy(), Arc::new(clock.clone()));
    (cache, clock)
}

fn reference(text: &str) -> SecretRef {
    text.parse().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn text(secret: &palisade_secrets::CachedSecret) -> &str {
    secret.value().expose_str().unwrap()
}

fn version(secret: &palisade_secrets::CachedSecret) -> &str {
    secret.value().metadata().version.as_deref().unwrap()
}

#[test]
fn a_thousand_concurrent_misses_make_one_backend_call() {
    let (open, gate) = watch::channel(false);
    let (cache, _clock) = cache(Scripted::gated("s3cret", gate));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let results = runtime.block_on(async {
        let started = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..1000 {
            let cache = cache.clone();
            let started = Arc::clone(&started);
            tasks.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                cache.get(&reference("vault:secret/db#password")).await
            });
        }
        while started.load(Ordering::SeqCst) < 1000 {
            tokio::task::yield_now().await;
        }
        open.send(true).unwrap();
        tasks.join_all().await
    });
    assert_eq!(cache.source().calls(), 1);
    assert_eq!(results.len(), 1000);
    for result in results {
        assert_eq!(text(&result.unwrap()), "s3cret");
    }
}

#[test]
fn concurrent_misses_share_one_failure_with_its_cause() {
    let (open, gate) = watch::channel(false);
    let source = Scripted::gated("unused", gate);
    source.answer(Answer::Outage);
    let (cache, _clock) = cache(source);
    let errors = runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let cache = cache.clone();
            tasks.spawn(async move { cache.get(&reference("vault:secret/db")).await });
        }
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        open.send(true).unwrap();
        tasks.join_all().await
    });
    assert_eq!(cache.source().calls(), 1);
    for error in errors {
        let error = error.unwrap_err();
        assert!(error.is_outage(), "{error}");
        let cause = std::error::Error::source(&error).unwrap();
        assert_eq!(cause.to_string(), "connection refused");
    }
}

#[test]
fn a_caller_that_gives_up_does_not_strand_the_others() {
    let (open, gate) = watch::channel(false);
    let (cache, _clock) = cache(Scripted::gated("s3cret", gate));
    let value = runtime().block_on(async {
        let leader = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get(&reference("vault:secret/db")).await }
        });
        while cache.source().calls() == 0 {
            tokio::task::yield_now().await;
        }
        let follower = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get(&reference("vault:secret/db")).await }
        });
        tokio::task::yield_now().await;
        leader.abort();
        assert!(leader.await.unwrap_err().is_cancelled());
        open.send(true).unwrap();
        follower.await.unwrap()
    });
    assert_eq!(text(&value.unwrap()), "s3cret");
    assert_eq!(
        cache.source().calls(),
        2,
        "the follower took over the abandoned call"
    );
}

#[test]
fn a_fresh_hit_never_calls_the_backend_and_expiry_does() {
    let (cache, clock) = cache(Scripted::new("one", "v1"));
    let secret_ref = reference("aws-sm:prod/db");
    runtime().block_on(async {
        for _ in 0..5 {
            assert_eq!(text(&cache.get(&secret_ref).await.unwrap()), "one");
        }
        assert_eq!(cache.source().calls(), 1);
        clock.advance(TTL - AHEAD - Duration::from_secs(1));
        cache.get(&secret_ref).await.unwrap();
        assert_eq!(
            cache.source().calls(),
            1,
            "still fresh, before the refresh window"
        );
        cache.source().rotate("two", "v2");
        clock.advance(AHEAD + Duration::from_secs(1));
        let secret = cache.get(&secret_ref).await.unwrap();
        assert_eq!(text(&secret), "two", "expired: fetched again");
        assert!(!secret.is_stale());
        assert_eq!(cache.source().calls(), 2);
    });
}

#[test]
fn refresh_ahead_runs_in_the_background_and_serves_the_cached_value_meanwhile() {
    let (cache, clock) = cache(Scripted::new("one", "v1"));
    let secret_ref = reference("aws-sm:prod/db");
    runtime().block_on(async {
        cache.get(&secret_ref).await.unwrap();
        cache.source().rotate("two", "v2");
        clock.advance(TTL - AHEAD + Duration::from_secs(1));
        let during = cache.get(&secret_ref).await.unwrap();
        assert_eq!(
            text(&during),
            "one",
            "answered from the cache, not after the refresh"
        );
        assert_eq!(version(&during), "v1");
        for _ in 0..100 {
            if cache.source().calls() == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.source().calls(), 2, "one background refresh");
        // Let the spawned refresh store its value.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let after = cache.get(&secret_ref).await.unwrap();
        assert_eq!(
            version(&after),
            "v2",
            "rotation is visible after the refresh"
        );
        assert_eq!(
            cache.source().calls(),
            2,
            "the refreshed value is fresh again"
        );
    });
}

#[test]
fn refresh_ahead_without_a_runtime_is_done_by_the_first_reader() {
    let (cache, clock) = cache(Scripted::new("one", "v1"));
    let secret_ref = reference("aws-sm:prod/db");
    poll_without_runtime(cache.get(&secret_ref)).unwrap();
    cache.source().rotate("two", "v2");
    clock.advance(TTL - AHEAD + Duration::from_secs(1));
    let during = poll_without_runtime(cache.get(&secret_ref)).unwrap();
    assert_eq!(text(&during), "one");
    assert_eq!(cache.source().calls(), 2);
    let after = poll_without_runtime(cache.get(&secret_ref)).unwrap();
    assert_eq!(text(&after), "two");
    assert_eq!(cache.source().calls(), 2);
}

#[test]
fn a_failed_refresh_ahead_keeps_the_value_until_expiry_and_retries_later() {
    let (cache, clock) = cache(Scripted::new("one", "v1"));
    let secret_ref = reference("aws-sm:prod/db");
    cache.source().answer(Answer::Outage);
    poll_without_runtime(cache.get(&secret_ref)).unwrap_err();
    cache.source().rotate("one", "v1");
    poll_without_runtime(cache.get(&secret_ref)).unwrap();
    assert_eq!(cache.source().calls(), 2);
    cache.source().answer(Answer::Outage);
    clock.advance(TTL - AHEAD + Duration::from_secs(1));
    let during = poll_without_runtime(cache.get(&secret_ref)).unwrap();
    assert!(!during.is_stale(), "not expired yet");
    assert_eq!(cache.source().calls(), 3);
    poll_without_runtime(cache.get(&secret_ref)).unwrap();
    assert_eq!(cache.source().calls(), 3, "no retry before the error pause");
    clock.advance(RETRY);
    poll_without_runtime(cache.get(&secret_ref)).unwrap();
    assert_eq!(cache.source().calls(), 4, "retried after the pause");
}

#[test]
fn stale_if_error_serves_the_last_good_value_flagged_and_bounded() {
    let (cache, clock) = cache(Scripted::new("good", "v1"));
    let secret_ref = reference("vault:secret/db");
    let capture = LogCapture::start();
    runtime().block_on(async {
        cache.get(&secret_ref).await.unwrap();
        cache.source().answer(Answer::Outage);
        clock.advance(TTL);
        let stale = cache.get(&secret_ref).await.unwrap();
        assert!(stale.is_stale());
        assert_eq!(text(&stale), "good");
        assert_eq!(cache.source().calls(), 2);

        let again = cache.get(&secret_ref).await.unwrap();
        assert!(again.is_stale());
        assert_eq!(
            cache.source().calls(),
            2,
            "the backend is not hammered while it is down"
        );

        clock.advance(RETRY);
        assert!(cache.get(&secret_ref).await.unwrap().is_stale());
        assert_eq!(cache.source().calls(), 3, "retried once per pause");

        clock.advance(MAX_STALE - RETRY);
        let error = cache.get(&secret_ref).await.unwrap_err();
        assert!(
            error.is_outage(),
            "past max_stale the outage is reported: {error}"
        );

        cache.source().rotate("back", "v2");
        let recovered = cache.get(&secret_ref).await.unwrap();
        assert!(!recovered.is_stale());
        assert_eq!(text(&recovered), "back");
    });
    let logs = capture.text();
    assert!(logs.contains("serving the last good value"), "{logs}");
    assert!(!logs.contains("good\""), "{logs}");
}

#[test]
fn not_found_and_access_denied_are_answers_not_outages() {
    let (cache, clock) = cache(Scripted::new("good", "v1"));
    let secret_ref = reference("vault:secret/db");
    runtime().block_on(async {
        cache.get(&secret_ref).await.unwrap();
        cache.source().answer(Answer::Denied);
        clock.advance(TTL);
        let denied = cache.get(&secret_ref).await.unwrap_err();
        assert!(
            matches!(denied, SecretError::AccessDenied { .. }),
            "{denied}"
        );

        cache.source().answer(Answer::NotFound);
        assert!(cache.get(&secret_ref).await.unwrap_err().is_not_found());
        assert!(cache.is_empty(), "a deleted secret leaves the cache");
    });
}

#[test]
fn refresh_now_fetches_a_new_value_and_rotation_is_logged_with_versions() {
    let (cache, _clock) = cache(Scripted::new("old-password", "v1"));
    let secret_ref = reference("aws-sm:prod/db#password");
    let capture = LogCapture::start();
    runtime().block_on(async {
        assert_eq!(version(&cache.get(&secret_ref).await.unwrap()), "v1");
        cache.source().rotate("new-password", "v2");
        assert_eq!(
            version(&cache.get(&secret_ref).await.unwrap()),
            "v1",
            "cached"
        );
        let refreshed = cache.refresh_now(&secret_ref).await.unwrap();
        assert_eq!(text(&refreshed), "new-password");
        assert_eq!(version(&refreshed), "v2");
        assert_eq!(version(&cache.get(&secret_ref).await.unwrap()), "v2");
        assert_eq!(cache.source().calls(), 2);
    });
    let logs = capture.text();
    assert!(logs.contains("secret rotated"), "{logs}");
    assert!(
        logs.contains("previous_version=\"v1\"") && logs.contains("version=\"v2\""),
        "{logs}"
    );
    assert!(!logs.contains("password\""), "{logs}");
    assert!(!logs.contains("new-password"), "{logs}");
}

#[test]
fn refresh_now_during_an_outage_reports_it_instead_of_serving_stale() {
    let (cache, _clock) = cache(Scripted::new("good", "v1"));
    let secret_ref = reference("vault:secret/db");
    runtime().block_on(async {
        cache.get(&secret_ref).await.unwrap();
        cache.source().answer(Answer::Outage);
        assert!(
            cache
                .refresh_now(&secret_ref)
                .await
                .unwrap_err()
                .is_outage()
        );
        assert_eq!(
            text(&cache.get(&secret_ref).await.unwrap()),
            "good",
            "still cached"
        );
    });
}

#[test]
fn invalidate_makes_the_next_read_fetch() {
    let (cache, _clock) = cache(Scripted::new("good", "v1"));
    let secret_ref = reference("vault:secret/db");
    runtime().block_on(async {
        cache.get(&secret_ref).await.unwrap();
        cache.invalidate(&secret_ref);
        assert!(cache.is_empty());
        cache.get(&secret_ref).await.unwrap();
        assert_eq!(cache.source().calls(), 2);
    });
}

#[test]
fn the_cache_is_bounded_and_drops_the_entry_fetched_longest_ago() {
    let clock = FakeClock::new();
    let policy = policy().with_max_entries(NonZeroUsize::new(2).unwrap());
    let cache = Cached::with_clock(Scripted::new("x", "v1"), policy, Arc::new(clock.clone()));
    runtime().block_on(async {
        for name in ["env:A", "env:B", "env:C"] {
            cache.get(&reference(name)).await.unwrap();
            clock.advance(Duration::from_secs(1));
        }
        assert_eq!(cache.len(), 2);
        cache.get(&reference("env:C")).await.unwrap();
        cache.get(&reference("env:B")).await.unwrap();
        assert_eq!(cache.source().calls(), 3, "B and C are still cached");
        cache.get(&reference("env:A")).await.unwrap();
        assert_eq!(cache.source().calls(), 4, "A was dropped");
    });
}

#[test]
fn debug_output_never_shows_a_cached_value() {
    let canary = Canary::new();
    let (cache, _clock) = cache(Scripted::new(canary.value(), "v1"));
    let secret = runtime()
        .block_on(cache.get(&reference("vault:secret/db")))
        .unwrap();
    canary.assert_not_in_debug(&secret);
    canary.assert_not_in_debug(&cache);
    assert_eq!(
        format!("{secret:?}"),
        r#"CachedSecret { value: SecretValue { value: "***", version: Some("v1"), .. }, stale: false }"#
    );
    assert!(format!("{cache:?}").starts_with("Cached { source: Scripted, policy: CachePolicy {"));
    assert!(format!("{cache:?}").ends_with("entries: 1, .. }"));
}

#[test]
fn get_with_reads_a_fresh_value_in_place_and_falls_back_to_get_otherwise() {
    let (cache, clock) = cache(Scripted::new("first", "v1"));
    let secret_ref = reference("vault:secret/db");
    let length = |value: &SecretValue, stale: bool| (value.len(), stale);
    // A miss fetches, then reads.
    let miss = runtime()
        .block_on(cache.get_with(&secret_ref, length))
        .unwrap();
    assert_eq!(miss, (5, false));
    assert_eq!(cache.source().calls(), 1);
    // A fresh hit is ready at once, without a runtime, and reads the cached value.
    let hit = palisade_test::ready_now(cache.get_with(&secret_ref, |value, stale| {
        (value.expose_str().map(str::to_owned), stale)
    }))
    .unwrap();
    assert_eq!(hit, (Some("first".to_owned()), false));
    assert_eq!(cache.source().calls(), 1);
    // Past expiry during an outage, the stale value is read and flagged.
    cache.source().answer(Answer::Outage);
    clock.advance(TTL);
    let stale = runtime()
        .block_on(cache.get_with(&secret_ref, length))
        .unwrap();
    assert_eq!(stale, (5, true));
    // Errors are get's errors.
    let missing = reference("vault:secret/other");
    cache.source().answer(Answer::NotFound);
    let error = runtime()
        .block_on(cache.get_with(&missing, length))
        .unwrap_err();
    assert!(error.is_not_found());
}
