//! Sign-up and sign-in: passwords through `palisade-password` (an old hash is upgraded on
//! sign-in; an unknown email costs a dummy verification, so timing does not tell), tokens
//! through `palisade-auth`. Each account opens an organization of its own, whose records
//! live in a database of their own.

use axum::Json;
use axum::extract::State;
use bson::{DateTime, Document, doc, oid::ObjectId};
use http::StatusCode;
use palisade_audit::{SecurityEvent, SecurityKind};
use palisade_password::Error as PasswordError;
use serde::{Deserialize, Serialize};

use super::user::{Claims, User};
use crate::error::ApiError;
use crate::extract::Body;
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

fn email_of(credentials: &Credentials) -> Result<String, ApiError> {
    normalized_email(&credentials.email)
        .ok_or_else(|| ApiError::bad_request("auth/email-invalid", "the email is not an address"))
}

/// An email in the one form an account is known by, or `None` when it is not a plain
/// address: printable ASCII checked before any case folding (the Kelvin sign lowercases to
/// `k`), a dot-atom local part and a domain of dot-separated labels (no quoted local part,
/// no address literal, no trailing dot: each would be a second spelling of one mailbox).
pub(crate) fn normalized_email(text: &str) -> Option<String> {
    let email = text.trim();
    if email.len() > MAX_EMAIL || !email.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let email = email.to_ascii_lowercase();
    let (local, domain) = email.split_once('@')?;
    let atom = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
    };
    let label = |part: &str| {
        (1..=63).contains(&part.len())
            && !part.starts_with('-')
            && !part.ends_with('-')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let valid = local.split('.').all(atom) && domain.contains('.') && domain.split('.').all(label);
    valid.then_some(email)
}

/// A token for the account `user` (a document of `users`), of its current generation.
pub(crate) async fn token(state: &AppState, user: &Document) -> Result<TokenResponse, ApiError> {
    let id = user
        .get_object_id("_id")
        .map_err(|_| ApiError::internal())?
        .to_hex();
    let generation = state.generations().read(&id).await?;
    token_of(state, user, generation).await
}

/// A token for `user` carrying `generation`, read before anything that made the user
/// eligible for it.
async fn token_of(
    state: &AppState,
    user: &Document,
    generation: u64,
) -> Result<TokenResponse, ApiError> {
    let id = user
        .get_object_id("_id")
        .map_err(|_| ApiError::internal())?
        .to_hex();
    let claims = Claims {
        user_id: id.clone(),
        email: user
            .get_str("email")
            .map_err(|_| ApiError::internal())?
            .to_owned(),
        role: user.get_str("role").unwrap_or("user").to_owned(),
        organization_id: user
            .get_str("organization_id")
            .map_err(|_| ApiError::internal())?
            .to_owned(),
        generation,
    };
    let access_token = state
        .token_keys()
        .current()
        .await?
        .issuer
        .issue(&id, &claims)
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

fn is_duplicate(error: &mongodb::error::Error) -> bool {
    matches!(
        &*error.kind,
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) if e.code == 11000
    )
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    Body(body): Body<Credentials>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let email = email_of(&body)?;
    let hash = hash_new_password(&state, &body.password).await?;
    let user = create_account(&state, &email, doc! {"password_hash": hash}).await?;
    Ok((StatusCode::CREATED, Json(token(&state, &user).await?)))
}

/// A new account for `email` in an organization of its own, with `credentials` (a
/// password hash, or the identity of an OpenID provider); `409` when the email is taken.
pub(crate) async fn create_account(
    state: &AppState,
    email: &str,
    credentials: Document,
) -> Result<Document, ApiError> {
    let organization = ObjectId::new();
    let organizations = state.directory().collection::<Document>("organizations");
    organizations
        .insert_one(doc! {"_id": organization, "created_at": DateTime::now()})
        .await
        .map_err(ApiError::mongo)?;
    let mut user = doc! {
        "_id": ObjectId::new(),
        "email": email,
        "role": "user",
        "organization_id": organization.to_hex(),
    };
    user.extend(credentials);
    let users = state.directory().collection::<Document>("users");
    if let Err(error) = users.insert_one(&user).await {
        // The organization opened for this account goes with it.
        let _ = organizations.delete_one(doc! {"_id": organization}).await;
        return Err(if is_duplicate(&error) {
            ApiError::Problem(palisade_problem::Problem::new(
                "auth/email-taken",
                "an account with this email exists",
                StatusCode::CONFLICT,
            ))
        } else {
            ApiError::mongo(error)
        });
    }
    Ok(user)
}

