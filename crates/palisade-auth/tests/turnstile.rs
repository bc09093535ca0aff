//! `TurnstileVerifier` against palisade-test's siteverify emulator (conformance with
//! Cloudflare's documentation is tested there): accepted tokens, host name and action
//! checks, spent and expired tokens, the dummy keys, and every outage failing closed
//! (R-WEB-3).
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use palisade_auth::{TurnstileErrorCode, TurnstileRefused, TurnstileVerifier};
use palisade_secrets::SecretValue;
use palisade_test::FakeClock;
use palisade_test::emulators::turnstile::{
    DUMMY_TOKEN, FAILING_SECRET, Fault, PASSING_SECRET, SPENT_SECRET, TurnstileEmulator,
};

const SITE_SECRET: &str = "0x4AAAAAAAemulated-site-secret";

fn secret(text: &str) -> SecretValue {
    SecretValue::from_string(text.to_owned())
}

async fn emulator() -> (TurnstileEmulator, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new());
    (
        TurnstileEmulator::start(clock.clone(), SITE_SECRET)
            .await
            .unwrap(),
        clock,
    )
}

fn verifier(emulator: &TurnstileEmulator, key: &str) -> TurnstileVerifier {
    TurnstileVerifier::for_testing(secret(key))
        .unwrap()
        .endpoint(&emulator.siteverify_url())
        .unwrap()
}

#[tokio::test]
async fn a_token_solved_on_our_host_for_our_action_passes_once() {
    let (emulator, _) = emulator().await;
    let verifier = verifier(&emulator, SITE_SECRET)
        .hostname("app.example.com")
        .action("signin");
    let token = emulator.issue_token("app.example.com", "signin");
    let accepted = verifier
        .verify(&token, Some("203.0.113.9".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(accepted.hostname, "app.example.com");
    assert_eq!(accepted.action, "signin");
    assert!(accepted.challenge_ts.ends_with('Z'));
    assert_eq!(
        verifier.verify(&token, None).await.unwrap_err(),
        TurnstileRefused::Rejected(vec![TurnstileErrorCode::TimeoutOrDuplicate])
    );
}

#[tokio::test]
async fn tokens_from_elsewhere_or_too_old_are_refused() {
    let (emulator, clock) = emulator().await;
    let verifier = verifier(&emulator, SITE_SECRET)
        .hostname("app.example.com")
        .action("signin");
    let other_host = emulator.issue_token("evil.example", "signin");
    assert_eq!(
        verifier.verify(&other_host, None).await.unwrap_err(),
        TurnstileRefused::WrongHostname
    );
    let other_action = emulator.issue_token("app.example.com", "signup");
    assert_eq!(
        verifier.verify(&other_action, None).await.unwrap_err(),
        TurnstileRefused::WrongAction
    );
    let old = emulator.issue_token("app.example.com", "signin");
    clock.advance(Duration::from_secs(301));
    assert_eq!(
        verifier.verify(&old, None).await.unwrap_err(),
        TurnstileRefused::Rejected(vec![TurnstileErrorCode::TimeoutOrDuplicate])
    );
    for (token, code) in [
        ("never-issued", TurnstileErrorCode::InvalidInputResponse),
        (DUMMY_TOKEN, TurnstileErrorCode::InvalidInputResponse),
    ] {
        assert_eq!(
            verifier.verify(token, None).await.unwrap_err(),
            TurnstileRefused::Rejected(vec![code])
        );
    }
    assert_eq!(
        verifier.verify("", None).await.unwrap_err(),
        TurnstileRefused::Missing
    );
    assert_eq!(
        verifier.verify(&"x".repeat(2049), None).await.unwrap_err(),
        TurnstileRefused::TooLong
    );
    let before = emulator.requests().len();
    let _ = verifier.verify(&"x".repeat(2049), None).await;
    assert_eq!(
        emulator.requests().len(),
        before,
        "an oversized token is never sent"
    );
}

#[tokio::test]
async fn the_documented_dummy_secrets_behave_as_documented() {
    let (emulator, _) = emulator().await;
    assert!(
        verifier(&emulator, PASSING_SECRET)
            .verify(DUMMY_TOKEN, None)
            .await
            .is_ok()
    );
    assert_eq!(
        verifier(&emulator, FAILING_SECRET)
            .verify(DUMMY_TOKEN, None)
            .await
            .unwrap_err(),
        TurnstileRefused::Rejected(vec![TurnstileErrorCode::InvalidInputResponse])
    );
    assert_eq!(
        verifier(&emulator, SPENT_SECRET)
            .verify(DUMMY_TOKEN, None)
            .await
            .unwrap_err(),
        TurnstileRefused::Rejected(vec![TurnstileErrorCode::TimeoutOrDuplicate])
    );
    assert_eq!(
        verifier(&emulator, "0x4AAAAAAAwrong-secret")
            .verify(DUMMY_TOKEN, None)
            .await
            .unwrap_err(),
        TurnstileRefused::Rejected(vec![TurnstileErrorCode::InvalidInputSecret])
    );
}

#[tokio::test]
async fn every_outage_refuses_never_passes() {
    let (emulator, _) = emulator().await;
    let verifier = verifier(&emulator, SITE_SECRET)
        .timeout(Duration::from_millis(300))
        .unwrap();
    for (fault, reason) in [
        (Fault::Hang, "timeout"),
        (Fault::NotJson, "not siteverify's JSON"),
        (Fault::BadGateway, "error status"),
        (Fault::ArrayAnswer, "not siteverify's JSON"),
    ] {
        emulator.set_fault(fault);
        let token = emulator.issue_token("app.example.com", "signin");
        assert_eq!(
            verifier.verify(&token, None).await.unwrap_err(),
            TurnstileRefused::Unavailable(reason),
            "{fault:?}"
        );
    }
    // Nothing listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = TurnstileVerifier::new(secret(SITE_SECRET))
        .unwrap()
        .endpoint(&format!("http://127.0.0.1:{port}/siteverify"))
        .unwrap();
    assert_eq!(
        nowhere.verify("token", None).await.unwrap_err(),
        TurnstileRefused::Unavailable("network error")
    );
}

#[test]
fn a_site_key_without_a_secret_is_a_startup_error_not_a_silent_pass() {
    assert!(
        TurnstileVerifier::from_settings(None, None)
            .unwrap()
            .is_none()
    );
    let error = TurnstileVerifier::from_settings(Some("0x4AAAAAAAsitekey"), None).unwrap_err();
    assert!(
        error.to_string().contains("without its secret key"),
        "{error}"
    );
    assert!(TurnstileVerifier::from_settings(Some("0x4AAAAAAAsitekey"), Some(secret(""))).is_err());
    assert!(
        TurnstileVerifier::from_settings(None, Some(secret(SITE_SECRET)))
            .unwrap()
            .is_some()
    );
    for test_key in [PASSING_SECRET, FAILING_SECRET, SPENT_SECRET] {
        let error =
            TurnstileVerifier::from_settings(Some("0x4AAAAAAAsitekey"), Some(secret(test_key)))
                .unwrap_err();
        assert!(error.to_string().contains("test keys"), "{error}");
        assert!(TurnstileVerifier::for_testing(secret(test_key)).is_ok());
    }
    let verifier = TurnstileVerifier::new(secret(SITE_SECRET)).unwrap();
    assert!(
        verifier
            .clone()
            .endpoint("http://challenges.example.com/siteverify")
            .is_err()
    );
    assert!(verifier.clone().timeout(Duration::ZERO).is_err());
    let shown = format!("{verifier:?}");
    assert!(!shown.contains(SITE_SECRET), "{shown}");
}
