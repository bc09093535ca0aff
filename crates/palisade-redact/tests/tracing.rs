//! The `tracing` integration: fields and messages are redacted before any writer sees them,
//! and the `MakeWriter` backstop redacts what an unchanged subscriber writes.
#![cfg(feature = "tracing")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use palisade_redact::{RedactingFields, RedactingMakeWriter};
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
