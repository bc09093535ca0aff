//! A `.env` file with arbitrary content read through `DotEnvSource`: never panics, and a
//! refusal never quotes the file.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{DotEnvSource, SecretRef, SecretSource};

static NEXT: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|content: &[u8]| {
    let path = std::env::temp_dir().join(format!(
        "palisade-fuzz-{}-{}.env",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, content).unwrap();
    let reference = SecretRef::parse(&format!("dotenv:{}#KEY", path.display())).unwrap();
    let source = DotEnvSource::new();
    let fetch = source.fetch(&reference);
    let result = poll_once(fetch);
    std::fs::remove_file(&path).unwrap();
    if let Err(err) = result {
        let message = err.to_string();
        // A refusal names the file and the line number in words (`/tmp/x.env line 1 is not a
        // valid .env line`): a content made of those characters alone can be a substring of
        // the message without being quoted, so only contents with another character count.
        let template_only = |text: &str| {
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || " ./_-:".contains(c))
        };
        if content.len() >= 16 {
            if let Ok(text) = std::str::from_utf8(content) {
                assert!(template_only(text) || !message.contains(text));
            }
        }
    }
});

/// DotEnvSource answers with a ready future: one poll completes it.
fn poll_once<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("DotEnvSource must answer without waiting"),
    }
}