pub(crate) async fn signin(
    State(state): State<AppState>,
    Body(body): Body<Credentials>,
) -> Result<Json<TokenResponse>, ApiError> {
    let email = email_of(&body).map_err(|_| ApiError::signin_refused())?;
    let users = state.directory().collection::<Document>("users");
    let user = users
        .find_one(doc! {"email": &email})
        .await
        .map_err(ApiError::mongo)?;
    let Some(user) = user else {
        // The same work as a real verification, and the same answer.
        let _ = state.passwords().dummy_verify_async(&body.password).await;
        return Err(ApiError::signin_refused());
    };
    // The generation first, then the hash it is checked against: a password change or an
    // erasure that lands in between advances the generation after this read, so the token
    // issued below is refused from the start.
    let id = user
        .get_object_id("_id")
        .map_err(|_| ApiError::internal())?;
    let generation = state.generations().read(&id.to_hex()).await?;
    let Some(user) = users
        .find_one(doc! {"_id": id})
        .await
        .map_err(ApiError::mongo)?
    else {
        let _ = state.passwords().dummy_verify_async(&body.password).await;
        return Err(ApiError::signin_refused());
    };
    let Ok(stored) = user.get_str("password_hash") else {
        // An account that signs in through its OpenID provider only: the same work and
        // answer as an unknown email.
        let _ = state.passwords().dummy_verify_async(&body.password).await;
        return Err(ApiError::signin_refused());
    };
    let verified = match state.passwords().verify_async(&body.password, stored).await {
        Ok(verified) => verified,
        // A password the policy could never have accepted is as wrong as any other.
        Err(
            PasswordError::Mismatch
            | PasswordError::PasswordTooLong { .. }
            | PasswordError::PasswordTooShort { .. },
        ) => return Err(ApiError::signin_refused()),
        Err(_) => return Err(ApiError::internal()),
    };
    if let Some(upgraded) = verified.into_upgraded_hash() {
        users
            .update_one(doc! {"_id": id}, doc! {"$set": {"password_hash": upgraded}})
            .await
            .map_err(ApiError::mongo)?;
    }
    state.audit().security(
        SecurityEvent::new(SecurityKind::AuthSucceeded, "crud-api").with_user(id.to_hex()),
    );
    Ok(Json(token_of(&state, &user, generation).await?))
}

/// `changePassword`: the signed-in user's current password, then the new one.
#[derive(Debug, Deserialize)]
pub(crate) struct PasswordChange {
    old_password: String,
    new_password: String,
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: User,
    Body(body): Body<PasswordChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = ObjectId::parse_str(user.id()).map_err(|_| ApiError::unauthorized())?;
    let users = state.directory().collection::<Document>("users");
    let account = users
        .find_one(doc! {"_id": id})
        .await
        .map_err(ApiError::mongo)?
        .ok_or_else(ApiError::unauthorized)?;
    let stored = account
        .get_str("password_hash")
        .map_err(|_| ApiError::signin_refused())?;
    match state
        .passwords()
        .verify_async(&body.old_password, stored)
        .await
    {
        Ok(_) => {}
        Err(
            PasswordError::Mismatch
            | PasswordError::PasswordTooLong { .. }
            | PasswordError::PasswordTooShort { .. },
        ) => return Err(ApiError::signin_refused()),
        Err(_) => return Err(ApiError::internal()),
    }
    let hash = hash_new_password(&state, &body.new_password).await?;
    // Revoked before the change as well as after: when Redis fails after the password has
    // changed (a 503), the old tokens are already refused.
    state.generations().revoke(user.id()).await?;
    users
        .update_one(doc! {"_id": id}, doc! {"$set": {"password_hash": hash}})
        .await
        .map_err(ApiError::mongo)?;
    // Every token issued before (this one too) is refused from now on, including any a
    // sign-in with the old password got while the change was being made.
    state.generations().revoke(user.id()).await?;
    Ok(Json(
        serde_json::json!({ "message": "The password has been changed." }),
    ))
}
