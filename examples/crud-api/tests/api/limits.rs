//! Rate limits on Redis: per client address on the anonymous routes, per user on writes.

use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{assert_headers, call, call_via_proxy, sign_up, start};

#[tokio::test]
async fn the_sixth_sign_in_in_a_minute_from_one_address_is_refused() {
    let base = start().await.base;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    sign_up(&http, &base, &email, "ann's long password").await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        // A forwarded address from an untrusted peer changes nothing.
        let (status, body) = call(
            http.post(format!("{base}/signin"))
                .header("x-forwarded-for", format!("203.0.113.{i}"))
                .json(&json!({"email": email, "password": "ann's long password"})),
        )
        .await;
        statuses.push(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["status"], 429, "{body}");
        }
    }
    // Sign-up took one of the five.
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let response = http
        .post(format!("{base}/signin"))
        .json(&json!({"email": email, "password": "ann's long password"}))
        .send()
        .await
        .unwrap();
    assert_headers(&response);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn writes_are_limited_per_user_not_per_address() {
    let started = crate::common::start_with(&[("WRITE_RATE_LIMIT", "3/minute".to_owned())]).await;
    let base = &started.base;
    let http = Client::new();
    let ann = crate::common::new_user(&http, base, "ann").await;
    let bob = crate::common::new_user(&http, base, "bob").await;
    let clients = format!("{base}/clients");
    // Without a token a write is refused before it counts.
    for _ in 0..4 {
        let (status, _) = call(http.post(&clients).json(&json!({"name": "x"}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    for i in 0..3 {
        let (status, body) = call(
            http.post(&clients)
                .bearer_auth(&ann)
                .json(&json!({ "name": format!("c{i}") })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let response = http
        .post(&clients)
        .bearer_auth(&ann)
        .json(&json!({"name": "one too many"}))
        .send()
        .await
        .unwrap();
    assert_headers(&response);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert!(response.headers().contains_key("ratelimit-policy"));
    // Reads are not writes; Bob, from the same address, has his own budget.
    let (status, listed) = call(http.get(&clients).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let (status, _) = call(
        http.post(&clients)
            .bearer_auth(&bob)
            .json(&json!({"name": "Bob's"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let started =
        crate::common::start_with(&[("TRUSTED_PROXIES", "127.0.0.1/32, ::1".to_owned())]).await;
    let base = &started.base;
    let http = Client::new();
    let signin = |client: &str| {
        http.post(format!("{base}/signin"))
            .header("x-forwarded-for", client)
            .json(&json!({"email": "nobody@example.com", "password": "not a password"}))
    };
    for _ in 0..5 {
        assert_eq!(
            call_via_proxy(signin("203.0.113.7")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        call_via_proxy(signin("203.0.113.7")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy, and a spoofed hop before the proxy's own entry:
    // the proxy's entry (the rightmost) is the client.
    assert_eq!(
        call_via_proxy(signin("203.0.113.8")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call_via_proxy(signin("198.51.100.1, 203.0.113.7")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}
