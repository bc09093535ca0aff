//! R-AUD-1: refused tokens (own keys), refused one-time codes and refused Turnstile tokens
//! become security events with their reason, never the token, code or secret.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use palisade_audit::{Audit, Recorder, SecurityKind};
use palisade_auth::{
    MemoryCodes, OneTimeCodes, OwnAlgorithm, SigningKey, TokenIssuer, TokenVerifier,
    TurnstileVerifier,
};
use palisade_secrets::SecretValue;
use palisade_test::FakeClock;
use palisade_test::emulators::turnstile::TurnstileEmulator;

fn reasons(audit: &Audit, recorder: &Recorder) -> Vec<(SecurityKind, &'static str)> {
    audit.flush();
    let events = recorder.take_security();
    assert!(events.iter().all(|e| e.source() == "palisade-auth"));
    events
        .iter()
        .map(|e| (e.kind(), e.reason().unwrap()))
        .collect()
}

#[tokio::test]
async fn refusals_are_reported_with_their_reason_and_nothing_else() {
    let seen = Recorder::new();
    let audit = Audit::builder().sink(seen.clone()).build();
    let secret = SecretValue::from_string("at least thirty-two bytes of secret key".into());
    let key = SigningKey::new("k1", OwnAlgorithm::Hs256, &secret).unwrap();
    let issuer = TokenIssuer::new(key.clone())
        .issuer("https://api")
        .audience("crud");
    let verifier = TokenVerifier::new([key.verifying_key()])
        .issuer("https://api")
        .audience("crud")
        .with_audit(audit.clone());
    let token = issuer.issue("u-1", &serde_json::json!({})).unwrap();
    verifier.verify::<serde_json::Value>(&token).unwrap();
    verifier
        .verify::<serde_json::Value>("not.a.token")
        .unwrap_err();
    let other = TokenIssuer::new(key)
        .issuer("https://api")
        .audience("billing");
    let wrong_audience = other.issue("u-1", &serde_json::json!({})).unwrap();
    verifier
        .verify::<serde_json::Value>(&wrong_audience)
        .unwrap_err();

    let codes = OneTimeCodes::new(MemoryCodes::default()).with_audit(audit.clone());
    let code = codes.issue(b"session", None).await.unwrap();
    codes.redeem(code.expose(), None).await.unwrap();
    codes.redeem(code.expose(), None).await.unwrap_err();

    let emulator =
        TurnstileEmulator::start(Arc::new(FakeClock::new()), "0x4AAAAAAAemulated-site-secret")
            .await
            .unwrap();
    let turnstile = TurnstileVerifier::for_testing(SecretValue::from_string(
        "0x4AAAAAAAemulated-site-secret".into(),
    ))
    .unwrap()
    .endpoint(&emulator.siteverify_url())
    .unwrap()
    .with_audit(audit.clone());
    turnstile.verify("never-issued", None).await.unwrap_err();

    let events = reasons(&audit, &seen);
    assert_eq!(
        events,
        [
            (SecurityKind::TokenRefused, "token/malformed"),
            (SecurityKind::TokenRefused, "token/audience"),
            (SecurityKind::OneTimeCodeReused, "code/refused"),
            (SecurityKind::AccessDenied, "turnstile/rejected"),
        ]
    );
}

#[test]
fn a_cached_verifier_reports_its_refusals_too() {
    let seen = Recorder::new();
    let audit = Audit::builder().sink(seen.clone()).build();
    let clock = Arc::new(FakeClock::new());
    let secret = SecretValue::from_string("at least thirty-two bytes of secret key".into());
    let key = SigningKey::new("k1", OwnAlgorithm::Hs256, &secret).unwrap();
    let issuer = TokenIssuer::new(key.clone())
        .lifetime(std::time::Duration::from_secs(60))
        .unwrap()
        .clock(clock.clone());
    let verifier = palisade_auth::CachedVerifier::<serde_json::Value>::new(
        TokenVerifier::new([key.verifying_key()])
            .clock(clock.clone())
            .with_audit(audit.clone()),
        1 << 20,
    )
    .unwrap();
    let token = issuer.issue("u-1", &serde_json::json!({})).unwrap();
    verifier.verify(&token).unwrap();
    verifier.verify(&token).unwrap();
    clock.advance(std::time::Duration::from_secs(120));
    verifier.verify(&token).unwrap_err();
    verifier.verify(&"A".repeat(9000)).unwrap_err();
    assert_eq!(
        reasons(&audit, &seen),
        [
            (SecurityKind::TokenRefused, "token/expired"),
            (SecurityKind::TokenRefused, "token/too-long"),
        ]
    );
}
