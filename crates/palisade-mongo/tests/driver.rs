//! The `driver` feature against SecantusDB (a MongoDB-wire server started by
//! `cargo xtask services up`), through the official `mongodb` driver.
//!
//! A recording client (the driver's command monitoring) shows what reached the server: a
//! refused filter sends nothing, so the server's own refusal of `$where` (SecantusDB has no
//! JavaScript engine) is never what protects us.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::ClientOptions;
use mongodb::{Client, Database};
use palisade_mongo::{
    Audit, DriverError, ForeignKey, ForeignKeys, Problem, Scope, ScopedCollection, TenantClients,
    TenantError, TenantRouter,
};
use palisade_secrets::{Fetch, SecretError, SecretRef, SecretSource, SecretValue};
use palisade_test::secrets::Counting;
use palisade_test::{Canary, Service, unique_name};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Every command the client sent: (command name, target collection if any, command).
#[derive(Debug, Clone, Default)]
struct Recorder {
    commands: Arc<Mutex<Vec<(String, Document)>>>,
}

impl Recorder {
    /// Commands sent to `collection` (the command's first field names it).
    fn sent_to(&self, collection: &str) -> Vec<(String, Document)> {
        self.commands
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, command)| command.get_str(name).ok() == Some(collection))
            .cloned()
            .collect()
    }
}

async fn recording_client() -> (Client, Recorder) {
    let recorder = Recorder::default();
    let mut options = ClientOptions::parse(Service::Mongodb.url()).await.unwrap();
    let commands = Arc::clone(&recorder.commands);
    options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event {
            commands
                .lock()
                .unwrap()
                .push((started.command_name, started.command));
        }
    }));
    (Client::with_options(options).unwrap(), recorder)
}

async fn fresh_database(test: &str) -> (Database, Recorder) {
    let (client, recorder) = recording_client().await;
    (client.database(&unique_name(test)), recorder)
}

fn notes(database: &Database, owner: &str) -> ScopedCollection<Document> {
    ScopedCollection::new(
        database.collection::<Document>("notes"),
        Scope::new("user_id", owner),
    )
}

fn problem(result: Result<impl std::fmt::Debug, DriverError>) -> (u16, Problem, String) {
    let error = result.unwrap_err();
    let rejected = error
        .rejected()
        .unwrap_or_else(|| panic!("not a refusal: {error}"));
    (
        error.status().as_u16(),
        rejected.problem().clone(),
        rejected.path().to_owned(),
    )
}

