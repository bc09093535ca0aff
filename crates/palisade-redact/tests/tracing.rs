//! The `tracing` integration: fields and messages are redacted before any writer sees them,
//! and the `MakeWriter` backstop redacts what an unchanged subscriber writes.
#![cfg(feature = "tracing")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use palisade_redact::{RedactingFields, RedactingFormat, RedactingMakeWriter};
use palisade_test::Canary;

/// A writer into a buffer the test reads afterwards.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn log_secrets(password: &str) {
    let span = tracing::info_span!("request", token = %format!("Bearer {password}"));
    let _entered = span.enter();
    tracing::info!(
        dsn = %format!("postgres://app:{password}@db/app"),
        "login with password={password} failed"
    );
}

#[test]
fn the_field_formatter_redacts_messages_fields_and_span_fields() {
    let canary = Canary::new();
    let buffer = Shared::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(RedactingFields::default())
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || log_secrets(canary.value()));
    let text = buffer.text();
    canary.assert_absent("the formatted log", &text);
    assert!(text.contains("login with password=*** failed"), "{text}");
    assert!(text.contains("dsn=postgres://app:***@db/app"), "{text}");
    assert!(text.contains("token=Bearer ***"), "{text}");
}

#[test]
fn the_make_writer_backstop_redacts_an_unchanged_subscriber() {
    let canary = Canary::new();
    let buffer = Shared::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(RedactingMakeWriter::new(move || writer.clone()))
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || log_secrets(canary.value()));
    let text = buffer.text();
    canary.assert_absent("the written log", &text);
    assert!(text.contains("login with password=*** failed"), "{text}");
    assert!(text.ends_with('\n'));
}

/// A subscriber with `format`'s event formatter wrapped in `RedactingFormat`, spans listed.
fn formatted<E>(format: E, buffer: &Shared) -> impl tracing::Subscriber + Send + Sync + use<E>
where
    E: for<'w> tracing_subscriber::fmt::FormatEvent<
            tracing_subscriber::Registry,
            tracing_subscriber::fmt::format::DefaultFields,
        > + Send
        + Sync
        + 'static,
{
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .event_format(RedactingFormat::new(format))
        .with_writer(move || writer.clone())
        .finish()
}

#[test]
fn every_format_is_redacted_messages_fields_and_span_fields() {
    use tracing_subscriber::fmt::format;
    let check = |name: &str, text: &str, canary: &Canary| {
        canary.assert_absent(name, text);
        assert!(
            text.contains("login with password=*** failed"),
            "{name}: {text}"
        );
        assert!(text.contains("postgres://app:***@db/app"), "{name}: {text}");
        // JSON masks a `token` field whole; text formats mask what follows `Bearer`.
        assert!(
            text.contains("Bearer ***") || text.contains(r#""token":"***""#),
            "{name}: {text}"
        );
    };
    let canary = Canary::new();
    let buffer = Shared::default();
    tracing::subscriber::with_default(formatted(format(), &buffer), || {
        log_secrets(canary.value());
    });
    check("the default format", &buffer.text(), &canary);
    let buffer = Shared::default();
    tracing::subscriber::with_default(formatted(format().compact(), &buffer), || {
        log_secrets(canary.value());
    });
    check("the compact format", &buffer.text(), &canary);
    let buffer = Shared::default();
    tracing::subscriber::with_default(formatted(format().pretty(), &buffer), || {
        log_secrets(canary.value());
    });
    check("the pretty format", &buffer.text(), &canary);
    let buffer = Shared::default();
    let writer = buffer.clone();
    let json = format().json().with_current_span(true).with_span_list(true);
    // As `fmt().json()` sets it up: JSON span fields, and the JSON event format redacted.
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(format::JsonFields::new())
        .event_format(RedactingFormat::new(json))
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        log_secrets(canary.value());
        tracing::warn!(password = %canary.value(), api_key = 12345, "rotated");
    });
    let text = buffer.text();
    check("the JSON format", &text, &canary);
    // Each line stays one JSON document; a secret's key gets "***" whatever its value.
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[1]["fields"]["password"], "***", "{text}");
    assert_eq!(lines[1]["fields"]["api_key"], "***", "{text}");
    assert_eq!(lines[0]["span"]["token"], "***", "{text}");
}

