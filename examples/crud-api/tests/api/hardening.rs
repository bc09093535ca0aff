//! What an outside attacker found, each fixed at its root and kept fixed: tokens outliving a
//! password change or an erasure, chosen ids, oversized input, inputs that reached a 500,
//! answers that were not problem details, routes without a budget.

use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{call, create, new_user, sign_up, start, start_with, with_query};

#[tokio::test]
async fn tokens_die_with_a_password_change_a_reset_and_an_erasure() {
    let started = start_with(&[("RATE_LIMIT_ENABLED", "false".to_owned())]).await;
    let base = &started.base;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    let first = sign_up(&http, base, &email, "the first long password").await;
    let clients = format!("{base}/clients");
    assert_eq!(
        call(http.get(&clients).bearer_auth(&first)).await.0,
        StatusCode::OK
    );

    let (status, _) = call(
        http.post(format!("{base}/changePassword"))
            .bearer_auth(&first)
            .json(&json!({"old_password": "the first long password", "new_password": "the second long password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        call(http.get(&clients).bearer_auth(&first)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let signin = |password: &'static str| {
        http.post(format!("{base}/signin"))
            .json(&json!({"email": email, "password": password}))
    };
    let (_, body) = call(signin("the second long password")).await;
    let second = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(http.get(&clients).bearer_auth(&second)).await.0,
        StatusCode::OK
    );

    // A reset signs the account out everywhere.
    call(
        http.post(format!("{base}/forgotPassword"))
            .json(&json!({"email": email})),
    )
    .await;
    let sent = tokio::time::timeout(std::time::Duration::from_secs(10), started.outbox.next())
        .await
        .unwrap();
    let (status, _) = call(
        http.post(format!("{base}/resetPassword"))
            .json(&json!({"token": sent[0].1, "new_password": "the third long password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        call(http.get(&clients).bearer_auth(&second)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // After the erasure the last token can neither read nor recreate anything.
    let (_, body) = call(signin("the third long password")).await;
    let third = body["access_token"].as_str().unwrap().to_owned();
    create(&http, base, &third, "clients", json!({"name": "Acme"})).await;
    let (status, _) = call(http.delete(format!("{base}/me")).bearer_auth(&third)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for request in [
        http.get(&clients),
        http.post(&clients).json(&json!({"name": "back again"})),
        http.get(format!("{base}/me/export")),
    ] {
        assert_eq!(
            call(request.bearer_auth(&third)).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn malformed_and_oversized_input_is_a_client_error_with_problem_details() {
    let started = start().await;
    let base = &started.base;
    let http = Client::new();
    let token = new_user(&http, base, "ann").await;
    let clients = format!("{base}/clients");
    let mine = create(&http, base, &token, "clients", json!({"name": "Acme"})).await;

    let cases = [
        // Ids are the server's: chosen ones in a new record or a change.
        (
            http.post(&clients)
                .json(&json!({"_id": "65a1b2c3d4e5f60718293a4b", "name": "x"})),
            400,
        ),
        (
            http.post(&clients)
                .json(&json!({"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}})),
            400,
        ),
        (
            http.patch(format!("{clients}/{mine}"))
                .json(&json!({"_id": {"$oid": "000000000000000000000000"}})),
            400,
        ),
        // Pages past any use; a report's project id that is no id; a repeated parameter.
        (
            http.get(with_query(&clients, &[("skip", "9223372036854775808")])),
            400,
        ),
        (http.get(with_query(&clients, &[("skip", "2000000")])), 400),
        (
            http.get(with_query(
                &format!("{base}/reports/documents-per-project"),
                &[("project_id", "\0")],
            )),
            400,
        ),
        (
            http.get(format!(
                "{base}/reports/documents-per-project?sort=documents&sort=project_id"
            )),
            400,
        ),
        // A body past 64 KiB.
        (
            http.post(&clients)
                .json(&json!({"name": "x".repeat(70_000)})),
            413,
        ),
        // Unknown routes and methods.
        (http.get(format!("{base}/clients/{mine}/extra")), 404),
        (http.delete(format!("{base}/me/")), 404),
        (http.put(&clients), 405),
    ];
    for (request, expected) in cases {
        let (status, problem) = call(request.bearer_auth(&token)).await;
        assert_eq!(status.as_u16(), expected, "{problem}");
        assert_eq!(problem["status"], expected, "{problem}");
    }
    // Nothing was written by the refused requests.
    let (_, listed) = call(http.get(&clients).bearer_auth(&token)).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn sign_in_answers_alike_whatever_the_password_and_emails_are_plain_ascii() {
    let started = start_with(&[("RATE_LIMIT_ENABLED", "false".to_owned())]).await;
    let base = &started.base;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    sign_up(&http, base, &email, "ann's long password").await;
    let long = "P".repeat(10_000);
    let mut answers = Vec::new();
    for who in [email.as_str(), "nobody@example.com"] {
        let (status, body) = call(
            http.post(format!("{base}/signin"))
                .json(&json!({"email": who, "password": long})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    for email in [
        "a\u{0}b@example.com",
        "ALİCE@example.com",
        "alice\u{212a}@example.com",
        "a b@example.com",
    ] {
        let (status, body) = call(
            http.post(format!("{base}/signup"))
                .json(&json!({"email": email, "password": "a long enough password"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email:?}: {body}");
    }
}

#[tokio::test]
async fn guessing_routes_share_the_address_budget_and_unknown_routes_spend_none() {
    let started = start().await;
    let base = &started.base;
    let http = Client::new();
    let token = new_user(&http, base, "ann").await;
    // Unknown routes near the limited ones answer 404 and count for nothing.
    for _ in 0..10 {
        let response = http.post(format!("{base}/signin/")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(!response.headers().contains_key("ratelimit-limit"));
    }
    // Five wrong current passwords, then 429; a reset code from the same address too.
    let change = || {
        http.post(format!("{base}/changePassword"))
            .bearer_auth(&token)
            .json(&json!({"old_password": "a guess at the password", "new_password": "whatever comes next"}))
    };
    for _ in 0..5 {
        assert_eq!(call(change()).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(call(change()).await.0, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = call(
        http.post(format!("{base}/resetPassword"))
            .json(&json!({"token": "A".repeat(43), "new_password": "whatever comes next"})),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

/// Sign-ins with the old password racing a password change: whenever each one finished,
/// its token is refused once the change has answered (the generation is read before the
/// password is checked).
#[tokio::test]
async fn no_sign_in_racing_a_password_change_keeps_a_working_token() {
    let started = start_with(&[("RATE_LIMIT_ENABLED", "false".to_owned())]).await;
    let base = started.base.clone();
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    let token = sign_up(&http, &base, &email, "the old long password").await;
    let racing: Vec<_> = (0..6)
        .map(|_| {
            let (http, base, email) = (http.clone(), base.clone(), email.clone());
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                for _ in 0..4 {
                    let (status, body) = call(
                        http.post(format!("{base}/signin"))
                            .json(&json!({"email": email, "password": "the old long password"})),
                    )
                    .await;
                    if status == StatusCode::OK {
                        tokens.push(body["access_token"].as_str().unwrap().to_owned());
                    }
                }
                tokens
            })
        })
        .collect();
    let (status, _) = call(
        http.post(format!("{base}/changePassword"))
            .bearer_auth(&token)
            .json(&json!({"old_password": "the old long password", "new_password": "the new long password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut issued = 0;
    for task in racing {
        for old in task.await.unwrap() {
            issued += 1;
            let (status, _) = call(http.get(format!("{base}/clients")).bearer_auth(&old)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "a token from the old password works"
            );
        }
    }
    assert!(
        issued > 0,
        "no sign-in with the old password finished before the change"
    );
}

#[tokio::test]
async fn second_spellings_of_an_address_and_malformed_paths_are_refused() {
    let http = Client::new();
    let unlimited = start_with(&[("RATE_LIMIT_ENABLED", "false".to_owned())]).await;
    for email in [
        "x@example.com.",
        "\"x\"@example.com",
        "x@@example.com",
        "x@[127.0.0.1]",
        ".x@example.com",
        "x..y@example.com",
        "x@-example.com",
        "x@example",
    ] {
        let (status, body) = call(
            http.post(format!("{}/signup", unlimited.base))
                .json(&json!({"email": email, "password": "a long enough password"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email:?}: {body}");
    }
    let started = start().await;
    let base = &started.base;
    // A dotted path into a value that is not a document: the server refuses it, a 400.
    let token = new_user(&http, base, "ann").await;
    let id = create(&http, base, &token, "clients", json!({"name": "Acme"})).await;
    let (status, problem) = call(
        http.patch(format!("{base}/clients/{id}"))
            .bearer_auth(&token)
            .json(&json!({"name.x": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    // Without a provider the OpenID routes do not exist (`session` is then just an unknown
    // entity's list, 401 without a token) and spend nothing of the guessing budget.
    for _ in 0..7 {
        let (status, _) = call(http.get(format!("{base}/session?session_code=x"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = call(
        http.post(format!("{base}/resetPassword"))
            .json(&json!({"token": "A".repeat(43), "new_password": "whatever comes next"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the budget was spent");
}
