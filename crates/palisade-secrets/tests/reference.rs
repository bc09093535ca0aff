//! `SecretRef`: every documented form, every refusal, round trips and no echo of the input.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use palisade_secrets::{RefError, ReferenceScheme, SecretRef};
use palisade_test::Canary;
use proptest::prelude::*;

fn parts(text: &str) -> (ReferenceScheme, String, Option<String>) {
    let r = SecretRef::parse(text).unwrap();
    (
        r.scheme().clone(),
        r.locator().to_owned(),
        r.field().map(str::to_owned),
    )
}

#[test]
fn every_documented_form_parses() {
    let cases: &[(&str, ReferenceScheme, &str, Option<&str>)] = &[
        (
            "env:DATABASE_URL",
            ReferenceScheme::Env,
            "DATABASE_URL",
            None,
        ),
        (
            "env:DB_JSON#dsn",
            ReferenceScheme::Env,
            "DB_JSON",
            Some("dsn"),
        ),
        (
            "dotenv:.env#DATABASE_URL",
            ReferenceScheme::DotEnv,
            ".env",
            Some("DATABASE_URL"),
        ),
        (
            "file:/run/secrets/db_password",
            ReferenceScheme::File,
            "/run/secrets/db_password",
            None,
        ),
        (
            "aws-sm:prod/database#dsn",
            ReferenceScheme::AwsSecretsManager,
            "prod/database",
            Some("dsn"),
        ),
        (
            "aws-sm:prod/database@AWSPREVIOUS",
            ReferenceScheme::AwsSecretsManager,
            "prod/database@AWSPREVIOUS",
            None,
        ),
        (
            "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#dsn",
            ReferenceScheme::AwsSecretsManager,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
            Some("dsn"),
        ),
        (
            "vault:secret/database/prod#dsn",
            ReferenceScheme::Vault,
            "secret/database/prod",
            Some("dsn"),
        ),
        (
            "vault:secret/database/prod?version=3#dsn",
            ReferenceScheme::Vault,
            "secret/database/prod?version=3",
            Some("dsn"),
        ),
        (
            "azure-kv:https://myvault.vault.azure.net/database-dsn",
            ReferenceScheme::AzureKeyVault,
            "https://myvault.vault.azure.net/database-dsn",
            None,
        ),
        (
            "azure-kv:https://myvault.vault.azure.net/database-dsn/4387e9f3d6e14c459867679a90fd0f79",
            ReferenceScheme::AzureKeyVault,
            "https://myvault.vault.azure.net/database-dsn/4387e9f3d6e14c459867679a90fd0f79",
            None,
        ),
        (
            "gcp-sm:projects/p/secrets/db",
            ReferenceScheme::Other("gcp-sm".into()),
            "projects/p/secrets/db",
            None,
        ),
    ];
    for (text, scheme, locator, field) in cases {
        let (s, l, f) = parts(text);
        assert_eq!(
            (&s, l.as_str(), f.as_deref()),
            (scheme, *locator, *field),
            "{text}"
        );
        assert_eq!(
            SecretRef::parse(text).unwrap().to_string(),
            *text,
            "display round trip of {text}"
        );
    }
}

#[test]
fn a_vault_version_may_follow_the_field_and_names_the_same_reference() {
    let after_field = SecretRef::parse("vault:secret/database/prod#dsn?version=3").unwrap();
    let before_field = SecretRef::parse("vault:secret/database/prod?version=3#dsn").unwrap();
    assert_eq!(after_field, before_field);
    assert_eq!(after_field.locator(), "secret/database/prod?version=3");
    assert_eq!(after_field.field(), Some("dsn"));
    assert_eq!(
        after_field.to_string(),
        "vault:secret/database/prod?version=3#dsn"
    );
    assert_eq!(
        SecretRef::parse("vault:secret/db?version=1#dsn?version=2").unwrap_err(),
        RefError::VaultPathInvalid {
            reason: "`?version=N` is given twice"
        }
    );
    assert_eq!(
        SecretRef::parse("vault:secret/db#dsn?version=x").unwrap_err(),
        RefError::VaultPathInvalid {
            reason: "`version` must be a positive whole number"
        }
    );
}