#[tokio::test]
async fn refused_input_never_reaches_the_server() {
    let (database, recorder) = fresh_database("mongo-refused").await;
    let notes = notes(&database, "u1");
    notes.insert_one(&doc! {"title": "a"}).await.unwrap();
    let before = recorder.sent_to("notes").len();

    // Sources: OWASP WSTG "Testing for NoSQL Injection" ($where, $ne), PayloadsAllTheThings
    // "NoSQL Injection" ($where sleep, $regex, $function), HackTricks "NoSQL injection".
    let where_filter = doc! {"$where": "sleep(5000) || true"};
    let smuggled = doc! {"$or": [{"title": "a"}, {"title": {"$where": "1"}}]};
    let regex = doc! {"title": {"$regex": "^(a+)+$"}};
    assert_eq!(
        problem(notes.find(where_filter.clone(), None).await).2,
        "filter.$where"
    );
    assert_eq!(
        problem(notes.count(smuggled).await).2,
        "filter.$or[1].title.$where"
    );
    assert_eq!(
        problem(notes.delete_many(regex).await).2,
        "filter.title.$regex"
    );
    assert_eq!(
        problem(
            notes
                .update_many(where_filter, doc! {"$set": {"x": 1}})
                .await
        )
        .2,
        "filter.$where"
    );
    let function =
        doc! {"$match": {"$expr": {"$function": {"body": "f", "args": [], "lang": "js"}}}};
    assert_eq!(problem(notes.aggregate(vec![function]).await).0, 400);
    assert_eq!(
        problem(notes.insert_one(&doc! {"profile": {"$where": "1"}}).await).2,
        "document.profile.$where"
    );
    assert_eq!(
        recorder.sent_to("notes").len(),
        before,
        "a refused call sent a command: {:?}",
        recorder.sent_to("notes")
    );

    // The recorder does see what passes, and it is the scoped filter.
    let found: Vec<Document> = notes
        .find(doc! {"$or": [{"title": "a"}, {"user_id": "u2"}]}, None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let sent = recorder.sent_to("notes");
    let (name, command) = sent.last().unwrap();
    assert_eq!(name, "find");
    assert_eq!(
        command.get_document("filter").unwrap(),
        &doc! {"$and": [{"$or": [{"title": "a"}, {"user_id": "u2"}]}], "user_id": "u1"}
    );
}

#[tokio::test]
async fn crud_stays_within_the_owner_and_stamps_audit_fields() {
    let (database, _) = fresh_database("mongo-crud").await;
    let now = DateTime::from_millis(1_764_000_000_000);
    let ann = notes(&database, "ann").with_audit(Audit::new("ann", now));
    let bob = notes(&database, "bob").with_audit(Audit::new("bob", now));
    ann.insert_many(&[doc! {"title": "a1", "n": 1}, doc! {"title": "a2", "n": 2}])
        .await
        .unwrap();
    bob.insert_one(&doc! {"title": "b1", "n": 1, "created_by": "ann"})
        .await
        .unwrap();

    let stored = bob.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(stored.get_str("user_id").unwrap(), "bob");
    assert_eq!(stored.get_str("created_by").unwrap(), "bob");
    assert_eq!(stored.get_datetime("created_at").unwrap(), &now);

    // Another owner's document is refused at insert, not silently rewritten.
    let (status, refused, path) =
        problem(ann.insert_one(&doc! {"title": "x", "user_id": "bob"}).await);
    assert_eq!(
        (status, refused, path.as_str()),
        (400, Problem::OwnerFieldWritten, "document.user_id")
    );
    let batch = problem(
        ann.insert_many(&[doc! {"a": 1}, doc! {"b": {"c.d": 1}}])
            .await,
    );
    assert_eq!(batch.2, "documents[1].b.c.d");

    assert_eq!(ann.count(doc! {}).await.unwrap(), 2);
    assert_eq!(ann.count(doc! {"n": 1}).await.unwrap(), 1);
    // `$or` with the other owner's id still only reaches the caller's documents.
    assert_eq!(
        ann.count(doc! {"$or": [{"user_id": "bob"}, {"n": {"$gte": 0}}]})
            .await
            .unwrap(),
        2
    );

    let updated = ann
        .update_many(doc! {"n": {"$gte": 1}}, doc! {"$inc": {"n": 10}})
        .await
        .unwrap();
    assert_eq!(updated.modified_count, 2);
    let bobs = bob.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(
        bobs.get_i32("n").unwrap(),
        1,
        "ann's update reached bob's note"
    );
    assert_eq!(
        problem(
            ann.update_one(doc! {}, doc! {"$set": {"user_id": "bob"}})
                .await
        )
        .1,
        Problem::OwnerFieldWritten
    );
    assert_eq!(
        problem(
            ann.update_one(doc! {}, doc! {"$set": {"created_by": "eve"}})
                .await
        )
        .1,
        Problem::AuditFieldWritten
    );
    // A replacement is not an update; with audit fields it would erase `created_*`.
    let replacement = problem(ann.update_one(doc! {}, doc! {"title": "x"}).await);
    assert_eq!(replacement.2, "update");
    assert!(
        ann.replace_one(doc! {}, &doc! {"title": "x"})
            .await
            .is_err()
    );
    let plain_bob = notes(&database, "bob");
    let replaced = plain_bob
        .replace_one(doc! {"title": "b1"}, &doc! {"title": "b2", "n": 1})
        .await
        .unwrap();
    assert_eq!(replaced.modified_count, 1);
    let stored = plain_bob
        .find_one(doc! {"title": "b2"})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.get_str("user_id").unwrap(),
        "bob",
        "the replacement lost its owner"
    );
    assert_eq!(
        problem(
            plain_bob
                .replace_one(doc! {}, &doc! {"user_id": "ann"})
                .await
        )
        .1,
        Problem::OwnerFieldWritten
    );
    let stamped = ann.find_one(doc! {"title": "a1"}).await.unwrap().unwrap();
    assert_eq!(stamped.get_str("updated_by").unwrap(), "ann");

    let pipeline = [doc! {"$group": {"_id": Bson::Null, "total": {"$sum": "$n"}}}];
    let totals: Vec<Document> = bob
        .aggregate(pipeline.to_vec())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[0].get("total").and_then(Bson::as_i32), Some(1));

    assert_eq!(bob.delete_many(doc! {}).await.unwrap().deleted_count, 1);
    assert_eq!(
        ann.count(doc! {}).await.unwrap(),
        2,
        "bob's delete reached ann's notes"
    );
    let everyone = ann
        .unscoped_collection()
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(everyone, 2);
}

