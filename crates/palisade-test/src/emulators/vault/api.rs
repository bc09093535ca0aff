//! The emulated HTTP API: token lookup and renewal, and KV v2 (data, metadata, delete,
//! undelete, destroy), with Vault's JSON shapes and error bodies.
//!
//! - KV v2: <https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2>
//! - Tokens: <https://developer.hashicorp.com/vault/api-docs/auth/token>
//! - Errors (`{"errors": [...]}`, 403 for a missing or bad token, 404 for nothing there):
//!   <https://developer.hashicorp.com/vault/api-docs#http-status-codes>
//! - Namespaces (`X-Vault-Namespace`): <https://developer.hashicorp.com/vault/docs/enterprise/namespaces>

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::state::{Secret, State, Token, Version};

type Answer = (StatusCode, Value);

/// Answers every request under `/v1/`.
pub(super) async fn handle(
    Shared(state): Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let (status, body) = answer(&mut state, &method, &uri, &headers, &body);
    if status == StatusCode::NO_CONTENT {
        return status.into_response();
    }
    (status, Json(body)).into_response()
}

fn answer(
    state: &mut State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    if state.sealed {
        return errors(StatusCode::SERVICE_UNAVAILABLE, &["Vault is sealed"]);
    }
    let Some(route) = uri.path().strip_prefix("/v1/") else {
        return errors(StatusCode::NOT_FOUND, &["unsupported path"]);
    };
    let Some(token) = client_token(headers) else {
        return errors(StatusCode::FORBIDDEN, &["permission denied"]);
    };
    let namespace = header(headers, "x-vault-namespace").unwrap_or_default();
    let namespace = super::state::normalize_namespace(namespace);
    let now = state.now();
    let Some(token_state) = state.live_token(token).cloned() else {
        return errors(StatusCode::FORBIDDEN, &["permission denied"]);
    };
    if !namespace.starts_with(&token_state.spec.namespace) {
        return errors(StatusCode::FORBIDDEN, &["permission denied"]);
    }
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(_) => return errors(StatusCode::BAD_REQUEST, &["failed to parse JSON input"]),
        }
    };
    match (method.as_str(), route) {
        ("GET", "auth/token/lookup-self") => (
            StatusCode::OK,
            envelope(json!(lookup(token, &token_state, now)), Value::Null),
        ),
        ("POST" | "PUT", "auth/token/renew-self") => renew(state, token, &body),
        _ => kv(
            state,
            &KvRequest {
                method: method.as_str(),
                route,
                query: uri.query(),
                namespace: &namespace,
                token: &token_state,
                body: &body,
            },
        ),
    }
}

