//! R-CRY-1: field-level encryption in `ScopedCollection` against SecantusDB: the stored bytes,
//! read with a raw client, hold no plaintext; reads decrypt; equality filters go through the
//! blind index and every other question to an encrypted field is a 400 naming it; a
//! ciphertext copied into another document does not decrypt; shredding the owner's key makes
//! their fields unreadable and leaves the other owner's alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::{Client, Database};
use palisade_crypt::{
    BlindIndex, CryptError, EncryptedFields, Envelope, KeyName, KeyScope, LocalKeyWrapper,
    MemoryKeyStore,
};
use palisade_mongo::{DriverError, FilterPolicy, Problem, Scope, ScopedCollection};
use palisade_secrets::SecretValue;
use palisade_test::{Service, unique_name};

async fn database() -> Database {
    let client = Client::with_uri_str(Service::Mongodb.url()).await.unwrap();
    client.database(&unique_name("crypt"))
}

struct World {
    db: Database,
    envelope: Arc<Envelope>,
    fields: Arc<EncryptedFields>,
}

async fn world() -> World {
    let envelope = Arc::new(Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::random().unwrap()),
        Arc::new(MemoryKeyStore::new()),
    ));
    let index = Arc::new(BlindIndex::new(&SecretValue::from_bytes(vec![9; 32]), 16).unwrap());
    let fields = Arc::new(
        EncryptedFields::new(envelope.clone())
            .searchable("ssn", index)
            .unwrap()
            .field("notes")
            .unwrap(),
    );
    World {
        db: database().await,
        envelope,
        fields,
    }
}

fn patients(world: &World, owner: &str) -> ScopedCollection<Document> {
    let policy = FilterPolicy::default().scalar_field("name");
    ScopedCollection::new(
        world.db.collection::<Document>("patients"),
        Scope::new("owner", owner).with_policy(policy),
    )
    .with_encryption(
        world.fields.clone(),
        KeyScope::new(format!("user:{owner}")).unwrap(),
    )
}

fn refusal(error: &DriverError) -> (&Problem, &str) {
    let rejected = error
        .rejected()
        .unwrap_or_else(|| panic!("not a refusal: {error:?}"));
    (rejected.problem(), rejected.path())
}

