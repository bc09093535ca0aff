//! The rights of access and erasure: everything the signed-in user owns, as one JSON
//! document, and its deletion, built on `palisade-mongo`'s `OwnedCollections` rather than
//! written per collection.

use axum::Json;
use axum::extract::State;
use bson::{Bson, Document, doc, oid::ObjectId};
use http::StatusCode;
use palisade_auth::Bearer;
use palisade_mongo::OwnedCollections;
use serde_json::Value;

use super::auth::Claims;
use super::entities::{ENTITIES, OWNER_FIELD};
use crate::error::ApiError;
use crate::state::AppState;

/// Every collection that holds a user's records, under its owner field.
fn owned() -> OwnedCollections {
    ENTITIES
        .iter()
        .fold(OwnedCollections::new(), |owned, entity| {
            owned.collection(entity, OWNER_FIELD)
        })
}

fn user_id(user: &Bearer<Claims>) -> Result<ObjectId, ApiError> {
    ObjectId::parse_str(user.subject()).map_err(|_| ApiError::not_found())
}

pub(crate) async fn export(
    State(state): State<AppState>,
    user: Bearer<Claims>,
) -> Result<Json<Value>, ApiError> {
    let id = user_id(&user)?;
    let account = state
        .database()
        .collection::<Document>("users")
        .find_one(doc! {"_id": id})
        .await
        .map_err(|_| ApiError::internal())?
        .ok_or_else(ApiError::not_found)?;
    let mut export = owned()
        .export_owned(state.database(), user.subject())
        .await?;
    // The account itself, without its password hash.
    let mut profile = account;
    profile.remove("password_hash");
    export.insert("account", profile);
    Ok(Json(Bson::Document(export).into_relaxed_extjson()))
}

pub(crate) async fn erase(
    State(state): State<AppState>,
    user: Bearer<Claims>,
) -> Result<StatusCode, ApiError> {
    let id = user_id(&user)?;
    let erased = owned()
        .erase_owned(state.database(), user.subject())
        .await?;
    if erased.remaining() > 0 {
        return Err(ApiError::internal());
    }
    state
        .database()
        .collection::<Document>("users")
        .delete_one(doc! {"_id": id})
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(StatusCode::NO_CONTENT)
}
