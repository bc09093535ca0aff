//! The rights of access and erasure: everything the signed-in user owns, in MongoDB and in
//! PostgreSQL, as one JSON document, and its deletion, built on `palisade-mongo`'s
//! `OwnedCollections` rather than written per collection; erasure also destroys the user's
//! data key (crypto-shredding).

use axum::Json;
use axum::extract::State;
use bson::{Bson, Document, doc, oid::ObjectId};
use http::StatusCode;
use serde_json::Value;

use super::user::User;
use crate::error::ApiError;
use crate::state::AppState;

fn account_id(user: &User) -> Result<ObjectId, ApiError> {
    ObjectId::parse_str(user.id()).map_err(|_| ApiError::unauthorized())
}

pub(crate) async fn export(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<Value>, ApiError> {
    let id = account_id(&user)?;
    let account = state
        .directory()
        .collection::<Document>("users")
        .find_one(doc! {"_id": id})
        .await
        .map_err(ApiError::mongo)?
        .ok_or_else(ApiError::unauthorized)?;
    let database = state.tenant(user.organization())?;
    let mut records = state.owned().export_owned(&database, user.id()).await?;
    state
        .fields()
        .decrypt_export(&database, &mut records)
        .await?;
    // The account itself, without its password hash.
    let mut profile = account;
    profile.remove("password_hash");
    let mut export = serde_json::Map::new();
    export.insert(
        "account".into(),
        Bson::Document(profile).into_relaxed_extjson(),
    );
    export.insert(
        "records".into(),
        Bson::Document(records).into_relaxed_extjson(),
    );
    export.insert("sql".into(), state.sql().export(user.id()).await?);
    Ok(Json(Value::Object(export)))
}

pub(crate) async fn erase(
    State(state): State<AppState>,
    user: User,
) -> Result<StatusCode, ApiError> {
    let id = account_id(&user)?;
    let database = state.tenant(user.organization())?;
    // Tokens first: no request of this user starts a write after this point, and one already
    // under way finds its token revoked when it is done (and undoes its record).
    state.generations().revoke(user.id()).await?;
    let erased = state.owned().erase_owned(&database, user.id()).await?;
    let rows_left = state.sql().erase(user.id()).await?;
    if erased.remaining() > 0 || rows_left > 0 {
        // Something was written meanwhile: the account stays so the user can erase again.
        return Err(ApiError::Problem(palisade_problem::Problem::new(
            "crud/erasure-incomplete",
            "records were written during the erasure: erase again",
            StatusCode::CONFLICT,
        )));
    }
    // The user's data key goes too: any copy of their encrypted fields (a backup, a replica)
    // becomes unreadable.
    state.fields().shred(user.id()).await?;
    // Any token a sign-in racing the erasure was issued meanwhile dies with the account.
    let users = state.directory().collection::<Document>("users");
    users
        .delete_one(doc! {"_id": id})
        .await
        .map_err(ApiError::mongo)?;
    state.generations().revoke(user.id()).await?;
    // The organization goes with its last member, database and all.
    let members = users
        .count_documents(doc! {"organization_id": user.organization()})
        .await
        .map_err(ApiError::mongo)?;
    if members == 0 {
        database.drop().await.map_err(ApiError::mongo)?;
        let organization =
            ObjectId::parse_str(user.organization()).map_err(|_| ApiError::unauthorized())?;
        state
            .directory()
            .collection::<Document>("organizations")
            .delete_one(doc! {"_id": organization})
            .await
            .map_err(ApiError::mongo)?;
    }
    Ok(StatusCode::NO_CONTENT)
}
