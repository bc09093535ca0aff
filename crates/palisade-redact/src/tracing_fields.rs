//! The `tracing` integration (R-RED-5): a field formatter that redacts every event's message
//! and fields (and every span's fields) before any writer sees them, and a `MakeWriter` that
//! redacts whatever an existing subscriber writes, as a backstop.

use std::io;

use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::{FormatFields, MakeWriter};

use crate::{RedactingWriter, Redactor};

/// Formats fields with `inner` (the default formatter unless given), then redacts the text.
///
/// ```
/// use palisade_redact::RedactingFields;
///
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(RedactingFields::default())
///     .with_writer(std::io::sink)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(dsn = "postgres://app:hunter2@db/app", "connected");
/// });
/// ```
#[derive(Debug)]
pub struct RedactingFields<F = DefaultFields> {
    inner: F,
    redactor: Redactor,
}

impl Default for RedactingFields {
    fn default() -> Self {
        Self::new(DefaultFields::new())
    }
}

impl<F> RedactingFields<F> {
    /// Redacts what `inner` formats, with the default detectors.
    pub fn new(inner: F) -> Self {
        Self {
            inner,
            redactor: Redactor::new(),
        }
    }
}

impl<'writer, F> FormatFields<'writer> for RedactingFields<F>
where
    F: for<'any> FormatFields<'any>,
{
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut formatted = String::new();
        self.inner
            .format_fields(Writer::new(&mut formatted), fields)?;
        writer.write_str(&self.redactor.redact(&formatted))
    }
}

/// Wraps a `MakeWriter` so everything written through it is redacted line by line: for
/// subscribers whose formatting cannot be changed. Prefer [`RedactingFields`], which redacts
/// before formatting reaches any writer.
#[derive(Debug)]
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: Redactor,
}

impl<M> RedactingMakeWriter<M> {
    /// Redacts what goes to `inner`, with the default detectors.
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            redactor: Redactor::new(),
        }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = EventWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter(Some(RedactingWriter::new(
            self.inner.make_writer(),
            &self.redactor,
        )))
    }
}

/// The writer for one event: redacts line by line and writes the rest when dropped.
#[derive(Debug)]
pub struct EventWriter<'a, W: io::Write>(Option<RedactingWriter<'a, W>>);

impl<W: io::Write> io::Write for EventWriter<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Some(writer) => writer.write(bytes),
            None => Ok(bytes.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.as_mut().map_or(Ok(()), io::Write::flush)
    }
}

impl<W: io::Write> Drop for EventWriter<'_, W> {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take() {
            // A log line that cannot be written is dropped, as the writer it wraps would.
            let _ignored = writer.finish();
        }
    }
}
