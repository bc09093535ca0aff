//! Streaming redaction (R-RED-5): a `Write` adapter that redacts line by line with bounded
//! memory, and a copy from any `Read` through it. A PEM private key spread over many lines is
//! still caught: its body lines are replaced as they pass, never buffered.

use std::io::{self, Read, Write};

use crate::Redactor;
use crate::validate::MASK;

/// The longest line kept whole; a longer one is redacted in pieces of this size (a secret
/// across a piece boundary can escape, so the bound is generous).
pub const DEFAULT_MAX_LINE: usize = 1 << 20;
/// How many body lines a PEM block may have before the filter stops treating lines as its
/// body (a 4096-bit RSA key has about 50).
const MAX_PEM_LINES: usize = 512;

/// A writer that redacts what passes through it, line by line.
///
/// ```
/// use std::io::Write;
/// use palisade_redact::{RedactingWriter, Redactor};
///
/// let redactor = Redactor::new();
/// let mut out = RedactingWriter::new(Vec::new(), &redactor);
/// out.write_all(b"user=ann password=hunter2\n-----BEGIN PRIVATE KEY-----\nMIIEvQ\n")?;
/// out.write_all(b"-----END PRIVATE KEY-----\ndone")?;
/// let text = String::from_utf8(out.finish()?).unwrap();
/// assert_eq!(text, "user=ann password=***\n-----BEGIN PRIVATE KEY-----\n***\n-----END PRIVATE KEY-----\ndone");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct RedactingWriter<'r, W: Write> {
    inner: W,
    redactor: &'r Redactor,
    line: Vec<u8>,
    max_line: usize,
    /// Lines seen inside a PEM private key block, when in one.
    in_pem: Option<usize>,
}

impl<'r, W: Write> RedactingWriter<'r, W> {
    /// Redacts into `inner` with the default line bound.
    pub fn new(inner: W, redactor: &'r Redactor) -> Self {
        Self::with_max_line(inner, redactor, DEFAULT_MAX_LINE)
    }

    /// Redacts into `inner`, keeping at most `max_line` bytes of a line in memory.
    pub fn with_max_line(inner: W, redactor: &'r Redactor, max_line: usize) -> Self {
        Self {
            inner,
            redactor,
            line: Vec::new(),
            max_line: max_line.max(1),
            in_pem: None,
        }
    }

    /// Redacts and writes what is left (a last line without a newline), flushes, and returns
    /// the inner writer.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.emit_line()?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Redacts the buffered line (with its newline, if any) and writes it.
    fn emit_line(&mut self) -> io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        // Taken out while it is written, then put back empty so its capacity is reused.
        let mut line = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&line);
        let (body, newline) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        if let Some(seen) = self.in_pem {
            if is_pem_end(body) || seen >= MAX_PEM_LINES {
                self.in_pem = None;
                self.write_redacted(body, newline)?;
            } else {
                self.in_pem = Some(seen + 1);
                if seen == 0 {
                    self.inner.write_all(MASK.as_bytes())?;
                    self.inner.write_all(newline.as_bytes())?;
                }
            }
        } else if is_pem_begin(body) && !is_pem_end(body) {
            self.in_pem = Some(0);
            self.inner.write_all(body.as_bytes())?;
            self.inner.write_all(newline.as_bytes())?;
        } else {
            self.write_redacted(body, newline)?;
        }
        drop(text);
        line.clear();
        self.line = line;
        Ok(())
    }

    fn write_redacted(&mut self, body: &str, newline: &str) -> io::Result<()> {
        self.inner
            .write_all(self.redactor.redact(body).as_bytes())?;
        self.inner.write_all(newline.as_bytes())
    }
}

fn is_pem_begin(line: &str) -> bool {
    line.contains("-----BEGIN ") && line.contains("PRIVATE KEY-----")
}

fn is_pem_end(line: &str) -> bool {
    line.contains("-----END ") && line.contains("PRIVATE KEY-----")
}

impl<W: Write> Write for RedactingWriter<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = self.max_line.saturating_sub(self.line.len()).max(1);
            let (take, complete) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) if at < room => (at + 1, true),
                _ => (rest.len().min(room), rest.len() >= room),
            };
            let (now, later) = rest.split_at(take);
            self.line.extend_from_slice(now);
            if complete {
                self.emit_line()?;
            }
            rest = later;
        }
        Ok(bytes.len())
    }

    /// Flushes the inner writer; a partial line stays buffered until its newline (or
    /// [`finish`](RedactingWriter::finish)), so a secret is never split across writes.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copies `input` to `output`, redacted line by line with bounded memory; the number of bytes
/// read.
///
/// # Errors
/// When reading or writing fails.
pub fn redact_stream(
    redactor: &Redactor,
    input: &mut impl Read,
    output: impl Write,
) -> io::Result<u64> {
    let mut writer = RedactingWriter::new(output, redactor);
    let copied = io::copy(input, &mut writer)?;
    writer.finish()?;
    Ok(copied)
}
