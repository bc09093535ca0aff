//! One-time codes in memory: random, digest-only, single use, short-lived, PKCE-bound; one
//! indistinguishable refusal (R-WEB-3).
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_auth::{
    CodeDigest, CodeStore, MemoryCodes, OneTimeCodes, PkceChallenge, RedeemError, StoreFuture,
};
use palisade_test::FakeClock;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// A memory store that records every digest and record it was given.
#[derive(Debug, Default)]
struct Recording {
    inner: MemoryCodes,
    seen: Mutex<Vec<(CodeDigest, Vec<u8>)>>,
}

impl CodeStore for Recording {
    fn put<'a>(
        &'a self,
        digest: &'a CodeDigest,
        record: Zeroizing<Vec<u8>>,
        lifetime: Duration,
    ) -> StoreFuture<'a, ()> {
        self.seen.lock().unwrap().push((*digest, record.to_vec()));
        self.inner.put(digest, record, lifetime)
    }

    fn take<'a>(&'a self, digest: &'a CodeDigest) -> StoreFuture<'a, Option<Zeroizing<Vec<u8>>>> {
        self.inner.take(digest)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_code_is_redeemed_once_and_the_store_never_sees_it() {
    runtime().block_on(async {
        let codes = OneTimeCodes::new(Recording::default());
        let code = codes.issue(b"session:u-42", None).await.unwrap();
        let text = code.expose().to_owned();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&text).unwrap().len(),
            32,
            "256 random bits"
        );
        assert_eq!(format!("{code:?}"), "OneTimeCode(..)");

        let payload = codes.redeem(&text, None).await.unwrap();
        assert_eq!(payload.expose_bytes(), b"session:u-42");
        assert!(!format!("{payload:?}").contains("u-42"));
        assert_eq!(
            codes.redeem(&text, None).await.unwrap_err(),
            RedeemError::Refused
        );

        let seen = codes_store(&codes);
        assert_eq!(seen.len(), 1);
        let (digest, record) = &seen[0];
        assert_eq!(digest[..], Sha256::digest(text.as_bytes())[..]);
        let record_text = String::from_utf8_lossy(record);
        assert!(!record_text.contains(&text), "the record holds the code");
    });
}

fn codes_store(codes: &OneTimeCodes<Recording>) -> Vec<(CodeDigest, Vec<u8>)> {
    // The store is shared by clones of the codes; read it through a redemption-free path.
    let debug = format!("{codes:?}");
    assert!(!debug.contains("session"), "{debug}");
    codes_inner(codes)
}

fn codes_inner(codes: &OneTimeCodes<Recording>) -> Vec<(CodeDigest, Vec<u8>)> {
    codes.store().seen.lock().unwrap().clone()
}

#[test]
fn expired_unknown_and_malformed_codes_get_one_answer() {
    runtime().block_on(async {
        let clock = Arc::new(FakeClock::new());
        let codes = OneTimeCodes::new(MemoryCodes::default()).clock(clock.clone());
        let code = codes.issue(b"reset:u-1", None).await.unwrap();
        clock.advance(Duration::from_secs(299));
        let late = codes.issue(b"reset:u-2", None).await.unwrap();
        clock.advance(Duration::from_secs(1));
        let refused = [
            codes.redeem(code.expose(), None).await,
            codes.redeem("A".repeat(43).as_str(), None).await,
            codes.redeem("", None).await,
            codes.redeem(&"x".repeat(10_000), None).await,
        ];
        for outcome in refused {
            assert_eq!(outcome.unwrap_err(), RedeemError::Refused);
        }
        assert!(codes.redeem(late.expose(), None).await.is_ok());
    });
}

#[test]
fn a_pkce_bound_code_needs_its_verifier_and_a_wrong_one_spends_it() {
    runtime().block_on(async {
        let codes = OneTimeCodes::new(MemoryCodes::default());
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // RFC 7636 Appendix B's example pair.
        let challenge = PkceChallenge::s256("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").unwrap();
        assert_eq!(challenge, PkceChallenge::of_verifier(verifier));

        let code = codes.issue(b"session:u-7", Some(challenge)).await.unwrap();
        assert!(codes.redeem(code.expose(), Some(verifier)).await.is_ok());

        for wrong in [
            None,
            Some("wrong-verifier-wrong-verifier-wrong-verifier-x"),
            Some("short"),
        ] {
            let code = codes.issue(b"session:u-7", Some(challenge)).await.unwrap();
            assert_eq!(
                codes.redeem(code.expose(), wrong).await.unwrap_err(),
                RedeemError::Refused
            );
            assert_eq!(
                codes
                    .redeem(code.expose(), Some(verifier))
                    .await
                    .unwrap_err(),
                RedeemError::Refused,
                "a stolen code gets one try"
            );
        }
        assert!(PkceChallenge::s256("not base64!").is_err());
        assert!(PkceChallenge::s256("AAAA").is_err());
    });
}

#[test]
fn concurrent_redemptions_of_one_code_have_one_winner() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let codes = Arc::new(OneTimeCodes::new(MemoryCodes::default()));
        for _ in 0..20 {
            let code = codes.issue(b"once", None).await.unwrap();
            let redeemers: Vec<_> = (0..100)
                .map(|_| {
                    let (codes, code) = (Arc::clone(&codes), code.expose().to_owned());
                    tokio::spawn(async move { codes.redeem(&code, None).await.is_ok() })
                })
                .collect();
            let mut winners = 0;
            for redeemer in redeemers {
                winners += usize::from(redeemer.await.unwrap());
            }
            assert_eq!(winners, 1);
        }
    });
}

#[test]
fn settings_that_would_weaken_codes_are_refused() {
    let codes = || OneTimeCodes::new(MemoryCodes::default());
    assert!(codes().code_bytes(15).is_err());
    assert!(codes().code_bytes(65).is_err());
    assert!(codes().lifetime(Duration::ZERO).is_err());
    assert!(codes().lifetime(Duration::from_secs(86_401)).is_err());
    runtime().block_on(async {
        let short = codes().code_bytes(16).unwrap();
        let code = short.issue(b"x", None).await.unwrap();
        assert_eq!(code.expose().len(), 22);
        assert!(short.redeem(code.expose(), None).await.is_ok());
    });
}