#[tokio::test]
async fn stored_bytes_hold_no_plaintext_and_reads_decrypt() {
    let world = world().await;
    let alice = patients(&world, "alice");
    alice
        .insert_many(&[
            doc! {"name": "a1", "ssn": "078-05-1120", "notes": {"allergy": "penicillin"}},
            doc! {"name": "a2", "ssn": "219-09-9999", "notes": "none"},
        ])
        .await
        .unwrap();
    let raw: Vec<Document> = world
        .db
        .collection::<Document>("patients")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(raw.len(), 2);
    for document in &raw {
        let bytes = bson::to_vec(document).unwrap();
        for plaintext in ["078-05-1120", "219-09-9999", "penicillin", "allergy"] {
            assert!(
                !bytes
                    .windows(plaintext.len())
                    .any(|w| w == plaintext.as_bytes()),
                "{plaintext} stored in clear"
            );
        }
        let Some(Bson::Binary(binary)) = document.get("ssn") else {
            panic!("{document:?}")
        };
        assert_eq!(u8::from(binary.subtype), 6);
        assert!(document.contains_key("ssn_bidx"));
    }
    let mut read = alice.find_decrypted(doc! {}, None).await.unwrap();
    read.sort_by_key(|d| d.get_str("name").unwrap().to_owned());
    assert_eq!(read[0].get_str("ssn").unwrap(), "078-05-1120");
    assert_eq!(
        read[0].get_document("notes").unwrap(),
        &doc! {"allergy": "penicillin"}
    );
    assert!(
        !read[0].contains_key("ssn_bidx"),
        "blind indexes are not returned"
    );
    // Equality through the blind index, alone or in $in and $or.
    for filter in [
        doc! {"ssn": "078-05-1120"},
        doc! {"ssn": {"$eq": "078-05-1120"}},
        doc! {"ssn": {"$in": ["078-05-1120", "000-00-0000"]}},
        doc! {"$or": [{"ssn": "078-05-1120"}, {"name": "nobody"}]},
    ] {
        let found = alice.find_decrypted(filter.clone(), None).await.unwrap();
        assert_eq!(found.len(), 1, "{filter:?}");
        assert_eq!(found[0].get_str("name").unwrap(), "a1");
    }
    // Another owner's equal value is not found, and cannot be read.
    let bob = patients(&world, "bob");
    bob.insert_one(&doc! {"name": "b1", "ssn": "078-05-1120"})
        .await
        .unwrap();
    assert_eq!(
        alice
            .find_decrypted(doc! {"ssn": "078-05-1120"}, None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(bob.count(doc! {"ssn": "078-05-1120"}).await.unwrap(), 1);
}

#[tokio::test]
async fn questions_an_encrypted_field_cannot_answer_are_refused_by_name() {
    let world = world().await;
    let alice = patients(&world, "alice");
    alice
        .insert_one(&doc! {"name": "a1", "ssn": "078-05-1120"})
        .await
        .unwrap();
    let cases = [
        (doc! {"ssn": {"$gt": "0"}}, "filter.ssn"),
        (doc! {"ssn": {"$ne": "x"}}, "filter.ssn"),
        (doc! {"notes": "none"}, "filter.notes"),
        (doc! {"$and": [{"ssn": {"$exists": true}}]}, "filter.ssn"),
        (doc! {"ssn_bidx": "x"}, "filter.ssn_bidx"),
    ];
    for (filter, path) in cases {
        let error = alice
            .find_decrypted(filter.clone(), None)
            .await
            .unwrap_err();
        let (problem, at) = refusal(&error);
        assert!(
            matches!(problem, Problem::FieldEncrypted { .. }),
            "{filter:?}: {error}"
        );
        assert_eq!(at, path, "{filter:?}");
        assert_eq!(error.status(), 400);
    }
    // A refusal inside an encrypted value names the field, never the keys of the value.
    let error = alice
        .insert_one(&doc! {"name": "a2", "ssn": {"078-05-1120": {"$gt": 1}}})
        .await
        .unwrap_err();
    assert_eq!(refusal(&error).1, "document.ssn", "{error}");
    assert!(!error.to_string().contains("078-05-1120"), "{error}");
    // Writes: $set only, only by _id; no $inc, no path inside, no pipeline use but $match.
    let error = alice
        .update_many(doc! {"name": "a1"}, doc! {"$set": {"ssn": "1"}})
        .await
        .unwrap_err();
    assert_eq!(refusal(&error).1, "update.ssn");
    let id = alice.find_decrypted(doc! {}, None).await.unwrap()[0]
        .get_object_id("_id")
        .unwrap();
    for update in [
        doc! {"$inc": {"ssn": 1}},
        doc! {"$set": {"ssn.x": 1}},
        doc! {"$set": {"ssn_bidx": "forged"}},
    ] {
        let error = alice
            .update_one(doc! {"_id": id}, update.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(refusal(&error).0, Problem::FieldEncrypted { .. }),
            "{update:?}: {error}"
        );
    }
    let error = alice
        .aggregate(vec![doc! {"$group": {"_id": "$ssn", "n": {"$sum": 1}}}])
        .await
        .unwrap_err();
    assert!(
        matches!(refusal(&error).0, Problem::FieldEncrypted { .. }),
        "{error}"
    );
    let matched: Vec<Document> = alice
        .aggregate(vec![
            doc! {"$match": {"ssn": "078-05-1120"}},
            doc! {"$project": {"name": 1}},
        ])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(matched.len(), 1);
    // $set by _id re-encrypts, and the new value is found by its index.
    alice
        .update_one(doc! {"_id": id}, doc! {"$set": {"ssn": "999-99-9999"}})
        .await
        .unwrap();
    let found = alice
        .find_one_decrypted(doc! {"ssn": "999-99-9999"})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.get_object_id("_id").unwrap(), id);
    assert!(
        alice
            .find_one_decrypted(doc! {"ssn": "078-05-1120"})
            .await
            .unwrap()
            .is_none()
    );
    // $unset removes the index with the field.
    alice
        .update_one(doc! {"_id": id}, doc! {"$unset": {"ssn": ""}})
        .await
        .unwrap();
    let raw = world
        .db
        .collection::<Document>("patients")
        .find_one(doc! {"_id": id})
        .await
        .unwrap()
        .unwrap();
    assert!(
        !raw.contains_key("ssn") && !raw.contains_key("ssn_bidx"),
        "{raw:?}"
    );
}

#[tokio::test]
async fn a_copied_ciphertext_does_not_decrypt_and_shredding_holds() {
    let world = world().await;
    let alice = patients(&world, "alice");
    alice
        .insert_one(&doc! {"name": "a1", "ssn": "078-05-1120"})
        .await
        .unwrap();
    alice
        .insert_one(&doc! {"name": "a2", "ssn": "219-09-9999"})
        .await
        .unwrap();
    let raw = world.db.collection::<Document>("patients");
    let a1 = raw.find_one(doc! {"name": "a1"}).await.unwrap().unwrap();
    // a1's ciphertext copied into a2 (same owner, same key, same field): bound to a1's _id.
    raw.update_one(
        doc! {"name": "a2"},
        doc! {"$set": {"ssn": a1.get("ssn").unwrap().clone()}},
    )
    .await
    .unwrap();
    let error = alice
        .find_decrypted(doc! {"name": "a2"}, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, DriverError::Crypt(CryptError::Undecryptable)),
        "{error:?}"
    );
    assert_eq!(error.status(), 500);

    let bob = patients(&world, "bob");
    bob.insert_one(&doc! {"name": "b1", "ssn": "111-11-1111"})
        .await
        .unwrap();
    assert_eq!(
        world
            .envelope
            .shred(&KeyScope::new("user:alice").unwrap())
            .await
            .unwrap(),
        1
    );
    let error = alice
        .find_decrypted(doc! {"name": "a1"}, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, DriverError::Crypt(CryptError::KeyDestroyed)),
        "{error:?}"
    );
    let b1 = bob.find_one_decrypted(doc! {}).await.unwrap().unwrap();
    assert_eq!(b1.get_str("ssn").unwrap(), "111-11-1111");
    // The shredded rows are still there, unreadable: the bytes remain, the key does not.
    assert_eq!(
        raw.count_documents(doc! {"owner": "alice"}).await.unwrap(),
        2
    );
}

