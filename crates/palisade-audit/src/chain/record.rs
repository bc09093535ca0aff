//! The JSON body of a query or security record (everything after the line's head).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{QueryEvent, QueryPhase, SecurityEvent};

#[derive(Serialize)]
struct QueryRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    query_id: u64,
    #[serde(rename = "db.system.name")]
    system: &'static str,
    #[serde(rename = "db.namespace", skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(rename = "db.collection.name", skip_serializing_if = "Option::is_none")]
    collection: Option<&'a str>,
    #[serde(rename = "db.operation.name")]
    operation: &'a str,
    #[serde(rename = "db.query.summary")]
    summary: &'a str,
    #[serde(rename = "db.query.text", skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(
        rename = "db.query.parameter",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    parameters: BTreeMap<&'a str, Option<&'a str>>,
    #[serde(rename = "server.address", skip_serializing_if = "Option::is_none")]
    server_address: Option<&'a str>,
    #[serde(rename = "server.port", skip_serializing_if = "Option::is_none")]
    server_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_us: Option<u64>,
    #[serde(
        rename = "db.response.returned_rows",
        skip_serializing_if = "Option::is_none"
    )]
    returned_rows: Option<u64>,
    #[serde(
        rename = "db.response.status_code",
        skip_serializing_if = "Option::is_none"
    )]
    status_code: Option<&'a str>,
    #[serde(rename = "error.type", skip_serializing_if = "Option::is_none")]
    error_type: Option<&'a str>,
    #[serde(flatten)]
    actor: ActorFields<'a>,
}

#[derive(Serialize)]
struct SecurityRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    #[serde(rename = "security.kind")]
    security_kind: &'static str,
    #[serde(rename = "security.source")]
    source: &'static str,
    #[serde(rename = "security.reason", skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(flatten)]
    actor: ActorFields<'a>,
}

#[derive(Serialize)]
struct ActorFields<'a> {
    #[serde(rename = "user.id", skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(rename = "organization.id", skip_serializing_if = "Option::is_none")]
    organization: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(rename = "client.address", skip_serializing_if = "Option::is_none")]
    client: Option<String>,
}

impl<'a> ActorFields<'a> {
    fn of(actor: &'a crate::Actor) -> Self {
        Self {
            user: actor.user.as_deref(),
            organization: actor.organization.as_deref(),
            request_id: actor.request_id.as_deref(),
            client: actor.client.map(|c| c.to_string()),
        }
    }
}

/// RFC 3339 in UTC, as precise as the clock.
pub(super) fn rfc3339(at: SystemTime) -> String {
    OffsetDateTime::from(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Appends the body of `event`'s record (`"type":...}` and a newline) to `out`.
pub(super) fn write_query(out: &mut Vec<u8>, scratch: &mut Vec<u8>, event: &QueryEvent) {
    let info = event.info();
    let target = info.target();
    let (kind, elapsed_us, outcome) = match event.phase() {
        QueryPhase::Start => ("query.start", None, None),
        QueryPhase::End { elapsed, outcome } => (
            "query.end",
            Some(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)),
            Some(outcome),
        ),
    };
    let time = rfc3339(event.at());
    let record = QueryRecord {
        kind,
        time: time.clone(),
        query_id: event.id(),
        system: target.system().name(),
        namespace: target.namespace(),
        collection: info.collection(),
        operation: info.operation(),
        summary: info.summary(),
        text: info.text(),
        parameters: info
            .parameters()
            .iter()
            .map(|p| (p.name(), p.value()))
            .collect(),
        server_address: target.server_address(),
        server_port: target.server_port(),
        elapsed_us,
        returned_rows: outcome.and_then(|o| o.returned_rows()),
        status_code: outcome.and_then(|o| o.status_code()),
        error_type: outcome.and_then(|o| o.error_type()),
        actor: ActorFields::of(event.actor()),
    };
    append_body(out, scratch, &record, kind, &time);
}

/// Appends the body of `event`'s record to `out`.
pub(super) fn write_security(out: &mut Vec<u8>, scratch: &mut Vec<u8>, event: &SecurityEvent) {
    let time = rfc3339(event.at());
    let record = SecurityRecord {
        kind: "security",
        time: time.clone(),
        security_kind: event.kind().name(),
        source: event.source(),
        reason: event.reason(),
        actor: ActorFields::of(event.actor()),
    };
    append_body(out, scratch, &record, "security", &time);
}

/// The longest record body written; a longer one (a statement with thousands of parameters,
/// a user id the size of a token) is replaced by its type, time and `"truncated": true`, so
/// every line stays far below what the verifier reads (1 MiB).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The object's fields without its opening brace (the head opened it), and a newline.
fn append_body(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    record: &impl Serialize,
    kind: &str,
    time: &str,
) {
    scratch.clear();
    if serde_json::to_writer(&mut *scratch, record).is_err() || scratch.len() > MAX_BODY_BYTES {
        scratch.clear();
        // In the writer's field order: the verifier reads the type first.
        scratch.extend_from_slice(b"{\"type\":");
        let _ = serde_json::to_writer(&mut *scratch, kind);
        scratch.extend_from_slice(b",\"time\":");
        let _ = serde_json::to_writer(&mut *scratch, time);
        scratch.extend_from_slice(b",\"truncated\":true}");
    }
    out.extend_from_slice(scratch.get(1..).unwrap_or_default());
    out.push(b'\n');
}
