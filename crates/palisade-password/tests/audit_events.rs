//! R-AUD-1: failed verifications (wrong password, unknown user, a full pool) and rehashes
//! become security events, from the blocking and the async calls alike, and carry nothing
//! of the password or the hash.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::num::NonZeroUsize;

use palisade_audit::{Audit, Recorder, SecurityKind};
use palisade_password::{Error, Passwords, Policy};
use palisade_test::Canary;

fn recorded() -> (Audit, Recorder) {
    let recorder = Recorder::new();
    (Audit::builder().sink(recorder.clone()).build(), recorder)
}

fn kinds(audit: &Audit, recorder: &Recorder) -> Vec<(SecurityKind, &'static str)> {
    audit.flush();
    recorder
        .take_security()
        .iter()
        .map(|e| (e.kind(), e.reason().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_rehashes_are_reported_once_each() {
    let canary = Canary::new();
    let (audit, seen) = recorded();
    let cheap = Policy::argon2id(7_168, 5, 1).unwrap();
    let old = Passwords::new(cheap).unwrap().hash(canary.value()).unwrap();
    let hasher = Passwords::new(Policy::argon2id(7_168, 6, 1).unwrap())
        .unwrap()
        .with_audit(audit.clone());
    // A plain success says nothing; these each say one thing.
    hasher
        .verify(canary.value(), &hasher.hash(canary.value()).unwrap())
        .unwrap();
    assert_eq!(
        hasher.verify("wrong password", &old).unwrap_err(),
        Error::Mismatch
    );
    hasher.verify(canary.value(), &old).unwrap();
    hasher.dummy_verify("anything").unwrap_err();
    hasher
        .verify_async("wrong password", &old)
        .await
        .unwrap_err();
    hasher.verify_async(canary.value(), &old).await.unwrap();
    hasher.dummy_verify_async("anything").await.unwrap_err();
    audit.flush();
    let recorded = seen.take_security();
    canary.assert_absent("events", &format!("{recorded:?}"));
    let events: Vec<_> = recorded
        .iter()
        .map(|e| (e.kind(), e.reason().unwrap()))
        .collect();
    assert_eq!(
        events,
        [
            (SecurityKind::AuthFailed, "mismatch"),
            (SecurityKind::PasswordRehashed, "weaker-parameters"),
            (SecurityKind::AuthFailed, "mismatch"),
            (SecurityKind::AuthFailed, "mismatch"),
            (SecurityKind::PasswordRehashed, "weaker-parameters"),
            (SecurityKind::AuthFailed, "mismatch"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_is_reported_as_busy() {
    let (audit, seen) = recorded();
    let policy = Policy::argon2id(65_536, 10, 1)
        .unwrap()
        .with_concurrency(NonZeroUsize::MIN)
        .with_queue_bound(0);
    let hasher = Passwords::new(policy).unwrap().with_audit(audit.clone());
    let stored = hasher.hash("pw-long-enough").unwrap();
    let running = {
        let hasher = hasher.clone();
        let stored = stored.clone();
        tokio::spawn(async move { hasher.verify_async("pw-long-enough", &stored).await })
    };
    while hasher.pending() == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        hasher
            .verify_async("pw-long-enough", &stored)
            .await
            .unwrap_err(),
        Error::Busy
    );
    running.await.unwrap().unwrap();
    assert_eq!(kinds(&audit, &seen), [(SecurityKind::AuthFailed, "busy")]);
}