/// The backstop forwards each event's metadata: a wrapped `with_max_level`, `with_filter` or
/// `or_else` still picks the writer (it dropped every line when only `make_writer` was
/// forwarded, since `WithMaxLevel` without metadata writes nothing).
#[test]
fn the_make_writer_backstop_keeps_metadata_aware_writers() {
    use tracing::Level;
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    let canary = Canary::new();
    let (warnings, rest) = (Shared::default(), Shared::default());
    let (w, r) = (warnings.clone(), rest.clone());
    let writer = (move || w.clone())
        .with_max_level(Level::WARN)
        .or_else(move || r.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_writer(RedactingMakeWriter::new(writer))
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!("warn password={}", canary.value());
        tracing::info!("info password={}", canary.value());
    });
    let (warnings, rest) = (warnings.text(), rest.text());
    canary.assert_absent("the warnings", &warnings);
    canary.assert_absent("the rest", &rest);
    assert!(
        warnings.contains("warn password=***") && !warnings.contains("info"),
        "{warnings}"
    );
    assert!(
        rest.contains("info password=***") && !rest.contains("warn"),
        "{rest}"
    );
    let only_db = Shared::default();
    let o = only_db.clone();
    let filtered = (move || o.clone()).with_filter(|meta| meta.target() == "db");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(RedactingMakeWriter::new(filtered))
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: "db", "db password={}", canary.value());
        tracing::info!(target: "http", "http line");
    });
    let only_db = only_db.text();
    assert!(
        only_db.contains("db password=***") && !only_db.contains("http"),
        "{only_db}"
    );
}

/// Every wrapper takes a configured redactor: the personal-data profile masks e-mail addresses.
#[test]
fn the_wrappers_take_a_configured_redactor() {
    use palisade_redact::{FieldMasker, Profile, Redactor};
    use tracing_subscriber::fmt::format::{self, DefaultFields};
    let format = format::format;
    let line = |subscriber: Box<dyn tracing::Subscriber + Send + Sync>, buffer: &Shared| {
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(user = "ana@example.com", "signed in from 203.0.113.7");
        });
        buffer.text()
    };
    let buffer = Shared::default();
    let w = buffer.clone();
    let fields =
        RedactingFields::with_redactor(DefaultFields::new(), Redactor::with_profile(Profile::Pii));
    let text = line(
        Box::new(
            tracing_subscriber::fmt()
                .fmt_fields(fields)
                .with_writer(move || w.clone())
                .with_ansi(false)
                .finish(),
        ),
        &buffer,
    );
    assert!(
        !text.contains("ana@example.com") && !text.contains("203.0.113.7"),
        "{text}"
    );
    let buffer = Shared::default();
    let w = buffer.clone();
    let writer =
        RedactingMakeWriter::with_redactor(move || w.clone(), Redactor::with_profile(Profile::Pii));
    let text = line(
        Box::new(
            tracing_subscriber::fmt()
                .with_writer(writer)
                .with_ansi(false)
                .finish(),
        ),
        &buffer,
    );
    assert!(!text.contains("ana@example.com"), "{text}");
    let buffer = Shared::default();
    let w = buffer.clone();
    let masker = FieldMasker::with_redactor(Redactor::with_profile(Profile::Pii));
    let text = line(
        Box::new(
            tracing_subscriber::fmt()
                .fmt_fields(format::JsonFields::new())
                .event_format(RedactingFormat::with_masker(format().json(), masker))
                .with_writer(move || w.clone())
                .finish(),
        ),
        &buffer,
    );
    assert!(
        !text.contains("ana@example.com") && !text.contains("203.0.113.7"),
        "{text}"
    );
}
