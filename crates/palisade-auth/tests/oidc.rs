//! A real OpenID provider: panva's oidc-provider (OpenID Certified; pinned in xtask/node, run
//! under Node on loopback per test so its keys can rotate), issuing ID and JWT access tokens
//! through a real authorization-code flow with PKCE. Its tokens verify through discovery,
//! tampered ones are refused, and a key rotation mid-test is followed (R-WEB-2).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_auth::{JwksVerifier, PkceChallenge, TokenRefused};
use palisade_test::node::{NodeServer, spawn};
use serde_json::Value;

struct Provider {
    server: NodeServer,
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

fn provider() -> Provider {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node/oidc_provider.mjs");
    let server = spawn(&script, "oidc-provider", &[]);
    let ready: Value = serde_json::from_str(server.ready_line()).unwrap();
    let text = |key: &str| ready[key].as_str().unwrap().to_owned();
    Provider {
        issuer: text("issuer"),
        client_id: text("client_id"),
        client_secret: text("client_secret"),
        redirect_uri: text("redirect_uri"),
        server,
    }
}

/// Signs `user` in through the authorization-code flow with PKCE; the ID and access tokens.
async fn sign_in(provider: &Provider, user: &str) -> (String, String) {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(b"a code verifier of at least thirty-two bytes!");
    let challenge = URL_SAFE_NO_PAD.encode(sha2_digest(verifier.as_bytes()));
    assert_eq!(
        PkceChallenge::s256(&challenge).unwrap(),
        PkceChallenge::of_verifier(&verifier)
    );
    let mut url = reqwest::Url::parse(&format!("{}/auth", provider.issuer)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &provider.client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email")
        .append_pair("redirect_uri", &provider.redirect_uri)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "state-1")
        .append_pair("nonce", "nonce-1")
        .append_pair("login_hint", user)
        .append_pair("resource", "api://crud");
    let mut next = url.to_string();
    let code = loop {
        let response = browser.get(&next).send().await.unwrap();
        let location = response
            .headers()
            .get("location")
            .unwrap_or_else(|| panic!("no redirect from {next}: {}", response.status()))
            .to_str()
            .unwrap()
            .to_owned();
        let location = reqwest::Url::parse(&location)
            .or_else(|_| {
                reqwest::Url::parse(&provider.issuer)
                    .unwrap()
                    .join(&location)
            })
            .unwrap();
        if location.as_str().starts_with(&provider.redirect_uri) {
            let pairs: std::collections::HashMap<_, _> =
                location.query_pairs().into_owned().collect();
            assert_eq!(pairs.get("state").map(String::as_str), Some("state-1"));
            break pairs
                .get("code")
                .cloned()
                .unwrap_or_else(|| panic!("no code: {location}"));
        }
        next = location.to_string();
    };
    let tokens: Value = browser
        .post(format!("{}/token", provider.issuer))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &provider.redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", &provider.client_id),
            ("client_secret", &provider.client_secret),
            ("resource", "api://crud"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        tokens["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{tokens}"))
            .to_owned(),
        tokens["access_token"].as_str().unwrap().to_owned(),
    )
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

fn kid(token: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn tokens_from_a_real_authorization_code_flow_verify_and_keys_rotate() {
    let mut provider = provider();
    let ids = JwksVerifier::discover(&provider.issuer, None)
        .await
        .unwrap()
        .audience(&provider.client_id)
        .unwrap();
    let access = JwksVerifier::discover(&provider.issuer, None)
        .await
        .unwrap()
        .audience("api://crud")
        .unwrap();

    let (id_token, access_token) = sign_in(&provider, "u-42").await;
    let verified = ids.verify::<Value>(&id_token).await.unwrap();
    assert_eq!(verified.registered.subject.as_deref(), Some("u-42"));
    assert_eq!(verified.claims["nonce"], "nonce-1");
    assert_eq!(kid(&id_token), "rs256-1");
    let verified = access.verify::<Value>(&access_token).await.unwrap();
    assert_eq!(verified.registered.subject.as_deref(), Some("u-42"));
    assert_eq!(kid(&access_token), "es256-1");
    // The ID token is not an access token for the API, nor the other way round.
    assert_eq!(
        access.verify::<Value>(&id_token).await.unwrap_err(),
        TokenRefused::WrongAudience
    );
    assert_eq!(
        ids.verify::<Value>(&access_token).await.unwrap_err(),
        TokenRefused::WrongAudience
    );
    // Tampered: a claim changed, the signature kept.
    let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["sub"] = Value::from("admin");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_eq!(
        ids.verify::<Value>(&parts.join(".")).await.unwrap_err(),
        TokenRefused::BadSignature
    );

    // The provider rotates: new keys sign, the old ones stay published for a while.
    let published = provider.server.command("rotate");
    assert!(published.contains("rs256-2"), "{published}");
    let (new_id, new_access) = sign_in(&provider, "u-7").await;
    assert_eq!(kid(&new_id), "rs256-2");
    assert_eq!(
        ids.verify::<Value>(&new_id)
            .await
            .unwrap()
            .registered
            .subject
            .as_deref(),
        Some("u-7")
    );
    assert!(access.verify::<Value>(&new_access).await.is_ok());
    assert!(
        ids.verify::<Value>(&id_token).await.is_ok(),
        "the old key is still published"
    );
    assert_eq!(
        ids.stats().fetches,
        2,
        "one fetch at first use, one for the new kid"
    );
}
