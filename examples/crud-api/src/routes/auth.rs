//! Sign-up and sign-in: passwords through `palisade-password` (an old hash is upgraded on
//! sign-in; an unknown email costs a dummy verification, so timing does not tell), tokens
//! through `palisade-auth`.

use axum::Json;
use axum::extract::State;
use bson::{Document, doc, oid::ObjectId};
use http::StatusCode;
use palisade_password::Error as PasswordError;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

/// The longest email accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// A sign-up or sign-in body. Both fields are strings: an operator object
/// (`{"$ne": null}`) is refused by the JSON extractor before any lookup.
#[derive(Debug, Deserialize)]
pub(crate) struct Credentials {
    email: String,
    password: String,
}

/// What sign-up and sign-in answer, as the reference back end does.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    access_token: String,
    token_type: &'static str,
}

/// The claims of our own tokens beside `sub` (the user id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// The user id, as the reference back end names it.
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) role: String,
}

fn email_of(credentials: &Credentials) -> Result<String, ApiError> {
    let email = credentials.email.trim().to_lowercase();
    let plausible = email.len() <= MAX_EMAIL
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if plausible {
        Ok(email)
    } else {
        Err(ApiError::bad_request(
            "auth/email-invalid",
            "the email is not an address",
        ))
    }
}

fn token(
    state: &AppState,
    user_id: &str,
    email: &str,
    role: &str,
) -> Result<TokenResponse, ApiError> {
    let claims = Claims {
        user_id: user_id.to_owned(),
        email: email.to_owned(),
        role: role.to_owned(),
    };
    let access_token = state
        .issuer()
        .issue(user_id, &claims)
        .map_err(|_| ApiError::internal())?;
    Ok(TokenResponse {
        access_token,
        token_type: "bearer",
    })
}

/// The hash of a password a user chooses (sign-up, reset): one the policy refuses is a 400.
pub(crate) async fn hash_new_password(
    state: &AppState,
    password: &str,
) -> Result<String, ApiError> {
    match state.passwords().hash_async(password).await {
        Ok(hash) => Ok(hash),
        Err(PasswordError::PasswordTooShort { .. } | PasswordError::PasswordTooLong { .. }) => {
            Err(ApiError::bad_request(
                "auth/password-length",
                "the password is too short or too long",
            ))
        }
        Err(_) => Err(ApiError::internal()),
    }
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let email = email_of(&body)?;
    let hash = hash_new_password(&state, &body.password).await?;
    let id = ObjectId::new();
    let user = doc! {"_id": id, "email": &email, "password_hash": hash, "role": "user"};
    let users = state.database().collection::<Document>("users");
    if let Err(error) = users.insert_one(user).await {
        let duplicate = matches!(
            &*error.kind,
            mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) if e.code == 11000
        );
        return Err(if duplicate {
            ApiError::Problem(palisade_problem::Problem::new(
                "auth/email-taken",
                "an account with this email exists",
                StatusCode::CONFLICT,
            ))
        } else {
            ApiError::internal()
        });
    }
    Ok((
        StatusCode::CREATED,
        Json(token(&state, &id.to_hex(), &email, "user")?),
    ))
}

pub(crate) async fn signin(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> Result<Json<TokenResponse>, ApiError> {
    let email = email_of(&body).map_err(|_| ApiError::signin_refused())?;
    let users = state.database().collection::<Document>("users");
    let user = users
        .find_one(doc! {"email": &email})
        .await
        .map_err(|_| ApiError::internal())?;
    let Some(user) = user else {
        // The same work as a real verification, and the same answer.
        let _ = state.passwords().dummy_verify_async(&body.password).await;
        return Err(ApiError::signin_refused());
    };
    let stored = user
        .get_str("password_hash")
        .map_err(|_| ApiError::internal())?;
    let verified = match state.passwords().verify_async(&body.password, stored).await {
        Ok(verified) => verified,
        Err(PasswordError::Mismatch) => return Err(ApiError::signin_refused()),
        Err(_) => return Err(ApiError::internal()),
    };
    let id = user
        .get_object_id("_id")
        .map_err(|_| ApiError::internal())?;
    if let Some(upgraded) = verified.into_upgraded_hash() {
        users
            .update_one(doc! {"_id": id}, doc! {"$set": {"password_hash": upgraded}})
            .await
            .map_err(|_| ApiError::internal())?;
    }
    let role = user.get_str("role").unwrap_or("user");
    Ok(Json(token(&state, &id.to_hex(), &email, role)?))
}

/// `changePassword`: the signed-in user's current password, then the new one.
#[derive(Debug, Deserialize)]
pub(crate) struct PasswordChange {
    old_password: String,
    new_password: String,
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: palisade_auth::Bearer<Claims>,
    Json(body): Json<PasswordChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = ObjectId::parse_str(user.subject()).map_err(|_| ApiError::signin_refused())?;
    let users = state.database().collection::<Document>("users");
    let account = users
        .find_one(doc! {"_id": id})
        .await
        .map_err(|_| ApiError::internal())?
        .ok_or_else(ApiError::signin_refused)?;
    let stored = account
        .get_str("password_hash")
        .map_err(|_| ApiError::internal())?;
    match state
        .passwords()
        .verify_async(&body.old_password, stored)
        .await
    {
        Ok(_) => {}
        Err(PasswordError::Mismatch) => return Err(ApiError::signin_refused()),
        Err(_) => return Err(ApiError::internal()),
    }
    let hash = hash_new_password(&state, &body.new_password).await?;
    users
        .update_one(doc! {"_id": id}, doc! {"$set": {"password_hash": hash}})
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(Json(
        serde_json::json!({ "message": "The password has been changed." }),
    ))
}
