//! Each document's index row in PostgreSQL follows the document in MongoDB. A write that
//! fails half way (a database gone, a commit whose outcome is unknown) hands the document to
//! a background repair that reads MongoDB and makes the row agree, retrying while either
//! database is down, so a fault leaves no row without its document and no document without
//! its row once the databases are back.

use std::time::Duration;

use bson::{Document, doc, oid::ObjectId};

use super::user::User;
use crate::error::ApiError;
use crate::sql;
use crate::state::AppState;

/// How often, at most, a repair is tried (about two minutes of backoff in all).
const ATTEMPTS: u32 = 30;

/// A reference field of a record as the index stores it (hex), when it is one.
fn reference(record: &Document, field: &str) -> Option<String> {
    record.get_object_id(field).ok().map(|id| id.to_hex())
}

/// Writes the row of `record` (a document as stored or as just inserted).
pub(crate) async fn write_row(
    state: &AppState,
    user: &User,
    id: ObjectId,
    record: &Document,
) -> Result<(), ApiError> {
    let (project, client) = (
        reference(record, "project_id"),
        reference(record, "client_id"),
    );
    let row = sql::Document {
        id: &id.to_hex(),
        project_id: project.as_deref(),
        client_id: client.as_deref(),
    };
    state
        .sql()
        .upsert_document(user.id(), user.organization(), &row)
        .await?;
    Ok(())
}

/// One repair: the row as MongoDB has the document, or no row when it has none.
async fn repair_once(state: &AppState, user: &User, id: ObjectId) -> Result<(), ApiError> {
    let documents = super::entities::collection(state, super::entities::INDEXED, user)?;
    match documents.find_one(doc! {"_id": id}).await? {
        Some(record) => write_row(state, user, id, &record).await,
        None => {
            state
                .sql()
                .unindex_document(user.id(), &id.to_hex())
                .await?
                .commit()
                .await
                .map_err(|e| ApiError::Sql(e.into()))?;
            Ok(())
        }
    }
}

/// Repairs document `id`'s row in the background until it agrees with MongoDB.
pub(crate) fn repair(state: &AppState, user: &User, id: ObjectId) {
    let (state, user) = (state.clone(), user.clone());
    palisade_web::context::spawn(async move {
        let mut wait = Duration::from_millis(100);
        for _ in 0..ATTEMPTS {
            if repair_once(&state, &user, id).await.is_ok() {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        tracing::error!(target: "crud_api", "a document's index row could not be repaired");
    });
}
