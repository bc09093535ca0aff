//! `Credentials`: the read and write credentials chosen by intent, and the refusals that keep
//! least privilege (R-SEC-6).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use palisade_secrets::{Credentials, CredentialsError, EnvSource, Intent, ResolveError, SecretRef};

fn reference(text: &str) -> SecretRef {
    text.parse().unwrap()
}

fn resolve(credentials: &Credentials, intent: Intent) -> Result<String, ResolveError> {
    let value = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(credentials.resolve(&EnvSource::new(), intent))?;
    Ok(value.expose_str().unwrap().to_owned())
}

#[test]
fn each_intent_gets_its_own_credential() {
    // cargo sets both variables for every test process; they stand in for two DSNs.
    let credentials = Credentials::new(
        reference("env:CARGO_PKG_NAME"),
        reference("env:CARGO_MANIFEST_DIR"),
    )
    .unwrap();
    assert_eq!(
        resolve(&credentials, Intent::Read).unwrap(),
        "palisade-secrets"
    );
    assert!(
        resolve(&credentials, Intent::Write)
            .unwrap()
            .ends_with("palisade-secrets")
    );
}

#[test]
fn a_write_credential_is_not_used_for_reads_unless_allowed() {
    let write_only = Credentials::write_only(reference("env:CARGO_PKG_NAME"));
    let err = resolve(&write_only, Intent::Read).unwrap_err();
    assert!(matches!(
        err,
        ResolveError::Credentials(CredentialsError::ReadCredentialMissing)
    ));
    assert_eq!(
        err.to_string(),
        "no read-only credential is configured; configure one, or allow the read-write credential for reads explicitly"
    );
    assert_eq!(
        resolve(&write_only, Intent::Write).unwrap(),
        "palisade-secrets"
    );
    let allowed = write_only.allow_write_for_read();
    assert_eq!(resolve(&allowed, Intent::Read).unwrap(), "palisade-secrets");
}

#[test]
fn a_read_credential_never_writes_and_one_secret_cannot_be_both() {
    let read_only = Credentials::read_only(reference("env:CARGO_PKG_NAME"));
    assert_eq!(
        read_only.reference(Intent::Write),
        Err(CredentialsError::WriteCredentialMissing)
    );
    assert_eq!(
        Credentials::new(reference("env:DB_URL"), reference("env:DB_URL")),
        Err(CredentialsError::SameReference)
    );
}

#[test]
fn a_source_failure_is_reported_as_such() {
    let credentials = Credentials::read_only(reference("env:PALISADE_SURELY_UNSET_VARIABLE"));
    match resolve(&credentials, Intent::Read).unwrap_err() {
        ResolveError::Secret(err) => assert!(err.is_not_found()),
        other => panic!("unexpected {other}"),
    }
}