/// An envelope (a fresh instance) over the data keys in `db`'s `data_keys` collection.
fn in_mongo(db: &Database, kek: &SecretValue) -> Envelope {
    Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, kek).unwrap()),
        Arc::new(palisade_mongo::MongoKeyStore::new(
            db.collection("data_keys"),
        )),
    )
}

#[tokio::test]
async fn keys_kept_in_mongodb_serve_another_instance_and_shred_there() {
    let db = database().await;
    let kek = SecretValue::from_string("11".repeat(32));
    let store = palisade_mongo::MongoKeyStore::new(db.collection("data_keys"));
    store.create_indexes().await.unwrap();
    let writer = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &kek).unwrap()),
        Arc::new(store.clone()),
    );
    let context = palisade_crypt::Context::new().with("id", "1").unwrap();
    let alice = KeyScope::new("user:alice").unwrap();
    let sealed = writer.encrypt(&alice, &context, b"alice's").await.unwrap();
    let again = writer.encrypt(&alice, &context, b"again").await.unwrap();
    assert_eq!(sealed.data_key_id(), again.data_key_id());
    let keys = db.collection::<Document>("data_keys");
    let stored = keys.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(stored.get_str("scope").unwrap(), "user:alice");
    assert!(
        !bson::to_vec(&stored)
            .unwrap()
            .windows(7)
            .any(|w| w == b"alice's")
    );
    // Another instance (a new store on the same collection) finds the key and the scope's
    // current key.
    let reader = in_mongo(&db, &kek);
    assert_eq!(
        reader
            .decrypt(&context, &sealed)
            .await
            .unwrap()
            .plaintext
            .expose_bytes(),
        b"alice's"
    );
    let third = reader.encrypt(&alice, &context, b"third").await.unwrap();
    assert_eq!(third.data_key_id(), sealed.data_key_id());
    // Shredding deletes the key's document; a cold instance cannot open the value.
    assert_eq!(reader.shred(&alice).await.unwrap(), 1);
    assert_eq!(
        keys.count_documents(doc! {"scope": "user:alice"})
            .await
            .unwrap(),
        0
    );
    let cold = in_mongo(&db, &kek);
    assert!(matches!(
        cold.decrypt(&context, &sealed).await.unwrap_err(),
        CryptError::KeyDestroyed
    ));
    // The scope stays destroyed: a writer racing the erasure stores no new key for it.
    let err = cold.encrypt(&alice, &context, b"late").await.unwrap_err();
    assert!(matches!(err, CryptError::KeyDestroyed), "{err:?}");
    assert_eq!(
        keys.count_documents(doc! {"scope": "user:alice"})
            .await
            .unwrap(),
        0
    );
    // A tampered key document opens nothing.
    let bob = KeyScope::new("user:bob").unwrap();
    let sealed = cold.encrypt(&bob, &context, b"bob's").await.unwrap();
    keys.update_one(
        doc! {"scope": "user:bob"},
        doc! {"$set": {"scope": "user:mallory"}},
    )
    .await
    .unwrap();
    let other = in_mongo(&db, &kek);
    assert!(matches!(
        other.decrypt(&context, &sealed).await.unwrap_err(),
        CryptError::Undecryptable
    ));
}

