//! The user journey over real HTTP on loopback, with `reqwest`, against the service started
//! in-process on SecantusDB (`cargo xtask services up`): sign-up, sign-in, create, filter,
//! read, update and delete; and the attacks of the reference back end's threat list that
//! this slice serves, each refused with its status and nothing changed.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::net::SocketAddr;

use palisade_test::{Canary, Service, unique_name};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// The service on an ephemeral port, with a database of its own.
async fn start() -> String {
    start_on_database().await.0
}

/// The service, and the name of its database (for checks with a raw client).
async fn start_on_database() -> (String, String) {
    let (base, database, _) = start_with_outbox().await;
    (base, database)
}

/// The service, its database's name, and the outbox its reset codes go to.
async fn start_with_outbox() -> (String, String, std::sync::Arc<crud_api::MemoryOutbox>) {
    let outbox = std::sync::Arc::new(crud_api::MemoryOutbox::default());
    let database = unique_name("crud").replace('-', "_");
    let mongo = Service::Mongodb.url();
    let name = database.clone();
    let settings = crud_api::Settings::from_lookup(|key| match key {
        "MODE" => Some("test".to_owned()),
        "MONGO_URL" => Some(mongo.clone()),
        "MONGO_DB" => Some(name.clone()),
        _ => None,
    })
    .unwrap();
    let app = crud_api::app_with(&settings, outbox.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{address}/api/v1"), database, outbox)
}

/// The API preset's headers and a request id, on every response whatever its status.
fn assert_headers(response: &Response) {
    let headers = response.headers();
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
    assert!(
        request_id.is_some_and(|id| id.len() >= 16 && id != "client-chosen-id"),
        "x-request-id {request_id:?} on a {} response",
        response.status()
    );
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on a {} response",
            response.status()
        );
    }
}

