//! Sign-in through the OpenID provider (when `OIDC_ISSUER` is set; 404 otherwise): the
//! login redirect, the provider's callback, and the session-code exchange of the reference
//! back end (`GET /api/v1/session?session_code=`).

use axum::Json;
use axum::extract::State;
use axum::response::Redirect;
use bson::{Document, doc};
use http::StatusCode;
use palisade_audit::{SecurityEvent, SecurityKind};
use palisade_auth::PkceChallenge;
use serde::Deserialize;

use super::auth::{TokenResponse, create_account, token};
use crate::error::ApiError;
use crate::extract::Params;
use crate::oidc::{Oidc, OidcError};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    login_hint: Option<String>,
    /// The front end's PKCE challenge (S256): its session code then needs the verifier.
    code_challenge: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SessionQuery {
    session_code: String,
    code_verifier: Option<String>,
}

impl From<OidcError> for ApiError {
    fn from(error: OidcError) -> Self {
        match error {
            OidcError::Refused(step) => ApiError::Problem(
                palisade_problem::Problem::new(
                    "auth/oidc-refused",
                    "the sign-in could not be completed: start again",
                    StatusCode::BAD_REQUEST,
                )
                .with("step", step),
            ),
            OidcError::Unavailable => ApiError::Problem(palisade_problem::Problem::new(
                "auth/oidc-unavailable",
                "the identity provider cannot be reached",
                StatusCode::SERVICE_UNAVAILABLE,
            )),
        }
    }
}

fn provider(state: &AppState) -> Result<&Oidc, ApiError> {
    state.oidc().ok_or_else(ApiError::not_found)
}

pub(crate) async fn login(
    State(state): State<AppState>,
    Params(query): Params<LoginQuery>,
) -> Result<Redirect, ApiError> {
    let oidc = provider(&state)?;
    let challenge = query
        .code_challenge
        .as_deref()
        .map(PkceChallenge::s256)
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(
                "auth/pkce-invalid",
                "code_challenge is a base64url SHA-256 digest (S256)",
            )
        })?;
    let hint = query.login_hint.as_deref().filter(|hint| hint.len() <= 254);
    Ok(Redirect::to(
        oidc.login_url(hint, challenge).await?.as_str(),
    ))
}

pub(crate) async fn callback(
    State(state): State<AppState>,
    Params(query): Params<CallbackQuery>,
) -> Result<Redirect, ApiError> {
    let oidc = provider(&state)?;
    // The provider reports a refused or cancelled sign-in as `error=`: nothing to exchange.
    let (Some(code), Some(pending)) = (query.code.as_deref(), query.state.as_deref()) else {
        return Err(OidcError::Refused("callback").into());
    };
    let identity = oidc.callback(code, pending).await?;
    let users = state.directory().collection::<Document>("users");
    let linked = doc! {"issuer": &identity.issuer, "subject": &identity.subject};
    let found = users
        .find_one(doc! {"identities": {"$elemMatch": linked.clone()}})
        .await
        .map_err(ApiError::mongo)?;
    let user = match found {
        Some(user) => user,
        None => {
            let email = identity
                .email
                .as_deref()
                .map(str::to_lowercase)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "auth/oidc-no-email",
                        "the provider shared no verified email",
                    )
                })?;
            // An account with this email that was never linked stays its owner's: linking by
            // email would hand it to whoever controls that address at the provider.
            create_account(&state, &email, doc! {"identities": [linked]}).await?
        }
    };
    let id = user
        .get_object_id("_id")
        .map_err(|_| ApiError::internal())?
        .to_hex();
    state.audit().security(
        SecurityEvent::new(SecurityKind::AuthSucceeded, "crud-api/oidc").with_user(id.clone()),
    );
    let landing = oidc
        .session_redirect(&id, identity.front_end_challenge)
        .await?;
    Ok(Redirect::to(landing.as_str()))
}

pub(crate) async fn session(
    State(state): State<AppState>,
    Params(query): Params<SessionQuery>,
) -> Result<Json<TokenResponse>, ApiError> {
    let oidc = provider(&state)?;
    let id = oidc
        .redeem_session(&query.session_code, query.code_verifier.as_deref())
        .await?;
    let id = bson::oid::ObjectId::parse_str(&id).map_err(|_| ApiError::internal())?;
    let user = state
        .directory()
        .collection::<Document>("users")
        .find_one(doc! {"_id": id})
        .await
        .map_err(ApiError::mongo)?
        .ok_or(OidcError::Refused("session_code"))?;
    Ok(Json(token(&state, &user).await?))
}
