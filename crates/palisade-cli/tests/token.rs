//! `palisade token inspect` and `palisade token verify` as a user runs them: the token on
//! stdin, the signature never printed, verification against a JWKS served over TLS by
//! palisade-test's `JwksServer`, exit codes 0/1/2, text and JSON output.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use palisade_test::emulators::jwks::JwksServer;
use serde_json::{Value, json};

fn signed(kid: &str, claims: &Value) -> (String, Value) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap(),
    )
    .unwrap();
    jwk["kid"] = json!(kid);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    (jsonwebtoken::encode(&header, claims, &key).unwrap(), jwk)
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn inspect_shows_header_and_claims_and_masks_the_signature() {
    let (token, _) = signed(
        "k1",
        &json!({"sub": "u-42", "exp": now() + 60, "role": "admin"}),
    );
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let (code, out, err) = common::run(&["token", "inspect"], &[], None, &format!("{token}\n"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"alg\":\"ES256\"") && out.contains("\"kid\":\"k1\""),
        "{out}"
    );
    assert!(out.contains("\"role\":\"admin\""), "{out}");
    assert!(out.contains("signature: *** (64 bytes, masked)"), "{out}");
    assert!(out.contains("verified: no"), "{out}");
    assert!(!out.contains(&signature), "the signature was printed");

    let (code, out, _) = common::run(&["token", "inspect", "--format", "json"], &[], None, &token);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (report["verified"].clone(), report["claims"]["sub"].clone()),
        (json!(false), json!("u-42"))
    );

    for bad in ["not a token", "a.b.c", "e30.e30", &"e".repeat(9000)] {
        let (code, out, err) = common::run(&["token", "inspect"], &[], None, bad);
        assert_eq!(code, 2, "{bad}: {out}");
        assert!(!err.contains(bad) || bad.len() < 12, "{err}");
    }
}

#[test]
fn verify_checks_the_token_against_the_issuers_keys() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(JwksServer::start("{base}")).unwrap();
    let dir = std::env::temp_dir().join(format!("palisade-cli-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = server.certificate().write_pem(&dir).unwrap();
    let claims =
        json!({"iss": server.issuer(), "aud": "api://crud", "sub": "u-7", "exp": now() + 300});
    let (token, jwk) = signed("k1", &claims);
    server.set_keys(vec![jwk]);
    let keys_url = server.keys_url();
    let issuer = server.issuer();
    let args = |aud: &'static str| {
        vec![
            "token".to_owned(),
            "verify".to_owned(),
            "--jwks".to_owned(),
            keys_url.clone(),
            "--iss".to_owned(),
            issuer.clone(),
            "--aud".to_owned(),
            aud.to_owned(),
            "--ca-file".to_owned(),
            ca.display().to_string(),
        ]
    };
    let run = |args: Vec<String>, stdin: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::run(&args, &[], None, stdin)
    };
    let (code, out, err) = run(args("api://crud"), &token);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verified: sub u-7"), "{out}");

    let (code, out, _) = run(args("api://other"), &token);
    assert_eq!(code, 1);
    assert!(out.contains("token/audience"), "{out}");
    let mut json_args = args("api://other");
    json_args.extend(["--format".to_owned(), "json".to_owned()]);
    let (code, out, _) = run(json_args, &token);
    assert_eq!(code, 1);
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).unwrap()["reason"],
        "token/audience"
    );

    // The last signature character changed to one that changes a data bit.
    let last = if token.ends_with('Q') { 'A' } else { 'Q' };
    let tampered = format!("{}{last}", &token[..token.len() - 1]);
    let (code, out, _) = run(args("api://crud"), &tampered);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains(&token[token.len() - 20..]), "{out}");

    // Without the CA the TLS check fails: the keys are unavailable, never skipped.
    let mut no_ca = args("api://crud");
    no_ca.truncate(8);
    let (code, out, _) = run(no_ca, &token);
    assert_eq!(code, 1);
    assert!(out.contains("token/keys-unavailable"), "{out}");

    let (code, _, err) = run(
        vec![
            "token".into(),
            "verify".into(),
            "--jwks".into(),
            "http://keys.example.com/".into(),
        ],
        &token,
    );
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
