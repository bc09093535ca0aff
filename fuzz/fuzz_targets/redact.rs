//! Redaction of arbitrary text: never panics; every finding is in bounds, on character
//! boundaries and in order; redacting twice changes nothing; a clean text comes back borrowed;
//! and no finding of the first pass is found again in its output.
#![no_main]

use std::borrow::Cow;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_redact::{Redactor, Scanner, SourceKind};

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::new);
static SCANNER: LazyLock<Scanner> = LazyLock::new(Scanner::new);

fuzz_target!(|content: &[u8]| {
    let Ok(text) = std::str::from_utf8(content) else {
        return;
    };
    let findings = REDACTOR.find(text);
    let mut end = 0;
    for finding in &findings {
        assert!(finding.span.start >= end && finding.span.end <= text.len());
        assert!(text.is_char_boundary(finding.span.start) && text.is_char_boundary(finding.span.end));
        end = finding.span.end;
    }
    let once = REDACTOR.redact(text);
    assert_eq!(findings.is_empty(), matches!(once, Cow::Borrowed(_)));
    let twice = REDACTOR.redact(&once);
    assert_eq!(once, twice, "redaction is not idempotent");
    for kind in [SourceKind::Code, SourceKind::Text] {
        for located in SCANNER.scan(text, kind) {
            assert!(located.line >= 1 && located.column >= 1);
            assert!(located.preview.chars().count() <= 163);
        }
    }
});