#[tokio::test]
async fn a_resumable_walk_encrypts_again_what_is_due_for_rotation() {
    let db = database().await;
    let store = Arc::new(MemoryKeyStore::new());
    let v1 = SecretValue::from_string("22".repeat(32));
    let v2 = SecretValue::from_string("33".repeat(32));
    let old = Arc::new(Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &v1).unwrap()),
        store.clone(),
    ));
    let index = Arc::new(BlindIndex::new(&SecretValue::from_bytes(vec![9; 32]), 16).unwrap());
    let fields = |envelope: Arc<Envelope>| {
        Arc::new(
            EncryptedFields::new(envelope)
                .searchable("ssn", index.clone())
                .unwrap(),
        )
    };
    let world = World {
        db: db.clone(),
        envelope: old.clone(),
        fields: fields(old.clone()),
    };
    for owner in ["alice", "bob"] {
        let patients = patients(&world, owner);
        for i in 0..5 {
            patients
                .insert_one(&doc! {"name": format!("{owner}{i}"), "ssn": format!("{owner}-{i}")})
                .await
                .unwrap();
        }
    }
    // Version 2 of the key-encryption key arrives; new data keys are wrapped by it.
    let new = Arc::new(Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(
            LocalKeyWrapper::new(1, &v1)
                .unwrap()
                .with_version(2, &v2)
                .unwrap(),
        ),
        store.clone(),
    ));
    let new_fields = fields(new.clone());
    let raw = db.collection::<Document>("patients");
    let scope_of = |d: &Document| {
        d.get_str("owner")
            .ok()
            .and_then(|o| KeyScope::new(format!("user:{o}")).ok())
    };
    let mut after = None;
    let mut rewritten = 0;
    let mut calls = 0;
    loop {
        let step = palisade_mongo::reencrypt_batch(
            &raw,
            &new_fields,
            scope_of,
            after.clone(),
            std::num::NonZeroU32::new(3).unwrap(),
        )
        .await
        .unwrap();
        calls += 1;
        rewritten += step.rewritten;
        // A restart between batches: only `next` is kept.
        after = step.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(rewritten, 10);
    assert_eq!(calls, 5, "10 documents in batches of 3, then an empty read");
    for document in raw
        .find(doc! {})
        .await
        .unwrap()
        .try_collect::<Vec<Document>>()
        .await
        .unwrap()
    {
        let ciphertext = palisade_crypt::from_binary(document.get("ssn").unwrap()).unwrap();
        assert_eq!(ciphertext.key_version(), 2, "{document:?}");
    }
    // Everything still reads, and the blind index still finds it.
    let world = World {
        db,
        envelope: new.clone(),
        fields: new_fields,
    };
    let alice = patients(&world, "alice");
    assert_eq!(
        alice
            .find_one_decrypted(doc! {"ssn": "alice-3"})
            .await
            .unwrap()
            .unwrap()
            .get_str("name")
            .unwrap(),
        "alice3"
    );
    // A second walk finds nothing due.
    let step = palisade_mongo::reencrypt_batch(
        &raw,
        &world.fields,
        scope_of,
        None,
        std::num::NonZeroU32::new(100).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!((step.scanned, step.rewritten), (10, 0));
}