/// `X-Vault-Token`, or `Authorization: Bearer` as Vault also accepts.
fn client_token(headers: &HeaderMap) -> Option<&str> {
    header(headers, "x-vault-token")
        .or_else(|| header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer ")))
        .filter(|token| !token.is_empty())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `{"errors": [...]}` with a status.
fn errors(status: StatusCode, messages: &[&str]) -> Answer {
    (status, json!({ "errors": messages }))
}

/// The envelope every successful response has.
fn envelope(data: Value, auth: Value) -> Value {
    json!({
        "request_id": "00000000-0000-0000-0000-000000000000",
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": data,
        "wrap_info": null,
        "warnings": null,
        "auth": auth,
    })
}

pub(super) fn timestamp(at: SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// `lookup-self`'s `data`.
fn lookup(token: &str, state: &Token, now: SystemTime) -> Value {
    json!({
        "accessor": state.accessor,
        "creation_time": unix_seconds(state.issued),
        "creation_ttl": state.spec.ttl.as_secs(),
        "display_name": "token",
        "entity_id": "",
        "expire_time": state.expires.map(timestamp),
        "explicit_max_ttl": state.spec.explicit_max_ttl.as_secs(),
        "id": token,
        "identity_policies": null,
        "issue_time": timestamp(state.issued),
        "meta": null,
        "num_uses": 0,
        "orphan": false,
        "path": "auth/token/create",
        "policies": ["default"],
        "renewable": state.spec.renewable,
        "ttl": state.ttl_left(now),
        "type": "service",
    })
}

fn renew(state: &mut State, token: &str, body: &Value) -> Answer {
    let increment = match body.get("increment") {
        None | Some(Value::Null) => None,
        Some(value) => match parse_duration(value) {
            Some(increment) => Some(increment),
            None => return errors(StatusCode::BAD_REQUEST, &["invalid increment"]),
        },
    };
    let now = state.now();
    let Some(live) = state.live_token(token) else {
        return errors(StatusCode::FORBIDDEN, &["permission denied"]);
    };
    if !live.spec.renewable {
        return errors(StatusCode::BAD_REQUEST, &["lease is not renewable"]);
    }
    let granted = live.renew(increment, now);
    let auth = json!({
        "client_token": token,
        "accessor": live.accessor,
        "policies": ["default"],
        "token_policies": ["default"],
        "metadata": null,
        "lease_duration": granted.as_secs(),
        "renewable": true,
        "entity_id": "",
        "token_type": "service",
        "orphan": false,
    });
    (StatusCode::OK, envelope(Value::Null, auth))
}

/// `3600`, `"3600"`, `"3600s"`, `"60m"` or `"1h"`.
fn parse_duration(value: &Value) -> Option<Duration> {
    if let Some(seconds) = value.as_u64() {
        return Some(Duration::from_secs(seconds));
    }
    let text = value.as_str()?;
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return None,
    };
    Some(Duration::from_secs(number.checked_mul(scale)?))
}

struct KvRequest<'a> {
    method: &'a str,
    route: &'a str,
    query: Option<&'a str>,
    namespace: &'a str,
    token: &'a Token,
    body: &'a Value,
}

/// `MOUNT/OPERATION/PATH` on a KV v2 mount.
fn kv(state: &mut State, request: &KvRequest<'_>) -> Answer {
    let no_route = || {
        let message = format!(
            "no handler for route \"{}\". route entry not found.",
            request.route
        );
        (StatusCode::NOT_FOUND, json!({ "errors": [message] }))
    };
    let mut parts = request.route.splitn(3, '/');
    let (Some(mount), Some(operation), Some(path)) = (parts.next(), parts.next(), parts.next())
    else {
        return no_route();
    };
    if path.is_empty() {
        return no_route();
    }
    if !request.token.may_use(request.namespace, mount, path) {
        return errors(
            StatusCode::FORBIDDEN,
            &["1 error occurred:\n\t* permission denied\n\n"],
        );
    }
    let now = state.now();
    if operation == "data" && matches!(request.method, "POST" | "PUT") {
        return write(state, request, mount, path);
    }
    let Some(secrets) = state.mount(request.namespace, mount) else {
        return no_route();
    };
    match (request.method, operation) {
        ("GET", "data") => read(secrets.get(path), request.query),
        ("GET", "metadata") => metadata(secrets.get(path)),
        ("DELETE", "data") => match secrets.get_mut(path) {
            Some(secret) => {
                let latest = secret.current_version();
                mark_deleted(secret, &[latest], Some(now));
                (StatusCode::NO_CONTENT, Value::Null)
            }
            None => (StatusCode::NO_CONTENT, Value::Null),
        },
        ("POST" | "PUT", "delete" | "undelete" | "destroy") => {
            let Some(versions) = versions_of(request.body) else {
                return errors(StatusCode::BAD_REQUEST, &["no version number provided"]);
            };
            if let Some(secret) = secrets.get_mut(path) {
                match operation {
                    "delete" => mark_deleted(secret, &versions, Some(now)),
                    "undelete" => mark_deleted(secret, &versions, None),
                    _ => destroy(secret, &versions),
                }
            }
            (StatusCode::NO_CONTENT, Value::Null)
        }
        _ => errors(StatusCode::METHOD_NOT_ALLOWED, &["unsupported operation"]),
    }
}

fn versions_of(body: &Value) -> Option<Vec<u64>> {
    let versions: Vec<u64> = body
        .get("versions")?
        .as_array()?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    (!versions.is_empty()).then_some(versions)
}

fn mark_deleted(secret: &mut Secret, versions: &[u64], at: Option<SystemTime>) {
    for &n in versions {
        if let Some(version) = secret.version_mut(n) {
            version.deleted = at;
        }
    }
}

fn destroy(secret: &mut Secret, versions: &[u64]) {
    for &n in versions {
        if let Some(version) = secret.version_mut(n) {
            version.data = None;
        }
    }
}

/// A version's `metadata` object.
fn version_metadata(number: u64, version: &Version, custom: Option<&Map<String, Value>>) -> Value {
    json!({
        "created_time": timestamp(version.created),
        "custom_metadata": custom,
        "deletion_time": version.deleted.map(timestamp).unwrap_or_default(),
        "destroyed": version.data.is_none(),
        "version": number,
    })
}

fn read(secret: Option<&Secret>, query: Option<&str>) -> Answer {
    let requested =
        match query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("version="))) {
            None => 0,
            Some(text) => match text.parse::<u64>() {
                Ok(n) => n,
                Err(_) => return errors(StatusCode::BAD_REQUEST, &["invalid version"]),
            },
        };
    let Some((number, version)) = secret.and_then(|s| s.version(requested)) else {
        return errors(StatusCode::NOT_FOUND, &[]);
    };
    let custom = secret.and_then(|s| s.custom_metadata.as_ref());
    let metadata = version_metadata(number, version, custom);
    match (&version.data, version.deleted) {
        (Some(data), None) => (
            StatusCode::OK,
            envelope(json!({ "data": data, "metadata": metadata }), Value::Null),
        ),
        // A deleted or destroyed version: 404, with its metadata and no data.
        _ => (
            StatusCode::NOT_FOUND,
            envelope(json!({ "data": null, "metadata": metadata }), Value::Null),
        ),
    }
}

