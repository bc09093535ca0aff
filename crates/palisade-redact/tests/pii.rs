//! The `pii` profile (R-RED-1): personal data made by Faker in five locales is masked whole
//! when the profile is on, and left alone by the default profile, which keeps client
//! addresses in security logs.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use palisade_redact::{Profile, Redactor};
use palisade_test::python::run_script;
use serde_json::Value;

struct Sample {
    kind: String,
    national: bool,
    text: String,
    value: String,
}

fn samples() -> Vec<Sample> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/corpus.py");
    run_script(&script, &["pii"], "")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let field = |k: &str| v[k].as_str().unwrap().to_owned();
            Sample {
                kind: field("kind"),
                national: v["national"].as_bool().unwrap(),
                text: field("text"),
                value: field("value"),
            }
        })
        .collect()
}

/// Whether the findings cover every byte of every occurrence of the value.
fn covered(redactor: &Redactor, sample: &Sample) -> bool {
    let found: Vec<_> = redactor
        .find(&sample.text)
        .into_iter()
        .map(|f| f.span)
        .collect();
    sample
        .text
        .match_indices(sample.value.as_str())
        .flat_map(|(at, v)| at..at + v.len())
        .all(|byte| found.iter().any(|span| span.contains(&byte)))
}

#[test]
fn the_pii_profile_masks_personal_data_whole() {
    let samples = samples();
    assert!(samples.len() >= 1_000, "only {} samples", samples.len());
    let pii = Redactor::with_profile(Profile::Pii);
    // Per kind (national phone numbers apart): masked, total.
    let mut recall: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for sample in &samples {
        let kind = if sample.national {
            "phone (national)".to_owned()
        } else {
            sample.kind.clone()
        };
        let entry = recall.entry(kind).or_default();
        entry.1 += 1;
        if covered(&pii, sample) {
            entry.0 += 1;
        }
    }
    let missed: Vec<&str> = samples
        .iter()
        .filter(|s| !s.national && !covered(&pii, s))
        .map(|s| s.text.as_str())
        .collect();
    assert!(missed.is_empty(), "{recall:?}: {missed:#?}");
    let figures = format!("{recall:?}");
    for kind in ["email", "ipv4", "ipv6", "iban", "phone"] {
        let (masked, total) = recall[kind];
        assert!(total >= 50, "{kind}: {figures}");
        assert_eq!(masked, total, "{kind} not all masked: {figures}");
    }
}

#[test]
fn the_default_profile_keeps_addresses_and_contacts() {
    let secrets = Redactor::new();
    assert_eq!(Redactor::with_profile(Profile::Secrets).redact("x"), "x");
    let kept = samples()
        .iter()
        .filter(|s| s.kind != "iban" && covered(&secrets, s))
        .count();
    assert_eq!(kept, 0, "the default profile masked personal data");
}

#[test]
fn look_alikes_are_left_alone() {
    let pii = Redactor::with_profile(Profile::Pii);
    for text in [
        "version 1.2.3 released",
        "took 12:30:45 at 2026-12-06T10:00:00Z",
        "use std::fs::File; then a::b::c",
        "order 1234567890 shipped",
        "IBAN GB83 WEST 1234 5698 7654 32 fails its check digits",
        "sha256 deadbeef:cafe",
        "see RFC 9457 section 3.1.2",
        "span 999.1.1.1 is no address",
    ] {
        assert_eq!(pii.redact(text), text, "{text}");
    }
    assert_eq!(
        pii.redact("wire to GB82 WEST 1234 5698 7654 32 by ana@example.com, +44 20 7946 0958"),
        "wire to *** by ***, ***"
    );
}
