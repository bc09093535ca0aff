//! Where password-reset codes go: a deployment's mail sender. The service never logs a code.

use std::sync::Mutex;

/// Sends a password-reset code to an account's email address.
pub trait Outbox: Send + Sync + std::fmt::Debug {
    /// Delivers `code` to `email` (a link to the front end's reset page, say).
    fn send_reset_code(&self, email: &str, code: &str);
}

/// The default: no mail sender configured, so codes go nowhere (and are never logged).
#[derive(Debug, Default)]
pub struct NoOutbox;

impl Outbox for NoOutbox {
    fn send_reset_code(&self, _email: &str, _code: &str) {}
}

/// Keeps what was sent, for tests.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    sent: Mutex<Vec<(String, String)>>,
    arrived: tokio::sync::Notify,
}

impl MemoryOutbox {
    /// Waits until something was sent, then takes everything sent so far (codes are sent
    /// after the request's answer).
    pub async fn next(&self) -> Vec<(String, String)> {
        loop {
            let arrived = self.arrived.notified();
            let sent = self.take();
            if !sent.is_empty() {
                return sent;
            }
            arrived.await;
        }
    }

    /// Everything sent so far, as `(email, code)`, oldest first; the outbox is emptied.
    pub fn take(&self) -> Vec<(String, String)> {
        self.sent
            .lock()
            .map(|mut sent| std::mem::take(&mut *sent))
            .unwrap_or_default()
    }
}

impl Outbox for MemoryOutbox {
    fn send_reset_code(&self, email: &str, code: &str) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((email.to_owned(), code.to_owned()));
        }
        self.arrived.notify_waiters();
    }
}
