//! The siteverify emulator answers as Cloudflare documents, each case citing its page:
//! - server-side validation: <https://developers.cloudflare.com/turnstile/get-started/server-side-validation/>
//! - testing keys: <https://developers.cloudflare.com/turnstile/troubleshooting/testing/>
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use palisade_test::FakeClock;
use palisade_test::emulators::turnstile::{
    DUMMY_TOKEN, FAILING_SECRET, PASSING_SECRET, SPENT_SECRET, TurnstileEmulator,
};
use serde_json::{Value, json};

const SECRET: &str = "0x4AAAAAAAconformance-secret";

async fn form(emulator: &TurnstileEmulator, fields: &[(&str, &str)]) -> Value {
    reqwest::Client::new()
        .post(emulator.siteverify_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            fields
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn json_body(emulator: &TurnstileEmulator, body: &Value) -> Value {
    reqwest::Client::new()
        .post(emulator.siteverify_url())
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn codes(answer: &Value) -> Vec<&str> {
    answer["error-codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn server_side_validation_page() {
    let clock = Arc::new(FakeClock::new());
    let emulator = TurnstileEmulator::start(clock.clone(), SECRET)
        .await
        .unwrap();
    // "success", "challenge_ts", "hostname", "error-codes", "action", "cdata" in an answer.
    let token = emulator.issue_token("example.com", "login");
    let answer = form(
        &emulator,
        &[
            ("secret", SECRET),
            ("response", &token),
            ("remoteip", "203.0.113.9"),
        ],
    )
    .await;
    assert_eq!(answer["success"], true);
    assert_eq!(answer["hostname"], "example.com");
    assert_eq!(answer["action"], "login");
    assert!(answer["challenge_ts"].as_str().unwrap().ends_with('Z'));
    assert_eq!(codes(&answer), Vec::<&str>::new());
    // "Each token can only be validated once": a second validation is timeout-or-duplicate.
    let again = form(&emulator, &[("secret", SECRET), ("response", &token)]).await;
    assert_eq!(
        (again["success"].clone(), codes(&again)),
        (json!(false), vec!["timeout-or-duplicate"])
    );
    // "Tokens expire after 300 seconds".
    let old = emulator.issue_token("example.com", "login");
    clock.advance(Duration::from_secs(301));
    let expired = json_body(&emulator, &json!({"secret": SECRET, "response": old})).await;
    assert_eq!(codes(&expired), vec!["timeout-or-duplicate"]);
    // Missing and invalid inputs.
    assert_eq!(
        codes(&form(&emulator, &[("response", "x")]).await),
        vec!["missing-input-secret"]
    );
    assert_eq!(
        codes(&form(&emulator, &[("secret", "0xwrong"), ("response", "x")]).await),
        vec!["invalid-input-secret"]
    );
    assert_eq!(
        codes(&form(&emulator, &[("secret", SECRET)]).await),
        vec!["missing-input-response"]
    );
    assert_eq!(
        codes(&form(&emulator, &[("secret", SECRET), ("response", "forged")]).await),
        vec!["invalid-input-response"]
    );
    // "The token can be up to 2048 characters long".
    let long = "a".repeat(2049);
    assert_eq!(
        codes(&form(&emulator, &[("secret", SECRET), ("response", &long)]).await),
        vec!["invalid-input-response"]
    );
    // A JSON body that is not an object is a bad request.
    let bad = reqwest::Client::new()
        .post(emulator.siteverify_url())
        .header("content-type", "application/json")
        .body("[1,2]")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(codes(&bad), vec!["bad-request"]);
    // "idempotency_key": a retried request gets the first answer, and spends nothing more.
    let fresh = emulator.issue_token("example.com", "login");
    let key = "9b3e2c54-7f39-4a1b-8e21-5d0c2f7a9e11";
    let first = form(
        &emulator,
        &[
            ("secret", SECRET),
            ("response", &fresh),
            ("idempotency_key", key),
        ],
    )
    .await;
    let retried = form(
        &emulator,
        &[
            ("secret", SECRET),
            ("response", &fresh),
            ("idempotency_key", key),
        ],
    )
    .await;
    assert_eq!(first["success"], true);
    assert_eq!(first, retried);
}

#[tokio::test]
async fn testing_page_dummy_keys() {
    let emulator = TurnstileEmulator::start(Arc::new(FakeClock::new()), SECRET)
        .await
        .unwrap();
    // 1x...AA "Always passes validation", 2x...AA "Always fails validation",
    // 3x...AA "Returns 'token already spent' error".
    let pass = form(
        &emulator,
        &[("secret", PASSING_SECRET), ("response", DUMMY_TOKEN)],
    )
    .await;
    assert_eq!(pass["success"], true);
    let fail = form(
        &emulator,
        &[("secret", FAILING_SECRET), ("response", DUMMY_TOKEN)],
    )
    .await;
    assert_eq!(
        (fail["success"].clone(), codes(&fail)),
        (json!(false), vec!["invalid-input-response"])
    );
    let spent = form(
        &emulator,
        &[("secret", SPENT_SECRET), ("response", DUMMY_TOKEN)],
    )
    .await;
    assert_eq!(codes(&spent), vec!["timeout-or-duplicate"]);
    // "Production secret keys will reject" the dummy token.
    let production = form(&emulator, &[("secret", SECRET), ("response", DUMMY_TOKEN)]).await;
    assert_eq!(codes(&production), vec!["invalid-input-response"]);
}
