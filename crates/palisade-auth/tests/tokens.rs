//! The application's own tokens: issued and verified with HS256, ES256 and EdDSA keys; every
//! way a token can be wrong is refused with its reason, and no refusal or Debug output holds
//! a token or a key (R-WEB-2).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_auth::{
    OwnAlgorithm, SigningKey, TokenIssuer, TokenRefused, TokenVerifier, VerifyingKey,
};
use palisade_secrets::SecretValue;
use palisade_test::FakeClock;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const HMAC_SECRET: &str = "an hmac secret of thirty-two bytes or more, for tests";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    role: String,
    tenant: String,
}

fn secret(text: &str) -> SecretValue {
    SecretValue::from_string(text.to_owned())
}

/// A fresh PKCS#8 private key for `algorithm`, as PEM.
fn private_pem(algorithm: &'static rcgen::SignatureAlgorithm) -> rcgen::KeyPair {
    rcgen::KeyPair::generate_for(algorithm).unwrap()
}

fn keys() -> Vec<SigningKey> {
    let es = private_pem(&rcgen::PKCS_ECDSA_P256_SHA256);
    let ed = private_pem(&rcgen::PKCS_ED25519);
    vec![
        SigningKey::new("hs-1", OwnAlgorithm::Hs256, &secret(HMAC_SECRET)).unwrap(),
        SigningKey::new("es-1", OwnAlgorithm::Es256, &secret(&es.serialize_pem())).unwrap(),
        SigningKey::new("ed-1", OwnAlgorithm::EdDsa, &secret(&ed.serialize_pem())).unwrap(),
    ]
}

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::with_wall_start(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ))
}