#[tokio::test]
async fn references_must_exist_and_belong_to_the_owner() {
    let (database, recorder) = fresh_database("mongo-references").await;
    let projects = database.collection::<Document>("projects");
    let anns_project = ObjectId::new();
    let bobs_project = ObjectId::new();
    projects
        .insert_many([
            doc! {"_id": anns_project, "user_id": "ann"},
            doc! {"_id": bobs_project, "user_id": "bob"},
        ])
        .await
        .unwrap();
    database
        .collection::<Document>("plans")
        .insert_one(doc! {"_id": "pro"})
        .await
        .unwrap();
    let keys = ForeignKeys::new()
        .with(ForeignKey::new("project_id", "projects"))
        .with(ForeignKey::new("plan", "plans").shared());
    let ann = notes(&database, "ann").with_references(keys);

    ann.insert_one(&doc! {"title": "ok", "project_id": anns_project, "plan": "pro"})
        .await
        .unwrap();
    let missing = ObjectId::new();
    for (document, path, collection, id) in [
        (
            doc! {"project_id": missing},
            "document.project_id",
            "projects",
            missing.to_hex(),
        ),
        // Another owner's project exists, but not for ann: the same 422.
        (
            doc! {"project_id": bobs_project},
            "document.project_id",
            "projects",
            bobs_project.to_hex(),
        ),
        (
            doc! {"plan": "enterprise"},
            "document.plan",
            "plans",
            "enterprise".to_owned(),
        ),
    ] {
        let error = ann.insert_one(&document).await.unwrap_err();
        assert_eq!(error.status(), 422, "{document}");
        let rejected = error.rejected().unwrap();
        assert_eq!(rejected.path(), path);
        assert_eq!(
            rejected.problem(),
            &Problem::ReferenceMissing {
                collection: collection.to_owned(),
                id,
            }
        );
    }
    let set_missing = ann
        .update_one(doc! {"title": "ok"}, doc! {"$set": {"project_id": missing}})
        .await
        .unwrap_err();
    assert_eq!(set_missing.status(), 422);
    assert_eq!(
        set_missing.rejected().unwrap().path(),
        "update.$set.project_id"
    );
    assert_eq!(
        recorder
            .sent_to("notes")
            .iter()
            .filter(|(name, _)| name != "find")
            .count(),
        1,
        "only the valid insert may have written"
    );
    assert_eq!(ann.count(doc! {}).await.unwrap(), 1);
}

#[tokio::test]
async fn database_errors_show_no_value() {
    let (database, _) = fresh_database("mongo-errors").await;
    let notes = notes(&database, "ann");
    let canary = Canary::new();
    notes
        .insert_one(&doc! {"_id": canary.value()})
        .await
        .unwrap();
    let duplicate = notes
        .insert_one(&doc! {"_id": canary.value()})
        .await
        .unwrap_err();
    assert_eq!(duplicate.status(), 409, "{duplicate}");
    assert_eq!(
        duplicate.to_string(),
        "the server refused the write (code 11000)"
    );
    canary.assert_not_in_display(&duplicate);
    canary.assert_not_in_debug(&duplicate);
    canary.assert_not_in_error(&duplicate);
}

