//! The emulated HTTP API, with Key Vault's and Entra ID's documented shapes:
//!
//! - Get Secret: <https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret>
//! - Set Secret: <https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/set-secret/set-secret>
//! - Update Secret: <https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/update-secret/update-secret>
//! - The bearer challenge and error bodies:
//!   <https://learn.microsoft.com/en-us/azure/key-vault/general/authentication-requests-and-responses>
//! - Entra ID's client credentials grant:
//!   <https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::{Attributes, State, Version};

/// How long an access token from the emulated Entra ID lives.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// The Key Vault resource an access token is for.
pub(super) const RESOURCE: &str = "https://vault.azure.net";

pub(super) async fn handle(
    Shared(state): Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    if state.failing {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is unavailable.",
            None,
        );
    }
    let path = uri.path();
    if path.ends_with("/oauth2/v2.0/token") && method == Method::POST {
        return token_endpoint(&mut state, path, &body);
    }
    let Some(rest) = path.strip_prefix("/secrets/") else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The requested resource was not found.",
            None,
        );
    };
    let api_version = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("api-version="))
    });
    if api_version.is_none_or(str::is_empty) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The 'api-version' query parameter is missing.",
            None,
        );
    }
    let Some(grant) = bearer(&headers).and_then(|token| state.grant(token)) else {
        return challenge(&state);
    };
    let (name, version) = match rest.split_once('/') {
        Some((name, version)) => (name, (!version.is_empty()).then_some(version)),
        None => (rest, None),
    };
    if !grant.may_get {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The user, group or application does not have secrets get permission on this key vault.",
            Some("AccessDenied"),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match method {
        Method::GET => get(&state, name, version),
        Method::PUT if version.is_none() => set(&mut state, name, &body),
        Method::PATCH => match version {
            Some(version) => update(&mut state, name, version, &body),
            None => error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                "A version is required.",
                None,
            ),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
            None,
        ),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// `{"error": {"code", "message", "innererror"?}}`.
fn error(status: StatusCode, code: &str, message: &str, inner: Option<&str>) -> Response {
    let mut body = json!({ "error": { "code": code, "message": message } });
    if let (Some(inner), Some(object)) =
        (inner, body.get_mut("error").and_then(Value::as_object_mut))
    {
        object.insert("innererror".to_owned(), json!({ "code": inner }));
    }
    (status, Json(body)).into_response()
}

/// 401 with the challenge that tells a client where to get a token and for what resource.
fn challenge(state: &State) -> Response {
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
        None,
    );
    let value = format!(
        "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"{RESOURCE}\"",
        state.tenant
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The secret bundle, as Get, Set and Update return it (Update without the value).
fn bundle(name: &str, version: &Version, with_value: bool) -> Value {
    let mut attributes = json!({
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": 90,
    });
    if let Some(object) = attributes.as_object_mut() {
        if let Some(exp) = version.expires {
            object.insert("exp".to_owned(), json!(exp));
        }
        if let Some(nbf) = version.not_before {
            object.insert("nbf".to_owned(), json!(nbf));
        }
    }
    let mut bundle = json!({
        "id": format!("{VAULT_BASE}/secrets/{name}/{}", version.id),
        "attributes": attributes,
    });
    if let Some(object) = bundle.as_object_mut() {
        if with_value {
            object.insert("value".to_owned(), json!(version.value));
        }
        if let Some(content_type) = &version.content_type {
            object.insert("contentType".to_owned(), json!(content_type));
        }
    }
    bundle
}

/// The vault's base URL as clients see it in ids (the host is not checked by the emulator).
const VAULT_BASE: &str = "https://emulated.vault.azure.net";

fn not_found(name: &str) -> Response {
    let message = format!("A secret with (name/id) {name} was not found in this key vault.");
    error(StatusCode::NOT_FOUND, "SecretNotFound", &message, None)
}

fn get(state: &State, name: &str, version: Option<&str>) -> Response {
    let Some(found) = state.version(name, version) else {
        return not_found(name);
    };
    if !found.enabled {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Operation get is not allowed on a disabled secret.",
            Some("SecretDisabled"),
        );
    }
    (StatusCode::OK, Json(bundle(name, found, true))).into_response()
}

fn attributes_of(body: &Value) -> Attributes {
    let attributes = &body["attributes"];
    Attributes {
        enabled: attributes["enabled"].as_bool(),
        expires: attributes["exp"].as_i64(),
        not_before: attributes["nbf"].as_i64(),
    }
}

fn set(state: &mut State, name: &str, body: &Value) -> Response {
    let Some(value) = body["value"].as_str() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The parameter 'value' is required.",
            None,
        );
    };
    let content_type = body["contentType"].as_str().map(str::to_owned);
    let version = state.set(name, value, content_type, &attributes_of(body));
    (StatusCode::OK, Json(bundle(name, &version, true))).into_response()
}

fn update(state: &mut State, name: &str, id: &str, body: &Value) -> Response {
    let now = state.unix_now();
    let changes = attributes_of(body);
    let Some(version) = state.version_mut(name, id) else {
        return not_found(name);
    };
    if let Some(enabled) = changes.enabled {
        version.enabled = enabled;
    }
    if changes.expires.is_some() {
        version.expires = changes.expires;
    }
    if changes.not_before.is_some() {
        version.not_before = changes.not_before;
    }
    version.updated = now;
    (StatusCode::OK, Json(bundle(name, version, false))).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` with a form: the client credentials grant.
fn token_endpoint(state: &mut State, path: &str, body: &[u8]) -> Response {
    let tenant = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let oauth_error = |status: StatusCode, code: &str, description: &str| {
        (
            status,
            Json(json!({ "error": code, "error_description": description })),
        )
            .into_response()
    };
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The grant type is not supported.",
        );
    }
    if field("scope") != Some(&format!("{RESOURCE}/.default")) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "AADSTS70011: The provided scope is not valid.",
        );
    }
    let known = field("client_id")
        .and_then(|client| state.clients.get(&(tenant.clone(), client.to_owned())))
        .is_some_and(|secret| Some(secret.as_str()) == field("client_secret"));
    if !known {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let token = state.issue_token(TOKEN_LIFETIME);
    let seconds = TOKEN_LIFETIME.as_secs();
    (
        StatusCode::OK,
        Json(json!({ "token_type": "Bearer", "expires_in": seconds, "ext_expires_in": seconds, "access_token": token })),
    )
        .into_response()
}
