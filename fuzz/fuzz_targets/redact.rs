//! Redaction of arbitrary text: never panics; every finding is in bounds, on character
//! boundaries and in order; redacting twice changes nothing; a clean text comes back borrowed;
//! no finding of the first pass is found again in its output; and the bytes handed to the regex
//! engine stay within a constant factor of the text's length, in both profiles (work is
//! counted, not timed: a quadratic path shows as a count that outgrows the bound).
#![no_main]

use std::borrow::Cow;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_redact::{Profile, Redactor, Scanner, SourceKind};

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::new);
static PII: LazyLock<Redactor> = LazyLock::new(|| Redactor::with_profile(Profile::Pii));
/// How many detectors each profile runs, counted once (not per input).
static DETECTORS: LazyLock<[usize; 2]> =
    LazyLock::new(|| [Profile::Secrets, Profile::Pii].map(|profile| profile.detectors().len()));
static SCANNER: LazyLock<Scanner> = LazyLock::new(Scanner::new);

fuzz_target!(|content: &[u8]| {
    let Ok(text) = std::str::from_utf8(content) else {
        return;
    };
    for (redactor, detectors) in [&*REDACTOR, &*PII].into_iter().zip(*DETECTORS) {
        // A candidate may be retried, anchored, by every later detector (as in the crate's
        // linear-time test); nothing grows with the text's length.
        let bound = 4 * detectors * (text.len() + 1);
        let examined = redactor.bytes_examined(text);
        assert!(examined <= bound, "{examined} bytes examined for {} bytes", text.len());
    }
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