/// The token with its claims part replaced by `claims`, signature kept.
fn with_claims(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// A token with `header` and `claims`, signed with HMAC-SHA256 under `key`.
fn hand_signed(header: &Value, claims: &Value, key: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(key).unwrap(),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

#[test]
fn each_algorithm_issues_tokens_its_verifying_key_accepts() {
    let clock = clock();
    for key in keys() {
        let issuer = TokenIssuer::new(key.clone())
            .issuer("https://api.example.com")
            .audience("crud")
            .clock(clock.clone());
        let verifier = TokenVerifier::new([key.verifying_key()])
            .issuer("https://api.example.com")
            .audience("crud")
            .clock(clock.clone());
        let claims = Claims {
            role: "admin".into(),
            tenant: "acme".into(),
        };
        let token = issuer.issue("u-42", &claims).unwrap();
        let verified = verifier.verify::<Claims>(&token).unwrap();
        assert_eq!(verified.claims, claims, "{:?}", key.algorithm());
        assert_eq!(verified.registered.subject.as_deref(), Some("u-42"));
        assert_eq!(verified.registered.audience, vec!["crud".to_owned()]);
        assert_eq!(verified.registered.expires_at, Some(1_800_000_000 + 900));
        assert_eq!(
            verified.registered.token_id.as_ref().map(String::len),
            Some(22)
        );
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
    }
}

#[test]
fn keys_rotate_without_refusing_tokens_the_previous_key_signed() {
    let keys = keys();
    let clock = clock();
    let old = TokenIssuer::new(keys[0].clone()).clock(clock.clone());
    let new = TokenIssuer::new(keys[1].clone()).clock(clock.clone());
    let verifier =
        TokenVerifier::new([keys[1].verifying_key(), keys[0].verifying_key()]).clock(clock.clone());
    for issuer in [&old, &new] {
        let token = issuer.issue("u-1", &json!({})).unwrap();
        assert!(verifier.verify::<Value>(&token).is_ok());
    }
    // Once the old key is retired, its tokens are refused.
    let retired = TokenVerifier::new([keys[1].verifying_key()]).clock(clock);
    let token = old.issue("u-1", &json!({})).unwrap();
    assert_eq!(
        retired.verify::<Value>(&token).unwrap_err(),
        TokenRefused::UnknownKey
    );
}

#[test]
fn time_claims_are_checked_on_the_injected_clock_within_the_leeway() {
    let key = keys().remove(0);
    let clock = clock();
    let issuer = TokenIssuer::new(key.clone())
        .lifetime(Duration::from_secs(60))
        .unwrap()
        .clock(clock.clone());
    let verifier = TokenVerifier::new([key.verifying_key()]).clock(clock.clone());
    let token = issuer.issue("u-1", &json!({})).unwrap();
    clock.advance(Duration::from_secs(60 + 30));
    assert!(
        verifier.verify::<Value>(&token).is_ok(),
        "within the 30 s leeway"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        verifier.verify::<Value>(&token).unwrap_err(),
        TokenRefused::Expired
    );

    // exp is required; nbf and iat may not be in the future.
    let now = 1_800_000_000 + 91;
    let header = json!({"alg": "HS256", "kid": "hs-1", "typ": "JWT"});
    for (claims, refused) in [
        (json!({"sub": "u"}), TokenRefused::Claim("exp")),
        (
            json!({"sub": "u", "exp": "tomorrow"}),
            TokenRefused::Malformed,
        ),
        (
            json!({"exp": now + 600, "nbf": now + 31}),
            TokenRefused::NotYetValid,
        ),
        (
            json!({"exp": now + 600, "iat": now + 3600}),
            TokenRefused::NotYetValid,
        ),
        (json!({"exp": now - 31}), TokenRefused::Expired),
    ] {
        let token = hand_signed(&header, &claims, HMAC_SECRET.as_bytes());
        assert_eq!(
            verifier.verify::<Value>(&token).unwrap_err(),
            refused,
            "{claims}"
        );
    }
    let fractional = hand_signed(
        &header,
        &json!({"exp": f64::from(now) + 0.9}),
        HMAC_SECRET.as_bytes(),
    );
    assert!(
        verifier.verify::<Value>(&fractional).is_ok(),
        "NumericDate may have a fraction"
    );
    assert!(
        TokenVerifier::new([key.verifying_key()])
            .leeway(Duration::from_secs(301))
            .is_err(),
        "a leeway over 5 minutes is a configuration error"
    );
}

#[test]
fn issuer_and_audience_are_required_once_configured() {
    let key = keys().remove(0);
    let clock = clock();
    let verifier = TokenVerifier::new([key.verifying_key()])
        .issuer("https://api.example.com")
        .audience("crud")
        .audience("admin")
        .clock(clock.clone());
    let header = json!({"alg": "HS256", "kid": "hs-1"});
    let exp = 1_800_000_600;
    for (claims, outcome) in [
        (
            json!({"exp": exp, "aud": "crud"}),
            Err(TokenRefused::Claim("iss")),
        ),
        (
            json!({"exp": exp, "iss": "https://api.example.com"}),
            Err(TokenRefused::Claim("aud")),
        ),
        (
            json!({"exp": exp, "iss": "https://evil.example", "aud": "crud"}),
            Err(TokenRefused::WrongIssuer),
        ),
        (
            json!({"exp": exp, "iss": "https://api.example.com", "aud": ["other"]}),
            Err(TokenRefused::WrongAudience),
        ),
        (
            json!({"exp": exp, "iss": "https://api.example.com", "aud": ["other", "admin"]}),
            Ok(()),
        ),
        (
            json!({"exp": exp, "iss": "https://api.example.com", "aud": "crud"}),
            Ok(()),
        ),
    ] {
        let token = hand_signed(&header, &claims, HMAC_SECRET.as_bytes());
        assert_eq!(
            verifier.verify::<Value>(&token).map(|_| ()),
            outcome,
            "{claims}"
        );
    }
}

#[test]
fn forged_and_confused_tokens_are_refused() {
    let keys = keys();
    let clock = clock();
    let es = &keys[1];
    let verifier =
        TokenVerifier::new(keys.iter().map(SigningKey::verifying_key)).clock(clock.clone());
    let good = TokenIssuer::new(es.clone())
        .clock(clock.clone())
        .issue("u-1", &json!({"role": "user"}))
        .unwrap();
    assert!(verifier.verify::<Value>(&good).is_ok());

    // Claims changed after signing.
    let mut claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(good.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    claims["role"] = json!("admin");
    assert_eq!(
        verifier
            .verify::<Value>(&with_claims(&good, &claims))
            .unwrap_err(),
        TokenRefused::BadSignature
    );

    let exp = 1_800_000_600;
    // HS256 under the ES256 key's id, keyed with its public key (the classic confusion).
    let public = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .public_key_pem();
    let confused = hand_signed(
        &json!({"alg": "HS256", "kid": "es-1"}),
        &json!({"exp": exp}),
        public.as_bytes(),
    );
    assert_eq!(
        verifier.verify::<Value>(&confused).unwrap_err(),
        TokenRefused::AlgorithmNotAllowed
    );
    // `alg: none`, with and without a signature; unknown algorithms.
    for alg in ["none", "None", "NONE", "HS1", ""] {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "hs-1"}).to_string());
        let body = URL_SAFE_NO_PAD.encode(json!({"exp": exp}).to_string());
        for token in [format!("{header}.{body}."), format!("{header}.{body}.c2ln")] {
            assert_eq!(
                verifier.verify::<Value>(&token).unwrap_err(),
                TokenRefused::Malformed,
                "{alg}"
            );
        }
    }
    // An unknown kid; no kid among several keys.
    let unknown = hand_signed(
        &json!({"alg": "HS256", "kid": "hs-9"}),
        &json!({"exp": exp}),
        HMAC_SECRET.as_bytes(),
    );
    assert_eq!(
        verifier.verify::<Value>(&unknown).unwrap_err(),
        TokenRefused::UnknownKey
    );
    let no_kid = hand_signed(
        &json!({"alg": "HS256"}),
        &json!({"exp": exp}),
        HMAC_SECRET.as_bytes(),
    );
    assert_eq!(
        verifier.verify::<Value>(&no_kid).unwrap_err(),
        TokenRefused::UnknownKey
    );
    // Shapes that are not tokens.
    for malformed in [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        "e30.e30",
        "!!!.e30.e30",
        "e30.e30.e30",
    ] {
        assert!(verifier.verify::<Value>(malformed).is_err(), "{malformed}");
    }
}

