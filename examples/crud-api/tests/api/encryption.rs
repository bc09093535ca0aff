//! The clients' contact details, encrypted with palisade-crypt: stored as ciphertext (read
//! back with a raw client), served decrypted, searchable by email through the blind index,
//! never compared in clear; erasing the account destroys the user's data key, after which a
//! copy of the ciphertext taken earlier (a backup) no longer decrypts with the service's own
//! keys.

use std::sync::Arc;

use bson::{Bson, Document, doc};
use palisade_crypt::{Context, CryptError, Envelope, KeyName, LocalKeyWrapper};
use palisade_mongo::MongoKeyStore;
use palisade_secrets::SecretValue;
use palisade_test::{Canary, unique_name};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{call, claims, filtered, raw_mongo, secret_file, sign_up, start_with};

fn random_hex() -> String {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn contact_details_are_stored_encrypted_served_decrypted_and_shredded_with_the_account() {
    let field_key = random_hex();
    let started = start_with(&[
        ("FIELD_KEY", secret_file(&field_key)),
        ("FIELD_INDEX_KEY", secret_file(&random_hex())),
    ])
    .await;
    let base = &started.base;
    let http = Client::new();
    let canary = Canary::new();
    let email = format!("{}@example.com", canary.value().to_lowercase());
    let token = sign_up(
        &http,
        base,
        &format!("{}@example.com", unique_name("ann")),
        "ann's long password",
    )
    .await;
    let (status, created) = call(
        http.post(format!("{base}/clients"))
            .bearer_auth(&token)
            .json(&json!({"name": "Acme", "email": email, "phone": "+1 555 0100"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["email"], email.as_str());
    assert_eq!(created["phone"], "+1 555 0100");
    assert!(created.get("email_bidx").is_none(), "{created}");
    let id = created["_id"]["$oid"].as_str().unwrap().to_owned();

    // The stored bytes hold ciphertext only.
    let user = claims(&token);
    let mongo = raw_mongo().await;
    let clients = mongo
        .database(&started.tenant_database(user["organization_id"].as_str().unwrap()))
        .collection::<Document>("clients");
    let stored = clients.find_one(doc! {}).await.unwrap().unwrap();
    let bytes = bson::to_vec(&stored).unwrap();
    for clear in [email.as_bytes(), b"+1 555 0100".as_slice()] {
        assert!(
            !bytes.windows(clear.len()).any(|w| w == clear),
            "stored in clear"
        );
    }
    let Some(Bson::Binary(ciphertext)) = stored.get("email") else {
        panic!("{stored:?}")
    };
    assert_eq!(u8::from(ciphertext.subtype), 6);

    // Served decrypted; searchable by email, by its blind index; phone is not searchable.
    let (status, listed) = call(
        http.get(filtered(
            &format!("{base}/clients"),
            &json!({"email": email}).to_string(),
        ))
        .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["phone"], "+1 555 0100");
    let (status, refused) = call(
        http.get(filtered(
            &format!("{base}/clients"),
            r#"{"phone": "+1 555 0100"}"#,
        ))
        .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["problem"], "field-encrypted");
    assert_eq!(refused["path"], "filter.phone");
    let (status, refused) = call(
        http.get(filtered(
            &format!("{base}/clients"),
            r#"{"email": {"$regex": "^a"}}"#,
        ))
        .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // An update re-encrypts; the export decrypts.
    let (status, updated) = call(
        http.patch(format!("{base}/clients/{id}"))
            .bearer_auth(&token)
            .json(&json!({"phone": "+1 555 0199"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["phone"], "+1 555 0199");
    let (_, export) = call(http.get(format!("{base}/me/export")).bearer_auth(&token)).await;
    assert_eq!(export["records"]["clients"][0]["email"], email.as_str());
    assert_eq!(export["records"]["clients"][0]["phone"], "+1 555 0199");

    // A copy of the ciphertext (a backup), and the service's keys: it decrypts now...
    let directory = mongo.database(&started.mongo_db);
    let keys = Envelope::new(
        KeyName::new("crud-api").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &SecretValue::from_string(field_key)).unwrap()),
        Arc::new(MongoKeyStore::new(directory.collection("data_keys"))),
    );
    let backup = palisade_crypt::from_binary(stored.get("email").unwrap()).unwrap();
    let place = Context::new()
        .with("tenant", clients.namespace().db.as_str())
        .unwrap()
        .with("collection", "clients")
        .unwrap()
        .with("field", "email")
        .unwrap()
        .with("id", id.as_str())
        .unwrap();
    let opened = keys.decrypt(&place, &backup).await.unwrap();
    let inner = Document::from_reader(opened.plaintext.expose_bytes()).unwrap();
    assert_eq!(inner.get_str("v").unwrap(), email);

    // ...and after the erasure, never again.
    let status = http
        .delete(format!("{base}/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let scope = format!("user:{}", user["user_id"].as_str().unwrap());
    assert_eq!(
        directory
            .collection::<Document>("data_keys")
            .count_documents(doc! {"scope": scope})
            .await
            .unwrap(),
        0
    );
    let cold = Envelope::new(
        KeyName::new("crud-api").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &SecretValue::from_string(random_hex())).unwrap()),
        Arc::new(MongoKeyStore::new(directory.collection("data_keys"))),
    );
    let err = cold.decrypt(&place, &backup).await.unwrap_err();
    assert!(matches!(err, CryptError::KeyDestroyed), "{err:?}");
}

/// Found by an outside attacker: writes racing `DELETE /me` left a data key, and records it
/// could decrypt, after the erasure answered 204. Now the tokens are revoked first, a write
/// that finds its token revoked when done undoes its record, and a shredded scope stores no
/// key again.
#[tokio::test]
async fn writes_racing_an_erasure_leave_no_key_and_no_record() {
    let started = start_with(&[("RATE_LIMIT_ENABLED", "false".to_owned())]).await;
    let base = started.base.clone();
    let http = Client::new();
    let mongo = raw_mongo().await;
    let directory = mongo.database(&started.mongo_db);
    for round in 0..3 {
        let email = format!("{}@example.com", unique_name("racer"));
        let password = "a long enough password";
        let mut token = sign_up(&http, &base, &email, password).await;
        let user = claims(&token);
        let user_id = user["user_id"].as_str().unwrap().to_owned();
        let tenant = started.tenant_database(user["organization_id"].as_str().unwrap());
        call(
            http.post(format!("{base}/clients"))
                .bearer_auth(&token)
                .json(&json!({"name": "first", "email": "a@example.com"})),
        )
        .await;
        loop {
            let writes: Vec<_> = (0..8)
                .map(|i| {
                    let (http, base, token) = (http.clone(), base.clone(), token.clone());
                    tokio::spawn(async move {
                        call(http.post(format!("{base}/clients")).bearer_auth(&token).json(&json!({"name": i, "email": format!("{i}@example.com"), "phone": "+1 555 0100"}))).await.0
                    })
                })
                .collect();
            let erased = http
                .delete(format!("{base}/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status();
            for write in writes {
                let status = write.await.unwrap();
                assert!(
                    [
                        StatusCode::CREATED,
                        StatusCode::UNAUTHORIZED,
                        StatusCode::NOT_FOUND,
                        StatusCode::GONE,
                        StatusCode::SERVICE_UNAVAILABLE
                    ]
                    .contains(&status),
                    "round {round}: a racing write answered {status}"
                );
            }
            if erased == StatusCode::NO_CONTENT {
                break;
            }
            // Records written meanwhile: the account stays, to be erased again.
            assert_eq!(erased, StatusCode::CONFLICT, "round {round}");
            let (_, body) = call(
                http.post(format!("{base}/signin"))
                    .json(&json!({"email": email, "password": password})),
            )
            .await;
            token = body["access_token"].as_str().unwrap().to_owned();
        }
        // Every racing write has answered, so every one has undone itself if it had to.
        let scope = format!("user:{user_id}");
        let keys = directory
            .collection::<Document>("data_keys")
            .count_documents(doc! {"scope": &scope})
            .await
            .unwrap();
        assert_eq!(keys, 0, "round {round}: a data key outlived the erasure");
        let records = mongo
            .database(&tenant)
            .collection::<Document>("clients")
            .count_documents(doc! {"user_id": &user_id})
            .await
            .unwrap();
        assert_eq!(records, 0, "round {round}: a record outlived the erasure");
    }
}
