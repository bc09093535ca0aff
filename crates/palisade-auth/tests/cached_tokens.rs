//! `CachedVerifier`: a token verified once is answered from memory afterwards, its time
//! claims checked again on each use; only verified tokens are remembered; the memory is
//! bounded; nothing of a token shows in Debug (R-WEB-2).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use palisade_auth::{
    CachedVerifier, OwnAlgorithm, SigningKey, TokenIssuer, TokenRefused, TokenVerifier,
};
use palisade_secrets::SecretValue;
use palisade_test::FakeClock;
use serde_json::{Value, json};

fn key(secret: &str) -> SigningKey {
    SigningKey::new(
        "hs-1",
        OwnAlgorithm::Hs256,
        &SecretValue::from_string(secret.to_owned()),
    )
    .unwrap()
}

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::with_wall_start(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ))
}

fn setup() -> (TokenIssuer, CachedVerifier<Value>, Arc<FakeClock>) {
    let key = key("an hmac secret of thirty-two bytes or more, for tests");
    let clock = clock();
    let issuer = TokenIssuer::new(key.clone())
        .audience("crud")
        .lifetime(Duration::from_secs(60))
        .unwrap()
        .clock(clock.clone());
    let verifier = TokenVerifier::new([key.verifying_key()])
        .audience("crud")
        .clock(clock.clone());
    (
        issuer,
        CachedVerifier::new(verifier, 1 << 20).unwrap(),
        clock,
    )
}

#[test]
fn a_remembered_token_reads_as_verified_and_expires_on_time() {
    let (issuer, cached, clock) = setup();
    let token = issuer.issue("u-1", &json!({"role": "admin"})).unwrap();
    let first = cached.verify(&token).unwrap();
    assert_eq!(cached.tokens(), 1);
    let again = cached.verify(&token).unwrap();
    assert_eq!(first, again);
    assert_eq!(again.claims["role"], "admin");
    assert_eq!(cached.tokens(), 1, "the same token is remembered once");

    // Within the leeway it still reads; one second past it, it is expired, from memory too.
    clock.advance(Duration::from_secs(60 + 30));
    assert!(cached.verify(&token).is_ok());
    clock.advance(Duration::from_secs(1));
    assert_eq!(cached.verify(&token).unwrap_err(), TokenRefused::Expired);
    assert_eq!(cached.tokens(), 0, "an expired token is forgotten");
    assert_eq!(cached.verify(&token).unwrap_err(), TokenRefused::Expired);
}

#[test]
fn only_verified_tokens_are_remembered_and_a_changed_byte_is_another_token() {
    let (issuer, cached, clock) = setup();
    let token = issuer.issue("u-1", &json!({"role": "reader"})).unwrap();
    cached.verify(&token).unwrap();

    // Every one-byte change of a remembered token is verified in full, and refused.
    for at in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        if changed == token {
            continue;
        }
        assert!(cached.verify(&changed).is_err(), "byte {at}");
    }
    for forged in ["not.a.token", "e30.e30.", "a.b.c"] {
        assert!(cached.verify(forged).is_err());
    }
    let other_key =
        TokenIssuer::new(key("another secret of thirty-two bytes or more")).audience("crud");
    let wrong_key = other_key.issue("u-1", &json!({})).unwrap();
    for _ in 0..3 {
        assert_eq!(
            cached.verify(&wrong_key).unwrap_err(),
            TokenRefused::BadSignature
        );
    }
    let other_audience =
        TokenIssuer::new(key("an hmac secret of thirty-two bytes or more, for tests"))
            .audience("billing")
            .clock(clock)
            .issue("u-1", &json!({}))
            .unwrap();
    assert_eq!(
        cached.verify(&other_audience).unwrap_err(),
        TokenRefused::WrongAudience
    );
    assert_eq!(cached.tokens(), 1, "nothing refused takes a place");
}

#[test]
fn a_token_not_yet_valid_is_refused_each_time_until_it_is() {
    let key = key("an hmac secret of thirty-two bytes or more, for tests");
    let now = clock();
    // Issued by a clock two minutes ahead: `iat` is in the verifier's future.
    let ahead = clock();
    ahead.advance(Duration::from_secs(120));
    let token = TokenIssuer::new(key.clone())
        .clock(ahead)
        .issue("u-1", &json!({}))
        .unwrap();
    let cached = CachedVerifier::<Value>::new(
        TokenVerifier::new([key.verifying_key()]).clock(now.clone()),
        1 << 20,
    )
    .unwrap();
    assert_eq!(
        cached.verify(&token).unwrap_err(),
        TokenRefused::NotYetValid
    );
    assert_eq!(cached.tokens(), 0);
    now.advance(Duration::from_secs(120));
    assert!(cached.verify(&token).is_ok());
}

#[test]
fn the_memory_is_bounded_and_too_small_a_bound_is_refused() {
    let key = key("an hmac secret of thirty-two bytes or more, for tests");
    let issuer = TokenIssuer::new(key.clone());
    let verifier = TokenVerifier::new([key.verifying_key()]);
    assert!(
        CachedVerifier::<Value>::new(verifier.clone(), 4096).is_err(),
        "4 KiB cannot hold one 8 KiB token and its claims"
    );
    let cached = CachedVerifier::<Value>::new(verifier, 32 * 1024).unwrap();
    let tokens: Vec<String> = (0..200)
        .map(|n| issuer.issue(&format!("u-{n}"), &json!({})).unwrap())
        .collect();
    for token in &tokens {
        cached.verify(token).unwrap();
    }
    let weight = 2 * tokens[0].len() as u64 + 512;
    assert!(
        cached.tokens() <= 32 * 1024 / weight,
        "{} tokens remembered",
        cached.tokens()
    );
    // Forgotten or not, every token still verifies.
    for token in &tokens {
        assert!(cached.verify(token).is_ok());
    }
}

#[test]
fn debug_shows_no_token_and_no_claim() {
    let (issuer, cached, _clock) = setup();
    let token = issuer
        .issue(
            "u-canary-7f3a",
            &json!({"email": "canary-7f3a@example.com"}),
        )
        .unwrap();
    cached.verify(&token).unwrap();
    let debug = format!("{cached:?}");
    for secret in [token.as_str(), "canary-7f3a", "thirty-two bytes"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(debug.starts_with("CachedVerifier {"), "{debug}");
}

#[test]
fn a_token_verified_at_the_end_of_its_leeway_is_not_kept() {
    let (issuer, cached, clock) = setup();
    let token = issuer.issue("u-1", &json!({})).unwrap();
    // 60 s of life and 30 s of leeway: valid at the last second, with nothing left to keep.
    clock.advance(Duration::from_secs(90));
    assert!(cached.verify(&token).is_ok());
    assert_eq!(cached.tokens(), 0, "nothing of it stays in memory");
}
