//! The reference back end's threat list, each attack refused with its documented status and
//! nothing changed.

use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{call, filtered, sign_up, start};

#[tokio::test]
async fn attacks_are_refused_and_change_nothing() {
    let base = start().await.base;
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
