//! Rate limits on Redis: per client address on the anonymous routes, per user on writes.

use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{assert_headers, call, sign_up, start};

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