/// Sends, checks the headers, returns the status and the JSON body (null when empty).
async fn call(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    // A request id from a client that is no trusted proxy is replaced by the server's own.
    let response = request
        .header("x-request-id", "client-chosen-id")
        .send()
        .await
        .unwrap();
    assert_headers(&response);
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// `url?filters=<filters>`, encoded.
fn filtered(url: &str, filters: &str) -> reqwest::Url {
    let mut url = reqwest::Url::parse(url).unwrap();
    url.query_pairs_mut().append_pair("filters", filters);
    url
}

async fn sign_up(http: &Client, base: &str, email: &str, password: &str) -> String {
    let (status, body) = call(
        http.post(format!("{base}/signup"))
            .json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token_type"], "bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_user_signs_up_and_works_on_their_own_records() {
    let base = start().await;
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

#[tokio::test]
async fn attacks_are_refused_and_change_nothing() {
    let base = start().await;
    let http = Client::new();
    let ann = sign_up(
        &http,
        &base,
        &format!("{}@example.com", unique_name("ann")),
        "ann's long password",
    )
    .await;
    let bob = sign_up(
        &http,
        &base,
        &format!("{}@example.com", unique_name("bob")),
        "bob's long password",
    )
    .await;
    let clients = format!("{base}/clients");
    let (_, created) = call(
        http.post(&clients)
            .bearer_auth(&ann)
            .json(&json!({"name": "Ann's"})),
    )
    .await;
    let anns = format!("{clients}/{}", created["_id"]["$oid"].as_str().unwrap());

    // Another user's record, by id: read, change, delete all answer 404.
    for request in [
        http.get(&anns),
        http.patch(&anns).json(&json!({"name": "mine now"})),
        http.delete(&anns),
    ] {
        let (status, body) = call(request.bearer_auth(&bob)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    // Operator injection in filters, a `$or` that tries to widen the scope, a malformed
    // typed id: 400 with a problem document.
    for filters in [
        r#"{"name": {"$where": "sleep(100)"}}"#,
        r#"{"$or": [{"user_id": {"$ne": null}}, {"name": {"$regex": ".*"}}]}"#,
        r#"{"project_id": "not-an-object-id"}"#,
        "not json",
    ] {
        let (status, body) = call(http.get(filtered(&clients, filters)).bearer_auth(&bob)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filters}: {body}");
    }
    // The owner field in a new record is refused; audit fields are stamped over whatever
    // the client sent.
    let (status, _) = call(
        http.post(&clients)
            .bearer_auth(&bob)
            .json(&json!({"name": "x", "user_id": "someone-else"})),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    let (status, stamped) = call(
        http.post(&clients)
            .bearer_auth(&bob)
            .json(&json!({"name": "x", "created_by": "someone-else"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(stamped["created_by"], "someone-else", "{stamped}");
    assert_eq!(stamped["created_by"], stamped["user_id"], "{stamped}");
    let stamped_id = stamped["_id"]["$oid"].as_str().unwrap().to_owned();
    call(
        http.delete(format!("{clients}/{stamped_id}"))
            .bearer_auth(&bob),
    )
    .await;
    let (status, _) = call(
        http.patch(&anns)
            .bearer_auth(&ann)
            .json(&json!({"user_id": "bob"})),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    // No token, a forged one, an unknown collection.
    let (status, _) = call(http.get(&clients)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(http.get(&clients).bearer_auth(format!("{ann}x"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(http.get(format!("{base}/users")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nothing changed: Ann still sees her one record, named as she named it.
    let (status, listed) = call(http.get(&clients).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "Ann's");
    let (_, bobs) = call(http.get(&clients).bearer_auth(&bob)).await;
    assert_eq!(bobs, json!([]));
}

#[tokio::test]
async fn export_and_erasure_cover_every_record_of_the_user_and_no_other() {
    let (base, database) = start_on_database().await;
    let http = Client::new();
    let ann_email = format!("{}@example.com", unique_name("ann"));
    let ann = sign_up(&http, &base, &ann_email, "ann's long password").await;
    let bob = sign_up(
        &http,
        &base,
        &format!("{}@example.com", unique_name("bob")),
        "bob's long password",
    )
    .await;
    for (token, entity, n) in [
        (&ann, "clients", 2),
        (&ann, "projects", 1),
        (&bob, "clients", 1),
    ] {
        for i in 0..n {
            let (status, _) = call(
                http.post(format!("{base}/{entity}"))
                    .bearer_auth(token)
                    .json(&json!({"name": format!("{entity} {i}")})),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
        }
    }
    let (status, export) = call(http.get(format!("{base}/me/export")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["clients"].as_array().unwrap().len(), 2);
    assert_eq!(export["projects"].as_array().unwrap().len(), 1);
    assert_eq!(export["documents"], json!([]));
    assert_eq!(export["account"]["email"], ann_email.as_str());
    assert!(export["account"].get("password_hash").is_none(), "{export}");
    let ann_id = export["account"]["_id"]["$oid"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, _) = call(http.delete(format!("{base}/me")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The account is gone: its token finds nothing, and signing in fails.
    let (status, _) = call(http.get(format!("{base}/me/export")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        http.post(format!("{base}/signin"))
            .json(&json!({"email": ann_email, "password": "ann's long password"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, left) = call(http.get(format!("{base}/clients")).bearer_auth(&ann)).await;
    assert_eq!(left, json!([]));
    // Bob's record is whole.
    let (_, bobs) = call(http.get(format!("{base}/clients")).bearer_auth(&bob)).await;
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    // As a raw client sees the database: nothing of Ann's, in any collection.
    let raw = mongodb::Client::with_uri_str(Service::Mongodb.url())
        .await
        .unwrap()
        .database(&database);
    let mut owners = Vec::new();
    for collection in raw.list_collection_names().await.unwrap() {
        let all: Vec<bson::Document> = futures_util::TryStreamExt::try_collect(
            raw.collection::<bson::Document>(&collection)
                .find(bson::doc! {})
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        for record in all {
            let text = record.to_string();
            assert!(!text.contains(&ann_email), "{collection}: {text}");
            owners.push(record.get_str("user_id").ok().map(str::to_owned));
        }
    }
    // Bob's client and Bob's account (which has no owner field) remain.
    assert_eq!(owners.len(), 2, "{owners:?}");
    assert!(!owners.contains(&Some(ann_id)), "{owners:?}");
}

#[tokio::test]
async fn the_sixth_sign_in_in_a_minute_from_one_address_is_refused() {
    let base = start().await;
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
async fn a_forgotten_password_is_reset_once_with_the_code_sent() {
    let (base, _, outbox) = start_with_outbox().await;
    let http = Client::new();
    let email = format!("{}@example.com", unique_name("ann"));
    sign_up(&http, &base, &email, "the first long password").await;

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
    let sent = outbox.take();
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