#[test]
fn an_oversized_token_is_refused_before_any_decoding() {
    let key = keys().remove(0);
    let verifier = TokenVerifier::new([key.verifying_key()]);
    let huge = format!("{}.{}.{}", "e".repeat(4096), "e".repeat(4096), "e");
    assert_eq!(
        verifier.verify::<Value>(&huge).unwrap_err(),
        TokenRefused::TooLong { limit: 8192 }
    );
    let megabyte = "x".repeat(1 << 20);
    assert_eq!(
        verifier.verify::<Value>(&megabyte).unwrap_err(),
        TokenRefused::TooLong { limit: 8192 }
    );
}

#[test]
fn registered_claims_win_over_application_claims_of_the_same_name() {
    let key = keys().remove(0);
    let clock = clock();
    let issuer = TokenIssuer::new(key.clone()).clock(clock.clone());
    let token = issuer
        .issue(
            "u-1",
            &json!({"exp": 9_999_999_999_i64, "sub": "admin", "role": "user"}),
        )
        .unwrap();
    let verified = TokenVerifier::new([key.verifying_key()])
        .clock(clock)
        .verify::<Value>(&token)
        .unwrap();
    assert_eq!(verified.registered.expires_at, Some(1_800_000_900));
    assert_eq!(verified.registered.subject.as_deref(), Some("u-1"));
    assert!(
        issuer
            .issue("u-1", &json!(["not", "an", "object"]))
            .is_err()
    );
}

