//! `palisade redact --profile`: secrets by default, personal data too with `pii`.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

mod common;

#[test]
fn the_pii_profile_masks_contacts_and_addresses_the_default_keeps_them() {
    let line = "login ana@example.com from 203.0.113.7 token=abc123\n";
    let (code, stdout, stderr) = common::run(&["redact"], &[], None, line);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "login ana@example.com from 203.0.113.7 token=***\n");
    let (code, stdout, stderr) = common::run(&["redact", "--profile", "pii"], &[], None, line);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "login *** from *** token=***\n");
    let (code, _, stderr) = common::run(&["redact", "--profile", "gdpr"], &[], None, line);
    assert_eq!(code, 2, "{stderr}");
}
