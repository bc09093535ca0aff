//! Forgotten passwords: one answer for every email, a code that works once.

use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use std::sync::Arc;
use std::time::Duration;

use palisade_test::FakeClock;

use crate::common::{bind, call, database_name, serve_with_clock, sign_up, start_with};

#[tokio::test]
async fn a_forgotten_password_is_reset_once_with_the_code_sent() {
    // Not a test of the limits: a reset and three changes would spend the address's budget.
    let started = start_with(&[("RATE_LIMIT_ENABLED", "false".to_owned())]).await;
    let (base, outbox) = (&started.base, &started.outbox);
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    sign_up(&http, base, &email, "the first long password").await;

    // The same answer whether the email has an account or not; a code only for the account.
    let mut answers = Vec::new();
    for who in [email.as_str(), "nobody@example.com"] {
        let (status, body) = call(
            http.post(format!("{base}/forgotPassword"))
                .json(&json!({ "email": who })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    let sent = tokio::time::timeout(Duration::from_secs(10), outbox.next())
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, email);
    let code = sent[0].1.clone();

    let reset = |token: String, password: &'static str| {
        http.post(format!("{base}/resetPassword"))
            .json(&json!({"token": token, "new_password": password}))
    };
    let (status, body) = call(reset(code.clone(), "the second long password")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Spent: the same code again, or a made-up one, is refused.
    for token in [code, "A".repeat(43)] {
        let (status, body) = call(reset(token, "a third long password")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let signin = |password: &'static str| {
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": password}))
    };
    let (status, body) = call(signin("the second long password")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        call(signin("the first long password")).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Signed in, a change needs the current password.
    let token = body["access_token"].as_str().unwrap().to_owned();
    let change = |old: &'static str, new: &'static str| {
        http.post(format!("{base}/changePassword"))
            .bearer_auth(&token)
            .json(&json!({"old_password": old, "new_password": new}))
    };
    assert_eq!(
        call(change("not the password", "a fourth long password"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(change("the second long password", "short")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(change("the second long password", "a fourth long password"))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_expired_reset_code_is_refused_like_a_wrong_one() {
    let clock = FakeClock::new();
    let started = serve_with_clock(
        bind().await,
        &database_name(),
        &[("RATE_LIMIT_ENABLED", "false".to_owned())],
        Arc::new(clock.clone()),
    )
    .await;
    let (base, outbox) = (&started.base, &started.outbox);
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    sign_up(&http, base, &email, "the first long password").await;
    let forgot = || {
        http.post(format!("{base}/forgotPassword"))
            .json(&json!({ "email": email }))
    };
    let reset = |token: String| {
        http.post(format!("{base}/resetPassword"))
            .json(&json!({"token": token, "new_password": "the second long password"}))
    };
    assert_eq!(call(forgot()).await.0, StatusCode::OK);
    let expired = tokio::time::timeout(Duration::from_secs(10), outbox.next())
        .await
        .unwrap()[0]
        .1
        .clone();
    // Thirty minutes and a second later, the code is refused with the answer a made-up one
    // gets, and the password is unchanged.
    clock.advance(Duration::from_secs(30 * 60 + 1));
    let (status, refused) = call(reset(expired)).await;
    let (_, made_up) = call(reset("A".repeat(43))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused, made_up);
    let signin = |password: &'static str| {
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": password}))
    };
    assert_eq!(
        call(signin("the first long password")).await.0,
        StatusCode::OK
    );
    // A fresh code, used in time, works.
    assert_eq!(call(forgot()).await.0, StatusCode::OK);
    let fresh = tokio::time::timeout(Duration::from_secs(10), outbox.next())
        .await
        .unwrap()[0]
        .1
        .clone();
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(call(reset(fresh)).await.0, StatusCode::OK);
    assert_eq!(
        call(signin("the second long password")).await.0,
        StatusCode::OK
    );
}
