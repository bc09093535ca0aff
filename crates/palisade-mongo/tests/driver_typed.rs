//! Typed fields, DBRefs and `$comment` on the real server (SecantusDB from
//! `cargo xtask services up`): the guard's conversions are what make a client's strings find
//! the stored ObjectIds, UUIDs and dates; the admitted harmless forms run as the server reads
//! them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use bson::{DateTime, Document, doc, oid::ObjectId};
use futures_util::TryStreamExt as _;
use mongodb::Client;
use palisade_mongo::{FilterPolicy, document_from_json};
use palisade_test::{Service, unique_name};

const UUID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

async fn found(collection: &mongodb::Collection<Document>, filter: Document) -> usize {
    collection
        .find(filter)
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn converted_strings_find_stored_values_and_harmless_forms_run() {
    let client = Client::with_uri_str(Service::Mongodb.url()).await.unwrap();
    let database = client.database(&unique_name("typed"));
    let items = database.collection::<Document>("items");
    let client_id = ObjectId::new();
    let owner = ObjectId::new();
    items
        .insert_one(doc! {
            "client_id": client_id,
            "sku_uuid": bson::Uuid::parse_str(UUID).unwrap(),
            "created_at": DateTime::parse_rfc3339_str("2026-11-02T10:00:00Z").unwrap(),
            "owner": {"$ref": "users", "$id": owner},
            "blob": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![0, 1, 2] },
        })
        .await
        .unwrap();
    let policy = FilterPolicy::default()
        .object_id_field("*_id")
        .uuid_field("*_uuid")
        .date_field("*_at");
    let as_sent = document_from_json(serde_json::json!({
        "client_id": client_id.to_hex(),
        "sku_uuid": UUID,
        "created_at": {"$gte": "2026-11-01T00:00:00Z"},
        "owner": {"$ref": "users", "$id": {"$oid": owner.to_hex()}},
        "blob": {"$binary": "AAEC", "$type": "00"},
        "$comment": "typed-fields test",
    }))
    .unwrap();
    // Unconverted, the client's strings match nothing: the stored values are typed.
    let mut raw = as_sent.clone();
    raw.remove("$comment");
    assert_eq!(found(&items, raw).await, 0);
    let guarded = policy.guard(&as_sent).unwrap().into_document();
    assert_eq!(found(&items, guarded).await, 1);
    // Null comparisons on typed fields run as the server reads them.
    let missing = policy
        .guard(&doc! {"client_id": {"$ne": null}, "deleted_at": null})
        .unwrap()
        .into_document();
    assert_eq!(found(&items, missing).await, 1);
    let other = policy
        .guard(&doc! {"owner": {"$ref": "users", "$id": ObjectId::new()}})
        .unwrap()
        .into_document();
    assert_eq!(found(&items, other).await, 0);
    assert_eq!(
        policy
            .guard(&doc! {"sku_uuid": "nope"})
            .unwrap_err()
            .status(),
        400
    );
    database.drop().await.unwrap();
}