#[test]
fn keys_that_would_weaken_tokens_are_refused_and_nothing_leaks_in_debug() {
    for (kid, algorithm, text) in [
        ("hs", OwnAlgorithm::Hs256, "short"),
        ("es", OwnAlgorithm::Es256, HMAC_SECRET),
        (
            "ed",
            OwnAlgorithm::EdDsa,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
        ("", OwnAlgorithm::Hs256, HMAC_SECRET),
    ] {
        let error = SigningKey::new(kid, algorithm, &secret(text)).unwrap_err();
        assert!(!error.to_string().contains(text), "{error}");
    }
    // Public keys as HMAC secrets: the classic confusion, refused for signing and verifying.
    let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .public_key_pem();
    for public in [
        pem.as_str(),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"}",
    ] {
        let error = VerifyingKey::new("k", OwnAlgorithm::Hs256, &secret(public)).unwrap_err();
        assert!(
            error.to_string().contains("looks like a public key"),
            "{error}"
        );
        assert!(SigningKey::new("k", OwnAlgorithm::Hs256, &secret(public)).is_err());
    }
    let keys = keys();
    let rendered = format!(
        "{:?} {:?} {:?}",
        keys,
        keys[0].verifying_key(),
        VerifyingKey::new("v", OwnAlgorithm::Hs256, &secret(HMAC_SECRET)).unwrap()
    );
    assert!(
        !rendered.contains(HMAC_SECRET) && !rendered.contains("BEGIN"),
        "{rendered}"
    );
    assert!(
        rendered.starts_with("[SigningKey { kid: \"hs-1\", algorithm: Hs256, .. }"),
        "{rendered}"
    );
    let token = TokenIssuer::new(keys[0].clone())
        .issue("u-1", &json!({}))
        .unwrap();
    let expired_refusal = TokenRefused::Expired.to_string();
    assert!(!expired_refusal.contains(&token));
    let response = TokenRefused::BadSignature.to_response();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert!(
        !response.body().contains("signature"),
        "one opaque answer: {}",
        response.body()
    );
}

#[tokio::test]
async fn signing_keys_are_read_through_palisade_secrets() {
    use palisade_auth::KeyLoadError;
    use palisade_secrets::{FileSource, SecretRef};
    let dir = std::env::temp_dir().join(format!("palisade-auth-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let path = dir.join("es256.pem");
    std::fs::write(&path, pair.serialize_pem()).unwrap();
    let reference: SecretRef = format!("file:{}", path.display()).parse().unwrap();
    let key = SigningKey::load(
        "es-file",
        OwnAlgorithm::Es256,
        &FileSource::new(),
        &reference,
    )
    .await
    .unwrap();
    let token = TokenIssuer::new(key.clone())
        .issue("u-1", &json!({}))
        .unwrap();
    assert!(
        TokenVerifier::new([key.verifying_key()])
            .verify::<Value>(&token)
            .is_ok()
    );

    let missing: SecretRef = format!("file:{}", dir.join("absent").display())
        .parse()
        .unwrap();
    let error = SigningKey::load("es-file", OwnAlgorithm::Es256, &FileSource::new(), &missing)
        .await
        .unwrap_err();
    assert!(
        matches!(error, KeyLoadError::Secret(ref e) if e.is_not_found()),
        "{error:?}"
    );
    std::fs::write(&path, "not a key").unwrap();
    let error = SigningKey::load(
        "es-file",
        OwnAlgorithm::Es256,
        &FileSource::new(),
        &reference,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, KeyLoadError::Invalid(_)), "{error:?}");
    assert!(!error.to_string().contains("not a key"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn claims_that_are_not_an_object_and_shadowed_keys_are_handled() {
    let keys = keys();
    let clock = clock();
    let header = json!({"alg": "HS256", "kid": "hs-1"});
    let verifier = TokenVerifier::new([keys[0].verifying_key()]).clock(clock.clone());
    // An array read by position would pass iss/aud checks: refused as malformed.
    let array = hand_signed(
        &header,
        &json!(["https://api.example.com", "u", "crud", 1_800_000_600]),
        HMAC_SECRET.as_bytes(),
    );
    assert_eq!(
        verifier.verify::<Value>(&array).unwrap_err(),
        TokenRefused::Malformed
    );

    // Two keys given one id by mistake: tokens of both verify, neither is shadowed.
    let other = SigningKey::new(
        "hs-1",
        OwnAlgorithm::Hs256,
        &secret("another secret of thirty-two bytes or more"),
    )
    .unwrap();
    let both =
        TokenVerifier::new([keys[0].verifying_key(), other.verifying_key()]).clock(clock.clone());
    for key in [&keys[0], &other] {
        let token = TokenIssuer::new(key.clone())
            .clock(clock.clone())
            .issue("u", &json!({}))
            .unwrap();
        assert!(both.verify::<Value>(&token).is_ok());
    }
    assert!(
        TokenIssuer::new(keys[0].clone())
            .lifetime(Duration::MAX)
            .is_err()
    );
    assert!(
        TokenIssuer::new(keys[0].clone())
            .lifetime(Duration::ZERO)
            .is_err()
    );
    assert!(VerifyingKey::new("", OwnAlgorithm::Hs256, &secret(HMAC_SECRET)).is_err());
}

#[test]
fn headers_that_ask_for_more_than_a_signed_jwt_are_refused_and_embedded_keys_ignored() {
    let keys = keys();
    let clock = clock();
    let verifier = TokenVerifier::new([keys[0].verifying_key()]).clock(clock);
    let claims = json!({"sub": "u", "exp": 1_800_000_600});
    // `crit` (PyJWT's CVE-2026-32597 accepted unknown ones), JWE's `enc` and `zip`.
    for header in [
        json!({"alg": "HS256", "kid": "hs-1", "crit": ["exp"], "exp": 1}),
        json!({"alg": "HS256", "kid": "hs-1", "crit": []}),
        json!({"alg": "HS256", "kid": "hs-1", "enc": "A256GCM"}),
        json!({"alg": "HS256", "kid": "hs-1", "zip": "DEF"}),
    ] {
        let token = hand_signed(&header, &claims, HMAC_SECRET.as_bytes());
        assert_eq!(
            verifier.verify::<Value>(&token).unwrap_err(),
            TokenRefused::Malformed,
            "{header}"
        );
    }
    // A key in the header (CVE-2018-0114's embedded `jwk`, `jku`, `x5u`) is never used: a
    // token signed with the attacker's own secret and naming it does not verify.
    let attacker = b"the attacker's own secret of thirty-two bytes";
    for header in [
        json!({"alg": "HS256", "kid": "hs-1", "jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode(attacker)}}),
        json!({"alg": "HS256", "kid": "hs-1", "jku": "https://attacker.example/jwks"}),
        json!({"alg": "HS256", "kid": "hs-1", "x5u": "https://attacker.example/cert.pem"}),
    ] {
        let token = hand_signed(&header, &claims, attacker);
        assert_eq!(
            verifier.verify::<Value>(&token).unwrap_err(),
            TokenRefused::BadSignature,
            "{header}"
        );
    }
}
