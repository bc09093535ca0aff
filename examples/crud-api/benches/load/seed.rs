//! The load run's users: each signed up from an address of its own (the service trusts the
//! loopback proxy), with a client and a project to refer to.

use futures_util::StreamExt as _;
use reqwest::Client;
use serde_json::{Value, json};

/// A seeded user.
pub(crate) struct User {
    pub(crate) token: String,
    pub(crate) id: String,
    pub(crate) organization: String,
    pub(crate) client: String,
    pub(crate) project: String,
}

async fn post(http: &Client, url: &str, token: Option<&str>, from: &str, body: Value) -> Value {
    let mut request = http.post(url).header("x-forwarded-for", from).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

fn claim(token: &str, name: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims[name].as_str().unwrap().to_owned()
}

async fn user(http: &Client, base: &str, index: usize) -> User {
    let from = format!("198.18.{}.{}", index / 250, index % 250 + 1);
    let email = format!("load-{index}-{}@example.com", std::process::id());
    let signed = post(
        http,
        &format!("{base}/signup"),
        None,
        &from,
        json!({"email": email, "password": "a load-test password"}),
    )
    .await;
    let token = signed["access_token"].as_str().unwrap().to_owned();
    let client = post(
        http,
        &format!("{base}/clients"),
        Some(&token),
        &from,
        json!({"name": format!("client {index}"), "tier": 1}),
    )
    .await;
    let client = client["_id"]["$oid"].as_str().unwrap().to_owned();
    let project = post(
        http,
        &format!("{base}/projects"),
        Some(&token),
        &from,
        json!({"name": format!("project {index}"), "client_id": client}),
    )
    .await;
    User {
        id: claim(&token, "user_id"),
        organization: claim(&token, "organization_id"),
        project: project["_id"]["$oid"].as_str().unwrap().to_owned(),
        client,
        token,
    }
}

/// `count` users, four signing up at a time.
pub(crate) async fn users(base: &str, count: usize) -> Vec<User> {
    let http = Client::new();
    futures_util::stream::iter(0..count)
        .map(|index| {
            let http = http.clone();
            async move { user(&http, base, index).await }
        })
        .buffer_unordered(4)
        .collect()
        .await
}
