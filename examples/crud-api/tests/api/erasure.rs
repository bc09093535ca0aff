//! The rights of access and erasure across MongoDB and PostgreSQL, checked with raw clients.

use palisade_test::unique_name;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::common::{
    call, claims, create, new_user, raw_mongo, raw_postgres, rows_in_postgres, sign_up, start,
};

#[tokio::test]
async fn export_and_erasure_cover_every_record_of_the_user_and_no_other() {
    let started = start().await;
    let base = &started.base;
    let http = Client::new();
    let ann_email = format!("{}@example.com", unique_name("ann"));
    let ann = sign_up(&http, base, &ann_email, "ann's long password").await;
    let bob = new_user(&http, base, "bob").await;
    let client = create(&http, base, &ann, "clients", json!({"name": "Acme"})).await;
    create(&http, base, &ann, "clients", json!({"name": "Beta"})).await;
    let project = create(&http, base, &ann, "projects", json!({"name": "Site"})).await;
    let document = create(
        &http,
        base,
        &ann,
        "documents",
        json!({"title": "Plan", "project_id": project, "client_id": client}),
    )
    .await;
    let bob_client = create(&http, base, &bob, "clients", json!({"name": "Bob's"})).await;
    let bob_project = create(&http, base, &bob, "projects", json!({"name": "Bob's"})).await;
    create(
        &http,
        base,
        &bob,
        "documents",
        json!({"title": "Bob's", "project_id": bob_project, "client_id": bob_client}),
    )
    .await;

    let (status, export) = call(http.get(format!("{base}/me/export")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["records"]["clients"].as_array().unwrap().len(), 2);
    assert_eq!(export["records"]["projects"].as_array().unwrap().len(), 1);
    assert_eq!(export["records"]["documents"][0]["title"], "Plan");
    assert_eq!(export["sql"]["documents"][0]["id"], document.as_str());
    assert_eq!(
        export["sql"]["documents"][0]["project_id"],
        project.as_str()
    );
    assert_eq!(
        export["sql"]["documents"].as_array().unwrap().len(),
        1,
        "{export}"
    );
    assert_eq!(export["account"]["email"], ann_email.as_str());
    assert!(export["account"].get("password_hash").is_none(), "{export}");
    let ann_claims = claims(&ann);
    let (ann_id, ann_org) = (
        ann_claims["user_id"].as_str().unwrap().to_owned(),
        ann_claims["organization_id"].as_str().unwrap().to_owned(),
    );
    let bob_org = claims(&bob)["organization_id"].as_str().unwrap().to_owned();
    assert_ne!(ann_org, bob_org);

    let (status, _) = call(http.delete(format!("{base}/me")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The account is gone: its token is no longer accepted, and signing in fails.
    let (status, _) = call(http.get(format!("{base}/me/export")).bearer_auth(&ann)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        http.post(format!("{base}/signin"))
            .json(&json!({"email": ann_email, "password": "ann's long password"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // As raw clients see the databases: nothing of Ann's in MongoDB (her organization's
    // database is dropped, her account deleted) or PostgreSQL; Bob's records whole.
    let mongo = raw_mongo().await;
    let names = mongo.list_database_names().await.unwrap();
    assert!(
        !names.contains(&started.tenant_database(&ann_org)),
        "{names:?}"
    );
    assert!(
        names.contains(&started.tenant_database(&bob_org)),
        "{names:?}"
    );
    let accounts = mongo.database(&started.mongo_db);
    for collection in accounts.list_collection_names().await.unwrap() {
        let all: Vec<bson::Document> = futures_util::TryStreamExt::try_collect(
            accounts
                .collection::<bson::Document>(&collection)
                .find(bson::doc! {})
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        for record in all {
            let text = record.to_string();
            assert!(!text.contains(&ann_email), "{collection}: {text}");
            assert!(
                !text.contains(&ann_id) && !text.contains(&ann_org),
                "{collection}: {text}"
            );
        }
    }
    let bobs = mongo.database(&started.tenant_database(&bob_org));
    for collection in ["clients", "projects", "documents"] {
        let count = bobs
            .collection::<bson::Document>(collection)
            .count_documents(bson::doc! {})
            .await
            .unwrap();
        assert_eq!(count, 1, "{collection}");
    }
    let pg = raw_postgres().await;
    let rows = sqlx::query("SELECT user_id FROM documents WHERE user_id = $1 OR id = $2")
        .bind(&ann_id)
        .bind(&document)
        .fetch_all(&pg)
        .await
        .unwrap();
    assert!(rows.is_empty(), "{} rows of Ann's left", rows.len());
    let bob_id = claims(&bob)["user_id"].as_str().unwrap().to_owned();
    assert_eq!(rows_in_postgres(&bob_id).await, 1);
}
