//! R-AUD-1 against SecantusDB (`cargo xtask services up`): every operation a
//! `ScopedCollection` sends yields one start and one end event with the filter's shape, a
//! refusal yields `GuardRefused` and sends nothing, and no filter value reaches an event.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::{Arc, Mutex};

use bson::{Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::Client;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::ClientOptions;
use palisade_audit::{Audit, QueryOutcome, Recorder, SecurityKind};
use palisade_mongo::{FilterPolicy, ForeignKey, ForeignKeys, Scope, ScopedCollection};
use palisade_test::{Canary, Service, unique_name};

/// `operation collection outcome` per operation (the recorder checks that each has one
/// start then one end).
fn operations(recorder: &Recorder, audit: &Audit) -> Vec<String> {
    audit.flush();
    let ended = recorder.take_ended().unwrap();
    ended
        .iter()
        .map(|end| {
            let outcome = match end.outcome().unwrap() {
                QueryOutcome::Succeeded { returned_rows } => format!("ok {returned_rows:?}"),
                other => format!("{other:?}"),
            };
            format!(
                "{} {} {outcome}",
                end.info().operation(),
                end.info().collection().unwrap_or("-")
            )
        })
        .collect()
}

async fn client(sent: Arc<Mutex<usize>>) -> Client {
    let mut options = ClientOptions::parse(Service::Mongodb.url()).await.unwrap();
    options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
        if matches!(event, CommandEvent::Started(_)) {
            *sent.lock().unwrap() += 1;
        }
    }));
    Client::with_options(options).unwrap()
}

