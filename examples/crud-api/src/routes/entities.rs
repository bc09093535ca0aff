//! CRUD for `clients`, `projects` and `documents`, each record owned by the signed-in user:
//! every operation goes through `ScopedCollection` (the owner pinned on every filter, client
//! filters through the guard with `*_id` fields typed as ObjectIds and `*_uuid` as UUIDs,
//! owner and audit fields out of the client's reach, audit stamps on every write).

use axum::Json;
use axum::extract::{Path, Query, State};
use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use futures_util::TryStreamExt as _;
use http::StatusCode;
use mongodb::options::FindOptions;
use palisade_auth::Bearer;
use palisade_mongo::{Audit, Scope, ScopedCollection, document_from_json};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Claims;
use crate::error::ApiError;
use crate::state::AppState;

/// The collections the API serves.
pub(crate) const ENTITIES: [&str; 3] = ["clients", "projects", "documents"];

/// The field that names each record's owner.
pub(crate) const OWNER_FIELD: &str = "user_id";

/// The most records one list returns.
const MAX_LIMIT: i64 = 100;

/// `?filters=<json>&skip=&limit=`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    filters: Option<String>,
    skip: Option<u64>,
    limit: Option<i64>,
}

/// The signed-in user's view of `entity` (404 for any other name).
fn collection(
    state: &AppState,
    entity: &str,
    user: &Bearer<Claims>,
) -> Result<ScopedCollection<Document>, ApiError> {
    if !ENTITIES.contains(&entity) {
        return Err(ApiError::not_found());
    }
    let scope = Scope::new(OWNER_FIELD, user.subject()).with_policy(state.filters().clone());
    Ok(
        ScopedCollection::new(state.database().collection::<Document>(entity), scope)
            .with_audit(Audit::new(user.subject(), DateTime::now())),
    )
}

/// A record id from the path: a malformed one is no record (404), never a 500.
fn record_id(id: &str) -> Result<ObjectId, ApiError> {
    ObjectId::parse_str(id).map_err(|_| ApiError::not_found())
}

/// A record as JSON, its ObjectIds as hex strings.
fn to_json(record: Document) -> Value {
    Bson::Document(record).into_relaxed_extjson()
}

fn body_document(body: Value) -> Result<Document, ApiError> {
    match Bson::try_from(body) {
        Ok(Bson::Document(document)) => Ok(document),
        _ => Err(ApiError::bad_request(
            "crud/body-invalid",
            "the body is not a JSON object",
        )),
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    Query(query): Query<ListQuery>,
    user: Bearer<Claims>,
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
    let options = FindOptions::builder()
        .skip(query.skip)
        .limit(limit)
        .sort(doc! {"_id": 1})
        .build();
    let found: Vec<Document> = records
        .find(filter, options)
        .await?
        .try_collect()
        .await
        .map_err(|e| ApiError::Mongo(e.into()))?;
    Ok(Json(Value::Array(found.into_iter().map(to_json).collect())))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    user: Bearer<Claims>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let records = collection(&state, &entity, &user)?;
    let record = body_document(body)?;
    let inserted = records.insert_one(&record).await?;
    let id = inserted
        .inserted_id
        .as_object_id()
        .ok_or_else(ApiError::internal)?;
    let stored = records
        .find_one(doc! {"_id": id})
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(to_json(stored))))
}

pub(crate) async fn read(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
    user: Bearer<Claims>,
) -> Result<Json<Value>, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let record = records
        .find_one(doc! {"_id": record_id(&id)?})
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(to_json(record)))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
    user: Bearer<Claims>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let id = record_id(&id)?;
    let changes = body_document(body)?;
    let result = records
        .update_one(doc! {"_id": id}, doc! {"$set": changes})
        .await?;
    if result.matched_count == 0 {
        return Err(ApiError::not_found());
    }
    let record = records
        .find_one(doc! {"_id": id})
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(to_json(record)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
    user: Bearer<Claims>,
) -> Result<StatusCode, ApiError> {
    let records = collection(&state, &entity, &user)?;
    let result = records.delete_one(doc! {"_id": record_id(&id)?}).await?;
    if result.deleted_count == 0 {
        return Err(ApiError::not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}