/// A secret source that hands out each tenant's connection string: the services' SecantusDB,
/// `invalid` for a `broken` tenant, nothing for a `missing` one.
#[derive(Debug, Default)]
struct TenantSecrets {
    invalid: String,
}

impl SecretSource for TenantSecrets {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        let locator = reference.locator();
        if locator.contains("missing") {
            return Fetch::ready(Err(SecretError::NotFound {
                reference: reference.clone(),
            }));
        }
        let uri = if locator.contains("broken") {
            self.invalid.clone()
        } else {
            Service::Mongodb.url()
        };
        Fetch::ready(Ok(SecretValue::from_string(uri)))
    }
}

#[tokio::test]
async fn tenants_are_isolated_and_dedicated_clients_are_cached_with_a_bound() {
    let (client, _) = recording_client().await;
    let prefix = format!("t{}_", std::process::id() % 100_000);
    let shared = TenantClients::shared(TenantRouter::new(&prefix).unwrap(), client);
    let acme = shared
        .collection::<Document>("acme", "orders")
        .await
        .unwrap();
    let globex = shared
        .collection::<Document>("globex", "orders")
        .await
        .unwrap();
    assert_eq!(acme.namespace().db, format!("{prefix}acme"));
    acme.insert_one(doc! {"order": 1}).await.unwrap();
    assert_eq!(globex.count_documents(doc! {}).await.unwrap(), 0);
    assert!(matches!(
        shared.database("../admin").await,
        Err(DriverError::Tenant(TenantError::OrgIdInvalid))
    ));

    let canary = Canary::new();
    let secrets = Arc::new(Counting::new(TenantSecrets {
        invalid: format!("mongodb://admin:{}@@bad host:99999/", canary.value()),
    }));
    let router = TenantRouter::new(&prefix)
        .unwrap()
        .with_connection_template("vault:secret/tenants/{org}#uri")
        .unwrap();
    let dedicated =
        TenantClients::dedicated(router, Arc::clone(&secrets) as Arc<dyn SecretSource>, 2).unwrap();
    let reads = || secrets.calls();
    let orders = dedicated
        .collection::<Document>("acme", "orders")
        .await
        .unwrap();
    assert_eq!(orders.count_documents(doc! {}).await.unwrap(), 1);
    dedicated.database("acme").await.unwrap();
    assert_eq!(reads(), 1, "a cached tenant read its secret again");
    dedicated.database("globex").await.unwrap();
    dedicated.database("initech").await.unwrap();
    assert_eq!(reads(), 3);
    assert!(
        dedicated.cached().await <= 2,
        "the cache grew past its bound"
    );
    dedicated.database("acme").await.unwrap();
    let before = reads();
    dedicated.forget("acme").await;
    dedicated.database("acme").await.unwrap();
    assert_eq!(
        reads(),
        before + 1,
        "a forgotten tenant's secret was not read again"
    );

    let broken = dedicated.database("broken").await.unwrap_err();
    assert!(
        matches!(broken, DriverError::ConnectionStringInvalid),
        "{broken:?}"
    );
    assert_eq!(broken.status(), 500);
    canary.assert_not_in_display(&broken);
    canary.assert_not_in_debug(&broken);
    let missing = dedicated.database("missing").await.unwrap_err();
    assert!(matches!(missing, DriverError::Secret(_)), "{missing:?}");
    assert!(matches!(
        TenantClients::dedicated(TenantRouter::new("p_").unwrap(), secrets, 2),
        Err(DriverError::Tenant(TenantError::TemplateInvalid))
    ));
}