#[tokio::test]
async fn every_operation_yields_its_events_and_refusals_send_nothing() {
    let sent = Arc::new(Mutex::new(0));
    let client = client(Arc::clone(&sent)).await;
    let database = client.database(&unique_name("audit").replace('-', "_"));
    let recorder = Recorder::new();
    let audit = Audit::builder().sink(recorder.clone()).build();
    let projects = ScopedCollection::new(
        database.collection::<Document>("projects"),
        Scope::new("user_id", "u-1"),
    )
    .with_events(audit.clone());
    let notes = ScopedCollection::new(
        database.collection::<Document>("notes"),
        Scope::new("user_id", "u-1").with_policy(FilterPolicy::default().scalar_field("title")),
    )
    .with_references(ForeignKeys::new().with(ForeignKey::new("project_id", "projects")))
    .with_events(audit.clone());

    let project = projects
        .insert_one(&doc! {"name": "p"})
        .await
        .unwrap()
        .inserted_id;
    notes
        .insert_one(&doc! {"title": "a", "project_id": project.clone()})
        .await
        .unwrap();
    notes
        .insert_many(&[doc! {"title": "b"}, doc! {"title": "c"}])
        .await
        .unwrap();
    let all: Vec<Document> = notes
        .find(doc! {}, None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    notes.find_one(doc! {"title": "b"}).await.unwrap().unwrap();
    assert_eq!(notes.count(doc! {"title": "c"}).await.unwrap(), 1);
    notes
        .update_one(doc! {"title": "a"}, doc! {"$set": {"done": true}})
        .await
        .unwrap();
    notes
        .update_many(doc! {}, doc! {"$set": {"seen": true}})
        .await
        .unwrap();
    notes
        .replace_one(doc! {"title": "c"}, &doc! {"title": "c2"})
        .await
        .unwrap();
    notes
        .aggregate(vec![doc! {"$match": {"title": "a"}}])
        .await
        .unwrap();
    notes.delete_one(doc! {"title": "b"}).await.unwrap();
    notes.delete_many(doc! {}).await.unwrap();
    let sent_operations = operations(&recorder, &audit);
    assert_eq!(
        sent_operations,
        [
            "insert projects ok Some(1)",
            "find projects ok Some(1)",
            "insert notes ok Some(1)",
            "insert notes ok Some(2)",
            "find notes ok None",
            "find notes ok Some(1)",
            "aggregate notes ok Some(1)",
            "update notes ok Some(1)",
            "update notes ok Some(3)",
            "update notes ok Some(1)",
            "aggregate notes ok None",
            "delete notes ok Some(1)",
            "delete notes ok Some(2)",
        ]
    );

    // Refusals: an operator outside the allow-list, a field outside the policy, a reference
    // to a project that does not exist (its lookup is sent, the insert is not).
    let before = *sent.lock().unwrap();
    assert!(
        notes
            .find(doc! {"$where": "sleep(100)"}, None)
            .await
            .is_err()
    );
    assert!(
        notes
            .find(doc! {"title": {"$ne": null}}, None)
            .await
            .is_err()
    );
    assert!(
        notes
            .update_many(doc! {}, doc! {"$set": {"user_id": "u-2"}})
            .await
            .is_err()
    );
    assert_eq!(
        *sent.lock().unwrap(),
        before,
        "a refused operation sent a command"
    );
    let missing = notes
        .insert_one(&doc! {"title": "x", "project_id": bson::oid::ObjectId::new()})
        .await;
    assert!(missing.is_err());
    audit.flush();
    let security = recorder.take_security();
    assert_eq!(security.len(), 4, "{security:?}");
    assert!(
        security
            .iter()
            .all(|e| e.kind() == SecurityKind::GuardRefused && e.source() == "palisade-mongo")
    );
    assert_eq!(operations(&recorder, &audit), ["find projects ok Some(0)"]);
}

#[tokio::test]
async fn filter_values_reach_no_event_only_their_shape() {
    let client = client(Arc::new(Mutex::new(0))).await;
    let database = client.database(&unique_name("audit").replace('-', "_"));
    let recorder = Recorder::new();
    let capture = palisade_test::LogCapture::start();
    let log_dir = std::env::temp_dir().join(unique_name("mongo-audit-log"));
    let key = palisade_audit::ChainKey::new(&palisade_secrets::SecretValue::from_string(
        "a chain key for this test, long enough".into(),
    ))
    .unwrap();
    let log = palisade_audit::ChainedLog::open(&log_dir, key, Default::default()).unwrap();
    let audit = Audit::builder()
        .sink(palisade_audit::TracingSink::new())
        .sink(log)
        .sink(recorder.clone())
        .build();
    let canary = Canary::new();
    let notes = ScopedCollection::new(
        database.collection::<Document>("notes"),
        Scope::new("user_id", canary.value())
            .with_policy(FilterPolicy::default().scalar_field("title")),
    )
    .with_events(audit.clone());
    notes
        .insert_one(&doc! {"title": canary.value()})
        .await
        .unwrap();
    notes
        .find(
            doc! {"title": canary.value(), "tags": {"$in": [canary.value(), "other"]}},
            None,
        )
        .await
        .unwrap();
    notes
        .update_many(
            doc! {"title": canary.value()},
            doc! {"$set": {"title": canary.value()}},
        )
        .await
        .unwrap();
    audit.flush();
    let queries = recorder.take_queries();
    canary.assert_absent("query events", &format!("{queries:?}"));
    canary.assert_absent("log lines", &capture.text());
    assert!(capture.text().contains("db.query.summary=\"find notes\""));
    drop(audit);
    for file in palisade_audit::log_files(&log_dir, "audit").unwrap() {
        canary.assert_absent("the audit file", &std::fs::read_to_string(file).unwrap());
    }
    std::fs::remove_dir_all(&log_dir).unwrap();
    let find = queries
        .iter()
        .find(|e| e.info().operation() == "find")
        .unwrap();
    let text = find.info().text().unwrap();
    assert!(text.contains(r#""tags": {"$in": [?]}"#), "{text}");
    assert!(text.contains(r#""user_id": ?"#), "{text}");
}

#[tokio::test]
async fn commands_sent_without_a_scoped_collection_are_reported_without_values() {
    let recorder = Recorder::new();
    let audit = Audit::builder().sink(recorder.clone()).build();
    let canary = Canary::new();
    let mut options = ClientOptions::parse(Service::Mongodb.url()).await.unwrap();
    options.command_event_handler = Some(palisade_mongo::command_events(audit.clone()));
    let client = Client::with_options(options).unwrap();
    let notes = client
        .database(&unique_name("audit").replace('-', "_"))
        .collection::<Document>("notes");
    notes
        .insert_one(doc! {"title": canary.value(), "user_id": "u-1"})
        .await
        .unwrap();
    let found: Vec<Document> = notes
        .find(doc! {"title": canary.value()})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    notes.delete_many(doc! {"user_id": "u-1"}).await.unwrap();
    audit.flush();
    let queries = recorder.take_queries();
    canary.assert_absent("command events", &format!("{queries:?}"));
    let ends: Vec<String> = queries
        .iter()
        .filter_map(|e| {
            let outcome = e.outcome()?;
            Some(format!(
                "{} {} {:?}",
                e.info().operation(),
                e.info().collection().unwrap_or("-"),
                outcome.returned_rows()
            ))
        })
        .collect();
    assert_eq!(
        ends,
        [
            "insert notes Some(1)",
            "find notes Some(1)",
            "delete notes Some(1)"
        ]
    );
    let find = queries
        .iter()
        .find(|e| e.info().operation() == "find")
        .unwrap();
    assert_eq!(
        find.info().text(),
        Some(r#"{"filter": {"title": ?}, "find": ?}"#)
    );
    assert!(find.info().target().server_port().is_some());
}
