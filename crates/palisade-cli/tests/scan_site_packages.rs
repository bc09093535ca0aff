//! `palisade scan` over a real tree nobody here wrote: the site-packages of the project's own
//! venv (botocore, moto, cfn-lint, sqlmap, SQLAlchemy, Django, ...; installed by
//! `cargo xtask services up`). The false-positive classes once found there stay gone, and
//! the real credentials stay found. The peers' figures on a sample of the same tree
//! (detect-secrets, credsweeper) are in `cargo xtask bench --package palisade-redact`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking, with the location"
)]

use std::collections::BTreeMap;

use serde_json::Value;

mod common;

#[test]
fn site_packages_yield_few_findings_and_keep_the_real_ones() {
    let root = palisade_test::python::site_packages();
    let (code, stdout, stderr) = common::run(
        &["scan", "--format", "json", root.to_str().unwrap()],
        &[],
        None,
        "",
    );
    assert_eq!(code, 1, "findings exit 1: {stderr}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary = records
        .iter()
        .find(|r| r["kind"] == "scan-summary")
        .unwrap();
    let files = summary["files"].as_u64().unwrap();
    let findings: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "scan-finding")
        .collect();
    assert!(files >= 10_000, "only {files} files: is the venv complete?");
    let mut per_detector: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &findings {
        *per_detector
            .entry(finding["detector"].as_str().unwrap())
            .or_default() += 1;
    }
    // 8,631 findings before (7,577 of them botocore's pagination keys); about 400 after, in
    // 21,000 files: the test credentials of SQLAlchemy's and passlib's docs, PEM keys of test
    // suites, AWS's documentation examples.
    let per_10k = findings.len() as f64 * 10_000.0 / files as f64;
    assert!(
        per_10k <= 300.0,
        "{} findings in {files} files ({per_10k:.0} per 10,000): {per_detector:#?}",
        findings.len()
    );
    let path_of = |finding: &Value| finding["path"].as_str().unwrap().to_owned();
    // The classes removed at their root: pagination token names, type-name keys with hashes,
    // ARN segments, colours of syntax themes.
    for finding in &findings {
        let path = path_of(finding);
        let preview = finding["preview"].as_str().unwrap();
        assert!(
            !path.contains("botocore/data/") || !path.ends_with("paginators-1.json"),
            "a pagination key: {path}: {preview}"
        );
        assert!(
            !preview.contains("AWS::"),
            "a type name as a key: {path}: {preview}"
        );
        assert!(
            !preview.contains("arn:aws:"),
            "an ARN segment: {path}: {preview}"
        );
        assert!(
            !path.contains("pygments/styles/"),
            "a theme colour: {path}: {preview}"
        );
    }
    // And what is real stays: private keys in test suites, `scott:tiger` in SQLAlchemy's
    // docs, AWS's example secret key.
    let found_in = |detector: &str, part: &str| {
        findings
            .iter()
            .filter(|f| f["detector"] == detector && path_of(f).contains(part))
            .count()
    };
    assert!(
        per_detector.get("pem-private-key").copied().unwrap_or(0) >= 10,
        "{per_detector:#?}"
    );
    assert!(
        found_in("url-credentials", "sqlalchemy/") >= 20,
        "{per_detector:#?}"
    );
    assert!(
        found_in("secret-pair", "botocore/data/") >= 5,
        "{per_detector:#?}"
    );
}
