//! Nothing half-written: each load user's documents in MongoDB against its index rows in
//! PostgreSQL, read with raw clients; every difference is printed with the ids involved.

use palisade_test::Service;
use sqlx::Row as _;

use crate::seed::User;

/// How many documents the users hold, and how many users' two counts differ.
pub(crate) async fn check(users: &[User], accounts: &str) -> (u64, u32) {
    let mongo = mongodb::Client::with_uri_str(&Service::Mongodb.url())
        .await
        .unwrap();
    let pg = sqlx::PgPool::connect(&Service::Postgres.url_as("postgres", None, "crud_api", ""))
        .await
        .unwrap();
    let mut mismatched = 0;
    let mut documents = 0;
    for user in users {
        let in_mongo = mongo
            .database(&format!("{accounts}_org_{}", user.organization))
            .collection::<bson::Document>("documents")
            .count_documents(bson::doc! {"user_id": &user.id})
            .await
            .unwrap();
        let in_sql: i64 = sqlx::query("SELECT count(*) AS n FROM documents WHERE user_id = $1")
            .bind(&user.id)
            .fetch_one(&pg)
            .await
            .unwrap()
            .get("n");
        documents += in_mongo;
        if i64::try_from(in_mongo).unwrap() != in_sql {
            eprintln!(
                "load: user {}: {in_mongo} documents in MongoDB, {in_sql} rows in PostgreSQL",
                user.id
            );
            let ids: Vec<bson::Document> = futures_util::TryStreamExt::try_collect(
                mongo
                    .database(&format!("{accounts}_org_{}", user.organization))
                    .collection::<bson::Document>("documents")
                    .find(bson::doc! {"user_id": &user.id})
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
            let stamps: Vec<(String, String)> = ids
                .iter()
                .map(|d| {
                    (
                        d.get_object_id("_id").unwrap().to_hex(),
                        d.get_datetime("created_at")
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let ids: Vec<String> = stamps.iter().map(|(id, _)| id.clone()).collect();
            let rows = sqlx::query("SELECT id, to_char(created_at, 'HH24:MI:SS.MS') AS at FROM documents WHERE user_id = $1")
                .bind(&user.id)
                .fetch_all(&pg)
                .await
                .unwrap();
            let row_ids: Vec<String> = rows.iter().map(|row| row.get("id")).collect();
            for row in &rows {
                let id: String = row.get("id");
                if !ids.contains(&id) {
                    eprintln!(
                        "load:   row {id} at {} has no document",
                        row.get::<String, _>("at")
                    );
                }
            }
            for (id, at) in &stamps {
                if !row_ids.contains(id) {
                    eprintln!("load:   document {id} created {at} has no row");
                }
            }
            mismatched += 1;
        }
    }
    (documents, mismatched)
}
