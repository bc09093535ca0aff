//! CRUD for `clients`, `projects` and `documents`, each record owned by the signed-in user
//! and kept in the database of the user's organization: every operation goes through
//! `ScopedCollection` (the owner pinned on every filter, client filters through the guard
//! with `*_id` fields typed as ObjectIds and `*_uuid` as UUIDs, owner and audit fields out of
//! the client's reach, audit stamps on every write, `project_id` and `client_id` checked to
//! name the user's own records). Documents also keep an index row in PostgreSQL for the
//! reports: written after the document and undone with it when either side fails.

use axum::Json;
use axum::extract::State;
use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use http::StatusCode;
use mongodb::options::FindOptions;
use palisade_mongo::{Audit, Scope, ScopedCollection, document_from_json};
use serde::Deserialize;
use serde_json::Value;

use super::index;
use super::user::User;
use crate::error::ApiError;
use crate::extract::{Body, Params, Segments};
use crate::fields::Fields;
use crate::state::AppState;

/// The collections the API serves.
pub(crate) const ENTITIES: [&str; 3] = ["clients", "projects", "documents"];

/// The field that names each record's owner.
pub(crate) const OWNER_FIELD: &str = "user_id";

/// The collection whose records have an index row in PostgreSQL.
pub(crate) const INDEXED: &str = "documents";

/// The most records one list returns.
const MAX_LIMIT: i64 = 100;

/// The most records a list may skip (deeper pages are a filter's job).
const MAX_SKIP: u64 = 1_000_000;

/// `?filters=<json>&skip=&limit=`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    filters: Option<String>,
    skip: Option<u64>,
    limit: Option<i64>,
}

/// The signed-in user's view of `entity` in the organization's database (404 for any
/// other name).
pub(crate) fn collection(
    state: &AppState,
    entity: &str,
    user: &User,
) -> Result<ScopedCollection<Document>, ApiError> {
    let collection = state
        .entity_collection(user.organization(), entity)?
        .ok_or_else(ApiError::not_found)?;
    let scope = Scope::new(OWNER_FIELD, user.id()).with_policy(state.filters().clone());
    let records = ScopedCollection::new(collection, scope)
        .with_audit(Audit::new(user.id(), DateTime::now()))
        .with_references(state.references().clone())
        .with_events(state.audit().clone());
    Ok(match state.fields().of(entity) {
        // The clients' contact details are encrypted under the user's own data key.
        Some(fields) => records.with_encryption(fields, Fields::scope(user.id())?),
        None => records,
    })
}

/// A record id from the path: a malformed one is no record (404), never a 500.
fn record_id(id: &str) -> Result<ObjectId, ApiError> {
    ObjectId::parse_str(id).map_err(|_| ApiError::not_found())
}

/// A record as JSON, its ObjectIds as hex strings.
fn to_json(record: Document) -> Value {
    Bson::Document(record).into_relaxed_extjson()
}

/// A record from a JSON body, its typed fields converted (`*_id` strings to ObjectIds,
/// `*_uuid` strings to UUIDs) by the same policy that types filters.
fn body_document(state: &AppState, body: Value) -> Result<Document, ApiError> {
    let Ok(Bson::Document(mut document)) = Bson::try_from(body) else {
        return Err(ApiError::bad_request(
            "crud/body-invalid",
            "the body is not a JSON object",
        ));
    };
    // Ids are the server's to choose: a chosen one could squat on another user's next id.
    if document.contains_key("_id") {
        return Err(ApiError::bad_request(
            "crud/id-chosen",
            "the server chooses record ids: leave _id out",
        ));
    }
    state
        .filters()
        .type_record(&mut document)
        .map_err(|r| ApiError::Mongo(r.into()))?;
    Ok(document)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Segments(entity): Segments<String>,
    Params(query): Params<ListQuery>,
    user: User,
) -> Result<Json<Value>, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let filter = match query.filters.as_deref() {
        None | Some("") => Document::new(),
        Some(text) => {
            let json: Value = serde_json::from_str(text).map_err(|_| {
                ApiError::bad_request("crud/filters-invalid", "filters is not JSON")
            })?;
            document_from_json(json).map_err(|r| ApiError::Mongo(r.into()))?
        }
    };
    let limit = query.limit.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "crud/limit-invalid",
            "limit is between 1 and 100",
        ));
    }
    if query.skip.is_some_and(|skip| skip > MAX_SKIP) {
        return Err(ApiError::bad_request(
            "crud/skip-invalid",
            "skip is at most 1000000",
        ));
    }
    let options = FindOptions::builder()
        .skip(query.skip)
        .limit(limit)
        .sort(doc! {"_id": 1})
        .build();
    let found: Vec<Document> = records.find_decrypted(filter, options).await?;
    Ok(Json(Value::Array(found.into_iter().map(to_json).collect())))
}

