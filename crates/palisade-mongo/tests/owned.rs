//! The right of access and the right to erasure on SecantusDB (`cargo xtask services up`):
//! `OwnedCollections` exports exactly one owner's documents across collections (each under
//! its own owner field) and erases exactly those, leaving other owners' untouched, as a raw
//! client sees them.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use bson::{Bson, Document, doc};
use mongodb::{Client, Database};
use palisade_mongo::{OwnedCollections, Scope, ScopedCollection};
use palisade_test::{Service, unique_name};

async fn database() -> Database {
    let client = Client::with_uri_str(Service::Mongodb.url()).await.unwrap();
    client.database(&unique_name("owned"))
}

fn registry() -> OwnedCollections {
    OwnedCollections::new()
        .collection("clients", "user_id")
        .collection("documents", "user_id")
        .collection("uploads", "uploaded_by")
}

/// Writes each owner's records through their own scope.
async fn seed(database: &Database) {
    for (owner, n) in [("u-1", 3), ("u-2", 2)] {
        for (collection, field) in registry().collections() {
            let scoped = ScopedCollection::new(
                database.collection::<Document>(collection),
                Scope::new(field, owner),
            );
            for i in 0..n {
                scoped
                    .insert_one(&doc! {"title": format!("{collection} {i} of {owner}")})
                    .await
                    .unwrap();
            }
        }
    }
}

fn count(export: &Document, collection: &str) -> usize {
    export.get_array(collection).unwrap().len()
}

#[tokio::test]
async fn export_and_erasure_reach_every_record_of_one_owner_and_no_other() {
    let database = database().await;
    seed(&database).await;

    let export = registry().export_owned(&database, "u-1").await.unwrap();
    let names: Vec<&str> = export.keys().map(String::as_str).collect();
    assert_eq!(names, ["clients", "documents", "uploads"]);
    for (collection, field) in registry().collections() {
        assert_eq!(count(&export, collection), 3, "{collection}");
        for record in export.get_array(collection).unwrap() {
            let Bson::Document(record) = record else {
                panic!("not a document: {record}");
            };
            assert_eq!(record.get_str(field).unwrap(), "u-1", "{collection}");
        }
    }
    // A user with nothing gets every collection, empty.
    let nothing = registry().export_owned(&database, "u-9").await.unwrap();
    assert_eq!(nothing.len(), 3);
    assert!(
        nothing
            .values()
            .all(|v| v.as_array().is_some_and(Vec::is_empty))
    );

    let erased = registry().erase_owned(&database, "u-1").await.unwrap();
    assert_eq!(erased.remaining(), 0);
    assert!(erased.deleted.values().all(|&n| n == 3), "{erased:?}");
    // As a raw client sees the collections: u-1 is gone, u-2 is whole.
    for (collection, field) in registry().collections() {
        let raw = database.collection::<Document>(collection);
        assert_eq!(raw.count_documents(doc! {field: "u-1"}).await.unwrap(), 0);
        assert_eq!(raw.count_documents(doc! {field: "u-2"}).await.unwrap(), 2);
        assert_eq!(raw.count_documents(doc! {}).await.unwrap(), 2);
    }
    let again = registry().erase_owned(&database, "u-1").await.unwrap();
    assert!(again.deleted.values().all(|&n| n == 0));
    database.drop().await.unwrap();
}
