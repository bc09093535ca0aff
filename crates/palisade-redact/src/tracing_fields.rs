//! The `tracing` integration: an event formatter that redacts every line any format writes
//! (JSON included), a field formatter for the text formats, and a `MakeWriter` that redacts
//! whatever an existing subscriber writes, as a backstop.

use std::io;

use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::json_line::redact_json;
use crate::{FieldMasker, RedactingWriter, Redactor};

/// Formats each event with `inner` (the default format unless given; `compact()`, `pretty()`
/// and `json()` alike), then redacts the whole event before any writer sees it: a JSON line
/// value by value (a key named like a secret gets `"***"`, every other string is redacted,
/// and the line stays the same JSON document), any other format as text. Messages, event
/// fields and span fields are covered in every format. Output has no ANSI colours (escapes
/// between a key and its value would hide the pair from the redactor): they are removed,
/// span fields' included.
///
/// ```
/// use palisade_redact::RedactingFormat;
///
/// let json = tracing_subscriber::fmt::format().json();
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
///     .event_format(RedactingFormat::new(json))
///     .with_writer(std::io::sink)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(password = "hunter2", dsn = "postgres://app:pw@db/app", "connected");
/// });
/// ```
#[derive(Debug)]
pub struct RedactingFormat<E = Format> {
    inner: E,
    masker: FieldMasker,
}

impl Default for RedactingFormat {
    fn default() -> Self {
        Self::new(Format::default())
    }
}

impl<E> RedactingFormat<E> {
    /// Redacts what `inner` formats, with the default detectors and sensitive keys.
    pub fn new(inner: E) -> Self {
        Self::with_masker(inner, FieldMasker::new())
    }

    /// Redacts what `inner` formats with `masker`: its sensitive keys for JSON fields, its
    /// redactor for text (a [`Redactor::with_profile`] for personal data, say).
    pub fn with_masker(inner: E, masker: FieldMasker) -> Self {
        Self { inner, masker }
    }

    fn redact_into(&self, formatted: &str, writer: &mut Writer<'_>) -> std::fmt::Result {
        // Span fields are formatted (in colour, by default) when the span is made; the
        // escapes would stand between a key and its value.
        let plain = without_ansi(formatted);
        let formatted = plain.as_ref();
        let body = formatted.trim_end_matches(['\r', '\n']);
        if body.starts_with(['{', '['])
            && let Some(redacted) = redact_json(body, &self.masker)
        {
            writer.write_str(&redacted)?;
            return writer.write_str(formatted.get(body.len()..).unwrap_or_default());
        }
        writer.write_str(&self.masker.redactor().redact(formatted))
    }
}

/// `text` without ANSI escape sequences (`ESC [ … final byte`).
fn without_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in `@`..=`~`.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl<S, N, E> FormatEvent<S, N> for RedactingFormat<E>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    E: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut formatted = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut formatted), event)?;
        self.redact_into(&formatted, &mut writer)
    }
}

/// Formats fields with `inner` (the default formatter unless given), then redacts the text.
/// For the text formats only: the JSON format records fields itself and never calls a field
/// formatter, so use [`RedactingFormat`] there (it covers every format).
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
        Self::with_redactor(inner, Redactor::new())
    }

    /// Redacts what `inner` formats with `redactor`.
    pub fn with_redactor(inner: F, redactor: Redactor) -> Self {
        Self { inner, redactor }
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
/// subscribers whose formatting cannot be changed. Prefer [`RedactingFormat`], which redacts
/// each event whole before it reaches any writer (and keeps JSON lines valid JSON).
#[derive(Debug)]
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: Redactor,
}

impl<M> RedactingMakeWriter<M> {
    /// Redacts what goes to `inner`, with the default detectors.
    pub fn new(inner: M) -> Self {
        Self::with_redactor(inner, Redactor::new())
    }

    /// Redacts what goes to `inner` with `redactor`.
    pub fn with_redactor(inner: M, redactor: Redactor) -> Self {
        Self { inner, redactor }
    }
}

/// Both paths are forwarded: `make_writer_for` passes each event's metadata on, so a wrapped
/// `with_max_level`, `with_filter` or `or_else` still chooses (or drops) the writer per event.
impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = EventWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter(Some(RedactingWriter::new(
            self.inner.make_writer(),
            &self.redactor,
        )))
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        EventWriter(Some(RedactingWriter::new(
            self.inner.make_writer_for(meta),
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