#[test]
fn every_refusal_is_typed() {
    let cases: &[(&str, RefError)] = &[
        ("DATABASE_URL", RefError::SchemeMissing),
        ("Env:DATABASE_URL", RefError::SchemeInvalid),
        ("1env:X", RefError::SchemeInvalid),
        (":X", RefError::SchemeInvalid),
        ("env:", RefError::LocatorEmpty),
        ("env:X#", RefError::FieldEmpty),
        ("env:X#a#b", RefError::FieldInvalid),
        ("env:1X", RefError::VariableNameInvalid),
        ("env:DATABASE-URL", RefError::VariableNameInvalid),
        ("env:A\nB", RefError::ControlCharacter),
        ("file:/run/secrets/\0x", RefError::ControlCharacter),
        ("dotenv:.env", RefError::DotEnvVariableMissing),
        ("dotenv:.env#not-a-name", RefError::VariableNameInvalid),
        ("aws-sm:prod database", RefError::AwsSecretIdInvalid),
        ("aws-sm:prod:database", RefError::AwsSecretIdInvalid),
        ("postgres://app:pw@db/app", RefError::LooksLikeUrl),
        (
            "mongodb+srv://app:pw@cluster0.example.net/",
            RefError::LooksLikeUrl,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(SecretRef::parse(text).unwrap_err(), *expected, "{text:?}");
    }
    let long = format!("env:{}", "A".repeat(5000));
    assert_eq!(
        SecretRef::parse(&long).unwrap_err(),
        RefError::TooLong { max: 4096 }
    );
}

#[test]
fn vault_and_azure_refusals_say_why() {
    let vault = |text: &str| match SecretRef::parse(text).unwrap_err() {
        RefError::VaultPathInvalid { reason } => reason,
        other => panic!("{text}: expected a vault error, got {other:?}"),
    };
    assert_eq!(
        vault("vault:secret"),
        "it needs a mount and a path, as MOUNT/PATH"
    );
    assert_eq!(
        vault("vault:secret//prod"),
        "a path segment is empty, `.` or `..`"
    );
    assert_eq!(
        vault("vault:secret/../sys"),
        "a path segment is empty, `.` or `..`"
    );
    assert_eq!(
        vault("vault:secret/db?ver=3"),
        "the only query parameter is `version=N`"
    );
    assert_eq!(
        vault("vault:secret/db?version=x"),
        "`version` must be a positive whole number"
    );

    let azure = |text: &str| match SecretRef::parse(text).unwrap_err() {
        RefError::AzureUrlInvalid { reason } => reason,
        other => panic!("{text}: expected an azure error, got {other:?}"),
    };
    assert_eq!(
        azure("azure-kv:http://v.vault.azure.net/db"),
        "it must start with https://"
    );
    assert_eq!(
        azure("azure-kv:https:///db"),
        "the vault host is missing or malformed"
    );
    assert_eq!(
        azure("azure-kv:https://user@v.vault.azure.net/db"),
        "the vault host is missing or malformed"
    );
    assert_eq!(
        azure("azure-kv:https://v.vault.azure.net/db_name"),
        "the secret name must be 1 to 127 letters, digits and dashes"
    );
    assert_eq!(
        azure("azure-kv:https://v.vault.azure.net/db/v1/extra"),
        "only https://HOST/NAME or https://HOST/NAME/VERSION is accepted"
    );
}

#[test]
fn error_messages_never_repeat_the_input() {
    // Someone pastes the secret itself where a reference belongs.
    let canary = Canary::new();
    let pasted = [
        format!("postgres://app:{}@db.internal/app", canary.value()),
        format!("env:{}-x", canary.value()),
        format!("aws-sm:{} x", canary.value()),
        format!("azure-kv:https://v.vault.azure.net/{}_x", canary.value()),
        format!("vault:{}", canary.value()),
        format!("mysql://root:{}@127.0.0.1/app", canary.value()),
        format!("Env:{}", canary.value()),
    ];
    for text in &pasted {
        let err = SecretRef::parse(text).unwrap_err();
        canary.assert_not_in_error(&err);
    }
}

#[test]
fn debug_shows_the_parts() {
    let r = SecretRef::parse("aws-sm:prod/database#dsn").unwrap();
    assert_eq!(
        format!("{r:?}"),
        r#"SecretRef { scheme: AwsSecretsManager, locator: "prod/database", field: Some("dsn") }"#
    );
}

#[test]
fn equality_order_and_hash_follow_the_parts() {
    use std::collections::{BTreeSet, HashSet};
    let texts = [
        "env:A",
        "env:B",
        "file:/a",
        "aws-sm:a#x",
        "aws-sm:a#y",
        "aws-sm:a",
        "x+y:a",
    ];
    let refs: Vec<SecretRef> = texts.iter().map(|t| SecretRef::parse(t).unwrap()).collect();
    let again: Vec<SecretRef> = texts.iter().map(|t| SecretRef::parse(t).unwrap()).collect();
    assert_eq!(refs, again);
    let hashed: HashSet<&SecretRef> = refs.iter().chain(&again).collect();
    assert_eq!(
        hashed.len(),
        texts.len(),
        "equal references hash alike, others differ"
    );
    let ordered: Vec<String> = refs
        .iter()
        .collect::<BTreeSet<_>>()
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut by_parts = refs.clone();
    by_parts.sort_by(|a, b| {
        (a.scheme(), a.locator(), a.field()).cmp(&(b.scheme(), b.locator(), b.field()))
    });
    let by_parts: Vec<String> = by_parts.iter().map(ToString::to_string).collect();
    assert_eq!(ordered, by_parts);
    assert_ne!(refs[3], refs[4], "the field tells references apart");
    assert_ne!(refs[3], refs[5], "so does its absence");
}

#[cfg(feature = "serde")]
#[test]
fn serde_uses_the_string_form() {
    let r = SecretRef::parse("vault:secret/database/prod#dsn").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, r#""vault:secret/database/prod#dsn""#);
    assert_eq!(serde_json::from_str::<SecretRef>(&json).unwrap(), r);
    let err = serde_json::from_str::<SecretRef>(r#""env:""#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret reference names nothing after its scheme"
    );
}

proptest! {
    #[test]
    fn display_round_trips(text in "[a-z][a-z0-9+.-]{0,8}:[ -~&&[^#]]{1,40}(#[ -~&&[^#]]{1,10})?") {
        if let Ok(r) = SecretRef::parse(&text) {
            prop_assert_eq!(r.to_string(), text.clone());
            prop_assert_eq!(SecretRef::parse(&r.to_string()).unwrap(), r);
        }
    }

    #[test]
    fn arbitrary_input_never_panics(text in "\\PC{0,64}") {
        let _ = SecretRef::parse(&text);
    }
}
