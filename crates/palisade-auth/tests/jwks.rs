//! `JwksVerifier` against a JWKS server of our own over TLS (palisade-test's `JwksServer`):
//! used where a fault must be produced on demand, which the real OpenID provider cannot do:
//! key rotation counted at the server, an unknown-`kid` storm, an outage served from stale
//! keys then refused past the bound, Entra-shaped multi-tenant keys and tokens (R-WEB-2).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use palisade_auth::{JwksVerifier, TokenRefused};
use palisade_test::FakeClock;
use palisade_test::emulators::jwks::JwksServer;
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// A signing key and its public JWK.
struct Signer {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

fn signer(kid: &str, algorithm: Algorithm) -> Signer {
    let pair = match algorithm {
        Algorithm::RS256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap(),
        _ => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
    };
    let pem = pair.serialize_pem();
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    };
    let mut jwk =
        serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&key, algorithm).unwrap())
            .unwrap();
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    Signer {
        kid: kid.to_owned(),
        algorithm,
        key,
        jwk,
    }
}

impl Signer {
    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::new())
}

fn now(clock: &FakeClock) -> i64 {
    use palisade_clock::Clock as _;
    i64::try_from(
        clock
            .system_now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn client(server: &JwksServer) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(server.certificate().pem().as_bytes()).unwrap(),
        )
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn started(issuer: &str) -> JwksServer {
    JwksServer::start(issuer).await.unwrap()
}

fn verifier(server: &JwksServer, clock: &Arc<FakeClock>) -> JwksVerifier {
    JwksVerifier::new(&server.keys_url())
        .unwrap()
        .issuer(&server.issuer())
        .unwrap()
        .audience("api://crud")
        .unwrap()
        .http_client(client(server))
        .unwrap()
        .clock(clock.clone())
        .unwrap()
}

fn claims(server: &JwksServer, clock: &FakeClock) -> Value {
    json!({"iss": server.issuer(), "aud": "api://crud", "sub": "u-1", "exp": now(clock) + 600})
}

/// A server publishing one ES256 key `kid`, and a verifier that has verified one of its
/// tokens (so its keys are fetched).
async fn one_key_used_once(kid: &str) -> (JwksServer, Arc<FakeClock>, Signer, JwksVerifier) {
    let server = started("{base}").await;
    let clock = clock();
    let key = signer(kid, Algorithm::ES256);
    server.set_keys(vec![key.jwk.clone()]);
    let verifier = verifier(&server, &clock);
    verifier
        .verify::<Value>(&key.sign(&claims(&server, &clock)))
        .await
        .unwrap();
    (server, clock, key, verifier)
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_and_old_ones_stop_verifying() {
    let server = started("{base}").await;
    let clock = clock();
    let (old, new) = (
        signer("old", Algorithm::RS256),
        signer("new", Algorithm::ES256),
    );
    server.set_keys(vec![old.jwk.clone()]);
    let verifier = verifier(&server, &clock);
    let verified = verifier
        .verify::<Value>(&old.sign(&claims(&server, &clock)))
        .await
        .unwrap();
    assert_eq!(verified.registered.subject.as_deref(), Some("u-1"));
    assert_eq!(server.key_fetches(), 1);
    for _ in 0..50 {
        verifier
            .verify::<Value>(&old.sign(&claims(&server, &clock)))
            .await
            .unwrap();
    }
    assert_eq!(server.key_fetches(), 1, "cached");

    // The issuer rotates: a token with the new kid causes one fetch, then verifies.
    server.set_keys(vec![new.jwk.clone()]);
    assert!(
        verifier
            .verify::<Value>(&new.sign(&claims(&server, &clock)))
            .await
            .is_ok()
    );
    assert_eq!(server.key_fetches(), 2);
    assert_eq!(
        verifier
            .verify::<Value>(&old.sign(&claims(&server, &clock)))
            .await
            .unwrap_err(),
        TokenRefused::UnknownKey
    );
    assert_eq!(
        server.key_fetches(),
        2,
        "within the cooldown an unknown kid fetches nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_kid_storm_costs_the_issuer_one_fetch_per_cooldown() {
    let (server, clock, _known, verifier) = one_key_used_once("known").await;
    let storm = |round: usize| {
        let tokens: Vec<String> = (0..10_000)
            .map(|index| {
                let mut forged = signer("x", Algorithm::ES256);
                forged.kid = format!("random-{round}-{index}");
                if index % 1000 == 0 {
                    forged.sign(&claims(&server, &clock))
                } else {
                    // Only the header is read before the kid misses: reuse one signature.
                    format!("{}.{}", header_with_kid(&forged.kid), "e30.c2ln")
                }
            })
            .collect();
        let verifier = verifier.clone();
        async move {
            let tasks: Vec<_> = tokens
                .into_iter()
                .map(|token| {
                    let verifier = verifier.clone();
                    tokio::spawn(async move { verifier.verify::<Value>(&token).await })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap().unwrap_err(), TokenRefused::UnknownKey);
            }
        }
    };
    storm(0).await;
    assert_eq!(
        server.key_fetches(),
        2,
        "the first fetch and one for the storm"
    );
    clock.advance(Duration::from_secs(29));
    storm(1).await;
    assert_eq!(server.key_fetches(), 2, "still inside the 30 s cooldown");
    clock.advance(Duration::from_secs(2));
    storm(2).await;
    assert_eq!(
        server.key_fetches(),
        3,
        "one more fetch for the next window"
    );
}

fn header_with_kid(kid: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "ES256", "kid": kid}).to_string())
}