/// Runs to completion in a task of its own: a client that disconnects, or the request
/// deadline, cannot stop it between its MongoDB and PostgreSQL writes.
pub(crate) async fn create(
    State(state): State<AppState>,
    Segments(entity): Segments<String>,
    user: User,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    palisade_web::context::spawn(create_whole(state, entity, user, body))
        .await
        .map_err(|_| ApiError::internal())?
}

async fn create_whole(
    state: AppState,
    entity: String,
    user: User,
    body: Value,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let records = collection(&state, &entity, &user)?;
    let record = body_document(&state, body)?;
    let inserted = records.insert_one(&record).await?;
    let id = inserted
        .inserted_id
        .as_object_id()
        .ok_or_else(ApiError::internal)?;
    if entity == INDEXED
        && let Err(error) = index::write_row(&state, &user, id, &record).await
    {
        // No document without its index row: the document goes, and a repair settles
        // whatever either side holds once the databases answer (a commit whose outcome is
        // unknown, a delete that failed too).
        let _ = records.delete_one(doc! {"_id": id}).await;
        index::repair(&state, &user, id);
        return Err(error);
    }
    // An erasure that began while this write was under way revoked the user's tokens: the
    // record goes again, so none outlives the account.
    if state.generations().read(user.id()).await? != user.claims().generation {
        let _ = records.delete_one(doc! {"_id": id}).await;
        if entity == INDEXED {
            index::repair(&state, &user, id);
        }
        return Err(ApiError::unauthorized());
    }
    // Gone already: an erasure removed it.
    let stored = records
        .find_one_decrypted(doc! {"_id": id})
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, Json(to_json(stored))))
}

pub(crate) async fn read(
    State(state): State<AppState>,
    Segments((entity, id)): Segments<(String, String)>,
    user: User,
) -> Result<Json<Value>, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let record = records
        .find_one_decrypted(doc! {"_id": record_id(&id)?})
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(to_json(record)))
}

/// Runs to completion in a task of its own: a client that disconnects, or the request
/// deadline, cannot stop it between its MongoDB and PostgreSQL writes.
pub(crate) async fn update(
    State(state): State<AppState>,
    Segments((entity, id)): Segments<(String, String)>,
    user: User,
    Body(body): Body<Value>,
) -> Result<Json<Value>, ApiError> {
    palisade_web::context::spawn(update_whole(state, entity, id, user, body))
        .await
        .map_err(|_| ApiError::internal())?
}

async fn update_whole(
    state: AppState,
    entity: String,
    id: String,
    user: User,
    body: Value,
) -> Result<Json<Value>, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let id = record_id(&id)?;
    let changes = body_document(&state, body)?;
    let before = records
        .find_one_decrypted(doc! {"_id": id})
        .await?
        .ok_or_else(ApiError::not_found)?;
    let result = records
        .update_one(doc! {"_id": id}, doc! {"$set": changes})
        .await?;
    if result.matched_count == 0 {
        return Err(ApiError::not_found());
    }
    let record = records
        .find_one_decrypted(doc! {"_id": id})
        .await?
        .ok_or_else(ApiError::not_found)?;
    let moved = ["project_id", "client_id"]
        .iter()
        .any(|field| before.get(field) != record.get(field));
    if entity == INDEXED
        && moved
        && let Err(error) = index::write_row(&state, &user, id, &record).await
    {
        // The document changed: its row follows, now or by the repair.
        index::repair(&state, &user, id);
        return Err(error);
    }
    Ok(Json(to_json(record)))
}

/// Runs to completion in a task of its own: a client that disconnects, or the request
/// deadline, cannot stop it between its MongoDB and PostgreSQL writes.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Segments((entity, id)): Segments<(String, String)>,
    user: User,
) -> Result<StatusCode, ApiError> {
    palisade_web::context::spawn(delete_whole(state, entity, id, user))
        .await
        .map_err(|_| ApiError::internal())?
}

async fn delete_whole(
    state: AppState,
    entity: String,
    id: String,
    user: User,
) -> Result<StatusCode, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let id = record_id(&id)?;
    // The index row goes in a transaction committed only once the document is gone.
    let row = if entity == INDEXED {
        Some(
            state
                .sql()
                .unindex_document(user.id(), &id.to_hex())
                .await?,
        )
    } else {
        None
    };
    let result = match records.delete_one(doc! {"_id": id}).await {
        Ok(result) => result,
        Err(error) => {
            // Whether the delete reached MongoDB is unknown: the row follows what it holds.
            drop(row);
            if entity == INDEXED {
                index::repair(&state, &user, id);
            }
            return Err(error.into());
        }
    };
    if result.deleted_count == 0 {
        return Err(ApiError::not_found());
    }
    if let Some(row) = row
        && let Err(error) = row.commit().await
    {
        // The document is gone; the row goes by the repair.
        index::repair(&state, &user, id);
        return Err(ApiError::Sql(error.into()));
    }
    Ok(StatusCode::NO_CONTENT)
}
