//! One 1 MB line per character class: redaction stays linear whatever the line holds.

use palisade_redact::Redactor;
use palisade_test::bench::{Row, keep, median_pair_ms, report};

use crate::KRATE;

/// A line of `bytes` bytes: `prefix` then `unit` repeated.
fn long_line(prefix: &str, unit: &str, bytes: usize) -> String {
    let mut line = String::with_capacity(bytes);
    line.push_str(prefix);
    while line.len() + unit.len() <= bytes {
        line.push_str(unit);
    }
    line
}

/// Linear time on one 1 MB line of each character class a detector looks at, against a clean
/// line of prose of the same length.
///
/// Target: within 5x per byte. A clean line is read once. A secret as long as the line is read
/// three times by a leftmost-first DFA search, which is what regex-automata's meta engine is:
/// forward to where its match ends, the DFA recording a match at every byte (about twice the
/// cost of a clean byte); backward to where it starts; and once to cut it into key, secret
/// and tail. A run its check refuses (a hex digest) is then searched again from its second
/// byte. That is a floor of about 4x; the first target of 3x sits below it.
pub(crate) fn run(profile: &str, redactor: &Redactor) {
    const MB: usize = 1 << 20;
    let base64: String = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain(['+', '/'])
        .collect();
    let clean = long_line("", "the quick brown fox jumps over the lazy dog ", MB);
    let classes = [
        ("hex", long_line("", "0123456789abcdef", MB)),
        ("digits", long_line("", "0123456789", MB)),
        ("one letter", long_line("", "a", MB)),
        ("base64 alphabet", long_line("", &base64, MB)),
        (
            "after `Bearer `",
            long_line("Authorization: Bearer ", &base64, MB),
        ),
        ("after `password=`", long_line("password=", &base64, MB)),
        (
            "long URL",
            long_line("https://example.com/", "a/b?c=d&", MB),
        ),
        ("URL userinfo", long_line("postgres://", "u:p", MB)),
        ("dotted numbers", long_line("", "1.2.3.4.", MB)),
        ("spaced digits", long_line("+", "12 ", MB)),
    ];
    for (class, line) in &classes {
        let (class_ms, clean_ms) = median_pair_ms(
            3,
            || {
                keep(redactor.redact(keep(line.as_str())));
            },
            || {
                keep(redactor.redact(keep(clean.as_str())));
            },
        );
        report(&Row {
            krate: KRATE,
            name: format!("{profile}: 1 MB line of {class}"),
            figure: class_ms,
            unit: "ms",
            peer: "1 MB clean line".into(),
            peer_figure: Some(clean_ms),
            target: "<= 5x".into(),
            met: class_ms <= 5.0 * clean_ms,
        });
    }
}
