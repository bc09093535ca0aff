//! The default sink: structured tracing events under OpenTelemetry's names, in text and in
//! JSON, with no parameter value unless opted in, and then redacted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::io;
use std::sync::{Arc, Mutex};

use palisade_audit::{
    Audit, DbSystem, QueryInfo, QueryTarget, SecurityEvent, SecurityKind, TARGET, TracingSink,
};
use palisade_redact::FieldMasker;
use palisade_test::{Canary, LogCapture};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn emit(audit: &Audit, canary: &Canary) {
    let target = Arc::new(
        QueryTarget::new(DbSystem::MariaDb)
            .with_namespace("shop")
            .with_server("db", 3306),
    );
    let info = QueryInfo::new(target, "UPDATE", ["users"])
        .with_text("UPDATE users SET password_hash = ? WHERE id = ?".into())
        .with_parameters(vec![
            audit.parameter("password_hash", &canary.value()),
            audit.parameter("note", &canary.value()),
            audit.parameter("id", &7),
        ]);
    let running = audit.start_query(info);
    running.failed("database", Some("1062".into()));
    audit.security(
        SecurityEvent::new(SecurityKind::GuardRefused, "palisade-sql")
            .with_reason("tautology")
            .with_user("u-1"),
    );
    audit.flush();
}

/// The JSON lines a `TracingSink` writes for `emit`, through tracing-subscriber's JSON
/// format at `level`.
fn json_lines_of_emit(level: tracing::Level, canary: &Canary) -> String {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_writer({
            let buffer = buffer.clone();
            move || buffer.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let audit = Audit::builder().sink(TracingSink::new()).build();
    emit(&audit, canary);
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn json_events_carry_opentelemetry_names_and_no_values() {
    let canary = Canary::new();
    let text = json_lines_of_emit(tracing::Level::INFO, &canary);
    canary.assert_absent("JSON audit events", &text);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // At INFO, one line per query (its end) and one per security event.
    assert_eq!(events.len(), 2, "{text}");
    assert!(events.iter().all(|e| e["target"] == TARGET));
    let end = &events[0]["fields"];
    assert_eq!(end["event"], "db.query.end");
    assert_eq!(end["db.system.name"], "mariadb");
    assert_eq!(end["db.namespace"], "shop");
    assert_eq!(end["db.collection.name"], "users");
    assert_eq!(end["db.query.summary"], "UPDATE users");
    assert_eq!(end["db.response.status_code"], "1062");
    assert_eq!(end["error.type"], "database");
    assert_eq!(end["server.port"], 3306);
    assert_eq!(end["db.query.parameters"], "password_hash, note, id");
    let security = &events[1]["fields"];
    assert_eq!(security["security.kind"], "guard_refused");
    assert_eq!(security["security.reason"], "tautology");
    assert_eq!(security["user.id"], "u-1");
}

#[test]
fn a_query_start_is_a_debug_line_before_its_end() {
    let text = json_lines_of_emit(tracing::Level::DEBUG, &Canary::new());
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let levels_and_names: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["level"].as_str().unwrap(),
                e["fields"]["event"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        levels_and_names,
        [
            ("DEBUG", "db.query.start"),
            ("INFO", "db.query.end"),
            ("INFO", "security")
        ],
        "{text}"
    );
    assert_eq!(
        events[0]["fields"]["query_id"], events[1]["fields"]["query_id"],
        "{text}"
    );
}

#[test]
fn text_events_with_values_opted_in_show_them_redacted() {
    let canary = Canary::new();
    let capture = LogCapture::start();
    let audit = Audit::builder()
        .parameter_values(FieldMasker::new().with_key("note"))
        .sink(TracingSink::new())
        .build();
    emit(&audit, &canary);
    let text = capture.text();
    canary.assert_absent("text audit events", &text);
    assert!(
        text.contains("db.query.parameters=\"password_hash=[REDACTED], note=[REDACTED], id=7\""),
        "{text}"
    );
    assert!(text.contains("db.query.summary=\"UPDATE users\""), "{text}");
}

#[test]
fn palisade_redacts_json_formatter_carries_audit_events_and_still_masks() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .event_format(palisade_redact::RedactingFormat::new(
            tracing_subscriber::fmt::format().json(),
        ))
        .with_writer({
            let buffer = buffer.clone();
            move || buffer.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let audit = Audit::builder().sink(TracingSink::new()).build();
    let canary = Canary::new();
    emit(&audit, &canary);
    // A secret where no secret belongs (a user id): the formatter masks it.
    audit.security(
        SecurityEvent::new(SecurityKind::AuthFailed, "sign-in").with_user("AKIAIOSFODNN7EXAMPLE"),
    );
    audit.flush();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
    canary.assert_absent("redacted JSON audit events", &text);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    assert_eq!(events[0]["fields"]["db.query.summary"], "UPDATE users");
    assert_eq!(events[2]["fields"]["security.kind"], "auth_failed");
}
