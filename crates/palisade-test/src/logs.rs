//! Capturing `tracing` output so a test can search it for leaks.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// Captures every `tracing` event on the current thread, at every level, as formatted text,
/// while the capture is alive.
///
/// The capture is thread-local (`tracing::subscriber::set_default`): run async code under
/// test on a current-thread runtime.
///
/// ```
/// use palisade_test::LogCapture;
///
/// let capture = LogCapture::start();
/// tracing::warn!(user = "alice", "login refused");
/// assert!(capture.text().contains("login refused"));
/// ```
#[derive(Debug)]
pub struct LogCapture {
    buffer: SharedBuffer,
    _guard: DefaultGuard,
}

impl LogCapture {
    /// Starts capturing on this thread.
    #[must_use]
    pub fn start() -> Self {
        let buffer = SharedBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buffer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        Self {
            buffer,
            _guard: guard,
        }
    }

    /// Everything captured so far.
    #[must_use]
    pub fn text(&self) -> String {
        let bytes = self
            .buffer
            .bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Runs `f` with a [`LogCapture`] and returns its result with the captured text.
pub fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    let capture = LogCapture::start();
    let result = f();
    let text = capture.text();
    (result, text)
}

#[derive(Debug, Clone, Default)]
struct SharedBuffer {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for SharedBuffer {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_events_and_fields() {
        let ((), text) = capture_logs(|| tracing::info!(attempt = 3, "refreshing secret"));
        assert!(text.contains("refreshing secret"), "{text}");
        assert!(text.contains("attempt=3"), "{text}");
    }

    #[test]
    fn capture_ends_with_the_guard() {
        let ((), text) = capture_logs(|| ());
        tracing::info!("after the capture");
        assert!(text.is_empty());
    }
}
