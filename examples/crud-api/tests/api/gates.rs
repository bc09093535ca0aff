//! Turnstile on sign-up, sign-in and forgot-password (checked against the siteverify
//! emulator), and a legacy bcrypt account upgraded to Argon2id on its first sign-in.

use std::sync::Arc;

use bson::{doc, oid::ObjectId};
use palisade_test::FakeClock;
use palisade_test::emulators::turnstile::{Fault, TurnstileEmulator};
use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{call, raw_mongo, secret_file, start, start_with};

#[tokio::test]
async fn turnstile_guards_the_anonymous_routes_when_configured() {
    let secret = "0x4AAAAAAAcrud-api-emulated-secret";
    let emulator = TurnstileEmulator::start(Arc::new(FakeClock::new()), secret)
        .await
        .unwrap();
    let started = start_with(&[
        (
            "TURNSTILE_SITE_KEY",
            "0x4AAAAAAAcrud-api-site-key".to_owned(),
        ),
        ("TURNSTILE_SECRET_KEY", secret_file(secret)),
        ("TURNSTILE_VERIFY_URL", emulator.siteverify_url()),
        ("RATE_LIMIT_ENABLED", "false".to_owned()),
    ])
    .await;
    let base = &started.base;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    let body = json!({"email": email, "password": "ann's long password"});

    for route in ["signup", "signin", "forgotPassword"] {
        // No token, a made-up one: 400 before the route runs.
        let (status, problem) = call(http.post(format!("{base}/{route}")).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route}: {problem}");
        assert_eq!(
            problem["type"],
            "urn:palisade:problem:auth/turnstile-refused"
        );
        let (status, _) = call(
            http.post(format!("{base}/{route}"))
                .header("cf-turnstile-token", "0.made-up-token")
                .json(&body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route}");
    }
    // Nothing was created by the refused sign-up.
    let users = raw_mongo()
        .await
        .database(&started.mongo_db)
        .collection::<bson::Document>("users");
    assert_eq!(users.count_documents(doc! {}).await.unwrap(), 0);

    // A solved challenge passes, once.
    let token = emulator.issue_token("localhost", "");
    let (status, created) = call(
        http.post(format!("{base}/signup"))
            .header("cf-turnstile-token", &token)
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, _) = call(
        http.post(format!("{base}/signin"))
            .header("cf-turnstile-token", &token)
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a spent token");
    let (status, _) = call(
        http.post(format!("{base}/signin"))
            .header("cf-turnstile-token", emulator.issue_token("localhost", ""))
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // siteverify failing: refused (503), never waved through.
    emulator.set_fault(Fault::BadGateway);
    let (status, _) = call(
        http.post(format!("{base}/signin"))
            .header("cf-turnstile-token", emulator.issue_token("localhost", ""))
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Routes for signed-in users do not ask for a challenge.
    let (status, _) = call(
        http.get(format!("{base}/clients"))
            .bearer_auth(created["access_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_legacy_bcrypt_account_is_upgraded_on_its_first_sign_in() {
    let started = start().await;
    let base = &started.base;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("legacy"));
    let password = "the legacy password";
    let users = raw_mongo()
        .await
        .database(&started.mongo_db)
        .collection::<bson::Document>("users");
    let id = ObjectId::new();
    let legacy = bcrypt::hash(password, 4).unwrap();
    users
        .insert_one(doc! {
            "_id": id,
            "email": &email,
            "password_hash": &legacy,
            "role": "user",
            "organization_id": ObjectId::new().to_hex(),
        })
        .await
        .unwrap();
    let stored = || async {
        users
            .find_one(doc! {"_id": id})
            .await
            .unwrap()
            .unwrap()
            .get_str("password_hash")
            .unwrap()
            .to_owned()
    };
    let signin = |secret: &'static str| {
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": secret}))
    };
    // A wrong password changes nothing.
    assert_eq!(
        call(signin("not the password")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(stored().await, legacy);
    // The right one signs in and the stored hash is now Argon2id, for the same password.
    let (status, body) = call(signin(password)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upgraded = stored().await;
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    assert_eq!(call(signin(password)).await.0, StatusCode::OK);
    assert_eq!(stored().await, upgraded, "upgraded once");
}
