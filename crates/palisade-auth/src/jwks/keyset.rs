//! A JSON Web Key Set (RFC 7517 §5) read into verification keys: signature keys with an id,
//! asymmetric only, each bound to one algorithm.

use std::collections::HashMap;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::token::VerifyingKey;

/// The largest key set read (Entra's is a few KiB).
pub(super) const MAX_JWKS_BYTES: usize = 1 << 20;

/// One usable key and the issuer it declares (Entra's keys carry an `issuer` property).
#[derive(Debug, Clone)]
pub(super) struct JwksKey {
    pub(super) key: VerifyingKey,
    pub(super) issuer: Option<String>,
}

/// The keys of one fetch, by `kid`.
#[derive(Debug, Default)]
pub(super) struct KeySet {
    pub(super) keys: HashMap<String, JwksKey>,
    /// When it was fetched (the clock's monotonic nanoseconds); `None` before the first fetch.
    pub(super) fetched_at: Option<u64>,
    /// Bumped by every successful fetch (single flight compares it).
    pub(super) generation: u64,
}

/// The usable keys of a key set document, or `None` when it is not one or has none. Keys
/// without a `kid`, for encryption (`use: enc`), symmetric (`kty: oct`, which would let anyone
/// who reads the set sign) or of an algorithm their type cannot have are skipped.
pub(super) fn parse(body: &[u8]) -> Option<HashMap<String, JwksKey>> {
    let document: Value = serde_json::from_slice(body).ok()?;
    let mut keys = HashMap::new();
    for entry in document.get("keys")?.as_array()? {
        if entry.get("use").is_some_and(|usage| usage != "sig") {
            continue;
        }
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let Some(algorithm) = algorithm_of(&jwk) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let issuer = entry
            .get("issuer")
            .and_then(Value::as_str)
            .map(str::to_owned);
        keys.insert(
            kid.clone(),
            JwksKey {
                key: VerifyingKey::from_parts(&kid, algorithm, key),
                issuer,
            },
        );
    }
    (!keys.is_empty()).then_some(keys)
}

/// The key's one algorithm: its `alg` when it names one its type can have, else the usual one
/// for its type (RS256 for RSA, ES256/ES384 by curve, EdDSA for Ed25519).
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let declared = jwk
        .common
        .key_algorithm
        .and_then(|alg| Algorithm::try_from(alg).ok());
    let fits = |algorithm: Algorithm| match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            algorithm,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, algorithm),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(okp) => {
            okp.curve == EllipticCurve::Ed25519 && algorithm == Algorithm::EdDSA
        }
        _ => false,
    };
    let usual = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        _ => None,
    };
    match (jwk.common.key_algorithm, declared) {
        // An `alg` that is not a signature algorithm this key type can have: not usable.
        (Some(_), Some(algorithm)) => fits(algorithm).then_some(algorithm),
        (Some(_), None) => None,
        (None, _) => usual,
    }
}