#[tokio::test]
async fn an_outage_is_ridden_out_with_stale_keys_up_to_the_bound() {
    let (server, clock, key, verifier) = one_key_used_once("k").await;
    let token = || key.sign(&claims(&server, &clock));

    server.fail(true);
    clock.advance(Duration::from_secs(25 * 3600));
    // Past their lifetime the keys are used at once; the refresh fails in the background.
    assert!(verifier.verify::<Value>(&token()).await.is_ok());
    until(|| verifier.stats().failed_fetches == 1).await;
    assert_eq!(verifier.stats().stale_served, 1);
    // Within the cooldown a failed fetch is not repeated, however many requests come.
    for _ in 0..20 {
        assert!(verifier.verify::<Value>(&token()).await.is_ok());
    }
    for _ in 0..1_000 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        server.key_fetches(),
        2,
        "one first fetch, one failed refresh"
    );

    clock.advance(Duration::from_secs(6 * 24 * 3600));
    assert_eq!(
        verifier.verify::<Value>(&token()).await.unwrap_err(),
        TokenRefused::KeysUnavailable,
        "past the 7-day bound nothing is verified"
    );
    server.fail(false);
    assert_eq!(
        verifier.verify::<Value>(&token()).await.unwrap_err(),
        TokenRefused::KeysUnavailable,
        "the failure's cooldown holds"
    );
    clock.advance(Duration::from_secs(31));
    assert!(verifier.verify::<Value>(&token()).await.is_ok());
}

/// Lets the runtime run spawned tasks until `done` (no sleeping).
async fn until(done: impl Fn() -> bool) {
    for _ in 0..1_000_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    assert!(done(), "the background work never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_never_queue_behind_one_fetch_after_another() {
    let server = started("{base}").await;
    let clock = clock();
    let key = signer("k", Algorithm::ES256);
    server.set_keys(vec![key.jwk.clone()]);
    server.fail(true);
    // A fresh verifier whose first fetch fails: 50 concurrent requests cost one fetch.
    let verifier = JwksVerifier::new(&server.keys_url())
        .unwrap()
        .issuer(&server.issuer())
        .unwrap()
        .audience("api://crud")
        .unwrap()
        .http_client(
            reqwest::Client::builder()
                .add_root_certificate(
                    reqwest::Certificate::from_pem(server.certificate().pem().as_bytes()).unwrap(),
                )
                .build()
                .unwrap(),
        )
        .unwrap()
        .clock(clock.clone())
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), key.sign(&claims(&server, &clock)));
            tokio::spawn(async move { verifier.verify::<Value>(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap_err(),
            TokenRefused::KeysUnavailable
        );
    }
    assert_eq!(server.key_fetches(), 1, "one fetch for 50 waiting requests");
}

