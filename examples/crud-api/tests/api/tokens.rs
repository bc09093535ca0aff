//! The service's own tokens: HS256 with a `kid` naming the key version, a key rotated
//! without signing anyone out, and the forgeries of the threat list refused.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{call, claims, database_name, header, new_user, secret_file, start_on};

const FIRST_KEY: &str = "the first key of at least thirty-two bytes";
const SECOND_KEY: &str = "the second key, also thirty-two bytes or more";

async fn status_of(http: &Client, base: &str, token: &str) -> StatusCode {
    call(http.get(format!("{base}/clients")).bearer_auth(token))
        .await
        .0
}

fn signed(header: &Header, claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        header,
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_rotated_key_keeps_its_tokens_valid_until_it_is_dropped() {
    let deployment = database_name();
    let (first, second) = (secret_file(FIRST_KEY), secret_file(SECOND_KEY));
    let before = start_on(&deployment, &[("JWT_SECRET", first.clone())]).await;
    let http = Client::new();
    let old_token = new_user(&http, &before.base, "ann").await;
    assert_eq!(header(&old_token)["kid"], "k1");
    assert_eq!(header(&old_token)["alg"], "HS256");
    let token_claims = claims(&old_token);
    for claim in ["user_id", "email", "role", "organization_id", "exp", "sub"] {
        assert!(
            token_claims.get(claim).is_some(),
            "{claim} in {token_claims}"
        );
    }

    // The rotation: a second key signs from now on, the first still verifies.
    let during = start_on(
        &deployment,
        &[
            ("JWT_SECRET", second.clone()),
            ("JWT_KEY_ID", "k2".to_owned()),
            ("JWT_PREVIOUS_SECRET", first),
            ("JWT_PREVIOUS_KEY_ID", "k1".to_owned()),
        ],
    )
    .await;
    assert_eq!(
        status_of(&http, &during.base, &old_token).await,
        StatusCode::OK
    );
    let new_token = new_user(&http, &during.base, "bob").await;
    assert_eq!(header(&new_token)["kid"], "k2");

    // The first key dropped: its tokens are refused, the second key's are not.
    let after = start_on(
        &deployment,
        &[("JWT_SECRET", second), ("JWT_KEY_ID", "k2".to_owned())],
    )
    .await;
    assert_eq!(
        status_of(&http, &after.base, &old_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(&http, &after.base, &new_token).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let started = start_on(&database_name(), &[("JWT_SECRET", secret_file(FIRST_KEY))]).await;
    let base = &started.base;
    let http = Client::new();
    let token = new_user(&http, base, "ann").await;
    let victim = new_user(&http, base, "bob").await;
    let mut forged_claims = claims(&token);
    let payload = token.split('.').nth(1).unwrap();

    let mut forgeries = vec![
        // alg=none, with and without a signature.
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiazEifQ.{payload}."),
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiazEifQ.{payload}"),
        // The right kid, the wrong key.
        signed(
            &Header {
                kid: Some("k1".into()),
                ..Header::new(Algorithm::HS256)
            },
            &forged_claims,
            "a key the attacker chose, thirty-two bytes long",
        ),
        // An unknown kid.
        signed(
            &Header {
                kid: Some("k9".into()),
                ..Header::new(Algorithm::HS256)
            },
            &forged_claims,
            FIRST_KEY,
        ),
        // Another algorithm with the same secret.
        signed(
            &Header {
                kid: Some("k1".into()),
                ..Header::new(Algorithm::HS512)
            },
            &forged_claims,
            FIRST_KEY,
        ),
    ];
    // Claims edited under the original signature: another user's organization, an expiry
    // pushed out, another audience.
    let signature = token.split('.').nth(2).unwrap();
    let head = token.split('.').next().unwrap();
    for (claim, value) in [
        (
            "organization_id",
            claims(&victim)["organization_id"].clone(),
        ),
        ("exp", json!(4_102_444_800_u64)),
        ("aud", json!("another-service")),
    ] {
        let mut edited = claims(&token);
        edited[claim] = value;
        use base64::Engine as _;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&edited).unwrap());
        forgeries.push(format!("{head}.{body}.{signature}"));
    }
    // Expired, though signed with the right key.
    forged_claims["exp"] = json!(1_000_000_000_u64);
    forgeries.push(signed(
        &Header {
            kid: Some("k1".into()),
            ..Header::new(Algorithm::HS256)
        },
        &forged_claims,
        FIRST_KEY,
    ));
    for forged in forgeries {
        let (status, problem) =
            call(http.get(format!("{base}/clients")).bearer_auth(&forged)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{forged}: {problem}");
    }
    assert_eq!(status_of(&http, base, &token).await, StatusCode::OK);
}