/// A hundred concurrent first requests for one organization read its connection string
/// once and share one client; with no time to live, every request reads it again (a rotated
/// string is picked up without `forget`). Clients connect lazily: no server is needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_open_one_client_and_expiry_rereads() {
    let secrets = Arc::new(Counting::new(TenantSecrets {
        invalid: String::from("mongodb://@@"),
    }));
    let router = || {
        TenantRouter::new("p_")
            .unwrap()
            .with_connection_template("vault:secret/tenants/{org}#uri")
            .unwrap()
    };
    let tenants = Arc::new(
        TenantClients::dedicated(router(), Arc::clone(&secrets) as Arc<dyn SecretSource>, 8)
            .unwrap(),
    );
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let tenants = Arc::clone(&tenants);
            tokio::spawn(async move {
                tenants
                    .database("acme")
                    .await
                    .map(|db| db.name().to_owned())
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "p_acme");
    }
    assert_eq!(
        secrets.calls(),
        1,
        "concurrent first requests each read the secret"
    );
    assert_eq!(tenants.cached().await, 1);
    let expiring = TenantClients::dedicated_for(
        router(),
        Arc::clone(&secrets) as Arc<dyn SecretSource>,
        8,
        std::time::Duration::ZERO,
    )
    .unwrap();
    let before = secrets.calls();
    expiring.database("acme").await.unwrap();
    expiring.database("acme").await.unwrap();
    assert_eq!(secrets.calls(), before + 2, "an expired client was served");
}

const OWNERS: [&str; 3] = ["u1", "u2", "u3"];

/// Documents of three owners with numbers, strings, arrays and arrays of sub-documents.
fn dataset() -> Vec<Document> {
    let mut documents = Vec::new();
    for i in 0..60_i32 {
        let mut document = doc! {
            "user_id": OWNERS[usize::try_from(i).unwrap() % 3],
            "n": i % 7,
            "s": (["a", "b", "c"][usize::try_from(i).unwrap() % 3 * (usize::try_from(i / 3).unwrap() % 2)]),
            "tags": (0..(i % 4)).map(|t| (t + i) % 5).collect::<Vec<_>>(),
            "items": (0..(i % 3)).map(|k| doc! {"k": (k + i) % 4, "v": (k * i) % 4, "xs": (0..k).map(|x| (x + i) % 5).collect::<Vec<_>>()}).collect::<Vec<_>>(),
        };
        if i % 5 == 0 {
            document.insert("opt", i % 2 == 0);
        }
        documents.push(document);
    }
    documents
}

/// A condition on one field, built from the allowed operators only.
fn condition() -> impl Strategy<Value = Document> {
    let int = 0..8_i32;
    prop_oneof![
        int.clone().prop_map(|n| doc! {"n": n}),
        (
            prop::sample::select(vec!["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]),
            int.clone()
        )
            .prop_map(|(op, n)| doc! {"n": {op: n}}),
        prop::collection::vec(int.clone(), 0..4).prop_map(|ns| doc! {"n": {"$in": ns}}),
        prop::collection::vec(int.clone(), 0..4).prop_map(|ns| doc! {"n": {"$nin": ns}}),
        int.clone().prop_map(|n| doc! {"n": {"$not": {"$gt": n}}}),
        prop::sample::select(vec!["a", "b", "c", "z"]).prop_map(|s| doc! {"s": s}),
        int.clone().prop_map(|n| doc! {"tags": n}),
        prop::collection::vec(0..5_i32, 1..3).prop_map(|ns| doc! {"tags": {"$all": ns}}),
        (0..4_i32).prop_map(|k| doc! {"tags": {"$size": k}}),
        (0..5_i32, 0..5_i32)
            .prop_map(|(a, b)| doc! {"tags": {"$elemMatch": {"$gte": a, "$lt": b}}}),
        (0..4_i32, 0..4_i32)
            .prop_map(|(k, v)| doc! {"items": {"$elemMatch": {"k": k, "v": {"$gte": v}}}}),
        // SecantusDB refuses logical operators directly inside `$elemMatch` ("unknown
        // operator: $or"), so the nesting here is `$elemMatch` in `$elemMatch` and `$not`.
        (0..4_i32, 0..5_i32).prop_map(|(k, x)| {
            doc! {"items": {"$elemMatch": {"k": {"$not": {"$gt": k}}, "xs": {"$elemMatch": {"$gte": x}}}}}
        }),
        any::<bool>().prop_map(|e| doc! {"opt": {"$exists": e}}),
        // Attempts to reach other owners' documents.
        prop::sample::select(OWNERS.to_vec()).prop_map(|u| doc! {"user_id": u}),
        prop::sample::select(OWNERS.to_vec()).prop_map(|u| doc! {"user_id": {"$ne": u}}),
        Just(doc! {"user_id": {"$exists": true}}),
    ]
}

fn filter() -> impl Strategy<Value = Document> {
    condition().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|f| doc! {"$or": f}),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|f| doc! {"$and": f}),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|f| doc! {"$nor": f}),
            (inner.clone(), inner).prop_map(|(mut a, b)| {
                for (key, value) in b {
                    a.entry(key).or_insert(value);
                }
                a
            }),
        ]
    })
}