#[tokio::test]
async fn keys_an_hour_old_are_refreshed_in_the_background() {
    let (server, clock, key, verifier) = one_key_used_once("k").await;
    clock.advance(Duration::from_secs(3601));
    assert!(
        verifier
            .verify::<Value>(&key.sign(&claims(&server, &clock)))
            .await
            .is_ok(),
        "not waiting for the refresh"
    );
    // The refresh runs in its own task: let the runtime run it (no sleeping).
    for _ in 0..1_000_000 {
        if server.key_fetches() == 2 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(server.key_fetches(), 2);
}

#[tokio::test]
async fn entra_shaped_multi_tenant_tokens_need_a_guid_tid_matching_their_issuer() {
    let server = started("{base}").await;
    let clock = clock();
    let mut key = signer("entra", Algorithm::RS256);
    key.jwk["issuer"] = json!(format!("{}/{{tenantid}}/v2.0", server.url()));
    let v1 = signer("entra-v1", Algorithm::RS256);
    // As in Microsoft's common key set: the v2 issuer declared, v1 tokens signed too.
    let mut common = signer("entra-common", Algorithm::RS256);
    common.jwk["issuer"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0");
    server.set_keys(vec![key.jwk.clone(), v1.jwk.clone(), common.jwk.clone()]);
    let verifier = JwksVerifier::new(&server.keys_url())
        .unwrap()
        .issuer_template(&format!("{}/{{tenantid}}/v2.0", server.url()))
        .unwrap()
        .issuer_template("https://sts.windows.net/{tenantid}/")
        .unwrap()
        .tenants([TENANT])
        .unwrap()
        .audience("api://crud")
        .unwrap()
        .http_client(client(&server))
        .unwrap()
        .clock(clock.clone())
        .unwrap();
    let exp = now(&clock) + 600;
    let v2_issuer = |tenant: &str| format!("{}/{tenant}/v2.0", server.url());
    let ok = json!({"iss": v2_issuer(TENANT), "tid": TENANT, "aud": "api://crud", "sub": "u", "exp": exp});
    assert!(verifier.verify::<Value>(&key.sign(&ok)).await.is_ok());
    let v1_ok = json!({"iss": format!("https://sts.windows.net/{TENANT}/"), "tid": TENANT, "aud": "api://crud", "exp": exp});
    assert!(verifier.verify::<Value>(&v1.sign(&v1_ok)).await.is_ok());
    for (claims, refused) in [
        (
            json!({"iss": v2_issuer(OTHER_TENANT), "tid": TENANT, "aud": "api://crud", "exp": exp}),
            TokenRefused::WrongIssuer,
        ),
        (
            json!({"iss": v2_issuer(OTHER_TENANT), "tid": OTHER_TENANT, "aud": "api://crud", "exp": exp}),
            TokenRefused::WrongIssuer,
        ),
        (
            json!({"iss": v2_issuer("common"), "tid": "common", "aud": "api://crud", "exp": exp}),
            TokenRefused::WrongIssuer,
        ),
        (
            json!({"iss": format!("https://sts.windows.net/{TENANT}/"), "tid": TENANT, "aud": "api://crud", "exp": exp}),
            TokenRefused::WrongIssuer,
        ),
        (
            json!({"iss": v2_issuer(TENANT), "tid": TENANT, "aud": "api://other", "exp": exp}),
            TokenRefused::WrongAudience,
        ),
    ] {
        assert_eq!(
            verifier
                .verify::<Value>(&key.sign(&claims))
                .await
                .unwrap_err(),
            refused,
            "{claims}"
        );
    }
    let v1_claims = |tid: &str| json!({"iss": format!("https://sts.windows.net/{TENANT}/"), "tid": tid, "aud": "api://crud", "exp": exp});
    assert!(
        verifier
            .verify::<Value>(&common.sign(&v1_claims(TENANT)))
            .await
            .is_ok(),
        "a v1 token under a key declaring the v2 issuer"
    );
    assert_eq!(
        verifier
            .verify::<Value>(&common.sign(&v1_claims(OTHER_TENANT)))
            .await
            .unwrap_err(),
        TokenRefused::WrongIssuer
    );
    let no_tid = json!({"iss": format!("https://sts.windows.net/{TENANT}/"), "aud": "api://crud", "exp": exp});
    assert_eq!(
        verifier
            .verify::<Value>(&v1.sign(&no_tid))
            .await
            .unwrap_err(),
        TokenRefused::Claim("tid")
    );
}

#[tokio::test]
async fn discovery_checks_the_issuer_and_symmetric_or_confused_keys_are_refused() {
    let server = started("{base}/tenant-a").await;
    let clock = clock();
    let rsa = signer("rsa", Algorithm::RS256);
    let secret =
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"});
    server.set_keys(vec![rsa.jwk.clone(), secret]);
    let discovered = JwksVerifier::discover(&server.issuer(), Some(client(&server)))
        .await
        .unwrap();
    let discovered = discovered.clock(clock.clone()).unwrap();
    let good = json!({"iss": server.issuer(), "exp": now(&clock) + 60});
    assert_eq!(
        discovered
            .verify::<Value>(&rsa.sign(&good))
            .await
            .unwrap_err(),
        TokenRefused::VerifierIncomplete,
        "no audience configured: nothing passes"
    );
    let discovered = JwksVerifier::discover(&server.issuer(), Some(client(&server)))
        .await
        .unwrap()
        .audience("api://crud")
        .unwrap()
        .clock(clock.clone())
        .unwrap();
    assert!(!format!("{discovered:?}").contains('?'));
    let good = json!({"iss": server.issuer(), "aud": "api://crud", "exp": now(&clock) + 60});
    assert!(discovered.verify::<Value>(&rsa.sign(&good)).await.is_ok());
    assert!(
        JwksVerifier::discover(&format!("{}/other", server.url()), Some(client(&server)))
            .await
            .is_err()
    );

    // An HS256 token under the RSA key's id, keyed with its public modulus; and an `oct` key
    // in the set, which is never used.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa".into());
    let confused = jsonwebtoken::encode(
        &header,
        &good,
        &EncodingKey::from_secret(rsa.jwk["n"].as_str().unwrap().as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        discovered.verify::<Value>(&confused).await.unwrap_err(),
        TokenRefused::AlgorithmNotAllowed
    );
    header.kid = Some("hmac".into());
    let symmetric = jsonwebtoken::encode(
        &header,
        &good,
        &EncodingKey::from_secret(b"secret-secret-secret-secret-secret").unwrap(),
    )
    .unwrap();
    assert_eq!(
        discovered.verify::<Value>(&symmetric).await.unwrap_err(),
        TokenRefused::UnknownKey
    );
    assert!(
        JwksVerifier::new("http://keys.example.com/jwks").is_err(),
        "plain http off loopback"
    );
}