fn write(state: &mut State, request: &KvRequest<'_>, mount: &str, path: &str) -> Answer {
    let Some(data) = request.body.get("data").and_then(Value::as_object).cloned() else {
        return errors(StatusCode::BAD_REQUEST, &["no data provided"]);
    };
    let cas = request
        .body
        .get("options")
        .and_then(|o| o.get("cas"))
        .and_then(Value::as_u64);
    let Some(secrets) = state.mount(request.namespace, mount) else {
        let message = format!(
            "no handler for route \"{}\". route entry not found.",
            request.route
        );
        return (StatusCode::NOT_FOUND, json!({ "errors": [message] }));
    };
    let current = secrets.get(path).map_or(0, Secret::current_version);
    if cas.is_some_and(|cas| cas != current) {
        return errors(
            StatusCode::BAD_REQUEST,
            &["check-and-set parameter did not match the current version"],
        );
    }
    let Some(number) = state.write(request.namespace, mount, path, data) else {
        return errors(StatusCode::NOT_FOUND, &[]);
    };
    let Some(secret) = state
        .mount(request.namespace, mount)
        .and_then(|m| m.get(path))
    else {
        return errors(StatusCode::NOT_FOUND, &[]);
    };
    let Some((_, version)) = secret.version(number) else {
        return errors(StatusCode::NOT_FOUND, &[]);
    };
    let metadata = version_metadata(number, version, secret.custom_metadata.as_ref());
    (StatusCode::OK, envelope(metadata, Value::Null))
}

fn metadata(secret: Option<&Secret>) -> Answer {
    let Some(secret) = secret else {
        return errors(StatusCode::NOT_FOUND, &[]);
    };
    let versions: Map<String, Value> = secret
        .versions
        .iter()
        .zip(1_u64..)
        .map(|(version, number)| {
            (
                number.to_string(),
                json!({
                    "created_time": timestamp(version.created),
                    "deletion_time": version.deleted.map(timestamp).unwrap_or_default(),
                    "destroyed": version.data.is_none(),
                }),
            )
        })
        .collect();
    let created = secret.versions.first().map(|v| timestamp(v.created));
    let data = json!({
        "cas_required": false,
        "created_time": created,
        "current_version": secret.current_version(),
        "custom_metadata": secret.custom_metadata,
        "delete_version_after": "0s",
        "max_versions": 0,
        "oldest_version": 0,
        "updated_time": secret.updated.map(timestamp),
        "versions": versions,
    });
    (StatusCode::OK, envelope(data, Value::Null))
}
