//! Forgotten passwords: a one-time code (`palisade-auth`, stored as a digest, spent on first
//! use) sent through the outbox, and the reset that redeems it.

use axum::Json;
use axum::extract::State;
use bson::{Document, doc, oid::ObjectId};
use palisade_auth::RedeemError;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::hash_new_password;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;

/// The one answer to every forgotten-password request, whether the email has an account.
const SENT: &str = "If an account uses this email, a reset code has been sent to it.";

#[derive(Debug, Deserialize)]
pub(crate) struct Forgotten {
    email: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Reset {
    token: String,
    new_password: String,
}

pub(crate) async fn forgot(
    State(state): State<AppState>,
    Body(body): Body<Forgotten>,
) -> Result<Json<Value>, ApiError> {
    // The same spelling rules as sign-up: anything else has no account, and the same answer.
    let Some(email) = super::auth::normalized_email(&body.email) else {
        return Ok(Json(json!({ "message": SENT })));
    };
    let user = state
        .directory()
        .collection::<Document>("users")
        .find_one(doc! {"email": &email})
        .await
        .map_err(ApiError::mongo)?;
    if let Some(id) = user.as_ref().and_then(|u| u.get_object_id("_id").ok()) {
        // Issued and sent after the answer, so the answer takes as long for an email that
        // has no account.
        palisade_web::context::spawn(async move {
            match state
                .reset_codes()
                .issue(id.to_hex().as_bytes(), None)
                .await
            {
                Ok(code) => state.outbox().send_reset_code(&email, code.expose()),
                Err(_) => tracing::warn!(target: "crud_api", "a reset code could not be stored"),
            }
        });
    }
    Ok(Json(json!({ "message": SENT })))
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    Body(body): Body<Reset>,
) -> Result<Json<Value>, ApiError> {
    let refused = || {
        ApiError::bad_request(
            "auth/reset-refused",
            "the reset code is unknown, expired or spent",
        )
    };
    let payload = state
        .reset_codes()
        .redeem(&body.token, None)
        .await
        .map_err(|error| match error {
            RedeemError::Refused => refused(),
            _ => ApiError::store_unavailable(),
        })?;
    let id = payload
        .expose_str()
        .and_then(|hex| ObjectId::parse_str(hex).ok())
        .ok_or_else(ApiError::internal)?;
    let hash = hash_new_password(&state, &body.new_password).await?;
    // Revoked before the change as well as after: when Redis fails after the password has
    // changed (a 503), the old tokens are already refused.
    state.generations().revoke(&id.to_hex()).await?;
    let changed = state
        .directory()
        .collection::<Document>("users")
        .update_one(doc! {"_id": id}, doc! {"$set": {"password_hash": hash}})
        .await
        .map_err(ApiError::mongo)?;
    if changed.matched_count == 0 {
        return Err(refused());
    }
    // Whoever held the account's tokens is signed out.
    state.generations().revoke(&id.to_hex()).await?;
    Ok(Json(json!({ "message": "The password has been changed." })))
}
