//! The user journey: sign-up, sign-in, create, filter, read, update, delete.

use palisade_test::{Canary, unique_name};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{call, filtered, sign_up, start};

#[tokio::test]
async fn a_user_signs_up_and_works_on_their_own_records() {
    let base = start().await.base;
    let http = Client::new();
    let password = Canary::new();
    let email = format!("{}@example.com", unique_name("ann"));
    sign_up(&http, &base, &email, password.value()).await;

    // Sign-in: the right password, then a wrong one and an unknown email, answered alike.
    let (status, body) = call(
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": password.value()})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let mut refusals = Vec::new();
    for (who, secret) in [
        (email.as_str(), "not the password"),
        ("nobody@example.com", password.value()),
    ] {
        let (status, body) = call(
            http.post(format!("{base}/signin"))
                .json(&json!({"email": who, "password": secret})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        password.assert_absent("a refusal", &body.to_string());
        refusals.push(body);
    }
    assert_eq!(refusals[0], refusals[1]);
    // An operator where the email goes never reaches the database.
    let (status, _) = call(
        http.post(format!("{base}/signin"))
            .json(&json!({"email": {"$ne": null}, "password": {"$ne": null}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Create, list with a filter, read, update, delete.
    let clients = format!("{base}/clients");
    let (status, created) = call(
        http.post(&clients)
            .bearer_auth(&token)
            .json(&json!({"name": "Acme", "tier": 2})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["_id"]["$oid"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Acme");
    assert!(created["created_by"].is_string(), "{created}");
    call(
        http.post(&clients)
            .bearer_auth(&token)
            .json(&json!({"name": "Beta", "tier": 5})),
    )
    .await;

    let (status, listed) = call(
        http.get(filtered(&clients, r#"{"tier": {"$gte": 2, "$lt": 5}}"#))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme"]);

    let one = format!("{clients}/{id}");
    let (status, read) = call(http.get(&one).bearer_auth(&token)).await;
    assert_eq!(
        (status, read["name"].as_str()),
        (StatusCode::OK, Some("Acme"))
    );
    let (status, updated) = call(
        http.patch(&one)
            .bearer_auth(&token)
            .json(&json!({"name": "Acme Ltd"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Acme Ltd");
    assert!(updated["updated_by"].is_string(), "{updated}");
    let (status, _) = call(http.delete(&one).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(http.get(&one).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