fn ids(documents: &[Document]) -> BTreeSet<String> {
    documents
        .iter()
        .map(|d| d.get_object_id("_id").unwrap().to_hex())
        .collect()
}

#[test]
fn scoped_find_returns_exactly_the_owners_matching_documents() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (database, collection) = runtime.block_on(async {
        let (database, _) = fresh_database("mongo-property").await;
        let collection = database.collection::<Document>("notes");
        collection.insert_many(dataset()).await.unwrap();
        (database, collection)
    });
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(96)
    });
    // Cases where the owner got documents, and where the unscoped filter also matched other
    // owners' documents that the scope had to keep out.
    let (returned, kept_out) = (AtomicUsize::new(0), AtomicUsize::new(0));
    runner
        .run(
            &(filter(), prop::sample::select(OWNERS.to_vec())),
            |(filter, owner)| {
                let scoped = notes(&database, owner);
                let (mine, everyone) = runtime.block_on(async {
                    let mine: Vec<Document> = scoped
                        .find(filter.clone(), None)
                        .await
                        .unwrap()
                        .try_collect()
                        .await
                        .unwrap();
                    let everyone: Vec<Document> = collection
                        .find(filter.clone())
                        .await
                        .unwrap()
                        .try_collect()
                        .await
                        .unwrap();
                    (mine, everyone)
                });
                prop_assert!(
                    mine.iter().all(|d| d.get_str("user_id") == Ok(owner)),
                    "{filter} returned another owner's document to {owner}"
                );
                if !mine.is_empty() {
                    returned.fetch_add(1, Ordering::Relaxed);
                }
                if everyone.iter().any(|d| d.get_str("user_id") != Ok(owner)) {
                    kept_out.fetch_add(1, Ordering::Relaxed);
                }
                let expected: Vec<Document> = everyone
                    .into_iter()
                    .filter(|d| d.get_str("user_id") == Ok(owner))
                    .collect();
                prop_assert_eq!(ids(&mine), ids(&expected), "{} for {}", filter, owner);
                Ok(())
            },
        )
        .unwrap();
    let (returned, kept_out) = (returned.into_inner(), kept_out.into_inner());
    assert!(
        returned >= 20 && kept_out >= 20,
        "the random filters barely exercised the scope: {returned} cases returned documents, {kept_out} matched other owners'"
    );
    // The dataset answers the simple filters.
    let some = runtime.block_on(async {
        notes(&database, "u1")
            .count(doc! {"n": {"$gte": 0}})
            .await
            .unwrap()
    });
    assert_eq!(some, 20);
}

/// An update the guard lets through but the server refuses as malformed (a dotted path into
/// a value that is not a document) is the client's 400, not a 500, and nothing changes.
#[tokio::test]
async fn a_write_the_server_refuses_as_malformed_is_a_client_error() {
    let (database, _) = fresh_database("malformed").await;
    let notes = notes(&database, "u-1");
    let id = notes
        .insert_one(&doc! {"title": "plain text"})
        .await
        .unwrap()
        .inserted_id;
    let error = notes
        .update_one(doc! {"_id": id.clone()}, doc! {"$set": {"title.x": 1}})
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400, "{error:?}");
    assert_eq!(
        error.problem_details().kind(),
        "mongo/invalid-request",
        "{error:?}"
    );
    let stored = notes.find_one(doc! {"_id": id}).await.unwrap().unwrap();
    assert_eq!(stored.get_str("title").unwrap(), "plain text");
}
