//! Verifying a bearer token: `JwksVerifier` with its keys cached (RS256 and ES256, as
//! Entra ID and OpenID providers sign) and `TokenVerifier` (HS256), against
//! `jsonwebtoken::decode` with the same key and the same claims in the same run. Target: at
//! most 1.1x; `CachedVerifier` on a token it has seen, at most half. Also the unknown-`kid` storm: 10,000 tokens with random key ids cost the
//! issuer at most one fetch per cooldown window.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use palisade_auth::{
    CachedVerifier, JwksVerifier, OwnAlgorithm, SigningKey, TokenIssuer, TokenVerifier,
};
use palisade_secrets::SecretValue;
use palisade_test::bench::{Row, keep, report, time_pair};
use palisade_test::emulators::jwks::JwksServer;
use serde_json::{Value, json};

const KRATE: &str = "palisade-auth";

struct Case {
    name: &'static str,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn case(name: &'static str, algorithm: Algorithm) -> Case {
    let pair = match algorithm {
        Algorithm::RS256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap(),
        _ => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
    };
    let pem = pair.serialize_pem();
    let encoding = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    };
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, algorithm).unwrap(),
    )
    .unwrap();
    jwk["kid"] = json!(name);
    Case {
        name,
        algorithm,
        encoding,
        jwk,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(JwksServer::start("{base}")).unwrap();
    let cases = [
        case("rs256", Algorithm::RS256),
        case("es256", Algorithm::ES256),
    ];
    server.set_keys(cases.iter().map(|c| c.jwk.clone()).collect());
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(server.certificate().pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let verifier = JwksVerifier::new(&server.keys_url())
        .unwrap()
        .issuer(&server.issuer())
        .unwrap()
        .audience("api://crud")
        .unwrap()
        .http_client(client)
        .unwrap();
    let exp = jsonwebtoken::get_current_timestamp() + 3600;
    let claims = json!({"iss": server.issuer(), "aud": "api://crud", "sub": "u-1", "exp": exp, "roles": ["reader"]});
    for case in &cases {
        let mut header = Header::new(case.algorithm);
        header.kid = Some(case.name.into());
        let token = jsonwebtoken::encode(&header, &claims, &case.encoding).unwrap();
        runtime.block_on(verifier.verify::<Value>(&token)).unwrap();
        let key =
            DecodingKey::from_jwk(&serde_json::from_value(case.jwk.clone()).unwrap()).unwrap();
        let mut validation = Validation::new(case.algorithm);
        validation.set_audience(&["api://crud"]);
        validation.set_issuer(&[server.issuer()]);
        let (ours, peer) = time_pair(
            || {
                keep(palisade_test::ready_now(verifier.verify::<Value>(&token)).unwrap());
            },
            || {
                keep(jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap());
            },
        );
        eprintln!(
            "{}: JwksVerifier {ours:.0} ns, jsonwebtoken::decode {peer:.0} ns",
            case.name
        );
        report(&Row {
            krate: KRATE,
            name: format!(
                "JwksVerifier::verify, cached keys, {}",
                case.name.to_uppercase()
            ),
            figure: ours,
            unit: "ns/token",
            peer: "jsonwebtoken 12 decode, same key".into(),
            peer_figure: Some(peer),
            target: "<= 1.1x".into(),
            met: ours <= 1.1 * peer,
        });
    }

    // Own tokens: HS256 through TokenVerifier.
    let secret = SecretValue::from_string("a benchmark secret of at least thirty-two bytes".into());
    let key = SigningKey::new("hs", OwnAlgorithm::Hs256, &secret).unwrap();
    let token = TokenIssuer::new(key.clone())
        .audience("crud")
        .issue("u-1", &json!({"roles": ["reader"]}))
        .unwrap();
    let own = TokenVerifier::new([key.verifying_key()]).audience("crud");
    let decoding = DecodingKey::from_secret(secret.expose_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["crud"]);
    let (ours, peer) = time_pair(
        || {
            keep(own.verify::<Value>(&token).unwrap());
        },
        || {
            keep(jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap());
        },
    );
    report(&Row {
        krate: KRATE,
        name: "TokenVerifier::verify, HS256".into(),
        figure: ours,
        unit: "ns/token",
        peer: "jsonwebtoken 12 decode, same key".into(),
        peer_figure: Some(peer),
        target: "<= 1.1x".into(),
        met: ours <= 1.1 * peer,
    });

    // The same token again through CachedVerifier (a client sends its token on every
    // request): answered from memory, its time claims checked again.
    let cached = CachedVerifier::<Value>::new(own, 1 << 20).unwrap();
    let (ours, peer) = time_pair(
        || {
            keep(cached.verify(&token).unwrap());
        },
        || {
            keep(jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap());
        },
    );
    report(&Row {
        krate: KRATE,
        name: "CachedVerifier::verify, HS256, a token seen before".into(),
        figure: ours,
        unit: "ns/token",
        peer: "jsonwebtoken 12 decode, same key".into(),
        peer_figure: Some(peer),
        target: "<= 0.5x".into(),
        met: ours <= 0.5 * peer,
    });

    // The storm: 10,000 random key ids, one fetch at most within the cooldown.
    let before = server.key_fetches();
    let verifier = Arc::new(verifier);
    runtime.block_on(async {
        for index in 0..10_000 {
            let forged = format!("{}.e30.c2ln", header_b64(&format!("random-{index}")));
            assert!(verifier.verify::<Value>(&forged).await.is_err());
        }
    });
    let fetches = server.key_fetches() - before;
    report(&Row {
        krate: KRATE,
        name: "JWKS fetches caused by 10,000 unknown key ids in one cooldown".into(),
        figure: fetches as f64,
        unit: "fetches",
        peer: "-".into(),
        peer_figure: None,
        target: "<= 1".into(),
        met: fetches <= 1,
    });
}

fn header_b64(kid: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "ES256", "kid": kid}).to_string())
}
