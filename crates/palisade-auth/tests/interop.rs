//! External truth: tokens signed by PyJWT (pinned in the project venv) and by `jose` (npm,
//! pinned in xtask/node) verify here, and tokens issued here verify in both, for HS256, ES256
//! and EdDSA, with issuer, audience and every registered claim required on their side too.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;

use palisade_auth::{OwnAlgorithm, SigningKey, TokenIssuer, TokenVerifier, VerifyingKey};
use palisade_secrets::SecretValue;
use serde_json::{Value, json};

const HMAC: &str = "an interop secret of at least thirty-two bytes";
const ISSUER: &str = "https://api.example.com";
const AUDIENCE: &str = "crud";

/// One algorithm's keys: what signs (PEM PKCS#8 or the secret) and what verifies.
struct Keys {
    alg: &'static str,
    algorithm: OwnAlgorithm,
    private: String,
    public: String,
}

/// `pair`'s Ed25519 private key as PKCS#8 v1 (RFC 8410 §7, what `openssl genpkey` writes):
/// rcgen writes v2 with the public key, which Python's `cryptography` does not read.
fn ed25519_v1_pem(pair: &rcgen::KeyPair) -> String {
    use base64::Engine as _;
    let v2 = pair.serialize_der();
    // v2: SEQUENCE { INTEGER 1, AlgorithmIdentifier, OCTET STRING { OCTET STRING seed }, [1] ... }
    let seed = &v2[16..48];
    let mut v1 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    v1.extend_from_slice(seed);
    let body = base64::engine::general_purpose::STANDARD.encode(v1);
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
}

fn keys() -> Vec<Keys> {
    let es = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    assert_eq!(
        &ed.serialize_der()[..16],
        &[
            0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20
        ]
    );
    vec![
        Keys {
            alg: "HS256",
            algorithm: OwnAlgorithm::Hs256,
            private: HMAC.into(),
            public: HMAC.into(),
        },
        Keys {
            alg: "ES256",
            algorithm: OwnAlgorithm::Es256,
            private: es.serialize_pem(),
            public: es.public_key_pem(),
        },
        Keys {
            alg: "EdDSA",
            algorithm: OwnAlgorithm::EdDsa,
            private: ed25519_v1_pem(&ed),
            public: ed.public_key_pem(),
        },
    ]
}

fn secret(text: &str) -> SecretValue {
    SecretValue::from_string(text.to_owned())
}

/// Asks a peer to sign and verify: PyJWT or jose.
fn peer(name: &str, request: &Value) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = match name {
        "pyjwt" => palisade_test::python::run_script(
            &root.join("tests/python/pyjwt.py"),
            &[],
            &request.to_string(),
        ),
        _ => palisade_test::node::run(
            &root.join("tests/node/jose.js"),
            "jose",
            &[],
            &request.to_string(),
        ),
    };
    serde_json::from_str(&output).unwrap()
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn tokens_signed_by_pyjwt_and_jose_verify_here() {
    let keys = keys();
    let now = now();
    let claims = json!({"sub": "u-42", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 600, "jti": "j-1", "role": "editor"});
    for name in ["pyjwt", "jose"] {
        let request = json!({"sign": keys.iter().map(|k| json!({"alg": k.alg, "kid": format!("{}-key", k.alg), "key": k.private, "claims": claims})).collect::<Vec<_>>()});
        let answer = peer(name, &request);
        for (k, token) in keys.iter().zip(answer["signed"].as_array().unwrap()) {
            let key = VerifyingKey::new(&format!("{}-key", k.alg), k.algorithm, &secret(&k.public))
                .unwrap();
            let verifier = TokenVerifier::new([key]).issuer(ISSUER).audience(AUDIENCE);
            let verified = verifier
                .verify::<Value>(token.as_str().unwrap())
                .unwrap_or_else(|refused| panic!("{name} {}: {refused}", k.alg));
            assert_eq!(verified.registered.subject.as_deref(), Some("u-42"));
            assert_eq!(verified.claims["role"], "editor");
            // A flipped signature byte is refused for every peer's token too.
            let mut forged = token.as_str().unwrap().to_owned();
            let last = forged.pop().unwrap();
            forged.push(if last == 'A' { 'B' } else { 'A' });
            assert!(
                verifier.verify::<Value>(&forged).is_err(),
                "{name} {}",
                k.alg
            );
        }
    }
}

#[test]
fn tokens_issued_here_verify_in_pyjwt_and_jose() {
    let keys = keys();
    let mut verify = Vec::new();
    for k in &keys {
        let key =
            SigningKey::new(&format!("{}-key", k.alg), k.algorithm, &secret(&k.private)).unwrap();
        let issuer = TokenIssuer::new(key).issuer(ISSUER).audience(AUDIENCE);
        let token = issuer.issue("u-7", &json!({"role": "viewer"})).unwrap();
        verify.push(
            json!({"token": token, "alg": k.alg, "key": k.public, "aud": AUDIENCE, "iss": ISSUER}),
        );
        // The same token presented for another audience is refused by the peers too.
        verify.push(
            json!({"token": token, "alg": k.alg, "key": k.public, "aud": "other", "iss": ISSUER}),
        );
    }
    for name in ["pyjwt", "jose"] {
        let answer = peer(name, &json!({"verify": verify}));
        let results = answer["verified"].as_array().unwrap();
        for (index, result) in results.iter().enumerate() {
            let alg = keys[index / 2].alg;
            if index % 2 == 0 {
                assert_eq!(result["ok"]["sub"], "u-7", "{name} {alg}: {result}");
                assert_eq!(result["ok"]["role"], "viewer");
            } else {
                assert!(
                    result.get("error").is_some(),
                    "{name} {alg} accepted another audience: {result}"
                );
            }
        }
    }
}
