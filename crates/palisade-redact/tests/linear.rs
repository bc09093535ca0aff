//! Redaction takes linear time: for a long single line of every character class the engine
//! could trip on, the bytes handed to the regex engine stay within a constant factor of the
//! line's length (counted, not timed; the benchmark times the same inputs at 1 MB).
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_redact::{DEFAULT_DETECTORS, Redactor};

/// The classes: runs of one alphabet, and runs after the contexts detectors start on.
fn lines(len: usize) -> Vec<(&'static str, String)> {
    let run = |unit: &str| unit.repeat(len / unit.len());
    vec![
        ("hex", run("0123456789abcdef")),
        ("digits", run("0123456789")),
        ("one letter", run("a")),
        ("base64 alphabet", run("Ab0+/")),
        (
            "after Bearer",
            format!("Authorization: Bearer {}", run("Ab0+/")),
        ),
        ("bare Bearer", format!("x Bearer {}", run("Ab0-._~"))),
        ("after password=", format!("password={}", run("Ab0+/"))),
        ("long URL", format!("https://user:{}@host/", run("p"))),
        ("URL without host", format!("https://{}", run("user:pa"))),
        ("schemes", run("ab+.-")),
        ("JWT-like", run("eyJabcd.")),
        ("card-like digits", run("4111 1111 1111 ")),
        ("ssn-like", run("123-45-")),
        ("pairs without values", run("password=")),
        ("data URLs", run("data:a/b;base64,")),
        ("keys", run("api_key:")),
        (
            "base64 runs cut by a colon",
            run(&format!("{}:", "A".repeat(70))),
        ),
    ]
}

#[test]
fn work_grows_linearly_with_the_line() {
    let redactor = Redactor::new();
    for (class, line) in lines(16 * 1024) {
        let examined = redactor.bytes_examined(&line);
        // A candidate may be retried, anchored, by every later detector; the count takes the
        // candidate's length for each retry, an upper bound.
        assert!(
            examined <= 4 * DEFAULT_DETECTORS.len() * line.len(),
            "{class}: {examined} bytes examined for {} bytes",
            line.len()
        );
        // And at four times the length, at most about four times the work.
        let (_, long) = lines(64 * 1024)
            .into_iter()
            .find(|(c, _)| *c == class)
            .unwrap();
        let more = redactor.bytes_examined(&long);
        assert!(
            more <= 5 * examined.max(line.len()),
            "{class}: {more} bytes examined at 4x the length, {examined} at 1x"
        );
    }
}
